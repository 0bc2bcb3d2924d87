import { afterAll, afterEach, expect, jest, test } from '@jest/globals';
import axios from 'axios';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import {
  attachTokenAuth,
  isTokenRequestError,
  refreshTokenGrant,
  type TokenAuth,
  type TokenAuthEvent,
} from '../../lib/index.js';
import { RedisTokenStore } from '../../lib/redis.js';
import { issued, startRefreshServer, type RefreshServer } from '../helpers/refresh-server.js';
import { createClients, describeRedis, redisPort, uniquePrefix } from './helpers/env.js';

// The rotation mark over a real redis-server (lib/core/manager/rotation.ts): the holder marks the
// refresh token in the store before presenting it. Two handles, each with its own connection and
// store as two processes have; the holder reaches Redis through a TCP proxy that drops its
// connections, and refuses new ones, right after it presented the token: the server rotates it
// while the holder cannot store the answer. The fleet-refresh suite covers a holder SIGKILLed before the
// server handled its request.
jest.setTimeout(60_000);

const clients = createClients();
const handles: TokenAuth[] = [];
const proxies: Server[] = [];
let server: RefreshServer | undefined;

afterEach(async () => {
  for (const handle of handles.splice(0)) handle.eject();
  await server?.close();
  server = undefined;
});
afterAll(async () => {
  clients.closeAll();
  for (const proxy of proxies) await new Promise((resolve) => proxy.close(resolve));
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}

/** Token requests of 2 s and no retry: a lease of 3 s; a mark stands until 2 s after the lease. */
const TIMEOUT_MS = 2_000;
const LEASE_MS = TIMEOUT_MS + 1_000;

/** One "process": its own named connection, store, axios instance and handle, on the session of `rt-old-1`. */
function processOn(port: number | undefined, prefix: string, target: RefreshServer) {
  const events: TokenAuthEvent[] = [];
  const client = clients.open(port, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  // A Redis lease of 1 s (renewed while the holder reaches Redis): a cut-off holder loses it soon.
  const store = new RedisTokenStore(client, { prefix, commandTimeoutMs: 200, lockLeaseMs: 1_000 });
  const api = axios.create({ baseURL: target.url });
  const auth = attachTokenAuth(api, {
    providers: refreshTokenGrant({ tokenUrl: target.tokenUrl, clientId: 'app', refreshToken: 'rt-old-1' }),
    store,
    storeTimeoutMs: 300,
    tokenRequest: { retries: 0, timeoutMs: TIMEOUT_MS },
    onEvent: (event) => events.push(event),
  });
  handles.push(auth);
  return { api, auth, events };
}

/** A TCP proxy to Redis for one process: `cut()` drops its connections and refuses new ones until `mend()`. */
async function proxyToRedis(): Promise<{ port: number; cut(): void; mend(): void; close(): Promise<void> }> {
  let open = true;
  const sockets = new Set<Socket>();
  const proxy = createServer((inbound) => {
    if (!open) {
      inbound.destroy();
      return;
    }
    const outbound = connect(redisPort ?? 0, '127.0.0.1');
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        inbound.destroy();
        outbound.destroy();
      });
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxies.push(proxy);
  return {
    port: (proxy.address() as AddressInfo).port,
    cut() {
      open = false;
      for (const socket of sockets) socket.destroy();
    },
    mend() {
      open = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        proxy.close(() => resolve());
      }),
  };
}

/** The holder presents `rt-old-1` (answered in 300 ms) and is cut off from Redis from that moment. */
async function rotateCutOff(prefix: string) {
  const target = await startRefreshServer({
    'rt-old-1': issued('at-1', 'rt-old-2', 300),
    'rt-old-2': issued('at-2', 'rt-old-3'),
  });
  server = target;
  const cut = await proxyToRedis();
  const holder = processOn(cut.port, prefix, target);
  const other = processOn(redisPort, prefix, target);
  const first = holder.api.get('/api/first').then(
    () => undefined,
    (error: unknown) => error,
  );
  await until(() => target.presented.includes('rt-old-1'));
  const presentedAt = Date.now();
  cut.cut();
  return { target, holder, other, first, presentedAt, cut };
}

describeRedis('the rotation mark over Redis', () => {
  test('a holder cut off from Redis for its whole lease after the server rotated: no one presents the used token, and its write lands', async () => {
    const { target, holder, other, first, presentedAt, cut } = await rotateCutOff(uniquePrefix('mark-alive'));
    // The other process asks while the holder cannot store: it waits for the mark, not for the lease.
    await sleep(500);
    const asked = other.api.get('/api/other');
    await sleep(LEASE_MS + 200 - (Date.now() - presentedAt));
    expect(target.presented).toEqual(['rt-old-1']);
    cut.mend();
    expect(await first).toBeUndefined();
    expect(holder.events.filter((event) => event.type === 'refresh-token-rotated')).toMatchObject([{ stored: true }]);
    expect((await asked).status).toBe(200);
    // The used refresh token was never presented again; the rotated one, once, if at all.
    expect(target.presented.filter((token) => token === 'rt-old-1')).toHaveLength(1);
    expect(target.presented.slice(1).every((token) => token === 'rt-old-2')).toBe(true);
    await other.auth.invalidate();
    await holder.auth.invalidate();
    await other.api.get('/api/later');
    expect(target.presented.filter((token) => token === 'rt-old-1')).toHaveLength(1);
  });

  test('a holder that dies after the server answered: the used token is presented only once its mark has run out, and the session ends with ERR_TOKEN_SESSION_ENDED', async () => {
    const { target, holder, other, first, presentedAt, cut } = await rotateCutOff(uniquePrefix('mark-dead'));
    // The answer arrives; the holder, unable to store it, is gone before it could.
    await sleep(400);
    holder.auth.eject();
    await first;
    let secondAt = 0;
    const watch = until(() => target.presented.length > 1, 20_000).then(() => (secondAt = Date.now()));
    const failure = await other.api.get('/api/other').catch((error: unknown) => error);
    await watch;
    expect(isTokenRequestError(failure) && failure.code).toBe('ERR_TOKEN_SESSION_ENDED');
    expect(target.presented).toEqual(['rt-old-1', 'rt-old-1']);
    // Not before the mark ran out: the holder's lease and one time limit after it was written.
    expect(secondAt - presentedAt).toBeGreaterThanOrEqual(LEASE_MS + TIMEOUT_MS - 300);
    expect(other.events.some((event) => event.type === 'session-ended')).toBe(true);
    // Every later call fails fast, and presents nothing.
    const again = await other.api.get('/api/again').catch((error: unknown) => error);
    expect(isTokenRequestError(again) && again.code).toBe('ERR_TOKEN_SESSION_ENDED');
    expect(target.presented).toHaveLength(2);
    await cut.close();
    console.log(
      `holder dead after the server answered: the used token presented again ${secondAt - presentedAt} ms after ` +
        `its first presentation (mark: lease ${LEASE_MS} ms + time limit ${TIMEOUT_MS} ms from the lock), then session ended`,
    );
  });
});
