import { afterAll, afterEach, beforeAll, expect, test } from '@jest/globals';
import axios, { type AxiosInstance } from 'axios';
import { createHash, randomBytes } from 'node:crypto';
import { attachTokenAuth, type TokenAuth, type TokenAuthEvent } from '../../lib/index.js';
import { RedisTokenStore, type RedisTokenStoreEvent, type RedisTokenStoreOptions } from '../../lib/redis.js';
import { simulatedProvider, startProviderServer, type ProviderServer } from '../../lib/testing/index.js';
import { createClients, describeRedis, uniquePrefix } from './helpers/env.js';
import { freePort } from './helpers/redis-server.js';

const clients = createClients();
let server: ProviderServer;
const handles: TokenAuth[] = [];

beforeAll(async () => {
  server = await startProviderServer('symbl');
});
afterEach(() => {
  for (const handle of handles.splice(0)) handle.eject();
  server.resetStats();
  server.setTokenLifetime(3600);
});
afterAll(async () => {
  clients.closeAll();
  await server.close();
});

/** One "process": its own Redis connection, store, axios instance and tokenflight handle. */
function processWith(prefix: string, options: RedisTokenStoreOptions = {}, port?: number) {
  const tokenflightEvents: TokenAuthEvent[] = [];
  const redisEvents: RedisTokenStoreEvent[] = [];
  const store = new RedisTokenStore(clients.open(port, { retryStrategy: () => 200 }), {
    prefix,
    ...options,
    onEvent: (event) => redisEvents.push(event),
  });
  const api: AxiosInstance = axios.create({ baseURL: server.url });
  const auth = attachTokenAuth(api, {
    providers: simulatedProvider(server),
    store,
    onEvent: (event) => tokenflightEvents.push(event),
  });
  handles.push(auth);
  return { api, auth, store, tokenflightEvents, redisEvents };
}

const bearer = (token: string): string => `Bearer ${token}`;
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describeRedis('attachTokenAuth with a RedisTokenStore', () => {
  test('two processes asking at once share one token and one token request', async () => {
    const prefix = uniquePrefix('share');
    const a = processWith(prefix);
    const b = processWith(prefix);
    const responses = await Promise.all([
      ...Array.from({ length: 5 }, () => a.api.get('/api/echo')),
      ...Array.from({ length: 5 }, () => b.api.get('/api/echo')),
    ]);
    expect(responses.every((response) => response.status === 200)).toBe(true);
    expect(server.stats.tokenRequests).toBe(1);
    const [issued] = server.tokens.slice(-1);
    const sent = server.requests.filter((request) => request.kind === 'api').map((request) => request.authorization);
    expect(new Set(sent)).toEqual(new Set([bearer(issued?.accessToken ?? '')]));
    const kinds = [...a.tokenflightEvents, ...b.tokenflightEvents].map((event) => event.type);
    expect(kinds.filter((type) => type === 'token-fetched')).toHaveLength(1);
    expect(kinds.filter((type) => type === 'token-adopted')).toHaveLength(1);
  });

  test('a late 401 for the old token in one process does not evict the new token another process stored', async () => {
    const prefix = uniquePrefix('scoped');
    const a = processWith(prefix);
    const b = processWith(prefix);
    await a.api.get('/api/echo');
    await b.api.get('/api/echo');
    expect(server.stats.tokenRequests).toBe(1);
    const t1 = server.tokens.at(-1)?.accessToken as string;

    server.revokeAll();
    await b.api.get('/api/echo'); // B: 401 for T1, stores T2
    expect(server.stats.tokenRequests).toBe(2);
    const t2 = server.tokens.at(-1)?.accessToken as string;

    server.resetStats();
    const response = await a.api.get('/api/echo'); // A still sends T1: 401, then replays
    expect(response.status).toBe(200);
    expect(server.stats.tokenRequests).toBe(0);
    expect(server.requests.map((request) => request.authorization)).toEqual([bearer(t1), bearer(t2)]);
    await expect(a.store.get(await keyOf(a.store, prefix))).resolves.toMatchObject({ accessToken: t2 });
  });

  test('inside the refresh window one background refresh serves every process', async () => {
    server.setTokenLifetime(4);
    const prefix = uniquePrefix('window');
    const a = processWith(prefix);
    const b = processWith(prefix);
    await a.api.get('/api/echo');
    await b.api.get('/api/echo');
    expect(server.stats.tokenRequests).toBe(1);
    // Half of a 4 s lifetime is the refresh window (plus up to 20% jitter): from 2 s on, both are in it,
    // and the token stays usable until 3.6 s (the expiry margin is 10% of the lifetime).
    await sleep(2_100);
    await a.api.get('/api/echo');
    const deadline = Date.now() + 5_000;
    while (!a.tokenflightEvents.some((event) => event.type === 'token-fetched' && event.reason === 'refresh-window')) {
      if (Date.now() > deadline) throw new Error('no background refresh');
      await sleep(10);
    }
    await b.api.get('/api/echo');
    while (!b.tokenflightEvents.some((event) => event.type === 'token-adopted' && event.reason === 'refresh-window')) {
      if (Date.now() > deadline) throw new Error('B did not adopt the refreshed token');
      await sleep(10);
    }
    expect(server.stats.tokenRequests).toBe(2);
  });

  test('with no Redis at all, requests still succeed, with one token request per process, and the failure is reported', async () => {
    const port = await freePort();
    const prefix = uniquePrefix('absent');
    const a = processWith(prefix, { commandTimeoutMs: 200, retryAfterMs: 60_000 }, port);
    const responses = await Promise.all(Array.from({ length: 10 }, () => a.api.get('/api/echo')));
    expect(responses.every((response) => response.status === 200)).toBe(true);
    expect(server.stats.tokenRequests).toBe(1);
    const failed = a.tokenflightEvents.filter((event) => event.type === 'store-failed');
    expect(failed.map((event) => event.operation)).toEqual(['get', 'lock', 'set']);
    expect(a.redisEvents.map((event) => event.type)).toEqual(['redis-unavailable']);
    const issued = server.tokens.at(-1)?.accessToken as string;
    expect(JSON.stringify(failed)).not.toContain(issued);
  });

  test('a process whose key cannot read the shared entry fetches its own token and never fails', async () => {
    const prefix = uniquePrefix('mixed-keys');
    const writer = processWith(prefix, { encryption: { keys: { k1: randomBytes(32) }, currentKeyId: 'k1' } });
    const stranger = processWith(prefix, { encryption: { keys: { k1: randomBytes(32) }, currentKeyId: 'k1' } });
    await writer.api.get('/api/echo');
    const response = await stranger.api.get('/api/echo');
    expect(response.status).toBe(200);
    expect(server.stats.tokenRequests).toBe(2);
    // The read, and the double-checked read under the lock; its newer token then replaced the entry.
    expect(stranger.redisEvents).toMatchObject([
      { type: 'redis-entry-unreadable', reason: 'decryption-failed', keyId: 'k1' },
      { type: 'redis-entry-unreadable', reason: 'decryption-failed', keyId: 'k1' },
    ]);
    expect(stranger.tokenflightEvents.filter((event) => event.type === 'store-failed')).toEqual([]);
  });
});

/** The store key tokenflight used: the only token entry under `prefix`. */
async function keyOf(store: RedisTokenStore, prefix: string): Promise<string> {
  const keys = await clients.open().keys(`${prefix}token:*`);
  expect(keys).toHaveLength(1);
  const key = (keys[0] as string).slice(`${prefix}token:`.length);
  expect(store.keyNames(key).token).toBe(keys[0]);
  expect(key).toMatch(/^[0-9a-f]{64}$/);
  expect(key).not.toBe(sha256(server.credentials['appSecret'] ?? ''));
  return key;
}
