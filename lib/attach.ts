import axios, {
  AxiosError,
  CanceledError,
  isAxiosError,
  type AxiosHeaders,
  type AxiosInstance,
  type AxiosResponse,
  type InternalAxiosRequestConfig,
} from 'axios';
import { unrefTimer } from './async.js';
import { DEFAULTS } from './defaults.js';
import { invalidOption, TokenflightError } from './errors.js';
import type { TokenAuthEvent } from './events.js';
import { headerText } from './headers.js';
import { createEventLogger, type TokenAuthLogger } from './logger.js';
import { endpointKey, kEndpoint, type TokenProvider } from './providers/endpoint.js';
import { requestToken, type TokenRequestSettings } from './providers/token-request/index.js';
import { maskToken } from './redact.js';
import { createOriginResolver, displayTarget } from './routing.js';
import type { TokenStore } from './store.js';
import { MemoryTokenStore } from './stores/memory.js';
import { createTokenManager, type CurrentToken, type TokenManager } from './token-manager.js';
import { checkFunction, describe, expectKnownKeys, expectNumber, expectOptions } from './validate.js';

/**
 * Per-request options, under the `tokenAuth` key of an axios request config (`tokenAuth: false`
 * sends the request without a token).
 *
 * @example
 * ```ts
 * await api.get('/health', { tokenAuth: false });
 * await api.get('/v1/reports', { tokenAuth: { provider: 'symbl-eu' } });
 * await api.post('/upload', createReadStream(file), { tokenAuth: { replayBody: () => createReadStream(file) } });
 * ```
 */
export interface TokenAuthRequestOptions {
  /**
   * Use this provider's token, when several providers serve the request's origin. The request
   * is refused if that provider does not list the origin.
   */
  provider?: string;
  /**
   * Makes a fresh body for the replay after a 401, for bodies that cannot be sent twice
   * (streams). Without it, such a request fails with `ERR_BODY_NOT_REPLAYABLE` instead.
   */
  replayBody?: () => unknown;
}

declare module 'axios' {
  interface AxiosRequestConfig {
    /** tokenflight: `false` sends this request without a token; an object picks a provider or a replay body. */
    tokenAuth?: false | TokenAuthRequestOptions;
  }
}

/** A token, as `auth.token()` returns it. */
export interface Token {
  /** The token itself, as the provider issued it. */
  readonly accessToken: string;
  /** `Bearer`, unless the provider says otherwise. */
  readonly tokenType: string;
  /** Epoch ms, or `null` when unknown. */
  readonly expiresAt: number | null;
}

/** What `isTokenRejected` is asked about. */
export interface RejectionContext {
  /** The provider whose token the request carried. */
  provider: string;
  /** The API's HTTP status, one of `unauthorizedStatuses`. */
  status: number;
  /** The `WWW-Authenticate` header, if any. */
  challenge: string | undefined;
  /** The response body. */
  data: unknown;
}

/**
 * Limits of token requests, the `tokenRequest` option of {@link attachTokenAuth}. Every field is
 * optional; see `DEFAULTS.tokenRequest`.
 *
 * @example
 * ```ts
 * attachTokenAuth(api, { providers, tokenRequest: { timeoutMs: 3_000, retries: 1 } });
 * ```
 */
export interface TokenRequestOptions extends TokenRequestSettings {
  /** After a refusal that retrying cannot fix, fail fast for this long without a request, in ms. @default 5_000 */
  cooldownMs: number;
}

/**
 * Options of {@link attachTokenAuth}. Only `providers` is required; every default is in {@link DEFAULTS}.
 *
 * @example
 * ```ts
 * attachTokenAuth(api, {
 *   providers: [symbl({ appId, appSecret }), marsview({ userId, apiKey, apiSecret })],
 *   store: new MemoryTokenStore(),
 *   refreshWindowMs: 120_000,
 *   tokenRequest: { timeoutMs: 5_000 },
 *   logger: pino(),
 * });
 * ```
 */
export interface TokenAuthOptions {
  /** One provider or several; each serves the origins it lists. */
  providers: TokenProvider | readonly TokenProvider[];
  /**
   * Where tokens are cached. Pass one store to several instances (or a `RedisTokenStore` to
   * several processes) to share tokens and token requests.
   * @default new MemoryTokenStore()
   */
  store?: TokenStore;
  /**
   * Refresh this long before expiry, in the background, while the current token stays in use.
   * Scaled down to half the lifetime for short-lived tokens.
   * @default 60_000
   */
  refreshWindowMs?: number;
  /** A token counts as expired this long before `expiresAt` (at most 10% of its lifetime). @default 5_000 */
  expiryMarginMs?: number;
  /** After a failed background refresh, wait this long before the next one. @default 5_000 */
  backgroundRetryMs?: number;
  /** API statuses that can mean "token rejected". @default [401] */
  unauthorizedStatuses?: readonly number[];
  /**
   * Decides whether a response with one of `unauthorizedStatuses` means the token was rejected
   * (then: refresh and replay once). By default: yes when there is no `WWW-Authenticate` header or
   * it is a Bearer challenge with no error or `error="invalid_token"`; no for `insufficient_scope`,
   * `invalid_request` or another scheme.
   */
  isTokenRejected?: (context: RejectionContext) => boolean;
  /** Limits of token requests. */
  tokenRequest?: Partial<TokenRequestOptions>;
  /** How long one call to the store may take before tokenflight carries on without it. @default 1_000 */
  storeTimeoutMs?: number;
  /**
   * The axios instance token requests go through. It must not be the instance tokenflight is
   * attached to. Give one to set a proxy or an agent, or to mock the token endpoint in tests.
   * @default axios.create()
   */
  tokenClient?: AxiosInstance;
  /** Receives {@link TokenAuthEvent}s. It must not throw; if it does, the error is ignored. */
  onEvent?: (event: TokenAuthEvent) => void;
  /**
   * Writes every {@link TokenAuthEvent} as one line to a pino- or console-like logger, at a level
   * that suits it; see {@link TokenAuthLogger}. Works alongside `onEvent`.
   */
  logger?: TokenAuthLogger;
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
  /** Removes both interceptors and abandons token requests in flight. Idempotent. */
  eject(): void;
}

/**
 * What tokenflight puts under `config.tokenAuth` once it has attached a token: which provider and
 * which token (by generation). It holds no token value in any visible field.
 */
class SentToken implements TokenAuthRequestOptions {
  readonly #current: CurrentToken;
  readonly provider: string;
  readonly replayed: boolean;
  readonly replayBody?: () => unknown;

  constructor(provider: string, current: CurrentToken, replayed: boolean, replayBody: (() => unknown) | undefined) {
    this.#current = current;
    this.provider = provider;
    this.replayed = replayed;
    if (replayBody !== undefined) this.replayBody = replayBody;
  }

  get generation(): number {
    return this.#current.generation;
  }

  get accessToken(): string {
    return this.#current.token.accessToken;
  }

  get fingerprint(): string {
    return this.#current.fingerprint;
  }

  toJSON(): Record<string, unknown> {
    return { provider: this.provider, replayed: this.replayed };
  }
}

interface Runtime {
  readonly provider: TokenProvider;
  readonly manager: TokenManager;
  /** The state shared by every first attempt that carries the current token. */
  sent: SentToken | undefined;
}

const kAttached = Symbol.for('tokenflight.attached');
const TOKEN_AUTH_KEYS = [
  'providers',
  'store',
  'refreshWindowMs',
  'expiryMarginMs',
  'backgroundRetryMs',
  'unauthorizedStatuses',
  'isTokenRejected',
  'tokenRequest',
  'storeTimeoutMs',
  'tokenClient',
  'onEvent',
  'logger',
];
const TOKEN_REQUEST_KEYS = Object.keys(DEFAULTS.tokenRequest);

function readProviders(value: unknown): TokenProvider[] {
  const list: unknown[] = Array.isArray(value) ? value : [value];
  if (list.length === 0)
    throw invalidOption('attachTokenAuth(): expected `providers` to hold at least one provider, got an empty array');
  const names = new Set<string>();
  return list.map((provider, index) => {
    if (typeof provider !== 'object' || provider === null || !(kEndpoint in provider)) {
      const where = Array.isArray(value) ? `providers[${index}]` : 'providers';
      throw invalidOption(
        `attachTokenAuth(): expected \`${where}\` to be made by symbl(), marsview(), singleView(), clientCredentials() or jsonProvider(), got ${describe(provider)}`,
        'ERR_INVALID_ARG_TYPE',
      );
    }
    const { name } = provider as TokenProvider;
    if (names.has(name)) {
      throw invalidOption(`attachTokenAuth(): two providers are named "${name}"; give one of them another \`name\``);
    }
    names.add(name);
    return provider as TokenProvider;
  });
}

function readTokenRequest(value: unknown): TokenRequestOptions {
  const context = 'attachTokenAuth()';
  if (value === undefined) return { ...DEFAULTS.tokenRequest };
  const given = expectOptions(value, `${context} \`tokenRequest\``);
  expectKnownKeys(given, TOKEN_REQUEST_KEYS, `${context} \`tokenRequest\``);
  const read = (key: keyof TokenRequestOptions, min: number, integer = false): number =>
    expectNumber(given[key], `tokenRequest.${key}`, context, { min, integer }) ?? DEFAULTS.tokenRequest[key];
  return {
    timeoutMs: read('timeoutMs', 1),
    retries: read('retries', 0, true),
    minDelayMs: read('minDelayMs', 0),
    maxDelayMs: read('maxDelayMs', 0),
    maxRetryAfterMs: read('maxRetryAfterMs', 0),
    maxBodyBytes: read('maxBodyBytes', 1, true),
    cooldownMs: read('cooldownMs', 0),
  };
}

function challengeAllowsRefresh(challenge: string | undefined): boolean {
  if (challenge === undefined || challenge.trim() === '') return true;
  const bearer = /(?:^|[\s,])bearer(?:\s+|$)(.*)$/is.exec(challenge);
  if (bearer === null) return false;
  const error = /(?:^|[\s,])error\s*=\s*"?([^",\s]*)"?/i.exec(bearer[1] ?? '');
  return error === null || error[1] === 'invalid_token';
}

/** Rule 8: what can be sent twice. Streams and async iterables are read once. */
function isReplayable(data: unknown): boolean {
  if (typeof data !== 'object' || data === null) return true;
  if (ArrayBuffer.isView(data) || data instanceof ArrayBuffer) return true;
  if (typeof (data as { pipe?: unknown }).pipe === 'function') return false;
  if (typeof ReadableStream !== 'undefined' && data instanceof ReadableStream) return false;
  return !(Symbol.asyncIterator in data);
}

/**
 * Attaches tokenflight to an axios instance: a request interceptor that puts the right
 * provider's token on each request bound for one of its origins, and a response interceptor that
 * turns a 401 into one shared token request and one replay.
 *
 * Attaching again to the same instance replaces the previous attachment.
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
  const context = 'attachTokenAuth()';
  if (!isAxiosInstance(instance)) {
    throw invalidOption(`${context}: expected an axios instance, got ${describe(instance)}`, 'ERR_INVALID_ARG_TYPE');
  }
  const given = expectOptions(options, context);
  expectKnownKeys(given, TOKEN_AUTH_KEYS, context);
  const providers = readProviders(options.providers);
  const store = options.store ?? new MemoryTokenStore();
  if (!isTokenStore(store)) {
    throw invalidOption(
      `${context}: expected \`store\` to have get, set and delete methods, got ${describe(store)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  const settings = readTokenRequest(options.tokenRequest);
  const number = (key: string, fallback: number): number => expectNumber(given[key], key, context) ?? fallback;
  const refreshWindowMs = number('refreshWindowMs', DEFAULTS.refreshWindowMs);
  const expiryMarginMs = number('expiryMarginMs', DEFAULTS.expiryMarginMs);
  const backgroundRetryMs = number('backgroundRetryMs', DEFAULTS.backgroundRetryMs);
  const storeTimeoutMs = number('storeTimeoutMs', DEFAULTS.storeTimeoutMs);
  const statuses: unknown = options.unauthorizedStatuses ?? DEFAULTS.unauthorizedStatuses;
  if (
    !Array.isArray(statuses) ||
    !statuses.every((status) => Number.isInteger(status) && (status as number) >= 400 && (status as number) < 600)
  ) {
    throw invalidOption(
      `${context}: expected \`unauthorizedStatuses\` to be an array of HTTP error statuses, got ${describe(statuses)}`,
    );
  }
  const unauthorizedStatuses = new Set<unknown>(statuses);
  checkFunction(options.isTokenRejected, 'isTokenRejected', context);
  checkFunction(options.onEvent, 'onEvent', context);
  const { isTokenRejected, onEvent } = options;
  const log = createEventLogger(options.logger, context);
  if (options.tokenClient !== undefined && !isAxiosInstance(options.tokenClient)) {
    throw invalidOption(
      `${context}: expected \`tokenClient\` to be an axios instance, got ${describe(options.tokenClient)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  const tokenClient = options.tokenClient ?? axios.create();
  if (tokenClient === instance) {
    throw invalidOption(
      `${context}: \`tokenClient\` must not be the instance tokenflight is attached to: its token requests would go through tokenflight`,
    );
  }

  const emit = (event: TokenAuthEvent): void => {
    try {
      onEvent?.(event);
    } catch {
      // A listener's failure must never break a request.
    }
    log?.(event);
  };
  // Long Retry-After waits aside, this is as long as one flight can take; the store lock lasts as long.
  const lockTtlMs = (settings.retries + 1) * settings.timeoutMs + settings.retries * settings.maxDelayMs + 1_000;

  const runtimes = new Map<string, Runtime>();
  const byOrigin = new Map<string, Runtime[]>();
  for (const provider of providers) {
    const endpoint = provider[kEndpoint];
    const manager = createTokenManager({
      source: {
        name: provider.name,
        key: endpointKey(endpoint),
        fetch: (signal) =>
          requestToken(provider.name, endpoint, {
            http: tokenClient,
            settings,
            signal,
            now: Date.now,
            random: Math.random,
            onRetry: (retry) => emit({ type: 'token-retry', provider: provider.name, ...retry }),
          }),
      },
      store,
      now: Date.now,
      random: Math.random,
      refreshWindowMs,
      expiryMarginMs,
      backgroundRetryMs,
      cooldownMs: settings.cooldownMs,
      storeTimeoutMs,
      lockTtlMs,
      emit,
    });
    const runtime: Runtime = { provider, manager, sent: undefined };
    runtimes.set(provider.name, runtime);
    for (const origin of provider.origins) {
      const list = byOrigin.get(origin) ?? [];
      list.push(runtime);
      byOrigin.set(origin, list);
    }
  }

  const resolveOrigin = createOriginResolver();

  function route(config: InternalAxiosRequestConfig, requested: string | undefined): Runtime | undefined {
    const origin = resolveOrigin(config);
    const candidates = origin === undefined ? undefined : byOrigin.get(origin);
    if (requested === undefined) return candidates?.[0];
    const runtime = runtimes.get(requested);
    if (runtime === undefined) {
      throw invalidOption(
        `tokenAuth.provider: no provider named "${requested}" is attached (attached: ${[...runtimes.keys()].join(', ')})`,
      );
    }
    if (candidates?.includes(runtime) !== true) {
      throw invalidOption(
        `tokenAuth.provider: provider "${requested}" does not serve ${origin ?? 'this URL'} (its origins: ${runtime.provider.origins.join(', ')})`,
      );
    }
    return runtime;
  }

  // Rule 1 for redirects: whatever the transport does, the token never follows a change of origin.
  const stripOnCrossOrigin = (
    redirect: Record<string, unknown>,
    _response?: unknown,
    request?: { url?: string },
  ): void => {
    const headers = redirect['headers'];
    if (isSameOrigin(redirect['href'], request?.url) || typeof headers !== 'object' || headers === null) return;
    for (const key of Object.keys(headers)) {
      if (key.toLowerCase() === 'authorization') Reflect.deleteProperty(headers, key);
    }
  };
  const guards = new WeakSet<object>([stripOnCrossOrigin]);

  function guardRedirects(config: InternalAxiosRequestConfig): void {
    const existing = config.beforeRedirect;
    if (existing === undefined) {
      config.beforeRedirect = stripOnCrossOrigin;
    } else if (!guards.has(existing)) {
      const chained: typeof stripOnCrossOrigin = (redirect, response, request) => {
        stripOnCrossOrigin(redirect, response, request);
        (existing as (...args: unknown[]) => void)(redirect, response, request);
      };
      guards.add(chained);
      config.beforeRedirect = chained as NonNullable<InternalAxiosRequestConfig['beforeRedirect']>;
    }
  }

  function authorize(
    config: InternalAxiosRequestConfig,
    runtime: Runtime,
    current: CurrentToken,
    option: TokenAuthRequestOptions | undefined,
  ): InternalAxiosRequestConfig {
    setAuthorization(config.headers, current.header);
    if (option === undefined) {
      let sent = runtime.sent;
      if (sent?.generation !== current.generation)
        sent = runtime.sent = new SentToken(runtime.provider.name, current, false, undefined);
      config.tokenAuth = sent;
    } else {
      const replayed = option instanceof SentToken && option.replayed;
      config.tokenAuth = new SentToken(runtime.provider.name, current, replayed, option.replayBody);
    }
    guardRedirects(config);
    return config;
  }

  /** Waits for the shared token, but a caller's abort or timeout ends only this caller's wait. */
  function waitFor<T>(start: () => Promise<T>, config: InternalAxiosRequestConfig): Promise<T> {
    const { signal, cancelToken } = config;
    if (signal?.aborted === true) return Promise.reject(new CanceledError(undefined, config));
    const pending = start();
    const timeoutMs = typeof config.timeout === 'number' && config.timeout > 0 ? config.timeout : 0;
    if (signal === undefined && cancelToken === undefined && timeoutMs === 0) return pending;
    return new Promise<T>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = (): void => finish(() => reject(new CanceledError(undefined, config)));
      const finish = (settle: () => void): void => {
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener?.('abort', onAbort);
        cancelToken?.unsubscribe(onCancel);
        settle();
      };
      const onCancel = (reason: unknown): void => finish(() => reject(reason));
      // Observe the shared promise first: whatever this caller does, its outcome is never left unhandled.
      pending.then(
        (value) => finish(() => resolve(value)),
        (error: unknown) => finish(() => reject(error)),
      );
      if (signal?.aborted === true) {
        onAbort();
        return;
      }
      signal?.addEventListener?.('abort', onAbort);
      cancelToken?.subscribe(onCancel);
      if (timeoutMs > 0) {
        const code = config.transitional?.clarifyTimeoutError === true ? AxiosError.ETIMEDOUT : AxiosError.ECONNABORTED;
        timer = unrefTimer(
          () =>
            finish(() =>
              reject(new AxiosError(`timeout of ${timeoutMs}ms exceeded while waiting for a token`, code, config)),
            ),
          timeoutMs,
        );
      }
    });
  }

  /**
   * axios runs request interceptors without a single promise hop when every one that applies to a
   * request is `synchronous`. So there are two: a synchronous one for requests whose token is
   * ready (the hot path: no extra microtask), and an asynchronous one for requests that must wait.
   * axios asks both `runWhen`s about a request one after the other, so the decision is made once.
   */
  let decidedFor: InternalAxiosRequestConfig | undefined;
  let decidedRuntime: Runtime | undefined;
  let decidedToken: CurrentToken | undefined;

  function decide(config: InternalAxiosRequestConfig): void {
    if (decidedFor === config) return;
    const option = config.tokenAuth;
    decidedRuntime = option === false ? undefined : route(config, option?.provider);
    decidedToken = decidedRuntime?.manager.peek();
    decidedFor = config;
  }

  const onRequest = (
    config: InternalAxiosRequestConfig,
  ): InternalAxiosRequestConfig | Promise<InternalAxiosRequestConfig> => {
    decide(config);
    const runtime = decidedRuntime;
    // The token runWhen saw a moment ago is still good: the expiry margin covers the gap.
    const current = decidedToken;
    decidedFor = decidedRuntime = decidedToken = undefined;
    const option = config.tokenAuth;
    if (runtime === undefined || option === false) return config;
    if (current !== undefined) return authorize(config, runtime, current, option);
    return waitFor(() => runtime.manager.get(), config).then((token) => authorize(config, runtime, token, option));
  };

  const onResponseError = async (error: unknown): Promise<AxiosResponse> => {
    if (!isAxiosError(error) || error.config === undefined) throw error;
    const sent = error.config.tokenAuth;
    if (!(sent instanceof SentToken)) throw error;
    maskToken(error, sent.accessToken);
    const runtime = runtimes.get(sent.provider);
    const response = error.response;
    if (runtime === undefined || sent.replayed || response === undefined || !unauthorizedStatuses.has(response.status))
      throw error;
    // After a redirect to another origin, the 401 is that origin's business, not a verdict on our token.
    const answeredBy = finalOrigin(response);
    if (answeredBy !== undefined && answeredBy !== resolveOrigin(error.config)) throw error;
    const challenge = headerText(response.headers, 'www-authenticate');
    const rejected = isTokenRejected
      ? isTokenRejected({ provider: sent.provider, status: response.status, challenge, data: response.data })
      : challengeAllowsRefresh(challenge);
    if (!rejected) throw error;

    const config = error.config;
    if (sent.replayBody === undefined && !isReplayable(config.data)) {
      // The token is still refreshed, so the next request succeeds; this one cannot be sent again.
      runtime.manager.rejected(sent.generation).catch(() => undefined);
      throw new TokenflightError(
        `The API answered ${response.status} to a ${String(config.method).toUpperCase()} request whose body is a stream, which cannot be sent twice. ` +
          'The token has been refreshed for the next requests; pass `tokenAuth: { replayBody: () => newStream }` to replay such requests',
        { code: 'ERR_BODY_NOT_REPLAYABLE', provider: sent.provider, cause: error },
      );
    }

    const { current, stale } = await waitFor(() => runtime.manager.rejected(sent.generation), config);
    emit({
      type: 'request-replayed',
      provider: sent.provider,
      fingerprint: current.fingerprint,
      method: String(config.method).toUpperCase(),
      url: displayTarget(config),
      stale,
    });
    const replay: InternalAxiosRequestConfig = {
      ...config,
      tokenAuth: new SentToken(sent.provider, current, true, sent.replayBody),
    };
    if (sent.replayBody === undefined) {
      // The body was serialised by the first attempt; send those exact bytes again.
      replay.transformRequest = [(data: unknown) => data];
    } else {
      replay.data = sent.replayBody();
    }
    return instance.request(replay);
  };

  const previous = (instance as { [kAttached]?: TokenAuth })[kAttached];
  previous?.eject();

  const requestIds = [
    instance.interceptors.request.use(onRequest, undefined, {
      synchronous: false,
      runWhen: (config) => {
        decide(config);
        return decidedRuntime !== undefined && decidedToken === undefined;
      },
    }),
    instance.interceptors.request.use(onRequest, undefined, {
      synchronous: true,
      runWhen: (config) => {
        decide(config);
        return decidedRuntime !== undefined && decidedToken !== undefined;
      },
    }),
  ];
  const responseId = instance.interceptors.response.use(undefined, onResponseError);
  let ejected = false;

  const pick = (name: string | undefined): Runtime => {
    const runtime = runtimes.get(name ?? providers[0]?.name ?? '');
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
    eject() {
      if (ejected) return;
      ejected = true;
      for (const id of requestIds) instance.interceptors.request.eject(id);
      instance.interceptors.response.eject(responseId);
      for (const runtime of runtimes.values()) runtime.manager.dispose();
      if ((instance as { [kAttached]?: TokenAuth })[kAttached] === handle) {
        Reflect.deleteProperty(instance, kAttached);
      }
    },
  };
  Object.defineProperty(instance, kAttached, { value: handle, enumerable: false, configurable: true, writable: true });
  return handle;
}

/**
 * Writes the Authorization header. `AxiosHeaders.set()` validates and normalises on every call,
 * which costs more than the rest of tokenflight's hot path together; the value here is already
 * known to be safe (a validated scheme and a token of RFC 6750 b64token characters), so the slot
 * is written directly, reusing an existing `authorization` key in whatever case it was given so
 * the header is never sent twice.
 */
function setAuthorization(headers: AxiosHeaders, value: string): void {
  let slot = 'Authorization';
  for (const key in headers) {
    if (key.length === 13 && key !== slot && key.toLowerCase() === 'authorization') {
      slot = key;
      break;
    }
  }
  headers[slot] = value;
}

/** The origin that finally answered, when the transport followed redirects and says so. */
function finalOrigin(response: AxiosResponse): string | undefined {
  const request = response.request as { res?: { responseUrl?: unknown }; responseURL?: unknown } | undefined;
  const url = request?.res?.responseUrl ?? request?.responseURL;
  if (typeof url !== 'string' || url === '') return undefined;
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

function isSameOrigin(next: unknown, previous: string | undefined): boolean {
  if (typeof next !== 'string' || previous === undefined) return false;
  try {
    return new URL(next).origin === new URL(previous).origin;
  } catch {
    return false;
  }
}

function isAxiosInstance(value: unknown): value is AxiosInstance {
  const interceptors = (value as { interceptors?: { request?: { use?: unknown } } } | null | undefined)?.interceptors;
  return typeof value === 'function' && typeof interceptors?.request?.use === 'function';
}

function isTokenStore(value: unknown): value is TokenStore {
  if (typeof value !== 'object' || value === null) return false;
  const store = value as Record<string, unknown>;
  return (
    typeof store['get'] === 'function' &&
    typeof store['set'] === 'function' &&
    typeof store['delete'] === 'function' &&
    (store['lock'] === undefined || typeof store['lock'] === 'function')
  );
}
