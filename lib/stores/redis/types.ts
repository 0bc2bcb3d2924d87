import type { RedisStoreOperation, RedisTokenStoreError } from './errors.js';

/**
 * Every default of {@link RedisTokenStore}, in one place. Tests and docs import these rather than
 * repeating numbers.
 */
export const REDIS_STORE_DEFAULTS = {
  /** Put before every key name: `{prefix}token:{hash}` and `{prefix}lock:{hash}`. */
  prefix: 'tokenflight:',
  /**
   * One Redis operation may take this long before it counts as a failure. Keep it below
   * `attachTokenAuth`'s `storeTimeoutMs` (1 s by default), so the store notices a slow Redis first.
   */
  commandTimeoutMs: 500,
  /** After Redis failed, the circuit breaker stays open (calls fail fast) this long, then one call probes Redis. */
  breakerOpenMs: 5_000,
  /** @deprecated Renamed `breakerOpenMs` (it is not a `Retry-After`); same value. */
  retryAfterMs: 5_000,
  /** While another process holds the lock, try to take it about this often (with ±50% jitter). */
  lockPollMs: 50,
  /**
   * The lock lives this long in Redis (at most the `ttlMs` tokenflight asks for), and its holder
   * renews it every third of that while it is alive: a crashed holder blocks the others for about
   * this long, however long the lock was asked for.
   */
  lockLeaseMs: 10_000,
  /** Entries of tokens with no known expiry (`expiresAt: null`) are dropped after this long. */
  maxTtlMs: 86_400_000,
  /** Read Redis's eviction settings before locking a rotating refresh token (see {@link RedisEvictionCheck}). */
  evictionPolicy: 'check',
} as const;

/**
 * Whether a {@link RedisTokenStore} reads Redis's `maxmemory-policy` (with `CONFIG GET`, again
 * every minute) before it takes the lock that guards a rotating refresh token, and refuses the lock
 * unless Redis cannot evict it (`noeviction`, or no `maxmemory`):
 *
 * - `'check'`: read it. Where `CONFIG` is disabled or not permitted (managed Redis), the policy is
 *   unknown and the lock is refused.
 * - `'checked-by-operator'`: do not read it; you have made sure it is `noeviction` (on managed Redis,
 *   in its parameter group or settings).
 *
 * Locks for other tokens are never refused. See docs/fleets.md.
 */
export type RedisEvictionCheck = 'check' | 'checked-by-operator';

export type { RedisStoreOperation } from './errors.js';

export type { RedisTokenStoreErrorCode } from '../../shared/errors.js';

/** Why an entry found in Redis was treated as missing. */
export type UnreadableEntryReason =
  /** It was encrypted with a key id this store was not given. */
  | 'unknown-key-id'
  /** Its key id is known but decryption failed: a different key under that id, or the entry was altered. */
  | 'decryption-failed'
  /** This store encrypts, and the entry holds a token in clear (written by a store without encryption). */
  | 'not-encrypted'
  /** Not an entry tokenflight wrote. */
  | 'malformed';

/** What a {@link RedisTokenStore} reports through its `onEvent`. No event holds a token or a key. */
export type RedisTokenStoreEvent =
  | {
      /** Redis failed; until it answers again, every store call fails fast and tokenflight works per process. */
      type: 'redis-unavailable';
      operation: RedisStoreOperation;
      error: RedisTokenStoreError;
      /** Redis is skipped this long (the circuit breaker stays open) before it is tried again. */
      breakerOpenMs: number;
      /** @deprecated Renamed `breakerOpenMs`; same value. */
      retryAfterMs: number;
    }
  | {
      /** Redis answered again after being unavailable. */
      type: 'redis-recovered';
      operation: RedisStoreOperation;
      /** How long it was unavailable, from the first failure to this answer. */
      unavailableForMs: number;
    }
  | {
      /**
       * The store refused the lock that guards a rotating refresh token: Redis may evict it. Emitted
       * each time the settings are read (at most once a minute) and found unsafe.
       */
      type: 'redis-eviction-unsafe';
      /** Redis's `maxmemory-policy`, or `undefined` when the store could not read it (`CONFIG` refused). */
      policy: string | undefined;
    }
  | {
      /** An entry could not be read and was treated as missing. */
      type: 'redis-entry-unreadable';
      /** The store key (a hash; see `TokenStore`), without the prefix. */
      key: string;
      reason: UnreadableEntryReason;
      /** The key id the entry names, when it names one. */
      keyId: string | undefined;
    };

/** Encryption of tokens at rest, with AES-256-GCM. */
export interface RedisTokenStoreEncryption {
  /**
   * The keys, by key id: each 32 bytes, as a `Buffer`/`Uint8Array` or a base64 string. Keep the
   * previous key here while rotating, so entries written with it can still be read.
   */
  keys: Readonly<Record<string, Uint8Array | string>>;
  /** The id of the key new entries are encrypted with. */
  currentKeyId: string;
}

/** Options of {@link RedisTokenStore}. */
export interface RedisTokenStoreOptions {
  /** Put before every key name. @default 'tokenflight:' */
  prefix?: string;
  /** Encrypt tokens at rest (AES-256-GCM, with key ids for rotation). @default undefined (tokens stored in clear) */
  encryption?: RedisTokenStoreEncryption;
  /** One Redis operation may take this long before it counts as a failure. @default 500 */
  commandTimeoutMs?: number;
  /** After a failure, Redis is skipped (the circuit breaker stays open) this long, then probed by the next call. @default 5_000 */
  breakerOpenMs?: number;
  /** @deprecated Renamed `breakerOpenMs`, which wins when both are given. */
  retryAfterMs?: number;
  /** While another process holds the lock, try to take it about this often. @default 50 */
  lockPollMs?: number;
  /**
   * The lock's time to live in Redis, renewed by its holder while it is alive; a crashed holder
   * blocks the others for about this long. @default 10_000
   */
  lockLeaseMs?: number;
  /** How long an entry for a token with no known expiry is kept. @default 86_400_000 (a day) */
  maxTtlMs?: number;
  /**
   * Whether to read Redis's `maxmemory-policy` before locking a rotating refresh token, and refuse
   * the lock unless Redis cannot evict it; see {@link RedisEvictionCheck}. @default 'check'
   */
  evictionPolicy?: RedisEvictionCheck;
  /** Receives {@link RedisTokenStoreEvent}s. It must not throw; if it does, the error is ignored. */
  onEvent?: (event: RedisTokenStoreEvent) => void;
  /** The clock, in epoch ms. @default Date.now */
  now?: () => number;
}
