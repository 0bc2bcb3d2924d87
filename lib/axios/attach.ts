import type { AxiosInstance } from 'axios';
import { axiosHttpClient } from './http-client.js';
import { readAttachOptions, type TokenAuthOptions } from './options.js';
import { createBoundary, type TokenRuntime } from './boundary.js';
import { createTokenOperations, type Token } from '../core/handle.js';
import { createRuntime, type ProviderRuntime } from '../core/runtime.js';
import { originsOnInstance } from '../core/provider-origins.js';
import { createRouter } from '../core/routing.js';
import type { NonceSlot } from '../oauth/dpop-nonce.js';

export type { Token } from '../core/handle.js';

/**
 * What {@link attachTokenAuth} returns.
 *
 * @example
 * ```ts
 * const auth = attachTokenAuth(api, { providers: symbl({ appId, appSecret }) });
 * const { accessToken, expiresAt } = await auth.token(); // e.g. for a WebSocket URL
 * await auth.invalidate();                                // after rotating the app secret
 * auth.eject();                                           // on shutdown
 * ```
 */
export interface TokenAuth {
  /** The current token of provider `name` (the first provider by default), fetching one if needed. */
  token(name?: string): Promise<Token>;
  /** Drops the cached token of provider `name`, or of every provider, here and in the store. */
  invalidate(name?: string): Promise<void>;
  /**
   * Starts a new session for a {@link refreshTokenGrant} provider (`name`, or the first provider)
   * with `refreshToken` (the user signed in again): it replaces the one in the store, ended or
   * not, for every handle and process sharing the store, and the old session's access token is
   * dropped. Calls that failed with `ERR_TOKEN_SESSION_ENDED` succeed again from then on.
   * Rejects with an {@link InvalidOptionError} when the provider has no refresh token, or `refreshToken` is not a non-empty string.
   */
  resumeSession(refreshToken: string, name?: string): Promise<void>;
  /** Removes tokenflight's interceptor and abandons token requests in flight. Idempotent. */
  eject(): void;
}

const kAttached = Symbol.for('tokenflight.attached');

/**
 * Attaches tokenflight to an axios instance. Whatever interceptors the instance has, before or
 * after: each request bound for one of a provider's origins (decided from the URL it is finally
 * sent to) leaves with that provider's current token, and a 401 becomes one shared token request
 * and one replay that no other interceptor sees.
 *
 * Attaching again to the same instance replaces the previous attachment.
 *
 * An OAuth grant given no `origins` serves the origin of the instance's `baseURL` (as it is when
 * `attachTokenAuth` runs), or its token URL's origin when the instance has none. The first request
 * to an origin that no provider serves is reported: a `request-unrouted` event, and a warning
 * through `logger`.
 *
 * @param instance - The axios instance whose requests get tokens, made by `axios.create()`.
 * @param options - At least `providers`; see {@link TokenAuthOptions}.
 * @returns A handle to read or drop tokens and to detach.
 * @throws {@link InvalidOptionError} when an option is wrong, before any request is sent.
 *
 * @example
 * ```ts
 * const api = axios.create({ baseURL: 'https://api.symbl.ai' });
 * const auth = attachTokenAuth(api, {
 *   providers: symbl({ appId, appSecret }),
 *   refreshWindowMs: 60_000,
 * });
 * await api.get('/v1/conversations');             // Authorization: Bearer <token>
 * await api.get('/health', { tokenAuth: false }); // no token
 * auth.eject();
 * ```
 */
export function attachTokenAuth(instance: AxiosInstance, options: TokenAuthOptions): TokenAuth {
  const settings = readAttachOptions(instance, options);
  const { emit } = settings;
  // Every provider's origins first: a refused one must leave no token manager behind.
  const routes = settings.providers.map((provider) => ({
    provider,
    origins: originsOnInstance(provider, instance.defaults.baseURL, 'attachTokenAuth()'),
  }));
  const http = axiosHttpClient(settings.tokenClient);
  const nonces: NonceSlot = {};
  const runtimes = new Map<string, TokenRuntime & ProviderRuntime>(
    routes.map(({ provider, origins }) => [
      provider.name,
      { ...createRuntime(provider, origins, settings, http, nonces), sent: undefined },
    ]),
  );
  const router = createRouter([...runtimes.values()], (report) =>
    emit({ type: 'request-unrouted', provider: null, ...report }),
  );
  let ejected = false;
  const onRequest = createBoundary({ router, policy: settings, emit, isActive: () => !ejected });

  (instance as { [kAttached]?: TokenAuth })[kAttached]?.eject();
  const requestId = instance.interceptors.request.use(onRequest, undefined, { synchronous: true });

  const operations = createTokenOperations(runtimes);

  const handle: TokenAuth = {
    token: operations.token,
    invalidate: operations.invalidate,
    resumeSession: operations.resumeSession,
    eject() {
      if (ejected) return;
      ejected = true;
      instance.interceptors.request.eject(requestId);
      for (const runtime of runtimes.values()) runtime.manager.dispose();
      settings.ownStore?.clear();
      if ((instance as { [kAttached]?: TokenAuth })[kAttached] === handle) Reflect.deleteProperty(instance, kAttached);
    },
  };
  Object.defineProperty(instance, kAttached, { value: handle, enumerable: false, configurable: true, writable: true });
  return handle;
}
