/** What the store needs of `indexedDB`. */
export interface BrowserIndexedDB {
  /** Opens (or creates) the database `name`: an `IDBOpenDBRequest`. */
  open(name: string, version?: number): unknown;
}

/**
 * A prefix must end with one of these, so that `myapp:` never covers `myapplication…`: the store
 * reads and writes only its own names under it, and removes only entries it can prove it wrote.
 */
export const PREFIX_SEPARATORS = ':/._-|';

/** Every default of {@link BrowserTokenStore}, in one place. Tests and docs import these rather than repeating numbers. */
export const BROWSER_STORE_DEFAULTS = {
  /** Put before every storage key: `{prefix}token:{hash}`, and `{prefix}lock:{hash}` for the lease fallback. */
  prefix: 'tokenflight:',
  /** Expired entries the store wrote under the prefix, and its ended leases, are swept by the first write after this long. */
  sweepIntervalMs: 60_000,
  /** Without Web Locks: while another tab holds the lease, look again about this often (with ±50% jitter). */
  lockPollMs: 50,
  /**
   * Without Web Locks: after writing its lease, a tab waits this long and reads it back; it holds
   * the lock only if the lease still names it. Longer is safer against a sibling's late write.
   */
  leaseSettleMs: 50,
  /**
   * A tab granted the lock waits at most this long for the writes the previous holder made under
   * it to reach its storage (see `indexedDB`).
   */
  handoffWaitMs: 1_000,
  /**
   * A `sessionStorage` store that finds its tab's id held by a live page (another tab, or a frame
   * of this one) asks that page, over a BroadcastChannel, whether they share the storage; it waits
   * this long for the answer. Without one, it takes itself for a duplicated tab (with Web Locks),
   * or for the tab's only page (without them).
   */
  tabCheckMs: 250,
} as const;

// The browser APIs the store uses, declared by what it needs of them, so that these declarations
// compile without the DOM library.

/** What the store needs of a Web Storage object (`localStorage`, `sessionStorage`). */
export interface BrowserStorage {
  /** How many keys it holds. */
  readonly length: number;
  /** The name of the key at `index`, or `null`. */
  key(index: number): string | null;
  /** The value under `key`, or `null`. */
  getItem(key: string): string | null;
  /** Stores `value` under `key`; throws when the storage is full. */
  setItem(key: string, value: string): void;
  /** Removes `key`. */
  removeItem(key: string): void;
}

/** What the store needs of the Web Locks API (`navigator.locks`). */
export interface BrowserLockManager {
  /** Runs `callback` once the lock `name` is granted, and holds it until the callback's promise settles. */
  request(
    name: string,
    options: { signal?: AbortSignal; ifAvailable?: boolean },
    callback: (lock: unknown) => Promise<unknown>,
  ): Promise<unknown>;
}

/** What the store needs of a `BroadcastChannel`. */
export interface BrowserChannel {
  /** Sends `message` to every other channel of this name in the origin. */
  postMessage(message: unknown): void;
  /** Starts calling `listener` with each message. */
  addEventListener(type: 'message', listener: (event: { readonly data: unknown }) => void): void;
  /** Stops calling `listener`. */
  removeEventListener(type: 'message', listener: (event: { readonly data: unknown }) => void): void;
  /** Closes the channel. */
  close(): void;
}

/** Where `pagehide` arrives: the page's `window` by default. */
export interface PageEventSource {
  /** Starts calling `listener` when the page is hidden for good or for the back-forward cache. */
  addEventListener(type: 'pagehide', listener: () => void): void;
}

/** What the store reads of a `storage` event. */
export interface BrowserStorageEvent {
  /** The key that changed, or `null` when the storage was cleared. */
  readonly key: string | null;
  /** The storage that changed. */
  readonly storageArea: unknown;
}

/** Where `storage` events arrive: the page's `window` by default. */
export interface StorageEventSource {
  /** Starts calling `listener` with each `storage` event. */
  addEventListener(type: 'storage', listener: (event: BrowserStorageEvent) => void): void;
  /** Stops calling `listener`. */
  removeEventListener(type: 'storage', listener: (event: BrowserStorageEvent) => void): void;
}

/**
 * An entry under one of the store's names was not one it wrote for that key (tampered, foreign,
 * corrupted, copied from another key, or copied from another tab): it is never returned, and stays
 * where it is until a write replaces it (the store removes only entries it can prove it wrote).
 * Reported when a read finds it (which then rejects with a `TokenflightError` of this `code`), and
 * as soon as a `storage` event brings it from another tab.
 */
export interface BrowserEntryDroppedEvent {
  type: 'browser-entry-dropped';
  /** The store key (a hash; see `TokenStore`), without the prefix. */
  key: string;
  /** What was wrong with it, in words that never quote it. */
  reason: string;
  /**
   * `ERR_STORE_TAB_DUPLICATED` when it was copied from another tab that is still open (a
   * duplicated tab), else `ERR_STORE_ENTRY_INVALID`.
   */
  code: 'ERR_STORE_ENTRY_INVALID' | 'ERR_STORE_TAB_DUPLICATED';
}

/**
 * This page started with a copy of another live tab's `sessionStorage` (the browser's "Duplicate
 * tab", or `window.open`): it took a new tab id, and the tokens it copied (a refresh token among
 * them) are never used here, so that the two tabs never present one refresh token twice. Reads of
 * them reject with `ERR_STORE_TAB_DUPLICATED` until this tab signs in (`auth.resumeSession`).
 */
export interface BrowserTabDuplicatedEvent {
  type: 'browser-tab-duplicated';
  /** How many of the store's entries were copied from the other tab (now refused). */
  copiedEntries: number;
}

/**
 * The record under a DPoP key pair's id in IndexedDB was not a key pair this store keeps (another
 * script's value, a record of another version, keys that are extractable or do not belong
 * together): it was replaced by a new pair (a new key, hence a new token). Never thrown.
 */
export interface BrowserKeyReplacedEvent {
  type: 'browser-key-replaced';
  /** The key pair's id (a provider's identity, never a credential). */
  id: string;
  /** What was wrong with the record, in words that never quote it. */
  reason: string;
  code: 'ERR_STORE_KEY_INVALID';
}

/**
 * IndexedDB is missing here, or failed (private browsing, blocked, quota, a step that hung): this
 * page keeps its DPoP key pairs in memory from now on. Requests go on; other tabs do not share this
 * page's key (each has a token of its own) and a reload makes a new one. Reported once per store.
 */
export interface BrowserKeyInMemoryEvent {
  type: 'browser-key-in-memory';
  /** What failed, in words. */
  reason: string;
  code: 'ERR_STORE_KEY_UNAVAILABLE';
}

/** What a {@link BrowserTokenStore} reports through its `onEvent`. No event holds a token or a key. */
export type BrowserTokenStoreEvent =
  BrowserEntryDroppedEvent | BrowserTabDuplicatedEvent | BrowserKeyReplacedEvent | BrowserKeyInMemoryEvent;

/** Options of {@link BrowserTokenStore}. */
export interface BrowserTokenStoreOptions {
  /**
   * Where entries live: `localStorage` (shared by every tab of the origin, kept across restarts)
   * or `sessionStorage` (one tab, and the tabs it opens, until it closes). @default localStorage
   */
  storage?: BrowserStorage;
  /**
   * Put before every storage key, to keep apps of one origin apart. It must hold a letter or digit
   * and end with a separator (one of `: / . _ - |`), e.g. `'myapp:'`; anything else throws at
   * construction. @default 'tokenflight:'
   */
  prefix?: string;
  /**
   * Who shares `storage`: every tab of the origin (`'origin'`, as `localStorage` is) or one tab
   * (`'tab'`, as `sessionStorage` is). A `'tab'` store keeps a random id for its tab in the storage,
   * names its Web Lock with it (tabs that do not share a storage never wait for each other), and
   * detects a tab that started with a copy of another live tab's storage (see
   * {@link BrowserTabDuplicatedEvent}). @default 'tab' when `storage` is `sessionStorage`, else 'origin'
   */
  sharedBy?: 'origin' | 'tab';
  /**
   * The Web Locks API that serialises token requests across tabs. `false` uses the lease fallback
   * even where Web Locks exist. @default navigator.locks (the lease fallback where it is missing)
   */
  locks?: BrowserLockManager | false;
  /**
   * Where the `storage` events of other tabs arrive, so this tab takes up a sibling's new token
   * without asking, and drops a token a sibling saw rejected. `false` listens to nothing (a tab
   * then learns of a sibling's token when it next needs one). @default window
   */
  storageEvents?: StorageEventSource | false;
  /**
   * Where each holder of the lock counts its hand-off, so that the next holder waits until the
   * writes made under the lock have reached its storage: browsers hand a Web Lock to another tab
   * with no ordering against localStorage, whose writes reach other tabs a moment later. `false`
   * skips the count (then a tab granted the lock may read what the storage held before the last
   * holder's writes, and fetch again, presenting a used refresh token). It also keeps the DPoP key
   * pairs of `keyPair` (`false`: they are kept in the page's memory, see
   * {@link BrowserKeyInMemoryEvent}). @default indexedDB
   */
  indexedDB?: BrowserIndexedDB | false;
  /** How long a tab granted the lock waits for the previous holder's writes to reach it. @default 1_000 */
  handoffWaitMs?: number;
  /** Expired entries the store wrote, and its ended leases, are swept by the first write after this long. @default 60_000 */
  sweepIntervalMs?: number;
  /** Lease fallback: how often a waiting tab looks at the lease again. @default 50 */
  lockPollMs?: number;
  /** Lease fallback: how long a tab waits before reading its lease back. @default 50 */
  leaseSettleMs?: number;
  /**
   * How a `'tab'` store asks whether a live page holding its tab id shares its storage (see
   * `tabCheckMs`). `false`: it never asks. @default `(name) => new BroadcastChannel(name)`
   */
  broadcastChannel?: ((name: string) => BrowserChannel) | false;
  /** How long a `'tab'` store waits for that answer. @default 250 */
  tabCheckMs?: number;
  /**
   * Where `pagehide` arrives. In the lease fallback, a page that is closed or navigated away
   * releases the leases it holds then, so that another tab takes over at once instead of after
   * the lease's time to live. `false` listens to nothing. @default window
   */
  pageEvents?: PageEventSource | false;
  /** Receives {@link BrowserTokenStoreEvent}s. It must not throw; if it does, the error is ignored. */
  onEvent?: (event: BrowserTokenStoreEvent) => void;
  /** The clock, in epoch ms. @default Date.now */
  now?: () => number;
}
