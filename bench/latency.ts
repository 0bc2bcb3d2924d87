/**
 * Benchmark 3: request latency across token rotations with a slow token endpoint. Closed-loop
 * users send requests back to back while short-lived tokens expire several times; the token
 * endpoint takes `tokenLatencyMs` to answer. With proactive refresh no request should wait on it.
 */
import { Agent } from 'node:http';
import axios, { type AxiosInstance } from 'axios';
import { attachTokenAuth } from '../lib/index.js';
import { simulatedProvider, startProviderServer, type ProviderServer } from '../lib/testing/index.js';
import { symblTokenFetcher } from './amplification.js';
import { withAxiosAuthRefresh } from './lib/alternative.js';
import { quantile } from './lib/stats.js';

export interface LatencyRow {
  approach: string;
  requests: number;
  failed: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Requests that took longer than half the token endpoint's latency: they waited on it. */
  waitedOnTokenEndpoint: number;
  tokenRequests: number;
  upstream401s: number;
  /** Worst latency in each 250 ms of the run, for the chart. */
  timeline: [number, number][];
}

export interface LatencyOptions {
  tokenLatencyMs?: number;
  lifetimeSeconds?: number;
  durationMs?: number;
  users?: number;
}

type Approach = (server: ProviderServer) => { api: AxiosInstance; close: () => void };

const keepAlive = (): Agent => new Agent({ keepAlive: true, maxSockets: 64 });

const tokenflight =
  (refreshWindowMs?: number): Approach =>
  (server) => {
    const api = axios.create({ baseURL: server.url, httpAgent: keepAlive() });
    const auth = attachTokenAuth(api, {
      providers: simulatedProvider(server),
      ...(refreshWindowMs === undefined ? {} : { refreshWindowMs }),
    });
    return { api, close: () => auth.eject() };
  };

const axiosAuthRefresh: Approach = (server) => {
  const api = axios.create({ baseURL: server.url, httpAgent: keepAlive() });
  const detach = withAxiosAuthRefresh(api, '', symblTokenFetcher(server));
  return { api, close: detach };
};

async function measure(name: string, approach: Approach, options: Required<LatencyOptions>): Promise<LatencyRow> {
  const server = await startProviderServer('symbl', { tokenLifetimeSeconds: options.lifetimeSeconds, apiLatencyMs: 2 });
  const { api, close } = approach(server);
  try {
    await api.get('/api/warm').catch(() => undefined); // first token; the rotations are what is measured
    // Half a second of unrecorded traffic, so no approach is measured while the JIT warms up.
    const warmUntil = performance.now() + 500;
    await Promise.all(
      Array.from({ length: options.users }, async () => {
        while (performance.now() < warmUntil) await api.get('/api/warm').catch(() => undefined);
      }),
    );
    server.setTokenLatency(options.tokenLatencyMs);
    server.resetStats();
    const latencies: [number, number][] = [];
    let failed = 0;
    const started = performance.now();
    const end = started + options.durationMs;
    await Promise.all(
      Array.from({ length: options.users }, async (_, user) => {
        for (let i = 0; performance.now() < end; i++) {
          const sent = performance.now();
          try {
            await api.get(`/api/users/${user}/items/${i}`);
          } catch {
            failed++;
          }
          latencies.push([sent - started, performance.now() - sent]);
        }
      }),
    );
    const values = latencies.map(([, ms]) => ms);
    const buckets = new Map<number, number>();
    for (const [at, ms] of latencies) {
      const bucket = Math.floor(at / 250) * 250;
      buckets.set(bucket, Math.max(buckets.get(bucket) ?? 0, ms));
    }
    return {
      approach: name,
      requests: latencies.length,
      failed,
      p50Ms: quantile(values, 0.5),
      p99Ms: quantile(values, 0.99),
      maxMs: Math.max(...values),
      waitedOnTokenEndpoint: values.filter((ms) => ms > options.tokenLatencyMs / 2).length,
      tokenRequests: server.stats.tokenRequests,
      upstream401s: server.stats.apiUnauthorized,
      timeline: [...buckets].sort((a, b) => a[0] - b[0]),
    };
  } finally {
    close();
    await server.close();
  }
}

export async function runLatency(
  options: LatencyOptions = {},
): Promise<{ options: Required<LatencyOptions>; rows: LatencyRow[] }> {
  const full: Required<LatencyOptions> = {
    tokenLatencyMs: 300,
    lifetimeSeconds: 3,
    durationMs: 10_000,
    users: 20,
    ...options,
  };
  const rows = [
    await measure('tokenflight (proactive refresh, default window)', tokenflight(), full),
    await measure('tokenflight, reactive only (refreshWindowMs: 0)', tokenflight(0), full),
    await measure('axios-auth-refresh (refresh on 401)', axiosAuthRefresh, full),
  ];
  return { options: full, rows };
}
