// One process of a simulated fleet: its own axios instance, tokenflight handle and store (its own
// Redis connection, or its own MemoryTokenStore), driven by its parent over IPC. Run by
// `fleet.ts` with `node --import tsx`.
import axios, { isAxiosError } from 'axios';
import { createHash } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import {
  attachTokenAuth,
  MemoryTokenStore,
  refreshTokenGrant,
  type TokenAuthEvent,
  type TokenProvider,
  type TokenStore,
} from '../../../lib/index.js';
import { RedisTokenStore, type RedisTokenStoreEvent } from '../../../lib/redis.js';
import { simulatedProvider, type ProviderServer } from '../../../lib/testing/index.js';
import { withAxiosAuthRefresh } from '../../../bench/lib/alternative.js';
import type { FleetCommand, FleetEvent, FleetReply, RequestOutcome, WorkerConfig } from './fleet-protocol.js';

const config = JSON.parse(process.env['FLEET_WORKER_CONFIG'] ?? '{}') as WorkerConfig;
const events: FleetEvent[] = [];
const fingerprint = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 8);

function errorFacts(error: unknown): { name: string; code?: string; message: string } {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const code = (error as { code?: unknown }).code;
  return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
}

function record(source: 'tokenflight' | 'redis', event: TokenAuthEvent | RedisTokenStoreEvent): void {
  const { type } = event;
  const facts: FleetEvent = { at: Date.now(), source, type };
  if ('operation' in event) facts.operation = event.operation;
  if ('reason' in event) facts.reason = event.reason;
  if ('fingerprint' in event) facts.fingerprint = event.fingerprint;
  if ('error' in event) facts.error = errorFacts(event.error);
  events.push(facts);
}

let redis: Redis | Cluster | undefined;
let store: TokenStore;
if (config.store === 'redis') {
  redis =
    config.redisCluster === undefined
      ? new Redis({
          host: '127.0.0.1',
          port: config.redisPort ?? 6379,
          retryStrategy: () => 100,
          ...config.redisClient,
        })
      : new Cluster(config.redisCluster, { redisOptions: { ...config.redisClient } });
  redis.on('error', () => undefined);
  store = new RedisTokenStore(redis, {
    prefix: config.prefix,
    ...config.redisStore,
    ...(config.encryptionKey === undefined
      ? {}
      : { encryption: { keys: { k1: config.encryptionKey }, currentKeyId: 'k1' } }),
    onEvent: (event) => record('redis', event),
  });
} else {
  store = new MemoryTokenStore();
}

function provider(): TokenProvider {
  const given = config.provider;
  if (given.kind === 'oauth2-refresh') {
    const { tokenUrl, clientId, refreshToken } = given;
    return refreshTokenGrant({ tokenUrl, clientId, refreshToken, origins: [given.url] });
  }
  const server = { kind: given.kind, url: given.url, tenants: [given.credentials] };
  return simulatedProvider(server as unknown as ProviderServer);
}

const api = axios.create({ baseURL: config.provider.url });
if (config.client === 'axios-auth-refresh' && config.provider.kind === 'oauth2-refresh') {
  const { tokenUrl, clientId } = config.provider;
  let refreshToken = config.provider.refreshToken;
  const http = axios.create();
  withAxiosAuthRefresh(
    api,
    'none',
    async () => {
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: clientId,
      });
      const { data } = await http.post<{ access_token: string; refresh_token?: string }>(tokenUrl, form);
      if (data.refresh_token !== undefined) refreshToken = data.refresh_token;
      return data.access_token;
    },
    { deduplicateRefresh: false },
  );
} else {
  attachTokenAuth(api, {
    providers: provider(),
    store,
    ...config.attach,
    onEvent: (event) => record('tokenflight', event),
  });
}

async function request(path: string): Promise<RequestOutcome> {
  const startedAt = Date.now();
  try {
    const response = await api.get(path);
    const header = String(response.config.headers.get('Authorization') ?? '');
    return {
      ok: true,
      status: response.status,
      fingerprint: fingerprint(header.replace(/^Bearer /, '')),
      startedAt,
      ms: Date.now() - startedAt,
    };
  } catch (error) {
    const status = isAxiosError(error) ? error.response?.status : undefined;
    return {
      ok: false,
      ...(status === undefined ? {} : { status }),
      error: errorFacts(error),
      startedAt,
      ms: Date.now() - startedAt,
    };
  }
}

async function load(path: string, concurrency: number, durationMs: number, pauseMs: number): Promise<RequestOutcome[]> {
  const until = Date.now() + durationMs;
  const outcomes: RequestOutcome[] = [];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < until) {
        outcomes.push(await request(path));
        if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    }),
  );
  return outcomes;
}

async function handle(command: FleetCommand): Promise<unknown> {
  switch (command.command) {
    case 'burst':
      return Promise.all(Array.from({ length: command.count }, () => request(command.path)));
    case 'load':
      return load(command.path, command.concurrency, command.durationMs, command.pauseMs);
    case 'events':
      return events;
    case 'redis-ready': {
      const deadline = Date.now() + command.timeoutMs;
      while (redis !== undefined && redis.status !== 'ready' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return redis?.status ?? 'no-redis';
    }
    case 'exit':
      redis?.disconnect();
      setImmediate(() => process.exit(0));
      return true;
  }
}

process.on('message', (message: FleetCommand) => {
  handle(message).then(
    (result) => process.send?.({ id: message.id, result } satisfies FleetReply),
    (error: unknown) => process.send?.({ id: message.id, error: errorFacts(error) } satisfies FleetReply),
  );
});
process.on('disconnect', () => process.exit(0));
process.send?.({ id: 0, result: 'ready' } satisfies FleetReply);
