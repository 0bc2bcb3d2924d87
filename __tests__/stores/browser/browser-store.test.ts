import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals';
import axios from 'axios';
import {
  attachTokenAuth,
  isTokenRequestError,
  symbl,
  type StoredToken,
  type TokenAuth,
  type TokenAuthEvent,
} from '../../../lib/index.js';
import { BROWSER_STORE_DEFAULTS, BrowserTokenStore, type BrowserTokenStoreEvent } from '../../../lib/browser.js';
import { createIndexedDB, createLockManager, createOrigin, type FakeTab } from '../../browser/helpers/fakes.js';
import { reactionTo } from '../../../lib/core/manager/store-sync.js';
import { mockAuthorizationServer, openSessionPage } from '../../browser/helpers/sessions.js';
import {
  authOf,
  CREDS,
  flush,
  issueSequentialTokens,
  mockOf,
  settled,
  SYMBL_TOKEN_URL,
  SYMBL_URL,
  until,
  useFakeClock,
} from '../../helpers/index.js';

const token = (accessToken: string, expiresAt: number | null, obtainedAt = 0): StoredToken => ({
  accessToken,
  tokenType: 'Bearer',
  expiresAt,
  obtainedAt,
});

/** A store in `tab` with no Web Locks and no storage events unless asked. */
function storeIn(tab: FakeTab, options: ConstructorParameters<typeof BrowserTokenStore>[0] = {}): BrowserTokenStore {
  return new BrowserTokenStore({ storage: tab.storage, locks: false, storageEvents: false, ...options });
}

describe('BrowserTokenStore entries', () => {
  test('a write never replaces a newer token with an older one', async () => {
    const store = storeIn(createOrigin().openTab(), { now: () => 0 });
    await expect(store.set('k', token('newer', 2_000))).resolves.toMatchObject({ accessToken: 'newer' });
    await expect(store.set('k', token('older', 1_000))).resolves.toMatchObject({ accessToken: 'newer' });
    await expect(store.set('k', token('same-expiry-later', 2_000, 5))).resolves.toMatchObject({
      accessToken: 'same-expiry-later',
    });
    await expect(store.get('k')).resolves.toEqual(token('same-expiry-later', 2_000, 5));
  });

  test('entries are JSON under {prefix}token:{key}, recording the key they were written for, and two tabs see the same entry', async () => {
    const origin = createOrigin();
    await storeIn(origin.openTab(), { prefix: 'app:' }).set('k', token('t1', null));
    expect(JSON.parse(origin.entries.get('app:token:k') ?? '')).toEqual({
      format: 'tokenflight/1',
      key: 'k',
      ...token('t1', null),
    });
    await expect(storeIn(origin.openTab(), { prefix: 'app:' }).get('k')).resolves.toMatchObject({ accessToken: 't1' });
    await expect(storeIn(origin.openTab(), { prefix: 'other:' }).get('k')).resolves.toBeUndefined();
  });

  test('delete removes the entry only if it still holds the rejected token', async () => {
    const store = storeIn(createOrigin().openTab());
    await store.set('k', token('t2', null));
    await expect(store.delete('k', 't1')).resolves.toBe(false);
    await expect(store.get('k')).resolves.toMatchObject({ accessToken: 't2' });
    await expect(store.delete('k', 't2')).resolves.toBe(true);
    await expect(store.get('k')).resolves.toBeUndefined();
  });

  test('an expired entry is removed when read; a token without expiry stays', async () => {
    let now = 0;
    const origin = createOrigin();
    const store = storeIn(origin.openTab(), { now: () => now });
    await store.set('a', token('a', 100));
    await store.set('b', token('b', null));
    now = 100;
    await expect(store.get('a')).resolves.toBeUndefined();
    expect(origin.entries.has('tokenflight:token:a')).toBe(false);
    await expect(store.get('b')).resolves.toMatchObject({ accessToken: 'b' });
  });

  const entry = (key: string, fields: Record<string, unknown>): string =>
    JSON.stringify({ format: 'tokenflight/1', key, ...token('t1', null), ...fields });

  test.each([
    ['not JSON', '{"accessToken": "t1"', 'not a JSON object'],
    ['a token with a header injection', entry('k', { accessToken: 't1\r\nX-Evil: 1' }), 'characters'],
    ['a foreign value', JSON.stringify({ theme: 'dark' }), 'not an entry tokenflight wrote'],
    [
      'a valid-looking token without the store’s mark',
      JSON.stringify(token('t1', null)),
      'not an entry tokenflight wrote',
    ],
    ['a bad expiry', entry('k', { expiresAt: 'soon' }), '`expiresAt`'],
    ['an entry copied from another key', entry('other-tenant', {}), 'another key'],
    ['an entry of a store of one tab', entry('k', { tab: 'a1b2c3d4e5f6a7b8c9d0' }), 'another `sharedBy`'],
  ])(
    'an entry that is %s is refused: the read rejects with ERR_STORE_ENTRY_INVALID, it is reported without its value, and left in place',
    async (_, raw, reason) => {
      const origin = createOrigin();
      const events: BrowserTokenStoreEvent[] = [];
      const store = storeIn(origin.openTab(), { onEvent: (event) => events.push(event) });
      origin.entries.set('tokenflight:token:k', raw);
      const error = await store.get('k').catch((caught: unknown) => caught);
      expect(error).toMatchObject({ name: 'TokenflightError', code: 'ERR_STORE_ENTRY_INVALID' });
      expect(String(error)).toContain(reason);
      expect(origin.entries.get('tokenflight:token:k')).toBe(raw);
      expect(events).toEqual([
        {
          type: 'browser-entry-dropped',
          key: 'k',
          code: 'ERR_STORE_ENTRY_INVALID',
          reason: expect.stringContaining(reason),
        },
      ]);
      expect(`${JSON.stringify(events)} ${String(error)}`).not.toContain('t1');
      // Neither a delete nor a write that would lose to it is fooled by it.
      await expect(store.delete('k', 't1')).resolves.toBe(false);
      expect(origin.entries.get('tokenflight:token:k')).toBe(raw);
    },
  );

  test('a write takes the place of an entry it refuses', async () => {
    const origin = createOrigin();
    const store = storeIn(origin.openTab());
    origin.entries.set('tokenflight:token:k', '{"accessToken": 42}');
    await expect(store.set('k', token('t1', null))).resolves.toMatchObject({ accessToken: 't1' });
    await expect(store.get('k')).resolves.toMatchObject({ accessToken: 't1' });
    // Another tenant's newer token copied under this key does not win against a write either.
    origin.entries.set('tokenflight:token:k', entry('other-tenant', { accessToken: 'theirs', expiresAt: 9e12 }));
    await expect(store.set('k', token('t2', null))).resolves.toMatchObject({ accessToken: 't2' });
    await expect(store.get('k')).resolves.toMatchObject({ accessToken: 't2' });
  });

  test('an entry another tenant wrote, copied under this tenant’s key, is never served', async () => {
    const origin = createOrigin();
    const store = storeIn(origin.openTab());
    await store.set('tenant-a', token('token-of-a', null));
    origin.entries.set('tokenflight:token:tenant-b', origin.entries.get('tokenflight:token:tenant-a') ?? '');
    await expect(store.get('tenant-b')).rejects.toMatchObject({ code: 'ERR_STORE_ENTRY_INVALID' });
    await expect(store.get('tenant-a')).resolves.toMatchObject({ accessToken: 'token-of-a' });
  });

  test('the first write each sweepIntervalMs sweeps only what the store can prove it wrote: its expired entries and ended leases', async () => {
    let now = 0;
    const origin = createOrigin();
    const store = storeIn(origin.openTab(), { now: () => now, sweepIntervalMs: 1_000, prefix: 'myapp:' });
    await store.set('old', token('old', 500));
    const lease = (key: string, until: number): string =>
      JSON.stringify({ format: 'tokenflight/1', key, owner: 'x', until });
    const theirs: Array<[string, string]> = [
      // The app's own keys under the prefix and beside it, as the issue's repro had them.
      ['myapp:token:user-settings', JSON.stringify({ theme: 'dark', expiresAt: 1 })],
      ['myapp:lock:ui', JSON.stringify({ owner: 'editor', until: 1 })],
      ['myapp:token:junk', 'junk'],
      ['myapp:token:abc', JSON.stringify(token('abc', 100))],
      ['myapp:token:copied', JSON.stringify({ format: 'tokenflight/1', key: 'elsewhere', ...token('c', 100) })],
      ['token:abc', JSON.stringify(token('abc', 100))],
      ['lock:editor', JSON.stringify({ owner: 'x', until: 1 })],
      ['myapp:lock:running', lease('running', 5_000)],
      ['unrelated', 'kept'],
    ];
    for (const [key, value] of theirs) origin.entries.set(key, value);
    origin.entries.set('myapp:lock:ended', lease('ended', 400));
    now = 600;
    await store.set('fresh', token('fresh', 10_000));
    // Not yet: the last sweep was at 0.
    expect(origin.entries.has('myapp:token:old')).toBe(true);
    now = 1_000;
    await store.set('fresh', token('fresher', 20_000));
    expect([...origin.entries.keys()].sort()).toEqual([...theirs.map(([key]) => key), 'myapp:token:fresh'].sort());
    for (const [key, value] of theirs) expect(origin.entries.get(key)).toBe(value);
  });
});

describe('BrowserTokenStore prefix', () => {
  const { storage } = createOrigin().openTab();

  test.each([
    ['an empty prefix', '', 'an empty string'],
    ['a prefix without a separator at its end', 'myapp', '"myapp"'],
    ['a prefix of separators only', '::', '"::"'],
    ['a prefix with a space', 'my app:', '"my app:"'],
    ['a prefix with a line break', 'app\n:', '"app\\n:"'],
  ])('refuses %s, naming `prefix` and the rule', (_, prefix, shown) => {
    expect(() => new BrowserTokenStore({ storage, prefix })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARG_VALUE',
        message: expect.stringContaining(
          `expected \`prefix\` to be a string with a letter or digit that ends with a separator`,
        ),
      }),
    );
    expect(() => new BrowserTokenStore({ storage, prefix })).toThrow(`got ${shown}`);
  });

  test.each(['myapp:', 'tenant-7/', 'a.', 'app_', 'app-', 'app|', 'tokenflight:'])('accepts %p', (prefix) => {
    expect(() => new BrowserTokenStore({ storage, prefix })).not.toThrow();
  });
});

describe('BrowserTokenStore options', () => {
  const { storage } = createOrigin().openTab();

  test.each([
    [{ storage: {} }, /expected `storage` to be a Web Storage object .* got an object/],
    [{ storage, prefix: 7 }, /expected `prefix` to be a string with a letter or digit .*, got a number/],
    [{ storage, sharedBy: 'window' }, /expected `sharedBy` to be 'origin' or 'tab', got a string/],
    [{ storage, tabCheckMs: -1 }, /expected `tabCheckMs` to be a finite number >= 0, got -1/],
    [{ storage, pageEvents: {} }, /expected `pageEvents` to have addEventListener/],
    [
      { storage, sharedBy: 'tab', broadcastChannel: 'yes' },
      /expected `broadcastChannel` to be a function, got a string/,
    ],
    [{ storage, locks: 'yes' }, /expected `locks` to be a LockManager \(navigator.locks\) or false, got a string/],
    [{ storage, storageEvents: {} }, /expected `storageEvents` to have addEventListener/],
    [{ storage, lockPollMs: 0 }, /expected `lockPollMs` to be a finite number >= 1, got 0/],
    [{ storage, onEvent: 'log' }, /expected `onEvent` to be a function, got a string/],
    [{ storage, prefx: 'app:' }, /unknown option `prefx`/],
  ])('rejects %p with an error naming the option', (options, message) => {
    expect(() => new BrowserTokenStore(options as never)).toThrow(message);
  });

  test('without `storage` where there is no localStorage (Node), says to pass one', () => {
    expect(() => new BrowserTokenStore()).toThrow(/there is no usable `localStorage` here: pass `storage`/);
  });

  test('uses the lease fallback where navigator.locks is missing, Web Locks where it is given', () => {
    expect(new BrowserTokenStore({ storage }).usesWebLocks).toBe(false);
    expect(new BrowserTokenStore({ storage, locks: createLockManager() }).usesWebLocks).toBe(true);
  });

  test('its defaults are exported in one place', () => {
    expect(BROWSER_STORE_DEFAULTS).toEqual({
      prefix: 'tokenflight:',
      sweepIntervalMs: 60_000,
      lockPollMs: 50,
      leaseSettleMs: 50,
      handoffWaitMs: 1_000,
      tabCheckMs: 250,
    });
  });
});

const lockOptions = { ttlMs: 10_000, waitMs: 10_000 };

describe.each([
  ['Web Locks', (tab: FakeTab, locks: ReturnType<typeof createLockManager>) => storeIn(tab, { locks })],
  ['the storage lease', (tab: FakeTab) => storeIn(tab, { lockPollMs: 5, leaseSettleMs: 5 })],
])('BrowserTokenStore lock with %s', (_, makeStore) => {
  afterEach(() => {
    jest.useRealTimers();
  });

  const twoTabs = (): [BrowserTokenStore, BrowserTokenStore] => {
    const origin = createOrigin();
    const locks = createLockManager();
    return [makeStore(origin.openTab(), locks), makeStore(origin.openTab(), locks)];
  };

  test('has one holder at a time across tabs; a waiter gets it when it is released', async () => {
    useFakeClock(0);
    const [a, b] = twoTabs();
    const first = await settled(a.lock('k', lockOptions));
    expect(first).toBeDefined();
    let second: unknown;
    const waiting = b.lock('k', lockOptions).then((lock) => (second = lock));
    await jest.advanceTimersByTimeAsync(40);
    expect(second).toBeUndefined();
    await first?.release();
    await settled(waiting);
    expect(second).toBeDefined();
  });

  test('locks of different keys do not wait for each other', async () => {
    useFakeClock(0);
    const [a, b] = twoTabs();
    await settled(a.lock('k1', lockOptions));
    await expect(settled(b.lock('k2', { ...lockOptions, waitMs: 0 }))).resolves.toBeDefined();
  });

  test('a waiter gives up after waitMs, or when its signal aborts', async () => {
    useFakeClock(0);
    const [a, b] = twoTabs();
    await settled(a.lock('k', lockOptions));
    const started = Date.now();
    await expect(settled(b.lock('k', { ttlMs: 1_000, waitMs: 20 }))).resolves.toBeUndefined();
    // At waitMs, long before the holder's ttlMs.
    expect(Date.now() - started).toBeLessThan(1_000);
    const controller = new AbortController();
    const waiting = b.lock('k', { ...lockOptions, signal: controller.signal });
    controller.abort();
    await expect(settled(waiting)).resolves.toBeUndefined();
  });

  test('a holder that never releases loses the lock after ttlMs', async () => {
    useFakeClock(0);
    const [a, b] = twoTabs();
    await settled(a.lock('k', { ttlMs: 60, waitMs: 0 }));
    const taken = Date.now();
    await expect(settled(b.lock('k', { ttlMs: 1_000, waitMs: 5_000 }))).resolves.toBeDefined();
    expect(Date.now() - taken).toBeGreaterThanOrEqual(50);
    expect(Date.now() - taken).toBeLessThan(1_000);
  });
});

describe('BrowserTokenStore subscribe', () => {
  test('tells a tab the keys of entries its siblings write or remove, not its own, and stops when asked', async () => {
    const origin = createOrigin();
    const [one, two] = [origin.openTab(), origin.openTab()];
    const store = (tab: FakeTab): BrowserTokenStore => storeIn(tab, { storageEvents: tab.window as never });
    const [a, b] = [store(one), store(two)];
    const seen: string[] = [];
    const stop = a.subscribe((key) => seen.push(key));
    await b.set('k', token('t1', null));
    await a.set('mine', token('t0', null));
    await b.delete('k', 't1');
    two.storage.setItem('unrelated', 'x');
    // The storage lease settles on fake time: what the test is about is which keys are reported.
    useFakeClock(0);
    try {
      await settled(b.lock('k', lockOptions));
    } finally {
      jest.useRealTimers();
    }
    stop();
    await b.set('k', token('t2', null));
    expect(seen).toEqual(['k', 'k']);
  });
});

// Three tabs of one origin, each with its own axios instance, tokenflight handle and store, sharing
// the storage (and its events) and the Web Locks.
describe('tabs sharing a BrowserTokenStore, through attachTokenAuth', () => {
  const handles: TokenAuth[] = [];
  afterEach(() => handles.splice(0).forEach((auth) => auth.eject()));

  function openTabs(count: number) {
    const origin = createOrigin();
    const locks = createLockManager();
    const tokenClient = axios.create();
    const tokenMock = mockOf(tokenClient);
    let issued = 0;
    tokenMock.onPost(SYMBL_TOKEN_URL).reply(() => [200, { accessToken: `token-${++issued}`, expiresIn: 3600 }]);
    const events: TokenAuthEvent[] = [];
    const tabs = Array.from({ length: count }, (_, index) => {
      const tab = origin.openTab();
      const api = axios.create({ baseURL: SYMBL_URL });
      const apiMock = mockOf(api);
      const store = new BrowserTokenStore({ storage: tab.storage, locks, storageEvents: tab.window as never });
      const auth = attachTokenAuth(api, {
        providers: symbl(CREDS),
        store,
        tokenClient,
        onEvent: (event) => events.push({ ...event, provider: `tab-${index}` } as TokenAuthEvent),
      });
      handles.push(auth);
      return { api, apiMock, auth };
    });
    return { origin, tabs, events, tokenRequests: () => tokenMock.history.length };
  }

  test('make one token request between them, each tab sending the same token', async () => {
    const { tabs, tokenRequests } = openTabs(3);
    for (const tab of tabs) tab.apiMock.onGet('/v1/x').reply((config) => [200, { auth: authOf(config) }]);
    const answers = await Promise.all(tabs.flatMap((tab) => [tab.api.get('/v1/x'), tab.api.get('/v1/x')]));
    expect(tokenRequests()).toBe(1);
    expect(new Set(answers.map((answer) => (answer.data as { auth: string }).auth))).toEqual(
      new Set(['Bearer token-1']),
    );
  });

  test('a tab takes up the token a sibling fetched, without a request, from the storage event', async () => {
    const { tabs, events, tokenRequests } = openTabs(2);
    const [a, b] = tabs as [(typeof tabs)[0], (typeof tabs)[0]];
    await b.auth.token();
    await a.auth.token();
    expect(tokenRequests()).toBe(1);
    // Tab b learns the API rejected token-1 elsewhere and fetches token-2: tab a follows.
    await b.auth.invalidate();
    await expect(b.auth.token()).resolves.toMatchObject({ accessToken: 'token-2' });
    await until(() =>
      events.some((e) => e.provider === 'tab-0' && e.type === 'token-adopted' && e.reason === 'store-changed'),
    );
    await expect(a.auth.token()).resolves.toMatchObject({ accessToken: 'token-2' });
    expect(tokenRequests()).toBe(2);
  });

  test('a tab stops sending a token a sibling removed (rejected there): its next request waits for the new one', async () => {
    const { tabs, events, tokenRequests } = openTabs(2);
    const [a, b] = tabs as [(typeof tabs)[0], (typeof tabs)[0]];
    const sentByA: Array<string | undefined> = [];
    a.apiMock.onGet('/v1/x').reply((config) => {
      sentByA.push(authOf(config));
      return [200, {}];
    });
    await a.api.get('/v1/x');
    await b.auth.token();
    await b.auth.invalidate();
    await until(() =>
      events.some((e) => e.provider === 'tab-0' && e.type === 'token-invalidated' && e.reason === 'store-changed'),
    );
    await a.api.get('/v1/x');
    expect(sentByA).toEqual(['Bearer token-1', 'Bearer token-2']);
    expect(tokenRequests()).toBe(2);
  });
});

describe('what another script writes under the store’s names', () => {
  const handles: TokenAuth[] = [];
  afterEach(() => handles.splice(0).forEach((auth) => auth.eject()));

  test('a storm of 1,000 valid-looking entries written into a key, with a revocation in the middle, never reaches a request', async () => {
    const origin = createOrigin();
    const locks = createLockManager();
    const tokenClient = axios.create();
    const issuedTokens = issueSequentialTokens(mockOf(tokenClient));
    const revoked = new Set<string>();
    const answered401: string[] = [];
    const tabs = [origin.openTab(), origin.openTab()].map((tab) => {
      const api = axios.create({ baseURL: SYMBL_URL });
      mockOf(api)
        .onGet('/v1/x')
        .reply((config) => {
          const sent = authOf(config) ?? '';
          if (sent.startsWith('Bearer token-') && !revoked.has(sent)) return [200, {}];
          answered401.push(sent);
          return [401, {}];
        });
      const store = new BrowserTokenStore({ storage: tab.storage, locks, storageEvents: tab.window as never });
      handles.push(attachTokenAuth(api, { providers: symbl(CREDS), store, tokenClient }));
      return { api, tab };
    });
    const [a, b] = tabs as [(typeof tabs)[0], (typeof tabs)[0]];
    await a.api.get('/v1/x');
    await b.api.get('/v1/x');
    const [name = ''] = [...origin.entries.keys()].filter((key) => key.startsWith('tokenflight:token:'));
    const outcomes: Array<PromiseSettledResult<unknown>> = [];
    for (let index = 0; index < 1_000; index++) {
      // What another script writes (in tab b): a token as 0.2 wrote them, or one bound to another key.
      const forged = token(`forged-${index}`, Date.now() + 7_200_000, Date.now());
      b.tab.storage.setItem(
        name,
        JSON.stringify(index % 2 === 0 ? forged : { format: 'tokenflight/1', key: 'another-tenant', ...forged }),
      );
      if (index === 500) revoked.add('Bearer token-1');
      if (index % 20 === 19) {
        // Requests go on during the storm, and the tabs take in the storage events between them.
        outcomes.push(...(await Promise.allSettled([a.api.get('/v1/x'), b.api.get('/v1/x')])));
        await flush();
      }
    }
    expect(outcomes.filter((outcome) => outcome.status === 'rejected')).toEqual([]);
    // Each tab's one request with the revoked token, replayed with the one new token.
    expect(answered401).toEqual(['Bearer token-1', 'Bearer token-1']);
    expect(issuedTokens()).toBe(2);
  });

  test('junk written into the refresh entry is reported by the other tabs as it arrives, and a read of it presents no refresh token, not even the one the page was given', async () => {
    const origin = createOrigin();
    const locks = createLockManager();
    const tokenClient = axios.create();
    const server = mockAuthorizationServer(tokenClient);
    const open = (tab: FakeTab) => {
      const page = openSessionPage(tokenClient, { storage: tab.storage, locks, storageEvents: tab.window as never });
      handles.push(page.auth);
      return page;
    };
    const [one, two] = [origin.openTab(), origin.openTab()];
    const first = open(one);
    await first.api.get('/me');
    const [refreshName] = [...origin.entries.keys()].filter((key) => key.endsWith(':refresh'));
    two.storage.setItem(refreshName ?? '', 'junk written by another script');
    expect(first.storeEvents).toEqual([
      expect.objectContaining({ type: 'browser-entry-dropped', code: 'ERR_STORE_ENTRY_INVALID' }),
    ]);
    // The access token is dropped, and the page is reloaded with the refresh token it started with.
    await first.auth.invalidate();
    const reloaded = open(two);
    const error = await reloaded.api.get('/me').catch((caught: unknown) => caught);
    expect(isTokenRequestError(error) && error.code).toBe('ERR_TOKEN_STORE_UNAVAILABLE');
    expect(reloaded.events).toContainEqual(
      expect.objectContaining({
        type: 'store-failed',
        error: expect.objectContaining({ code: 'ERR_STORE_ENTRY_INVALID' }),
      }),
    );
    expect(server.stats).toEqual({ presented: ['rt-1'], reuseDetections: 0, revoked: false });
  });
});

// Chromium hands a Web Lock to the next tab with no ordering against localStorage: a write made
// under the lock can reach the next holder's storage after it was granted the lock.
describe('BrowserTokenStore lock hand-off between tabs whose storage lags', () => {
  // The 30 ms lag and the next holder's wait for it run on fake time.
  beforeEach(() => useFakeClock(0));
  afterEach(() => {
    jest.useRealTimers();
  });

  async function handOver(indexedDB: ReturnType<typeof createIndexedDB> | false): Promise<StoredToken | undefined> {
    const origin = createOrigin({ propagationMs: 30 });
    const locks = createLockManager();
    const [a, b] = [origin.openTab(), origin.openTab()].map(
      (tab) => new BrowserTokenStore({ storage: tab.storage, locks, storageEvents: false, indexedDB }),
    ) as [BrowserTokenStore, BrowserTokenStore];
    const held = await a.lock('k', lockOptions);
    const waiting = b.lock('k', lockOptions);
    await a.set('k', token('fetched-under-the-lock', null));
    await held?.release();
    const lock = await waiting;
    const seen = await b.get('k');
    await lock?.release();
    return seen;
  }

  test('the next holder waits until the previous holder’s writes have reached its storage', async () => {
    await expect(settled(handOver(createIndexedDB()))).resolves.toMatchObject({
      accessToken: 'fetched-under-the-lock',
    });
  });

  test('without the IndexedDB count, it reads what its storage held before them', async () => {
    await expect(settled(handOver(false))).resolves.toBeUndefined();
  });
});

describe('what a tab does when a sibling changed its entry', () => {
  const held = (current: StoredToken | undefined, rejectedToken?: string) => ({ current, rejectedToken });
  const never = (): boolean => false;

  test.each([
    ['the entry is gone while it holds a token: drops it', undefined, held(token('t1', 2_000)), 'drop'],
    ['the entry is gone and it holds none: nothing', undefined, held(undefined), 'ignore'],
    ['a newer token: takes it up', token('t2', 3_000), held(token('t1', 2_000)), 'adopt'],
    ['a token while it holds none: takes it up', token('t2', 3_000), held(undefined), 'adopt'],
    ['the token it holds: nothing', token('t1', 2_000), held(token('t1', 2_000)), 'ignore'],
    // Its own refresh ahead of time reads the store first, and takes the longer life up then.
    ['the token it holds, with a later expiry: nothing', token('t1', 5_000), held(token('t1', 2_000)), 'ignore'],
    ['an older token: nothing', token('t0', 1_000), held(token('t1', 2_000)), 'ignore'],
    ['the token the API rejected: nothing', token('t0', 9_000), held(undefined, 't0'), 'ignore'],
  ] as const)('%s', (_, found, state, reaction) => {
    expect(reactionTo(found, state, never)).toBe(reaction);
  });

  test('an expired token: nothing', () => {
    expect(reactionTo(token('t2', 3_000), held(undefined), () => true)).toBe('ignore');
  });
});
