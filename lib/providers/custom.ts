import { sha256Hex, waitWithAbort } from '../shared/async.js';
import { invalidOption, TokenRequestError, type TokenRequestErrorCode } from '../shared/errors.js';
import type { RefreshReason } from '../shared/events.js';
import { boundedExpiresAt, computeExpiresAt } from '../core/manager/expiry.js';
import type { StoredToken } from '../stores/store.js';
import { BEARER_TOKEN, TOKEN_TYPE, tooLong } from '../shared/token-check.js';
import type { FetchedToken, TokenSource } from '../core/manager/token-source.js';
import { describe, expectString, isPlainObject, optionalString } from '../shared/validate.js';
import { freezeProvider, readIdentity, readOptions, type ProviderOptions } from './define.js';
import type { SourceContext, TokenProvider } from './endpoint.js';

/** What {@link customProvider}'s `getToken` is given. */
export interface GetTokenContext {
  /** Aborts when the handle is ejected, or when `tokenRequest.timeoutMs` has passed: pass it on to your HTTP call. */
  signal: AbortSignal;
  /** Why a token is needed. */
  reason: RefreshReason;
}

/** What `getToken` may resolve to besides a plain token string. */
export interface CustomToken {
  /** The token. */
  accessToken: string;
  /** @default 'Bearer' */
  tokenType?: string;
  /** Lifetime in seconds, counted from when `getToken` was called. */
  expiresIn?: number;
  /** Expiry, in epoch ms; wins over `expiresIn`. Without either, a JWT's `exp` is used, else the token has no known expiry. */
  expiresAt?: number;
}

/** Options of {@link customProvider}. */
export interface CustomProviderOptions extends Omit<ProviderOptions, 'name' | 'origins'> {
  /** The provider's name; also the store key, with `cacheKey` (never the function). */
  name: string;
  /** Where its tokens may be sent, such as `['https://api.example.com']`. */
  origins: readonly string[];
  /** Gets a new token. What it throws reaches the caller as a `TokenRequestError` (`ERR_TOKEN_SOURCE_FAILED`) whose `cause` it is. */
  getToken: (context: GetTokenContext) => Promise<string | CustomToken> | string | CustomToken;
  /** Keeps two sources of one `name` apart in a shared store (one tenant each). @default none */
  cacheKey?: string;
}

const CONTEXT = 'customProvider()';
const KEYS = ['getToken', 'cacheKey'];

function fail(name: string, code: TokenRequestErrorCode, detail: string, cause?: unknown): TokenRequestError {
  return new TokenRequestError(`Could not get a token for provider "${name}": ${detail}`, {
    code,
    provider: name,
    url: `custom:${name}`,
    attempts: 1,
    cause,
  });
}

/** `getToken`'s answer as a token, or what is wrong with it (in words that never quote it). */
export function readCustomToken(value: unknown, sentAt: number, receivedAt: number): StoredToken | string {
  const given = typeof value === 'string' ? { accessToken: value } : value;
  if (!isPlainObject(given)) return 'getToken resolved to neither a string nor an object';
  const { accessToken, tokenType = 'Bearer', expiresIn, expiresAt } = given;
  if (typeof accessToken !== 'string' || accessToken === '') return 'its token is missing or empty';
  if (!BEARER_TOKEN.test(accessToken)) return 'its token has characters a bearer token cannot have';
  if (typeof tokenType !== 'string' || !TOKEN_TYPE.test(tokenType)) return 'its `tokenType` is not a valid scheme name';
  const isTime = (n: unknown): n is number | undefined =>
    n === undefined || (typeof n === 'number' && Number.isFinite(n) && n >= 0);
  if (!isTime(expiresIn)) return 'its `expiresIn` is not a non-negative number of seconds';
  if (!isTime(expiresAt)) return 'its `expiresAt` is not a finite epoch time in ms';
  const at =
    expiresAt !== undefined
      ? boundedExpiresAt(expiresAt, sentAt)
      : computeExpiresAt({
          expiresInMs: expiresIn === undefined || expiresIn === 0 ? undefined : expiresIn * 1000,
          accessToken,
          sentAt,
          receivedAt,
          serverDateMs: undefined,
          defaultLifetimeMs: undefined,
        });
  if (at !== null && at <= receivedAt) return 'its token had already expired';
  const type = tokenType.toLowerCase() === 'bearer' ? 'Bearer' : tokenType;
  return { accessToken, tokenType: type, expiresAt: at, obtainedAt: sentAt };
}

/** The token string in `getToken`'s answer, if there is one. */
function tokenOf(value: unknown): string | undefined {
  const token = isPlainObject(value) ? value['accessToken'] : value;
  return typeof token === 'string' ? token : undefined;
}

/** `getToken`'s answer as a fetched token; what is wrong with it as a `TokenRequestError` (never quoting it). */
function readAnswer(name: string, value: unknown, sentAt: number, receivedAt: number): FetchedToken {
  const length = tooLong(tokenOf(value) ?? '');
  if (length !== undefined) throw fail(name, 'ERR_TOKEN_TOO_LARGE', `the token getToken resolved to ${length}`);
  const token = readCustomToken(value, sentAt, receivedAt);
  if (typeof token === 'string') throw fail(name, 'ERR_TOKEN_MALFORMED', `getToken's answer is unusable: ${token}`);
  return { token, attempts: 1 };
}

/**
 * One call of `getToken`, ended by the handle's signal or the time limit even if `getToken` ignores
 * them (the wait is the one helper every wait uses: `waitWithAbort`); either also aborts the signal
 * `getToken` was given.
 */
function callGetToken(
  name: string,
  getToken: CustomProviderOptions['getToken'],
  context: SourceContext,
  call: { signal: AbortSignal; reason: RefreshReason },
): Promise<FetchedToken> {
  const controller = new AbortController();
  const timeoutMs = context.settings.timeoutMs;
  const run = (): Promise<FetchedToken> => {
    const sentAt = context.now();
    return Promise.resolve()
      .then(() => getToken({ signal: controller.signal, reason: call.reason }))
      .then(
        (value) => readAnswer(name, value, sentAt, context.now()),
        (error: unknown) => {
          throw fail(name, 'ERR_TOKEN_SOURCE_FAILED', 'getToken threw (see `cause`)', error);
        },
      );
  };
  return waitWithAbort(run, {
    signal: call.signal,
    timeoutMs,
    onAbort: () => {
      controller.abort(call.signal.reason);
      return fail(name, 'ERR_TOKEN_ABORTED', 'getToken was abandoned (the handle was ejected)');
    },
    onTimeout: () => {
      controller.abort(new Error('tokenflight: getToken took too long'));
      return fail(name, 'ERR_TOKEN_TIMEOUT', `getToken did not settle within ${timeoutMs} ms`);
    },
  });
}

/**
 * Any token source, as a function: google-auth-library, `@azure/identity`, an AWS SDK call, a signed
 * request, a secrets manager. Every rule applies to it as to a built-in provider: one call at a
 * time (one per fleet with a shared store), the refresh window, the stale-401 rule, stores keyed by
 * `name` and `cacheKey`, events, `auth.token()`. `getToken` gets a `signal` that aborts on eject
 * and after `tokenRequest.timeoutMs`; tokenflight does not retry it.
 *
 * @example
 * ```ts
 * import { GoogleAuth } from 'google-auth-library';
 * const client = await new GoogleAuth({ scopes: 'https://www.googleapis.com/auth/cloud-platform' }).getClient();
 * attachTokenAuth(api, {
 *   providers: customProvider({
 *     name: 'google',
 *     origins: ['https://storage.googleapis.com'],
 *     getToken: async () => {
 *       const { token } = await client.getAccessToken();
 *       return { accessToken: token ?? '', expiresAt: client.credentials.expiry_date ?? undefined };
 *     },
 *   }),
 * });
 * ```
 */
export function customProvider(options: CustomProviderOptions): TokenProvider {
  const given = readOptions(options, CONTEXT, KEYS);
  expectString(given['name'], 'name', CONTEXT);
  if (typeof given['getToken'] !== 'function') {
    throw invalidOption(
      `${CONTEXT}: expected \`getToken\` to be a function, got ${describe(given['getToken'])}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  const getToken = given['getToken'] as CustomProviderOptions['getToken'];
  const cacheKey = optionalString(given['cacheKey'], 'cacheKey', CONTEXT);
  const identity = readIdentity(given, CONTEXT, { name: '', origin: undefined });
  const key = sha256Hex(JSON.stringify(['tokenflight/v1', 'custom', identity.name, cacheKey ?? null]));
  const create = (context: SourceContext): TokenSource => ({
    name: identity.name,
    key,
    fetch: (signal, reason) => callGetToken(identity.name, getToken, context, { signal, reason }),
  });
  return freezeProvider({ ...identity, tokenUrl: `custom:${identity.name}` }, { rotating: false, create });
}
