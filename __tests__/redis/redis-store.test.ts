import { afterAll, afterEach, beforeAll, expect, test } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { DEFAULTS } from '../../lib/shared/defaults.js';
import { isNewerToken, type StoredToken } from '../../lib/stores/store.js';
import {
  REDIS_STORE_DEFAULTS,
  RedisTokenStore,
  RedisTokenStoreError,
  type RedisTokenStoreEvent,
  type RedisTokenStoreOptions,
} from '../../lib/redis.js';
import { createClients, describeRedis, uniquePrefix } from './helpers/env.js';
import { freePort, startRedisServer, type RedisServer } from './helpers/redis-server.js';

const KEY = 'a3f1c2d4e5b6a7980123456789abcdef0123456789abcdef0123456789abcdef';
const clients = createClients();
let client: Redis;

beforeAll(() => {
  client = clients.open();
});
afterAll(() => {
  clients.closeAll();
});

function token(accessToken: string, fields: Partial<StoredToken> = {}): StoredToken {
  const now = Date.now();
  return { accessToken, tokenType: 'Bearer', expiresAt: now + 60_000, obtainedAt: now, ...fields };
}

function storeWith(options: RedisTokenStoreOptions = {}, on: Redis = client) {
  const events: RedisTokenStoreEvent[] = [];
  const prefix = options.prefix ?? uniquePrefix('store');
  const store = new RedisTokenStore(on, { prefix, ...options, onEvent: (event) => events.push(event) });
  return { store, events, prefix };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function everythingUnder(prefix: string): Promise<string> {
  const keys = await client.keys(`${prefix}*`);
  const values = await Promise.all(keys.map((key) => client.get(key)));
  return JSON.stringify({ keys, values });
}

describeRedis('RedisTokenStore against a real redis-server', () => {
  describeRedis('options', () => {
    test('a client that is not an ioredis client is refused with a message naming `client`', () => {
      expect(() => new RedisTokenStore(null as unknown as Redis)).toThrow(/expected `client` to be an ioredis client/);
    });

    test('an encryption key that is not 32 bytes is refused without quoting it', () => {
      const short = randomBytes(16).toString('base64');
      const attempt = (): RedisTokenStore =>
        new RedisTokenStore(client, { encryption: { keys: { k1: short }, currentKeyId: 'k1' } });
      expect(attempt).toThrow(
        'expected `encryption.keys["k1"]` to be a 32-byte key (a Buffer or a base64 string), got 16 bytes',
      );
      expect(() => attempt()).not.toThrow(short);
    });

    test('a currentKeyId that names no key is refused', () => {
      const keys = { k1: randomBytes(32) };
      expect(() => new RedisTokenStore(client, { encryption: { keys, currentKeyId: 'k2' } })).toThrow(
        /`encryption.currentKeyId` to name one of `encryption.keys` \(k1\), got "k2"/,
      );
    });

    test('unknown options are refused', () => {
      expect(() => new RedisTokenStore(client, { prefx: 'x' } as RedisTokenStoreOptions)).toThrow(
        /unknown option `prefx`/,
      );
    });
  });

  describeRedis('entries', () => {
    test('a token is stored under {prefix}token:{key} and read back', async () => {
      const { store, prefix } = storeWith();
      const stored = token('plain-token-1');
      await expect(store.set(KEY, stored)).resolves.toEqual(stored);
      await expect(store.get(KEY)).resolves.toEqual(stored);
      expect(await client.keys(`${prefix}*`)).toEqual([`${prefix}token:${KEY}`]);
      expect(store.keyNames(KEY)).toEqual({ token: `${prefix}token:${KEY}`, lock: `${prefix}lock:${KEY}` });
    });

    test('an ioredis keyPrefix goes before the store prefix, scripts included', async () => {
      const outer = uniquePrefix('outer');
      const { store } = storeWith({ prefix: 'inner:' }, clients.open(undefined, { keyPrefix: outer }));
      await store.set(KEY, token('prefixed', { expiresAt: Date.now() + 60_000 }));
      await store.set(KEY, token('older', { expiresAt: Date.now() + 1_000 }));
      await expect(store.get(KEY)).resolves.toMatchObject({ accessToken: 'prefixed' });
      expect(await client.keys(`${outer}*`)).toEqual([`${outer}inner:token:${KEY}`]);
      await expect(store.delete(KEY, 'prefixed')).resolves.toBe(true);
      expect(await client.keys(`${outer}*`)).toEqual([]);
    });

    test('a missing entry reads as undefined', async () => {
      const { store } = storeWith();
      await expect(store.get(KEY)).resolves.toBeUndefined();
    });

    test('an older token never replaces a newer one, whichever write arrives last', async () => {
      const { store } = storeWith();
      const now = Date.now();
      const older = token('older', { expiresAt: now + 30_000, obtainedAt: now });
      const newer = token('newer', { expiresAt: now + 60_000, obtainedAt: now + 1 });
      await expect(store.set(KEY, newer)).resolves.toEqual(newer);
      await expect(store.set(KEY, older)).resolves.toEqual(newer);
      await expect(store.get(KEY)).resolves.toEqual(newer);
    });

    test('with the same expiry the token obtained later wins, and a token with no expiry beats any expiry', async () => {
      const { store } = storeWith();
      const now = Date.now();
      const first = token('first', { expiresAt: now + 60_000, obtainedAt: now });
      const second = token('second', { expiresAt: now + 60_000, obtainedAt: now + 5 });
      const forever = token('forever', { expiresAt: null, obtainedAt: now - 1_000 });
      await store.set(KEY, second);
      await expect(store.set(KEY, first)).resolves.toEqual(second);
      await expect(store.set(KEY, forever)).resolves.toEqual(forever);
      await expect(store.set(KEY, second)).resolves.toEqual(forever);
      await expect(store.get(KEY)).resolves.toEqual(forever);
    });

    test('concurrent out-of-order writes from several clients leave the newest token', async () => {
      const now = Date.now();
      const tokens = Array.from({ length: 12 }, (_, i) =>
        token(`t${i}`, { expiresAt: now + 10_000 + ((i * 7) % 12) * 1_000, obtainedAt: now + i }),
      );
      const newest = tokens.reduce((best, candidate) => (isNewerToken(candidate, best) ? candidate : best));
      const prefix = uniquePrefix('race');
      const stores = [clients.open(), clients.open(), clients.open()].map(
        (connection) => new RedisTokenStore(connection, { prefix }),
      );
      const shuffled = [...tokens].sort(() => Math.random() - 0.5);
      const results = await Promise.all(
        shuffled.map((t, i) => (stores[i % stores.length] as RedisTokenStore).set(KEY, t)),
      );
      // Every writer was told what the entry held after its write: its own token or a newer one.
      results.forEach((held, i) =>
        expect(held === shuffled[i] || isNewerToken(held, shuffled[i] as StoredToken)).toBe(true),
      );
      await expect((stores[0] as RedisTokenStore).get(KEY)).resolves.toEqual(newest);
    });

    test('delete removes the entry only while it holds the given token', async () => {
      const { store } = storeWith();
      const now = Date.now();
      await store.set(KEY, token('t1', { expiresAt: now + 30_000 }));
      await store.set(KEY, token('t2', { expiresAt: now + 60_000 }));
      await expect(store.delete(KEY, 't1')).resolves.toBe(false);
      await expect(store.get(KEY)).resolves.toMatchObject({ accessToken: 't2' });
      await expect(store.delete(KEY, 't2')).resolves.toBe(true);
      await expect(store.get(KEY)).resolves.toBeUndefined();
      await expect(store.delete(KEY, 't2')).resolves.toBe(false);
    });

    test('an entry expires in Redis with its token', async () => {
      const { store, prefix } = storeWith();
      await store.set(KEY, token('short', { expiresAt: Date.now() + 400 }));
      const ttl = await client.pttl(`${prefix}token:${KEY}`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(400);
      await sleep(600);
      expect(await client.exists(`${prefix}token:${KEY}`)).toBe(0);
      await expect(store.get(KEY)).resolves.toBeUndefined();
    });

    test('an entry of a token with no known expiry is kept for maxTtlMs', async () => {
      const { store, prefix } = storeWith();
      await store.set(KEY, token('no-expiry', { expiresAt: null }));
      const ttl = await client.pttl(`${prefix}token:${KEY}`);
      expect(ttl).toBeGreaterThan(REDIS_STORE_DEFAULTS.maxTtlMs - 60_000);
      expect(ttl).toBeLessThanOrEqual(REDIS_STORE_DEFAULTS.maxTtlMs);
    });

    test('an expiry of Infinity is stored bounded, and the TTL follows it', async () => {
      const { store, prefix } = storeWith();
      const before = Date.now();
      await expect(store.set(KEY, token('endless', { expiresAt: Infinity }))).resolves.toMatchObject({
        expiresAt: expect.any(Number),
      });
      const ttl = await client.pttl(`${prefix}token:${KEY}`);
      expect(ttl).toBeGreaterThan(DEFAULTS.maxTokenLifetimeMs - 60_000);
      expect(ttl).toBeLessThanOrEqual(DEFAULTS.maxTokenLifetimeMs);
      const read = await store.get(KEY);
      expect(read?.expiresAt).toBeGreaterThanOrEqual(before + DEFAULTS.maxTokenLifetimeMs);
      expect(read?.expiresAt).toBeLessThanOrEqual(Date.now() + DEFAULTS.maxTokenLifetimeMs);
    });

    test('a token that has expired by the reader’s clock reads as missing', async () => {
      const prefix = uniquePrefix('skew');
      const writer = new RedisTokenStore(client, { prefix });
      const later = new RedisTokenStore(client, { prefix, now: () => Date.now() + 120_000 });
      await writer.set(KEY, token('t', { expiresAt: Date.now() + 60_000 }));
      await expect(later.get(KEY)).resolves.toBeUndefined();
      await expect(writer.get(KEY)).resolves.toMatchObject({ accessToken: 't' });
    });

    test('an entry tokenflight did not write reads as missing and is reported', async () => {
      const { store, events, prefix } = storeWith();
      await client.set(`${prefix}token:${KEY}`, '{"not":"ours"}');
      await expect(store.get(KEY)).resolves.toBeUndefined();
      expect(events).toEqual([{ type: 'redis-entry-unreadable', key: KEY, reason: 'malformed', keyId: undefined }]);
      // A valid write replaces it.
      await store.set(KEY, token('fresh'));
      await expect(store.get(KEY)).resolves.toMatchObject({ accessToken: 'fresh' });
    });
  });

  describeRedis('encryption at rest', () => {
    const k1 = randomBytes(32);
    const k2 = randomBytes(32);

    test('a token round-trips, and neither key names nor values hold it in clear', async () => {
      const { store, prefix } = storeWith({ encryption: { keys: { k1 }, currentKeyId: 'k1' } });
      const secret = token(`secret-token-${randomBytes(12).toString('hex')}`);
      await store.set(KEY, secret);
      await expect(store.get(KEY)).resolves.toEqual(secret);
      const dump = await everythingUnder(prefix);
      expect(dump).not.toContain(secret.accessToken);
      expect(dump).not.toContain(k1.toString('base64'));
      const raw = JSON.parse((await client.get(`${prefix}token:${KEY}`)) as string);
      expect(raw).toMatchObject({ v: 1, kid: 'k1', expiresAt: secret.expiresAt, obtainedAt: secret.obtainedAt });
      expect(raw).not.toHaveProperty('accessToken');
    });

    test('keys given as base64 strings work like Buffers', async () => {
      const prefix = uniquePrefix('b64');
      const withBuffer = new RedisTokenStore(client, { prefix, encryption: { keys: { k1 }, currentKeyId: 'k1' } });
      const withText = new RedisTokenStore(client, {
        prefix,
        encryption: { keys: { k1: k1.toString('base64') }, currentKeyId: 'k1' },
      });
      const secret = token('b64-token');
      await withBuffer.set(KEY, secret);
      await expect(withText.get(KEY)).resolves.toEqual(secret);
    });

    test('after a key rotation, entries written with the previous key id still decrypt', async () => {
      const prefix = uniquePrefix('rotate');
      const before = new RedisTokenStore(client, { prefix, encryption: { keys: { k1 }, currentKeyId: 'k1' } });
      const after = new RedisTokenStore(client, { prefix, encryption: { keys: { k1, k2 }, currentKeyId: 'k2' } });
      const old = token('written-with-k1');
      await before.set(KEY, old);
      await expect(after.get(KEY)).resolves.toEqual(old);
      const next = token('written-with-k2', { expiresAt: Date.now() + 120_000 });
      await after.set(KEY, next);
      expect(JSON.parse((await client.get(`${prefix}token:${KEY}`)) as string)).toMatchObject({ kid: 'k2' });
      await expect(after.get(KEY)).resolves.toEqual(next);
    });

    test('an entry under an unknown key id reads as missing and is reported by key id only', async () => {
      const prefix = uniquePrefix('unknown');
      const writer = new RedisTokenStore(client, { prefix, encryption: { keys: { k2 }, currentKeyId: 'k2' } });
      const { store: reader, events } = storeWith({ prefix, encryption: { keys: { k1 }, currentKeyId: 'k1' } });
      const secret = token('unknown-kid-token');
      await writer.set(KEY, secret);
      await expect(reader.get(KEY)).resolves.toBeUndefined();
      expect(events).toEqual([{ type: 'redis-entry-unreadable', key: KEY, reason: 'unknown-key-id', keyId: 'k2' }]);
    });

    test('a wrong key under the right key id reads as missing, without throwing the key or the token', async () => {
      const prefix = uniquePrefix('wrong');
      const writer = new RedisTokenStore(client, { prefix, encryption: { keys: { k1 }, currentKeyId: 'k1' } });
      const { store: reader, events } = storeWith({ prefix, encryption: { keys: { k1: k2 }, currentKeyId: 'k1' } });
      const secret = token('wrong-key-token');
      await writer.set(KEY, secret);
      await expect(reader.get(KEY)).resolves.toBeUndefined();
      expect(events).toEqual([{ type: 'redis-entry-unreadable', key: KEY, reason: 'decryption-failed', keyId: 'k1' }]);
      const printed = JSON.stringify(events);
      expect(printed).not.toContain(secret.accessToken);
      expect(printed).not.toContain(k1.toString('base64'));
      expect(printed).not.toContain(k2.toString('base64'));
      // Its write is told it could not read the newer entry and keeps its own token.
      const mine = token('mine', { expiresAt: Date.now() + 1_000 });
      await expect(reader.set(KEY, mine)).resolves.toEqual(mine);
    });

    test('metadata altered in Redis (a stretched expiry) fails decryption', async () => {
      const { store, events, prefix } = storeWith({ encryption: { keys: { k1 }, currentKeyId: 'k1' } });
      await store.set(KEY, token('tampered'));
      const name = `${prefix}token:${KEY}`;
      const raw = JSON.parse((await client.get(name)) as string);
      await client.set(name, JSON.stringify({ ...raw, expiresAt: Number(raw.expiresAt) + 3_600_000 }));
      await expect(store.get(KEY)).resolves.toBeUndefined();
      expect(events).toMatchObject([{ type: 'redis-entry-unreadable', reason: 'decryption-failed' }]);
    });

    test('a store that encrypts refuses a token stored in clear', async () => {
      const prefix = uniquePrefix('clear');
      await new RedisTokenStore(client, { prefix }).set(KEY, token('in-clear'));
      const { store, events } = storeWith({ prefix, encryption: { keys: { k1 }, currentKeyId: 'k1' } });
      await expect(store.get(KEY)).resolves.toBeUndefined();
      expect(events).toMatchObject([{ type: 'redis-entry-unreadable', reason: 'not-encrypted' }]);
    });

    test('compare-and-delete works on encrypted entries', async () => {
      const { store } = storeWith({ encryption: { keys: { k1 }, currentKeyId: 'k1' } });
      await store.set(KEY, token('enc-1'));
      await expect(store.delete(KEY, 'enc-other')).resolves.toBe(false);
      await expect(store.delete(KEY, 'enc-1')).resolves.toBe(true);
      await expect(store.get(KEY)).resolves.toBeUndefined();
    });
  });

  describeRedis('lock', () => {
    test('a second taker waits, and gets nothing once waitMs has passed', async () => {
      const { store } = storeWith();
      const held = await store.lock(KEY, { ttlMs: 5_000, waitMs: 100 });
      expect(held).toBeDefined();
      await expect(store.lock(KEY, { ttlMs: 5_000, waitMs: 150 })).resolves.toBeUndefined();
      await held?.release();
    });

    test('a waiter in another process takes the lock once it is released', async () => {
      const prefix = uniquePrefix('handover');
      const first = new RedisTokenStore(clients.open(), { prefix, lockPollMs: 10 });
      const second = new RedisTokenStore(clients.open(), { prefix, lockPollMs: 10 });
      const held = await first.lock(KEY, { ttlMs: 30_000, waitMs: 1_000 });
      let takenAt = Infinity;
      const waiting = second.lock(KEY, { ttlMs: 30_000, waitMs: 20_000 }).then((lock) => {
        takenAt = Date.now();
        return lock;
      });
      await sleep(100);
      const releasedAt = Date.now();
      await held?.release();
      const taken = await waiting;
      expect(taken).toBeDefined();
      expect(takenAt).toBeGreaterThanOrEqual(releasedAt);
      await taken?.release();
    });

    test('release never deletes a lock that another owner holds now', async () => {
      const { store, prefix } = storeWith();
      const name = `${prefix}lock:${KEY}`;
      const held = await store.lock(KEY, { ttlMs: 5_000, waitMs: 0 });
      // Our lock expired and someone else took it.
      await client.set(name, 'another-owner', 'PX', 5_000);
      await held?.release();
      expect(await client.get(name)).toBe('another-owner');
    });

    test('the lock of a crashed holder frees itself after its TTL', async () => {
      const { store, prefix } = storeWith({ lockPollMs: 10 });
      const crashed = await store.lock(KEY, { ttlMs: 300, waitMs: 0 });
      expect(crashed).toBeDefined();
      const left = await client.pttl(`${prefix}lock:${KEY}`);
      const startedAt = Date.now();
      const next = await store.lock(KEY, { ttlMs: 5_000, waitMs: 10_000 });
      expect(next).toBeDefined();
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(left - 20);
    });

    test('a held lock is renewed past its lease while its holder lives, and only up to ttlMs', async () => {
      const { store, prefix } = storeWith({ lockLeaseMs: 1_000 });
      const name = `${prefix}lock:${KEY}`;
      const acquiredAt = Date.now();
      const held = await store.lock(KEY, { ttlMs: 3_000, waitMs: 0 });
      const owner = await client.get(name);
      expect(owner).not.toBeNull();
      expect(await client.pttl(name)).toBeLessThanOrEqual(1_000);
      await sleep(2_000);
      expect(await client.get(name)).toBe(owner);
      // Never released: it is not renewed beyond the 3 s asked for.
      const deadline = Date.now() + 10_000;
      while ((await client.exists(name)) === 1 && Date.now() < deadline) await sleep(50);
      expect(await client.exists(name)).toBe(0);
      expect(Date.now()).toBeGreaterThanOrEqual(acquiredAt + 3_000 - 50);
      await held?.release();
    });

    test('a holder that loses Redis stops renewing, and its lock frees within the lease', async () => {
      const prefix = uniquePrefix('lost');
      const holderConnection = clients.open();
      const holder = new RedisTokenStore(holderConnection, { prefix, lockLeaseMs: 400 });
      const other = new RedisTokenStore(client, { prefix, lockPollMs: 10 });
      const held = await holder.lock(KEY, { ttlMs: 60_000, waitMs: 0 });
      expect(held).toBeDefined();
      await sleep(500); // renewed at least once
      const left = await client.pttl(`${prefix}lock:${KEY}`);
      holderConnection.disconnect(); // as good as dead
      const startedAt = Date.now();
      const taken = await other.lock(KEY, { ttlMs: 5_000, waitMs: 30_000 });
      expect(taken).toBeDefined();
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(left - 20);
      await taken?.release();
    });

    test('an aborted wait resolves to no lock', async () => {
      const { store } = storeWith();
      const held = await store.lock(KEY, { ttlMs: 5_000, waitMs: 0 });
      const controller = new AbortController();
      const waiting = store.lock(KEY, { ttlMs: 5_000, waitMs: 30_000, signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      await expect(waiting).resolves.toBeUndefined();
      await held?.release();
    });

    test('a lock granted after its caller stopped waiting for the answer is given back at once', async () => {
      const server = await startRedisServer();
      try {
        const connection = clients.open(server.port);
        const admin = clients.open(server.port);
        const events: RedisTokenStoreEvent[] = [];
        const prefix = uniquePrefix('late');
        const store = new RedisTokenStore(connection, {
          prefix,
          commandTimeoutMs: 300,
          retryAfterMs: 0,
          onEvent: (event) => events.push(event),
        });
        await connection.ping();
        await admin.config('RESETSTAT');
        await admin.call('CLIENT', 'PAUSE', '1500', 'WRITE');
        await expect(store.lock(KEY, { ttlMs: 60_000, waitMs: 0 })).rejects.toMatchObject({
          code: 'ERR_REDIS_TIMEOUT',
        });
        expect(events).toMatchObject([{ type: 'redis-unavailable', operation: 'lock' }]);
        // Redis runs the queued SET NX when the pause ends; the store then releases the lock instead
        // of leaving it to block the fleet for 60 s.
        const deadline = Date.now() + 10_000;
        let stats = '';
        while (Date.now() < deadline) {
          stats = await admin.info('commandstats');
          if (/cmdstat_set:calls=1\b/.test(stats) && (await admin.exists(`${prefix}lock:${KEY}`)) === 0) break;
          await sleep(20);
        }
        expect(stats).toMatch(/cmdstat_set:calls=1\b/);
        expect(await admin.exists(`${prefix}lock:${KEY}`)).toBe(0);
      } finally {
        await server.stop();
      }
    });
  });

  describeRedis('when Redis fails', () => {
    let server: RedisServer | undefined;
    afterEach(async () => {
      await server?.stop();
      server = undefined;
    });

    test('calls to a Redis that is down reject with RedisTokenStoreError, then fail fast until retryAfterMs', async () => {
      const port = await freePort();
      const events: RedisTokenStoreEvent[] = [];
      const down = clients.open(port, { maxRetriesPerRequest: 0, retryStrategy: () => 50 });
      const store = new RedisTokenStore(down, {
        prefix: uniquePrefix('down'),
        commandTimeoutMs: 300,
        retryAfterMs: 60_000,
        onEvent: (event) => events.push(event),
      });
      const first = await store.get(KEY).catch((error: unknown) => error);
      expect(first).toBeInstanceOf(RedisTokenStoreError);
      expect(first).toMatchObject({ operation: 'get' });
      expect(['ERR_REDIS_UNAVAILABLE', 'ERR_REDIS_TIMEOUT']).toContain((first as RedisTokenStoreError).code);
      const second = await store.set(KEY, token('never-sent')).catch((error: unknown) => error);
      expect(second).toMatchObject({ code: 'ERR_REDIS_UNAVAILABLE', operation: 'set' });
      expect((second as Error).message).toMatch(/skipped for another \d+ ms/);
      expect((second as Error).message).not.toContain('never-sent');
      expect(events.map((event) => event.type)).toEqual(['redis-unavailable']);
    });

    test('after Redis comes back, the next call past retryAfterMs probes it and recovery is reported', async () => {
      const port = await freePort();
      const events: RedisTokenStoreEvent[] = [];
      const connection = clients.open(port, { retryStrategy: () => 50 });
      const store = new RedisTokenStore(connection, {
        prefix: uniquePrefix('back'),
        commandTimeoutMs: 2_000,
        retryAfterMs: 200,
        onEvent: (event) => events.push(event),
      });
      await expect(store.get(KEY)).rejects.toBeInstanceOf(RedisTokenStoreError);
      server = await startRedisServer({ port });
      const deadline = Date.now() + 10_000;
      while (connection.status !== 'ready' && Date.now() < deadline) await sleep(20);
      await sleep(250);
      await expect(store.get(KEY)).resolves.toBeUndefined();
      expect(events.map((event) => event.type)).toEqual(['redis-unavailable', 'redis-recovered']);
      expect(events[1]).toMatchObject({ operation: 'get', unavailableForMs: expect.any(Number) });
    });

    test('calls that arrive while Redis is being probed wait for the probe instead of failing fast', async () => {
      server = await startRedisServer();
      const events: RedisTokenStoreEvent[] = [];
      const connection = clients.open(server.port, { retryStrategy: () => 50 });
      const admin = clients.open(server.port, { retryStrategy: () => 50 });
      const store = new RedisTokenStore(connection, {
        prefix: uniquePrefix('probe'),
        commandTimeoutMs: 2_000,
        retryAfterMs: 100,
        onEvent: (event) => events.push(event),
      });
      await store.get(KEY);
      await server.stop('SIGKILL');
      await expect(store.get(KEY)).rejects.toMatchObject({ code: 'ERR_REDIS_UNAVAILABLE' });
      await server.start();
      const deadline = Date.now() + 10_000;
      while ((connection.status !== 'ready' || admin.status !== 'ready') && Date.now() < deadline) await sleep(20);
      await sleep(150);
      // The probe is held up for a moment; the second call arrives while it is out.
      await admin.call('CLIENT', 'PAUSE', '200', 'ALL');
      const results = await Promise.allSettled([store.get(KEY), store.set(KEY, token('after-probe'))]);
      expect(results.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled']);
      expect(events.map((event) => event.type)).toEqual(['redis-unavailable', 'redis-recovered']);
    });

    test('a slow Redis counts as unavailable after commandTimeoutMs', async () => {
      server = await startRedisServer();
      const connection = clients.open(server.port);
      const admin = clients.open(server.port);
      const { store, events } = storeWith({ commandTimeoutMs: 1_000, retryAfterMs: 0 }, connection);
      await connection.ping();
      await admin.call('CLIENT', 'PAUSE', '2500', 'ALL');
      await expect(store.get(KEY)).rejects.toMatchObject({ code: 'ERR_REDIS_TIMEOUT', operation: 'get' });
      await sleep(1_700);
      await expect(store.get(KEY)).resolves.toBeUndefined();
      expect(events.map((event) => event.type)).toEqual(['redis-unavailable', 'redis-recovered']);
    });

    test('an error answered by Redis does not trip the breaker, and its message holds no token', async () => {
      const { store, events, prefix } = storeWith();
      await client.rpush(`${prefix}token:${KEY}`, 'not-a-string');
      const secret = token('token-in-a-failed-write');
      const failure = await store.set(KEY, secret).catch((error: unknown) => error);
      expect(failure).toMatchObject({ code: 'ERR_REDIS_COMMAND', operation: 'set' });
      expect(JSON.stringify(failure)).not.toContain(secret.accessToken);
      expect(String((failure as Error).stack)).not.toContain(secret.accessToken);
      expect((failure as Error).cause).toBeUndefined();
      await expect(store.get(KEY)).rejects.toMatchObject({ code: 'ERR_REDIS_COMMAND' });
      expect(events).toEqual([]);
    });
  });
});
