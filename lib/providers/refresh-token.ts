import { sha256Hex } from '../shared/async.js';
import type { SigningKey } from '../oauth/private-key.js';
import { createRotation } from '../core/manager/rotation.js';
import type { RotatingCredential, TokenSource } from '../core/manager/token-source.js';
import { displayUrl } from '../shared/url.js';
import { checkFunction, expectRefreshToken, optionalString } from '../shared/validate.js';
import { keptUnlessFailed, keyWithThumbprint } from '../core/dpop.js';
import {
  discoveryOf,
  dpopOf,
  freezeProvider,
  fullShape,
  path,
  readIdentity,
  readOptions,
  type ProviderOptions,
} from './define.js';
import type { ClientKeyOptions } from './client-key-options.js';
import type { SourceContext, TokenEndpoint, TokenProvider } from './endpoint.js';
import { CLIENT_AUTH_KEYS, OAUTH_RESPONSE, readOAuthClient, type ClientAuthMethod } from './oauth-client.js';
import { requestToken, type TokenRequestContext } from './token-request/index.js';

/** Options of {@link refreshTokenGrant}. */
export interface RefreshTokenGrantOptions extends ProviderOptions, ClientKeyOptions {
  /** The authorization server's token endpoint. Give this or `issuer`, not both. */
  tokenUrl?: string;
  /** The OAuth client ID. */
  clientId: string;
  /**
   * The client secret of a confidential client (the HS256 key with `client_secret_jwt`); leave it
   * out for a public client (only `client_id` is sent) and with `private_key_jwt`.
   */
  clientSecret?: string;
  /**
   * How a confidential client authenticates: `client_secret_basic`, `client_secret_post`, or a JWT
   * assertion signed anew for every attempt, `private_key_jwt` (with `privateKey`) or
   * `client_secret_jwt` (RFC 7523 §2.2). @default 'client_secret_basic'
   */
  authMethod?: ClientAuthMethod;
  /**
   * The refresh token to start with. Once the store holds a newer one (another process rotated it),
   * the store's wins; to start a new session where the store knows one, call `auth.resumeSession()`.
   */
  refreshToken: string;
  /** Space-separated scopes, or a list of them: asks for no more than the grant had (RFC 6749 §6). */
  scope?: string | readonly string[];
  /**
   * Receives each rotated refresh token, before the access token that came with it is used: persist
   * it there (a database, a keychain) to survive a restart. It is called after the store has the
   * new one, and waited for at most `tokenRequest.timeoutMs` (the flight goes on without it after
   * that; it cannot hold the provider). What it throws, or its running out of time, is reported in
   * the `refresh-token-rotated` event; the rotation stands. It is also called with a refresh token
   * the server rotated in an answer that was unusable otherwise (no access token).
   */
  onRefreshToken?: (refreshToken: string) => unknown;
  /** Keeps two sessions of one client (one user each) apart in a shared store. @default none */
  cacheKey?: string;
}

const CONTEXT = 'refreshTokenGrant()';

/** Connection errors raised before a request reaches the server: the refresh token was not presented. */
const UNSENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

/** The exchange's retry rule: only what cannot have reached the server, and only while the lock surely holds. */
function retryWithin(context: SourceContext, deadline: number): TokenRequestContext['mayRetry'] {
  return (failure, delayMs) => {
    const unsent =
      failure.status === undefined && UNSENT.has((failure.cause as { code?: string } | undefined)?.code ?? '');
    const refused = failure.code === 'ERR_TOKEN_RATE_LIMITED';
    return (unsent || refused) && context.now() + delayMs + context.settings.timeoutMs <= deadline;
  };
}

/**
 * A session's store key. The issuer and the key's identity (a one-way hash) are appended only when
 * present, so sessions without them keep the keys of 0.2.
 */
async function sessionKey(
  parts: readonly unknown[],
  issuer: string | undefined,
  signer: SigningKey | undefined,
): Promise<string> {
  const all: unknown[] = ['tokenflight/v1', 'oauth2-refresh', ...parts];
  if (issuer !== undefined) all.push({ issuer });
  if (signer !== undefined) all.push({ assertionKey: await signer.identity() });
  return sha256Hex(JSON.stringify(all));
}

/** What a refresh-token grant's sources are made of: the endpoint, the session's key, the first refresh token. */
interface RefreshGrant {
  readonly endpoint: TokenEndpoint;
  readonly identity: ReturnType<typeof readIdentity>;
  readonly body: Record<string, string>;
  readonly key: Promise<string>;
  readonly url: URL;
  readonly refreshToken: string;
  readonly onRotated: ((refreshToken: string) => unknown) | undefined;
}

/** A handle's source of a refresh-token grant: every token comes through its rotation. */
function createRefreshSource(grant: RefreshGrant, context: SourceContext): TokenSource {
  const { endpoint, identity, body, key, url } = grant;
  const discovery = discoveryOf(endpoint, identity, context);
  const dpop = dpopOf(endpoint, context, discovery);
  const rotation: RotatingCredential = {
    initial: grant.refreshToken,
    url: displayUrl(url),
    onRotated: grant.onRotated,
    callbackTimeoutMs: context.settings.timeoutMs,
    async exchange(credential, { signal, deadline }) {
      const presented = {
        ...endpoint,
        body: { ...body, refresh_token: credential },
        secrets: [...endpoint.secrets, credential, btoa(credential)],
      };
      let rotatedAnyway: string | undefined;
      try {
        const answer = await requestToken(identity.name, presented, {
          ...context,
          signal,
          discovery,
          dpop,
          mayRetry: retryWithin(context, deadline),
          onRotatedAnyway: (next) => (rotatedAnyway = next),
        });
        return { token: answer.token, attempts: answer.attempts, next: answer.refreshToken };
      } catch (error) {
        if (rotatedAnyway !== undefined && error instanceof Error) return { failure: error, next: rotatedAnyway };
        throw error;
      }
    },
    rotate: (manager, parts) => createRotation(manager, rotation, parts),
  };
  const fetch = (): Promise<never> => Promise.reject(new Error('a rotating source is used through its rotation'));
  if (dpop === undefined) return { name: identity.name, key, fetch, rotation };
  const bound = keptUnlessFailed(() => keyWithThumbprint(key, dpop));
  return {
    name: identity.name,
    get key() {
      return bound();
    },
    fetch,
    rotation,
    dpop,
  };
}

/**
 * The OAuth 2.0 refresh-token grant (RFC 6749 §6) with rotation (RFC 9700 §4.14), for confidential
 * and public clients. Each refresh token is presented at most once: only by the holder of the
 * store's lock (across a fleet with a `RedisTokenStore`), never retried once it may have reached
 * the server. A rotated refresh token replaces the old one in the store (encrypted at rest with the
 * Redis store's encryption, like access tokens) and is handed to `onRefreshToken`; an answer
 * without one keeps the old one. `invalid_grant` ends the session (`ERR_TOKEN_SESSION_ENDED`,
 * never retried) until `auth.resumeSession(refreshToken)`. Without `origins`, attached to an axios
 * instance that has a `baseURL`, it serves that `baseURL`'s origin; otherwise its token URL's
 * origin (see {@link OriginsSource}).
 *
 * @example
 * ```ts
 * const auth = attachTokenAuth(api, {
 *   providers: refreshTokenGrant({
 *     tokenUrl: 'https://auth.example.com/oauth/token',
 *     clientId: 'my-app', // a public client: no secret
 *     refreshToken: await db.loadRefreshToken(userId),
 *     onRefreshToken: (next) => db.saveRefreshToken(userId, next),
 *     origins: ['https://api.example.com'],
 *   }),
 *   store, // a RedisTokenStore, to share the session across processes
 * });
 * ```
 */
export function refreshTokenGrant(options: RefreshTokenGrantOptions): TokenProvider {
  const given = readOptions(options, CONTEXT, [
    'tokenUrl',
    'clientId',
    'clientSecret',
    'authMethod',
    'refreshToken',
    'scope',
    'onRefreshToken',
    'cacheKey',
    ...CLIENT_AUTH_KEYS,
  ]);
  const { url, issuer, discover, clientId, scope, auth, signer, assertion, secrets, dpop } = readOAuthClient(
    given,
    CONTEXT,
    {
      secretRequired: false,
    },
  );
  const refreshToken = expectRefreshToken(given['refreshToken'], CONTEXT);
  const cacheKey = optionalString(given['cacheKey'], 'cacheKey', CONTEXT);
  checkFunction(given['onRefreshToken'], 'onRefreshToken', CONTEXT);
  const identity = readIdentity(given, CONTEXT, {
    name: 'oauth2-refresh',
    origin: issuer === undefined ? url.origin : undefined,
    fromInstance: true,
  });
  const body: Record<string, string> = { grant_type: 'refresh_token', ...auth.body };
  if (scope !== undefined) body['scope'] = scope;
  const endpoint: TokenEndpoint = {
    kind: 'oauth2-refresh',
    url,
    method: 'POST',
    encoding: 'form',
    body,
    headers: auth.headers,
    secrets,
    response: fullShape(OAUTH_RESPONSE),
    endsSession: ['invalid_grant'],
    refreshToken: path('refresh_token'),
    defaultLifetimeMs: undefined,
    issuer,
    discover,
    assertion,
    dpop,
  };
  // The session's key: who asks and for what, never the refresh token (it changes with every rotation).
  const key = sessionKey([url.href, clientId, scope ?? null, identity.name, cacheKey ?? null], issuer, signer);
  const onRotated = given['onRefreshToken'] as ((refreshToken: string) => unknown) | undefined;

  const grant: RefreshGrant = { endpoint, identity, body, key, url, refreshToken, onRotated };
  return freezeProvider(
    { ...identity, tokenUrl: displayUrl(url) },
    { rotating: true, create: (context: SourceContext) => createRefreshSource(grant, context) },
  );
}
