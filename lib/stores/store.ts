/** A token as tokenflight caches it. */
export interface StoredToken {
  /** The token itself. */
  readonly accessToken: string;
  /** `Bearer` for bearer tokens (normalised from any casing). */
  readonly tokenType: string;
  /** Epoch ms, or `null` when the provider gave no way to know (then it is refreshed on 401 only). */
  readonly expiresAt: number | null;
  /** Epoch ms at which it was requested. */
  readonly obtainedAt: number;
}

/** A held lock; see {@link TokenStore.lock}. */
export interface TokenStoreLock {
  /** Releases the lock if this holder still owns it. */
  release(): Promise<void>;
}

/** Options of {@link TokenStore.lock}. */
export interface TokenStoreLockOptions {
  /** The lock frees itself after this long, so a crashed holder does not block others forever. */
  ttlMs: number;
  /** Give up waiting for the lock after this long. */
  waitMs: number;
  /** Abandons the wait. */
  signal?: AbortSignal | undefined;
  /**
   * True when the lock guards a rotating refresh token (`refreshTokenGrant()`), which may be
   * presented only once: a store that cannot keep such a lock for its whole lease (a Redis that may
   * evict it) must refuse it (reject) rather than hand out a lock that could vanish. For other
   * tokens the lock only saves token requests.
   */
  rotating?: boolean | undefined;
}

/** Options of {@link TokenStore.set}. */
export interface TokenStoreSetOptions {
  /**
   * A write that must not be skipped: a rotated refresh token (until the store has it, the next
   * holder of the lock would present the used one). A store with a circuit breaker sends it even
   * while the breaker is open.
   */
  readonly critical?: boolean;
}

/**
 * Where tokens are cached, keyed by a hash of provider, endpoint and credentials (never the
 * credentials themselves). `MemoryTokenStore` is the default; `RedisTokenStore`
 * (`tokenflight/redis`) shares tokens across processes; anything with these methods will do.
 * Pass one store to several `attachTokenAuth` calls, or to several
 * processes (a `RedisTokenStore`), and they share one token and one token request.
 *
 * tokenflight keeps the current token in memory as well and consults the store when it needs a
 * token, so a store is called per token rotation, not per request. A store that throws or takes
 * longer than `storeTimeoutMs` is passed over: requests go on, with single-flight per process.
 * Not for a rotating refresh token (`refreshTokenGrant()`), which is presented only under the
 * store's lock: then the callers that need a new token get `ERR_TOKEN_STORE_UNAVAILABLE`.
 */
export interface TokenStore {
  /** The stored token, or `undefined` if there is none or it has expired. */
  get(key: string): Promise<StoredToken | undefined>;
  /**
   * Stores `token` unless the entry already holds a newer one (later `expiresAt`, then later
   * `obtainedAt`), and resolves to whichever token the entry now holds. The entry expires with
   * the token. `options` is optional to honour; see {@link TokenStoreSetOptions}.
   */
  set(key: string, token: StoredToken, options?: TokenStoreSetOptions): Promise<StoredToken>;
  /** Removes the entry only if it still holds `accessToken` (compare-and-delete); true if removed. */
  delete(key: string, accessToken: string): Promise<boolean>;
  /**
   * Optional: lets one holder at a time fetch the token for `key`; the others wait, then re-read
   * the store instead of fetching. Resolves to the lock, or `undefined` if it was not acquired
   * within `waitMs` (tokenflight then re-reads the store and, if still empty, fetches anyway; with
   * a rotating refresh token it never does: the caller gets `ERR_TOKEN_STORE_UNAVAILABLE`).
   * Required for a `refreshTokenGrant()` provider.
   */
  lock?(key: string, options: TokenStoreLockOptions): Promise<TokenStoreLock | undefined>;
  /**
   * Optional: calls `listener` with the key of an entry that someone else (another tab, process or
   * handle) wrote or removed, and returns the function that stops it. tokenflight then re-reads
   * that entry (validated): it takes up a newer token there without a token request, and stops
   * sending its own when the entry holding it was removed (the API rejected it elsewhere).
   * `BrowserTokenStore` implements it with `storage` events.
   */
  subscribe?(listener: (key: string) => void): () => void;
  /**
   * Optional: the DPoP key pair kept under `id` (a provider's identity, not a token key), made with
   * `create` the first time and returned to every later caller of this store, so handles that
   * share the store (browser tabs) prove possession with one key and share one token.
   * `BrowserTokenStore` keeps a non-extractable pair in IndexedDB. Without it, each provider makes
   * its own pair.
   */
  keyPair?(id: string, create: () => Promise<StoredKeyPair>): Promise<StoredKeyPair>;
}

/** A DPoP key pair as a store keeps it: WebCrypto keys, typed without the DOM library. */
export interface StoredKeyPair {
  /** The private `CryptoKey` (non-extractable when the store made it). */
  readonly privateKey: object;
  /** The public `CryptoKey` (extractable: every proof carries it). */
  readonly publicKey: object;
}

/** True if `candidate` should replace `existing`: it expires later, or as late but was obtained later. */
export function isNewerToken(candidate: StoredToken, existing: StoredToken): boolean {
  const a = candidate.expiresAt ?? Infinity;
  const b = existing.expiresAt ?? Infinity;
  if (a !== b) return a > b;
  return candidate.obtainedAt > existing.obtainedAt;
}
