import { afterAll, beforeAll, expect, jest, test } from '@jest/globals';
import axios from 'axios';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { attachTokenAuth, type TokenAuth } from '../../../lib/index.js';
import { RedisTokenStore, type RedisTokenStoreEvent, type RedisTokenStoreOptions } from '../../../lib/redis.js';
import { encodeEntry, readEncryption, sha256 } from '../../../lib/stores/redis/entry.js';
import { simulatedProvider, startProviderServer, type ProviderServer } from '../../../lib/testing/index.js';
import { createClients, describeRedis, uniquePrefix } from '../../redis/helpers/env.js';

// Issue 15, item 13, on a real redis-server: another program writes into the token entries of a
// RedisTokenStore while the server revokes every access token again and again (a revocation
// storm, each 401 answered by a refresh and a replay). With `encryption`, an entry the store did
// not write itself (valid-looking JSON in clear, or encrypted with another key) is never served,
// so no request carries a forged token and no caller sees a 401. Without it, the store trusts
// every writer of its keys (docs/fleets.md, "Who may write the keys").

jest.setTimeout(30_000);

const clients = createClients();
let server: ProviderServer;
beforeAll(async () => (server = await startProviderServer('symbl')));
afterAll(async () => {
  clients.closeAll();
  await server.close();
});

const ENCRYPTION = { keys: { k1: randomBytes(32) }, currentKeyId: 'k1' };
/** Another program's key, under the same key id. */
const OTHER_KEY = readEncryption({ keys: { k1: randomBytes(32) }, currentKeyId: 'k1' });

type Forgery = 'in clear' | 'under another key';

/** A token entry another program writes: newer than anything tokenflight stores, and lasting an hour. */
function forged(key: string, kind: Forgery, serial: number): string {
  const now = Date.now();
  const token = {
    accessToken: `forged-${serial}`,
    tokenType: 'Bearer',
    expiresAt: now + 3_600_000,
    obtainedAt: now + 60_000,
  };
  if (kind === 'under another key') return encodeEntry(key, token, OTHER_KEY);
  return JSON.stringify({ v: 1, ...token, fp: sha256(token.accessToken) });
}

/** Overwrites every token entry under `prefix` until `stop()`; resolves to how many it wrote. */
function foreignWriter(redis: Redis, prefix: string, kind: Forgery) {
  let running = true;
  const done = (async () => {
    let written = 0;
    while (running) {
      const keys = await redis.keys(`${prefix}token:*`);
      for (const name of keys) {
        await redis.set(name, forged(name.slice(`${prefix}token:`.length), kind, written), 'PX', 3_600_000);
        written++;
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    return written;
  })();
  return {
    stop: async () => {
      running = false;
      return done;
    },
  };
}

/** Two processes sharing one RedisTokenStore prefix, through a revocation storm with a foreign writer. */
async function storm(kind: Forgery, options: RedisTokenStoreOptions, rounds: number) {
  server.resetStats();
  const prefix = uniquePrefix('foreign');
  const redisEvents: RedisTokenStoreEvent[] = [];
  const handles: TokenAuth[] = [];
  const apis = [0, 1].map(() => {
    const store = new RedisTokenStore(clients.open(), {
      prefix,
      ...options,
      onEvent: (event) => redisEvents.push(event),
    });
    const api = axios.create({ baseURL: server.url });
    handles.push(attachTokenAuth(api, { providers: simulatedProvider(server), store }));
    return api;
  });
  await Promise.all(apis.map((api) => api.get('/api/echo')));
  const writer = foreignWriter(clients.open(), prefix, kind);
  const statuses: number[] = [];
  for (let round = 0; round < rounds; round++) {
    server.revokeAll();
    const answers = await Promise.all(
      apis.flatMap((api) =>
        Array.from({ length: 5 }, () =>
          api.get('/api/echo').then(
            (response) => response.status,
            (error: unknown) => (error as { response?: { status: number } }).response?.status ?? -1,
          ),
        ),
      ),
    );
    statuses.push(...answers);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const written = await writer.stop();
  for (const handle of handles) handle.eject();
  const sent = server.requests.filter((request) => request.kind === 'api').map((request) => request.authorization);
  return { statuses, written, forgedSent: sent.filter((value) => value?.includes('forged-')), redisEvents };
}

describeRedis('entries another program writes into a RedisTokenStore, during a revocation storm', () => {
  test.each([
    ['in clear', 'not-encrypted'],
    ['under another key', 'decryption-failed'],
  ] as const)('with `encryption`, one %s is never served and never reaches a caller as a 401', async (kind, reason) => {
    const { statuses, written, forgedSent, redisEvents } = await storm(kind, { encryption: ENCRYPTION }, 15);
    expect(written).toBeGreaterThan(0);
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    expect(forgedSent).toEqual([]);
    // Each was read, reported, and treated as missing.
    const reasons = redisEvents.map((event) => (event.type === 'redis-entry-unreadable' ? event.reason : undefined));
    expect([...new Set(reasons.filter((found) => found !== undefined))]).toEqual([reason]);
  });

  test('without `encryption`, an entry in clear is served: the store trusts every writer of its keys', async () => {
    const { written, forgedSent } = await storm('in clear', {}, 2);
    expect(written).toBeGreaterThan(0);
    expect(forgedSent.length).toBeGreaterThan(0);
  });
});
