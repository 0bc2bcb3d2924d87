import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type OAuth2Server from '@node-oauth/oauth2-server';
import { describe } from '../validate.js';
import { answerCors, type CorsOption } from './cors.js';
import { readBody } from './read-body.js';

/** The package the authorization server is built on: an optional peer dependency of tokenflight. */
const OAUTH2_SERVER_PACKAGE = '@node-oauth/oauth2-server';

/** A client registered with the {@link startAuthorizationServer | authorization server}. */
export interface AuthorizationServerClient {
  /** Its `client_id`. */
  readonly clientId: string;
  /**
   * Its `client_secret`: a confidential client authenticates with it (`client_secret_basic` or
   * `client_secret_post`). Leave it out for a public client, which sends only `client_id`.
   */
  readonly clientSecret?: string;
}

/** Counters, taken at the authorization server. */
export interface AuthorizationServerStats {
  /** Requests that reached the token endpoint (`POST /oauth2/token`), whatever their outcome. */
  refreshRequests: number;
  /**
   * Refresh tokens the server looked up to handle a request: every use of one, whatever came of it.
   * A request abandoned before it was handled (its client went away during `tokenLatencyMs`) is not a use.
   */
  refreshTokenUses: number;
  /** Successful rotations: a refresh token was used up and a new one (and an access token) issued. */
  rotations: number;
  /** Refresh tokens presented again after they had been used (each revokes its family, if it is not revoked yet). */
  reuseDetections: number;
  /** Families revoked, by reuse detection or by `revokeFamily()`. */
  revokedFamilies: number;
  /** Token answers dropped by `dropNextTokenAnswer()`. */
  droppedAnswers: number;
  /** Requests to the protected API under `/api/`. */
  apiRequests: number;
  /** API requests answered 200. */
  apiSucceeded: number;
  /** API requests answered 401: no token, or an unknown, expired or revoked one. */
  apiUnauthorized: number;
}

/** A family of refresh tokens: one original grant and every token rotated from it. */
export interface RefreshTokenFamily {
  /** An opaque id. */
  readonly id: string;
  /** The client it was issued to. */
  readonly clientId: string;
  /** Whether it was revoked (reuse detected, or `revokeFamily()`): none of its tokens works any more. */
  readonly revoked: boolean;
  /** How many times its refresh token was rotated. */
  readonly rotations: number;
  /** The refresh token that may be used next (the newest one issued). */
  readonly currentRefreshToken: string;
}

/** Options of {@link startAuthorizationServer}. */
export interface AuthorizationServerOptions {
  /**
   * The registered clients. @default a confidential client (`confidential-client`, a random
   * secret) and a public one (`public-client`)
   */
  clients?: readonly AuthorizationServerClient[];
  /** Lifetime of issued access tokens, in seconds (fractions allowed). @default 3600 */
  accessTokenLifetimeSeconds?: number;
  /** Lifetime of issued refresh tokens, in seconds. @default 1_209_600 (two weeks) */
  refreshTokenLifetimeSeconds?: number;
  /**
   * Delay before the token endpoint handles a request: the presented refresh token stays valid
   * meanwhile, and a request whose client went away during the delay is not handled at all.
   * @default 0
   */
  tokenLatencyMs?: number;
  /**
   * Delay between handling a token request (the refresh token is already used up) and sending the
   * answer. @default 0
   */
  tokenAnswerDelayMs?: number;
  /**
   * Rotate refresh tokens. With `false`, a refresh answers no `refresh_token` and the presented one
   * stays valid for reuse (like Amazon Cognito); nothing is a reuse then. @default true
   */
  rotateRefreshTokens?: boolean;
  /** Delay of every API answer. @default 0 */
  apiLatencyMs?: number;
  /**
   * Lets web pages call it from a browser: `true` for any origin, or a list of page origins. CORS
   * preflights are answered and not counted. @default false
   */
  cors?: CorsOption;
}

/** Options of {@link AuthorizationServer.issueRefreshToken}. */
export interface IssueRefreshTokenOptions {
  /** The client the grant is for. @default the first registered client */
  clientId?: string;
  /** The scope granted, space-separated; a refresh may ask for less, never more. @default no scope */
  scope?: string;
}

/**
 * A loopback OAuth 2.0 authorization server with refresh-token rotation and reuse detection, and a
 * protected API; see {@link startAuthorizationServer}.
 */
export interface AuthorizationServer {
  /** `http://127.0.0.1:<port>`: the server's origin, and its API's. */
  readonly url: string;
  /** `{url}/oauth2/token`: the token endpoint. */
  readonly tokenUrl: string;
  /** The registered clients. */
  readonly clients: readonly AuthorizationServerClient[];
  /** Counters, live: read them after the requests you test. */
  readonly stats: Readonly<AuthorizationServerStats>;
  /**
   * Starts a new family (as if a user had just signed in) and returns its first refresh token.
   * Throws a `TypeError` for an unknown `clientId`.
   */
  issueRefreshToken(options?: IssueRefreshTokenOptions): string;
  /** The family a refresh token (used or not) belongs to, as it is now; `undefined` for a token never issued. */
  familyOf(refreshToken: string): RefreshTokenFamily | undefined;
  /** Every family, as it is now, oldest first. */
  families(): RefreshTokenFamily[];
  /** Every access token issued so far stops working; refresh tokens and families are untouched. */
  revokeAccessTokens(): void;
  /** Revokes the family of this refresh token (a user signing out everywhere, an administrator). */
  revokeFamily(refreshToken: string): void;
  /** Lifetime of the access tokens issued from now on, in seconds (fractions allowed). */
  setAccessTokenLifetime(seconds: number): void;
  /** Delay before a token request is handled, from now on (see `tokenLatencyMs`). */
  setTokenLatency(ms: number): void;
  /** Delay between handling a token request and answering it, from now on (see `tokenAnswerDelayMs`). */
  setTokenAnswerDelay(ms: number): void;
  /** Delay of every API answer, from now on. */
  setApiLatency(ms: number): void;
  /**
   * The next token request is handled as usual (a valid refresh token is used up and rotated), and
   * then its connection is cut without an answer: "the server consumed the token, the answer was
   * lost". Each call drops one more answer.
   */
  dropNextTokenAnswer(): void;
  /** Zeroes `stats`. */
  resetStats(): void;
  /** Stops the server, cutting open connections. */
  close(): Promise<void>;
}

interface Family {
  readonly id: string;
  readonly clientId: string;
  revoked: boolean;
  rotations: number;
  current: string;
}

interface RefreshRecord {
  readonly family: Family;
  readonly scope: string[] | undefined;
  readonly expiresAt: Date;
  used: boolean;
}

interface AccessRecord {
  readonly family: Family;
  readonly clientId: string;
  readonly scope: string[] | undefined;
  readonly expiresAt: Date;
  revoked: boolean;
}

/** What the model hands the library as the token's `user`: it carries the family across a rotation. */
interface GrantUser {
  readonly id: string;
  readonly familyId: string;
}

const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const opaqueToken = (): string => randomBytes(32).toString('base64url');

/** Loads the optional peer dependency, or says which package to install. */
async function loadOAuth2Server(): Promise<typeof OAuth2Server> {
  try {
    return (await import('@node-oauth/oauth2-server')).default;
  } catch (error) {
    const code = (error as { code?: unknown } | undefined)?.code;
    const missing =
      (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
      error instanceof Error &&
      error.message.includes(OAUTH2_SERVER_PACKAGE);
    if (!missing) throw error;
    throw new Error(
      `startAuthorizationServer() needs ${OAUTH2_SERVER_PACKAGE}, an optional peer dependency of tokenflight: ` +
        `npm install --save-dev ${OAUTH2_SERVER_PACKAGE}@5`,
      { cause: error },
    );
  }
}

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

function checkSeconds(value: unknown, option: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(
      `startAuthorizationServer(): expected \`${option}\` to be a positive number, got ${typeof value === 'number' ? String(value) : describe(value)}`,
    );
  }
  return value;
}

/**
 * Starts a real OAuth 2.0 authorization server on `127.0.0.1` and a free port, built on
 * [@node-oauth/oauth2-server](https://www.npmjs.com/package/@node-oauth/oauth2-server) (an optional
 * peer dependency: install it beside tokenflight to use this) with an in-memory model, so that
 * clients of rotating refresh tokens can be tested without the network.
 *
 * - `POST /oauth2/token` serves the refresh-token grant (RFC 6749 §6) for confidential clients
 *   (`client_secret_basic` or `client_secret_post`) and public ones (`client_id` only). Every
 *   refresh rotates: it answers a new `refresh_token` and uses up the one presented (RFC 9700
 *   §4.14). Errors are RFC 6749 §5.2 bodies, as the library answers them: a wrong secret is
 *   `invalid_client` (401 over `client_secret_basic`, 400 over `client_secret_post`).
 * - **Reuse detection**: a refresh token presented after it was used revokes its whole family (every
 *   refresh and access token descending from the same original grant, including those a concurrent
 *   refresh is issuing) and is answered `400 {"error":"invalid_grant"}`. Of two simultaneous uses of
 *   one refresh token, exactly one succeeds, and its tokens are revoked with the family.
 * - The protected API under `/api/` answers 401 with `WWW-Authenticate: Bearer realm="Service"`
 *   when no token is sent and `Bearer realm="Service",error="invalid_token"` for an unknown,
 *   expired or revoked one (RFC 6750 §3.1); otherwise 200 with `{ ok, clientId, method, path }`.
 *
 * It rejects, naming the package, when @node-oauth/oauth2-server is not installed.
 *
 * @example
 * ```ts
 * const server = await startAuthorizationServer({ accessTokenLifetimeSeconds: 2 });
 * const refreshToken = server.issueRefreshToken({ clientId: 'public-client' });
 * const { data } = await axios.post(
 *   server.tokenUrl,
 *   new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'public-client' }),
 * );
 * await axios.get(`${server.url}/api/me`, { headers: { Authorization: `Bearer ${data.access_token}` } });
 * // refreshToken is used up: presenting it again revokes data.refresh_token and data.access_token too.
 * expect(server.stats).toMatchObject({ rotations: 1, reuseDetections: 0 });
 * await server.close();
 * ```
 */
export async function startAuthorizationServer(options: AuthorizationServerOptions = {}): Promise<AuthorizationServer> {
  const Library = await loadOAuth2Server();
  const clients = options.clients ?? [
    { clientId: 'confidential-client', clientSecret: opaqueToken() },
    { clientId: 'public-client' },
  ];
  const [firstClient] = clients;
  if (firstClient === undefined)
    throw new TypeError('startAuthorizationServer(): `clients` must hold at least one client');
  let accessTokenLifetimeSeconds =
    checkSeconds(options.accessTokenLifetimeSeconds, 'accessTokenLifetimeSeconds') ?? 3600;
  const refreshTokenLifetimeSeconds =
    checkSeconds(options.refreshTokenLifetimeSeconds, 'refreshTokenLifetimeSeconds') ?? 1_209_600;
  let tokenLatencyMs = options.tokenLatencyMs ?? 0;
  let tokenAnswerDelayMs = options.tokenAnswerDelayMs ?? 0;
  let apiLatencyMs = options.apiLatencyMs ?? 0;
  let answersToDrop = 0;
  const families: Family[] = [];
  const familiesById = new Map<string, Family>();
  const refreshTokens = new Map<string, RefreshRecord>();
  const accessTokens = new Map<string, AccessRecord>();
  const zero: AuthorizationServerStats = {
    refreshRequests: 0,
    refreshTokenUses: 0,
    rotations: 0,
    reuseDetections: 0,
    revokedFamilies: 0,
    droppedAnswers: 0,
    apiRequests: 0,
    apiSucceeded: 0,
    apiUnauthorized: 0,
  };
  const stats: AuthorizationServerStats = { ...zero };

  function revoke(family: Family): void {
    if (family.revoked) return;
    family.revoked = true;
    stats.revokedFamilies++;
  }

  function userOf(family: Family): GrantUser {
    return { id: `user-of-${family.id}`, familyId: family.id };
  }

  // The model's checks and updates are synchronous, so the event loop orders concurrent refreshes:
  // the first to reach revokeToken() uses the token up, every later one is a reuse.
  const model: OAuth2Server.RefreshTokenModel = {
    getClient: (clientId, clientSecret) => {
      const client = clients.find((candidate) => candidate.clientId === clientId);
      const given = clientSecret === '' ? undefined : clientSecret;
      if (client === undefined || given !== client.clientSecret) return Promise.resolve(false);
      return Promise.resolve({ id: client.clientId, grants: ['refresh_token'] });
    },
    getRefreshToken: (refreshToken) => {
      stats.refreshTokenUses++;
      const record = refreshTokens.get(refreshToken);
      if (record === undefined) return Promise.resolve(false);
      if (record.used) {
        stats.reuseDetections++;
        revoke(record.family);
      }
      if (record.used || record.family.revoked) return Promise.resolve(false);
      return Promise.resolve({
        refreshToken,
        refreshTokenExpiresAt: record.expiresAt,
        ...(record.scope === undefined ? {} : { scope: record.scope }),
        client: { id: record.family.clientId, grants: ['refresh_token'] },
        user: userOf(record.family),
      });
    },
    revokeToken: (token) => {
      const record = refreshTokens.get(token.refreshToken);
      if (record === undefined) return Promise.resolve(false);
      if (record.used) {
        // Another request used it since getRefreshToken() looked: a concurrent reuse.
        stats.reuseDetections++;
        revoke(record.family);
        return Promise.resolve(false);
      }
      record.used = true;
      return Promise.resolve(!record.family.revoked);
    },
    saveToken: (token, client, user) => {
      const family = familiesById.get((user as GrantUser).familyId);
      if (family === undefined) return Promise.resolve(false);
      const scope = token.scope;
      const expiresAt = new Date(Date.now() + accessTokenLifetimeSeconds * 1000);
      accessTokens.set(token.accessToken, { family, clientId: client.id, scope, expiresAt, revoked: false });
      // Without rotation (`rotateRefreshTokens: false`) the library issues no refresh token: the old one stays.
      if (token.refreshToken !== undefined) {
        refreshTokens.set(token.refreshToken, {
          family,
          scope,
          expiresAt: token.refreshTokenExpiresAt ?? new Date(Date.now() + refreshTokenLifetimeSeconds * 1000),
          used: false,
        });
        family.current = token.refreshToken;
        family.rotations++;
        stats.rotations++;
      }
      return Promise.resolve({ ...token, accessTokenExpiresAt: expiresAt, client, user });
    },
    getAccessToken: (accessToken) => {
      const record = accessTokens.get(accessToken);
      if (record === undefined || record.revoked || record.family.revoked) return Promise.resolve(false);
      return Promise.resolve({
        accessToken,
        accessTokenExpiresAt: record.expiresAt,
        ...(record.scope === undefined ? {} : { scope: record.scope }),
        client: { id: record.clientId, grants: ['refresh_token'] },
        user: userOf(record.family),
      });
    },
  };

  const oauth = new Library({
    model,
    accessTokenLifetime: accessTokenLifetimeSeconds,
    refreshTokenLifetime: refreshTokenLifetimeSeconds,
    requireClientAuthentication: { refresh_token: false },
    alwaysIssueNewRefreshToken: options.rotateRefreshTokens ?? true,
  });

  function libraryRequest(request: IncomingMessage, url: URL, body: Record<string, string>): OAuth2Server.Request {
    return new Library.Request({
      headers: headersOf(request),
      method: request.method ?? 'GET',
      query: Object.fromEntries(url.searchParams),
      body,
    });
  }

  async function handleToken(
    request: IncomingMessage,
    response: ServerResponse,
    url: URL,
    body: string,
    isGone: () => boolean,
  ): Promise<void> {
    stats.refreshRequests++;
    if (tokenLatencyMs > 0) await wait(tokenLatencyMs);
    if (isGone()) return;
    const drop = answersToDrop > 0;
    if (drop) answersToDrop--;
    const answer = new Library.Response();
    try {
      await oauth.token(
        libraryRequest(request, url, Object.fromEntries(new URLSearchParams(body))),
        answer,
        // Per call, so that setAccessTokenLifetime() applies from the next request on.
        { accessTokenLifetime: accessTokenLifetimeSeconds },
      );
      // The library rounds expires_in down to whole seconds (and leaves it out under one second).
      (answer.body as Record<string, unknown>)['expires_in'] = accessTokenLifetimeSeconds;
    } catch {
      // `answer` holds the RFC 6749 §5.2 error body and status.
    }
    if (tokenAnswerDelayMs > 0) await wait(tokenAnswerDelayMs);
    if (drop) {
      stats.droppedAnswers++;
      response.socket?.destroy();
      return;
    }
    sendJson(response, answer.status ?? 500, answer.body, { ...answer.headers });
  }

  async function handleApi(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    stats.apiRequests++;
    if (apiLatencyMs > 0) await wait(apiLatencyMs);
    const answer = new Library.Response();
    try {
      const token = await oauth.authenticate(libraryRequest(request, url, {}), answer);
      stats.apiSucceeded++;
      sendJson(response, 200, { ok: true, clientId: token.client.id, method: request.method, path: url.pathname });
    } catch (error) {
      const oauthError = error as OAuth2Server.OAuthError;
      const status = typeof oauthError.code === 'number' ? oauthError.code : 500;
      if (status === 401) stats.apiUnauthorized++;
      sendJson(
        response,
        status,
        { error: oauthError.name, error_description: oauthError.message },
        { ...answer.headers },
      );
    }
  }

  const server: Server = createServer((request, response) => {
    if (answerCors(options.cors, request, response)) return;
    let gone = false;
    response.once('close', () => (gone = true));
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const body = await readBody(request);
      if (url.pathname === '/oauth2/token' && request.method === 'POST')
        return handleToken(request, response, url, body, () => gone);
      if (url.pathname.startsWith('/api/')) return handleApi(request, response, url);
      sendJson(response, 404, { error: 'not_found' });
    })().catch(() => sendJson(response, 500, { error: 'server_error' }));
  });
  server.keepAliveTimeout = 1_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  const snapshot = (family: Family): RefreshTokenFamily => ({
    id: family.id,
    clientId: family.clientId,
    revoked: family.revoked,
    rotations: family.rotations,
    currentRefreshToken: family.current,
  });

  return {
    url: origin,
    tokenUrl: `${origin}/oauth2/token`,
    clients,
    stats,
    issueRefreshToken: ({ clientId = firstClient.clientId, scope } = {}) => {
      if (!clients.some((client) => client.clientId === clientId))
        throw new TypeError(`issueRefreshToken(): no client \`${clientId}\` is registered`);
      const refreshToken = opaqueToken();
      const family: Family = {
        id: randomBytes(8).toString('hex'),
        clientId,
        revoked: false,
        rotations: 0,
        current: refreshToken,
      };
      families.push(family);
      familiesById.set(family.id, family);
      refreshTokens.set(refreshToken, {
        family,
        scope: scope === undefined ? undefined : scope.split(' ').filter((part) => part !== ''),
        expiresAt: new Date(Date.now() + refreshTokenLifetimeSeconds * 1000),
        used: false,
      });
      return refreshToken;
    },
    familyOf: (refreshToken) => {
      const family = refreshTokens.get(refreshToken)?.family;
      return family === undefined ? undefined : snapshot(family);
    },
    families: () => families.map(snapshot),
    revokeAccessTokens: () => accessTokens.forEach((record) => (record.revoked = true)),
    revokeFamily: (refreshToken) => {
      const family = refreshTokens.get(refreshToken)?.family;
      if (family !== undefined) revoke(family);
    },
    setAccessTokenLifetime: (seconds) =>
      void (accessTokenLifetimeSeconds = checkSeconds(seconds, 'seconds') ?? accessTokenLifetimeSeconds),
    setTokenLatency: (ms) => void (tokenLatencyMs = ms),
    setTokenAnswerDelay: (ms) => void (tokenAnswerDelayMs = ms),
    setApiLatency: (ms) => void (apiLatencyMs = ms),
    dropNextTokenAnswer: () => {
      answersToDrop++;
    },
    resetStats: () => void Object.assign(stats, zero),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
