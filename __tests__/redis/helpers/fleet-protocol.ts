// What a fleet's parent and its worker processes say to each other (see fleet.ts and fleet-worker.ts).
import type { SimulatedKind } from '../../../lib/testing/index.js';

export interface WorkerConfig {
  index: number;
  store: 'redis' | 'memory';
  redisPort?: number;
  /** The masters of a Redis Cluster: the worker connects with ioredis's `Cluster` instead of `Redis`. */
  redisCluster?: { host: string; port: number }[];
  prefix: string;
  /** Base64 of a 32-byte key: the store encrypts under key id `k1`. */
  encryptionKey?: string;
  provider:
    | { kind: SimulatedKind; url: string; credentials: Readonly<Record<string, string>> }
    /** refreshTokenGrant() against the testing kit's authorization server (its API at `url`). */
    | { kind: 'oauth2-refresh'; url: string; tokenUrl: string; clientId: string; refreshToken: string };
  /**
   * Who gets the tokens: tokenflight (the default), or, for an `oauth2-refresh` provider, the
   * usual alternative: axios-auth-refresh with a hand-written refresh function and this process's
   * own copy of the refresh token (bench/refresh.ts).
   */
  client?: 'tokenflight' | 'axios-auth-refresh';
  /** attachTokenAuth options that are plain data. */
  attach: {
    storeTimeoutMs?: number;
    refreshWindowMs?: number;
    tokenRequest?: { timeoutMs?: number; retries?: number; minDelayMs?: number; maxDelayMs?: number };
  };
  /** RedisTokenStore options that are plain data. */
  redisStore: { commandTimeoutMs?: number; retryAfterMs?: number; lockPollMs?: number; lockLeaseMs?: number };
  /** ioredis options that are plain data. */
  redisClient: { maxRetriesPerRequest?: number | null; enableOfflineQueue?: boolean };
}

export type FleetCommand = { id: number } & (
  | { command: 'burst'; count: number; path: string }
  | { command: 'load'; path: string; concurrency: number; durationMs: number; pauseMs: number }
  | { command: 'events' }
  | { command: 'redis-ready'; timeoutMs: number }
  | { command: 'exit' }
);

export type FleetReply = { id: number } & ({ result: unknown } | { error: { name: string; message: string } });

/** One API request a worker made. */
export interface RequestOutcome {
  ok: boolean;
  status?: number;
  /** First 8 hex digits of the SHA-256 of the token the (last) attempt carried. */
  fingerprint?: string;
  error?: { name: string; code?: string; message: string };
  startedAt: number;
  ms: number;
}

/** An event a worker saw, from tokenflight or from its RedisTokenStore, reduced to plain facts. */
export interface FleetEvent {
  at: number;
  source: 'tokenflight' | 'redis';
  type: string;
  operation?: string;
  reason?: string;
  fingerprint?: string;
  error?: { name: string; code?: string; message: string };
}
