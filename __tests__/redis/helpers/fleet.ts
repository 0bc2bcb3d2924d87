import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AuthorizationServer, ProviderServer } from '../../../lib/testing/index.js';
import type { FleetCommand, FleetEvent, FleetReply, RequestOutcome, WorkerConfig } from './fleet-protocol.js';
import type { RedisServer } from './redis-server.js';

export type { FleetEvent, RequestOutcome } from './fleet-protocol.js';

/** The repository root: the nearest folder up from the working directory whose package.json is tokenflight's. */
function repositoryRoot(): string {
  let directory = process.cwd();
  for (;;) {
    const manifest = join(directory, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'tokenflight'
    )
      return directory;
    const parent = dirname(directory);
    if (parent === directory) throw new Error('run the fleet from inside the tokenflight repository');
    directory = parent;
  }
}

type CommandBody = FleetCommand extends infer C ? (C extends FleetCommand ? Omit<C, 'id'> : never) : never;

/** One worker process. */
export interface FleetMember {
  readonly index: number;
  readonly process: ChildProcess;
  /** Resolves when the process has exited, whatever the reason. */
  readonly exited: Promise<void>;
  /** `count` concurrent API requests through this member's axios instance. */
  burst(count: number, path?: string): Promise<RequestOutcome[]>;
  /** `concurrency` loops of sequential requests for `durationMs`. */
  load(options: {
    durationMs: number;
    concurrency: number;
    pauseMs?: number;
    path?: string;
  }): Promise<RequestOutcome[]>;
  events(): Promise<FleetEvent[]>;
  /** Waits until the member's Redis connection is ready again. */
  redisReady(timeoutMs?: number): Promise<string>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface FleetOptions {
  size: number;
  store: 'redis' | 'memory';
  redisPort?: number | undefined;
  /** The masters of a Redis Cluster, instead of `redisPort`. */
  redisCluster?: readonly { host: string; port: number }[];
  prefix: string;
  /** A simulated provider; or give `provider`. */
  server?: ProviderServer;
  /** What the workers get tokens from, when it is not `server`. */
  provider?: WorkerConfig['provider'];
  encryptionKey?: string;
  client?: WorkerConfig['client'];
  attach?: WorkerConfig['attach'];
  redisStore?: WorkerConfig['redisStore'];
  redisClient?: WorkerConfig['redisClient'];
}

export interface Fleet {
  readonly members: readonly FleetMember[];
  /** Every live member makes `countEach` concurrent requests, all at once. */
  burst(countEach: number, path?: string): Promise<RequestOutcome[]>;
  events(): Promise<FleetEvent[]>;
  close(): Promise<void>;
}

function startMember(index: number, config: WorkerConfig, root: string): Promise<FleetMember> {
  const child = fork(join(root, '__tests__/redis/helpers/fleet-worker.ts'), [], {
    cwd: root,
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, FLEET_WORKER_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  let alive = true;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      alive = false;
      for (const waiter of pending.values())
        waiter.reject(new Error(`fleet member ${index} exited (${signal ?? code})`));
      pending.clear();
      resolve();
    });
  });
  child.on('message', (reply: FleetReply) => {
    const waiter = pending.get(reply.id);
    if (waiter === undefined) return;
    pending.delete(reply.id);
    if ('error' in reply) waiter.reject(new Error(`fleet member ${index}: ${reply.error.message}`));
    else waiter.resolve(reply.result);
  });
  const send = <T>(body: CommandBody): Promise<T> => {
    if (!alive) return Promise.reject(new Error(`fleet member ${index} is not running`));
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ ...body, id });
    });
  };
  const member: FleetMember = {
    index,
    process: child,
    exited,
    burst: (count, path = '/api/echo') => send({ command: 'burst', count, path }),
    load: ({ durationMs, concurrency, pauseMs = 0, path = '/api/echo' }) =>
      send({ command: 'load', durationMs, concurrency, pauseMs, path }),
    events: () => send({ command: 'events' }),
    redisReady: (timeoutMs = 15_000) => send({ command: 'redis-ready', timeoutMs }),
    async kill(signal = 'SIGKILL') {
      if (alive) child.kill(signal);
      await exited;
    },
  };
  return new Promise((resolve, reject) => {
    pending.set(0, { resolve: () => resolve(member), reject });
  });
}

/** A fleet's `provider`: refreshTokenGrant() as a public client of the testing kit's authorization server, its API on the same origin. */
export function refreshTokenSession(server: AuthorizationServer, refreshToken: string): WorkerConfig['provider'] {
  return {
    kind: 'oauth2-refresh',
    url: server.url,
    tokenUrl: server.tokenUrl,
    clientId: 'public-client',
    refreshToken,
  };
}

function simulated(server: ProviderServer | undefined): WorkerConfig['provider'] {
  if (server === undefined) throw new Error('startFleet() needs `server` or `provider`');
  return { kind: server.kind, url: server.url, credentials: server.credentials };
}

/**
 * Forks `size` worker processes (TypeScript run by tsx), each with its own axios instance,
 * tokenflight handle and store, all pointed at one simulated provider.
 */
export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const root = repositoryRoot();
  const members = await Promise.all(
    Array.from({ length: options.size }, (_, index) =>
      startMember(
        index,
        {
          index,
          store: options.store,
          ...(options.redisPort === undefined ? {} : { redisPort: options.redisPort }),
          ...(options.redisCluster === undefined ? {} : { redisCluster: [...options.redisCluster] }),
          prefix: options.prefix,
          ...(options.encryptionKey === undefined ? {} : { encryptionKey: options.encryptionKey }),
          provider: options.provider ?? simulated(options.server),
          ...(options.client === undefined ? {} : { client: options.client }),
          attach: options.attach ?? {},
          redisStore: options.redisStore ?? {},
          redisClient: options.redisClient ?? {},
        },
        root,
      ),
    ),
  );
  return {
    members,
    async burst(countEach, path) {
      const live = members.filter((member) => member.process.exitCode === null && member.process.signalCode === null);
      return (await Promise.all(live.map((member) => member.burst(countEach, path)))).flat();
    },
    async events() {
      const live = members.filter((member) => member.process.exitCode === null && member.process.signalCode === null);
      return (await Promise.all(live.map((member) => member.events()))).flat();
    },
    async close() {
      await Promise.all(members.map((member) => member.kill('SIGTERM')));
    },
  };
}

/** Token requests counted at `server` while `run` ran, and what it returned. */
export async function tokenRequestsDuring(
  server: ProviderServer,
  run: () => Promise<RequestOutcome[]>,
): Promise<{ requests: number; outcomes: RequestOutcome[] }> {
  const before = server.stats.tokenRequests;
  const outcomes = await run();
  return { requests: server.stats.tokenRequests - before, outcomes };
}

/**
 * Token rotations: every member sends `requestsEach` concurrent requests; before every rotation
 * but the first (the cold start), every token is revoked. Returns the token requests and the
 * outcomes of each rotation.
 */
export async function rotate(
  fleet: Fleet,
  server: ProviderServer,
  { rotations, requestsEach }: { rotations: number; requestsEach: number },
): Promise<{ requests: number; outcomes: RequestOutcome[] }[]> {
  const results = [];
  for (let rotation = 0; rotation < rotations; rotation++) {
    if (rotation > 0) server.revokeAll();
    results.push(await tokenRequestsDuring(server, () => fleet.burst(requestsEach)));
  }
  return results;
}

/** When things happen in {@link playRedisOutage}, in ms. */
export interface OutageTimings {
  /** How long every member runs 2 request loops. */
  loadMs: number;
  /** Redis is killed (SIGKILL) this long into the load. */
  downAfterMs: number;
  /** Every token is revoked this long into the outage. */
  revokeAfterMs: number;
  /** Redis restarts this long after the revocation. */
  restartAfterMs: number;
}

export interface OutageResult {
  loadStartedAt: number;
  downAt: number;
  upAt: number;
  /** Every request of the load. */
  outcomes: RequestOutcome[];
  /** Those sent while Redis was down, and those sent before. */
  during: RequestOutcome[];
  before: RequestOutcome[];
  /** Token requests from the revocation to the restart. */
  outageTokenRequests: number;
}

/** Load on every member; Redis dies, every token is revoked while it is down, Redis comes back. */
export async function playRedisOutage(
  fleet: Fleet,
  redis: RedisServer,
  server: ProviderServer,
  timings: OutageTimings,
): Promise<OutageResult> {
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
  const loadStartedAt = Date.now();
  const loads = Promise.all(
    fleet.members.map((member) => member.load({ durationMs: timings.loadMs, concurrency: 2, pauseMs: 10 })),
  );
  await sleep(timings.downAfterMs);
  const downAt = Date.now();
  await redis.stop('SIGKILL');
  await sleep(timings.revokeAfterMs);
  const beforeRevocation = server.stats.tokenRequests;
  server.revokeAll();
  await sleep(timings.restartAfterMs);
  const outageTokenRequests = server.stats.tokenRequests - beforeRevocation;
  await redis.start();
  const upAt = Date.now();
  const outcomes = (await loads).flat();
  return {
    loadStartedAt,
    downAt,
    upAt,
    outcomes,
    during: outcomes.filter((outcome) => outcome.startedAt >= downAt && outcome.startedAt < upAt),
    before: outcomes.filter((outcome) => outcome.startedAt < downAt),
    outageTokenRequests,
  };
}

/** The value below which `share` of `values` fall (nearest rank). */
export function percentile(values: readonly number[], share: number): number {
  return [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * share))] ?? NaN;
}

/** The requests that failed. */
export const failures = (outcomes: RequestOutcome[]): RequestOutcome[] => outcomes.filter((outcome) => !outcome.ok);

/** Resolves once `condition` holds, polling every 10 ms; rejects naming `what` after `timeoutMs`. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
