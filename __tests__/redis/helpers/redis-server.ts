import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { delimiter, join } from 'node:path';

// Jest loads this file as its globalSetup (see jest.config.ts), without the test module mapper, so it imports
// nothing relative.

/** The environment variable through which the global setup tells the suites where the shared Redis listens. */
export const REDIS_PORT_VARIABLE = 'TOKENFLIGHT_TEST_REDIS_PORT';

/** `redis-server` on PATH, if there is one. */
export function findRedisServer(): string | undefined {
  for (const directory of (process.env['PATH'] ?? '').split(delimiter)) {
    if (directory === '') continue;
    const candidate = join(directory, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** Answers true once something on `port` replies +PONG to PING. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    let answer = '';
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString('utf8');
      if (answer.includes('\r\n')) finish(answer.startsWith('+PONG'));
    });
  });
}

/** A `redis-server` child process on a loopback port, with no persistence. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Whether the process is running. */
  readonly running: boolean;
  /** Stops it (SIGTERM, or SIGKILL to play a crash) and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
}

/**
 * Starts `redis-server --save '' --appendonly no --port N --bind 127.0.0.1` (and `args`, e.g. the
 * cluster options) and waits until it answers PING.
 */
export async function startRedisServer(
  options: { port?: number; binary?: string; args?: readonly string[] } = {},
): Promise<RedisServer> {
  const binary = options.binary ?? findRedisServer();
  if (binary === undefined) throw new Error('redis-server is not on PATH (run `node scripts/ensure-redis.mjs`)');
  const port = options.port ?? (await freePort());
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const killOnExit = (): void => {
    child?.kill('SIGKILL');
  };

  async function start(): Promise<void> {
    if (child !== undefined) throw new Error(`redis-server on port ${port} is already running`);
    const args = [
      '--save',
      '',
      '--appendonly',
      'no',
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      ...(options.args ?? []),
    ];
    const spawned = spawn(binary as string, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-4_000);
    };
    spawned.stdout.on('data', keep);
    spawned.stderr.on('data', keep);
    child = spawned;
    exited = new Promise((resolve) =>
      spawned.once('exit', () => {
        if (child === spawned) child = undefined;
        resolve();
      }),
    );
    process.once('exit', killOnExit);
    const deadline = Date.now() + 15_000;
    while (!(await ping(port))) {
      if (child !== spawned) throw new Error(`redis-server exited while starting on port ${port}:\n${output}`);
      if (Date.now() > deadline) {
        spawned.kill('SIGKILL');
        throw new Error(`redis-server did not answer on port ${port} within 15 s:\n${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get running() {
      return child !== undefined;
    },
    async stop(signal = 'SIGTERM') {
      const running = child;
      if (running === undefined) return;
      process.removeListener('exit', killOnExit);
      running.kill(signal);
      await exited;
    },
    start,
  };
}

declare global {
  var tokenflightTestRedis: RedisServer | undefined;
}

/**
 * Starts one `redis-server` on a free loopback port for the Redis suites and tells them its port
 * through TOKENFLIGHT_TEST_REDIS_PORT. Without `redis-server`: under CI=true the run fails; otherwise
 * the Redis suites are skipped, and this says so.
 */
export default async function globalSetup(): Promise<void> {
  if (findRedisServer() === undefined) {
    const how = 'install it with `node scripts/ensure-redis.mjs` (Debian: apt-get install redis-server)';
    if (process.env['CI'] === 'true') {
      throw new Error(`redis-server is not on PATH and CI=true: the Redis suites must run; ${how}`);
    }
    Reflect.deleteProperty(process.env, REDIS_PORT_VARIABLE);
    console.warn(
      `\n[tokenflight] redis-server is not on PATH: the Redis suites (__tests__/redis) are SKIPPED; ${how}.\n`,
    );
    return;
  }
  const server = await startRedisServer();
  process.env[REDIS_PORT_VARIABLE] = String(server.port);
  globalThis.tokenflightTestRedis = server;
}
