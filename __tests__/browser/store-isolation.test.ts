import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startAuthorizationServer, type AuthorizationServer, type ProviderServer } from '../../lib/testing/index.js';
import { describeBrowser, launchChromium, openPage } from './helpers/chromium.js';
import type { Outcome, PageConfig } from './helpers/page.js';
import { startSymblSite, type PageServer } from './helpers/page-server.js';

// Pages of one origin in real headless Chromium, each with its own tokenflight and
// BrowserTokenStore, where tabs must not cost each other a session: sessionStorage tabs that never
// wait for each other, a tab opened with window.open (a copy of its opener's sessionStorage) that
// never presents the refresh token it copied, a closing tab that releases its lease at once in the
// lease fallback, and another script writing into the store's keys. Everything is counted at the
// servers.

let chromium: { browser: Browser; close(): Promise<void> } | undefined;
let symbl: ProviderServer;
let authServer: AuthorizationServer;
let site: PageServer;
let context: BrowserContext;

beforeAll(async () => {
  ({ symbl, site } = await startSymblSite());
  authServer = await startAuthorizationServer({ cors: true });
  chromium = await launchChromium();
}, 60_000);

afterAll(async () => {
  await chromium?.close();
  await site.close();
  await authServer.close();
  await symbl.close();
});

beforeEach(async () => {
  symbl.resetStats();
  authServer.resetStats();
  // A fresh context per test: empty storage, no locks held.
  context = await chromium!.browser.newContext();
});
afterEach(() => context.close());

const start = (page: Page, config: PageConfig): Promise<void> =>
  page.evaluate((pageConfig) => window.tokenflightPage.start(pageConfig), config);
const get = (page: Page): Promise<Outcome> => page.evaluate(() => window.tokenflightPage.get('/api/data'));
const burst = (page: Page, count: number): Promise<Outcome[]> =>
  page.evaluate((n) => window.tokenflightPage.burst('/api/data', n), count);
const ok = (count: number): Outcome[] => Array.from({ length: count }, () => ({ status: 200 }));

/** A public client signed in with `refreshToken`, its store on sessionStorage. */
const sessionConfig = (refreshToken: string, handoffWaitMs?: number): PageConfig => ({
  adapter: 'fetch',
  store: 'browser',
  apiOrigin: authServer.url,
  provider: { type: 'refresh', tokenUrl: authServer.tokenUrl, clientId: 'public-client', refreshToken },
  browserStore: { storage: 'session', ...(handoffWaitMs === undefined ? {} : { handoffWaitMs }) },
});

/** Opens the page `opener` opens with window.open (it starts with a copy of the opener's sessionStorage). */
async function openFrom(opener: Page): Promise<Page> {
  const [popup] = await Promise.all([
    context.waitForEvent('page'),
    opener.evaluate(() => void window.open(location.href)),
  ]);
  await popup.waitForFunction(() => typeof window.tokenflightPage === 'object');
  return popup;
}

describeBrowser('in Chromium, tabs signed in on sessionStorage', () => {
  test('two tabs signed in on their own never wait for each other: no shared lock, no hand-off wait, no reuse', async () => {
    const HANDOFF_WAIT_MS = 15_000;
    const tabs = [await openPage(context, `${site.url}/`), await openPage(context, `${site.url}/`)] as const;
    const grants = tabs.map(() => authServer.issueRefreshToken({ clientId: 'public-client' }));
    await Promise.all(tabs.map((tab, index) => start(tab, sessionConfig(grants[index]!, HANDOFF_WAIT_MS))));
    // One tab holding its lock leaves the other's free.
    await tabs[0].evaluate(() => window.tokenflightPage.holdLock('isolation-check'));
    await expect(tabs[1].evaluate(() => window.tokenflightPage.tryLock('isolation-check', 1_000))).resolves.toBe(true);
    await tabs[0].evaluate(() => window.tokenflightPage.writeAndRelease('isolation-check', 'x'));

    const startedAt = performance.now();
    for (let round = 0; round < 3; round++) {
      authServer.revokeAccessTokens();
      for (const tab of tabs) await expect(burst(tab, 5)).resolves.toEqual(ok(5));
    }
    // Six refreshes, each after the other tab's: none waited for the other tab's hand-off count.
    expect(performance.now() - startedAt).toBeLessThan(HANDOFF_WAIT_MS);
    expect(authServer.stats).toMatchObject({ rotations: 6, refreshTokenUses: 6, reuseDetections: 0 });
    for (const grant of grants) expect(authServer.familyOf(grant)).toMatchObject({ revoked: false, rotations: 3 });
  }, 60_000);

  test('a tab opened with window.open never presents the refresh token it copied: the opener rotates on, and the copy signs in on its own', async () => {
    const opener = await openPage(context, `${site.url}/`);
    const grant = authServer.issueRefreshToken({ clientId: 'public-client' });
    await start(opener, sessionConfig(grant));
    await expect(get(opener)).resolves.toEqual({ status: 200 });

    const copy = await openFrom(opener);
    // The copy's app passes the refresh token it has, as the opener's did.
    await start(copy, sessionConfig(grant));
    authServer.revokeAccessTokens();
    await expect(get(copy)).resolves.toEqual({ error: 'ERR_TOKEN_STORE_UNAVAILABLE' });
    await expect(get(opener)).resolves.toEqual({ status: 200 });
    const copyEvents = await copy.evaluate(() => window.tokenflightPage.storeEvents());
    expect(copyEvents).toContainEqual({ type: 'browser-tab-duplicated' });
    expect(copyEvents).toContainEqual({ type: 'browser-entry-dropped', code: 'ERR_STORE_TAB_DUPLICATED' });
    expect(authServer.stats).toMatchObject({ rotations: 2, reuseDetections: 0 });
    expect(authServer.familyOf(grant)).toMatchObject({ revoked: false, rotations: 2 });

    // The user signs in again in the copy: a session of its own, beside the opener's.
    const second = authServer.issueRefreshToken({ clientId: 'public-client' });
    await expect(copy.evaluate((token) => window.tokenflightPage.resume(token), second)).resolves.toBeUndefined();
    authServer.revokeAccessTokens();
    await expect(get(copy)).resolves.toEqual({ status: 200 });
    await expect(get(opener)).resolves.toEqual({ status: 200 });
    expect(authServer.stats).toMatchObject({ rotations: 4, reuseDetections: 0, revokedFamilies: 0 });
    expect(authServer.familyOf(second)).toMatchObject({ revoked: false, rotations: 1 });
  }, 60_000);

  test('a reloaded tab keeps its session, and a copy whose opener has closed carries it on', async () => {
    const tab = await openPage(context, `${site.url}/`);
    const grant = authServer.issueRefreshToken({ clientId: 'public-client' });
    await start(tab, sessionConfig(grant));
    await expect(get(tab)).resolves.toEqual({ status: 200 });

    await tab.reload();
    await tab.waitForFunction(() => typeof window.tokenflightPage === 'object');
    await start(tab, sessionConfig(grant));
    authServer.revokeAccessTokens();
    await expect(get(tab)).resolves.toEqual({ status: 200 });
    await expect(tab.evaluate(() => window.tokenflightPage.storeEvents())).resolves.toEqual([]);

    const copy = await openFrom(tab);
    await tab.close();
    await start(copy, sessionConfig(grant));
    authServer.revokeAccessTokens();
    await expect(get(copy)).resolves.toEqual({ status: 200 });
    await expect(copy.evaluate(() => window.tokenflightPage.storeEvents())).resolves.toEqual([]);
    expect(authServer.stats).toMatchObject({ rotations: 3, reuseDetections: 0 });
    expect(authServer.familyOf(grant)).toMatchObject({ revoked: false, rotations: 3 });
  }, 60_000);
});

describeBrowser('in Chromium, the lease fallback (no Web Locks)', () => {
  test('a tab that closes while it holds the lease releases it: another tab takes over within about a second', async () => {
    const config: PageConfig = {
      adapter: 'fetch',
      store: 'browser',
      apiOrigin: symbl.url,
      provider: { type: 'bff', tokenUrl: `${site.url}/bff/token` },
      browserStore: { locks: false },
    };
    const [holder, waiter] = [await openPage(context, `${site.url}/`), await openPage(context, `${site.url}/`)];
    await Promise.all([start(holder, config), start(waiter, config)]);
    // The lease lives 10 s; the waiter gives up after 3 s.
    await holder.evaluate(() => window.tokenflightPage.holdLock('lease-check'));
    const taken = waiter.evaluate(() => window.tokenflightPage.tryLock('lease-check', 3_000));
    await holder.close();
    await expect(taken).resolves.toBe(true);
  }, 30_000);
});

describeBrowser('in Chromium, another script writing into the store’s keys', () => {
  test('a storm of 1,000 valid-looking entries, with a revocation in the middle, never makes a request fail nor sends a forged token', async () => {
    const config: PageConfig = {
      adapter: 'xhr',
      store: 'browser',
      apiOrigin: symbl.url,
      provider: { type: 'bff', tokenUrl: `${site.url}/bff/token` },
    };
    const tabs = [];
    for (let index = 0; index < 3; index++) tabs.push(await openPage(context, `${site.url}/`));
    const [a, b, writer] = tabs as [Page, Page, Page];
    await Promise.all(tabs.map((tab) => start(tab, config)));
    await expect(burst(a, 3)).resolves.toEqual(ok(3));
    await expect(burst(b, 3)).resolves.toEqual(ok(3));

    const storm = writer.evaluate(() => window.tokenflightPage.writeForeign(1_000, 20));
    const outcomes: Outcome[] = [];
    const progress = { stormed: false };
    void storm.then(() => (progress.stormed = true));
    for (let round = 0; !progress.stormed || round < 10; round++) {
      if (round === 5) symbl.revokeAll();
      outcomes.push(...(await Promise.all([burst(a, 3), burst(b, 3)])).flat());
    }
    await storm;
    expect(outcomes).toEqual(ok(outcomes.length));
    expect(symbl.requests.filter((request) => request.authorization?.includes('forged') === true)).toEqual([]);
    const dropped = await a.evaluate(() => window.tokenflightPage.storeEvents());
    expect(dropped.length).toBeGreaterThan(0);
    expect(dropped.every((event) => event.type === 'browser-entry-dropped')).toBe(true);
  }, 60_000);
});
