import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals';
import axios from 'axios';
import type { Redis } from 'ioredis';
import {
  attachTokenAuth,
  isTokenRequestError,
  refreshTokenGrant,
  type TokenAuth,
  type TokenAuthEvent,
} from '../../lib/index.js';
import { RedisTokenStore, type RedisTokenStoreEvent, type RedisTokenStoreOptions } from '../../lib/redis.js';
import { EVICTION_RECHECK_MS } from '../../lib/stores/redis/eviction.js';
import {
  simulatedProvider,
  startAuthorizationServer,
  startProviderServer,
  type AuthorizationServer,
  type ProviderServer,
} from '../../lib/testing/index.js';
import { createClients, describeRedis, uniquePrefix } from './helpers/env.js';
import { startRedisServer, type RedisServer } from './helpers/redis-server.js';

// A rotating refresh token is presented once, under the store's lock: RedisTokenStore refuses that
// lock on a Redis that may evict it (maxmemory set and a policy other than noeviction; the lock has
// a TTL, so volatile-* policies can evict it), and when it cannot read the policy (CONFIG renamed
// or refused) unless told the operator checked it. Real redis-servers; the policy is changed with
// CONFIG SET while the stores run.
jest.setTimeout(60_000);

const clients = createClients();
let authServer: AuthorizationServer;
let symbl: ProviderServer;
/** maxmemory set, so the policy decides; CONFIG available. */
let redis: RedisServer;
/** CONFIG renamed away, as managed Redis services do. */
let locked: RedisServer;
let admin: Redis;
const handles: TokenAuth[] = [];

beforeAll(async () => {
  [authServer, symbl, redis, locked] = await Promise.all([
    startAuthorizationServer(),
    startProviderServer('symbl'),
    startRedisServer({ args: ['--maxmemory', '64mb', '--maxmemory-policy', 'noeviction'] }),
    startRedisServer({ args: ['--maxmemory', '64mb', '--rename-command', 'CONFIG', ''] }),
  ]);
  admin = clients.open(redis.port);
});
afterEach(async () => {
  for (const handle of handles.splice(0)) handle.eject();
  await admin.config('SET', 'maxmemory-policy', 'noeviction');
  await admin.config('SET', 'maxmemory', '64mb');
  authServer.resetStats();
});
afterAll(async () => {
  clients.closeAll();
  await Promise.all([authServer.close(), symbl.close(), redis.stop(), locked.stop()]);
});

/** A process on a refresh-token session, its store on `on`; `clock.offsetMs` moves its clock on. */
function refreshing(on: RedisServer, options: RedisTokenStoreOptions = {}) {
  const events: TokenAuthEvent[] = [];
  const redisEvents: RedisTokenStoreEvent[] = [];
  const clock = { offsetMs: 0 };
  const store = new RedisTokenStore(clients.open(on.port), {
    prefix: uniquePrefix('eviction'),
    onEvent: (event) => redisEvents.push(event),
    now: () => Date.now() + clock.offsetMs,
    ...options,
  });
  const auth = attachTokenAuth(axios.create({ baseURL: authServer.url }), {
    providers: refreshTokenGrant({
      tokenUrl: authServer.tokenUrl,
      clientId: 'public-client',
      refreshToken: authServer.issueRefreshToken({ clientId: 'public-client' }),
    }),
    store,
    onEvent: (event) => events.push(event),
  });
  handles.push(auth);
  const refresh = async (): Promise<unknown> => {
    await auth.invalidate();
    return auth.token().catch((error: unknown) => error);
  };
  return { auth, store, events, redisEvents, clock, refresh };
}

const codeOf = (outcome: unknown): string | undefined => (isTokenRequestError(outcome) ? outcome.code : undefined);
const storeFailures = (events: TokenAuthEvent[]) =>
  events.flatMap((event) =>
    event.type === 'store-failed' && event.operation === 'lock' ? [event.error as Error & { code?: string }] : [],
  );

/** How many CONFIG GET commands the server has run (Redis 7 counts subcommands apart, older ones together). */
async function configCalls(): Promise<number> {
  const stats = await admin.info('commandstats');
  return Number(/cmdstat_config(?:\|get)?:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

describeRedis('RedisTokenStore and the eviction policy', () => {
  test('noeviction: the refresh token rotates as usual', async () => {
    const session = refreshing(redis);
    await expect(session.auth.token()).resolves.toMatchObject({ tokenType: 'Bearer' });
    expect(authServer.stats.rotations).toBe(1);
    expect(session.redisEvents.filter((event) => event.type === 'redis-eviction-unsafe')).toEqual([]);
  });

  test.each(['volatile-ttl', 'volatile-lru', 'allkeys-lru', 'allkeys-random'])(
    '%s with maxmemory set: the lock is refused, no refresh token is presented, and the policy is named',
    async (policy) => {
      await admin.config('SET', 'maxmemory-policy', policy);
      const session = refreshing(redis);
      const outcome = await session.auth.token().catch((error: unknown) => error);
      expect(codeOf(outcome)).toBe('ERR_TOKEN_STORE_UNAVAILABLE');
      expect(authServer.stats.refreshRequests).toBe(0);
      const [failure] = storeFailures(session.events);
      expect(failure).toMatchObject({ name: 'RedisTokenStoreError', code: 'ERR_REDIS_EVICTION_POLICY' });
      expect(failure?.message).toContain(`maxmemory-policy is "${policy}"`);
      expect(failure?.message).toContain('set maxmemory-policy to noeviction');
      expect(session.redisEvents).toContainEqual({ type: 'redis-eviction-unsafe', policy });
    },
  );

  test('without maxmemory Redis never evicts: any policy is accepted', async () => {
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    await admin.config('SET', 'maxmemory', '0');
    const session = refreshing(redis);
    await expect(session.auth.token()).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  test('access tokens keep working through the store under an evicting policy', async () => {
    await admin.config('SET', 'maxmemory-policy', 'volatile-ttl');
    const events: TokenAuthEvent[] = [];
    const store = new RedisTokenStore(clients.open(redis.port), { prefix: uniquePrefix('eviction-access') });
    const handlesOfFleet = [0, 1].map(() => {
      const auth = attachTokenAuth(axios.create({ baseURL: symbl.url }), {
        providers: simulatedProvider(symbl),
        store,
        onEvent: (event) => events.push(event),
      });
      handles.push(auth);
      return auth;
    });
    const before = symbl.stats.tokenRequests;
    const [first, second] = await Promise.all(handlesOfFleet.map((auth) => auth.token()));
    expect(first?.accessToken).toBe(second?.accessToken);
    expect(symbl.stats.tokenRequests - before).toBe(1);
    expect(events.filter((event) => event.type === 'store-failed')).toEqual([]);
  });

  test('the verdict is read once for every lock, kept for a bounded time, and a later CONFIG SET is noticed', async () => {
    const session = refreshing(redis);
    const before = await configCalls();
    for (let i = 0; i < 4; i++) expect(codeOf(await session.refresh())).toBeUndefined();
    expect((await configCalls()) - before).toBe(1);

    // An operator turns eviction on: noticed once the verdict is older than EVICTION_RECHECK_MS.
    await admin.config('SET', 'maxmemory-policy', 'volatile-ttl');
    session.clock.offsetMs = EVICTION_RECHECK_MS - 1_000;
    expect(codeOf(await session.refresh())).toBeUndefined();
    session.clock.offsetMs = EVICTION_RECHECK_MS + 1_000;
    const refused = await session.refresh();
    expect(codeOf(refused)).toBe('ERR_TOKEN_STORE_UNAVAILABLE');
    expect(session.redisEvents).toContainEqual({ type: 'redis-eviction-unsafe', policy: 'volatile-ttl' });
    const rotations = authServer.stats.rotations;

    // And back: the refusal is not kept longer than a verdict either.
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    session.clock.offsetMs = 2 * EVICTION_RECHECK_MS + 2_000;
    expect(codeOf(await session.refresh())).toBeUndefined();
    expect(authServer.stats.rotations).toBe(rotations + 1);
    expect(authServer.stats.reuseDetections).toBe(0);
  });

  test('CONFIG renamed away: the policy is unknown and the lock refused, saying how to vouch for it', async () => {
    const session = refreshing(locked);
    const outcome = await session.auth.token().catch((error: unknown) => error);
    expect(codeOf(outcome)).toBe('ERR_TOKEN_STORE_UNAVAILABLE');
    expect(authServer.stats.refreshRequests).toBe(0);
    const [failure] = storeFailures(session.events);
    expect(failure).toMatchObject({ code: 'ERR_REDIS_EVICTION_POLICY' });
    expect(failure?.message).toContain("could not read Redis's maxmemory-policy");
    expect(failure?.message).toContain("evictionPolicy: 'checked-by-operator'");
    expect(session.redisEvents).toContainEqual({ type: 'redis-eviction-unsafe', policy: undefined });
  });

  test("CONFIG renamed away, and evictionPolicy: 'checked-by-operator': the operator's word is taken", async () => {
    const session = refreshing(locked, { evictionPolicy: 'checked-by-operator' });
    await expect(session.auth.token()).resolves.toMatchObject({ tokenType: 'Bearer' });
    expect(authServer.stats.rotations).toBe(1);
  });

  test("'checked-by-operator' never reads CONFIG, even where it could", async () => {
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    const session = refreshing(redis, { evictionPolicy: 'checked-by-operator' });
    const before = await configCalls();
    await expect(session.auth.token()).resolves.toMatchObject({ tokenType: 'Bearer' });
    expect(await configCalls()).toBe(before);
  });
});

describe('RedisTokenStore eviction check with clients that refuse or stall CONFIG', () => {
  const lockOptions = { ttlMs: 5_000, waitMs: 100, rotating: true };
  function fakeClient(config: () => Promise<unknown>) {
    let calls = 0;
    const client = {
      get: () => Promise.resolve(null),
      set: () => Promise.resolve('OK' as const),
      eval: () => Promise.resolve(1),
      evalsha: () => Promise.resolve(1),
      config: () => {
        calls++;
        return config();
      },
    };
    return { client, calls: () => calls };
  }

  test('an ACL that forbids CONFIG (NOPERM) is an unknown policy: refused, and kept like a verdict', async () => {
    const noPerm = Object.assign(new Error("NOPERM User app has no permissions to run the 'config|get' command"), {
      name: 'ReplyError',
    });
    const fake = fakeClient(() => Promise.reject(noPerm));
    const store = new RedisTokenStore(fake.client as never);
    const first = await store.lock('key', lockOptions).catch((error: unknown) => error);
    expect(first).toMatchObject({ code: 'ERR_REDIS_EVICTION_POLICY', operation: 'lock' });
    await expect(store.lock('key', lockOptions)).rejects.toMatchObject({ code: 'ERR_REDIS_EVICTION_POLICY' });
    expect(fake.calls()).toBe(1);
    // A lock for an access token is never refused.
    await expect(store.lock('key', { ...lockOptions, rotating: false })).resolves.toBeDefined();
  });

  test('a CONFIG that never answers fails that lock as a timeout, and is asked again next time', async () => {
    const fake = fakeClient(() => new Promise(() => undefined));
    const store = new RedisTokenStore(fake.client as never, { commandTimeoutMs: 50, breakerOpenMs: 0 });
    await expect(store.lock('key', lockOptions)).rejects.toMatchObject({ code: 'ERR_REDIS_TIMEOUT' });
    await expect(store.lock('key', lockOptions)).rejects.toMatchObject({ code: 'ERR_REDIS_TIMEOUT' });
    expect(fake.calls()).toBe(2);
  });

  test('concurrent locks share one read of the settings', async () => {
    const fake = fakeClient(() => Promise.resolve(['maxmemory', '0', 'maxmemory-policy', 'allkeys-lru']));
    const store = new RedisTokenStore(fake.client as never);
    const locks = await Promise.all(Array.from({ length: 10 }, () => store.lock('key', lockOptions)));
    expect(locks.every((lock) => lock !== undefined)).toBe(true);
    expect(fake.calls()).toBe(1);
  });

  test.each([
    ['an array (RESP2)', ['maxmemory', '1000', 'maxmemory-policy', 'noeviction'], true],
    ['a map (RESP3)', { maxmemory: '1000', 'maxmemory-policy': 'noeviction' }, true],
    ['a map with an evicting policy', { maxmemory: '1000', 'maxmemory-policy': 'allkeys-lfu' }, false],
    ['a reply without the policy', ['maxmemory', '1000'], false],
    ['a reply that is not a list', 'OK', false],
  ])('the settings read from %s', async (_what, reply, safe) => {
    const store = new RedisTokenStore(fakeClient(() => Promise.resolve(reply)).client as never);
    const outcome = await store.lock('key', lockOptions).then(
      () => 'locked',
      (error: unknown) => (error as { code?: string }).code,
    );
    expect(outcome).toBe(safe ? 'locked' : 'ERR_REDIS_EVICTION_POLICY');
  });

  test('a client without a config command is an unknown policy', async () => {
    const client: Partial<ReturnType<typeof fakeClient>['client']> = {
      ...fakeClient(() => Promise.resolve([])).client,
    };
    delete client.config;
    const store = new RedisTokenStore(client as never);
    await expect(store.lock('key', lockOptions)).rejects.toMatchObject({ code: 'ERR_REDIS_EVICTION_POLICY' });
  });

  test('evictionPolicy is checked when the store is made', () => {
    const { client } = fakeClient(() => Promise.resolve([]));
    expect(() => new RedisTokenStore(client as never, { evictionPolicy: 'off' as never })).toThrow(
      "new RedisTokenStore(): expected `evictionPolicy` to be 'check' or 'checked-by-operator', got another string",
    );
  });
});
