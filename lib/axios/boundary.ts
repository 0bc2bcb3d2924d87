import axios, {
  AxiosError,
  AxiosHeaders,
  CanceledError,
  isAxiosError,
  type AxiosAdapter,
  type AxiosRequestConfig,
  type AxiosResponse,
  type InternalAxiosRequestConfig,
} from 'axios';
import { waitWithAbort, type WaitLimits } from '../shared/async.js';
import { TokenflightError } from '../shared/errors.js';
import type { TokenAuthEvent } from '../shared/events.js';
import { maskToken } from '../shared/redact.js';
import { guardRedirects } from './redirect-guard.js';
import type { TokenAuthRequestOptions } from './request-options.js';
import { displayTarget, type Routable, type Router } from '../core/routing.js';
import type { CurrentToken, TokenManager } from '../core/manager/token-manager.js';
import { isReplayable, isTokenRejection, type RejectionPolicy } from './unauthorized.js';
import type { DpopBinding } from '../core/dpop.js';
import { sendWithProofs } from './dpop-send.js';
import { writeHeader } from '../shared/headers.js';

/** One attached provider: its token manager and the state its requests share. */
export interface TokenRuntime extends Routable {
  readonly manager: TokenManager;
  /** Its DPoP key, proofs and nonces, when its tokens are DPoP-bound. */
  readonly dpop?: DpopBinding | undefined;
  /** The state shared by every first attempt that carries the current token. */
  sent: SentToken | undefined;
}

/**
 * What tokenflight puts under `config.tokenAuth` once it has attached a token: which provider and
 * which token (by generation). It holds no token value in any visible field.
 */
export class SentToken implements TokenAuthRequestOptions {
  readonly #current: CurrentToken;
  readonly #requested: string | undefined;
  readonly provider: string;
  readonly replayed: boolean;
  readonly replayBody?: () => unknown;

  constructor(
    runtime: TokenRuntime,
    current: CurrentToken,
    replayed: boolean,
    option: TokenAuthRequestOptions | undefined,
  ) {
    this.#current = current;
    this.#requested = option instanceof SentToken ? option.#requested : option?.provider;
    this.provider = runtime.name;
    this.replayed = replayed;
    if (option?.replayBody !== undefined) this.replayBody = option.replayBody;
  }

  /** The provider the request itself asked for (`tokenAuth.provider`), if any. */
  get requested(): string | undefined {
    return this.#requested;
  }

  get generation(): number {
    return this.#current.generation;
  }

  get accessToken(): string {
    return this.#current.token.accessToken;
  }

  get header(): string {
    return this.#current.header;
  }

  get fingerprint(): string {
    return this.#current.fingerprint;
  }

  toJSON(): Record<string, unknown> {
    return { provider: this.provider, replayed: this.replayed };
  }
}

export interface BoundaryOptions {
  readonly router: Router<TokenRuntime>;
  readonly policy: RejectionPolicy;
  readonly emit: (event: TokenAuthEvent) => void;
  /** False once the attachment is ejected: requests already on their way then go out untouched. */
  readonly isActive: () => boolean;
}

type AdapterSetting = AxiosRequestConfig['adapter'];

/** On every adapter tokenflight wraps: the adapter setting it wraps, so a resent config is never wrapped twice. */
const kWrapped = Symbol.for('tokenflight.wrappedAdapter');
type Wrapper = AxiosAdapter & { [kWrapped]?: AdapterSetting };

/** Wrappers kept, one per adapter setting (axios's default, a mock's, a per-request one); there are only a few. */
const MAX_WRAPPERS = 32;

/**
 * The send boundary (rules 1, 5 and 9). A synchronous request interceptor swaps the request's
 * adapter for a wrapper of it, so that tokenflight's work happens where the request leaves, after
 * every interceptor, in whatever order they were added:
 * - the route is decided from the URL actually sent, and the `Authorization` header is written
 *   last, over any header an interceptor set;
 * - a 401 is seen before any response interceptor can map it to something else, and the replay is
 *   sent again below the interceptor chain, through the same adapter, with the same config: no
 *   interceptor runs twice and the caller receives one response.
 */
export function createBoundary(
  options: BoundaryOptions,
): (config: InternalAxiosRequestConfig) => InternalAxiosRequestConfig {
  const wrap = createWrappers((config, inner) => send(options, config, inner));
  return (config) => {
    config.adapter = wrap(config.adapter);
    return config;
  };
}

/**
 * One wrapper per adapter setting, made once and kept: a function adapter by identity, a named one
 * (`['xhr', 'http', 'fetch']`, axios's default) by its names. A wrapper handed back (a resent
 * config) is unwrapped first, so a request is never wrapped twice.
 */
function createWrappers(
  send: (config: InternalAxiosRequestConfig, inner: AdapterSetting) => Promise<AxiosResponse>,
): (setting: AdapterSetting) => Wrapper {
  const wrappers = new Map<unknown, Wrapper>();
  return (setting) => {
    const inner = typeof setting === 'function' ? ((setting as Wrapper)[kWrapped] ?? setting) : setting;
    const key = adapterKey(inner);
    const known = key === undefined ? undefined : wrappers.get(key);
    if (known !== undefined) return known;
    const wrapper: Wrapper = Object.assign((config: InternalAxiosRequestConfig) => send(config, inner), {
      [kWrapped]: inner,
    });
    if (key === undefined) return wrapper;
    if (wrappers.size >= MAX_WRAPPERS) wrappers.clear();
    wrappers.set(key, wrapper);
    return wrapper;
  };
}

/** One request at the boundary: its config, the adapter that sends it, the provider routed to. */
interface Exchange {
  readonly config: InternalAxiosRequestConfig;
  readonly adapter: AxiosAdapter;
  readonly runtime: TokenRuntime;
  /** DPoP nonce re-sends so far: at most one per request. */
  nonceResends: number;
}

function send(
  options: BoundaryOptions,
  config: InternalAxiosRequestConfig,
  inner: AdapterSetting,
): Promise<AxiosResponse> {
  const adapter = axios.getAdapter(inner ?? axios.defaults.adapter, config);
  const option = config.tokenAuth;
  if (option === false) return adapter(config);
  let runtime: TokenRuntime | undefined;
  try {
    const requested = option instanceof SentToken ? option.requested : option?.provider;
    runtime = options.isActive() ? options.router.route(config, requested) : undefined;
  } catch (error) {
    return Promise.reject(error);
  }
  if (runtime === undefined) {
    // Ejected, or no provider serves the URL: a resent config (axios-retry, the caller's own retry)
    // may still carry the token of its previous attempt.
    if (option instanceof SentToken) removeAuthorization(config.headers, option.header);
    return adapter(config);
  }
  const exchange: Exchange = { config, adapter, runtime, nonceResends: 0 };
  const current = runtime.manager.peek();
  if (current !== undefined) return attempt(options, exchange, current, option);
  return waitWithAbort(() => exchange.runtime.manager.get(), waitLimits(config)).then((token) =>
    attempt(options, exchange, token, option),
  );
}

function attempt(
  options: BoundaryOptions,
  exchange: Exchange,
  current: CurrentToken,
  option: TokenAuthRequestOptions | undefined,
): Promise<AxiosResponse> {
  const { config, runtime } = exchange;
  let sent = runtime.sent;
  if (option !== undefined)
    sent = new SentToken(runtime, current, option instanceof SentToken && option.replayed, option);
  else if (sent?.generation !== current.generation)
    sent = runtime.sent = new SentToken(runtime, current, false, undefined);
  writeHeader(config.headers, 'Authorization', current.header);
  config.tokenAuth = sent;
  guardRedirects(config);
  const first = sent;
  return dispatch(exchange, config, current, first).then(
    (response) => accepted(options, exchange, first, response),
    (error: unknown) => recover(options, exchange, first, error),
  );
}

/**
 * One send through the adapter, with a new DPoP proof for each hop when the token is DPoP-bound
 * (lib/axios/dpop-send.ts); an answer asking for a nonce is sent once more at once with it (rule 8's
 * body rules apply).
 */
function dispatch(
  exchange: Exchange,
  config: InternalAxiosRequestConfig,
  current: CurrentToken,
  sent: SentToken,
): Promise<AxiosResponse> {
  // Without DPoP, straight to the adapter: the hot path gains no await.
  if (exchange.runtime.dpop === undefined) return exchange.adapter(config);
  return sendWithProofs(exchange, config, current.token, sent);
}

/** Rule 5: whether the answer to a first attempt says the API rejected the token it carried. */
function rejectsToken(options: BoundaryOptions, exchange: Exchange, sent: SentToken, response: AxiosResponse): boolean {
  const sentTo = options.router.originOf(exchange.config);
  return !sent.replayed && isTokenRejection(response, sentTo, exchange.runtime.name, options.policy);
}

/** A failed first attempt: masked, and replayed once when the API rejected its token. */
async function recover(
  options: BoundaryOptions,
  exchange: Exchange,
  sent: SentToken,
  error: unknown,
): Promise<AxiosResponse> {
  if (!isAxiosError(error)) throw error;
  maskToken(error, sent.accessToken);
  const response = error.response;
  if (response === undefined || !rejectsToken(options, exchange, sent, response)) throw error;
  return renew(options, exchange, sent, response, () => error);
}

/**
 * A first attempt whose answer the instance's `validateStatus` accepted (`(s) => s < 500`,
 * `() => true`): a rejected token is handled all the same, and the replay's answer goes through the
 * same `validateStatus`, so the caller gets what it would have given for the final response.
 */
function accepted(
  options: BoundaryOptions,
  exchange: Exchange,
  sent: SentToken,
  response: AxiosResponse,
): AxiosResponse | Promise<AxiosResponse> {
  if (!rejectsToken(options, exchange, sent, response)) return response;
  return renew(options, exchange, sent, response, () => {
    // What axios would have rejected with, had `validateStatus` refused it.
    const code = response.status >= 500 ? AxiosError.ERR_BAD_RESPONSE : AxiosError.ERR_BAD_REQUEST;
    const { config } = exchange;
    const error = new AxiosError(
      `Request failed with status code ${response.status}`,
      code,
      config,
      response.request,
      response,
    );
    maskToken(error, sent.accessToken);
    return error;
  });
}

/** A rejected token: refreshed, and the request replayed once with the new one when its body allows. */
async function renew(
  options: BoundaryOptions,
  exchange: Exchange,
  sent: SentToken,
  response: AxiosResponse,
  failure: () => AxiosError,
): Promise<AxiosResponse> {
  const { config, runtime } = exchange;
  if (sent.replayBody === undefined && !isReplayable(config.data)) {
    // The token is still refreshed, so the next request succeeds; this one cannot be sent again.
    runtime.manager.rejected(sent.generation).catch(() => undefined);
    throw new TokenflightError(
      `The API answered ${response.status} to a ${String(config.method).toUpperCase()} request whose body is a stream, which cannot be sent twice. ` +
        'The token has been refreshed for the next requests; pass `tokenAuth: { replayBody: () => newStream }` to replay such requests',
      { code: 'ERR_BODY_NOT_REPLAYABLE', provider: sent.provider, cause: failure() },
    );
  }
  const { current, stale } = await waitWithAbort(() => runtime.manager.rejected(sent.generation), waitLimits(config));
  options.emit({
    type: 'request-replayed',
    provider: sent.provider,
    fingerprint: current.fingerprint,
    method: String(config.method).toUpperCase(),
    url: displayTarget(config),
    stale,
  });
  return replay(exchange, sent, current);
}

/** Sends the first attempt's exact bytes and headers again, with the new token, through the same adapter. */
function replay(exchange: Exchange, sent: SentToken, current: CurrentToken): Promise<AxiosResponse> {
  const { config, runtime } = exchange;
  const again: InternalAxiosRequestConfig = {
    ...config,
    headers: new AxiosHeaders(config.headers),
    tokenAuth: new SentToken(runtime, current, true, sent),
  };
  if (sent.replayBody !== undefined) again.data = sent.replayBody();
  writeHeader(again.headers, 'Authorization', current.header);
  return dispatch(exchange, again, current, again.tokenAuth as SentToken).then(undefined, (failure: unknown) => {
    if (isAxiosError(failure)) maskToken(failure, current.token.accessToken);
    throw failure;
  });
}

/** A caller's abort, cancellation or `timeout` ends its own wait for a token, never the shared request. */
function waitLimits(config: InternalAxiosRequestConfig): WaitLimits {
  const timeoutMs = Math.max(config.timeout ?? 0, 0);
  return {
    signal: config.signal,
    cancelToken: config.cancelToken,
    timeoutMs,
    onAbort: () => new CanceledError(undefined, config),
    onTimeout: () => {
      const code = config.transitional?.clarifyTimeoutError === true ? AxiosError.ETIMEDOUT : AxiosError.ECONNABORTED;
      return new AxiosError(`timeout of ${timeoutMs}ms exceeded while waiting for a token`, code, config);
    },
  };
}

/**
 * What a wrapper is kept under: a function adapter itself, a named one (`'fetch'`,
 * `['xhr', 'http', 'fetch']`) by its names; a list holding functions is not kept.
 */
function adapterKey(setting: AdapterSetting): unknown {
  if (!Array.isArray(setting)) return setting ?? '';
  return setting.every((name) => typeof name === 'string') ? setting.join('\n') : undefined;
}

/** Removes an `Authorization` header that tokenflight wrote, and only that one. */
function removeAuthorization(headers: AxiosHeaders, value: string): void {
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() === 'authorization' && headers[key] === value) Reflect.deleteProperty(headers, key);
  }
}
