const kBrand = Symbol.for('tokenflight.error');
const kInspect = Symbol.for('nodejs.util.inspect.custom');

/**
 * Why a token could not be had. One code per cause, the same for every provider:
 *
 * - `ERR_TOKEN_CREDENTIALS`: the token endpoint refused to issue a token for these credentials
 *   (HTTP 400/401/403, an OAuth `error`, or a 200 body flagged `success: false` / `status: false`).
 *   Not retried; check the credentials, scope and audience.
 * - `ERR_TOKEN_HTTP_STATUS`: the endpoint answered another status that retrying cannot fix (404, 405…);
 *   usually a wrong `baseURL` or `tokenUrl`.
 * - `ERR_TOKEN_RATE_LIMITED`: HTTP 429 on every attempt.
 * - `ERR_TOKEN_UNAVAILABLE`: network errors, 408 or 5xx on every attempt.
 * - `ERR_TOKEN_TIMEOUT`: every attempt ran out of time (`tokenRequest.timeoutMs`).
 * - `ERR_TOKEN_REDIRECT`: the endpoint answered with a redirect. Never followed: a 307/308 would send
 *   the credentials to another address.
 * - `ERR_TOKEN_MALFORMED`: a successful answer without a usable token: not JSON, not an object, no
 *   token, an empty or non-string token, characters not allowed in a bearer token, or a bad expiry.
 * - `ERR_TOKEN_TOO_LARGE`: the answer was larger than `tokenRequest.maxBodyBytes` (1 MiB), or the token
 *   in it (or a refresh token, or what a `customProvider`'s `getToken` resolved to) is longer than
 *   `DEFAULTS.maxTokenLength` (16 KiB). The message names the limit, never the token. Not retried.
 * - `ERR_TOKEN_EXPIRED`: every answer held a token that had expired by the time it arrived (its
 *   `expiresIn` was shorter than the request took). Asked again, with the backoff of retries,
 *   up to `tokenRequest.retries` times; such a token is never sent.
 * - `ERR_TOKEN_ABORTED`: the token request was abandoned because the handle was ejected; every
 *   caller still waiting gets it, and so do `auth.token()` and `auth.resumeSession()` after `eject()`.
 * - `ERR_TOKEN_SOURCE_FAILED`: a {@link customProvider}'s `getToken` threw or rejected; `cause` is
 *   what it threw. Not retried by tokenflight (the next request calls `getToken` again).
 * - `ERR_TOKEN_SESSION_ENDED`: the authorization server answered `invalid_grant` to a refresh token
 *   ({@link refreshTokenGrant}): it was revoked, expired, or used twice. Never retried; every later
 *   call fails fast with this code, without a request, until `auth.resumeSession(refreshToken)`
 *   gives a new one (the user signs in again).
 * - `ERR_TOKEN_STORE_UNAVAILABLE`: a new token needs a refresh token that rotates, which is
 *   presented only under the store's lock, and the store failed, was too slow, refused the lock (a
 *   `RedisTokenStore` on a Redis that may evict it: `ERR_REDIS_EVICTION_POLICY` in the
 *   `store-failed` event), or its lock was held by another process for longer than its wait. No
 *   refresh token was presented; the next request tries again. In a `BrowserTokenStore` tab found
 *   duplicated, `cause` is the store's `ERR_STORE_TAB_DUPLICATED`.
 * - `ERR_TOKEN_DISCOVERY`: the authorization server's metadata (found from `issuer`) is unusable:
 *   neither well-known URL serves it (404 at both, another 4xx, a status other than 200), it is not
 *   a JSON object, its `issuer` differs from the one configured (compared exactly, RFC 8414 §3.3),
 *   or its `token_endpoint` is missing or not https. No token request is sent.
 * - `ERR_TOKEN_NOT_DPOP_BOUND`: with `dpop: { required: true }`, the token endpoint issued a
 *   `Bearer` token instead of a DPoP-bound one. Nothing is cached; not retried.
 */
export type TokenRequestErrorCode =
  | 'ERR_TOKEN_CREDENTIALS'
  | 'ERR_TOKEN_HTTP_STATUS'
  | 'ERR_TOKEN_RATE_LIMITED'
  | 'ERR_TOKEN_UNAVAILABLE'
  | 'ERR_TOKEN_TIMEOUT'
  | 'ERR_TOKEN_REDIRECT'
  | 'ERR_TOKEN_MALFORMED'
  | 'ERR_TOKEN_TOO_LARGE'
  | 'ERR_TOKEN_EXPIRED'
  | 'ERR_TOKEN_ABORTED'
  | 'ERR_TOKEN_SOURCE_FAILED'
  | 'ERR_TOKEN_SESSION_ENDED'
  | 'ERR_TOKEN_STORE_UNAVAILABLE'
  | 'ERR_TOKEN_DISCOVERY'
  | 'ERR_TOKEN_NOT_DPOP_BOUND';

/**
 * Why an operation of a `RedisTokenStore` (`tokenflight/redis`) failed:
 *
 * - `ERR_REDIS_UNAVAILABLE`: the connection is down, or Redis failed a moment ago and is skipped
 *   until `retryAfterMs` has passed (nothing was sent).
 * - `ERR_REDIS_TIMEOUT`: Redis took longer than `commandTimeoutMs`.
 * - `ERR_REDIS_COMMAND`: Redis answered with an error (a wrong type under the key, a script error…).
 * - `ERR_REDIS_EVICTION_POLICY`: the store refused the lock that guards a rotating refresh token,
 *   because Redis may evict it: its `maxmemory-policy` is not `noeviction` while `maxmemory` is set
 *   (the lock has a TTL, so `volatile-*` policies evict it too), or the store could not read the
 *   policy (`CONFIG` disabled or not permitted, as on managed Redis) and was not told
 *   `evictionPolicy: 'checked-by-operator'`. An evicted lock lets two processes present one
 *   refresh token, which ends the session. Access tokens are not affected.
 */
export type RedisTokenStoreErrorCode =
  'ERR_REDIS_UNAVAILABLE' | 'ERR_REDIS_TIMEOUT' | 'ERR_REDIS_COMMAND' | 'ERR_REDIS_EVICTION_POLICY';

/**
 * Every code a {@link TokenflightError} can carry: the {@link TokenRequestErrorCode}s, the
 * {@link RedisTokenStoreErrorCode}s, plus
 *
 * - `ERR_BODY_NOT_REPLAYABLE`: the API answered 401 to a request whose body is a stream, which
 *   cannot be sent twice (pass `tokenAuth: { replayBody }` to replay it).
 * - `ERR_STORE_ENTRY_INVALID`: an entry read from the token store failed the checks a token
 *   response passes (token characters, token type, expiry). Reported in a `store-failed` event;
 *   the entry is dropped and a fresh token is fetched. A `BrowserTokenStore` rejects a read with it
 *   when an entry under its name is not one it wrote for that key (and leaves it for a write to
 *   replace).
 * - `ERR_HANDLE_CLOSED`: the handle of `createTokenFetch` (`tokenflight/fetch`) was closed (`auth.close()`): its
 *   `fetch` and `token` reject with it from then on, as do calls that were waiting for a token.
 * - `ERR_STORE_TAB_DUPLICATED`: a `BrowserTokenStore` on `sessionStorage` refused an entry this tab
 *   copied from another tab that is still open (a duplicated tab, or one opened with
 *   `window.open`): its refresh token belongs to that tab, and is never presented here. The tab
 *   signs in again (`auth.resumeSession`).
 */
export type TokenflightErrorCode =
  | TokenRequestErrorCode
  | RedisTokenStoreErrorCode
  | 'ERR_BODY_NOT_REPLAYABLE'
  | 'ERR_HANDLE_CLOSED'
  | 'ERR_STORE_ENTRY_INVALID'
  | 'ERR_STORE_TAB_DUPLICATED';

/** @ignore */
export interface TokenflightErrorOptions {
  code: TokenflightErrorCode;
  provider?: string | undefined;
  cause?: unknown;
}

function hasBrand(value: unknown): value is { name: unknown } {
  return typeof value === 'object' && value !== null && kBrand in value;
}

/**
 * The base class of every error tokenflight creates. Its message, `toJSON()` and `util.inspect`
 * output never contain a credential or a token.
 *
 * `instanceof` works across duplicate installs (an ESM and a CJS copy of tokenflight in one
 * process); prefer switching on `code`.
 *
 * @example
 * ```ts
 * try {
 *   await api.post('/upload', stream);
 * } catch (error) {
 *   if (error instanceof TokenflightError && error.code === 'ERR_BODY_NOT_REPLAYABLE') retryWithNewStream();
 *   else throw error;
 * }
 * ```
 */
export class TokenflightError extends Error {
  /** @ignore */
  static readonly errorName: string = 'TokenflightError';

  /** Recognises errors made by any copy of tokenflight (an ESM and a CJS copy in one process). */
  static override [Symbol.hasInstance](instance: unknown): boolean {
    if (!hasBrand(instance)) return false;
    return this === TokenflightError || instance.name === this.errorName;
  }

  override name = 'TokenflightError';
  /** What went wrong; see {@link TokenflightErrorCode}. */
  readonly code: TokenflightErrorCode;
  /** The name of the provider involved, when there is one. */
  readonly provider: string | undefined;

  /** @ignore */
  constructor(message: string, options: TokenflightErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.provider = options.provider;
  }

  /** @ignore */
  get [kBrand](): true {
    return true;
  }

  /** A plain object with the facts of the error and nothing secret. */
  toJSON(): Record<string, unknown> {
    return { name: this.name, message: this.message, code: this.code, provider: this.provider };
  }

  /** @ignore */
  [kInspect](): string {
    const facts = JSON.stringify(this.toJSON(), null, 2);
    return `${this.stack ?? `${this.name}: ${this.message}`}\n${facts}`;
  }
}

/** @ignore */
export interface TokenRequestErrorOptions {
  code: TokenRequestErrorCode;
  provider: string;
  url: string;
  status?: number | undefined;
  providerCode?: string | undefined;
  attempts: number;
  retryAfterMs?: number | undefined;
  cause?: unknown;
}

/**
 * What a request rejects with when its token could not be had.
 *
 * @example
 * ```ts
 * try {
 *   await api.get('/v1/conversations');
 * } catch (error) {
 *   if (isTokenRequestError(error) && error.code === 'ERR_TOKEN_CREDENTIALS') {
 *     console.error(`check the ${error.provider} credentials (${error.providerCode ?? error.status})`);
 *   }
 * }
 * ```
 */
export class TokenRequestError extends TokenflightError {
  /** @ignore */
  static override readonly errorName: string = 'TokenRequestError';

  override name = 'TokenRequestError';
  declare readonly code: TokenRequestErrorCode;
  declare readonly provider: string;
  /** HTTP status of the token endpoint's last answer, if it answered. */
  readonly status: number | undefined;
  /** The vendor's own error code: Marsview's `NJSCFE001`, an OAuth `error` such as `invalid_client`. */
  readonly providerCode: string | undefined;
  /** The token endpoint, without query string or user info; `custom:<name>` for a {@link customProvider}. */
  readonly url: string;
  /** How many token requests were sent (0 when none was, during a cool-down). */
  readonly attempts: number;
  /** How long the endpoint asked us to wait (`Retry-After`), in ms, if it did, at most `tokenRequest.maxRetryAfterMs`. */
  readonly retryAfterMs: number | undefined;

  /** @ignore */
  constructor(message: string, options: TokenRequestErrorOptions) {
    super(message, { code: options.code, provider: options.provider, cause: options.cause });
    this.status = options.status;
    this.providerCode = options.providerCode;
    this.url = options.url;
    this.attempts = options.attempts;
    this.retryAfterMs = options.retryAfterMs;
  }

  override toJSON(): Record<string, unknown> {
    return {
      ...super.toJSON(),
      status: this.status,
      providerCode: this.providerCode,
      url: this.url,
      attempts: this.attempts,
      retryAfterMs: this.retryAfterMs,
    };
  }
}

/**
 * True for every error tokenflight creates, whichever copy of tokenflight created it.
 *
 * @example
 * ```ts
 * api.interceptors.response.use(undefined, (error) => {
 *   if (isTokenflightError(error)) metrics.increment(`tokenflight.${error.code}`);
 *   throw error;
 * });
 * ```
 */
export function isTokenflightError(error: unknown): error is TokenflightError {
  return hasBrand(error);
}

/**
 * True for a {@link TokenRequestError}, whichever copy of tokenflight created it.
 *
 * @example
 * ```ts
 * const error = await api.get('/v1/conversations').catch((e: unknown) => e);
 * if (isTokenRequestError(error) && error.code === 'ERR_TOKEN_CREDENTIALS') rotateCredentials();
 * ```
 */
export function isTokenRequestError(error: unknown): error is TokenRequestError {
  return hasBrand(error) && error.name === TokenRequestError.errorName;
}

/**
 * A `TypeError` with a Node-style `code`, thrown when options are wrong. The message names the
 * option and what was received, never a received secret.
 */
export interface InvalidOptionError extends TypeError {
  /** `ERR_INVALID_ARG_TYPE`: the option has the wrong type (or is missing); `ERR_INVALID_ARG_VALUE`: the right type, a wrong value. */
  code: 'ERR_INVALID_ARG_TYPE' | 'ERR_INVALID_ARG_VALUE';
}

/** @internal */
export function invalidOption(
  message: string,
  code: InvalidOptionError['code'] = 'ERR_INVALID_ARG_VALUE',
): InvalidOptionError {
  return Object.assign(new TypeError(message), { code });
}
