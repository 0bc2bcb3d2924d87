// The Redis store in parts: the Lua scripts (scripts.ts), the entry codec and encryption
// (entry.ts, pure), the circuit breaker (breaker.ts) and the bounded command runner behind it
// (runner.ts), the lock (lock.ts), and this file, which puts them together. lib/redis.ts is the
// public entry (`tokenflight/redis`).
import type { Cluster, Redis } from 'ioredis';
import { invalidOption } from '../../shared/errors.js';
import { boundedExpiresAt } from '../../core/manager/expiry.js';
import type { StoredToken, TokenStore, TokenStoreLock, TokenStoreLockOptions, TokenStoreSetOptions } from '../store.js';
import { checkFunction, describe, expectKnownKeys, expectNumber, expectOptions } from '../../shared/validate.js';
import { CircuitBreaker } from './breaker.js';
import { decodeEntry, encodeEntry, readEncryption, sha256, type Cipher } from './entry.js';
import { EvictionGuard } from './eviction.js';
import { takeLock } from './lock.js';
import { CommandRunner, isRedisClient } from './runner.js';
import { DELETE_IF_TOKEN, SET_IF_NEWER } from './scripts.js';
import {
  REDIS_STORE_DEFAULTS,
  type RedisEvictionCheck,
  type RedisTokenStoreEvent,
  type RedisTokenStoreOptions,
} from './types.js';

const OPTION_KEYS = [
  'prefix',
  'encryption',
  'commandTimeoutMs',
  'breakerOpenMs',
  'retryAfterMs',
  'lockPollMs',
  'lockLeaseMs',
  'maxTtlMs',
  'evictionPolicy',
  'onEvent',
  'now',
];
const CONTEXT = 'new RedisTokenStore()';

function readEvictionCheck(value: unknown): RedisEvictionCheck {
  if (value === undefined) return REDIS_STORE_DEFAULTS.evictionPolicy;
  if (value === 'check' || value === 'checked-by-operator') return value;
  throw invalidOption(
    `${CONTEXT}: expected \`evictionPolicy\` to be 'check' or 'checked-by-operator', got ${typeof value === 'string' ? 'another string' : describe(value)}`,
  );
}

/**
 * A token store on Redis, shared by every process of a fleet: one token and one token request per
 * rotation for all of them, instead of one per process.
 *
 * - Keys are `{prefix}token:{hash}` and `{prefix}lock:{hash}`; the hash (made by tokenflight from
 *   provider, endpoint and credentials) never reveals a credential. Entries expire with their token.
 * - Writes never replace a newer token with an older one; invalidation after a 401 deletes only
 *   the token that was rejected (both are Lua scripts, atomic in Redis).
 * - The lock (`SET NX PX` with a random owner id, released by a compare-and-delete script) lets
 *   one process fetch while the others wait for its token. Its lease (`lockLeaseMs`) is renewed
 *   while the holder lives, so a crashed holder blocks the others for about one lease. It is an
 *   efficiency lock: if it fails (a crashed holder, a Redis failover), the worst case is a second
 *   token request.
 * - Redis down or slow never fails a request: every operation is bounded by `commandTimeoutMs`;
 *   after a failure Redis is skipped for `breakerOpenMs` (tokenflight works per process meanwhile)
 *   and then probed again.
 *
 * The store does not own the client: close it yourself when the application stops.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { attachTokenAuth, symbl } from 'tokenflight';
 * import { RedisTokenStore } from 'tokenflight/redis';
 *
 * const store = new RedisTokenStore(new Redis(process.env.REDIS_URL), {
 *   prefix: 'myapp:tokens:',
 *   encryption: { keys: { k1: process.env.TOKEN_KEY_K1 }, currentKeyId: 'k1' },
 * });
 * attachTokenAuth(api, { providers: symbl({ appId, appSecret }), store });
 * ```
 */
export class RedisTokenStore implements TokenStore {
  readonly #runner: CommandRunner;
  readonly #prefix: string;
  readonly #cipher: Cipher | undefined;
  readonly #lockPollMs: number;
  readonly #lockLeaseMs: number;
  readonly #maxTtlMs: number;
  readonly #onEvent: ((event: RedisTokenStoreEvent) => void) | undefined;
  readonly #now: () => number;
  readonly #eviction: EvictionGuard;

  /**
   * Makes a store on this client, checking the options at once (a wrong one throws a `TypeError`).
   *
   * @param client - An ioredis `Redis` or `Cluster` client; the store does not close it.
   * @param options - Key prefix, timeouts, encryption at rest; see {@link RedisTokenStoreOptions}.
   */
  constructor(client: Redis | Cluster, options: RedisTokenStoreOptions = {}) {
    if (!isRedisClient(client)) {
      throw invalidOption(
        `${CONTEXT}: expected \`client\` to be an ioredis client (Redis or Cluster), got ${describe(client)}`,
        'ERR_INVALID_ARG_TYPE',
      );
    }
    const given = expectOptions(options, CONTEXT);
    expectKnownKeys(given, OPTION_KEYS, CONTEXT);
    const prefix: unknown = given['prefix'] ?? REDIS_STORE_DEFAULTS.prefix;
    if (typeof prefix !== 'string') {
      throw invalidOption(
        `${CONTEXT}: expected \`prefix\` to be a string, got ${describe(prefix)}`,
        'ERR_INVALID_ARG_TYPE',
      );
    }
    const number = (key: keyof typeof REDIS_STORE_DEFAULTS & keyof RedisTokenStoreOptions, min: number): number =>
      expectNumber(given[key], key, CONTEXT, { min }) ?? (REDIS_STORE_DEFAULTS[key] as number);
    checkFunction(options.onEvent, 'onEvent', CONTEXT);
    checkFunction(options.now, 'now', CONTEXT);

    this.#prefix = prefix;
    this.#cipher = options.encryption === undefined ? undefined : readEncryption(options.encryption);
    this.#lockPollMs = number('lockPollMs', 1);
    this.#lockLeaseMs = number('lockLeaseMs', 3);
    this.#maxTtlMs = number('maxTtlMs', 1);
    this.#onEvent = options.onEvent;
    this.#now = options.now ?? Date.now;
    // `retryAfterMs` is the deprecated name of `breakerOpenMs`.
    const openMs = given['breakerOpenMs'] === undefined ? number('retryAfterMs', 0) : number('breakerOpenMs', 0);
    const breaker = new CircuitBreaker({ openMs, now: this.#now, emit: (event) => this.#emit(event) });
    this.#runner = new CommandRunner(client, {
      commandTimeoutMs: number('commandTimeoutMs', 1),
      breaker,
      now: this.#now,
    });
    this.#eviction = new EvictionGuard(this.#runner, {
      check: readEvictionCheck(given['evictionPolicy']),
      now: this.#now,
      emit: (event) => this.#emit(event),
    });
  }

  async get(key: string): Promise<StoredToken | undefined> {
    const raw = await this.#runner.run('get', () => this.#runner.client.get(this.#tokenKey(key)));
    if (raw === null) return undefined;
    const token = this.#decode(key, raw);
    if (token?.expiresAt != null && token.expiresAt <= this.#now()) return undefined;
    return token;
  }

  /** A `critical` write (a rotated refresh token) is sent even while the circuit breaker is open. */
  async set(key: string, token: StoredToken, options?: TokenStoreSetOptions): Promise<StoredToken> {
    const now = this.#now();
    // The entry lives as long as the token, and never longer than tokenflight believes any token lives.
    const expiresAt = boundedExpiresAt(token.expiresAt, now);
    const bounded = expiresAt === token.expiresAt ? token : { ...token, expiresAt };
    const value = encodeEntry(key, bounded, this.#cipher);
    const ttlMs = expiresAt === null ? this.#maxTtlMs : Math.max(1, Math.ceil(expiresAt - now));
    const held = await this.#runner.run(
      'set',
      () =>
        this.#runner.eval(SET_IF_NEWER, this.#tokenKey(key), [
          value,
          String(expiresAt ?? -1),
          String(bounded.obtainedAt),
          String(ttlMs),
        ]),
      [token.accessToken, value],
      { critical: options?.critical === true },
    );
    if (held === value || typeof held !== 'string') return bounded;
    // The entry holds a newer token; if we cannot read it, we keep ours (and an event says why).
    return this.#decode(key, held) ?? bounded;
  }

  async delete(key: string, accessToken: string): Promise<boolean> {
    const deleted = await this.#runner.run(
      'delete',
      () => this.#runner.eval(DELETE_IF_TOKEN, this.#tokenKey(key), [sha256(accessToken)]),
      [accessToken],
    );
    return deleted === 1;
  }

  async lock(key: string, options: TokenStoreLockOptions): Promise<TokenStoreLock | undefined> {
    // A rotating refresh token is presented once: its lock must not be evictable (eviction.ts).
    if (options.rotating === true) await this.#eviction.assertSafe();
    return takeLock(this.#runner, this.keyNames(key).lock, {
      ...options,
      leaseMs: this.#lockLeaseMs,
      pollMs: this.#lockPollMs,
      now: this.#now,
    });
  }

  /** The key names this store uses for `key`, e.g. to inspect or clear them by hand. */
  keyNames(key: string): { token: string; lock: string } {
    return { token: this.#tokenKey(key), lock: `${this.#prefix}lock:${key}` };
  }

  #tokenKey(key: string): string {
    return `${this.#prefix}token:${key}`;
  }

  #emit(event: RedisTokenStoreEvent): void {
    try {
      this.#onEvent?.(event);
    } catch {
      // A listener's failure must never break a request.
    }
  }

  /** The token in an entry, or `undefined` (with an event) if it cannot be read. */
  #decode(key: string, raw: string): StoredToken | undefined {
    const read = decodeEntry(key, raw, this.#cipher);
    if ('accessToken' in read) return read;
    this.#emit({ type: 'redis-entry-unreadable', key, reason: read.reason, keyId: read.keyId });
    return undefined;
  }
}
