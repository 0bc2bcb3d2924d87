import { unrefTimer } from '../shared/async.js';
import {
  isNewerToken,
  type StoredKeyPair,
  type StoredToken,
  type TokenStore,
  type TokenStoreLock,
  type TokenStoreLockOptions,
} from './store.js';
import { expectNumber } from '../shared/validate.js';

/** Options of {@link MemoryTokenStore}. */
export interface MemoryTokenStoreOptions {
  /** The clock, in epoch ms. @default Date.now */
  now?: () => number;
  /**
   * The most entries (one per provider and set of credentials) it holds; past that, the least
   * recently used goes first. @default 10_000
   */
  maxEntries?: number;
  /**
   * Expired entries are dropped this often, by a timer that never keeps the process alive and runs
   * only while the store holds entries, and by the next write once this long has passed.
   * @default 60_000
   */
  sweepIntervalMs?: number;
}

/** The defaults of {@link MemoryTokenStoreOptions}. */
export const MEMORY_STORE_DEFAULTS = {
  maxEntries: 10_000,
  sweepIntervalMs: 60_000,
} as const;

interface HeldLock {
  heldUntil: number;
  waiters: Array<() => void>;
}

/**
 * The default store: a `Map` in this process. Share one instance between several
 * `attachTokenAuth` calls to share their tokens and make one token request between them.
 *
 * Its memory is bounded: expired entries are swept (every `sweepIntervalMs`, by an unref'd timer
 * and on writes), and at most `maxEntries` are held, the least recently used dropped first.
 *
 * @example
 * ```ts
 * const store = new MemoryTokenStore();
 * attachTokenAuth(apiA, { providers: symbl(creds), store });
 * attachTokenAuth(apiB, { providers: symbl(creds), store }); // same token, one token request
 * ```
 */
export class MemoryTokenStore implements TokenStore {
  /** In order of use, least recent first. */
  readonly #entries = new Map<string, StoredToken>();
  readonly #locks = new Map<string, HeldLock>();
  /** DPoP key pairs by id, as the promise the first caller started (see `keyPair`). */
  readonly #keyPairs = new Map<string, Promise<StoredKeyPair>>();
  readonly #now: () => number;
  readonly #maxEntries: number;
  readonly #sweepIntervalMs: number;
  #nextSweepAt: number;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** Makes an empty store. */
  constructor(options: MemoryTokenStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
    const context = 'new MemoryTokenStore()';
    this.#maxEntries =
      expectNumber(options.maxEntries, 'maxEntries', context, { min: 1, integer: true }) ??
      MEMORY_STORE_DEFAULTS.maxEntries;
    this.#sweepIntervalMs =
      expectNumber(options.sweepIntervalMs, 'sweepIntervalMs', context, { min: 1 }) ??
      MEMORY_STORE_DEFAULTS.sweepIntervalMs;
    this.#nextSweepAt = this.#now() + this.#sweepIntervalMs;
  }

  /** How many entries it holds right now (expired ones included until the next sweep). */
  get size(): number {
    return this.#entries.size;
  }

  get(key: string): Promise<StoredToken | undefined> {
    const token = this.#read(key);
    if (token !== undefined) {
      // Most recently used goes last.
      this.#entries.delete(key);
      this.#entries.set(key, token);
    }
    return Promise.resolve(token);
  }

  set(key: string, token: StoredToken): Promise<StoredToken> {
    const existing = this.#read(key);
    if (existing !== undefined && !isNewerToken(token, existing)) return Promise.resolve(existing);
    this.#entries.delete(key);
    this.#entries.set(key, token);
    if (this.#now() >= this.#nextSweepAt) this.#sweep();
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.#maxEntries) break;
      this.#entries.delete(oldest);
    }
    this.#schedule();
    return Promise.resolve(token);
  }

  /**
   * Drops every entry and stops the sweep timer (locks still held are kept until released).
   * `eject()` calls it on the store `attachTokenAuth` made itself; where timers cannot be unref'd
   * (browsers, edge runtimes, Deno) the timer would otherwise run every `sweepIntervalMs` while
   * a token is cached.
   */
  clear(): void {
    this.#entries.clear();
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Drops every expired entry and every lock nobody holds or waits for. */
  #sweep(): void {
    const now = this.#now();
    this.#nextSweepAt = now + this.#sweepIntervalMs;
    for (const [key, token] of this.#entries) {
      if (token.expiresAt !== null && token.expiresAt <= now) this.#entries.delete(key);
    }
    for (const [key, held] of this.#locks) {
      if (held.heldUntil <= now && held.waiters.length === 0) this.#locks.delete(key);
    }
  }

  /** A sweep timer runs while there are entries; it never keeps the process alive. */
  #schedule(): void {
    if (this.#timer !== undefined || this.#entries.size === 0) return;
    this.#timer = unrefTimer(() => {
      this.#timer = undefined;
      this.#sweep();
      this.#schedule();
    }, this.#sweepIntervalMs);
  }

  /**
   * The DPoP key pair kept under `id`: the first caller makes it with `create`, and every caller
   * after it (concurrent ones included) gets that same pair for the store's life, so handles that
   * share this store share one key, hence one token. A `create` that fails is not remembered: the
   * next caller makes the pair again. `clear()` keeps the pairs. At most `maxEntries` ids are held
   * (the oldest dropped first).
   */
  keyPair(id: string, create: () => Promise<StoredKeyPair>): Promise<StoredKeyPair> {
    const held = this.#keyPairs.get(id);
    if (held !== undefined) return held;
    // Registered before anything is awaited, so concurrent callers share the one `create`.
    const made = Promise.resolve().then(create);
    this.#keyPairs.set(id, made);
    made.catch(() => {
      if (this.#keyPairs.get(id) === made) this.#keyPairs.delete(id);
    });
    for (const oldest of this.#keyPairs.keys()) {
      if (this.#keyPairs.size <= this.#maxEntries) break;
      this.#keyPairs.delete(oldest);
    }
    return made;
  }

  delete(key: string, accessToken: string): Promise<boolean> {
    if (this.#entries.get(key)?.accessToken !== accessToken) return Promise.resolve(false);
    return Promise.resolve(this.#entries.delete(key));
  }

  #read(key: string): StoredToken | undefined {
    const token = this.#entries.get(key);
    if (token?.expiresAt != null && token.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return token;
  }

  async lock(key: string, options: TokenStoreLockOptions): Promise<TokenStoreLock | undefined> {
    const deadline = this.#now() + options.waitMs;
    for (;;) {
      const held = this.#locks.get(key);
      if (held === undefined || held.heldUntil <= this.#now()) return this.#take(key, options.ttlMs, held);
      const remaining = deadline - this.#now();
      if (remaining <= 0 || options.signal?.aborted) return undefined;
      await waitForRelease(held, Math.min(remaining, held.heldUntil - this.#now()), options.signal);
    }
  }

  #take(key: string, ttlMs: number, previous: HeldLock | undefined): TokenStoreLock {
    const held: HeldLock = { heldUntil: this.#now() + ttlMs, waiters: previous?.waiters ?? [] };
    this.#locks.set(key, held);
    return {
      release: () => {
        if (this.#locks.get(key) === held) {
          this.#locks.delete(key);
          for (const wake of held.waiters.splice(0)) wake();
        }
        return Promise.resolve();
      },
    };
  }
}

function waitForRelease(held: HeldLock, timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      const index = held.waiters.indexOf(done);
      if (index !== -1) held.waiters.splice(index, 1);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, timeoutMs));
    (timer as { unref?: () => void }).unref?.();
    signal?.addEventListener('abort', done, { once: true });
    held.waiters.push(done);
  });
}
