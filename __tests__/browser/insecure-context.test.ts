import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from '@jest/globals';
import axios from 'axios';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { attachTokenAuth, MemoryTokenStore, type TokenStore } from '../../lib/index.js';
import type { ProviderServer } from '../../lib/testing/index.js';
import { describeBrowser, launchChromium, openPage } from './helpers/chromium.js';
import type { Outcome, PageConfig } from './helpers/page.js';
import { providerOf } from './helpers/page-provider.js';
import { startSymblSite, type PageServer } from './helpers/page-server.js';

// A page that is not a secure context: plain http on a hostname (tokenflight.test, mapped to
// 127.0.0.1 by --host-resolver-rules), as a dev server on a LAN name is. It has no crypto.subtle
// and no navigator.locks: the store key comes from the pure-JS SHA-256, and the lock from the
// storage lease.

const HOST = 'tokenflight.test';
let chromium: { browser: Browser; close(): Promise<void> } | undefined;
let symbl: ProviderServer;
let site: PageServer;
let origin: string;
let config: PageConfig;

beforeAll(async () => {
  ({ symbl, site } = await startSymblSite());
  origin = `http://${HOST}:${site.port}`;
  config = {
    adapter: 'fetch',
    store: 'browser',
    apiOrigin: symbl.url,
    provider: { type: 'bff', tokenUrl: `${origin}/bff/token` },
  };
  chromium = await launchChromium({ hostRules: `MAP ${HOST} 127.0.0.1` });
}, 60_000);

afterAll(async () => {
  await chromium?.close();
  await site.close();
  await symbl.close();
});

/** The store key tokenflight works out in Node (with WebCrypto) for the page's provider. */
async function keyInNode(): Promise<string> {
  const keys: string[] = [];
  const inner = new MemoryTokenStore();
  const recording: TokenStore = {
    get: (key) => {
      keys.push(key);
      return inner.get(key);
    },
    set: (key, token) => inner.set(key, token),
    delete: (key, token) => inner.delete(key, token),
  };
  const tokenClient = axios.create({
    adapter: (request) =>
      Promise.resolve({
        data: { accessToken: 'k', expiresIn: 60 },
        status: 200,
        statusText: 'OK',
        headers: {},
        config: request,
      }),
  });
  const auth = attachTokenAuth(axios.create(), { providers: providerOf(config), store: recording, tokenClient });
  await auth.token();
  auth.eject();
  return keys[0] ?? '';
}

describeBrowser('in Chromium, on a page that is not a secure context', () => {
  let context: BrowserContext;
  let tabs: Page[];

  beforeEach(async () => {
    symbl.resetStats();
    context = await chromium!.browser.newContext();
    tabs = [];
    for (let index = 0; index < 3; index++) tabs.push(await openPage(context, `${origin}/`));
    await Promise.all(
      tabs.map((tab) => tab.evaluate((pageConfig) => window.tokenflightPage.start(pageConfig), config)),
    );
  });
  afterEach(() => context.close());

  const burst = async (count: number): Promise<Outcome[]> =>
    (
      await Promise.all(tabs.map((tab) => tab.evaluate((n) => window.tokenflightPage.burst('/api/data', n), count)))
    ).flat();

  test('has neither crypto.subtle nor Web Locks, and stores its token under the key Node works out', async () => {
    await expect(tabs[0]!.evaluate(() => window.tokenflightPage.get('/api/data'))).resolves.toEqual({ status: 200 });
    const facts = await tabs[0]!.evaluate(() => window.tokenflightPage.facts());
    expect(facts).toMatchObject({ isSecureContext: false, hasSubtle: false, hasWebLocks: false, usesWebLocks: false });
    expect(facts.entryKeys).toEqual([`tokenflight:token:${await keyInNode()}`]);
  });

  test('three tabs make 1 token request between them with the storage lease, and 1 more after a revocation', async () => {
    const ok = Array.from({ length: 15 }, (): Outcome => ({ status: 200 }));
    const bffBefore = site.bffRequests;
    await expect(burst(5)).resolves.toEqual(ok);
    expect(symbl.stats.tokenRequests).toBe(1);
    symbl.revokeAll();
    await expect(burst(5)).resolves.toEqual(ok);
    expect(symbl.stats.tokenRequests).toBe(2);
    expect(site.bffRequests - bffBefore).toBe(2);
  });
});
