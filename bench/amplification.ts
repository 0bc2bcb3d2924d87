/**
 * Benchmark 2: refresh amplification. 1,000 concurrent requests right after the token was revoked,
 * against the loopback Symbl simulation: how many token requests and upstream 401s each approach
 * makes, and how many requests the application saw fail. The limit is one token request.
 */
import { Agent } from 'node:http';
import axios, { type AxiosInstance } from 'axios';
import { attachTokenAuth } from '../lib/index.js';
import { simulatedProvider, startProviderServer, type ProviderServer } from '../lib/testing/index.js';
import { withAxiosAuthRefresh } from './lib/alternative.js';

export interface AmplificationRow {
  approach: string;
  /** How many recorded bursts were run (in rotating order with the other approaches). */
  repetitions: number;
  /** Unrecorded bursts run first, to warm up the JIT. */
  warmUps: number;
  requests: number;
  /** The counts are the same in every repetition unless shown as a range `min–max`. */
  succeeded: string;
  failed: string;
  tokenRequests: string;
  upstream401s: string;
  /** Median wall time of the burst across repetitions. */
  wallMs: number;
}

interface Measurement {
  succeeded: number;
  failed: number;
  tokenRequests: number;
  upstream401s: number;
  wallMs: number;
}

interface Client {
  api: AxiosInstance;
  /** Gets a token before the revocation, the way a running application would already have one. */
  warm(): Promise<void>;
  close(): void;
}

function agent(): Agent {
  return new Agent({ keepAlive: true, maxSockets: 256 });
}

/** Fetches a token from the simulated Symbl endpoint, as an application's refresh logic would. */
export function symblTokenFetcher(server: ProviderServer): () => Promise<string> {
  const tokenHttp = axios.create({ httpAgent: agent() });
  return async () => {
    const { data } = await tokenHttp.post<{ accessToken: string }>(`${server.url}/oauth2/token:generate`, {
      type: 'application',
      ...server.credentials,
    });
    return data.accessToken;
  };
}

function tokenflightClient(server: ProviderServer): Client {
  const api = axios.create({ baseURL: server.url, httpAgent: agent() });
  const auth = attachTokenAuth(api, { providers: simulatedProvider(server) });
  return {
    api,
    warm: async () => {
      await api.get('/api/warm');
    },
    close: () => auth.eject(),
  };
}

function axiosAuthRefreshClient(server: ProviderServer, deduplicateRefresh: boolean): Client {
  const api = axios.create({ baseURL: server.url, httpAgent: agent() });
  const fetchToken = symblTokenFetcher(server);
  let detach = (): void => undefined;
  return {
    api,
    warm: async () => {
      detach = withAxiosAuthRefresh(api, await fetchToken(), fetchToken, { deduplicateRefresh });
      await api.get('/api/warm');
    },
    close: () => detach(),
  };
}

async function measure(make: (server: ProviderServer) => Client, concurrency: number): Promise<Measurement> {
  const server = await startProviderServer('symbl');
  const client = make(server);
  try {
    await client.warm();
    server.revokeAll();
    server.resetStats();
    const started = performance.now();
    const outcomes = await Promise.allSettled(
      Array.from({ length: concurrency }, (_, i) => client.api.get(`/api/items/${i}`)),
    );
    const wallMs = performance.now() - started;
    const succeeded = outcomes.filter((outcome) => outcome.status === 'fulfilled').length;
    return {
      succeeded,
      failed: concurrency - succeeded,
      tokenRequests: server.stats.tokenRequests,
      upstream401s: server.stats.apiUnauthorized,
      wallMs,
    };
  } finally {
    client.close();
    await server.close();
  }
}

const range = (values: number[]): string => {
  const low = Math.min(...values);
  const high = Math.max(...values);
  return low === high ? String(low) : `${low}–${high}`;
};

/**
 * Each approach first runs `warmUps` unrecorded bursts (the JIT warms up over the first few, and
 * that is not what is being compared), then `repetitions` recorded ones, in rotating order.
 */
export async function runAmplification({ concurrency = 1_000, repetitions = 3, warmUps = 2 } = {}): Promise<
  AmplificationRow[]
> {
  const approaches: [string, (server: ProviderServer) => Client][] = [
    ['tokenflight', tokenflightClient],
    ['axios-auth-refresh, default (deduplicateRefresh: true)', (s) => axiosAuthRefreshClient(s, true)],
    ['axios-auth-refresh, deduplicateRefresh: false', (s) => axiosAuthRefreshClient(s, false)],
  ];
  const runs = new Map<string, Measurement[]>(approaches.map(([name]) => [name, []]));
  for (const [, make] of approaches) for (let i = 0; i < warmUps; i++) await measure(make, concurrency);
  for (let repetition = 0; repetition < repetitions; repetition++) {
    const shift = repetition % approaches.length;
    for (const [name, make] of [...approaches.slice(shift), ...approaches.slice(0, shift)]) {
      runs.get(name)!.push(await measure(make, concurrency));
    }
  }
  return approaches.map(([approach]) => {
    const measured = runs.get(approach)!;
    const wall = measured.map((m) => m.wallMs).sort((a, b) => a - b);
    return {
      approach,
      repetitions,
      warmUps,
      requests: concurrency,
      succeeded: range(measured.map((m) => m.succeeded)),
      failed: range(measured.map((m) => m.failed)),
      tokenRequests: range(measured.map((m) => m.tokenRequests)),
      upstream401s: range(measured.map((m) => m.upstream401s)),
      wallMs: wall[Math.floor(wall.length / 2)]!,
    };
  });
}
