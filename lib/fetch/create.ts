import { createTokenOperations, type Token } from '../core/handle.js';
import { createRuntime, type ProviderRuntime } from '../core/runtime.js';
import { TokenflightError } from '../shared/errors.js';
import { inBrowser } from '../shared/environment.js';
import { originsWithoutBase } from '../core/provider-origins.js';
import { createRouter } from '../core/routing.js';
import type { NonceSlot } from '../oauth/dpop-nonce.js';
import { fetchWithToken, type FetchBoundary } from './exchange.js';
import { fetchHttpClient } from './http-client.js';
import { CONTEXT, readFetchOptions, type TokenFetchOptions } from './options.js';
import type { TokenFetchInit } from './request.js';

/**
 * What {@link createTokenFetch} returns. Every member is a plain function: `auth.fetch` can be
 * handed on alone (`ky.create({ fetch: auth.fetch })`).
 */
export interface TokenFetch {
  /**
   * A `fetch`: same arguments (plus `tokenAuth` in the second), resolves to one `Response` whose
   * body the caller reads. Requests to a provider's origins carry its token; a 401 that rejects it
   * becomes one shared token request and one replay.
   */
  readonly fetch: (input: string | URL | Request, init?: TokenFetchInit) => Promise<Response>;
  /** The current token of provider `name` (the first provider by default), fetching one if needed. */
  readonly token: (name?: string) => Promise<Token>;
  /** Drops the cached token of provider `name`, or of every provider, here and in the store. */
  readonly invalidate: (name?: string) => Promise<void>;
  /**
   * Starts a new session for a `refreshTokenGrant` provider (`name`, or the first provider) with
   * `refreshToken`; as `TokenAuth.resumeSession` of `attachTokenAuth`.
   */
  readonly resumeSession: (refreshToken: string, name?: string) => Promise<void>;
  /**
   * Stops timers and abandons token requests in flight, at once; from then on `fetch`, `token` and
   * `resumeSession` reject with a `TokenflightError` of code `ERR_HANDLE_CLOSED`. Idempotent.
   */
  readonly close: () => void;
}

/**
 * Makes a `fetch` that attaches tokens: the same engine as `attachTokenAuth`, for fetch-based
 * clients (ky, ofetch, openapi-fetch, generated SDKs, the MCP SDK, plain `fetch`), with axios not
 * installed. Each request to one of a provider's origins (from the URL actually requested, a
 * `Request`'s included) leaves with that provider's token, written last; a 401 that rejects it is
 * replayed once with the same body; the token never follows a redirect to another origin (outside
 * browsers `auth.fetch` follows redirects itself, honouring `redirect`); the caller's `signal`
 * ends only its own wait. Token requests go through `tokenFetch` (or `fetch`), never through
 * `auth.fetch`.
 *
 * @param options - At least `providers`; see {@link TokenFetchOptions}.
 * @returns The handle: `fetch`, `token`, `invalidate`, `resumeSession`, `close`.
 * @throws {@link InvalidOptionError} when an option is wrong (an OAuth grant without `origins`
 * included), before any request is sent.
 *
 * @example
 * ```ts
 * const auth = createTokenFetch({
 *   providers: clientCredentials({ tokenUrl, clientId, clientSecret, origins: ['https://api.example.com'] }),
 * });
 * const res = await auth.fetch('https://api.example.com/v1/items');
 * const api = ky.create({ prefixUrl: 'https://api.example.com', fetch: auth.fetch });
 * auth.close();
 * ```
 */
export function createTokenFetch(options: TokenFetchOptions): TokenFetch {
  const settings = readFetchOptions(options);
  const { emit } = settings;
  // Every provider's origins first: a refused one must leave no token manager behind.
  const routes = settings.providers.map((provider) => ({ provider, origins: originsWithoutBase(provider, CONTEXT) }));
  const http = fetchHttpClient(settings.tokenFetch);
  const nonces: NonceSlot = {};
  const runtimes = new Map<string, ProviderRuntime>(
    routes.map(({ provider, origins }) => [provider.name, createRuntime(provider, origins, settings, http, nonces)]),
  );
  const router = createRouter([...runtimes.values()], (report) =>
    emit({ type: 'request-unrouted', provider: null, ...report }),
  );
  let closed: TokenflightError | undefined;
  const underneath = settings.fetch;
  const boundary: FetchBoundary = {
    router,
    policy: settings,
    emit,
    fetch: (input, init) => underneath(input, init),
    browserRedirects: inBrowser(),
    rejectedBodyTimeoutMs: settings.tokenRequest.timeoutMs,
    closed: () => closed,
  };
  const operations = createTokenOperations(runtimes);
  const open =
    <A extends unknown[], R>(run: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const ended = boundary.closed();
      if (ended !== undefined) throw ended;
      try {
        return await run(...args);
      } catch (error) {
        throw boundary.closed() ?? error;
      }
    };
  return {
    fetch: (input, init) => fetchWithToken(boundary, input, init),
    token: open(operations.token),
    invalidate: operations.invalidate,
    resumeSession: open(operations.resumeSession),
    close: () => {
      if (closed !== undefined) return;
      closed = new TokenflightError(
        `${CONTEXT}: this handle was closed (auth.close()); make another with createTokenFetch() to send requests with tokens`,
        { code: 'ERR_HANDLE_CLOSED' },
      );
      for (const runtime of runtimes.values()) runtime.manager.dispose();
      settings.ownStore?.clear();
    },
  };
}
