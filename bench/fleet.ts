/**
 * Benchmark 4: a fleet of N processes sharing one token, MemoryTokenStore (one per process) vs
 * RedisTokenStore (shared): token requests per rotation, counted at the loopback provider. Uses the
 * fleet workers of the Redis test suite (real child processes) and a private redis-server.
 */
import { startProviderServer } from '../lib/testing/index.js';
import { rotate, startFleet } from '../__tests__/redis/helpers/fleet.js';
import { findRedisServer, startRedisServer } from '../__tests__/redis/helpers/redis-server.js';

export interface FleetRow {
  processes: number;
  store: 'memory' | 'Redis';
  rotations: number;
  tokenRequests: number;
  perRotation: number;
  requests: number;
  failed: number;
}

export interface FleetResult {
  description: string;
  rows: FleetRow[];
}

const REQUESTS_EACH = 5;

export async function runFleet({ sizes = [2, 4, 8], rotations = 3 } = {}): Promise<FleetResult> {
  const description =
    `Each process is a real child process with its own axios instance and tokenflight; every rotation, each sends ` +
    `${REQUESTS_EACH} concurrent requests. Rotation 1 is the cold start, each later one follows a revocation of every token. ` +
    `Token requests are counted at the simulated provider.`;
  if (findRedisServer() === undefined) {
    return {
      description: `${description}\n\nNot measured in this run: redis-server is not installed (\`node scripts/ensure-redis.mjs\`).`,
      rows: [],
    };
  }
  const redis = await startRedisServer();
  const server = await startProviderServer('symbl');
  const rows: FleetRow[] = [];
  try {
    for (const size of sizes) {
      for (const store of ['memory', 'redis'] as const) {
        const fleet = await startFleet({
          size,
          store,
          redisPort: redis.port,
          prefix: `bench:${size}:${store}:`,
          server,
        });
        let tokenRequests = 0;
        let requests = 0;
        let failed = 0;
        try {
          for (const rotation of await rotate(fleet, server, { rotations, requestsEach: REQUESTS_EACH })) {
            tokenRequests += rotation.requests;
            requests += rotation.outcomes.length;
            failed += rotation.outcomes.filter((outcome) => !outcome.ok).length;
          }
        } finally {
          await fleet.close();
        }
        rows.push({
          processes: size,
          store: store === 'redis' ? 'Redis' : 'memory',
          rotations,
          tokenRequests,
          perRotation: tokenRequests / rotations,
          requests,
          failed,
        });
      }
    }
  } finally {
    await server.close();
    await redis.stop();
  }
  return { description, rows };
}
