import { describe } from '@jest/globals';
import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { findRedisServer, freePort, startRedisServer, type RedisServer } from './redis-server.js';

/** `redis-cli` beside `redis-server` (Debian ships both), if it is there. */
export function findRedisCli(): string | undefined {
  const server = findRedisServer();
  if (server === undefined) return undefined;
  const candidate = join(dirname(server), 'redis-cli');
  try {
    accessSync(candidate, constants.X_OK);
    return candidate;
  } catch {
    return undefined;
  }
}

/**
 * `describe` when `redis-server` and `redis-cli` are on PATH, else `describe.skip` with a printed
 * notice; under CI=true their absence throws, so the Cluster suite can never be skipped there.
 */
export const describeCluster: (name: string, suite: () => void) => void = (() => {
  if (findRedisCli() !== undefined) return describe;
  const how = 'install them with `node scripts/ensure-redis.mjs` (Debian: apt-get install redis-server)';
  if (process.env['CI'] === 'true')
    throw new Error(`redis-server and redis-cli must be on PATH under CI=true for the Redis Cluster suite; ${how}`);
  console.warn(
    `\n[tokenflight] redis-server or redis-cli is not on PATH: the Redis Cluster suite is SKIPPED; ${how}.\n`,
  );
  return describe.skip;
})();

/** A Redis Cluster of masters on loopback ports, without replicas or persistence. */
export interface RedisCluster {
  /** The masters' ports, in the order they were created (slots split evenly among them). */
  readonly ports: readonly number[];
  /** `{ host, port }` of every master, ready for ioredis's `new Cluster(nodes)`. */
  readonly nodes: readonly { host: string; port: number }[];
  /** Stops every node and removes the nodes' config directory. */
  stop(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** CLUSTER INFO of the node on `port`, as fields. */
async function clusterInfo(port: number): Promise<Record<string, string>> {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const info = await client.cluster('INFO');
    return Object.fromEntries(
      info
        .split(/\r?\n/)
        .filter((line) => line.includes(':'))
        .map((line) => line.split(':', 2) as [string, string]),
    );
  } finally {
    client.disconnect();
  }
}

/**
 * Starts `size` `redis-server --cluster-enabled yes` nodes on free loopback ports (their
 * nodes.conf in a temporary directory), joins them with
 * `redis-cli --cluster create … --cluster-replicas 0 --cluster-yes`, and waits until every node's
 * CLUSTER INFO says `cluster_state:ok` with all of them known. Generous deadlines: a loaded 2-core
 * machine takes seconds to gossip.
 */
export async function startRedisCluster({
  size = 3,
  timeoutMs = 45_000,
}: { size?: number; timeoutMs?: number } = {}): Promise<RedisCluster> {
  const cli = findRedisCli();
  if (cli === undefined)
    throw new Error('redis-server and redis-cli must be on PATH (run `node scripts/ensure-redis.mjs`)');
  const directory = mkdtempSync(join(tmpdir(), 'tokenflight-cluster-'));
  const servers: RedisServer[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(servers.splice(0).map((server) => server.stop()));
    rmSync(directory, { recursive: true, force: true });
  };
  try {
    const ports = await Promise.all(Array.from({ length: size }, () => freePort()));
    for (const port of ports) {
      servers.push(
        await startRedisServer({
          port,
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            join(directory, `nodes-${port}.conf`),
            '--dir',
            directory,
          ],
        }),
      );
    }
    await promisify(execFile)(
      cli,
      ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes'],
      { timeout: timeoutMs },
    );
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const infos = await Promise.all(ports.map((port) => clusterInfo(port).catch((): Record<string, string> => ({}))));
      const ready = infos.every(
        (info) => info['cluster_state'] === 'ok' && info['cluster_known_nodes'] === String(size),
      );
      if (ready) break;
      if (Date.now() > deadline)
        throw new Error(`the Redis Cluster on ports ${ports.join(', ')} was not ok within ${timeoutMs} ms`);
      await sleep(100);
    }
    return { ports, nodes: ports.map((port) => ({ host: '127.0.0.1', port })), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
