// Measures what docs/fleets.md reports: token requests per rotation for a fleet of processes with
// MemoryTokenStore and with RedisTokenStore, and what happens to requests while Redis is down.
//
//   npx tsx scripts/fleet-measure.ts            (needs redis-server on PATH: node scripts/ensure-redis.mjs)
//   FLEET_SIZE=6 ROTATIONS=5 npx tsx scripts/fleet-measure.ts
//
// Everything runs on 127.0.0.1: a private redis-server, the loopback provider simulation, and the
// fleet as child processes (the same workers as __tests__/redis/fleet.test.ts).
import { startProviderServer } from '../lib/testing/index.js';
import {
  percentile,
  playRedisOutage,
  rotate,
  startFleet,
  type RequestOutcome,
} from '../__tests__/redis/helpers/fleet.js';
import { startRedisServer } from '../__tests__/redis/helpers/redis-server.js';

const size = Number(process.env['FLEET_SIZE'] ?? 6);
const rotations = Number(process.env['ROTATIONS'] ?? 5);
const requestsEach = 5;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const latency = (outcomes: RequestOutcome[]): string => {
  const ms = outcomes.map((outcome) => outcome.ms);
  return `p50 ${percentile(ms, 0.5)} ms, p99 ${percentile(ms, 0.99)} ms, max ${Math.max(...ms)} ms`;
};

const redis = await startRedisServer();
const server = await startProviderServer('symbl');
try {
  const perRotation: Record<'memory' | 'redis', number[]> = { memory: [], redis: [] };
  for (const store of ['memory', 'redis'] as const) {
    const fleet = await startFleet({ size, store, redisPort: redis.port, prefix: `measure:${store}:`, server });
    try {
      for (const { requests, outcomes } of await rotate(fleet, server, { rotations, requestsEach })) {
        const failed = outcomes.filter((outcome) => !outcome.ok).length;
        if (failed > 0) throw new Error(`${failed} requests failed with the ${store} store`);
        perRotation[store].push(requests);
      }
    } finally {
      await fleet.close();
    }
  }

  // Outage: load on every process; Redis is killed, tokens are revoked while it is down, Redis restarts.
  const storeTimeoutMs = 1_000;
  const fleet = await startFleet({
    size,
    store: 'redis',
    redisPort: redis.port,
    prefix: 'measure:outage:',
    server,
    attach: { storeTimeoutMs },
    redisStore: { commandTimeoutMs: 200, retryAfterMs: 1_000 },
  });
  let report: string[];
  try {
    await fleet.burst(2);
    const loadMs = 6_000;
    const { loadStartedAt, downAt, upAt, outcomes, during, before, outageTokenRequests } = await playRedisOutage(
      fleet,
      redis,
      server,
      { loadMs, downAfterMs: 1_000, revokeAfterMs: 500, restartAfterMs: 2_000 },
    );
    await Promise.all(fleet.members.map((member) => member.redisReady()));
    await sleep(1_200);
    server.revokeAll();
    const beforeAfter = server.stats.tokenRequests;
    const after = await fleet.burst(requestsEach);
    const afterTokenRequests = server.stats.tokenRequests - beforeAfter;
    const events = await fleet.events();
    const count = (type: string): number => events.filter((event) => event.type === type).length;
    report = [
      `Redis killed (SIGKILL) ${downAt - loadStartedAt} ms into ${loadMs} ms of load and restarted ${upAt - downAt} ms later ` +
        `(${size} processes × 2 request loops); tokens revoked 500 ms into the outage.`,
      `| | requests sent | succeeded | failed | latency |`,
      `|---|---|---|---|---|`,
      `| before the outage | ${before.length} | ${before.filter((o) => o.ok).length} | ${before.filter((o) => !o.ok).length} | ${latency(before)} |`,
      `| while Redis was down | ${during.length} | ${during.filter((o) => o.ok).length} | ${during.filter((o) => !o.ok).length} | ${latency(during)} |`,
      `| whole load | ${outcomes.length} | ${outcomes.filter((o) => o.ok).length} | ${outcomes.filter((o) => !o.ok).length} | ${latency(outcomes)} |`,
      `| rotation after Redis came back | ${after.length} | ${after.filter((o) => o.ok).length} | ${after.filter((o) => !o.ok).length} | ${latency(after)} |`,
      ``,
      `Token requests for the rotation during the outage: ${outageTokenRequests} (one per process); ` +
        `for the rotation after Redis came back: ${afterTokenRequests}.`,
      `Events: ${count('store-failed')} store-failed, ${count('redis-unavailable')} redis-unavailable, ${count('redis-recovered')} redis-recovered.`,
    ];
  } finally {
    await fleet.close();
  }

  console.log(`\nToken requests per rotation, fleet of ${size} processes × ${requestsEach} concurrent requests each`);
  console.log(`(rotation 1 = cold start; the others follow a revocation, so every process gets a 401):\n`);
  console.log(`| store | ${perRotation.memory.map((_, i) => `rotation ${i + 1}`).join(' | ')} |`);
  console.log(`|---|${perRotation.memory.map(() => '---').join('|')}|`);
  console.log(`| MemoryTokenStore | ${perRotation.memory.join(' | ')} |`);
  console.log(`| RedisTokenStore | ${perRotation.redis.join(' | ')} |\n`);
  console.log(report.join('\n'));
} finally {
  await server.close();
  await redis.stop();
}
