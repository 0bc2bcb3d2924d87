// The flow every runtime suite runs inside the runtime under test (Deno, Bun, edge-runtime, workerd): the
// caller side of token → request → 401 → replay, against the loopback servers the jest process
// started. It takes axios and tokenflight as arguments, so that each runtime loads them its own way
// (Deno and Bun import the built package and the installed axios; edge-runtime and workerd run a bundle),
// and returns what the caller saw; the suites compare it with the servers' own counts.
import type { AxiosError, AxiosStatic } from 'axios';
import type * as Tokenflight from '../../../lib/index.js';

/** What the jest process tells the flow: where its servers listen, with valid credentials. */
export interface FlowOptions {
  /** The Symbl simulation served through `symbl()`. */
  readonly symbl: { readonly url: string; readonly appId: string; readonly appSecret: string };
  /** The Symbl simulation served through `customProvider()`, whose `getToken` calls it with the runtime's `fetch`. */
  readonly custom: { readonly url: string; readonly appId: string; readonly appSecret: string };
  /** `POST {control}/revoke` makes the first simulation revoke every token it issued. */
  readonly control: string;
  /** The axios adapter setting to use; axios's default list when absent. */
  readonly adapter?: 'fetch';
}

/** What the caller saw, step by step; plain JSON. */
export interface FlowResult {
  readonly runtime: { readonly name: string; readonly version: string };
  /** The adapter axios resolved for these requests. */
  readonly adapter: string;
  /** Ten concurrent requests on a cold cache. */
  readonly cold: { readonly statuses: number[] };
  /** `auth.token()` after them. */
  readonly firstToken: { readonly accessToken: string; readonly tokenType: string; readonly expiresAt: number | null };
  /** Five concurrent POSTs after the server revoked the token: each got a 401 and was replayed. */
  readonly replay: { readonly statuses: number[]; readonly echoedBodies: unknown[] };
  /** `auth.token()` after the replay. */
  readonly secondToken: { readonly accessToken: string };
  /** A request with `tokenAuth: false`: the protected API answers it 401, and tokenflight leaves that to the caller. */
  readonly optOut: { readonly status: number | null };
  /** Three concurrent requests through a `customProvider`, and how often its `getToken` ran. */
  readonly custom: { readonly statuses: number[]; readonly getTokenCalls: number; readonly accessToken: string };
}

/** What the runtime's entry prints before the FlowResult as JSON, on one line. */
export const RESULT_PREFIX = 'TOKENFLIGHT_FLOW_RESULT ';

const REPLAYED = 5;
const COLD = 10;

/** The runtime this runs in, from the globals each one defines. */
export function detectRuntime(): FlowResult['runtime'] {
  const deno = Reflect.get(globalThis, 'Deno') as { version: { deno: string } } | undefined;
  if (deno !== undefined) return { name: 'deno', version: deno.version.deno };
  const bun = Reflect.get(globalThis, 'Bun') as { version: string } | undefined;
  if (bun !== undefined) return { name: 'bun', version: bun.version };
  const agent = (Reflect.get(globalThis, 'navigator') as { userAgent?: string } | undefined)?.userAgent;
  if (agent === 'Cloudflare-Workers') return { name: 'workerd', version: 'unknown' };
  const edge = Reflect.get(globalThis, 'EdgeRuntime') as string | undefined;
  if (edge !== undefined) return { name: edge, version: 'unknown' };
  return { name: 'node', version: process.versions.node };
}

/** The first adapter of the setting that this runtime supports: the one axios sends with. */
function resolvedAdapter(axios: AxiosStatic, setting: readonly string[]): string {
  for (const name of setting) {
    try {
      axios.getAdapter(name);
      return name;
    } catch {
      // not supported here; axios tries the next one
    }
  }
  return 'none';
}

async function statusOf(request: Promise<{ status: number }>): Promise<number | null> {
  try {
    return (await request).status;
  } catch (error) {
    return (error as AxiosError).response?.status ?? null;
  }
}

/** `customProvider()` with a `getToken` that asks the second simulation for a token with `fetch`. */
function customSource(tokenflight: typeof Tokenflight, options: FlowOptions, counter: { calls: number }) {
  const { url, appId, appSecret } = options.custom;
  return tokenflight.customProvider({
    name: 'custom-symbl',
    origins: [url],
    getToken: async ({ signal }) => {
      counter.calls++;
      const response = await fetch(`${url}/oauth2/token:generate`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ type: 'application', appId, appSecret }),
        signal,
      });
      if (!response.ok) throw new Error(`token endpoint answered ${response.status}`);
      const body = (await response.json()) as { accessToken: string; expiresIn: number };
      return { accessToken: body.accessToken, expiresIn: body.expiresIn };
    },
  });
}

/** Runs the flow with the given axios and tokenflight modules; see {@link FlowResult}. */
export async function runFlow(
  axios: AxiosStatic,
  tokenflight: typeof Tokenflight,
  options: FlowOptions,
): Promise<FlowResult> {
  const setting = options.adapter === undefined ? {} : { adapter: options.adapter };
  const adapter = resolvedAdapter(
    axios,
    options.adapter === undefined ? (axios.defaults.adapter as string[]) : [options.adapter],
  );
  const { url, appId, appSecret } = options.symbl;
  const api = axios.create({ baseURL: url, ...setting });
  const auth = tokenflight.attachTokenAuth(api, { providers: tokenflight.symbl({ appId, appSecret, baseURL: url }) });

  const cold = await Promise.all(Array.from({ length: COLD }, (_, i) => api.get(`/api/cold/${i}`)));
  const firstToken = await auth.token();

  const revoked = await fetch(`${options.control}/revoke`, { method: 'POST' });
  if (revoked.status !== 204) throw new Error(`the control server answered ${revoked.status} to /revoke`);
  const replayed = await Promise.all(
    Array.from({ length: REPLAYED }, (_, i) => api.post<{ body: string }>('/api/replayed', { job: i })),
  );
  const secondToken = await auth.token();
  const optOut = await statusOf(api.get('/api/opt-out', { tokenAuth: false }));
  auth.eject();

  const counter = { calls: 0 };
  const customApi = axios.create({ baseURL: options.custom.url, ...setting });
  const customAuth = tokenflight.attachTokenAuth(customApi, { providers: customSource(tokenflight, options, counter) });
  const custom = await Promise.all(Array.from({ length: 3 }, (_, i) => customApi.get(`/api/custom/${i}`)));
  const customToken = await customAuth.token();
  customAuth.eject();

  return {
    runtime: detectRuntime(),
    adapter,
    cold: { statuses: cold.map((response) => response.status) },
    firstToken: {
      accessToken: firstToken.accessToken,
      tokenType: firstToken.tokenType,
      expiresAt: firstToken.expiresAt,
    },
    replay: {
      statuses: replayed.map((response) => response.status),
      echoedBodies: replayed.map((response) => JSON.parse(response.data.body) as unknown),
    },
    secondToken: { accessToken: secondToken.accessToken },
    optOut: { status: optOut },
    custom: {
      statuses: custom.map((response) => response.status),
      getTokenCalls: counter.calls,
      accessToken: customToken.accessToken,
    },
  };
}
