import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { ProviderServer } from '../../lib/testing/index.js';
import { describeBrowser, launchChromium, openPage } from './helpers/chromium.js';
import type { PageConfig } from './helpers/page.js';
import { startSymblSite, type PageServer } from './helpers/page-server.js';

// One page in real headless Chromium, for each of axios's browser adapters. The page gets its
// tokens from its own backend (a BFF that holds the Symbl app secret) and calls the simulated
// Symbl API on another origin (CORS). Everything is counted at the servers.

let chromium: { browser: Browser; close(): Promise<void> } | undefined;
let symbl: ProviderServer;
let site: PageServer;

beforeAll(async () => {
  ({ symbl, site } = await startSymblSite());
  chromium = await launchChromium();
}, 60_000);

afterAll(async () => {
  await chromium?.close();
  await site.close();
  await symbl.close();
});

describeBrowser('in Chromium', () => {
  describe.each(['xhr', 'fetch'] as const)('with the %s adapter', (adapter) => {
    let context: BrowserContext;
    let page: Page;
    const config = (): PageConfig => ({
      adapter,
      store: 'memory',
      apiOrigin: symbl.url,
      provider: { type: 'bff', tokenUrl: `${site.url}/bff/token` },
    });

    beforeEach(async () => {
      symbl.resetStats();
      context = await chromium!.browser.newContext();
      page = await openPage(context, `${site.url}/`);
      await page.evaluate((pageConfig) => window.tokenflightPage.start(pageConfig), config());
    });
    afterEach(() => context.close());

    const apiAuthorizations = (): Array<string | undefined> =>
      symbl.requests.filter((request) => request.kind === 'api').map((request) => request.authorization);

    test('20 concurrent requests on a cold cache make 1 token request, and all carry its token', async () => {
      const outcomes = await page.evaluate(() => window.tokenflightPage.burst('/api/data', 20));
      expect(outcomes).toEqual(Array.from({ length: 20 }, () => ({ status: 200 })));
      expect(symbl.stats.tokenRequests).toBe(1);
      expect(symbl.stats.apiSucceeded).toBe(20);
      expect(new Set(apiAuthorizations())).toEqual(new Set([`Bearer ${symbl.tokens.at(-1)?.accessToken}`]));
      const { apiInitiators } = await page.evaluate(() => window.tokenflightPage.facts());
      expect(new Set(apiInitiators)).toEqual(new Set([adapter === 'xhr' ? 'xmlhttprequest' : 'fetch']));
    });

    test('a revoked token: the 401 becomes one token request and a replay, and the caller sees 200', async () => {
      await expect(page.evaluate(() => window.tokenflightPage.get('/api/data'))).resolves.toEqual({ status: 200 });
      symbl.revokeAll();
      const outcomes = await page.evaluate(() => window.tokenflightPage.burst('/api/data', 5));
      expect(outcomes).toEqual(Array.from({ length: 5 }, () => ({ status: 200 })));
      expect(symbl.stats.tokenRequests).toBe(2);
      expect(symbl.stats.apiUnauthorized).toBe(5);
      expect(apiAuthorizations().slice(-5)).toEqual(Array(5).fill(`Bearer ${symbl.tokens.at(-1)?.accessToken}`));
    });

    test('`tokenAuth: false` sends no token and asks for none', async () => {
      const outcome = await page.evaluate(() => window.tokenflightPage.get('/api/public', { tokenAuth: false }));
      expect(outcome).toEqual({ status: 401 });
      expect(symbl.stats.tokenRequests).toBe(0);
      expect(apiAuthorizations()).toEqual([undefined]);
    });
  });
});
