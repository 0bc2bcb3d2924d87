import { afterAll, afterEach, beforeAll, expect, jest, test } from '@jest/globals';
import axios, { type AxiosInstance } from 'axios';
import type { Redis } from 'ioredis';
import {
  attachTokenAuth,
  isTokenRequestError,
  refreshTokenGrant,
  type TokenAuth,
  type TokenAuthEvent,
} from '../../lib/index.js';
import { RedisTokenStore } from '../../lib/redis.js';
import { issued, startRefreshServer, type RefreshAnswer, type RefreshServer } from '../helpers/refresh-server.js';
import { createClients, describeRedis, redisPort, uniquePrefix } from './helpers/env.js';
import { startRedisServer, type RedisServer } from './helpers/redis-server.js';

// A session over a real redis-server, two handles (each its own connection and store, as two
// processes have): resumeSession() on one while the other rotates the old session, and a
// rotated refresh token written while Redis drops every connection or sleeps.
jest.setTimeout(60_000);

const clients = createClients();
const handles: TokenAuth[] = [];
let server: RefreshServer | undefined;
/** A redis-server of this suite's own: its connections are killed and it is put to sleep. */
let own: RedisServer | undefined;

beforeAll(async () => {
  if (redisPort !== undefined) own = await startRedisServer({ args: ['--enable-debug-command', 'yes'] });
});
afterEach(async () => {
  for (const handle of handles.splice(0)) handle.eject();
  await server?.close();
  server = undefined;
});
afterAll(async () => {
  clients.closeAll();
  await own?.stop();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}

/**
 * A request from a handle whose connection is still coming back: it may fail fast with
 * ERR_TOKEN_STORE_UNAVAILABLE (nothing presented) while its breaker is open; anything else fails the test.
 */
async function sendThroughOutage(api: AxiosInstance): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await api.get('/api/next');
      return;
    } catch (error) {
      if (!isTokenRequestError(error) || error.code !== 'ERR_TOKEN_STORE_UNAVAILABLE' || Date.now() > deadline) {
        throw error;
      }
      await sleep(200);
    }
  }
}

/** One "process": its own connection, store, axios instance and handle, on the session of `rt-old-1`. */
function processOn(port: number | undefined, prefix: string, target: RefreshServer) {
  const events: TokenAuthEvent[] = [];
  const received: string[] = [];
  // ioredis's own reconnection backoff (50 ms, growing), as an application would have it.
  const client = clients.open(port, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  const store = new RedisTokenStore(client, { prefix, commandTimeoutMs: 200 });
  const api = axios.create({ baseURL: target.url });
  const auth = attachTokenAuth(api, {
    providers: refreshTokenGrant({
      tokenUrl: target.tokenUrl,
      clientId: 'app',
      refreshToken: 'rt-old-1',
      onRefreshToken: (next) => received.push(next),
    }),
    store,
    tokenRequest: { retries: 0 },
    onEvent: (event) => events.push(event),
  });
  handles.push(auth);
  return { api, auth, events, received };
}

async function start(answers: Record<string, RefreshAnswer>): Promise<RefreshServer> {
  server = await startRefreshServer(answers);
  return server;
}

const SESSIONS = {
  'rt-old-1': issued('at-old-1', 'rt-old-2', 800),
  'rt-old-2': issued('at-old-2', 'rt-old-3'),
  'rt-new-1': issued('at-new-1', 'rt-new-2'),
  'rt-new-2': issued('at-new-2', 'rt-new-3'),
};

describeRedis('resumeSession() over Redis while the old session rotates', () => {
  test('on the same handle: the next request carries the new session token and rt-new-1 is presented', async () => {
    const target = await start(SESSIONS);
    const one = processOn(redisPort, uniquePrefix('resume-same'), target);
    const early = one.api.get('/api/early');
    await until(() => target.presented.includes('rt-old-1'));
    await one.auth.resumeSession('rt-new-1');
    await one.api.get('/api/after');
    await early;
    expect(target.apiAuthorizations).toEqual(['Bearer at-new-1', 'Bearer at-new-1']);
    await one.auth.invalidate();
    await one.api.get('/api/later');
    expect(target.presented).toEqual(['rt-old-1', 'rt-new-1', 'rt-new-2']);
    expect(one.received).toEqual(['rt-new-2', 'rt-new-3']);
  });

  test('on another handle: the resume waits for the rotation, and rt-old-2 never overwrites rt-new-1', async () => {
    const target = await start(SESSIONS);
    const prefix = uniquePrefix('resume-other');
    const [rotating, resuming] = [processOn(redisPort, prefix, target), processOn(redisPort, prefix, target)];
    const early = rotating.api.get('/api/early');
    await until(() => target.presented.includes('rt-old-1'));
    await resuming.auth.resumeSession('rt-new-1');
    await resuming.api.get('/api/after');
    await early;
    expect(target.apiAuthorizations.at(-1)).toBe('Bearer at-new-1');
    // The other handle's next token comes from the new session too.
    await rotating.auth.invalidate();
    await rotating.api.get('/api/later');
    expect(target.apiAuthorizations.at(-1)).toBe('Bearer at-new-1');
    await rotating.auth.invalidate();
    await rotating.api.get('/api/last');
    expect(target.apiAuthorizations.at(-1)).toBe('Bearer at-new-2');
    expect(target.presented).toEqual(['rt-old-1', 'rt-new-1', 'rt-new-2']);
  });
});

describeRedis('a rotated refresh token written while Redis fails', () => {
  const ROTATION = { 'rt-old-1': issued('at-1', 'rt-old-2', 800), 'rt-old-2': issued('at-2', 'rt-old-3') };

  /** The holder rotates while `disturb` runs; then the other handle rotates the stored token. */
  async function rotateThrough(disturb: (admin: Redis) => Promise<void>): Promise<void> {
    const target = await start(ROTATION);
    const prefix = uniquePrefix('rotated-write');
    const port = own?.port;
    const [holder, other] = [processOn(port, prefix, target), processOn(port, prefix, target)];
    const admin = clients.open(port);
    const first = holder.api.get('/api/first');
    await until(() => target.presented.includes('rt-old-1'));
    await disturb(admin);
    await first;
    expect(holder.events.filter((event) => event.type === 'refresh-token-rotated')).toMatchObject([{ stored: true }]);
    // The access token goes from Redis (the holder's connection may still be coming back), so
    // that the other handle's next token needs the stored refresh token.
    const accessKeys = async (): Promise<string[]> =>
      (await admin.keys(`${prefix}token:*`)).filter((key) => !key.endsWith(':refresh'));
    const deadline = Date.now() + 15_000;
    while ((await accessKeys()).length > 0 && Date.now() < deadline) {
      await holder.auth.invalidate();
      await sleep(100);
    }
    await sendThroughOutage(other.api);
    expect(target.apiAuthorizations.at(-1)).toBe('Bearer at-2');
    // Each refresh token presented once: no reuse anywhere in the fleet.
    expect(target.presented).toEqual(['rt-old-1', 'rt-old-2']);
  }

  test('its connections killed every 25 ms for 1.5 s during the rotation answer: stored, and never reused', async () => {
    await rotateThrough(async (admin) => {
      const end = Date.now() + 1_500;
      while (Date.now() < end) {
        await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes').catch(() => undefined);
        await sleep(25);
      }
    });
  });

  test('Redis asleep for 2 s (DEBUG SLEEP) while the holder waits for its answer: stored, and never reused', async () => {
    await rotateThrough(async (admin) => {
      await sleep(300);
      void admin.call('DEBUG', 'SLEEP', '2').catch(() => undefined);
      await sleep(2_100);
    });
  });
});
