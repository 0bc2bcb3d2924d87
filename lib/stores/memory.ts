import {
  isNewerToken,
  type StoredToken,
  type TokenStore,
  type TokenStoreLock,
  type TokenStoreLockOptions,
} from '../store.js';

/** Options of {@link MemoryTokenStore}. */
export interface MemoryTokenStoreOptions {
  /** The clock, in epoch ms. @default Date.now */
  now?: () => number;
}

interface HeldLock {
  heldUntil: number;
  waiters: Array<() => void>;
}

/**
 * The default store: a `Map` in this process. Share one instance between several
 * `attachTokenAuth` calls to share their tokens and make one token request between them.
 *
 * @example
 * ```ts
 * const store = new MemoryTokenStore();
 * attachTokenAuth(apiA, { providers: symbl(creds), store });
 * attachTokenAuth(apiB, { providers: symbl(creds), store }); // same token, one token request
 * ```
 */
export class MemoryTokenStore implements TokenStore {
  readonly #entries = new Map<string, StoredToken>();
  readonly #locks = new Map<string, HeldLock>();
  readonly #now: () => number;

  /** Makes an empty store. */
  constructor(options: MemoryTokenStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  get(key: string): Promise<StoredToken | undefined> {
    return Promise.resolve(this.#read(key));
  }

  set(key: string, token: StoredToken): Promise<StoredToken> {
    const existing = this.#read(key);
    if (existing !== undefined && !isNewerToken(token, existing)) return Promise.resolve(existing);
    this.#entries.set(key, token);
    return Promise.resolve(token);
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
