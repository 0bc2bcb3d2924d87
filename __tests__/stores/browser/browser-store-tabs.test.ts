import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals';
import axios from 'axios';
import { isTokenRequestError, type StoredToken, type TokenAuth } from '../../../lib/index.js';
import { BrowserTokenStore, type BrowserChannel, type BrowserTokenStoreOptions } from '../../../lib/browser.js';
import {
  createChannels,
  createIndexedDB,
  createLockManager,
  createOrigin,
  createTabStorage,
  type FakeLockManager,
  type FakeTabStorage,
} from '../../browser/helpers/fakes.js';
import { mockAuthorizationServer, openSessionPage, type SessionPage } from '../../browser/helpers/sessions.js';
import { settled as settledOnFakeTime, useFakeClock } from '../../helpers/index.js';

// BrowserTokenStore where tabs do not share a storage (sessionStorage): each tab's own lock and no
// hand-off between tabs; a tab that starts with a copy of another live tab's storage (the
// browser's "Duplicate tab", window.open) never presents the refresh token it copied; and, in the
// lease fallback, a page that goes away releases its leases on pagehide.

const token = (accessToken: string, expiresAt: number | null = null): StoredToken => ({
  accessToken,
  tokenType: 'Bearer',
  expiresAt,
  obtainedAt: Date.now(),
});
const lockOptions = { ttlMs: 60_000, waitMs: 10_000 };
const TAB_ID_KEY = 'tokenflight:tab';

/** Sets globals (sessionStorage, BroadcastChannel, a window's listeners) for one test, as a page has them. */
function useGlobals(): (values: Record<string, unknown>) => void {
  const saved = new Map<string, PropertyDescriptor | undefined>();
  afterEach(() => {
    for (const [name, descriptor] of saved) {
      if (descriptor === undefined) Reflect.deleteProperty(globalThis, name);
      else Object.defineProperty(globalThis, name, descriptor);
    }
    saved.clear();
  });
  return (values) => {
    for (const [name, value] of Object.entries(values)) {
      if (!saved.has(name)) saved.set(name, Object.getOwnPropertyDescriptor(globalThis, name));
      Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
    }
  };
}

/** A page of the origin: its view of the origin's Web Locks and BroadcastChannels. */
interface FakePage {
  locks: FakeLockManager & { close(): void };
  channels: ReturnType<ReturnType<typeof createChannels>['page']>;
}

/** One origin's Web Locks and BroadcastChannels, and its pages. */
function createBrowser() {
  const locks = createLockManager();
  const channels = createChannels();
  return {
    locks,
    page: (): FakePage => ({ locks: locks.page(), channels: channels.page() }),
  };
}

/** A sessionStorage store of `tab` in `page`. */
function tabStore(
  tab: FakeTabStorage,
  page: FakePage,
  options: BrowserTokenStoreOptions = {},
): BrowserTokenStore & { seen: unknown[] } {
  const seen: unknown[] = [];
  const store = new BrowserTokenStore({
    storage: tab.storage,
    sharedBy: 'tab',
    locks: page.locks,
    broadcastChannel: page.channels.open,
    storageEvents: false,
    pageEvents: false,
    onEvent: (event) => seen.push(event),
    ...options,
  });
  return Object.assign(store, { seen });
}

/** Settles `promise` under fake timers, throwing what it rejected with. */
const settled = <T>(promise: Promise<T>): Promise<T> => settledOnFakeTime(promise, { stepMs: 5, maxMs: 30_000 });

beforeEach(() => {
  useFakeClock();
});
afterEach(() => {
  jest.useRealTimers();
});

describe('sessionStorage tabs that do not share a storage', () => {
  const setGlobals = useGlobals();

  /** Two tabs, each with its own sessionStorage, made as a page would make them (no `sharedBy` given). */
  function twoSessionTabs(options: BrowserTokenStoreOptions = {}): [BrowserTokenStore, BrowserTokenStore] {
    const browser = createBrowser();
    return [0, 1].map(() => {
      const page = browser.page();
      const { storage } = createTabStorage();
      setGlobals({ sessionStorage: storage, BroadcastChannel: makeChannelClass(page) });
      return new BrowserTokenStore({ storage, locks: page.locks, storageEvents: false, ...options });
    }) as [BrowserTokenStore, BrowserTokenStore];
  }
  const makeChannelClass = (page: FakePage): unknown =>
    function FakeBroadcastChannel(name: string) {
      return page.channels.open(name);
    };

  test('do not wait for each other’s lock: one tab holding its lock never blocks the other', async () => {
    const [a, b] = twoSessionTabs();
    const held = await settled(a.lock('k', lockOptions));
    expect(held).toBeDefined();
    await expect(settled(b.lock('k', { ...lockOptions, waitMs: 0 }))).resolves.toBeDefined();
  });

  test('do not wait for each other’s hand-off: a tab takes its lock at once after another tab released its own', async () => {
    const [a, b] = twoSessionTabs({ indexedDB: createIndexedDB(), handoffWaitMs: 5_000 });
    const held = await settled(a.lock('k', lockOptions));
    await settled(a.set('k', token('a-token')));
    await settled(held!.release());
    const startedAt = Date.now();
    const second = await settled(b.lock('k', lockOptions));
    expect(second).toBeDefined();
    // Fake time: what the lock waited for, not how fast the machine is.
    expect(Date.now() - startedAt).toBeLessThan(1_000);
  });

  test('`sharedBy` may not contradict the page’s own storages', () => {
    const [local, session] = [createTabStorage().storage, createTabStorage().storage];
    setGlobals({ localStorage: local, sessionStorage: session });
    expect(() => new BrowserTokenStore({ storage: local, sharedBy: 'tab' })).toThrow(
      "expected `sharedBy` to be 'origin' for localStorage, got 'tab'",
    );
    expect(() => new BrowserTokenStore({ storage: session, sharedBy: 'origin' })).toThrow(
      "expected `sharedBy` to be 'tab' for sessionStorage, got 'origin'",
    );
    expect(
      () =>
        new BrowserTokenStore({
          storage: createTabStorage().storage,
          sharedBy: 'tab',
          locks: false,
          broadcastChannel: false,
        }),
    ).not.toThrow();
  });

  test('two stores of one tab share its id, and so its lock', async () => {
    const browser = createBrowser();
    const page = browser.page();
    const tab = createTabStorage();
    const [a, b] = [tabStore(tab, page), tabStore(tab, page)];
    const held = await settled(a.lock('k', lockOptions));
    await expect(settled(b.lock('k', { ...lockOptions, waitMs: 0 }))).resolves.toBeUndefined();
    await settled(held!.release());
    await expect(settled(b.lock('k', { ...lockOptions, waitMs: 0 }))).resolves.toBeDefined();
    expect([a.seen, b.seen]).toEqual([[], []]);
  });
});

describe('a tab that starts with a copy of another live tab’s sessionStorage', () => {
  /** A signed-in tab with an access token and a refresh entry, in `page`. */
  async function signedInTab(browser: ReturnType<typeof createBrowser>) {
    const page = browser.page();
    const tab = createTabStorage();
    const store = tabStore(tab, page);
    await settled(store.set('k', token('access-1', Date.now() + 3_600_000)));
    await settled(store.set('k:refresh', token('cmVmcmVzaC0x', null)));
    return { page, tab, store };
  }

  test('takes a new tab id, refuses every entry it copied with ERR_STORE_TAB_DUPLICATED, and says so once', async () => {
    const browser = createBrowser();
    const original = await signedInTab(browser);
    const copy = original.tab.copy();
    const duplicate = tabStore(copy, browser.page());
    for (const key of ['k', 'k:refresh']) {
      const error = await settled(duplicate.get(key)).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ name: 'TokenflightError', code: 'ERR_STORE_TAB_DUPLICATED' });
      expect(String(error)).toContain('copied from another tab that is still open');
    }
    expect(duplicate.seen[0]).toEqual({ type: 'browser-tab-duplicated', copiedEntries: 2 });
    expect(
      duplicate.seen.filter((event) => (event as { type: string }).type === 'browser-tab-duplicated'),
    ).toHaveLength(1);
    expect(copy.entries.get(TAB_ID_KEY)).not.toBe(original.tab.entries.get(TAB_ID_KEY));
    // The original is untouched, and a reload of the copy still refuses what it copied.
    await expect(settled(original.store.get('k'))).resolves.toMatchObject({ accessToken: 'access-1' });
    expect(original.store.seen).toEqual([]);
    await expect(settled(tabStore(copy, browser.page()).get('k:refresh'))).rejects.toMatchObject({
      code: 'ERR_STORE_TAB_DUPLICATED',
    });
  });

  test('with Web Locks, a copy of a tab whose page does not answer (frozen) is taken for a copy all the same', async () => {
    const browser = createBrowser();
    const original = await signedInTab(browser);
    original.page.channels.freeze();
    const copy = original.tab.copy();
    const duplicate = tabStore(copy, browser.page());
    await expect(settled(duplicate.get('k:refresh'))).rejects.toMatchObject({ code: 'ERR_STORE_TAB_DUPLICATED' });
    // Unsure whether that page shares its storage, it keeps its new id in memory and leaves the storage's alone.
    expect(copy.entries.get(TAB_ID_KEY)).toBe(original.tab.entries.get(TAB_ID_KEY));
    await settled(duplicate.set('mine', token('copy-token')));
    await expect(settled(duplicate.get('mine'))).resolves.toMatchObject({ accessToken: 'copy-token' });
  });

  test('a copy whose original has closed carries on its session, and so does a reload', async () => {
    const browser = createBrowser();
    const original = await signedInTab(browser);
    const copy = original.tab.copy();
    original.page.locks.close();
    const carriedOn = tabStore(copy, browser.page());
    await expect(settled(carriedOn.get('k:refresh'))).resolves.toMatchObject({ accessToken: 'cmVmcmVzaC0x' });
    expect(copy.entries.get(TAB_ID_KEY)).toBe(original.tab.entries.get(TAB_ID_KEY));
    expect(carriedOn.seen).toEqual([]);
  });

  test('a same-origin frame of the tab, which shares its storage, is no copy: it shares the tab’s id and entries', async () => {
    const browser = createBrowser();
    const top = await signedInTab(browser);
    const frame = tabStore(top.tab, browser.page());
    await expect(settled(frame.get('k'))).resolves.toMatchObject({ accessToken: 'access-1' });
    expect(frame.seen).toEqual([]);
    // And a copy of that tab (top and frame both live) is still a copy.
    const duplicate = tabStore(top.tab.copy(), browser.page());
    await expect(settled(duplicate.get('k'))).rejects.toMatchObject({ code: 'ERR_STORE_TAB_DUPLICATED' });
    await expect(settled(top.store.get('k'))).resolves.toMatchObject({ accessToken: 'access-1' });
  });

  test('without Web Locks, the original’s answer tells a copy apart, and with no answer (a reload) the id is kept', async () => {
    const browser = createBrowser();
    const page = browser.page();
    const tab = createTabStorage();
    const original = tabStore(tab, page, { locks: false });
    await settled(original.set('k', token('access-1')));
    const duplicate = tabStore(tab.copy(), browser.page(), { locks: false });
    await expect(settled(duplicate.get('k'))).rejects.toMatchObject({ code: 'ERR_STORE_TAB_DUPLICATED' });
    // The original's page is gone (its channels with it): a reload of it keeps its id and entries.
    page.channels.freeze();
    const reloaded = tabStore(tab, browser.page(), { locks: false });
    await expect(settled(reloaded.get('k'))).resolves.toMatchObject({ accessToken: 'access-1' });
  });

  test('copies of a copy, and two stores of one copy, end with one new id between them', async () => {
    const browser = createBrowser();
    const original = await signedInTab(browser);
    const copy = original.tab.copy();
    const page = browser.page();
    const [first, second] = [tabStore(copy, page), tabStore(copy, page)];
    await settled(Promise.all([first.get('k').catch(() => undefined), second.get('k').catch(() => undefined)]));
    await settled(first.set('mine', token('copy-token')));
    await expect(settled(second.get('mine'))).resolves.toMatchObject({ accessToken: 'copy-token' });
    const held = await settled(first.lock('mine', lockOptions));
    await expect(settled(second.lock('mine', { ...lockOptions, waitMs: 0 }))).resolves.toBeUndefined();
    await settled(held!.release());
  });

  test('a lock manager that never answers cannot hang the store: past the check’s deadline it goes on with an id of its own, refusing what it cannot tell is its own', async () => {
    const browser = createBrowser();
    const original = await signedInTab(browser);
    const silent: BrowserTokenStoreOptions['locks'] = { request: () => new Promise(() => undefined) };
    const store = tabStore(original.tab.copy(), browser.page(), { locks: silent });
    const read = store.get('k');
    await jest.advanceTimersByTimeAsync(4_900);
    expect(store.seen).toEqual([]);
    await expect(settled(read)).rejects.toMatchObject({ code: 'ERR_STORE_TAB_DUPLICATED' });
    await settled(store.set('mine', token('t1')));
    await expect(settled(store.get('mine'))).resolves.toMatchObject({ accessToken: 't1' });
  });

  test('a BroadcastChannel that throws, or cannot be made, neither breaks nor hangs the store: what it cannot tell is its own is refused', async () => {
    const browser = createBrowser();
    const broken = (): BrowserChannel => ({
      postMessage: () => {
        throw new Error('DataCloneError');
      },
      addEventListener: () => undefined,
      removeEventListener: () => undefined,
      close: () => undefined,
    });
    const original = await signedInTab(browser);
    // A frame of the tab whose channel cannot send answers.
    const mute = browser.page();
    const frame = tabStore(original.tab, mute, {
      broadcastChannel: (name) => {
        const channel = mute.channels.open(name);
        return Object.assign(Object.create(channel) as BrowserChannel, {
          postMessage: (message: { kind?: string }) => {
            if (message.kind === 'tokenflight-tab-answer') throw new Error('DataCloneError');
            channel.postMessage(message);
          },
        });
      },
    });
    await expect(settled(frame.get('k'))).resolves.toMatchObject({ accessToken: 'access-1' });
    const copy = tabStore(original.tab.copy(), browser.page());
    await expect(settled(copy.get('k'))).rejects.toMatchObject({ code: 'ERR_STORE_TAB_DUPLICATED' });
    const throwing = tabStore(original.tab.copy(), browser.page(), { broadcastChannel: broken });
    await expect(settled(throwing.get('k'))).rejects.toMatchObject({ code: 'ERR_STORE_TAB_DUPLICATED' });
    const unmakeable = tabStore(original.tab.copy(), browser.page(), {
      broadcastChannel: () => {
        throw new Error('no channels here');
      },
    });
    await expect(settled(unmakeable.get('k'))).rejects.toMatchObject({ code: 'ERR_STORE_TAB_DUPLICATED' });
    await expect(settled(original.store.get('k'))).resolves.toMatchObject({ accessToken: 'access-1' });
  });

  test('a tab id that is not one the store made is replaced, and a stranger’s message on the channel is ignored', async () => {
    const browser = createBrowser();
    const page = browser.page();
    const tab = createTabStorage();
    tab.entries.set(TAB_ID_KEY, 'not an id');
    const stranger = page.channels.open('tokenflight:tabs');
    stranger.postMessage({ kind: 'tokenflight-tab-answer', nonce: 'x', same: 'yes' });
    const store = tabStore(tab, page);
    await settled(store.set('k', token('t1')));
    expect(tab.entries.get(TAB_ID_KEY)).toMatch(/^[0-9a-z]{32}$/);
    await expect(settled(store.get('k'))).resolves.toMatchObject({ accessToken: 't1' });
  });
});

describe('a duplicated tab signed in with a rotating refresh token', () => {
  const pages: TokenAuth[] = [];
  afterEach(() => pages.splice(0).forEach((auth) => auth.eject()));

  function open(tab: FakeTabStorage, page: FakePage, tokenClient: ReturnType<typeof axios.create>): SessionPage {
    const opened = openSessionPage(tokenClient, {
      storage: tab.storage,
      sharedBy: 'tab',
      locks: page.locks,
      broadcastChannel: page.channels.open,
    });
    pages.push(opened.auth);
    return opened;
  }

  test('never presents the refresh token it copied: a typed error, the original rotates on, no reuse; after signing in it has a session of its own', async () => {
    const browser = createBrowser();
    const tokenClient = axios.create();
    const server = mockAuthorizationServer(tokenClient);
    const tab = createTabStorage();
    const original = open(tab, browser.page(), tokenClient);
    await expect(settled(original.api.get('/me'))).resolves.toMatchObject({ status: 200 });
    // The user duplicates the tab: the copy's app passes the refresh token it has, as the original's did.
    const duplicate = open(tab.copy(), browser.page(), tokenClient);
    const error = await settled(duplicate.api.get('/me')).catch((caught: unknown) => caught);
    expect(isTokenRequestError(error) && error.code).toBe('ERR_TOKEN_STORE_UNAVAILABLE');
    expect(duplicate.storeEvents).toContainEqual({ type: 'browser-tab-duplicated', copiedEntries: 2 });
    expect(duplicate.events).toContainEqual(
      expect.objectContaining({
        type: 'store-failed',
        error: expect.objectContaining({ code: 'ERR_STORE_TAB_DUPLICATED' }),
      }),
    );
    await settled(original.auth.invalidate());
    await expect(settled(original.api.get('/me'))).resolves.toMatchObject({ status: 200 });
    expect(server.stats).toEqual({ presented: ['rt-1', 'rt-2'], reuseDetections: 0, revoked: false });

    server.issue('rt-signed-in-again');
    await settled(duplicate.auth.resumeSession('rt-signed-in-again'));
    await expect(settled(duplicate.api.get('/me'))).resolves.toMatchObject({ status: 200 });
    await settled(original.auth.invalidate());
    await expect(settled(original.api.get('/me'))).resolves.toMatchObject({ status: 200 });
    expect(server.stats).toEqual({
      presented: ['rt-1', 'rt-2', 'rt-signed-in-again', 'rt-3'],
      reuseDetections: 0,
      revoked: false,
    });
  });
});

describe('the lease fallback when a page goes away', () => {
  const setGlobals = useGlobals();

  test('a page hidden for good releases the leases it holds: a waiting tab takes over at its next look', async () => {
    const origin = createOrigin();
    const pageA = new EventTarget();
    const [one, two] = [origin.openTab(), origin.openTab()];
    setGlobals({
      addEventListener: pageA.addEventListener.bind(pageA),
      removeEventListener: pageA.removeEventListener.bind(pageA),
    });
    const a = new BrowserTokenStore({ storage: one.storage, locks: false, storageEvents: false });
    const b = new BrowserTokenStore({ storage: two.storage, locks: false, storageEvents: false, pageEvents: false });
    expect(await settled(a.lock('k', lockOptions))).toBeDefined();
    let second: unknown;
    void b.lock('k', lockOptions).then((lock) => (second = lock));
    await jest.advanceTimersByTimeAsync(500);
    expect(second).toBeUndefined();
    pageA.dispatchEvent(new Event('pagehide'));
    await jest.advanceTimersByTimeAsync(200);
    expect(second).toBeDefined();
  });

  test('the old holder’s pagehide leaves alone a lease another tab has taken since', async () => {
    const origin = createOrigin();
    const pageA = new EventTarget();
    const [one, two] = [origin.openTab(), origin.openTab()];
    const a = new BrowserTokenStore({ storage: one.storage, locks: false, storageEvents: false, pageEvents: pageA });
    const b = new BrowserTokenStore({ storage: two.storage, locks: false, storageEvents: false, pageEvents: false });
    await settled(a.lock('k', { ttlMs: 100, waitMs: 0 }));
    await jest.advanceTimersByTimeAsync(200);
    expect(await settled(b.lock('k', lockOptions))).toBeDefined();
    pageA.dispatchEvent(new Event('pagehide'));
    expect(await settled(a.lock('k', { ...lockOptions, waitMs: 300 }))).toBeUndefined();
  });
});
