import { afterAll, afterEach, beforeAll, expect, jest, test } from '@jest/globals';
import axios, { type AxiosInstance } from 'axios';
import { randomBytes } from 'node:crypto';
import { Cluster } from 'ioredis';
import { attachTokenAuth, type TokenAuth, type TokenAuthEvent } from '../../lib/index.js';
import { RedisTokenStore, type RedisTokenStoreEvent, type RedisTokenStoreOptions } from '../../lib/redis.js';
import {
  simulatedProvider,
  startAuthorizationServer,
  startProviderServer,
  type ProviderServer,
} from '../../lib/testing/index.js';
import { uniquePrefix } from './helpers/env.js';
import { refreshTokenSession, startFleet, type Fleet } from './helpers/fleet.js';
import { describeCluster, startRedisCluster, type RedisCluster } from './helpers/redis-cluster.js';

// RedisTokenStore on a real 3-node Redis Cluster, through the public API only: each of the store's
// Lua scripts touches one key, so tokens, locks and compare-and-delete work without hash tags.
// Generous deadlines and store time-outs: a loaded 2-core machine must not turn slowness into an
// outage (which would rightly make the store step aside and each handle fetch on its own).
jest.setTimeout(90_000);

const SLACK = { storeTimeoutMs: 3_000 };
const STORE_SLACK: RedisTokenStoreOptions = { commandTimeoutMs: 2_500 };
const TENANTS = 12;

let cluster: RedisCluster | undefined;
let server: ProviderServer | undefined;
let provider: ProviderServer;
const clusterClients: Cluster[] = [];
let fleet: Fleet | undefined;
const handles: TokenAuth[] = [];

beforeAll(async () => {
  [cluster, provider] = await Promise.all([
    startRedisCluster(),
    startProviderServer('oauth2', {
      credentials: Array.from({ length: TENANTS }, (_, index) => ({
        clientId: `tenant-${index}-${randomBytes(4).toString('hex')}`,
        clientSecret: randomBytes(16).toString('hex'),
      })),
    }),
  ]);
  server = provider;
}, 90_000);
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
  for (const handle of handles.splice(0)) handle.eject();
  provider.revokeAll();
  provider.setTokenLatency(0);
  provider.resetStats();
});
afterAll(async () => {
  for (const client of clusterClients.splice(0)) client.disconnect();
  await Promise.all([cluster?.stop(), server?.close()]);
});

/** A Cluster client of its own, as a separate process would have. */
function openCluster(): Cluster {
  if (cluster === undefined) throw new Error('the Redis Cluster did not start');
  const client = new Cluster([...cluster.nodes], { redisOptions: { connectTimeout: 10_000 } });
  client.on('error', () => undefined);
  clusterClients.push(client);
  return client;
}

/** One "process": its own Cluster client, store, axios instance and tokenflight handle, for one tenant. */
function processWith(prefix: string, options: RedisTokenStoreOptions = {}, tenant = 0) {
  const tokenflightEvents: TokenAuthEvent[] = [];
  const redisEvents: RedisTokenStoreEvent[] = [];
  const client = openCluster();
  const store = new RedisTokenStore(client, {
    prefix,
    ...STORE_SLACK,
    ...options,
    onEvent: (event) => redisEvents.push(event),
  });
  const api: AxiosInstance = axios.create({ baseURL: provider.url });
  const auth = attachTokenAuth(api, {
    providers: simulatedProvider(provider, { tenant }),
    store,
    ...SLACK,
    onEvent: (event) => tokenflightEvents.push(event),
  });
  handles.push(auth);
  const failures = (): unknown[] => [
    ...tokenflightEvents.filter((event) => event.type === 'store-failed'),
    ...redisEvents.filter((event) => event.type !== 'redis-recovered'),
  ];
  return { api, auth, store, client, failures };
}

/** A Cluster client that has loaded the slot map (its `nodes()` are known). */
async function readyCluster(): Promise<Cluster> {
  const client = openCluster();
  if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
  return client;
}

/** Every key under `prefix`, with the port of the master that holds it. */
async function keysByNode(prefix: string): Promise<{ port: number; key: string }[]> {
  const client = await readyCluster();
  const found: { port: number; key: string }[] = [];
  for (const node of client.nodes('master')) {
    const keys = await node.keys(`${prefix}*`);
    for (const key of keys) found.push({ port: node.options.port ?? 0, key });
  }
  return found;
}

/** The raw value of a key, read from the cluster. */
async function rawValue(key: string): Promise<string | null> {
  return openCluster().get(key);
}

const tokenKey = async (prefix: string): Promise<string> => {
  const keys = (await keysByNode(prefix)).filter(({ key }) => key.startsWith(`${prefix}token:`));
  expect(keys).toHaveLength(1);
  return (keys[0] as { key: string }).key;
};

describeCluster('RedisTokenStore on a 3-node Redis Cluster', () => {
  test('the cluster has three masters sharing the slots', async () => {
    const client = await readyCluster();
    const slots = await client.cluster('SLOTS');
    expect(client.nodes('master')).toHaveLength(3);
    expect(new Set(slots.map((range) => range[2]?.[1])).size).toBe(3);
  });

  test('50 concurrent requests across two handles make one token request; the token is stored and shared', async () => {
    const prefix = uniquePrefix('cluster-share');
    const a = processWith(prefix);
    const b = processWith(prefix);
    // A slow token endpoint keeps the lock held while both handles pile up behind it.
    provider.setTokenLatency(300);
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, index) => (index % 2 === 0 ? a : b).api.get('/api/echo')),
    );
    expect(responses.every((response) => response.status === 200)).toBe(true);
    expect(provider.stats.tokenRequests).toBe(1);
    const [issued] = provider.tokens;
    const sent = new Set(responses.map((response) => String(response.config.headers.get('Authorization'))));
    expect([...sent]).toEqual([`Bearer ${issued?.accessToken}`]);

    const key = await tokenKey(prefix);
    expect(JSON.parse((await rawValue(key)) ?? '{}')).toMatchObject({ accessToken: issued?.accessToken });
    // A third handle, cold, takes the token from the cluster without a token request.
    const c = processWith(prefix);
    expect((await c.auth.token()).accessToken).toBe(issued?.accessToken);
    expect(provider.stats.tokenRequests).toBe(1);
    expect([...a.failures(), ...b.failures(), ...c.failures()]).toEqual([]);
  });

  test('when both handles get a 401 at once, the lock and compare-and-delete make one new token request', async () => {
    const prefix = uniquePrefix('cluster-rotate');
    const a = processWith(prefix);
    const b = processWith(prefix);
    await Promise.all([a.api.get('/api/warm'), b.api.get('/api/warm')]);
    expect(provider.stats.tokenRequests).toBe(1);

    for (let rotation = 0; rotation < 3; rotation++) {
      const before = provider.stats.tokenRequests;
      provider.revokeAll();
      provider.setTokenLatency(200);
      const responses = await Promise.all(
        Array.from({ length: 20 }, (_, index) => (index % 2 === 0 ? a : b).api.get('/api/echo')),
      );
      expect(responses.every((response) => response.status === 200)).toBe(true);
      expect(provider.stats.tokenRequests - before).toBe(1);
      const newest = provider.tokens.at(-1)?.accessToken;
      // The rejected token was deleted and the new one stored: the entry holds the newest token.
      expect(JSON.parse((await rawValue(await tokenKey(prefix))) ?? '{}')).toMatchObject({ accessToken: newest });
    }
    expect([...a.failures(), ...b.failures()]).toEqual([]);
  });

  test('compare-and-delete on the cluster removes the entry only while it holds the given token', async () => {
    const prefix = uniquePrefix('cluster-cad');
    const a = processWith(prefix);
    await a.api.get('/api/echo');
    const key = await tokenKey(prefix);
    const storeKey = key.slice(`${prefix}token:`.length);
    const current = provider.tokens.at(-1)?.accessToken ?? '';

    expect(await a.store.delete(storeKey, 'an-older-token')).toBe(false);
    expect(await rawValue(key)).not.toBeNull();
    expect(await a.store.delete(storeKey, current)).toBe(true);
    expect(await rawValue(key)).toBeNull();

    // auth.invalidate() goes through the same script: it drops the handle's token and the entry.
    await a.auth.invalidate();
    await a.api.get('/api/echo');
    expect(provider.stats.tokenRequests).toBe(2);
    expect(JSON.parse((await rawValue(key)) ?? '{}')).toMatchObject({
      accessToken: provider.tokens.at(-1)?.accessToken,
    });
    await a.auth.invalidate();
    expect(await rawValue(key)).toBeNull();
    expect(a.failures()).toEqual([]);
  });

  test('the lock is one key of the cluster: a holder makes the other handle wait, then adopt its token', async () => {
    const prefix = uniquePrefix('cluster-lock');
    const a = processWith(prefix);
    const b = processWith(prefix);
    provider.setTokenLatency(1_000);
    const first = a.auth.token();
    // Wait until a's token request is at the provider (so a holds the lock), then ask from b.
    const deadline = Date.now() + 30_000;
    while (provider.stats.tokenRequests === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const locks = (await keysByNode(prefix)).filter(({ key }) => key.startsWith(`${prefix}lock:`));
    expect(locks).toHaveLength(1);
    const second = b.auth.token();
    const [tokenA, tokenB] = await Promise.all([first, second]);
    expect(tokenB.accessToken).toBe(tokenA.accessToken);
    expect(provider.stats.tokenRequests).toBe(1);
    // Released after use.
    expect((await keysByNode(prefix)).filter(({ key }) => key.startsWith(`${prefix}lock:`))).toEqual([]);
  });

  test('with encryption at rest, the cluster holds ciphertext and both handles read the token', async () => {
    const prefix = uniquePrefix('cluster-encrypted');
    const encryption = { keys: { k1: randomBytes(32).toString('base64') }, currentKeyId: 'k1' };
    const a = processWith(prefix, { encryption });
    const b = processWith(prefix, { encryption });
    await a.api.get('/api/echo');
    const issued = provider.tokens.at(-1)?.accessToken ?? '';
    const raw = (await rawValue(await tokenKey(prefix))) ?? '';
    expect(JSON.parse(raw)).toMatchObject({ kid: 'k1', ct: expect.any(String) });
    expect(raw).not.toContain(issued);
    expect((await b.auth.token()).accessToken).toBe(issued);
    expect(provider.stats.tokenRequests).toBe(1);
    expect([...a.failures(), ...b.failures()]).toEqual([]);
  });

  test('two processes on Cluster clients share one token and one token request per rotation', async () => {
    const prefix = uniquePrefix('cluster-fleet');
    fleet = await startFleet({
      size: 2,
      store: 'redis',
      redisCluster: cluster?.nodes ?? [],
      prefix,
      server: provider,
      encryptionKey: randomBytes(32).toString('base64'),
      attach: SLACK,
      redisStore: { commandTimeoutMs: 2_500 },
    });
    provider.setTokenLatency(200);
    for (let rotation = 0; rotation < 2; rotation++) {
      if (rotation > 0) provider.revokeAll();
      const before = provider.stats.tokenRequests;
      const outcomes = await fleet.burst(25);
      expect(outcomes).toHaveLength(50);
      expect(outcomes.filter((outcome) => !outcome.ok)).toEqual([]);
      expect(new Set(outcomes.map((outcome) => outcome.fingerprint)).size).toBe(1);
      expect(provider.stats.tokenRequests - before).toBe(1);
    }
    const events = await fleet.events();
    expect(events.filter((event) => event.type === 'store-failed' || event.type === 'redis-unavailable')).toEqual([]);
    expect(events.filter((event) => event.type === 'token-adopted').length).toBeGreaterThan(0);
  });

  test('the entries of several providers land on different slots and nodes', async () => {
    const prefix = uniquePrefix('cluster-spread');
    const tenants = Array.from({ length: TENANTS }, (_, tenant) => processWith(prefix, {}, tenant));
    await Promise.all(tenants.map((tenant) => tenant.api.get('/api/echo')));
    expect(provider.stats.tokenRequests).toBe(TENANTS);

    const entries = (await keysByNode(prefix)).filter(({ key }) => key.startsWith(`${prefix}token:`));
    expect(entries).toHaveLength(TENANTS);
    const client = await readyCluster();
    const slots = await Promise.all(entries.map(({ key }) => client.cluster('KEYSLOT', key)));
    expect(new Set(slots).size).toBeGreaterThan(1);
    const nodes = new Set(entries.map(({ port }) => port));
    // 12 keys all on one of 3 masters by chance: (1/3)^11, about 6 in a million.
    expect(nodes.size).toBeGreaterThan(1);
    const sizes = await Promise.all(client.nodes('master').map((node) => node.dbsize()));
    expect(sizes.filter((size) => size > 0).length).toBeGreaterThan(1);
    // Each tenant reads its own token back from the cluster.
    const read = await Promise.all(tenants.map((tenant) => tenant.auth.token()));
    expect(new Set(read.map((token) => token.accessToken)).size).toBe(TENANTS);
    expect(tenants.flatMap((tenant) => tenant.failures())).toEqual([]);
  });

  test('a rotating refresh token on the cluster: two processes, each rotation one use of it, no reuse', async () => {
    const authorization = await startAuthorizationServer();
    try {
      const refreshToken = authorization.issueRefreshToken({ clientId: 'public-client' });
      const prefix = uniquePrefix('cluster-refresh');
      fleet = await startFleet({
        size: 2,
        store: 'redis',
        redisCluster: cluster?.nodes ?? [],
        prefix,
        provider: refreshTokenSession(authorization, refreshToken),
        encryptionKey: randomBytes(32).toString('base64'),
        attach: SLACK,
        redisStore: { commandTimeoutMs: 2_500 },
      });
      const rotations = 5;
      for (let rotation = 0; rotation < rotations; rotation++) {
        if (rotation > 0) authorization.revokeAccessTokens();
        const before = authorization.stats.rotations;
        const outcomes = await fleet.burst(10, '/api/me');
        expect(outcomes.filter((outcome) => !outcome.ok)).toEqual([]);
        expect(new Set(outcomes.map((outcome) => outcome.fingerprint)).size).toBe(1);
        expect(authorization.stats.rotations - before).toBe(1);
      }
      expect(authorization.stats).toMatchObject({
        refreshRequests: rotations,
        rotations,
        reuseDetections: 0,
        revokedFamilies: 0,
      });
      const refreshEntries = (await keysByNode(prefix)).filter(({ key }) => key.endsWith(':refresh'));
      expect(refreshEntries).toHaveLength(1);
      const raw = (await (await readyCluster()).get(refreshEntries[0]?.key ?? '')) ?? '';
      expect(JSON.parse(raw)).toMatchObject({ kid: 'k1', ct: expect.any(String) });
      expect(raw).not.toContain(authorization.familyOf(refreshToken)?.currentRefreshToken ?? '');
      console.log(
        `rotating refresh token on a 3-node Redis Cluster, 2 processes, ${rotations} rotations: ` +
          `${authorization.stats.refreshRequests} refresh requests, ${authorization.stats.reuseDetections} reuse detections`,
      );
    } finally {
      await authorization.close();
    }
  });
});
