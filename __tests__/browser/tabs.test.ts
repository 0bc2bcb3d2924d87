import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startAuthorizationServer, type AuthorizationServer, type ProviderServer } from '../../lib/testing/index.js';
import { describeBrowser, launchChromium, openPage } from './helpers/chromium.js';
import type { Outcome, PageConfig } from './helpers/page.js';
import { startSymblSite, type PageServer } from './helpers/page-server.js';

// Three pages (tabs) of one origin in real headless Chromium, each with its own axios instance and
// tokenflight handle, sharing a BrowserTokenStore on localStorage (and Web Locks). Everything is
// counted at the servers.

const TABS = 3;
const PER_TAB = 5;
let chromium: { browser: Browser; close(): Promise<void> } | undefined;
let symbl: ProviderServer;
let authServer: AuthorizationServer;
let site: PageServer;

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

const allOk = Array.from({ length: TABS * PER_TAB }, (): Outcome => ({ status: 200 }));

describeBrowser('in Chromium, three tabs of one origin sharing a BrowserTokenStore', () => {
  let context: BrowserContext;
  let tabs: Page[];

  beforeEach(async () => {
    symbl.resetStats();
    authServer.resetStats();
    // A fresh context per test: empty localStorage, no locks held.
    context = await chromium!.browser.newContext();
    tabs = [];
    for (let index = 0; index < TABS; index++) tabs.push(await openPage(context, `${site.url}/`));
  });
  afterEach(() => context.close());

  const start = async (config: PageConfig): Promise<void> => {
    await Promise.all(
      tabs.map((tab) => tab.evaluate((pageConfig) => window.tokenflightPage.start(pageConfig), config)),
    );
  };
  /** Every tab sends PER_TAB requests at once, all tabs at the same time. */
  const burst = async (path: string): Promise<Outcome[]> =>
    (
      await Promise.all(
        tabs.map((tab) => tab.evaluate((args) => window.tokenflightPage.burst(...args), [path, PER_TAB] as const)),
      )
    ).flat();

  test('make 1 token request between them, and 1 more after the token is revoked', async () => {
    await start({
      adapter: 'fetch',
      store: 'browser',
      apiOrigin: symbl.url,
      provider: { type: 'bff', tokenUrl: `${site.url}/bff/token` },
    });
    const facts = await tabs[0]!.evaluate(() => window.tokenflightPage.facts());
    expect(facts).toMatchObject({ isSecureContext: true, usesWebLocks: true });

    await expect(burst('/api/data')).resolves.toEqual(allOk);
    expect(symbl.stats.tokenRequests).toBe(1);
    expect(site.bffRequests).toBe(1);

    symbl.revokeAll();
    await expect(burst('/api/data')).resolves.toEqual(allOk);
    expect(symbl.stats.tokenRequests).toBe(2);
    expect(symbl.stats.apiSucceeded).toBe(2 * TABS * PER_TAB);
    const lastToken = `Bearer ${symbl.tokens.at(-1)?.accessToken}`;
    expect(symbl.requests.at(-1)?.authorization).toBe(lastToken);
  });

  test('a tab takes up the token a sibling fetched without asking (storage event), and drops one a sibling saw rejected', async () => {
    await start({
      adapter: 'xhr',
      store: 'browser',
      apiOrigin: symbl.url,
      provider: { type: 'bff', tokenUrl: `${site.url}/bff/token` },
    });
    await tabs[0]!.evaluate(() => window.tokenflightPage.token());
    // The other tabs adopt it from the storage event, before they need it.
    for (const tab of tabs.slice(1)) {
      await tab.waitForFunction(() =>
        window.tokenflightPage
          .events()
          .some((event) => event.type === 'token-adopted' && event.reason === 'store-changed'),
      );
    }
    symbl.revokeAll();
    await expect(tabs[0]!.evaluate(() => window.tokenflightPage.get('/api/data'))).resolves.toEqual({ status: 200 });
    for (const tab of tabs.slice(1)) {
      await tab.waitForFunction(
        () => window.tokenflightPage.events().filter((event) => event.type === 'token-adopted').length === 2,
      );
    }
    symbl.resetStats();
    await expect(burst('/api/data')).resolves.toEqual(allOk);
    // Every tab already held the new token: no 401, no token request.
    expect(symbl.stats).toMatchObject({ tokenRequests: 0, apiUnauthorized: 0, apiSucceeded: TABS * PER_TAB });
  });

  test('with refreshTokenGrant, each rotation uses the rotating refresh token exactly once across the tabs', async () => {
    const refreshToken = authServer.issueRefreshToken({ clientId: 'public-client' });
    await start({
      adapter: 'fetch',
      store: 'browser',
      apiOrigin: authServer.url,
      provider: { type: 'refresh', tokenUrl: authServer.tokenUrl, clientId: 'public-client', refreshToken },
    });
    const ROTATIONS = 4;
    for (let round = 0; round < ROTATIONS; round++) {
      if (round > 0) authServer.revokeAccessTokens();
      await expect(burst('/api/data')).resolves.toEqual(allOk);
    }
    expect(authServer.stats).toMatchObject({
      rotations: ROTATIONS,
      refreshRequests: ROTATIONS,
      refreshTokenUses: ROTATIONS,
      reuseDetections: 0,
      revokedFamilies: 0,
      apiSucceeded: ROTATIONS * TABS * PER_TAB,
    });
    expect(authServer.familyOf(refreshToken)).toMatchObject({ revoked: false, rotations: ROTATIONS });
  });

  test('a tab granted the lock always reads what the previous holder wrote under it (the hand-off count)', async () => {
    await start({
      adapter: 'fetch',
      store: 'browser',
      apiOrigin: symbl.url,
      provider: { type: 'bff', tokenUrl: `${site.url}/bff/token` },
    });
    const [a, b] = tabs as [Page, Page];
    const seen: Array<string | undefined> = [];
    for (let round = 0; round < 30; round++) {
      await a.evaluate(() => window.tokenflightPage.holdLock('handoff-check'));
      const reading = b.evaluate(() => window.tokenflightPage.readUnderLock('handoff-check'));
      // b is waiting for the lock; a writes under it and lets it go.
      await a.evaluate((value) => window.tokenflightPage.writeAndRelease('handoff-check', value), `written-${round}`);
      seen.push(await reading);
    }
    expect(seen).toEqual(Array.from({ length: 30 }, (_, round) => `written-${round}`));
  });
});
