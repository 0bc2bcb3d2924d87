import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { describeBrowser, launchChromium } from './helpers/chromium.js';
import type { KeyFacts, KeyStoreConfig } from './helpers/key-page.js';
import { bundlePage, startPageServer, type PageServer } from './helpers/page-server.js';

// BrowserTokenStore's DPoP key pair (`keyPair`) in real headless Chromium: pages of one origin
// that ask at once end with one pair, kept across a reload, whose private key no page can export;
// another prefix has a pair of its own; sessionStorage tabs share none; without IndexedDB, or with
// one that fails or hangs, the page keeps its pair in memory and says so once; a record that is
// not a pair is replaced and reported. Pairs are compared by their public keys' thumbprints.

let chromium: { browser: Browser; close(): Promise<void> } | undefined;
let site: PageServer;
let context: BrowserContext;

beforeAll(async () => {
  // No token endpoint is asked in these tests: the BFF target is never reached.
  site = await startPageServer(await bundlePage('key-page.ts'), { tokenUrl: 'http://127.0.0.1:9/', body: {} });
  chromium = await launchChromium();
}, 60_000);

afterAll(async () => {
  await chromium?.close();
  await site.close();
});

beforeEach(async () => {
  // A fresh context per test: empty IndexedDB and storage.
  context = await chromium!.browser.newContext();
});
afterEach(() => context.close());

async function openKeyPage(): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${site.url}/`);
  await page.waitForFunction(() => typeof window.tokenflightKeys === 'object');
  return page;
}

const keyPair = (page: Page, config: KeyStoreConfig, id = 'provider-1', createDelayMs = 0): Promise<KeyFacts> =>
  page.evaluate(([pageConfig, pairId, delayMs]) => window.tokenflightKeys.keyPair(pageConfig, pairId, delayMs), [
    config,
    id,
    createDelayMs,
  ] as const);
const events = (page: Page) => page.evaluate(() => window.tokenflightKeys.events());

const APP: KeyStoreConfig = { prefix: 'app:' };

describeBrowser('in Chromium, BrowserTokenStore.keyPair', () => {
  test('pages asking at once end with one pair, whose private key cannot be exported, and a reload keeps it', async () => {
    const pages = await Promise.all([openKeyPage(), openKeyPage(), openKeyPage(), openKeyPage()]);
    // Making a pair takes a while, so that every page finds no record and makes one: the race is
    // then decided by the add-if-absent transaction.
    const facts = await Promise.all(pages.flatMap((page) => [keyPair(page, APP, undefined, 500), keyPair(page, APP)]));
    expect(new Set(facts.map((fact) => fact.thumbprint)).size).toBe(1);
    expect(facts.filter((fact, index) => index % 2 === 0 && fact.created === 1).length).toBeGreaterThan(1);
    for (const fact of facts) {
      expect(fact).toMatchObject({ privateExtractable: false, exportPrivate: 'rejected', signs: true });
    }
    // Each page made at most one candidate (the losers' are dropped), whatever its callers.
    for (const fact of facts) expect(fact.created).toBeLessThanOrEqual(1);

    await pages[0].reload();
    await pages[0].waitForFunction(() => typeof window.tokenflightKeys === 'object');
    const reloaded = await keyPair(pages[0], APP);
    expect(reloaded).toMatchObject({ thumbprint: facts[0]!.thumbprint, created: 0, exportPrivate: 'rejected' });
    const later = await keyPair(await openKeyPage(), APP);
    expect(later).toMatchObject({ thumbprint: facts[0]!.thumbprint, created: 0 });
    for (const page of pages) await expect(events(page)).resolves.toEqual([]);
  });

  test('each id, and each prefix, has a pair of its own', async () => {
    const page = await openKeyPage();
    const a = await keyPair(page, APP, 'one');
    const b = await keyPair(page, APP, 'two');
    const other = await keyPair(await openKeyPage(), { prefix: 'other:' }, 'one');
    expect(new Set([a.thumbprint, b.thumbprint, other.thumbprint]).size).toBe(3);
    await expect(keyPair(await openKeyPage(), APP, 'one')).resolves.toMatchObject({ thumbprint: a.thumbprint });
  });

  test('tabs on sessionStorage never share a pair: each keeps its own in memory, silently', async () => {
    const session: KeyStoreConfig = { prefix: 'app:', storage: 'session' };
    const [first, second] = [await openKeyPage(), await openKeyPage()];
    const [a, b] = await Promise.all([keyPair(first, session), keyPair(second, session)]);
    expect(a.thumbprint).not.toBe(b.thumbprint);
    await expect(keyPair(first, session)).resolves.toMatchObject({ thumbprint: a.thumbprint, created: 1 });
    // Nothing reached IndexedDB: a localStorage store of the origin makes a pair of its own.
    await expect(keyPair(first, APP)).resolves.not.toMatchObject({ thumbprint: a.thumbprint });
    await expect(events(first)).resolves.toEqual([]);
  });

  test.each([
    [false, 'there is no IndexedDB here'],
    ['failing', 'opening IndexedDB'],
    ['hanging', 'opening IndexedDB took too long'],
  ] as const)('IndexedDB %s: the page keeps one pair per id in memory and says so once', async (indexedDB, reason) => {
    const config: KeyStoreConfig = { prefix: 'app:', indexedDB };
    const page = await openKeyPage();
    const [a, b] = await Promise.all([keyPair(page, config), keyPair(page, config)]);
    expect(a.thumbprint).toBe(b.thumbprint);
    expect(a).toMatchObject({ exportPrivate: 'rejected', signs: true, created: 1 });
    await expect(keyPair(page, config, 'another')).resolves.toMatchObject({ created: 2 });
    const seen = await events(page);
    expect(seen).toEqual([
      { type: 'browser-key-in-memory', code: 'ERR_STORE_KEY_UNAVAILABLE', reason: expect.stringContaining(reason) },
    ]);
    // Nothing was kept: a page with IndexedDB makes its own pair.
    await expect(keyPair(await openKeyPage(), APP)).resolves.not.toMatchObject({ thumbprint: a.thumbprint });
  });

  test.each([
    ['a string', 'not a pair'],
    ['another kind of record', { kind: 'something-else', v: 1 }],
    ['a record of another id', 'other-id'],
    ['a pair with an extractable private key', 'extractable'],
    ['a pair whose halves do not belong together', 'mismatched'],
  ] as const)('a record that is %s is replaced by a new pair and reported, never thrown', async (_what, value) => {
    const page = await openKeyPage();
    await page.evaluate(
      async ([kind, id]) => {
        const make = (extractable: boolean) =>
          crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, extractable, ['sign', 'verify']);
        const pair = await make(kind === 'extractable');
        const stranger = await make(false);
        const own = { kind: 'tokenflight-dpop-key', v: 1, id, serial: 'written-by-another-script' };
        const record =
          kind === 'other-id'
            ? { ...own, id: 'elsewhere', ...pair }
            : kind === 'extractable'
              ? { ...own, ...pair }
              : kind === 'mismatched'
                ? { ...own, privateKey: pair.privateKey, publicKey: stranger.publicKey }
                : kind;
        await window.tokenflightKeys.writeRecord('app:', id, record);
      },
      [value, 'provider-1'] as const,
    );
    const replaced = await keyPair(page, APP);
    expect(replaced).toMatchObject({ created: 1, exportPrivate: 'rejected', signs: true });
    const seen = await events(page);
    expect(seen).toEqual([
      { type: 'browser-key-replaced', id: 'provider-1', code: 'ERR_STORE_KEY_INVALID', reason: expect.any(String) },
    ]);
    // The new pair is the record now: another page finds it, and nothing more is reported.
    const next = await openKeyPage();
    await expect(keyPair(next, APP)).resolves.toMatchObject({ thumbprint: replaced.thumbprint, created: 0 });
    await expect(events(next)).resolves.toEqual([]);
  });
});
