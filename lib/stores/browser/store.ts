// The browser store in parts: its options (options.ts), the entry codec (entry.ts), the Web Locks
// lock (web-lock.ts), the lease fallback (lease-lock.ts), and this file, which puts them together.
// lib/browser.ts is the public entry (`tokenflight/browser`).
import {
  isNewerToken,
  type StoredToken,
  type TokenStore,
  type TokenStoreLock,
  type TokenStoreLockOptions,
} from '../../store.js';
import { decodeEntry, encodeEntry, hasExpired } from './entry.js';
import { createHandoff, withHandoff, type Handoff } from './handoff.js';
import { isLeaseOver, takeLeaseLock } from './lease-lock.js';
import { readBrowserStoreOptions, type BrowserStoreSettings } from './options.js';
import type { BrowserStorageEvent, BrowserTokenStoreOptions } from './types.js';
import { takeWebLock } from './web-lock.js';

/**
 * A token store on `localStorage` (or `sessionStorage`), shared by the tabs of one origin: one
 * token and one token request per rotation for all of them, and with `refreshTokenGrant()` one use
 * of the rotating refresh token per rotation, instead of one per tab.
 *
 * - Entries are JSON under `{prefix}token:{hash}`; the hash (made by tokenflight from provider,
 *   endpoint and credentials) never reveals a credential. Every entry read passes the checks a
 *   token response passes: anything else under the prefix is removed, never sent (and reported
 *   through `onEvent`). Expired entries are removed when read, and by a sweep of the prefix on the
 *   first write each `sweepIntervalMs`.
 * - `lock` uses the Web Locks API (`navigator.locks`): the tab that holds it asks for the token,
 *   the others wait and take it from the storage. The browser frees a lock when its tab closes;
 *   a timer frees it after `ttlMs`. Where Web Locks are missing (a page that is not a secure
 *   context, an old browser), a lease in the storage stands in for it: best-effort (see the guide,
 *   docs/browser.md). localStorage reaches other tabs a moment after a write, with no ordering
 *   against the lock, so each holder counts its hand-off in IndexedDB and the next holder waits
 *   (up to `handoffWaitMs`) until the previous holder's writes have reached it.
 * - `subscribe` listens to `storage` events: a tab takes up a token a sibling just wrote without
 *   asking, and drops a token a sibling saw rejected.
 *
 * Any script running on the origin can read `localStorage`: keep to tokens a browser may hold
 * (never an app secret), and see the guide for what that means under XSS.
 *
 * @example
 * ```ts
 * import { attachTokenAuth, refreshTokenGrant } from 'tokenflight';
 * import { BrowserTokenStore } from 'tokenflight/browser';
 *
 * attachTokenAuth(api, {
 *   providers: refreshTokenGrant({ tokenUrl, clientId: 'spa', refreshToken, onRefreshToken: save }),
 *   store: new BrowserTokenStore({ prefix: 'myapp:' }),
 * });
 * ```
 */
export class BrowserTokenStore implements TokenStore {
  readonly #settings: BrowserStoreSettings;
  readonly #handoff: Handoff | undefined;
  #nextSweepAt: number;

  /**
   * Makes a store, checking the options at once (a wrong one throws an `InvalidOptionError`).
   *
   * @param options - Storage, key prefix, locks; see {@link BrowserTokenStoreOptions}.
   */
  constructor(options: BrowserTokenStoreOptions = {}) {
    this.#settings = readBrowserStoreOptions(options);
    const { indexedDB, storage } = this.#settings;
    this.#handoff = indexedDB === undefined ? undefined : createHandoff(indexedDB, storage);
    this.#nextSweepAt = this.#settings.now();
  }

  /** Whether `lock` uses the Web Locks API (`true`) or the lease fallback in the storage (`false`). */
  get usesWebLocks(): boolean {
    return this.#settings.locks !== undefined;
  }

  get(key: string): Promise<StoredToken | undefined> {
    return Promise.resolve(this.#read(key));
  }

  set(key: string, token: StoredToken): Promise<StoredToken> {
    const existing = this.#read(key);
    if (existing !== undefined && !isNewerToken(token, existing)) return Promise.resolve(existing);
    if (this.#settings.now() >= this.#nextSweepAt) this.sweep();
    this.#settings.storage.setItem(this.#tokenKey(key), encodeEntry(token));
    return Promise.resolve(token);
  }

  delete(key: string, accessToken: string): Promise<boolean> {
    if (this.#read(key)?.accessToken !== accessToken) return Promise.resolve(false);
    this.#settings.storage.removeItem(this.#tokenKey(key));
    return Promise.resolve(true);
  }

  async lock(key: string, options: TokenStoreLockOptions): Promise<TokenStoreLock | undefined> {
    const { locks, storage, now, lockPollMs, leaseSettleMs, handoffWaitMs } = this.#settings;
    const { lock: name, handoff: markerKey } = this.keyNames(key);
    const lock =
      locks === undefined
        ? await takeLeaseLock(storage, name, { ...options, now, pollMs: lockPollMs, settleMs: leaseSettleMs })
        : await takeWebLock(locks, name, options);
    if (this.#handoff === undefined) return lock;
    const place = { name, markerKey, waitMs: handoffWaitMs, signal: options.signal };
    return withHandoff(lock, this.#handoff, place);
  }

  /**
   * Calls `listener` with the key of each entry another tab writes or removes (from `storage`
   * events, which a tab receives for its siblings' changes, not its own). Returns the function
   * that stops it. Without `storageEvents`, it never calls `listener`.
   */
  subscribe(listener: (key: string) => void): () => void {
    const { storageEvents, storage } = this.#settings;
    if (storageEvents === undefined) return () => undefined;
    const tokenPrefix = this.#tokenKey('');
    const onStorage = (event: BrowserStorageEvent): void => {
      if (event.storageArea !== storage || event.key === null || !event.key.startsWith(tokenPrefix)) return;
      listener(event.key.slice(tokenPrefix.length));
    };
    storageEvents.addEventListener('storage', onStorage);
    return () => storageEvents.removeEventListener('storage', onStorage);
  }

  /**
   * Removes every expired or unreadable entry, and every expired lease, under the prefix. Runs by
   * itself on the first write each `sweepIntervalMs`.
   */
  sweep(): void {
    const { storage, now, sweepIntervalMs } = this.#settings;
    this.#nextSweepAt = now() + sweepIntervalMs;
    const tokenPrefix = this.#tokenKey('');
    const leasePrefix = this.keyNames('').lock;
    const keys: string[] = [];
    for (let index = 0; index < storage.length; index++) {
      const name = storage.key(index);
      if (name !== null && (name.startsWith(tokenPrefix) || name.startsWith(leasePrefix))) keys.push(name);
    }
    for (const name of keys) {
      if (name.startsWith(tokenPrefix)) this.#read(name.slice(tokenPrefix.length));
      else if (isLeaseOver(storage.getItem(name), now())) storage.removeItem(name);
    }
  }

  /**
   * The names this store uses for `key`: its entry, its lease (or Web Lock name), and its
   * hand-off count, e.g. to inspect or clear them by hand.
   */
  keyNames(key: string): { token: string; lock: string; handoff: string } {
    const { prefix } = this.#settings;
    return { token: this.#tokenKey(key), lock: `${prefix}lock:${key}`, handoff: `${prefix}handoff:${key}` };
  }

  #tokenKey(key: string): string {
    return `${this.#settings.prefix}token:${key}`;
  }

  /** The entry's token; an expired or unreadable entry is removed (the latter with an event). */
  #read(key: string): StoredToken | undefined {
    const { storage, now } = this.#settings;
    const name = this.#tokenKey(key);
    const entry = decodeEntry(storage.getItem(name), now());
    if ('missing' in entry) return undefined;
    if ('invalid' in entry) {
      storage.removeItem(name);
      this.#emit({ type: 'browser-entry-dropped', key, reason: entry.invalid });
      return undefined;
    }
    if (!hasExpired(entry.token, now())) return entry.token;
    storage.removeItem(name);
    return undefined;
  }

  #emit(event: { type: 'browser-entry-dropped'; key: string; reason: string }): void {
    try {
      this.#settings.onEvent?.(event);
    } catch {
      // A listener's failure must never break a request.
    }
  }
}
