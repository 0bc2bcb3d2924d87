// The browser store in parts: its options (options.ts), the entry codec (entry.ts), the Web Locks
// lock (web-lock.ts), the lease fallback (lease-lock.ts), the hand-off count (handoff.ts), the tab
// id of a sessionStorage store (tab-identity.ts), and this file, which puts them together.
// lib/browser.ts is the public entry (`tokenflight/browser`).
import {
  isNewerToken,
  type StoredKeyPair,
  type StoredToken,
  type TokenStore,
  type TokenStoreLock,
  type TokenStoreLockOptions,
} from '../store.js';
import {
  decodeEntry,
  encodeEntry,
  hasExpired,
  isOwnExpiredEntry,
  isOwnRecordOver,
  parseObject,
  probeKey,
  refusalError,
  tabLockName,
  type EntryBinding,
  type ReadEntry,
  type Refusal,
} from './entry.js';
import { createHandoff, withHandoff, type Handoff } from './handoff.js';
import { createKeyPairs, type KeyPairs } from './key-pairs.js';
import { releaseOnPagehide, takeLeaseLock } from './lease-lock.js';
import { readBrowserStoreOptions, type BrowserStoreSettings } from './options.js';
import { resolveTabIdentity, type TabIdentity } from './tab-identity.js';
import type { BrowserEntryDroppedEvent, BrowserStorageEvent, BrowserTokenStoreOptions } from './types.js';
import { takeWebLock } from './web-lock.js';

/**
 * A token store on `localStorage` (or `sessionStorage`), shared by the tabs of one origin: one
 * token and one token request per rotation for all of them, and with `refreshTokenGrant()` one use
 * of the rotating refresh token per rotation, instead of one per tab.
 *
 * - Entries are JSON under `{prefix}token:{hash}`; the hash (made by tokenflight from provider,
 *   endpoint and credentials) never reveals a credential. The store touches only its own names
 *   under a prefix that must end with a separator, and each entry records the key it was written
 *   for (and, on sessionStorage, its tab). A read returns only an entry this store wrote for that
 *   key that passes the checks a token response passes; anything else (another script's value, an
 *   entry copied from another key) is never sent: the read rejects with a `TokenflightError`
 *   (`ERR_STORE_ENTRY_INVALID`), reported through `onEvent`, and the entry stays until a write
 *   replaces it. Expired entries are removed when read, and by a sweep of the prefix on the first
 *   write each `sweepIntervalMs` that removes only entries the store can prove it wrote.
 * - `lock` uses the Web Locks API (`navigator.locks`): the tab that holds it asks for the token,
 *   the others wait and take it from the storage. The browser frees a lock when its tab closes;
 *   a timer frees it after `ttlMs`. Where Web Locks are missing (a page that is not a secure
 *   context, an old browser), a lease in the storage stands in for it: best-effort (see the guide,
 *   docs/browser.md). localStorage reaches other tabs a moment after a write, with no ordering
 *   against the lock, so each holder counts its hand-off in IndexedDB and the next holder waits
 *   (up to `handoffWaitMs`) until the previous holder's writes have reached it. In the lease
 *   fallback, a page releases its leases on `pagehide`.
 * - On `sessionStorage` (`sharedBy: 'tab'`), a random id kept in the storage names the tab's lock
 *   (tabs that do not share a storage never wait for each other; no hand-off is counted), and a tab
 *   that started with a copy of another live tab's storage (a duplicated tab) takes a new id and
 *   never uses the tokens it copied (`ERR_STORE_TAB_DUPLICATED`, `browser-tab-duplicated`).
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
  readonly #trackLease: ReturnType<typeof releaseOnPagehide>;
  readonly #keyPairs: KeyPairs;
  /** The tab's identity (`sharedBy: 'tab'`), once worked out; `undefined` for a store of the origin. */
  readonly #tab: Promise<TabIdentity> | undefined;
  #tabId: string | undefined;
  #nextSweepAt: number;

  /**
   * Makes a store, checking the options at once (a wrong one throws an `InvalidOptionError`). On
   * sessionStorage, it starts working out its tab's id (see `sharedBy`).
   *
   * @param options - Storage, key prefix, locks; see {@link BrowserTokenStoreOptions}.
   */
  constructor(options: BrowserTokenStoreOptions = {}) {
    this.#settings = readBrowserStoreOptions(options);
    const { indexedDB, storage, sharedBy, locks, pageEvents } = this.#settings;
    // One tab's storage is written and read in one process: nothing to wait for at a hand-off.
    this.#handoff = indexedDB === undefined || sharedBy === 'tab' ? undefined : createHandoff(indexedDB, storage);
    this.#trackLease = releaseOnPagehide(locks === undefined ? pageEvents : undefined);
    this.#tab = sharedBy === 'tab' ? this.#resolveTab() : undefined;
    this.#nextSweepAt = this.#settings.now();
    this.#keyPairs = createKeyPairs({
      // A tab's store keeps its key in memory: tabs must not share one, and a record per tab would
      // outlive its tab.
      indexedDB: sharedBy === 'tab' ? undefined : indexedDB,
      missing: sharedBy === 'tab' ? undefined : 'there is no IndexedDB here',
      prefix: this.#settings.prefix,
      onReplaced: (id, reason) =>
        this.#emit({ type: 'browser-key-replaced', id, reason, code: 'ERR_STORE_KEY_INVALID' }),
      onInMemory: (reason) => this.#emit({ type: 'browser-key-in-memory', reason, code: 'ERR_STORE_KEY_UNAVAILABLE' }),
    });
  }

  /** Whether `lock` uses the Web Locks API (`true`) or the lease fallback in the storage (`false`). */
  get usesWebLocks(): boolean {
    return this.#settings.locks !== undefined;
  }

  /**
   * The entry's token, if there is one this store wrote for `key` and it has not expired. Rejects
   * with a `TokenflightError` when the entry under its name is not one (`ERR_STORE_ENTRY_INVALID`),
   * or was copied from another live tab (`ERR_STORE_TAB_DUPLICATED`).
   */
  async get(key: string): Promise<StoredToken | undefined> {
    const entry = this.#read(await this.#binding(key), true);
    if ('refused' in entry) throw refusalError(key, entry);
    return 'token' in entry ? entry.token : undefined;
  }

  async set(key: string, token: StoredToken): Promise<StoredToken> {
    const binding = await this.#binding(key);
    const existing = this.#read(binding, false);
    if ('token' in existing && !isNewerToken(token, existing.token)) return existing.token;
    if (this.#settings.now() >= this.#nextSweepAt) this.sweep();
    this.#settings.storage.setItem(this.#tokenKey(key), encodeEntry(token, binding));
    return token;
  }

  async delete(key: string, accessToken: string): Promise<boolean> {
    const existing = this.#read(await this.#binding(key), false);
    if (!('token' in existing) || existing.token.accessToken !== accessToken) return false;
    this.#settings.storage.removeItem(this.#tokenKey(key));
    return true;
  }

  async lock(key: string, options: TokenStoreLockOptions): Promise<TokenStoreLock | undefined> {
    const { locks, storage, now, lockPollMs, leaseSettleMs, handoffWaitMs, prefix } = this.#settings;
    const binding = await this.#binding(key);
    const { lock: name, handoff: markerKey } = this.keyNames(key);
    if (locks === undefined) {
      const leaseOptions = { ...options, binding, now, pollMs: lockPollMs, settleMs: leaseSettleMs };
      return this.#trackLease(await takeLeaseLock(storage, name, leaseOptions));
    }
    // Web Lock names are the origin's: a tab's own storage gets locks of its own.
    const lockName = binding.tab === undefined ? name : `${tabLockName(prefix, binding.tab)}:lock:${key}`;
    const lock = await takeWebLock(locks, lockName, options);
    if (this.#handoff === undefined) return lock;
    const place = { name, markerKey, waitMs: handoffWaitMs, signal: options.signal };
    return withHandoff(lock, this.#handoff, place);
  }

  /**
   * The DPoP key pair kept under `id`, shared by the tabs of the origin: the first caller makes it
   * with `create` (a non-extractable private key: anything else is refused) and keeps it in
   * IndexedDB (database `tokenflight-keys:{prefix}`, one record per id), as the browser
   * structured-clones CryptoKeys, so the private key is never readable; tabs calling at once end
   * with the same pair, and a reload finds it. A record that is not a valid pair is replaced
   * (`browser-key-replaced`). Where IndexedDB is missing or fails, pairs are kept in the page's
   * memory (`browser-key-in-memory`, once), and requests go on. A store on `sessionStorage`
   * (`sharedBy: 'tab'`) always keeps them in memory: tabs that do not share a storage do not share
   * a key, and a reload makes a new one. Clearing the site's data removes the pair: the next call
   * makes a new one (hence a new token).
   */
  keyPair(id: string, create: () => Promise<StoredKeyPair>): Promise<StoredKeyPair> {
    return this.#keyPairs.keyPair(id, create);
  }

  /**
   * Calls `listener` with the key of each entry another tab writes or removes (from `storage`
   * events, which a tab receives for its siblings' changes, not its own). A value under an
   * entry's name that this store would refuse is reported through `onEvent` instead, at once.
   * Returns the function that stops it. Without `storageEvents`, it never calls `listener`.
   */
  subscribe(listener: (key: string) => void): () => void {
    const { storageEvents, storage, now } = this.#settings;
    if (storageEvents === undefined) return () => undefined;
    const tokenPrefix = this.#tokenKey('');
    const onStorage = (event: BrowserStorageEvent): void => {
      if (event.storageArea !== storage || event.key === null || !event.key.startsWith(tokenPrefix)) return;
      const key = event.key.slice(tokenPrefix.length);
      // A tab's store learns its id a moment after it is made: until then, its reads will judge.
      const judged = this.#tab === undefined || this.#tabId !== undefined;
      const entry = decodeEntry(storage.getItem(event.key), { key, tab: this.#tabId }, now());
      if (judged && 'refused' in entry) this.#dropped(key, entry);
      else listener(key);
    };
    storageEvents.addEventListener('storage', onStorage);
    return () => storageEvents.removeEventListener('storage', onStorage);
  }

  /**
   * Removes, under the prefix, the entries this store wrote whose token has expired, and its
   * leases that have run out: nothing it cannot prove it wrote. Runs by itself on the first write
   * each `sweepIntervalMs`.
   */
  sweep(): void {
    const { storage, now, sweepIntervalMs, prefix } = this.#settings;
    this.#nextSweepAt = now() + sweepIntervalMs;
    const kinds: Array<[string, (raw: string | null, key: string, at: number) => boolean]> = [
      [this.#tokenKey(''), isOwnExpiredEntry],
      [this.keyNames('').lock, isOwnRecordOver],
      [probeKey(prefix, ''), isOwnRecordOver],
    ];
    const names: string[] = [];
    for (let index = 0; index < storage.length; index++) {
      const name = storage.key(index);
      if (name !== null && name.startsWith(prefix)) names.push(name);
    }
    for (const name of names) {
      const kind = kinds.find(([start]) => name.startsWith(start));
      if (kind !== undefined && kind[1](storage.getItem(name), name.slice(kind[0].length), now())) {
        storage.removeItem(name);
      }
    }
  }

  /**
   * The names this store uses in the storage for `key`: its entry, its lease (and Web Lock name,
   * on a store shared by the origin), and its hand-off count, e.g. to inspect or clear them by hand.
   */
  keyNames(key: string): { token: string; lock: string; handoff: string } {
    const { prefix } = this.#settings;
    return { token: this.#tokenKey(key), lock: `${prefix}lock:${key}`, handoff: `${prefix}handoff:${key}` };
  }

  #tokenKey(key: string): string {
    return `${this.#settings.prefix}token:${key}`;
  }

  async #binding(key: string): Promise<EntryBinding> {
    return { key, tab: this.#tab === undefined ? undefined : (await this.#tab).id };
  }

  /** The entry for `binding`; an expired one is removed, a refused one reported (when `report`). */
  #read(binding: EntryBinding, report: boolean): ReadEntry {
    const { storage, now } = this.#settings;
    const name = this.#tokenKey(binding.key);
    const entry = decodeEntry(storage.getItem(name), binding, now());
    if ('refused' in entry) {
      if (report) this.#dropped(binding.key, entry);
      return entry;
    }
    if (!('token' in entry) || !hasExpired(entry.token, now())) return entry;
    storage.removeItem(name);
    return { missing: true };
  }

  async #resolveTab(): Promise<TabIdentity> {
    const { storage, prefix, locks, broadcastChannel, tabCheckMs, now } = this.#settings;
    const settings = { storage, prefix, locks, channel: broadcastChannel, checkMs: tabCheckMs, now };
    const identity = await resolveTabIdentity(settings);
    this.#tabId = identity.id;
    if (identity.copiedFrom !== undefined) {
      this.#emit({ type: 'browser-tab-duplicated', copiedEntries: this.#entriesOf(identity.copiedFrom) });
    }
    return identity;
  }

  /** How many of the store's entries were written for the tab `tab`. */
  #entriesOf(tab: string): number {
    const { storage } = this.#settings;
    const tokenPrefix = this.#tokenKey('');
    let count = 0;
    for (let index = 0; index < storage.length; index++) {
      const name = storage.key(index);
      if (name?.startsWith(tokenPrefix) === true && parseObject(storage.getItem(name))?.['tab'] === tab) count++;
    }
    return count;
  }

  #dropped(key: string, refusal: Refusal): void {
    const event: BrowserEntryDroppedEvent = {
      type: 'browser-entry-dropped',
      key,
      reason: refusal.refused,
      code: refusal.code,
    };
    this.#emit(event);
  }

  #emit(event: Parameters<NonNullable<BrowserStoreSettings['onEvent']>>[0]): void {
    try {
      this.#settings.onEvent?.(event);
    } catch {
      // A listener's failure must never break a request.
    }
  }
}
