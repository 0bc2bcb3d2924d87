import { afterAll, afterEach, beforeAll, beforeEach, expect, jest, test } from '@jest/globals';
import axios from 'axios';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  attachTokenAuth,
  isTokenRequestError,
  refreshTokenGrant,
  type TokenAuth,
  type TokenAuthEvent,
} from '../../lib/index.js';
import { RedisTokenStore } from '../../lib/redis.js';
import { startAuthorizationServer, type AuthorizationServer } from '../../lib/testing/index.js';
import { createClients, describeRedis, uniquePrefix } from './helpers/env.js';
import { startRedisServer, type RedisServer } from './helpers/redis-server.js';

// A rotating refresh token when the shared store is slow or down: nothing is presented without the
// store's lock, so the callers that need a new token get ERR_TOKEN_STORE_UNAVAILABLE (fast, bounded
// by the store time-outs) instead of a per-process refresh that would reuse the token elsewhere.
jest.setTimeout(90_000);

const COMMAND_TIMEOUT_MS = 400;
const clients = createClients();
let server: AuthorizationServer;
/** A redis-server that keeps its data across a restart (append-only file, fsync on every write). */
let redis: RedisServer;
const handles: TokenAuth[] = [];
const dataDir = mkdtempSync(join(tmpdir(), 'tokenflight-redis-'));

beforeAll(async () => {
  [server, redis] = await Promise.all([
    startAuthorizationServer(),
    startRedisServer({ args: ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dataDir] }),
  ]);
});
beforeEach(() => server.resetStats());
afterEach(() => {
  for (const handle of handles.splice(0)) handle.eject();
});
afterAll(async () => {
  clients.closeAll();
  await Promise.all([server.close(), redis.stop()]);
  rmSync(dataDir, { recursive: true, force: true });
});

/** What onRefreshToken received, as an application would persist it. */
const saved: string[] = [];
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `count` "processes": each its own Redis connection, store, axios instance and handle, on one session. */
function processes(count: number, prefix: string, refreshToken: string, on: RedisServer = redis) {
  const events: TokenAuthEvent[] = [];
  return Array.from({ length: count }, () => {
    const store = new RedisTokenStore(
      clients.open(on.port, { retryStrategy: () => 100, maxRetriesPerRequest: 1, enableOfflineQueue: false }),
      { prefix, commandTimeoutMs: COMMAND_TIMEOUT_MS, breakerOpenMs: 300 },
    );
    const api = axios.create({ baseURL: server.url });
    const auth = attachTokenAuth(api, {
      providers: refreshTokenGrant({
        tokenUrl: server.tokenUrl,
        clientId: 'public-client',
        refreshToken,
        onRefreshToken: (next) => saved.push(next),
      }),
      store,
      storeTimeoutMs: 3 * COMMAND_TIMEOUT_MS,
      onEvent: (event) => events.push(event),
    });
    handles.push(auth);
    return { api, auth, events };
  });
}

type Outcome = { ok: true } | { ok: false; code: string | undefined; ms: number };

async function send(api: ReturnType<typeof processes>[number]['api']): Promise<Outcome> {
  const startedAt = Date.now();
  try {
    await api.get('/api/me');
    return { ok: true };
  } catch (error) {
    return { ok: false, code: isTokenRequestError(error) ? error.code : String(error), ms: Date.now() - startedAt };
  }
}

/** Requests from every process until each has had one succeed. */
async function recovered(fleet: ReturnType<typeof processes>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const { api } of fleet) {
    while (!(await send(api)).ok) {
      if (Date.now() > deadline) throw new Error('the processes did not recover');
      await sleep(100);
    }
  }
}

const noReuse = (): void => {
  expect(server.stats.reuseDetections).toBe(0);
  expect(server.stats.revokedFamilies).toBe(0);
};

describeRedis('a rotating refresh token when Redis is slow or down', () => {
  test('Redis paused (CLIENT PAUSE): callers needing a new token fail fast with ERR_TOKEN_STORE_UNAVAILABLE; nothing is presented', async () => {
    const fleet = processes(3, uniquePrefix('refresh-pause'), server.issueRefreshToken({ clientId: 'public-client' }));
    await Promise.all(fleet.map(({ api }) => api.get('/api/me')));
    expect(server.stats.rotations).toBe(1);

    const admin = clients.open(redis.port);
    server.revokeAccessTokens();
    await admin.call('CLIENT', 'PAUSE', '2500', 'ALL');
    const pausedAt = Date.now();
    const during = (await Promise.all(fleet.flatMap(({ api }) => Array.from({ length: 10 }, () => send(api))))).filter(
      (outcome): outcome is Extract<Outcome, { ok: false }> => !outcome.ok,
    );
    const pausedFor = Date.now() - pausedAt;
    expect(pausedFor).toBeLessThan(2_500);
    expect(during).toHaveLength(30);
    expect(new Set(during.map((outcome) => outcome.code))).toEqual(new Set(['ERR_TOKEN_STORE_UNAVAILABLE']));
    expect(server.stats.refreshRequests - 1).toBe(0);

    await sleep(2_600 - (Date.now() - pausedAt));
    await recovered(fleet);
    const after = await Promise.all(fleet.flatMap(({ api }) => Array.from({ length: 10 }, () => send(api))));
    expect(after.every((outcome) => outcome.ok)).toBe(true);
    expect(server.stats.rotations).toBe(2);
    noReuse();
  });

  test('Redis (persistent) stopped mid-load and restarted: only ERR_TOKEN_STORE_UNAVAILABLE while it is down, never a reuse, one rotation after', async () => {
    const fleet = processes(3, uniquePrefix('refresh-outage'), server.issueRefreshToken({ clientId: 'public-client' }));
    await Promise.all(fleet.map(({ api }) => api.get('/api/me')));
    let done = false;
    const outcomes: Outcome[] = [];
    const loads = fleet.flatMap(({ api }) =>
      Array.from({ length: 2 }, async () => {
        while (!done) {
          outcomes.push(await send(api));
          await sleep(10);
        }
      }),
    );
    await sleep(300);
    await redis.stop('SIGKILL');
    await sleep(200);
    server.revokeAccessTokens();
    await sleep(1_200);
    const rotationsWhileDown = server.stats.rotations - 1;
    await redis.start();
    await sleep(300);
    done = true;
    await Promise.all(loads);

    const failed = outcomes.filter((outcome): outcome is Extract<Outcome, { ok: false }> => !outcome.ok);
    expect(failed.length).toBeGreaterThan(0);
    expect(new Set(failed.map((outcome) => outcome.code))).toEqual(new Set(['ERR_TOKEN_STORE_UNAVAILABLE']));
    // Bounded: no caller waited on the dead Redis beyond the store time-outs.
    expect(Math.max(...failed.map((outcome) => outcome.ms))).toBeLessThan(6 * COMMAND_TIMEOUT_MS);
    expect(rotationsWhileDown).toBe(0);

    await recovered(fleet);
    expect(server.stats.rotations).toBe(2);
    noReuse();
    console.log(
      `rotating refresh token, Redis stopped for about 1.4 s under load (3 processes): ${outcomes.length} requests, ` +
        `${failed.length} failed with ERR_TOKEN_STORE_UNAVAILABLE (slowest ${Math.max(...failed.map((o) => o.ms))} ms), ` +
        `0 rotations while down, 1 after; reuse detections ${server.stats.reuseDetections}`,
    );
  });

  test('Redis restarted without its data: the session is lost, never resumed with a used refresh token; resumeSession() with the saved one restores it', async () => {
    const volatile = await startRedisServer();
    try {
      const fleet = processes(
        3,
        uniquePrefix('refresh-lost'),
        server.issueRefreshToken({ clientId: 'public-client' }),
        volatile,
      );
      await Promise.all(fleet.map(({ api }) => api.get('/api/me')));
      await volatile.stop('SIGKILL');
      await volatile.start();
      server.revokeAccessTokens();
      await Promise.all(
        fleet.map(async ({ api }) => {
          for (let i = 0; i < 50; i++) if (!(await send(api)).ok) return;
        }),
      );
      const codes = await Promise.all(
        fleet.map(async ({ api }) => {
          let outcome = await send(api);
          for (let i = 0; i < 50 && !outcome.ok && outcome.code === 'ERR_TOKEN_STORE_UNAVAILABLE'; i++) {
            await sleep(100);
            outcome = await send(api);
          }
          return outcome.ok ? 'ok' : outcome.code;
        }),
      );
      expect(codes).toEqual(['ERR_TOKEN_SESSION_ENDED', 'ERR_TOKEN_SESSION_ENDED', 'ERR_TOKEN_SESSION_ENDED']);
      expect(server.stats.refreshRequests).toBe(1);
      noReuse();

      await fleet[0]?.auth.resumeSession(saved[saved.length - 1] ?? '');
      await recovered(fleet);
      expect(server.stats.rotations).toBe(2);
      noReuse();
    } finally {
      await volatile.stop();
    }
  });
});
