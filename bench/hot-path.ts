/**
 * Benchmark 1 (and the per-request part of 5): what a request costs when the token is cached.
 * Every variant goes through the same in-process adapter answering a small JSON body, so what is
 * measured is axios plus the auth plugin, nothing else.
 */
import axios, { type AxiosAdapter, type AxiosInstance } from 'axios';
import { Bench } from 'tinybench';
import { attachTokenAuth, jsonProvider, symbl, type TokenProvider } from '../lib/index.js';
import { withAxiosAuthRefresh } from './lib/alternative.js';
import { median, spread, type Spread } from './lib/stats.js';

const BODY = JSON.stringify({ id: 'conversation-1', status: 'completed', messages: [1, 2, 3] });
const BASE_URL = 'https://api.symbl.ai';

/** The same in-process adapter for every variant: a 200 with a JSON body, no I/O. */
export const inProcessAdapter: AxiosAdapter = (config) =>
  Promise.resolve({
    data: BODY,
    status: 200,
    statusText: 'OK',
    headers: { 'content-type': 'application/json' },
    config,
    request: {},
  });

function tokenClient(): AxiosInstance {
  return axios.create({
    adapter: (config) =>
      Promise.resolve({
        data: JSON.stringify({ accessToken: 'benchmark-token-123', expiresIn: 86_400 }),
        status: 200,
        statusText: 'OK',
        headers: {},
        config,
        request: {},
      }),
  });
}

export interface Variant {
  name: string;
  request: () => Promise<unknown>;
}

export function bareAxios(): Variant {
  const api = axios.create({ baseURL: BASE_URL, adapter: inProcessAdapter });
  return { name: 'bare axios', request: () => api.get('/v1/conversations/1') };
}

/** tokenflight with `providers` extra providers attached beside Symbl (each on its own origin). */
export async function tokenflight(extraProviders = 0, name = 'tokenflight'): Promise<Variant> {
  const api = axios.create({ baseURL: BASE_URL, adapter: inProcessAdapter });
  const providers: TokenProvider[] = [symbl({ appId: 'bench-app', appSecret: 'bench-secret' })];
  for (let i = 0; i < extraProviders; i++) {
    providers.push(
      jsonProvider({
        name: `vendor-${i}`,
        tokenUrl: `https://auth.vendor-${i}.example/token`,
        body: { key: `k${i}` },
        token: 'token',
        origins: [`https://api.vendor-${i}.example`],
      }),
    );
  }
  attachTokenAuth(api, { providers, tokenClient: tokenClient() });
  await api.get('/warm-up'); // fetch the token: the benchmark measures the cached path
  return { name, request: () => api.get('/v1/conversations/1') };
}

/** The usual hand-built alternative, as axios-auth-refresh's README shows it. */
export function axiosAuthRefresh(): Variant {
  const api = axios.create({ baseURL: BASE_URL, adapter: inProcessAdapter });
  withAxiosAuthRefresh(api, 'benchmark-token-123', async () => 'benchmark-token-456');
  return { name: 'axios-auth-refresh + header interceptor', request: () => api.get('/v1/conversations/1') };
}

export interface HotPathResult {
  rounds: number;
  /** ns per request, per variant, across rounds. */
  nsPerOp: Record<string, Spread>;
  /** Per-round ratios `a / b`, across rounds. */
  ratios: Record<string, Spread>;
}

/**
 * Runs every variant in rounds, alternating their order, and reports the median and spread of
 * the per-round figures. A ratio is taken within one round (same machine state), then summarised:
 * on a shared machine that is far steadier than comparing absolute times across runs.
 */
export async function runHotPath(
  variants: readonly Variant[],
  ratioPairs: readonly (readonly [string, string])[],
  { rounds = 12, timeMs = 400 } = {},
): Promise<HotPathResult> {
  const samples = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  const ratioSamples = new Map<string, number[]>(ratioPairs.map(([a, b]) => [`${a} / ${b}`, []]));
  for (const variant of variants) for (let i = 0; i < 2_000; i++) await variant.request();
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    const bench = new Bench({ time: timeMs, warmupTime: 100 });
    for (const variant of order) bench.add(variant.name, variant.request);
    await bench.run();
    const perRound = new Map<string, number>();
    for (const task of bench.tasks) {
      const result = task.result;
      if (!('latency' in result)) throw new Error(`benchmark task ${task.name} failed: ${result.state}`);
      const ns = result.latency.mean * 1e6;
      perRound.set(task.name, ns);
      samples.get(task.name)!.push(ns);
    }
    for (const [a, b] of ratioPairs) ratioSamples.get(`${a} / ${b}`)!.push(perRound.get(a)! / perRound.get(b)!);
  }
  return {
    rounds,
    nsPerOp: Object.fromEntries([...samples].map(([name, values]) => [name, spread(values)])),
    ratios: Object.fromEntries([...ratioSamples].map(([name, values]) => [name, spread(values)])),
  };
}

export { median };
