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

/** Bare axios sending a static Authorization header: what any approach that sends a token pays axios. */
export function bareAxiosWithHeader(): Variant {
  const api = axios.create({ baseURL: BASE_URL, adapter: inProcessAdapter });
  api.defaults.headers.common['Authorization'] = 'Bearer benchmark-token-123';
  return { name: 'bare axios, static Authorization header', request: () => api.get('/v1/conversations/1') };
}

/**
 * The plumbing alone, with a static header and no token logic: what 0.1.0's design cost axios (a
 * synchronous request interceptor and a response interceptor, whose promise hop every request
 * pays), and what the send boundary costs (a synchronous request interceptor that wraps the
 * adapter, and one promise hop on the adapter's answer to catch a 401).
 */
export function plumbing(kind: 'response interceptor' | 'wrapped adapter'): Variant {
  const api = axios.create({ baseURL: BASE_URL, adapter: inProcessAdapter });
  api.defaults.headers.common['Authorization'] = 'Bearer benchmark-token-123';
  const passThrough = (error: unknown): never => {
    throw error;
  };
  if (kind === 'response interceptor') {
    api.interceptors.request.use((config) => config, undefined, { synchronous: true });
    api.interceptors.response.use(undefined, passThrough);
  } else {
    const wrapped: AxiosAdapter = (config) => inProcessAdapter(config).then(undefined, passThrough);
    api.interceptors.request.use(
      (config) => {
        config.adapter = wrapped;
        return config;
      },
      undefined,
      { synchronous: true },
    );
  }
  return { name: `plumbing: ${kind}`, request: () => api.get('/v1/conversations/1') };
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
  /** Requests per variant per round. */
  iterations: number;
  /** ns per request, per variant, across rounds. */
  nsPerOp: Record<string, Spread>;
  /** Per-round ratios `a / b`, across rounds. */
  ratios: Record<string, Spread>;
}

/**
 * Runs every variant in many short rounds (a few hundred requests each, tens of milliseconds per
 * round), rotating their order, and reports the median and spread of the per-round figures. The
 * machines this runs on change speed by up to 2× over seconds (CPU throttling on shared VMs), so a
 * ratio is only meaningful between variants measured within one short round, under the same
 * conditions; the median over hundreds of rounds is then steady to well under a percent.
 */
export async function runHotPath(
  variants: readonly Variant[],
  ratioPairs: readonly (readonly [string, string])[],
  { rounds = 300, iterations = 250 } = {},
): Promise<HotPathResult> {
  const samples = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  const ratioSamples = new Map<string, number[]>(ratioPairs.map(([a, b]) => [`${a} / ${b}`, []]));
  for (const variant of variants) for (let i = 0; i < 2_000; i++) await variant.request();
  for (let round = 0; round < rounds; round++) {
    const shift = round % variants.length;
    const rotated = [...variants.slice(shift), ...variants.slice(0, shift)];
    const order = Math.floor(round / variants.length) % 2 === 0 ? rotated : rotated.reverse();
    const bench = new Bench({ iterations, time: 0, warmupIterations: 0, warmupTime: 0 });
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
    iterations,
    nsPerOp: Object.fromEntries([...samples].map(([name, values]) => [name, spread(values)])),
    ratios: Object.fromEntries([...ratioSamples].map(([name, values]) => [name, spread(values)])),
  };
}

export { median };
