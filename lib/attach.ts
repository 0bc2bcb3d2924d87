import type { AxiosInstance } from 'axios';
import { readAttachOptions, type AttachSettings, type TokenAuthOptions } from './attach-options.js';
import { createBoundary, type TokenRuntime } from './boundary.js';
import { invalidOption } from './errors.js';
import { originsOnInstance } from './provider-origins.js';
import { kSource, type TokenProvider } from './providers/endpoint.js';
import { createRouter } from './routing.js';
import { expectRefreshToken } from './validate.js';
import { createTokenManager } from './token-manager.js';

/** A token, as `auth.token()` returns it. */
export interface Token {
  /** The token itself, as the provider issued it. */
  readonly accessToken: string;
  /** `Bearer`, unless the provider says otherwise. */
  readonly tokenType: string;
  /** Epoch ms, or `null` when unknown. */
  readonly expiresAt: number | null;
}

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

function createRuntime(
  provider: TokenProvider,
  origins: readonly string[],
  settings: AttachSettings,
): TokenRuntime & { rotating: boolean } {
  const { emit, tokenRequest } = settings;
  const source = provider[kSource].create({
    http: settings.tokenClient,
    settings: tokenRequest,
    now: Date.now,
    random: Math.random,
    onRetry: (retry) => emit({ type: 'token-retry', provider: provider.name, ...retry }),
  });
  const manager = createTokenManager({
    source,
    store: settings.store,
    now: Date.now,
    random: Math.random,
    refreshWindowMs: settings.refreshWindowMs,
    expiryMarginMs: settings.expiryMarginMs,
    backgroundRetryMs: settings.backgroundRetryMs,
    cooldownMs: tokenRequest.cooldownMs,
    storeTimeoutMs: settings.storeTimeoutMs,
    lockTtlMs: settings.lockTtlMs,
    emit,
  });
  return {
    name: provider.name,
    origins,
    manager,
    sent: undefined,
    rotating: source.rotation !== undefined,
  };
}

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
  const runtimes = new Map(
    routes.map(({ provider, origins }) => [provider.name, createRuntime(provider, origins, settings)]),
  );
  const router = createRouter([...runtimes.values()], (report) =>
    emit({ type: 'request-unrouted', provider: null, ...report }),
  );
  let ejected = false;
  const onRequest = createBoundary({ router, policy: settings, emit, isActive: () => !ejected });

  (instance as { [kAttached]?: TokenAuth })[kAttached]?.eject();
  const requestId = instance.interceptors.request.use(onRequest, undefined, { synchronous: true });

  const pick = (name: string | undefined): TokenRuntime & { rotating: boolean } => {
    const runtime = runtimes.get(name ?? settings.providers[0]?.name ?? '');
    if (runtime === undefined) {
      throw invalidOption(
        `no provider named "${String(name)}" is attached (attached: ${[...runtimes.keys()].join(', ')})`,
      );
    }
    return runtime;
  };

  const handle: TokenAuth = {
    async token(name) {
      const { token } = await pick(name).manager.get();
      return { accessToken: token.accessToken, tokenType: token.tokenType, expiresAt: token.expiresAt };
    },
    async invalidate(name) {
      const targets = name === undefined ? [...runtimes.values()] : [pick(name)];
      await Promise.all(targets.map((runtime) => runtime.manager.invalidate()));
    },
    async resumeSession(refreshToken, name) {
      const runtime = pick(name);
      if (!runtime.rotating) {
        throw invalidOption(
          `resumeSession(): provider "${runtime.name}" does not use a refresh token (refreshTokenGrant())`,
        );
      }
      await runtime.manager.resume(expectRefreshToken(refreshToken, 'resumeSession()'));
    },
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
