import { createServer, type Server } from 'node:http';
import { isUnderApiPath, readApiPath } from './api-path.js';
import { answerCors } from './cors.js';
import { handleApi } from './provider-api.js';
import { listenOnLoopback } from './listen.js';
import { createSimulation, handleToken, logRequest, resetStats, send } from './provider-simulation.js';
import { readBody } from './read-body.js';
import type { IssuedToken, ProviderServerOptions, SeenRequest, SimulationStats, TokenFault } from './provider-types.js';
import type { SimulatedCredentials, SimulatedKind } from './vendors.js';

export type { IssuedToken, ProviderServerOptions, SeenRequest, SimulationStats, TokenFault } from './provider-types.js';

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
