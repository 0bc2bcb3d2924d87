import { RedisTokenStoreError } from './errors.js';
import type { CommandRunner } from './runner.js';
import type { RedisEvictionCheck, RedisTokenStoreEvent } from './types.js';

// Rules of the lock that guards a rotating refresh token (RFC 9700 §4.14: each one is presented
// once), enforced here:
//
// - Redis may evict any key under memory pressure unless `maxmemory-policy` is `noeviction` or no
//   `maxmemory` is set (then it never evicts). The lock has a TTL, so the `volatile-*` policies can
//   evict it too, and `volatile-ttl` picks it first (the shortest TTL). An evicted lock lets a
//   second process take it and present the same refresh token: the server sees a reuse and ends
//   the session. So such a lock is refused on any other setting, with a typed error and an event
//   naming the policy.
// - When the store cannot read the settings (`CONFIG` renamed, disabled or not permitted, as on
//   managed Redis) the answer is "unknown", refused the same way, unless the operator said they
//   checked (`evictionPolicy: 'checked-by-operator'`): then nothing is read.
// - The verdict is kept `EVICTION_RECHECK_MS`, then read again (one read at a time), so a later
//   `CONFIG SET` is noticed. A read that fails because Redis is down or slow is not a verdict:
//   it fails that lock like any Redis failure, and the next lock asks again.
// - Locks for other tokens are never refused: an evicted lock or entry costs a token request.

/** How long a verdict on Redis's eviction settings is kept before they are read again. */
export const EVICTION_RECHECK_MS = 60_000;

type Verdict = { safe: true } | { safe: false; error: RedisTokenStoreError };

/** The settings a `CONFIG GET maxmemory*` reply holds. */
interface MemorySettings {
  policy: string | undefined;
  maxmemory: string | undefined;
}

/** ioredis answers `CONFIG GET` with `[name, value, name, value…]` (RESP2), or a map (RESP3). */
function readReply(reply: unknown): MemorySettings {
  const pairs: unknown[] = Array.isArray(reply)
    ? reply
    : typeof reply === 'object' && reply !== null
      ? Object.entries(reply).flat()
      : [];
  const settings: MemorySettings = { policy: undefined, maxmemory: undefined };
  for (let index = 0; index + 1 < pairs.length; index += 2) {
    const [name, value] = [pairs[index], pairs[index + 1]];
    if (typeof value !== 'string') continue;
    if (name === 'maxmemory-policy') settings.policy = value;
    if (name === 'maxmemory') settings.maxmemory = value;
  }
  return settings;
}

/** What one server's settings mean for the lock; `undefined` when they allow no eviction. */
function unsafeSettings({ policy, maxmemory }: MemorySettings): string | undefined {
  if (policy === 'noeviction' || maxmemory === '0') return undefined;
  if (policy === undefined) return 'Redis did not say its maxmemory-policy';
  return `Redis's maxmemory-policy is "${policy}" with maxmemory set: it may evict the lock that guards a rotating refresh token (the lock has a TTL), and two processes could then present one refresh token`;
}

const ADVICE =
  '; set maxmemory-policy to noeviction (or give this store a Redis without maxmemory). Access tokens are not affected';

/** Refuses, for locks that guard a rotating refresh token, a Redis that may evict them. */
export class EvictionGuard {
  readonly #runner: CommandRunner;
  readonly #check: RedisEvictionCheck;
  readonly #now: () => number;
  readonly #emit: (event: RedisTokenStoreEvent) => void;
  #verdict: { value: Verdict; until: number } | undefined;
  #reading: Promise<Verdict> | undefined;

  constructor(
    runner: CommandRunner,
    options: { check: RedisEvictionCheck; now: () => number; emit: (event: RedisTokenStoreEvent) => void },
  ) {
    this.#runner = runner;
    this.#check = options.check;
    this.#now = options.now;
    this.#emit = options.emit;
  }

  /** Resolves when a lock that guards a rotating refresh token may be taken; rejects with why not. */
  async assertSafe(): Promise<void> {
    if (this.#check === 'checked-by-operator') return;
    const known = this.#verdict;
    const verdict =
      known !== undefined && this.#now() < known.until ? known.value : await (this.#reading ??= this.#read());
    if (!verdict.safe) throw verdict.error;
  }

  async #read(): Promise<Verdict> {
    try {
      const value = await this.#settle();
      this.#verdict = { value, until: this.#now() + EVICTION_RECHECK_MS };
      return value;
    } finally {
      this.#reading = undefined;
    }
  }

  /** Reads every server's settings (each master of a cluster) and judges them. */
  async #settle(): Promise<Verdict> {
    let settings: MemorySettings[];
    try {
      settings = await this.#readSettings();
    } catch (error) {
      // Redis down or slow: not a verdict (thrown, kept for no one). Redis refusing CONFIG: unknown.
      if (!(error instanceof RedisTokenStoreError) || error.code !== 'ERR_REDIS_COMMAND') throw error;
      return this.#refuse(
        undefined,
        `the store could not read Redis's maxmemory-policy (${error.message}), so it cannot tell whether its lock may be evicted; make sure the policy is noeviction and pass \`evictionPolicy: 'checked-by-operator'\``,
      );
    }
    for (const one of settings) {
      const problem = unsafeSettings(one);
      if (problem !== undefined) return this.#refuse(one.policy, `${problem}${ADVICE}`);
    }
    return { safe: true };
  }

  #refuse(policy: string | undefined, detail: string): Verdict {
    this.#emit({ type: 'redis-eviction-unsafe', policy });
    const message = `RedisTokenStore refuses to lock a rotating refresh token: ${detail}`;
    return { safe: false, error: new RedisTokenStoreError(message, 'ERR_REDIS_EVICTION_POLICY', 'lock') };
  }

  #readSettings(): Promise<MemorySettings[]> {
    const client = this.#runner.client;
    const masters = typeof client.nodes === 'function' ? client.nodes('master') : [client];
    return Promise.all(
      masters.map(async (node) => {
        if (typeof node.config !== 'function') {
          throw new RedisTokenStoreError(
            'Redis config failed: the client has no `config` command',
            'ERR_REDIS_COMMAND',
            'config',
          );
        }
        const config = node.config.bind(node);
        return readReply(await this.#runner.run('config', () => config('GET', 'maxmemory*')));
      }),
    );
  }
}
