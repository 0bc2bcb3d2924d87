import type { IncomingMessage, ServerResponse } from 'node:http';
import type OAuth2Server from '@node-oauth/oauth2-server';
import type { AuthorizationServerStats } from './authorization-types.js';
import type { AuthorizationTunables } from './authorization-grants.js';
import { isUnderApiPath } from './api-path.js';
import { answerCors, type CorsOption } from './cors.js';
import { readBody } from './read-body.js';

// The authorization server's HTTP side: the token endpoint, the protected API, and the routing
// between them. The grants themselves live in authorization-grants.ts.

/** What the handlers work with. */
export interface AuthorizationHttpContext {
  readonly Library: typeof OAuth2Server;
  readonly oauth: OAuth2Server;
  readonly stats: AuthorizationServerStats;
  readonly tunables: AuthorizationTunables;
  readonly cors: CorsOption | undefined;
  /** The protected API's path prefix (`/`: every path but the token endpoint's). */
  readonly apiPath: string;
}

const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (response.destroyed || response.headersSent) return;
  const payload = JSON.stringify(body);
  response.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(payload),
  });
  response.end(payload);
}

function headersOf(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

function libraryRequest(
  context: AuthorizationHttpContext,
  request: IncomingMessage,
  url: URL,
  body: Record<string, string>,
): OAuth2Server.Request {
  return new context.Library.Request({
    headers: headersOf(request),
    method: request.method ?? 'GET',
    query: Object.fromEntries(url.searchParams),
    body,
  });
}

async function handleToken(
  context: AuthorizationHttpContext,
  exchange: { request: IncomingMessage; response: ServerResponse; url: URL; body: string },
  isGone: () => boolean,
): Promise<void> {
  const { stats, tunables } = context;
  stats.refreshRequests++;
  if (tunables.tokenLatencyMs > 0) await wait(tunables.tokenLatencyMs);
  if (isGone()) return;
  const drop = tunables.answersToDrop > 0;
  if (drop) tunables.answersToDrop--;
  const answer = new context.Library.Response();
  const lifetime = tunables.accessTokenLifetimeSeconds;
  try {
    const form = Object.fromEntries(new URLSearchParams(exchange.body));
    // The lifetime per call, so that setAccessTokenLifetime() applies from the next request on.
    await context.oauth.token(libraryRequest(context, exchange.request, exchange.url, form), answer, {
      accessTokenLifetime: lifetime,
    });
    // The library rounds expires_in down to whole seconds (and leaves it out under one second).
    (answer.body as Record<string, unknown>)['expires_in'] = lifetime;
  } catch {
    // `answer` holds the RFC 6749 §5.2 error body and status.
  }
  if (tunables.tokenAnswerDelayMs > 0) await wait(tunables.tokenAnswerDelayMs);
  if (drop) {
    stats.droppedAnswers++;
    exchange.response.socket?.destroy();
    return;
  }
  sendJson(exchange.response, answer.status ?? 500, answer.body, { ...answer.headers });
}

async function handleApi(
  context: AuthorizationHttpContext,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
): Promise<void> {
  const { stats } = context;
  stats.apiRequests++;
  if (context.tunables.apiLatencyMs > 0) await wait(context.tunables.apiLatencyMs);
  const answer = new context.Library.Response();
  try {
    const token = await context.oauth.authenticate(libraryRequest(context, request, url, {}), answer);
    stats.apiSucceeded++;
    sendJson(response, 200, { ok: true, clientId: token.client.id, method: request.method, path: url.pathname });
  } catch (error) {
    const oauthError = error as OAuth2Server.OAuthError;
    const status = typeof oauthError.code === 'number' ? oauthError.code : 500;
    if (status === 401) stats.apiUnauthorized++;
    const body = { error: oauthError.name, error_description: oauthError.message };
    sendJson(response, status, body, { ...answer.headers });
  }
}

/** The server's request listener: `POST /oauth2/token`, the API at every other path under `apiPath`, 404 otherwise. */
export function createAuthorizationListener(
  context: AuthorizationHttpContext,
): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    if (answerCors(context.cors, request, response)) return;
    let gone = false;
    response.once('close', () => (gone = true));
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const body = await readBody(request);
      const isToken = url.pathname === '/oauth2/token';
      if (isToken && request.method === 'POST')
        return handleToken(context, { request, response, url, body }, () => gone);
      if (!isToken && isUnderApiPath(url.pathname, context.apiPath)) return handleApi(context, request, response, url);
      sendJson(response, 404, { error: 'not_found' });
    })().catch(() => sendJson(response, 500, { error: 'server_error' }));
  };
}
