import { createHmac, randomBytes } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { VENDORS, type SimulatedCredentials, type SimulatedKind, type SimulatedReply } from './vendors.js';
import { answerCors, type CorsOption } from './cors.js';
import { readBody } from './read-body.js';

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

function base64url(input: string | Buffer): string {
  return Buffer.from(input).toString('base64url');
}

function signJwt(claims: Record<string, unknown>, secret: Buffer): string {
  const head = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = base64url(JSON.stringify(claims));
  const signature = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${signature}`;
}

function send(response: ServerResponse, reply: SimulatedReply, date: number): void {
  if (response.destroyed || response.headersSent) return;
  const isText = typeof reply.body === 'string';
  const payload = reply.body === undefined ? '' : isText ? (reply.body as string) : JSON.stringify(reply.body);
  response.writeHead(reply.status, {
    'Content-Type': isText ? 'text/plain; charset=utf-8' : 'application/json',
    'Content-Length': Buffer.byteLength(payload),
    Date: new Date(date).toUTCString(),
    ...reply.headers,
  });
  response.end(payload);
}

const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts one simulated provider on `127.0.0.1` and a free port: its token endpoint, exactly as the
 * vendor documents it, and a protected API under `/api/` that answers 401 to missing, unknown,
 * expired or revoked tokens and otherwise echoes the request (`{ ok, method, path, body, ... }`).
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
  const vendor = VENDORS[kind];
  const tenants = options.credentials ?? vendor.defaultCredentials;
  const [firstTenant] = tenants;
  if (firstTenant === undefined)
    throw new TypeError('startProviderServer(): `credentials` must hold at least one tenant');
  const signingKey = randomBytes(32);
  const maxLogged = options.maxLoggedRequests ?? 10_000;
  let lifetimeSeconds = options.tokenLifetimeSeconds ?? 3600;
  let tokenLatencyMs = options.tokenLatencyMs ?? 0;
  let apiLatencyMs = options.apiLatencyMs ?? 0;
  let apiAlwaysUnauthorized = false;
  let persistentFault: TokenFault | undefined;
  const queuedFaults: TokenFault[] = [];
  const apiFaults: TokenFault[] = [];
  const tokens: IssuedToken[] = [];
  const byToken = new Map<string, IssuedToken>();
  const requests: SeenRequest[] = [];
  const hanging = new Set<ServerResponse>();
  const stats: SimulationStats = {
    tokenRequests: 0,
    tokensIssued: 0,
    apiRequests: 0,
    apiSucceeded: 0,
    apiUnauthorized: 0,
  };
  const now = (): number => Date.now() + (options.clockOffsetMs ?? 0);

  function log(entry: SeenRequest): void {
    requests.push(entry);
    if (requests.length > maxLogged) requests.splice(0, requests.length - maxLogged);
  }

  function issue(tenant: number, scope: string | undefined): SimulatedReply {
    const issuedAt = now();
    if (options.reuseTokens === true) {
      const reusable = tokens.find(
        (t) => t.tenant === tenant && t.scope === scope && !t.revoked && t.expiresAt > issuedAt,
      );
      if (reusable !== undefined)
        return vendor.issued(reusable.accessToken, Math.floor((reusable.expiresAt - issuedAt) / 1000));
    }
    const expiresAt = issuedAt + lifetimeSeconds * 1000;
    const jti = randomBytes(12).toString('hex');
    const accessToken = vendor.jwt
      ? signJwt({ sub: `tenant-${tenant}`, iat: Math.floor(issuedAt / 1000), exp: expiresAt / 1000, jti }, signingKey)
      : `${kind}.${jti}.${randomBytes(18).toString('base64url')}`;
    const token: IssuedToken = { accessToken, tenant, scope, issuedAt, expiresAt, revoked: false };
    tokens.push(token);
    byToken.set(accessToken, token);
    stats.tokensIssued++;
    return vendor.issued(accessToken, lifetimeSeconds);
  }

  async function playFault(fault: TokenFault, response: ServerResponse): Promise<'handled' | 'continue'> {
    if ('hang' in fault) {
      hanging.add(response);
      response.on('close', () => hanging.delete(response));
      return 'handled';
    }
    if ('reset' in fault) {
      response.socket?.destroy();
      return 'handled';
    }
    if ('delayMs' in fault) {
      await wait(fault.delayMs);
      return 'continue';
    }
    if ('redirect' in fault) {
      send(response, { status: fault.status ?? 307, body: '', headers: { Location: fault.redirect } }, now());
      return 'handled';
    }
    if ('raw' in fault) {
      if (!response.headersSent) {
        response.writeHead(fault.status ?? 200, {
          'Content-Type': fault.contentType ?? 'application/json',
          Date: new Date(now()).toUTCString(),
        });
        response.end(fault.raw);
      }
      return 'handled';
    }
    send(
      response,
      { status: fault.status, body: fault.body ?? '', ...(fault.headers ? { headers: fault.headers } : {}) },
      now(),
    );
    return 'handled';
  }

  async function handleToken(request: IncomingMessage, response: ServerResponse, body: string): Promise<void> {
    stats.tokenRequests++;
    const fault = queuedFaults.shift() ?? persistentFault;
    if (tokenLatencyMs > 0) await wait(tokenLatencyMs);
    if (fault !== undefined && (await playFault(fault, response)) === 'handled') return;
    const checked = vendor.check({ headers: request.headers, body }, tenants);
    send(response, 'reply' in checked ? checked.reply : issue(checked.tenant, checked.scope), now());
  }

  async function handleApi(request: IncomingMessage, response: ServerResponse, url: URL, body: string): Promise<void> {
    stats.apiRequests++;
    if (apiLatencyMs > 0) await wait(apiLatencyMs);
    const fault = apiFaults.shift();
    if (fault !== undefined && (await playFault(fault, response)) === 'handled') return;
    const header = request.headers['authorization'];
    const presented = /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];
    const token = presented === undefined ? undefined : byToken.get(presented);
    const valid = token !== undefined && !token.revoked && token.expiresAt > now();
    if (!valid || apiAlwaysUnauthorized) {
      stats.apiUnauthorized++;
      const challenge =
        presented === undefined ? 'Bearer realm="simulation"' : 'Bearer realm="simulation", error="invalid_token"';
      send(response, { status: 401, body: vendor.apiUnauthorized, headers: { 'WWW-Authenticate': challenge } }, now());
      return;
    }
    const statusMatch = /^\/api\/status\/(\d{3})$/.exec(url.pathname);
    if (statusMatch?.[1] !== undefined) {
      const status = Number(statusMatch[1]);
      const headers: Record<string, string> =
        status === 403 ? { 'WWW-Authenticate': 'Bearer error="insufficient_scope"' } : {};
      if (status < 300) stats.apiSucceeded++;
      send(response, { status, body: { status }, headers }, now());
      return;
    }
    if (url.pathname === '/api/redirect') {
      send(
        response,
        { status: 307, body: '', headers: { Location: url.searchParams.get('to') ?? '/api/echo' } },
        now(),
      );
      return;
    }
    stats.apiSucceeded++;
    send(
      response,
      {
        status: 200,
        body: {
          ok: true,
          provider: kind,
          tenant: token.tenant,
          method: request.method,
          path: url.pathname,
          query: url.search,
          contentType: request.headers['content-type'] ?? null,
          body,
        },
      },
      now(),
    );
  }

  const server: Server = createServer((request, response) => {
    if (answerCors(options.cors, request, response)) return;
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const body = await readBody(request);
      const isToken = url.pathname === vendor.tokenPath;
      log({
        kind: isToken ? 'token' : 'api',
        method: request.method ?? 'GET',
        path: url.pathname,
        authorization: request.headers['authorization'],
        headers: request.headers,
        body,
      });
      if (isToken && request.method === 'POST') return handleToken(request, response, body);
      if (url.pathname.startsWith('/api/')) return handleApi(request, response, url, body);
      send(response, { status: 404, body: { message: 'Not Found' } }, now());
    })().catch(() => {
      if (!response.headersSent) send(response, { status: 500, body: { message: 'simulation error' } }, now());
    });
  });
  server.keepAliveTimeout = 1_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    kind,
    url: `http://127.0.0.1:${port}`,
    credentials: firstTenant,
    tenants,
    stats,
    tokens,
    requests,
    setTokenLifetime: (seconds) => void (lifetimeSeconds = seconds),
    setTokenLatency: (ms) => void (tokenLatencyMs = ms),
    setApiLatency: (ms) => void (apiLatencyMs = ms),
    revokeAll: () => tokens.forEach((token) => (token.revoked = true)),
    revoke: (accessToken) => {
      const token = byToken.get(accessToken);
      if (token !== undefined) token.revoked = true;
    },
    queueTokenFaults: (...faults) => void queuedFaults.push(...faults),
    setTokenFault: (fault) => void (persistentFault = fault),
    queueApiFaults: (...faults) => void apiFaults.push(...faults),
    setApiAlwaysUnauthorized: (value) => void (apiAlwaysUnauthorized = value),
    resetStats: () => {
      Object.assign(stats, { tokenRequests: 0, tokensIssued: 0, apiRequests: 0, apiSucceeded: 0, apiUnauthorized: 0 });
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const response of hanging) response.socket?.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
