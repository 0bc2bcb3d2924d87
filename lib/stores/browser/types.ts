import type { BrowserIndexedDB } from './handoff.js';

export type { BrowserIndexedDB } from './handoff.js';

/** Every default of {@link BrowserTokenStore}, in one place. Tests and docs import these rather than repeating numbers. */
export const BROWSER_STORE_DEFAULTS = {
  /** Put before every storage key: `{prefix}token:{hash}`, and `{prefix}lock:{hash}` for the lease fallback. */
  prefix: 'tokenflight:',
  /** Expired and unreadable entries under the prefix are swept by the first write after this long. */
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
    options: { signal?: AbortSignal },
    callback: (lock: unknown) => Promise<unknown>,
  ): Promise<unknown>;
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

/** What a {@link BrowserTokenStore} reports through its `onEvent`. No event holds a token. */
export interface BrowserTokenStoreEvent {
  /** An entry under the prefix was not a token tokenflight wrote (tampered, foreign, corrupted): it was removed, never sent. */
  type: 'browser-entry-dropped';
  /** The store key (a hash; see `TokenStore`), without the prefix. */
  key: string;
  /** What was wrong with it, in words that never quote it. */
  reason: string;
}

/** Options of {@link BrowserTokenStore}. */
export interface BrowserTokenStoreOptions {
  /**
   * Where entries live: `localStorage` (shared by every tab of the origin, kept across restarts)
   * or `sessionStorage` (one tab, and the tabs it opens, until it closes). @default localStorage
   */
  storage?: BrowserStorage;
  /** Put before every storage key, to keep apps of one origin apart. @default 'tokenflight:' */
  prefix?: string;
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
   * holder's writes, and fetch again, presenting a used refresh token). @default indexedDB
   */
  indexedDB?: BrowserIndexedDB | false;
  /** How long a tab granted the lock waits for the previous holder's writes to reach it. @default 1_000 */
  handoffWaitMs?: number;
  /** Expired and unreadable entries are swept by the first write after this long. @default 60_000 */
  sweepIntervalMs?: number;
  /** Lease fallback: how often a waiting tab looks at the lease again. @default 50 */
  lockPollMs?: number;
  /** Lease fallback: how long a tab waits before reading its lease back. @default 50 */
  leaseSettleMs?: number;
  /** Receives {@link BrowserTokenStoreEvent}s. It must not throw; if it does, the error is ignored. */
  onEvent?: (event: BrowserTokenStoreEvent) => void;
  /** The clock, in epoch ms. @default Date.now */
  now?: () => number;
}
