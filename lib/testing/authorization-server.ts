import { createServer, type Server } from 'node:http';
import type OAuth2Server from '@node-oauth/oauth2-server';
import { describe } from '../shared/validate.js';
import { createGrantRegistry, opaqueToken, type AuthorizationTunables } from './authorization-grants.js';
import { readApiPath } from './api-path.js';
import { createAuthorizationListener } from './authorization-http.js';
import { listenOnLoopback } from './listen.js';
import type { CorsOption } from './cors.js';
import type { AuthorizationServerClient, AuthorizationServerStats, RefreshTokenFamily } from './authorization-types.js';

/** The package the authorization server is built on: an optional peer dependency of tokenflight. */
const OAUTH2_SERVER_PACKAGE = '@node-oauth/oauth2-server';

export type { AuthorizationServerClient, AuthorizationServerStats, RefreshTokenFamily } from './authorization-types.js';

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
  /**
   * The protected API answers every path under this prefix but `/oauth2/token`, such as your real
   * API's `/v1/me`; other paths get 404. @default '/' (every path)
   */
  apiPath?: string;
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
 * - The protected API, at every other path (or under `apiPath`), answers 401 with `WWW-Authenticate: Bearer realm="Service"`
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
  const apiPath = readApiPath(options.apiPath, 'startAuthorizationServer()');
  const Library = await loadOAuth2Server();
  const clients = options.clients ?? [
    { clientId: 'confidential-client', clientSecret: opaqueToken() },
    { clientId: 'public-client' },
  ];
  const [firstClient] = clients;
  if (firstClient === undefined)
    throw new TypeError('startAuthorizationServer(): `clients` must hold at least one client');
  const tunables: AuthorizationTunables = {
    accessTokenLifetimeSeconds: checkSeconds(options.accessTokenLifetimeSeconds, 'accessTokenLifetimeSeconds') ?? 3600,
    refreshTokenLifetimeSeconds:
      checkSeconds(options.refreshTokenLifetimeSeconds, 'refreshTokenLifetimeSeconds') ?? 1_209_600,
    tokenLatencyMs: options.tokenLatencyMs ?? 0,
    tokenAnswerDelayMs: options.tokenAnswerDelayMs ?? 0,
    apiLatencyMs: options.apiLatencyMs ?? 0,
    answersToDrop: 0,
  };
  const grants = createGrantRegistry(clients, tunables);
  const oauth = new Library({
    model: grants.model,
    accessTokenLifetime: tunables.accessTokenLifetimeSeconds,
    refreshTokenLifetime: tunables.refreshTokenLifetimeSeconds,
    requireClientAuthentication: { refresh_token: false },
    alwaysIssueNewRefreshToken: options.rotateRefreshTokens ?? true,
  });
  const listener = createAuthorizationListener({
    Library,
    oauth,
    stats: grants.stats,
    tunables,
    cors: options.cors,
    apiPath,
  });
  const server: Server = createServer(listener);
  const origin = `http://127.0.0.1:${await listenOnLoopback(server)}`;

  return {
    url: origin,
    tokenUrl: `${origin}/oauth2/token`,
    clients,
    stats: grants.stats,
    issueRefreshToken: ({ clientId = firstClient.clientId, scope } = {}) => {
      if (!clients.some((client) => client.clientId === clientId))
        throw new TypeError(`issueRefreshToken(): no client \`${clientId}\` is registered`);
      return grants.issueRefreshToken(clientId, scope);
    },
    familyOf: (refreshToken) => grants.familyOf(refreshToken),
    families: () => grants.families(),
    revokeAccessTokens: () => grants.revokeAccessTokens(),
    revokeFamily: (refreshToken) => grants.revokeFamily(refreshToken),
    setAccessTokenLifetime: (seconds) =>
      void (tunables.accessTokenLifetimeSeconds =
        checkSeconds(seconds, 'seconds') ?? tunables.accessTokenLifetimeSeconds),
    setTokenLatency: (ms) => void (tunables.tokenLatencyMs = ms),
    setTokenAnswerDelay: (ms) => void (tunables.tokenAnswerDelayMs = ms),
    setApiLatency: (ms) => void (tunables.apiLatencyMs = ms),
    dropNextTokenAnswer: () => {
      tunables.answersToDrop++;
    },
    resetStats: () => grants.resetStats(),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
