import { afterAll, afterEach, beforeAll, expect, jest, test } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { startAuthorizationServer, type AuthorizationServer } from '../../lib/testing/index.js';
import { createClients, describeRedis, redisPort, uniquePrefix } from './helpers/env.js';
import { failures, refreshTokenSession, startFleet, until, type Fleet, type RequestOutcome } from './helpers/fleet.js';

// A fleet of processes sharing one rotating refresh token through Redis, against a real
// authorization server that revokes the whole family when a used refresh token is presented again.
// Child processes start slowly on a busy 2-core machine: generous deadlines, no speed assertions.
jest.setTimeout(240_000);

const FLEET_SIZE = 6;
const ROTATIONS = 20;
/** The rotation during which the lock holder is killed mid token request. */
const KILLED_AT = 10;
const LOCK_LEASE_MS = 1_500;
/** Token requests of 3 s, not retried: a lock of 4 s, and a rotation mark that stands 3 s longer. */
const TOKEN_REQUEST = { retries: 0, timeoutMs: 3_000 };
const MARK_MS = TOKEN_REQUEST.timeoutMs + 1_000 + TOKEN_REQUEST.timeoutMs;
const SLACK = {
  attach: { storeTimeoutMs: 3_000, tokenRequest: TOKEN_REQUEST },
  redisStore: { commandTimeoutMs: 2_500, lockLeaseMs: LOCK_LEASE_MS },
};
const clients = createClients();
let server: AuthorizationServer;
let fleet: Fleet | undefined;

beforeAll(async () => {
  server = await startAuthorizationServer({ accessTokenLifetimeSeconds: 3600 });
});
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});
afterAll(async () => {
  clients.closeAll();
  await server.close();
});

describeRedis('a fleet sharing one rotating refresh token through Redis', () => {
  test(`${FLEET_SIZE} processes over ${ROTATIONS} rotations, with revocations and a killed lock holder: every refresh token is used once`, async () => {
    const prefix = uniquePrefix('fleet-refresh');
    const refreshToken = server.issueRefreshToken({ clientId: 'public-client' });
    const live = await startFleet({
      size: FLEET_SIZE,
      store: 'redis',
      redisPort,
      prefix,
      encryptionKey: randomBytes(32).toString('base64'),
      provider: refreshTokenSession(server, refreshToken),
      ...SLACK,
    });
    fleet = live;
    const [holder, ...others] = live.members;
    const outcomes: RequestOutcome[] = [];
    const rotationsEach: number[] = [];
    let recoveryMs = NaN;

    for (let rotation = 0; rotation < ROTATIONS; rotation++) {
      const before = server.stats.rotations;
      // Rotation 0 is the cold start; each later one follows a revocation: every process gets a 401.
      if (rotation > 0) server.revokeAccessTokens();
      if (rotation === KILLED_AT) {
        // The holder's refresh reaches the server, which holds it; the holder dies before it is handled.
        server.setTokenLatency(2_000);
        const requestsBefore = server.stats.refreshRequests;
        holder?.burst(1).catch(() => undefined);
        await until(() => server.stats.refreshRequests === requestsBefore + 1, "the holder's refresh request");
        await holder?.kill('SIGKILL');
        const killedAt = Date.now();
        server.setTokenLatency(0);
        const answered = (await Promise.all(others.map((member) => member.burst(5)))).flat();
        recoveryMs = Math.min(...answered.map((outcome) => outcome.startedAt + outcome.ms)) - killedAt;
        outcomes.push(...answered);
      } else {
        outcomes.push(...(await live.burst(5)));
      }
      rotationsEach.push(server.stats.rotations - before);
    }

    const family = server.familyOf(refreshToken);
    expect(failures(outcomes)).toEqual([]);
    expect(outcomes).toHaveLength(KILLED_AT * FLEET_SIZE * 5 + (ROTATIONS - KILLED_AT) * (FLEET_SIZE - 1) * 5);
    expect(rotationsEach).toEqual(Array.from({ length: ROTATIONS }, () => 1));
    expect(server.stats).toMatchObject({
      rotations: ROTATIONS,
      refreshTokenUses: ROTATIONS,
      reuseDetections: 0,
      revokedFamilies: 0,
    });
    expect(family).toMatchObject({ revoked: false, rotations: ROTATIONS });
    // One request more than rotations: the killed holder's, which the server never handled.
    expect(server.stats.refreshRequests).toBe(ROTATIONS + 1);
    // Bounded: the siblings waited for the dead holder's rotation mark to run out (its lock's
    // lifetime and one token request time limit, from when it took the lock), and no longer.
    expect(recoveryMs).toBeLessThan(MARK_MS + 13_000);

    // At rest: the refresh token's entry is encrypted, and outlives the access token's.
    const redis = clients.open();
    const [refreshKey] = await redis.keys(`${prefix}token:*:refresh`);
    const [accessKey] = (await redis.keys(`${prefix}token:*`)).filter((key) => !key.endsWith(':refresh'));
    const raw = (await redis.get(refreshKey as string)) ?? '';
    const current = family?.currentRefreshToken ?? '';
    expect(raw).not.toContain(current);
    expect(raw).not.toContain(Buffer.from(current).toString('base64'));
    expect(JSON.parse(raw)).toHaveProperty('ct');
    expect(await redis.pttl(refreshKey as string)).toBeGreaterThan(await redis.pttl(accessKey as string));

    console.log(
      `rotating refresh token, fleet of ${FLEET_SIZE} on Redis, ${ROTATIONS} rotations (holder SIGKILLed in rotation ${KILLED_AT}): ` +
        `${outcomes.length} requests, ${failures(outcomes).length} failed; rotations ${server.stats.rotations}, ` +
        `refresh-token uses ${server.stats.refreshTokenUses}, ` +
        `refresh requests ${server.stats.refreshRequests} (1 killed before the server handled it), ` +
        `reuse detections ${server.stats.reuseDetections}, revoked families ${server.stats.revokedFamilies}; ` +
        `siblings answered ${recoveryMs} ms after the kill (Redis lease ${LOCK_LEASE_MS} ms, rotation mark ${MARK_MS} ms)`,
    );
  });
});
