import { unrefTimer } from '../../shared/async.js';
import { redactText } from '../../shared/redact.js';
import type { CircuitBreaker } from './breaker.js';
import { RedisTokenStoreError } from './errors.js';
import type { LuaScript } from './scripts.js';
import type { RedisStoreOperation } from './types.js';

/** The ioredis calls the store makes; `Redis` and `Cluster` both have them. */
export interface RedisCommands {
  readonly status?: string;
  once?(event: 'ready' | 'close', listener: () => void): unknown;
  removeListener?(event: 'ready' | 'close', listener: () => void): unknown;
  get(key: string): Promise<string | null>;
  set(key: string, value: string, px: 'PX', milliseconds: number, nx: 'NX'): Promise<'OK' | null>;
  evalsha(sha: string, numKeys: number, ...args: string[]): Promise<unknown>;
  eval(script: string, numKeys: number, ...args: string[]): Promise<unknown>;
  /** `CONFIG GET`, to read the eviction settings (lib/stores/redis/eviction.ts). */
  config?(subcommand: 'GET', pattern: string): Promise<unknown>;
  /** A cluster's nodes: each master's settings are read. */
  nodes?(role: 'master'): RedisCommands[];
}

export function isRedisClient(value: unknown): value is RedisCommands {
  if (typeof value !== 'object' || value === null) return false;
  const client = value as Record<string, unknown>;
  return ['get', 'set', 'eval', 'evalsha'].every((method) => typeof client[method] === 'function');
}

type Outcome<T> = { value: T } | { error: RedisTokenStoreError; unavailable: boolean };

/** Replies that mean "Redis cannot serve right now" rather than "this command is wrong". */
const UNAVAILABLE_REPLY = /^(LOADING|MASTERDOWN|READONLY|CLUSTERDOWN|TRYAGAIN|BUSY)\b/;
/** ioredis statuses in which a command would only wait in the offline queue. */
const DOWN_STATUSES: ReadonlySet<string> = new Set(['reconnecting', 'close', 'end']);
/**
 * ioredis statuses in which the connection is being made: a command sent now would wait in the
 * offline queue and could run long after we stopped waiting for it, so we wait for `ready` instead.
 */
const CONNECTING_STATUSES: ReadonlySet<string> = new Set(['connecting', 'connect']);

function describeFailure(
  operation: RedisStoreOperation,
  error: unknown,
  secrets: readonly string[],
): { error: RedisTokenStoreError; unavailable: boolean } {
  const name = error instanceof Error ? error.name : 'Error';
  let detail = redactText(error instanceof Error ? error.message : String(error), secrets);
  if (detail.length > 200) detail = `${detail.slice(0, 200)}…`;
  const isReply = name === 'ReplyError';
  const unavailable = !isReply || UNAVAILABLE_REPLY.test(detail);
  const code = unavailable ? 'ERR_REDIS_UNAVAILABLE' : 'ERR_REDIS_COMMAND';
  return { error: new RedisTokenStoreError(`Redis ${operation} failed: ${detail}`, code, operation), unavailable };
}

/**
 * Runs the store's Redis operations: each within `commandTimeoutMs`, never queued while the
 * connection is down, behind the circuit breaker. Errors become {@link RedisTokenStoreError}s.
 */
export class CommandRunner {
  readonly #client: RedisCommands;
  readonly #commandTimeoutMs: number;
  readonly #breaker: CircuitBreaker;
  readonly #now: () => number;

  constructor(
    client: RedisCommands,
    options: { commandTimeoutMs: number; breaker: CircuitBreaker; now: () => number },
  ) {
    this.#client = client;
    this.#commandTimeoutMs = options.commandTimeoutMs;
    this.#breaker = options.breaker;
    this.#now = options.now;
  }

  get client(): RedisCommands {
    return this.#client;
  }

  /** Runs a script by its SHA-1, sending its source when Redis does not have it. */
  async eval(script: LuaScript, key: string, args: string[]): Promise<unknown> {
    try {
      return await this.#client.evalsha(script.sha, 1, key, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return this.#client.eval(script.source, 1, key, ...args);
    }
  }

  /**
   * Runs one Redis operation. `secrets` are scrubbed from the error message; `onLate` receives a
   * value that arrived after the operation had already timed out. A `critical` operation is sent
   * even while the breaker is open (its outcome still opens or closes it).
   */
  async run<T>(
    operation: RedisStoreOperation,
    command: () => Promise<T>,
    secrets: readonly string[] = [],
    hooks: { onLate?: (value: T) => void; critical?: boolean } = {},
  ): Promise<T> {
    const endProbe = hooks.critical === true ? undefined : await this.#breaker.admit(operation);
    try {
      return await this.#attempt(operation, command, secrets, hooks.onLate);
    } finally {
      endProbe?.();
    }
  }

  async #attempt<T>(
    operation: RedisStoreOperation,
    command: () => Promise<T>,
    secrets: readonly string[],
    onLate: ((value: T) => void) | undefined,
  ): Promise<T> {
    let outcome: Outcome<T>;
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
      this.#breaker.close(operation);
      return outcome.value;
    }
    if (outcome.unavailable) this.#breaker.open(operation, outcome.error);
    // Redis answered (with an error): it is reachable.
    else this.#breaker.close(operation);
    throw outcome.error;
  }

  #bounded<T>(
    operation: RedisStoreOperation,
    command: () => Promise<T>,
    secrets: readonly string[],
    onLate: ((value: T) => void) | undefined,
    timeoutMs: number,
  ): Promise<Outcome<T>> {
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
}
