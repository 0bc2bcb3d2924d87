import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { isUnderApiPath, readApiPath } from './api-path.js';
import { answerCors, type CorsOption } from './cors.js';
import { handleApi } from './provider-api.js';
import { listenOnLoopback } from './listen.js';
import { createSimulation, handleToken, logRequest, resetStats, send } from './provider-simulation.js';
import { readBody } from './read-body.js';
import type { SimulatedCredentials, SimulatedKind } from './vendors.js';

/**
 * A fault for the token endpoint (or the protected API) to play. Queued faults are used up one per
 * request, in order; a persistent fault (`setTokenFault`) answers every token request until cleared.
 */
export type TokenFault =
  /** Answer with this status, body (an object is sent as JSON) and headers. */
  | { status: number; body?: unknown; headers?: Record<string, string> }
  /** Answer this raw text as the body (for malformed responses). */
  | { raw: string; status?: number; contentType?: string }
  /** Answer a redirect to `location`. */
  | { redirect: string; status?: 301 | 302 | 303 | 307 | 308 }
  /** Never answer (until the server closes). */
  | { hang: true }
  /** Cut the connection without answering (a network error). */
  | { reset: true }
  /** Answer normally, after a delay. */
  | { delayMs: number };

/** A token issued by the simulation. */
export interface IssuedToken {
  /** The token, as the simulation sent it. */
  readonly accessToken: string;
  /** Which tenant (index into `tenants`) it was issued to. */
  readonly tenant: number;
  /** The OAuth scope asked for, if any. */
  readonly scope: string | undefined;
  /** Epoch ms, by the simulation's clock. */
  readonly issuedAt: number;
  /** Epoch ms, by the simulation's clock. */
  readonly expiresAt: number;
  /** Set by `revoke()` and `revokeAll()`: the API then answers 401 to it. */
  revoked: boolean;
}

/** A request the simulation received. */
export interface SeenRequest {
  readonly kind: 'token' | 'api';
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
  /** All request headers, names in lower case. */
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** Counters, taken at the server. */
export interface SimulationStats {
  /** Requests that reached the token endpoint, faults included. */
  tokenRequests: number;
  tokensIssued: number;
  apiRequests: number;
  /** API requests answered 2xx. */
  apiSucceeded: number;
  /** API requests answered 401 because the token was missing, unknown, expired or revoked. */
  apiUnauthorized: number;
}

/** Options of {@link startProviderServer}. */
export interface ProviderServerOptions {
  /** Valid credentials; a request with any of these tenants gets a token. @default one tenant per vendor */
  credentials?: readonly SimulatedCredentials[];
  /** Lifetime of issued tokens, in seconds (fractions allowed). @default 3600 */
  tokenLifetimeSeconds?: number;
  /** Like Symbl: answer a token request with the tenant's unexpired token and its remaining lifetime. @default false */
  reuseTokens?: boolean;
  /** Delay of every token answer. @default 0 */
  tokenLatencyMs?: number;
  /** Delay of every API answer. @default 0 */
  apiLatencyMs?: number;
  /** The simulation's clock runs this far ahead of the machine's (for clock-skew tests). @default 0 */
  clockOffsetMs?: number;
  /** How many requests `requests` keeps, newest last. @default 10_000 */
  maxLoggedRequests?: number;
  /**
   * Lets web pages call it from a browser: `true` for any origin, or a list of page origins. CORS
   * preflights are answered and neither counted nor logged. @default false
   */
  cors?: CorsOption;
  /**
   * The protected API answers every path under this prefix but the token endpoint's, such as your
   * real API's `/v1/conversations`; other paths get 404. @default '/' (every path)
   */
  apiPath?: string;
}

/** One simulated provider: its token endpoint and a protected API, on one loopback origin. */
export interface ProviderServer {
  /** Which vendor it plays. */
  readonly kind: SimulatedKind;
  /** `http://127.0.0.1:<port>`: the provider's base URL and its API's origin. */
  readonly url: string;
  /** Valid credentials of the first tenant, ready for the provider factory. */
  readonly credentials: SimulatedCredentials;
  /** Valid credentials of every tenant. */
  readonly tenants: readonly SimulatedCredentials[];
  /** Counters, live: read them after the requests you test. */
  readonly stats: Readonly<SimulationStats>;
  /** Every token issued so far. */
  readonly tokens: readonly IssuedToken[];
  /** The last requests received (see `maxLoggedRequests`). */
  readonly requests: readonly SeenRequest[];
  /** Lifetime of the tokens issued from now on, in seconds (fractions allowed). */
  setTokenLifetime(seconds: number): void;
  /** Delay of every token answer from now on. */
  setTokenLatency(ms: number): void;
  /** Delay of every API answer from now on. */
  setApiLatency(ms: number): void;
  /** Every token issued so far stops working. */
  revokeAll(): void;
  /** This token stops working. */
  revoke(accessToken: string): void;
  /** Queues faults for the next token requests, one each. */
  queueTokenFaults(...faults: TokenFault[]): void;
  /** Answers every token request with `fault` until called with `undefined`. */
  setTokenFault(fault: TokenFault | undefined): void;
  /**
   * Queues faults for the next requests to the protected API, one each, played before the token
   * is looked at: `{ status: 503 }` for an API that is briefly down, `{ reset: true }` for a
   * network error. For testing retry plugins and error handling around tokenflight.
   */
  queueApiFaults(...faults: TokenFault[]): void;
  /** While true, the protected API answers 401 to everything. */
  setApiAlwaysUnauthorized(value: boolean): void;
  /** Zeroes `stats` and empties `requests`. */
  resetStats(): void;
  /** Stops the server, cutting hanging requests. */
  close(): Promise<void>;
}

/**
 * Starts one simulated provider on `127.0.0.1` and a free port: its token endpoint, exactly as the
 * vendor documents it, and a protected API at every other path (or under `apiPath`) that answers 401
 * to missing, unknown, expired or revoked tokens and otherwise echoes the request
 * (`{ ok, method, path, body, ... }`), so a client can be tested at its real API's paths.
 *
 * - `/api/status/<code>` answers `<code>` to a valid token (`/api/status/403` with
 *   `insufficient_scope`), `/api/redirect?to=<url>` answers 307 to `<url>`.
 *
 * @example
 * ```ts
 * const server = await startProviderServer('symbl', { tokenLifetimeSeconds: 60 });
 * server.queueTokenFaults({ status: 503 }, { status: 429, headers: { 'Retry-After': '1' } });
 * const api = axios.create({ baseURL: server.url });
 * attachTokenAuth(api, { providers: simulatedProvider(server) });
 * await api.get('/api/anything');          // two retries, then a token
 * expect(server.stats.tokenRequests).toBe(3);
 * await server.close();
 * ```
 */
export async function startProviderServer(
  kind: SimulatedKind,
  options: ProviderServerOptions = {},
): Promise<ProviderServer> {
  const apiPath = readApiPath(options.apiPath, 'startProviderServer()');
  const simulation = createSimulation(kind, options);
  const { tenants, stats, tokens, byToken, requests, vendor } = simulation;
  const [firstTenant] = tenants;
  if (firstTenant === undefined)
    throw new TypeError('startProviderServer(): `credentials` must hold at least one tenant');

  const server: Server = createServer((request, response) => {
    if (answerCors(options.cors, request, response)) return;
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const body = await readBody(request);
      const isToken = url.pathname === vendor.tokenPath;
      const { authorization } = request.headers;
      const method = request.method ?? 'GET';
      logRequest(simulation, {
        kind: isToken ? 'token' : 'api',
        method,
        path: url.pathname,
        authorization,
        headers: request.headers,
        body,
      });
      if (isToken && request.method === 'POST') return handleToken(simulation, request, response, body);
      if (!isToken && isUnderApiPath(url.pathname, apiPath))
        return handleApi(simulation, { request, response, url, body });
      send(response, { status: 404, body: { message: 'Not Found' } }, simulation.now());
    })().catch(() => {
      if (!response.headersSent)
        send(response, { status: 500, body: { message: 'simulation error' } }, simulation.now());
    });
  });
  const port = await listenOnLoopback(server);

  return {
    kind,
    url: `http://127.0.0.1:${port}`,
    credentials: firstTenant,
    tenants,
    stats,
    tokens,
    requests,
    setTokenLifetime: (seconds) => void (simulation.lifetimeSeconds = seconds),
    setTokenLatency: (ms) => void (simulation.tokenLatencyMs = ms),
    setApiLatency: (ms) => void (simulation.apiLatencyMs = ms),
    revokeAll: () => tokens.forEach((token) => (token.revoked = true)),
    revoke: (accessToken) => {
      const token = byToken.get(accessToken);
      if (token !== undefined) token.revoked = true;
    },
    queueTokenFaults: (...faults) => void simulation.queuedFaults.push(...faults),
    setTokenFault: (fault) => void (simulation.persistentFault = fault),
    queueApiFaults: (...faults) => void simulation.apiFaults.push(...faults),
    setApiAlwaysUnauthorized: (value) => void (simulation.apiAlwaysUnauthorized = value),
    resetStats: () => resetStats(simulation),
    close: () =>
      new Promise<void>((resolve) => {
        for (const response of simulation.hanging) response.socket?.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
