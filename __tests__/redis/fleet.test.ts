import { afterAll, afterEach, beforeAll, expect, jest, test } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { startProviderServer, type ProviderServer } from '../../lib/testing/index.js';
import { createClients, describeRedis, redisPort, uniquePrefix } from './helpers/env.js';
import {
  failures,
  percentile,
  playRedisOutage,
  startFleet,
  tokenRequestsDuring,
  until,
  type Fleet,
  type FleetEvent,
  type RequestOutcome,
} from './helpers/fleet.js';
import { startRedisServer, type RedisServer } from './helpers/redis-server.js';

// Child processes start slowly on a busy 2-core machine: generous deadlines, no speed assertions.
jest.setTimeout(180_000);

const FLEET_SIZE = 6;
// Slack for a loaded machine: a Redis answer slowed down by CPU contention must not count as an outage
// here (the store would rightly fall back, and the fleet make more than one token request). A Redis
// that is down is detected from the connection, not from these time-outs.
const SLACK = { attach: { storeTimeoutMs: 3_000 }, redisStore: { commandTimeoutMs: 2_500 } };
const clients = createClients();
let server: ProviderServer;
let fleet: Fleet | undefined;
let privateRedis: RedisServer | undefined;

beforeAll(async () => {
  server = await startProviderServer('symbl');
});
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
  await privateRedis?.stop();
  privateRedis = undefined;
});
afterAll(async () => {
  clients.closeAll();
  await server.close();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Token requests the simulated provider received while `run` ran. */
const fingerprints = (outcomes: RequestOutcome[]): Set<string | undefined> =>
  new Set(outcomes.map((outcome) => outcome.fingerprint));

describeRedis('a fleet of processes sharing one token store', () => {
  test('with RedisTokenStore the fleet makes one token request per rotation; with MemoryTokenStore, one per process', async () => {
    const rotations = 3;
    const perRotation = { memory: [] as number[], redis: [] as number[] };
    const encryptionKey = randomBytes(32).toString('base64');
    const prefix = uniquePrefix('fleet');

    for (const store of ['memory', 'redis'] as const) {
      fleet = await startFleet({ ...SLACK, size: FLEET_SIZE, store, redisPort, prefix, server, encryptionKey });
      for (let rotation = 0; rotation < rotations; rotation++) {
        // Rotation 0 is the cold start; each later one follows a revocation: every process gets a 401.
        if (rotation > 0) server.revokeAll();
        const { requests, outcomes } = await tokenRequestsDuring(server, () => (fleet as Fleet).burst(5));
        expect(outcomes).toHaveLength(FLEET_SIZE * 5);
        expect(failures(outcomes)).toEqual([]);
        perRotation[store].push(requests);
        if (store === 'redis') expect(fingerprints(outcomes).size).toBe(1);
      }
      await fleet.close();
      fleet = undefined;
    }

    console.log(
      `token requests per rotation, fleet of ${FLEET_SIZE} processes × 5 concurrent requests: ` +
        `MemoryTokenStore ${perRotation.memory.join(', ')}; RedisTokenStore ${perRotation.redis.join(', ')}`,
    );
    expect(perRotation.redis).toEqual(Array(rotations).fill(1));
    expect(perRotation.memory).toEqual(Array(rotations).fill(FLEET_SIZE));

    // What the fleet left in Redis: hashed key names, no credential, no token in clear.
    const redis = clients.open();
    const keys = await redis.keys(`${prefix}*`);
    expect(keys).toEqual([
      expect.stringMatching(new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}token:[0-9a-f]{64}$`)),
    ]);
    const dump = JSON.stringify({ keys, values: await Promise.all(keys.map((key) => redis.get(key))) });
    for (const secret of [...Object.values(server.credentials), ...server.tokens.map((issued) => issued.accessToken)]) {
      expect(dump).not.toContain(secret);
    }
  });

  test('after the shared token expires, the fleet makes one token request for the next', async () => {
    server.setTokenLifetime(2);
    try {
      const prefix = uniquePrefix('expiry');
      fleet = await startFleet({ ...SLACK, size: FLEET_SIZE, store: 'redis', redisPort, prefix, server });
      const cold = await tokenRequestsDuring(server, () => (fleet as Fleet).burst(3));
      expect(cold.requests).toBe(1);
      await sleep(2_200);
      const next = await tokenRequestsDuring(server, () => (fleet as Fleet).burst(3));
      expect(failures(next.outcomes)).toEqual([]);
      expect(next.requests).toBe(1);
      expect(fingerprints(next.outcomes).size).toBe(1);
      expect(fingerprints(next.outcomes)).not.toEqual(fingerprints(cold.outcomes));
    } finally {
      server.setTokenLifetime(3600);
    }
  });

  test('when the lock holder is killed mid token request, the others fetch once its lease runs out', async () => {
    const prefix = uniquePrefix('crash');
    const lockLeaseMs = 1_500;
    // With the default tokenRequest settings, tokenflight asks for the lock for 53 s; the lease is what a crash costs.
    fleet = await startFleet({
      ...SLACK,
      size: FLEET_SIZE,
      store: 'redis',
      redisPort,
      prefix,
      server,
      redisStore: { ...SLACK.redisStore, lockLeaseMs },
    });
    const [holder, ...others] = fleet.members;
    const redis = clients.open();
    const before = server.stats.tokenRequests;
    server.queueTokenFaults({ hang: true });

    holder?.burst(1).catch(() => undefined);
    await until(async () => server.stats.tokenRequests === before + 1, 'the holder’s token request');
    const [lockKey] = await redis.keys(`${prefix}lock:*`);
    expect(lockKey).toBeDefined();
    await holder?.kill('SIGKILL');
    const killedAt = Date.now();
    const lockFreesAt = killedAt + (await redis.pttl(lockKey as string));
    // The dead holder's lock is still there: nobody else deleted it.
    expect(await redis.exists(lockKey as string)).toBe(1);

    const outcomes = (await Promise.all(others.map((member) => member.burst(2)))).flat();
    expect(failures(outcomes)).toEqual([]);
    expect(outcomes).toHaveLength((FLEET_SIZE - 1) * 2);
    expect(fingerprints(outcomes).size).toBe(1);
    expect(server.stats.tokenRequests - before).toBe(2);
    // Nobody got a token before the dead holder's lock expired, and nobody waited out the 53 s asked for.
    const firstAnswer = Math.min(...outcomes.map((outcome) => outcome.startedAt + outcome.ms));
    expect(firstAnswer).toBeGreaterThanOrEqual(lockFreesAt - 50);
    expect(firstAnswer - killedAt).toBeLessThan(53_000);
    console.log(
      `killed lock holder: ${server.stats.tokenRequests - before} token requests in total; ` +
        `the other ${FLEET_SIZE - 1} processes were answered ${firstAnswer - killedAt} ms after the kill ` +
        `(lock lease ${lockLeaseMs} ms, ${lockFreesAt - killedAt} ms of it left at the kill)`,
    );
  });

  test('Redis stopped mid-load and restarted: no request fails, each process fetches at most once meanwhile, then the fleet shares again', async () => {
    privateRedis = await startRedisServer();
    const { storeTimeoutMs } = SLACK.attach;
    fleet = await startFleet({
      size: FLEET_SIZE,
      store: 'redis',
      redisPort: privateRedis.port,
      prefix: uniquePrefix('outage'),
      server,
      attach: SLACK.attach,
      redisStore: { ...SLACK.redisStore, retryAfterMs: 500 },
    });
    const cold = await tokenRequestsDuring(server, () => (fleet as Fleet).burst(2));
    expect(cold.requests).toBe(1);
    const live = fleet;

    // Load on every process; Redis dies, tokens are revoked while it is down, Redis comes back.
    const loadMs = 4_000;
    const {
      loadStartedAt,
      downAt,
      upAt,
      outcomes,
      during,
      before: baseline,
      outageTokenRequests: outageRequests,
    } = await playRedisOutage(live, privateRedis, server, {
      loadMs,
      downAfterMs: 600,
      revokeAfterMs: 300,
      restartAfterMs: 1_200,
    });

    expect(failures(outcomes)).toEqual([]);
    expect(during.length).toBeGreaterThan(0);
    expect(outageRequests).toBeGreaterThanOrEqual(1);
    expect(outageRequests).toBeLessThanOrEqual(FLEET_SIZE);
    // Bounded: no request waited for a dead Redis beyond the store time-outs.
    const slowest = Math.max(...during.map((outcome) => outcome.ms));
    expect(slowest).toBeLessThan(3 * storeTimeoutMs);

    const events = await live.events();
    const byMember = await Promise.all(live.members.map((member) => member.events()));
    for (const seen of byMember) {
      expect(seen.map((event: FleetEvent) => event.type)).toEqual(
        expect.arrayContaining(['store-failed', 'redis-unavailable']),
      );
    }

    // Back on Redis: once connections are ready and retryAfterMs has passed, one token request per rotation again.
    await Promise.all(live.members.map((member) => member.redisReady()));
    await sleep(600);
    server.revokeAll();
    const after = await tokenRequestsDuring(server, () => live.burst(3));
    expect(failures(after.outcomes)).toEqual([]);
    expect(after.requests).toBe(1);
    expect(fingerprints(after.outcomes).size).toBe(1);
    const recovered = await Promise.all(live.members.map((member) => member.events()));
    for (const seen of recovered) expect(seen.map((event) => event.type)).toContain('redis-recovered');

    console.log(
      [
        `Redis outage under load (fleet of ${FLEET_SIZE}, ${loadMs} ms of load, Redis down ${upAt - downAt} ms from ${downAt - loadStartedAt} ms in, tokens revoked while down):`,
        `  requests ${outcomes.length} sent, ${outcomes.filter((o) => o.ok).length} succeeded, ${failures(outcomes).length} failed`,
        `  while Redis was down: ${during.length} requests, latency p50 ${percentile(
          during.map((o) => o.ms),
          0.5,
        )} ms, p99 ${percentile(
          during.map((o) => o.ms),
          0.99,
        )} ms, max ${slowest} ms`,
        `  before the outage: latency p50 ${percentile(
          baseline.map((o) => o.ms),
          0.5,
        )} ms, p99 ${percentile(
          baseline.map((o) => o.ms),
          0.99,
        )} ms, max ${Math.max(...baseline.map((o) => o.ms))} ms`,
        `  token requests for the rotation during the outage: ${outageRequests}; for the rotation after Redis came back: ${after.requests}`,
        `  events: ${events.filter((e) => e.type === 'store-failed').length} store-failed, ${events.filter((e) => e.type === 'redis-unavailable').length} redis-unavailable`,
      ].join('\n'),
    );
  });
});
