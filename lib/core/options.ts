import { ignoreRejection } from '../shared/async.js';
import { DEFAULTS } from '../shared/defaults.js';
import { invalidOption } from '../shared/errors.js';
import type { TokenAuthEvent } from '../shared/events.js';
import type { TokenAuthLogger } from '../shared/logger.js';
import { readLogger } from '../shared/logger-option.js';
import { kSource, type TokenProvider } from '../providers/endpoint.js';
import type { TokenRequestSettings } from '../providers/token-request/index.js';
import type { TokenStore } from '../stores/store.js';
import { MemoryTokenStore } from '../stores/memory.js';
import { checkFunction, describe, expectKnownKeys, expectNumber, expectOptions } from '../shared/validate.js';

// The options attachTokenAuth and createTokenFetch share, and their reading: one home for both
// boundaries. Nothing here knows axios or fetch.

/** What `isTokenRejected` is asked about. */
export interface RejectionContext {
  /** The provider whose token the request carried. */
  provider: string;
  /** The API's HTTP status, one of `unauthorizedStatuses`. */
  status: number;
  /** The `WWW-Authenticate` header, if any. */
  challenge: string | undefined;
  /**
   * The response body: with `attachTokenAuth`, transformed by the request's `transformResponse` as
   * the caller would see it; with `createTokenFetch`, its text, read from a copy (the caller still
   * reads the response), or `undefined` past 64 KiB or `tokenRequest.timeoutMs`.
   */
  data: unknown;
}

/**
 * Limits of token requests, the `tokenRequest` option of {@link attachTokenAuth} and `createTokenFetch` (`tokenflight/fetch`). Every field is
 * optional; see `DEFAULTS.tokenRequest`.
 *
 * @example
 * ```ts
 * attachTokenAuth(api, { providers, tokenRequest: { timeoutMs: 3_000, retries: 1 } });
 * ```
 */
export interface TokenRequestOptions extends TokenRequestSettings {
  /**
   * The cap of the cool-down after refusals in a row that retrying cannot fix (bad credentials…),
   * in ms: no request is sent for ⅛, ¼, ½, then all of it (with jitter); a single refusal is never
   * remembered, and `0` turns the cool-down off. @default 5_000
   */
  cooldownMs: number;
}

/**
 * The options {@link attachTokenAuth} and `createTokenFetch` (`tokenflight/fetch`) share. Only `providers` is
 * required; every default is in {@link DEFAULTS}.
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
export interface TokenAuthBaseOptions {
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
  /** Receives {@link TokenAuthEvent}s. It must not throw; if it does, the error is ignored. */
  onEvent?: (event: TokenAuthEvent) => void;
  /**
   * Writes every {@link TokenAuthEvent} as one line to a pino- or console-like logger, at a level
   * that suits it; see {@link TokenAuthLogger}. Works alongside `onEvent`. The messages are loaded
   * on demand, when a `logger` is passed (a chunk of its own in a code-split bundle): the lines of
   * the first moments are written once they have loaded, in order.
   */
  logger?: TokenAuthLogger;
}

/** The shared options, read and checked once, with every default filled in. */
export interface BaseSettings {
  readonly providers: readonly TokenProvider[];
  readonly store: TokenStore;
  /** The store made here when none was given; the handle clears it when it is ejected or closed. */
  readonly ownStore: MemoryTokenStore | undefined;
  readonly tokenRequest: TokenRequestOptions;
  readonly refreshWindowMs: number;
  readonly expiryMarginMs: number;
  readonly backgroundRetryMs: number;
  readonly storeTimeoutMs: number;
  readonly unauthorizedStatuses: ReadonlySet<number>;
  readonly isTokenRejected: ((context: RejectionContext) => boolean) | undefined;
  /** Hands an event to `onEvent` and `logger`; never throws. */
  readonly emit: (event: TokenAuthEvent) => void;
  /** As long as one flight can take, long Retry-After waits aside; the store lock lasts as long. */
  readonly lockTtlMs: number;
}

/**
 * Reads and validates the options both boundaries share into one settings object; every mistake
 * is an `InvalidOptionError` that names the option (and `context`, the function it was given
 * to), thrown before any request is sent. `keys` are every option the boundary takes.
 */
export function readBaseOptions(options: TokenAuthBaseOptions, context: string, keys: readonly string[]): BaseSettings {
  const given = expectOptions(options, context);
  expectKnownKeys(given, keys, context);
  const number = (key: 'refreshWindowMs' | 'expiryMarginMs' | 'backgroundRetryMs' | 'storeTimeoutMs'): number =>
    expectNumber(given[key], key, context) ?? DEFAULTS[key];
  const tokenRequest = readTokenRequest(options.tokenRequest, context);
  checkFunction(options.isTokenRejected, 'isTokenRejected', context);
  const providers = readProviders(options.providers, context);
  const ownStore = options.store === undefined ? new MemoryTokenStore() : undefined;
  const store = readStore(options.store ?? ownStore, context);
  const rotating = providers.find((provider) => provider[kSource].rotating);
  if (rotating !== undefined && store.lock === undefined) {
    throw invalidOption(
      `${context}: provider "${rotating.name}" uses a refresh token that rotates, which is presented only under the store's lock; the \`store\` has no \`lock\` method`,
    );
  }
  return {
    providers,
    store,
    ownStore,
    tokenRequest,
    refreshWindowMs: number('refreshWindowMs'),
    expiryMarginMs: number('expiryMarginMs'),
    backgroundRetryMs: number('backgroundRetryMs'),
    storeTimeoutMs: number('storeTimeoutMs'),
    unauthorizedStatuses: readStatuses(options.unauthorizedStatuses, context),
    isTokenRejected: options.isTokenRejected,
    emit: readEmit(options, context),
    lockTtlMs:
      (tokenRequest.retries + 1) * tokenRequest.timeoutMs + tokenRequest.retries * tokenRequest.maxDelayMs + 1_000,
  };
}

/** Every option both boundaries take (a boundary adds its own). */
export const BASE_OPTION_KEYS: readonly (keyof TokenAuthBaseOptions)[] = [
  'providers',
  'store',
  'refreshWindowMs',
  'expiryMarginMs',
  'backgroundRetryMs',
  'unauthorizedStatuses',
  'isTokenRejected',
  'tokenRequest',
  'storeTimeoutMs',
  'onEvent',
  'logger',
];
const TOKEN_REQUEST_KEYS = Object.keys(DEFAULTS.tokenRequest);

function readProviders(value: unknown, context: string): TokenProvider[] {
  const list: unknown[] = Array.isArray(value) ? value : [value];
  if (list.length === 0)
    throw invalidOption(`${context}: expected \`providers\` to hold at least one provider, got an empty array`);
  const names = new Set<string>();
  return list.map((provider, index) => {
    if (typeof provider !== 'object' || provider === null || !(kSource in provider)) {
      const where = Array.isArray(value) ? `providers[${index}]` : 'providers';
      throw invalidOption(
        `${context}: expected \`${where}\` to be made by symbl(), marsview(), singleView(), clientCredentials(), jsonProvider(), customProvider() or refreshTokenGrant(), got ${describe(provider)}`,
        'ERR_INVALID_ARG_TYPE',
      );
    }
    const { name } = provider as TokenProvider;
    if (names.has(name)) {
      throw invalidOption(`${context}: two providers are named "${name}"; give one of them another \`name\``);
    }
    names.add(name);
    return provider as TokenProvider;
  });
}

function readStore(store: TokenStore | undefined, context: string): TokenStore {
  if (!isTokenStore(store)) {
    throw invalidOption(
      `${context}: expected \`store\` to have get, set and delete methods, got ${describe(store)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  return store;
}

function readTokenRequest(value: unknown, context: string): TokenRequestOptions {
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

function readStatuses(value: unknown, context: string): ReadonlySet<number> {
  const statuses = value ?? DEFAULTS.unauthorizedStatuses;
  if (
    !Array.isArray(statuses) ||
    !statuses.every((status) => Number.isInteger(status) && (status as number) >= 400 && (status as number) < 600)
  ) {
    throw invalidOption(
      `${context}: expected \`unauthorizedStatuses\` to be an array of HTTP error statuses, got ${describe(statuses)}`,
    );
  }
  return new Set(statuses as number[]);
}

function readEmit(options: TokenAuthBaseOptions, context: string): (event: TokenAuthEvent) => void {
  checkFunction(options.onEvent, 'onEvent', context);
  const { onEvent } = options;
  const log = readLogger(options.logger, context);
  return (event) => {
    try {
      // Never awaited: a listener that never settles holds nothing, and one that rejects is ignored.
      ignoreRejection(onEvent?.(event));
    } catch {
      // A listener's failure must never break a request.
    }
    log?.(event);
  };
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
