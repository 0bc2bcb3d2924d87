import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import type { BrowserContext, Page } from 'playwright-core';
import { describeBrowser, launchChromium } from './helpers/chromium.js';
import type { BodyKind } from './helpers/fetch-page.js';
import { bundleFetchPage, startElsewhere, startFetchSite, type FetchSite } from './helpers/fetch-site.js';

// tokenflight/fetch in real headless Chromium, bundled for the browser without axios: the page
// calls its own origin's API through auth.fetch, and the API's redirects point at another origin.
// Everything is counted at the servers.

let bundle: { script: string; inputs: string[] };
let chromium: Awaited<ReturnType<typeof launchChromium>> | undefined;
let site: FetchSite;
let elsewhere: Awaited<ReturnType<typeof startElsewhere>>;

beforeAll(async () => {
  bundle = await bundleFetchPage();
  [site, elsewhere] = await Promise.all([startFetchSite(bundle.script), startElsewhere()]);
}, 60_000);

afterAll(async () => {
  await chromium?.close();
  await Promise.all([site.close(), elsewhere.close()]);
});

describe('the browser bundle of tokenflight/fetch', () => {
  test('is built from dist/fetch.js and holds nothing of axios', () => {
    expect(bundle.inputs).toContain('dist/fetch.js');
    expect(bundle.inputs.filter((input) => /(^|\/)node_modules\/axios\//.test(input))).toEqual([]);
    expect(bundle.script).not.toMatch(/AxiosHeaders|AxiosError|isAxiosError/);
  });
});

describeBrowser('tokenflight/fetch in Chromium', () => {
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    chromium = await launchChromium();
  }, 60_000);

  beforeEach(async () => {
    context = await chromium!.browser.newContext();
    page = await context.newPage();
    await page.goto(`${site.url}/`);
    await page.waitForFunction(() => typeof window.tokenFetchPage === 'object');
    await page.evaluate((config) => window.tokenFetchPage.start(config), {
      tokenUrl: site.tokenUrl,
      apiOrigin: site.url,
    });
  });
  afterEach(() => context.close());

  const tokensSince = (before: number): number => site.tokenRequests() - before;
  const sentTo = (path: string): Array<{ authorization: string | undefined; body: Buffer; type: string }> =>
    site
      .apiRequests()
      .filter((request) => request.path === path)
      .map((request) => ({
        authorization: request.headers.authorization,
        body: request.body,
        type: request.headers['content-type'] ?? '',
      }));

  test('a request to the API carries the token, and the page reads the answer', async () => {
    const before = site.tokenRequests();
    const outcome = await page.evaluate((url) => window.tokenFetchPage.get(url), `${site.url}/api/items`);
    expect(outcome).toMatchObject({ status: 200, type: 'basic' });
    expect(JSON.parse(outcome.body ?? '')).toEqual({ method: 'GET', token: site.latest(), length: 0 });
    expect(sentTo('/api/items').map((sent) => sent.authorization)).toContain(`Bearer ${site.latest()}`);
    expect(tokensSince(before)).toBe(1);
  });

  test('20 concurrent calls on a cold cache make one token request, and all carry its token', async () => {
    const before = site.tokenRequests();
    site.setTokenDelay(100);
    try {
      const outcomes = await page.evaluate((url) => window.tokenFetchPage.burst(url, 20), `${site.url}/api/burst`);
      expect(outcomes.map((outcome) => outcome.status)).toEqual(Array(20).fill(200));
    } finally {
      site.setTokenDelay(0);
    }
    expect(tokensSince(before)).toBe(1);
    const burst = site.apiRequests().filter((request) => request.path.startsWith('/api/burst?'));
    expect(new Set(burst.map((request) => request.headers.authorization))).toEqual(
      new Set([`Bearer ${site.latest()}`]),
    );
  });

  test.each<BodyKind>(['string', 'form-data', 'blob'])(
    'a 401 after a revocation: one token request, and the %s body replayed byte for byte',
    async (kind) => {
      const path = `/api/upload-${kind}`;
      await page.evaluate((url) => window.tokenFetchPage.get(url), `${site.url}/api/warm`);
      site.revoke();
      const rejected = site.latest();
      const before = site.tokenRequests();
      const outcome = await page.evaluate(([url, body]) => window.tokenFetchPage.post(url, body), [
        `${site.url}${path}`,
        kind,
      ] as const);
      expect(outcome.status).toBe(200);
      expect(JSON.parse(outcome.body ?? '')).toMatchObject({ method: 'POST', token: site.latest() });
      expect(tokensSince(before)).toBe(1);
      const [first, replayed, ...more] = sentTo(path);
      expect(more).toEqual([]);
      expect(first?.authorization).toBe(`Bearer ${rejected}`);
      expect(replayed?.authorization).toBe(`Bearer ${site.latest()}`);
      expect(first?.body.length).toBeGreaterThan(0);
      expect(replayed?.body.equals(first?.body ?? Buffer.alloc(0))).toBe(true);
      expect(replayed?.type).toBe(first?.type);
      if (kind === 'form-data') expect(first?.type).toMatch(/^multipart\/form-data; boundary=/);
      if (kind === 'blob') expect(first?.type).toBe('application/x-test');
    },
  );

  test("the caller's signal ends only its own wait: it rejects with the signal's reason, the others get their answer", async () => {
    const before = site.tokenRequests();
    site.setTokenDelay(300);
    let outcomes;
    try {
      outcomes = await page.evaluate(
        (url) => window.tokenFetchPage.abortFirst(url, 5, 'the user left'),
        `${site.url}/api/wait`,
      );
    } finally {
      site.setTokenDelay(0);
    }
    const [aborted, ...rest] = outcomes;
    expect(aborted).toEqual({ error: 'AbortError', detail: 'the user left', isReason: true });
    expect(rest.map((outcome) => outcome.status)).toEqual([200, 200, 200, 200]);
    expect(tokensSince(before)).toBe(1);
    expect(site.apiRequests().filter((request) => request.path === '/api/wait')).toEqual([]);
  });

  test('a redirect to another origin: the browser follows it, and the token does not cross', async () => {
    const target = `${elsewhere.url}/open`;
    const before = elsewhere.seen.length;
    const outcome = await page.evaluate(
      (url) => window.tokenFetchPage.get(url),
      `${site.url}/redirect?status=307&to=${encodeURIComponent(target)}`,
    );
    expect(outcome).toMatchObject({ status: 200, type: 'cors', url: target, redirected: true, body: 'elsewhere none' });
    const reached = elsewhere.seen.slice(before);
    expect(reached.map((request) => request.headers.authorization)).toEqual(reached.map(() => undefined));
    expect(reached.filter((request) => request.method === 'GET')).toHaveLength(1);
    expect(site.seen.at(-1)?.headers.authorization).toBe(`Bearer ${site.latest()}`);
  });

  test("a 401 from the other origin a redirect led to is that origin's answer: no token request, no replay", async () => {
    await page.evaluate((url) => window.tokenFetchPage.get(url), `${site.url}/api/warm`);
    const tokens = site.tokenRequests();
    const before = elsewhere.seen.length;
    const outcome = await page.evaluate(
      (url) => window.tokenFetchPage.get(url),
      `${site.url}/redirect?to=${encodeURIComponent(`${elsewhere.url}/reject`)}`,
    );
    expect(outcome).toMatchObject({ status: 401, body: 'elsewhere none' });
    expect(site.tokenRequests()).toBe(tokens);
    expect(elsewhere.seen.slice(before).map((request) => [request.method, request.headers.authorization])).toEqual([
      ['GET', undefined],
    ]);
  });

  test('a redirect within the origin keeps the token', async () => {
    const outcome = await page.evaluate(
      (url) => window.tokenFetchPage.get(url),
      `${site.url}/redirect?to=${encodeURIComponent('/api/moved')}`,
    );
    expect(outcome).toMatchObject({ status: 200, redirected: true, url: `${site.url}/api/moved` });
    expect(sentTo('/api/moved').map((sent) => sent.authorization)).toEqual([`Bearer ${site.latest()}`]);
  });

  test("`redirect: 'manual'` gives the caller the browser's opaque redirect: status 0, nothing followed, nothing replayed", async () => {
    await page.evaluate((url) => window.tokenFetchPage.get(url), `${site.url}/api/warm`);
    const tokens = site.tokenRequests();
    const before = { site: site.seen.length, elsewhere: elsewhere.seen.length };
    const outcome = await page.evaluate(
      (url) => window.tokenFetchPage.get(url, { redirect: 'manual' }),
      `${site.url}/redirect?to=${encodeURIComponent(`${elsewhere.url}/open`)}`,
    );
    expect(outcome).toMatchObject({ status: 0, type: 'opaqueredirect', body: '' });
    expect(elsewhere.seen.length).toBe(before.elsewhere);
    expect(
      site.seen.slice(before.site).map((request) => [request.path.split('?')[0], request.headers.authorization]),
    ).toEqual([['/redirect', `Bearer ${site.latest()}`]]);
    expect(site.tokenRequests()).toBe(tokens);
  });

  test("`redirect: 'error'` rejects with the browser's TypeError and sends nothing to the target", async () => {
    const before = elsewhere.seen.length;
    const outcome = await page.evaluate(
      (url) => window.tokenFetchPage.get(url, { redirect: 'error' }),
      `${site.url}/redirect?to=${encodeURIComponent(`${elsewhere.url}/open`)}`,
    );
    expect(outcome.error).toBe('TypeError');
    expect(elsewhere.seen.length).toBe(before);
  });

  test('`tokenAuth: false` sends no token and asks for none', async () => {
    const before = site.tokenRequests();
    const outcome = await page.evaluate(
      (url) => window.tokenFetchPage.get(url, { tokenAuth: false }),
      `${site.url}/api/public`,
    );
    expect(outcome.status).toBe(401);
    expect(sentTo('/api/public').map((sent) => sent.authorization)).toEqual([undefined]);
    expect(site.tokenRequests()).toBe(before);
  });
});
