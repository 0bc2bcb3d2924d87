import type { IncomingMessage, ServerResponse } from 'node:http';
import { playFault, send, wait, type Simulation } from './provider-simulation.js';

// The simulated provider's protected API, at every path but the token endpoint's (or under the
// server's `apiPath`): 401 to missing, unknown, expired or revoked tokens (RFC 6750 challenges),
// `/api/status/<code>`, `/api/redirect?to=`, and an echo otherwise.

function unauthorized(simulation: Simulation, response: ServerResponse, presented: string | undefined): void {
  simulation.stats.apiUnauthorized++;
  const challenge =
    presented === undefined ? 'Bearer realm="simulation"' : 'Bearer realm="simulation", error="invalid_token"';
  const reply = { status: 401, body: simulation.vendor.apiUnauthorized, headers: { 'WWW-Authenticate': challenge } };
  send(response, reply, simulation.now());
}

/** `/api/status/<code>` and `/api/redirect`; true if `url` was one of them. */
function answerFixedRoute(simulation: Simulation, response: ServerResponse, url: URL): boolean {
  const statusMatch = /^\/api\/status\/(\d{3})$/.exec(url.pathname);
  if (statusMatch?.[1] !== undefined) {
    const status = Number(statusMatch[1]);
    const headers: Record<string, string> =
      status === 403 ? { 'WWW-Authenticate': 'Bearer error="insufficient_scope"' } : {};
    if (status < 300) simulation.stats.apiSucceeded++;
    send(response, { status, body: { status }, headers }, simulation.now());
    return true;
  }
  if (url.pathname === '/api/redirect') {
    const location = url.searchParams.get('to') ?? '/api/echo';
    send(response, { status: 307, body: '', headers: { Location: location } }, simulation.now());
    return true;
  }
  return false;
}

/** Answers one API request. */
export async function handleApi(
  simulation: Simulation,
  exchange: { request: IncomingMessage; response: ServerResponse; url: URL; body: string },
): Promise<void> {
  const { request, response, url, body } = exchange;
  simulation.stats.apiRequests++;
  if (simulation.apiLatencyMs > 0) await wait(simulation.apiLatencyMs);
  const fault = simulation.apiFaults.shift();
  if (fault !== undefined && (await playFault(simulation, fault, response)) === 'handled') return;
  const presented = /^Bearer\s+(\S+)$/i.exec(request.headers['authorization'] ?? '')?.[1];
  const token = presented === undefined ? undefined : simulation.byToken.get(presented);
  const valid = token !== undefined && !token.revoked && token.expiresAt > simulation.now();
  if (!valid || simulation.apiAlwaysUnauthorized) {
    unauthorized(simulation, response, presented);
    return;
  }
  if (answerFixedRoute(simulation, response, url)) return;
  simulation.stats.apiSucceeded++;
  const echo = {
    ok: true,
    provider: simulation.kind,
    tenant: token.tenant,
    method: request.method,
    path: url.pathname,
    query: url.search,
    contentType: request.headers['content-type'] ?? null,
    body,
  };
  send(response, { status: 200, body: echo }, simulation.now());
}
