import { createCipheriv, createDecipheriv, createHash, createSecretKey, randomBytes, randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { unrefTimer } from '../async.js';
import { invalidOption } from '../errors.js';
import type { StoredToken, TokenStore, TokenStoreLock, TokenStoreLockOptions } from '../store.js';
import { checkFunction, describe, expectKnownKeys, expectNumber, expectOptions, isPlainObject } from '../validate.js';

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
  /** After Redis failed, skip it (fail fast) for this long, then let one call through to probe it. */
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
} as const;

/** A Redis operation of the store, as named in its events and errors. */
export type RedisStoreOperation = 'get' | 'set' | 'delete' | 'lock' | 'renew' | 'release';

/**
 * Why a Redis operation failed:
 *
 * - `ERR_REDIS_UNAVAILABLE`: the connection is down, or Redis failed a moment ago and is skipped
 *   until `retryAfterMs` has passed (nothing was sent).
 * - `ERR_REDIS_TIMEOUT`: Redis took longer than `commandTimeoutMs`.
 * - `ERR_REDIS_COMMAND`: Redis answered with an error (a wrong type under the key, a script error…).
 */
export type RedisTokenStoreErrorCode = 'ERR_REDIS_UNAVAILABLE' | 'ERR_REDIS_TIMEOUT' | 'ERR_REDIS_COMMAND';

/**
 * What a {@link RedisTokenStore} operation rejects with. tokenflight reports it in a `store-failed`
 * event and carries on without the store. Its message never holds a token, a key or a value; the
 * underlying ioredis error (which may list the command's arguments) is not attached.
 */
export class RedisTokenStoreError extends Error {
  override name = 'RedisTokenStoreError';
  readonly code: RedisTokenStoreErrorCode;
  readonly operation: RedisStoreOperation;

  /** @ignore */
  constructor(message: string, code: RedisTokenStoreErrorCode, operation: RedisStoreOperation) {
    super(message);
    this.code = code;
    this.operation = operation;
  }

  /** A plain object with the facts of the error. */
  toJSON(): Record<string, unknown> {
    return { name: this.name, message: this.message, code: this.code, operation: this.operation };
  }
}

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
      /** Redis is skipped this long before it is tried again. */
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
  /** After a failure, Redis is skipped for this long, then probed by the next call. @default 5_000 */
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
  /** Receives {@link RedisTokenStoreEvent}s. It must not throw; if it does, the error is ignored. */
  onEvent?: (event: RedisTokenStoreEvent) => void;
  /** The clock, in epoch ms. @default Date.now */
  now?: () => number;
}

/** The ioredis calls the store makes; `Redis` and `Cluster` both have them. */
interface RedisCommands {
  readonly status?: string;
  once?(event: 'ready' | 'close', listener: () => void): unknown;
  removeListener?(event: 'ready' | 'close', listener: () => void): unknown;
  get(key: string): Promise<string | null>;
  set(key: string, value: string, px: 'PX', milliseconds: number, nx: 'NX'): Promise<'OK' | null>;
  evalsha(sha: string, numKeys: number, ...args: string[]): Promise<unknown>;
  eval(script: string, numKeys: number, ...args: string[]): Promise<unknown>;
}

interface LuaScript {
  readonly source: string;
  readonly sha: string;
}

function lua(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

// Each script touches one key, so they run on Redis Cluster without hash tags.

/** Newer wins: replaces the entry only with a token that expires later (null = never), or as late but obtained later. */
const SET_IF_NEWER = lua(`
local current = redis.call('GET', KEYS[1])
if current then
  local ok, entry = pcall(cjson.decode, current)
  if ok and type(entry) == 'table' and type(entry.obtainedAt) == 'number' then
    local held = entry.expiresAt
    if type(held) ~= 'number' then held = math.huge end
    local offered = tonumber(ARGV[2])
    if offered < 0 then offered = math.huge end
    local obtained = tonumber(ARGV[3])
    if not (offered > held or (offered == held and obtained > entry.obtainedAt)) then
      return current
    end
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4])
return ARGV[1]
`);

/** Compare-and-delete of a token entry, by the SHA-256 of its token (stored beside it in clear). */
const DELETE_IF_TOKEN = lua(`
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local ok, entry = pcall(cjson.decode, current)
if ok and type(entry) == 'table' and entry.fp == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`);

/** Extends a lock's time to live, if its owner still holds it. */
const RENEW_IF_OWNER = lua(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`);

/** Compare-and-delete of a lock, by its owner id (redis.io, "Distributed locks with Redis"). */
const RELEASE_IF_OWNER = lua(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`);

/** An entry as stored in Redis (JSON). Expiry and fingerprint stay in clear so the scripts can compare them. */
interface Entry {
  v: 1;
  tokenType: string;
  expiresAt: number | null;
  obtainedAt: number;
  /** SHA-256 (hex) of the access token. */
  fp: string;
  /** The token in clear, when the store does not encrypt. */
  accessToken?: string;
  /** Key id, IV, tag and ciphertext (base64), when it does. */
  kid?: string;
  iv?: string;
  tag?: string;
  ct?: string;
}

interface Cipher {
  readonly keys: ReadonlyMap<string, KeyObject>;
  readonly currentKeyId: string;
}

interface Breaker {
  /** When the first failure of this outage happened. */
  since: number;
  /** Until then, calls fail fast without reaching Redis. */
  openUntil: number;
  /** Settles when the call probing Redis right now has its answer; the others wait for it. */
  probe: Promise<void> | undefined;
  reason: string;
}

/** Replies that mean "Redis cannot serve right now" rather than "this command is wrong". */
const UNAVAILABLE_REPLY = /^(LOADING|MASTERDOWN|READONLY|CLUSTERDOWN|TRYAGAIN|BUSY)\b/;
/** ioredis statuses in which a command would only wait in the offline queue. */
const DOWN_STATUSES: ReadonlySet<string> = new Set(['reconnecting', 'close', 'end']);
/**
 * ioredis statuses in which the connection is being made: a command sent now would wait in the
 * offline queue and could run long after we stopped waiting for it, so we wait for `ready` instead.
 */
const CONNECTING_STATUSES: ReadonlySet<string> = new Set(['connecting', 'connect']);
const KEY_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const OPTION_KEYS = [
  'prefix',
  'encryption',
  'commandTimeoutMs',
  'retryAfterMs',
  'lockPollMs',
  'lockLeaseMs',
  'maxTtlMs',
  'onEvent',
  'now',
];
const CONTEXT = 'new RedisTokenStore()';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const noop = (): void => undefined;

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
 *   after a failure Redis is skipped for `retryAfterMs` (tokenflight works per process meanwhile)
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
  readonly #client: RedisCommands;
  readonly #prefix: string;
  readonly #cipher: Cipher | undefined;
  readonly #commandTimeoutMs: number;
  readonly #retryAfterMs: number;
  readonly #lockPollMs: number;
  readonly #lockLeaseMs: number;
  readonly #maxTtlMs: number;
  readonly #onEvent: ((event: RedisTokenStoreEvent) => void) | undefined;
  readonly #now: () => number;
  #breaker: Breaker | undefined;

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

    this.#client = client;
    this.#prefix = prefix;
    this.#cipher = options.encryption === undefined ? undefined : readEncryption(options.encryption);
    this.#commandTimeoutMs = number('commandTimeoutMs', 1);
    this.#retryAfterMs = number('retryAfterMs', 0);
    this.#lockPollMs = number('lockPollMs', 1);
    this.#lockLeaseMs = number('lockLeaseMs', 3);
    this.#maxTtlMs = number('maxTtlMs', 1);
    this.#onEvent = options.onEvent;
    this.#now = options.now ?? Date.now;
  }

  async get(key: string): Promise<StoredToken | undefined> {
    const raw = await this.#run('get', () => this.#client.get(this.#tokenKey(key)));
    if (raw === null) return undefined;
    const token = this.#decode(key, raw);
    if (token?.expiresAt != null && token.expiresAt <= this.#now()) return undefined;
    return token;
  }

  async set(key: string, token: StoredToken): Promise<StoredToken> {
    const value = this.#encode(key, token);
    const ttlMs = token.expiresAt === null ? this.#maxTtlMs : Math.max(1, Math.ceil(token.expiresAt - this.#now()));
    const held = await this.#run(
      'set',
      () =>
        this.#eval(SET_IF_NEWER, this.#tokenKey(key), [
          value,
          String(token.expiresAt ?? -1),
          String(token.obtainedAt),
          String(Math.min(ttlMs, Number.MAX_SAFE_INTEGER)),
        ]),
      [token.accessToken, value],
    );
    if (held === value || typeof held !== 'string') return token;
    // The entry holds a newer token; if we cannot read it, we keep ours (and an event says why).
    return this.#decode(key, held) ?? token;
  }

  async delete(key: string, accessToken: string): Promise<boolean> {
    const deleted = await this.#run(
      'delete',
      () => this.#eval(DELETE_IF_TOKEN, this.#tokenKey(key), [sha256(accessToken)]),
      [accessToken],
    );
    return deleted === 1;
  }

  async lock(key: string, options: TokenStoreLockOptions): Promise<TokenStoreLock | undefined> {
    const lockKey = `${this.#prefix}lock:${key}`;
    const owner = randomUUID();
    const ttlMs = Math.max(1, Math.ceil(options.ttlMs));
    const leaseMs = Math.min(ttlMs, this.#lockLeaseMs);
    const deadline = this.#now() + options.waitMs;
    const { signal } = options;
    // Waiters poll with jitter rather than subscribe: no extra connection per process, and a
    // missed message can never strand a waiter. Polling happens only while a token is being fetched.
    for (;;) {
      if (signal?.aborted === true) return undefined;
      const reply = await this.#run('lock', () => this.#client.set(lockKey, owner, 'PX', leaseMs, 'NX'), [], {
        // Taken after we stopped waiting for the answer (a reply delayed past commandTimeoutMs):
        // give it back at once rather than block the fleet.
        onLate: (late) => {
          if (late === 'OK') this.#releaseLock(lockKey, owner).catch(noop);
        },
      });
      if (reply === 'OK') return this.#held(lockKey, owner, leaseMs, this.#now() + ttlMs);
      const remaining = deadline - this.#now();
      if (remaining <= 0) return undefined;
      await pause(Math.min(remaining, this.#lockPollMs * (0.5 + Math.random())), signal);
    }
  }

  /** A held lock: its lease is renewed every third of `leaseMs` until it is released or `until` passes. */
  #held(lockKey: string, owner: string, leaseMs: number, until: number): TokenStoreLock {
    let released = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const renew = (): void => {
      const remaining = Math.ceil(until - this.#now());
      if (released || remaining <= 0) return;
      const lease = String(Math.min(leaseMs, remaining));
      this.#run('renew', () => this.#eval(RENEW_IF_OWNER, lockKey, [owner, lease])).then((renewed) => {
        // 0: the lock was lost (expired and taken, or deleted); an error: Redis failed. Stop either way.
        if (renewed === 1) schedule();
      }, noop);
    };
    const schedule = (): void => {
      if (!released) timer = unrefTimer(renew, leaseMs / 3);
    };
    // A lease as long as the lock was asked for needs no renewal.
    if (leaseMs < until - this.#now()) schedule();
    return {
      release: async () => {
        if (released) return;
        released = true;
        if (timer !== undefined) clearTimeout(timer);
        await this.#releaseLock(lockKey, owner);
      },
    };
  }

  /** The key names this store uses for `key`, e.g. to inspect or clear them by hand. */
  keyNames(key: string): { token: string; lock: string } {
    return { token: this.#tokenKey(key), lock: `${this.#prefix}lock:${key}` };
  }

  async #releaseLock(lockKey: string, owner: string): Promise<void> {
    await this.#run('release', () => this.#eval(RELEASE_IF_OWNER, lockKey, [owner]));
  }

  #tokenKey(key: string): string {
    return `${this.#prefix}token:${key}`;
  }

  async #eval(script: LuaScript, key: string, args: string[]): Promise<unknown> {
    try {
      return await this.#client.evalsha(script.sha, 1, key, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return this.#client.eval(script.source, 1, key, ...args);
    }
  }

  /**
   * Runs one Redis operation within `commandTimeoutMs`, behind a circuit breaker: after a failure
   * Redis is skipped (fail fast, nothing sent) for `retryAfterMs`, then one call probes it.
   * Errors are replaced by a `RedisTokenStoreError` whose message is scrubbed of `secrets`.
   */
  async #run<T>(
    operation: RedisStoreOperation,
    command: () => Promise<T>,
    secrets: readonly string[] = [],
    hooks: { onLate?: (value: T) => void } = {},
  ): Promise<T> {
    const endProbe = await this.#admit(operation);
    try {
      return await this.#attempt(operation, command, secrets, hooks.onLate);
    } finally {
      endProbe?.();
    }
  }

  /**
   * Lets a call through to Redis, or throws at once while the breaker is open. Past `retryAfterMs`
   * the first call probes Redis; calls arriving meanwhile wait for its outcome (bounded by
   * `commandTimeoutMs`) rather than being turned away by a Redis that may be back.
   */
  async #admit(operation: RedisStoreOperation): Promise<(() => void) | undefined> {
    for (;;) {
      const breaker = this.#breaker;
      if (breaker === undefined) return undefined;
      if (breaker.probe !== undefined) {
        await breaker.probe;
        continue;
      }
      const wait = Math.ceil(breaker.openUntil - this.#now());
      if (wait > 0) {
        throw new RedisTokenStoreError(
          `Redis is unavailable (${breaker.reason}); skipped for another ${wait} ms`,
          'ERR_REDIS_UNAVAILABLE',
          operation,
        );
      }
      let endProbe = noop;
      breaker.probe = new Promise<void>((resolve) => (endProbe = resolve));
      return () => {
        breaker.probe = undefined;
        endProbe();
      };
    }
  }

  async #attempt<T>(
    operation: RedisStoreOperation,
    command: () => Promise<T>,
    secrets: readonly string[],
    onLate: ((value: T) => void) | undefined,
  ): Promise<T> {
    let outcome: { value: T } | { error: RedisTokenStoreError; unavailable: boolean };
    const startedAt = this.#now();
    const connected = await this.#whenConnected(this.#commandTimeoutMs);
    const status = this.#client.status;
    if (!connected || (status !== undefined && DOWN_STATUSES.has(status))) {
      const error = new RedisTokenStoreError(
        `Redis ${operation} failed: the connection is ${status ?? 'down'}`,
        'ERR_REDIS_UNAVAILABLE',
        operation,
      );
      outcome = { error, unavailable: true };
    } else {
      const timeoutMs = Math.max(1, this.#commandTimeoutMs - (this.#now() - startedAt));
      outcome = await this.#bounded(operation, command, secrets, onLate, timeoutMs);
    }
    if ('value' in outcome) {
      this.#closeBreaker(operation);
      return outcome.value;
    }
    if (outcome.unavailable) this.#openBreaker(operation, outcome.error);
    // Redis answered (with an error): it is reachable.
    else this.#closeBreaker(operation);
    throw outcome.error;
  }

  #bounded<T>(
    operation: RedisStoreOperation,
    command: () => Promise<T>,
    secrets: readonly string[],
    onLate: ((value: T) => void) | undefined,
    timeoutMs: number,
  ): Promise<{ value: T } | { error: RedisTokenStoreError; unavailable: boolean }> {
    return new Promise((resolve) => {
      let settled = false;
      const timer = unrefTimer(() => {
        settled = true;
        const message = `Redis ${operation} took longer than ${this.#commandTimeoutMs} ms`;
        resolve({ error: new RedisTokenStoreError(message, 'ERR_REDIS_TIMEOUT', operation), unavailable: true });
      }, timeoutMs);
      let pending: Promise<T>;
      try {
        pending = command();
      } catch (error) {
        pending = Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
      pending.then(
        (value) => {
          if (settled) {
            onLate?.(value);
            return;
          }
          settled = true;
          clearTimeout(timer);
          resolve({ value });
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve(describeFailure(operation, error, secrets));
        },
      );
    });
  }

  /** True at once unless the connection is being made; then true once it is ready, false if it closes or takes too long. */
  #whenConnected(timeoutMs: number): Promise<boolean> {
    const client = this.#client;
    if (!CONNECTING_STATUSES.has(client.status ?? '') || client.once === undefined) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (connected: boolean): void => {
        clearTimeout(timer);
        client.removeListener?.('ready', onReady);
        client.removeListener?.('close', onClose);
        resolve(connected);
      };
      const onReady = (): void => finish(true);
      const onClose = (): void => finish(false);
      const timer = unrefTimer(() => finish(false), timeoutMs);
      client.once?.('ready', onReady);
      client.once?.('close', onClose);
    });
  }

  #openBreaker(operation: RedisStoreOperation, error: RedisTokenStoreError): void {
    const now = this.#now();
    const previous = this.#breaker;
    this.#breaker = {
      since: previous?.since ?? now,
      openUntil: now + this.#retryAfterMs,
      probe: undefined,
      reason: error.code === 'ERR_REDIS_TIMEOUT' ? 'timed out' : error.message.replace(/^Redis \w+ failed: /, ''),
    };
    if (previous === undefined) {
      this.#emit({ type: 'redis-unavailable', operation, error, retryAfterMs: this.#retryAfterMs });
    }
  }

  #closeBreaker(operation: RedisStoreOperation): void {
    const breaker = this.#breaker;
    if (breaker === undefined) return;
    this.#breaker = undefined;
    this.#emit({ type: 'redis-recovered', operation, unavailableForMs: this.#now() - breaker.since });
  }

  #emit(event: RedisTokenStoreEvent): void {
    try {
      this.#onEvent?.(event);
    } catch {
      // A listener's failure must never break a request.
    }
  }

  #encode(key: string, token: StoredToken): string {
    const entry: Entry = {
      v: 1,
      tokenType: token.tokenType,
      expiresAt: token.expiresAt,
      obtainedAt: token.obtainedAt,
      fp: sha256(token.accessToken),
    };
    const cipher = this.#cipher;
    if (cipher === undefined) return JSON.stringify({ ...entry, accessToken: token.accessToken });
    const secretKey = cipher.keys.get(cipher.currentKeyId) as KeyObject;
    const iv = randomBytes(12);
    const aes = createCipheriv('aes-256-gcm', secretKey, iv);
    aes.setAAD(additionalData(key, entry, cipher.currentKeyId));
    const ct = Buffer.concat([aes.update(token.accessToken, 'utf8'), aes.final()]);
    return JSON.stringify({
      ...entry,
      kid: cipher.currentKeyId,
      iv: iv.toString('base64'),
      tag: aes.getAuthTag().toString('base64'),
      ct: ct.toString('base64'),
    });
  }

  /** The token in an entry, or `undefined` (with an event) if it cannot be read. */
  #decode(key: string, raw: string): StoredToken | undefined {
    const read = this.#read(key, raw);
    if ('accessToken' in read) return read;
    this.#emit({ type: 'redis-entry-unreadable', key, reason: read.reason, keyId: read.keyId });
    return undefined;
  }

  #read(key: string, raw: string): StoredToken | { reason: UnreadableEntryReason; keyId: string | undefined } {
    const entry = parseEntry(raw);
    if (entry === undefined) return { reason: 'malformed', keyId: undefined };
    const facts = { tokenType: entry.tokenType, expiresAt: entry.expiresAt, obtainedAt: entry.obtainedAt };
    const keyId = entry.kid;
    if (keyId === undefined) {
      if (entry.accessToken === undefined) return { reason: 'malformed', keyId };
      if (this.#cipher !== undefined) return { reason: 'not-encrypted', keyId };
      return { accessToken: entry.accessToken, ...facts };
    }
    const secretKey = this.#cipher?.keys.get(keyId);
    if (secretKey === undefined) return { reason: 'unknown-key-id', keyId };
    try {
      const aes = createDecipheriv('aes-256-gcm', secretKey, Buffer.from(entry.iv ?? '', 'base64'));
      aes.setAAD(additionalData(key, entry, keyId));
      aes.setAuthTag(Buffer.from(entry.tag ?? '', 'base64'));
      const ct = Buffer.from(entry.ct ?? '', 'base64');
      const accessToken = Buffer.concat([aes.update(ct), aes.final()]).toString('utf8');
      if (sha256(accessToken) !== entry.fp) return { reason: 'decryption-failed', keyId };
      return { accessToken, ...facts };
    } catch {
      return { reason: 'decryption-failed', keyId };
    }
  }
}

/**
 * Binds a ciphertext to its store key and to the metadata kept in clear, so neither can be swapped
 * or altered (to stretch a token's expiry, say) without decryption failing.
 */
function additionalData(key: string, entry: Entry, keyId: string): Buffer {
  return Buffer.from(
    JSON.stringify(['tokenflight/redis/v1', key, keyId, entry.tokenType, entry.expiresAt, entry.obtainedAt, entry.fp]),
  );
}

function parseEntry(raw: string): Entry | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!isPlainObject(value) || value['v'] !== 1) return undefined;
  const { tokenType, expiresAt, obtainedAt, fp } = value;
  const isText = (field: unknown): field is string => typeof field === 'string';
  if (!isText(tokenType) || !isText(fp) || typeof obtainedAt !== 'number') return undefined;
  if (expiresAt !== null && typeof expiresAt !== 'number') return undefined;
  const entry: Entry = { v: 1, tokenType, expiresAt, obtainedAt, fp };
  const { accessToken, kid, iv, tag, ct } = value;
  if (isText(kid)) {
    if (!isText(iv) || !isText(tag) || !isText(ct)) return undefined;
    return { ...entry, kid, iv, tag, ct };
  }
  return isText(accessToken) && accessToken !== '' ? { ...entry, accessToken } : entry;
}

function describeFailure(
  operation: RedisStoreOperation,
  error: unknown,
  secrets: readonly string[],
): { error: RedisTokenStoreError; unavailable: boolean } {
  const name = error instanceof Error ? error.name : 'Error';
  let detail = error instanceof Error ? error.message : String(error);
  for (const secret of secrets) if (secret !== '') detail = detail.split(secret).join('[redacted]');
  if (detail.length > 200) detail = `${detail.slice(0, 200)}…`;
  const isReply = name === 'ReplyError';
  const unavailable = !isReply || UNAVAILABLE_REPLY.test(detail);
  const code = unavailable ? 'ERR_REDIS_UNAVAILABLE' : 'ERR_REDIS_COMMAND';
  return { error: new RedisTokenStoreError(`Redis ${operation} failed: ${detail}`, code, operation), unavailable };
}

function readEncryption(value: unknown): Cipher {
  const given = expectOptions(value, `${CONTEXT} \`encryption\``);
  expectKnownKeys(given, ['keys', 'currentKeyId'], `${CONTEXT} \`encryption\``);
  const { keys, currentKeyId } = given;
  if (!isPlainObject(keys) || Object.keys(keys).length === 0) {
    throw invalidOption(
      `${CONTEXT}: expected \`encryption.keys\` to be an object of keys by key id, got ${describe(keys)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  const map = new Map<string, KeyObject>();
  for (const [id, material] of Object.entries(keys)) {
    if (!KEY_ID.test(id)) {
      throw invalidOption(
        `${CONTEXT}: expected the key ids of \`encryption.keys\` to be 1 to 64 letters, digits or ._:- characters`,
      );
    }
    let bytes: Buffer | undefined;
    if (material instanceof Uint8Array) bytes = Buffer.from(material);
    else if (typeof material === 'string' && /^[A-Za-z0-9+/]+={0,2}$/.test(material.trim()))
      bytes = Buffer.from(material.trim(), 'base64');
    if (bytes?.length !== 32) {
      const got = bytes === undefined ? describe(material) : `${bytes.length} bytes`;
      throw invalidOption(
        `${CONTEXT}: expected \`encryption.keys["${id}"]\` to be a 32-byte key (a Buffer or a base64 string), got ${got}`,
      );
    }
    map.set(id, createSecretKey(bytes));
  }
  if (typeof currentKeyId !== 'string' || !map.has(currentKeyId)) {
    throw invalidOption(
      `${CONTEXT}: expected \`encryption.currentKeyId\` to name one of \`encryption.keys\` (${[...map.keys()].join(', ')}), got ${
        typeof currentKeyId === 'string' ? `"${currentKeyId}"` : describe(currentKeyId)
      }`,
    );
  }
  return { keys: map, currentKeyId };
}

function isRedisClient(value: unknown): value is RedisCommands {
  if (typeof value !== 'object' || value === null) return false;
  const client = value as Record<string, unknown>;
  return ['get', 'set', 'eval', 'evalsha'].every((method) => typeof client[method] === 'function');
}

/** Resolves after `ms`, or as soon as `signal` aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = unrefTimer(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
