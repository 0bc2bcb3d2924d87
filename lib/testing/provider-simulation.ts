import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IssuedToken, ProviderServerOptions, SeenRequest, SimulationStats, TokenFault } from './provider-types.js';
import { VENDORS, type SimulatedCredentials, type SimulatedKind, type SimulatedReply, type Vendor } from './vendors.js';

// The state of one simulated provider and its token endpoint: issuing tokens, playing faults.
// The protected API lives in provider-api.ts, the server and its controls in provider-server.ts.

/** Everything one simulated provider holds; the controls of the server change the mutable part. */
export interface Simulation {
  readonly kind: SimulatedKind;
  readonly vendor: Vendor;
  readonly tenants: readonly SimulatedCredentials[];
  readonly options: ProviderServerOptions;
  /** Signs the JWTs of vendors that issue JWTs. */
  readonly signingKey: Buffer;
  readonly stats: SimulationStats;
  readonly tokens: IssuedToken[];
  readonly byToken: Map<string, IssuedToken>;
  readonly requests: SeenRequest[];
  readonly queuedFaults: TokenFault[];
  readonly apiFaults: TokenFault[];
  /** Answers a `hang` fault holds open, cut when the server closes. */
  readonly hanging: Set<ServerResponse>;
  lifetimeSeconds: number;
  tokenLatencyMs: number;
  apiLatencyMs: number;
  apiAlwaysUnauthorized: boolean;
  persistentFault: TokenFault | undefined;
  /** The simulation's clock (`clockOffsetMs` ahead of the machine's). */
  now(): number;
}

const ZERO_STATS: SimulationStats = {
  tokenRequests: 0,
  tokensIssued: 0,
  apiRequests: 0,
  apiSucceeded: 0,
  apiUnauthorized: 0,
};

export const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A fresh simulation of `kind`, with no token issued and nothing logged. */
export function createSimulation(kind: SimulatedKind, options: ProviderServerOptions): Simulation {
  const tenants = options.credentials ?? VENDORS[kind].defaultCredentials;
  return {
    kind,
    vendor: VENDORS[kind],
    tenants,
    options,
    signingKey: randomBytes(32),
    stats: { ...ZERO_STATS },
    tokens: [],
    byToken: new Map(),
    requests: [],
    queuedFaults: [],
    apiFaults: [],
    hanging: new Set(),
    lifetimeSeconds: options.tokenLifetimeSeconds ?? 3600,
    tokenLatencyMs: options.tokenLatencyMs ?? 0,
    apiLatencyMs: options.apiLatencyMs ?? 0,
    apiAlwaysUnauthorized: false,
    persistentFault: undefined,
    now: () => Date.now() + (options.clockOffsetMs ?? 0),
  };
}

/** Zeroes the counters and empties the request log. */
export function resetStats(simulation: Simulation): void {
  Object.assign(simulation.stats, ZERO_STATS);
  simulation.requests.length = 0;
}

/** Logs a request, keeping the newest `maxLoggedRequests`. */
export function logRequest(simulation: Simulation, entry: SeenRequest): void {
  const { requests } = simulation;
  const maxLogged = simulation.options.maxLoggedRequests ?? 10_000;
  requests.push(entry);
  if (requests.length > maxLogged) requests.splice(0, requests.length - maxLogged);
}

/** Sends `reply` (a string as text, anything else as JSON) with the simulation's `Date`. */
export function send(response: ServerResponse, reply: SimulatedReply, date: number): void {
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

function signJwt(claims: Record<string, unknown>, secret: Buffer): string {
  const head = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const signature = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${signature}`;
}

function issue(simulation: Simulation, tenant: number, scope: string | undefined): SimulatedReply {
  const { vendor, tokens, lifetimeSeconds } = simulation;
  const issuedAt = simulation.now();
  if (simulation.options.reuseTokens === true) {
    const reusable = tokens.find(
      (t) => t.tenant === tenant && t.scope === scope && !t.revoked && t.expiresAt > issuedAt,
    );
    if (reusable !== undefined)
      return vendor.issued(reusable.accessToken, Math.floor((reusable.expiresAt - issuedAt) / 1000));
  }
  const expiresAt = issuedAt + lifetimeSeconds * 1000;
  const jti = randomBytes(12).toString('hex');
  const claims = { sub: `tenant-${tenant}`, iat: Math.floor(issuedAt / 1000), exp: expiresAt / 1000, jti };
  const accessToken = vendor.jwt
    ? signJwt(claims, simulation.signingKey)
    : `${simulation.kind}.${jti}.${randomBytes(18).toString('base64url')}`;
  const token: IssuedToken = { accessToken, tenant, scope, issuedAt, expiresAt, revoked: false };
  tokens.push(token);
  simulation.byToken.set(accessToken, token);
  simulation.stats.tokensIssued++;
  return vendor.issued(accessToken, lifetimeSeconds);
}

/** Plays `fault`; `continue` when the request is then to be answered as usual (a delay). */
export async function playFault(
  simulation: Simulation,
  fault: TokenFault,
  response: ServerResponse,
): Promise<'handled' | 'continue'> {
  const now = simulation.now();
  if ('hang' in fault) {
    simulation.hanging.add(response);
    response.on('close', () => simulation.hanging.delete(response));
  } else if ('reset' in fault) {
    response.socket?.destroy();
  } else if ('delayMs' in fault) {
    await wait(fault.delayMs);
    return 'continue';
  } else if ('redirect' in fault) {
    send(response, { status: fault.status ?? 307, body: '', headers: { Location: fault.redirect } }, now);
  } else if ('raw' in fault) {
    if (!response.headersSent) {
      const contentType = fault.contentType ?? 'application/json';
      response.writeHead(fault.status ?? 200, { 'Content-Type': contentType, Date: new Date(now).toUTCString() });
      response.end(fault.raw);
    }
  } else {
    const headers = fault.headers ? { headers: fault.headers } : {};
    send(response, { status: fault.status, body: fault.body ?? '', ...headers }, now);
  }
  return 'handled';
}

/** The token endpoint: the next fault if one is queued (or set), else the vendor's own answer. */
export async function handleToken(
  simulation: Simulation,
  request: IncomingMessage,
  response: ServerResponse,
  body: string,
): Promise<void> {
  simulation.stats.tokenRequests++;
  const fault = simulation.queuedFaults.shift() ?? simulation.persistentFault;
  if (simulation.tokenLatencyMs > 0) await wait(simulation.tokenLatencyMs);
  if (fault !== undefined && (await playFault(simulation, fault, response)) === 'handled') return;
  const checked = simulation.vendor.check({ headers: request.headers, body }, simulation.tenants);
  const reply = 'reply' in checked ? checked.reply : issue(simulation, checked.tenant, checked.scope);
  send(response, reply, simulation.now());
}
