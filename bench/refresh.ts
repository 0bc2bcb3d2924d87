/**
 * Benchmark 6: rotating refresh tokens across a fleet. N real processes share one session (one
 * refresh token) against the testing kit's authorization server, which rotates refresh tokens and
 * revokes the whole family when a used one is presented again. tokenflight on a shared
 * RedisTokenStore beside the usual alternative: axios-auth-refresh with a hand-written refresh
 * function, each process holding its own copy of the refresh token. Counts are taken at the server.
 */
import { startAuthorizationServer } from '../lib/testing/index.js';
import { refreshTokenSession, startFleet } from '../__tests__/redis/helpers/fleet.js';
import { findRedisServer, startRedisServer } from '../__tests__/redis/helpers/redis-server.js';

export interface RefreshRow {
  approach: string;
  processes: number;
  /** Rounds in which every access token was revoked (the first is the cold start). */
  rounds: number;
  /** Successful rotations at the server. */
  rotations: number;
  /** Refresh tokens the server looked up: every use of one. */
  refreshTokenUses: number;
  usesPerRotation: number;
  reuseDetections: number;
  revokedFamilies: number;
  requests: number;
  failed: number;
}

export interface RefreshResult {
  description: string;
  rows: RefreshRow[];
}

const REQUESTS_EACH = 5;
const APPROACHES = [
  { approach: 'tokenflight, RedisTokenStore', client: 'tokenflight' },
  { approach: 'axios-auth-refresh + refresh function', client: 'axios-auth-refresh' },
] as const;

export async function runRefresh({ sizes = [2, 4, 8], rounds = 10 } = {}): Promise<RefreshResult> {
  const description =
    `Each process is a real child process with its own axios instance, all starting from one refresh token (one user's ` +
    `session). Every round, each process sends ${REQUESTS_EACH} concurrent requests; round 1 is the cold start, each later ` +
    `one follows a revocation of every access token, so every process needs a new one. The authorization server ` +
    `(\`startAuthorizationServer\`, @node-oauth/oauth2-server) rotates the refresh token on every use and revokes the ` +
    `family when a used one comes back. axios-auth-refresh runs with \`deduplicateRefresh: false\` (no in-process ` +
    `failures, see section 2) and a refresh function that keeps the rotated refresh token in its process.`;
  if (findRedisServer() === undefined) {
    return { description: `${description}\n\nNot measured in this run: redis-server is not installed.`, rows: [] };
  }
  const redis = await startRedisServer();
  const rows: RefreshRow[] = [];
  try {
    for (const size of sizes) {
      for (const { approach, client } of APPROACHES)
        rows.push(await runOne(redis.port, size, rounds, approach, client));
    }
  } finally {
    await redis.stop();
  }
  return { description, rows };
}

async function runOne(
  redisPort: number,
  size: number,
  rounds: number,
  approach: string,
  client: 'tokenflight' | 'axios-auth-refresh',
): Promise<RefreshRow> {
  const server = await startAuthorizationServer();
  const refreshToken = server.issueRefreshToken({ clientId: 'public-client' });
  const fleet = await startFleet({
    size,
    store: 'redis',
    redisPort,
    prefix: `bench:refresh:${size}:${client}:`,
    client,
    provider: refreshTokenSession(server, refreshToken),
  });
  let requests = 0;
  let failed = 0;
  try {
    for (let round = 0; round < rounds; round++) {
      if (round > 0) server.revokeAccessTokens();
      const outcomes = await fleet.burst(REQUESTS_EACH, '/api/me');
      requests += outcomes.length;
      failed += outcomes.filter((outcome) => !outcome.ok).length;
    }
  } finally {
    await fleet.close();
    await server.close();
  }
  const { rotations, refreshTokenUses, reuseDetections, revokedFamilies } = server.stats;
  return {
    approach,
    processes: size,
    rounds,
    rotations,
    refreshTokenUses,
    usesPerRotation: rotations === 0 ? Infinity : refreshTokenUses / rotations,
    reuseDetections,
    revokedFamilies,
    requests,
    failed,
  };
}
