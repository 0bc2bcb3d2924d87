import pMemoize from 'p-memoize';
import { fingerprint, withDeadline } from './async.js';
import { isTokenRequestError, TokenflightError, TokenRequestError, type TokenRequestErrorCode } from './errors.js';
import type { RefreshReason, TokenAuthEvent } from './events.js';
import { tokenTimes } from './expiry.js';
import { redactedError } from './redact.js';
import type { StoredToken, TokenStore, TokenStoreLock } from './store.js';
import { checkStoredToken } from './token-check.js';

/** Where a token manager gets new tokens: one provider with one set of credentials. */
export interface TokenSource {
  readonly name: string;
  /** The store key: a hash of provider, endpoint and credentials. */
  readonly key: Promise<string>;
  fetch(signal: AbortSignal): Promise<{ token: StoredToken; attempts: number }>;
}

/** The token a manager currently sends, with its timings worked out once. */
export interface CurrentToken {
  readonly token: StoredToken;
  /** Goes up by one each time a different token becomes current. */
  readonly generation: number;
  readonly refreshAt: number;
  readonly expiredAt: number;
  /** The `Authorization` header value. */
  readonly header: string;
  readonly fingerprint: string;
}

export interface TokenManagerOptions {
  source: TokenSource;
  store: TokenStore;
  now: () => number;
  random: () => number;
  refreshWindowMs: number;
  expiryMarginMs: number;
  backgroundRetryMs: number;
  cooldownMs: number;
  storeTimeoutMs: number;
  /** How long the store lock is held at most, and waited for at most. */
  lockTtlMs: number;
  emit: (event: TokenAuthEvent) => void;
}

export interface TokenManager {
  readonly name: string;
  /** The token to send right now, if there is one. Never waits; inside the refresh window it starts one background refresh. */
  peek(): CurrentToken | undefined;
  /** The token to send, waiting for the shared refresh when there is no usable one. */
  get(): Promise<CurrentToken>;
  /**
   * A request that carried the token of `generation` was answered 401: the token to replay it
   * with, and whether it was already current (`stale`: the 401 was for an older token, no token
   * request was needed).
   */
  rejected(generation: number): Promise<{ current: CurrentToken; stale: boolean }>;
  /** Drops the current token, here and in the store (compare-and-delete). */
  invalidate(): Promise<void>;
  /** Abandons token requests in flight and their backoff timers. */
  dispose(): void;
}

/**
 * Refusals: answers that another request straight away would not change. Consecutive ones put the
 * provider in a cool-down (see {@link cooldownDelayMs}); a single one is never remembered.
 */
const COOLDOWN_CODES: ReadonlySet<TokenRequestErrorCode> = new Set([
  'ERR_TOKEN_CREDENTIALS',
  'ERR_TOKEN_HTTP_STATUS',
  'ERR_TOKEN_REDIRECT',
  'ERR_TOKEN_MALFORMED',
  'ERR_TOKEN_TOO_LARGE',
  'ERR_TOKEN_RATE_LIMITED',
  'ERR_TOKEN_EXPIRED',
]);

/** The cool-down after the second consecutive refusal is this share of `cooldownMs`; it doubles with each one after. */
const COOLDOWN_FIRST_SHARE = 1 / 8;

/**
 * How long to fail fast after `refusals` consecutive refusals (rule 6): nothing after the first;
 * then 1/8, 1/4, 1/2 and all of `capMs`, each with equal jitter (between half and all of it); never
 * less than the endpoint's `Retry-After` (already capped at `maxRetryAfterMs`), never more than
 * `capMs`.
 */
export function cooldownDelayMs(
  refusals: number,
  capMs: number,
  retryAfterMs: number | undefined,
  random: () => number,
): number {
  if (refusals < 2) return 0;
  const step = Math.min(capMs, capMs * COOLDOWN_FIRST_SHARE * 2 ** (refusals - 2));
  const jittered = step / 2 + (random() * step) / 2;
  return Math.min(capMs, Math.max(jittered, retryAfterMs ?? 0));
}

const noop = (): void => undefined;

/**
 * Cache, expiry, refresh window, single-flight and the stale-401 rule for one provider. Knows
 * nothing of axios: it is given a clock, a store and a function that fetches a token.
 *
 * Simple rules:
 * - No token, or it has expired (`expiredAt`): callers wait for the shared refresh (MUST refresh).
 * - Inside the refresh window (`refreshAt`): callers keep the current token while one background
 *   refresh runs (SHOULD refresh). If it fails, the token stays in use and the next background
 *   attempt waits `backgroundRetryMs`; nothing is thrown to anyone.
 * - One flight at a time (p-memoize, registered before its first await and cleared when it
 *   settles, so a failure is never cached and every waiter gets the same outcome). The store's
 *   lock extends that to every handle sharing the store, and with Redis to the fleet: the lock
 *   holder fetches, the others re-read the store.
 * - A 401 for an older token: replay with the current one, no token request. A 401 for the
 *   current token: compare-and-delete it in the store, refresh, replay.
 */
export function createTokenManager(options: TokenManagerOptions): TokenManager {
  const { source, store, now, emit } = options;
  const lifecycle = new AbortController();
  const timing = { refreshWindowMs: options.refreshWindowMs, expiryMarginMs: options.expiryMarginMs };
  let current: CurrentToken | undefined;
  let generation = 0;
  let rejectedToken: string | undefined;
  let backgroundNotBefore = 0;
  let refreshing = false;
  let cooldown: { until: number; error: TokenRequestError } | undefined;
  /** Consecutive refusals of the token endpoint; reset by a token, by `invalidate()`. */
  let refusals = 0;

  const flight = pMemoize(runFlight, { cacheKey: () => source.name, cache: false });

  function isUsable(token: CurrentToken | undefined, at: number): token is CurrentToken {
    return token !== undefined && at < token.expiredAt;
  }

  function peek(): CurrentToken | undefined {
    const token = current;
    if (token === undefined) return undefined;
    const at = now();
    if (at < token.refreshAt) return token;
    if (at >= token.expiredAt) return undefined;
    if (!refreshing && at >= backgroundNotBefore) flight('refresh-window').catch(noop);
    return token;
  }

  /** Whether a token found in the store will do, instead of fetching one. */
  function isAcceptable(found: StoredToken | undefined): found is StoredToken {
    if (found === undefined || found.accessToken === rejectedToken) return false;
    const at = now();
    const times = tokenTimes(found, timing);
    if (at >= times.expiredAt) return false;
    // While our token is still usable we are refreshing ahead: only a different, fresh token helps.
    if (isUsable(current, at)) return found.accessToken !== current.token.accessToken && at < times.refreshAt;
    return true;
  }

  async function runFlight(reason: RefreshReason): Promise<CurrentToken> {
    refreshing = true;
    const startedAt = now();
    try {
      const key = await source.key;
      const found = await readStore(key);
      if (isAcceptable(found)) return await adopt(found, { kind: 'adopted', reason });

      const lock = await acquireLock(key);
      try {
        if (lock !== 'none') {
          // Double-checked: the previous holder may have just written a token.
          const again = await readStore(key);
          if (isAcceptable(again)) return await adopt(again, { kind: 'adopted', reason });
        }
        throwIfCoolingDown();
        const { token, attempts } = await source.fetch(lifecycle.signal);
        const held = await storeCall('set', () => store.set(key, token), token, options.storeTimeoutMs, [
          token.accessToken,
        ]);
        const kept = held === token ? token : ((await checked(key, held, 'set')) ?? token);
        // The store keeps the token that expires later, which may be the one just rejected if its
        // compare-and-delete failed: never take that one up again.
        const winner = kept.accessToken === rejectedToken ? token : kept;
        return await adopt(winner, { kind: 'fetched', reason, attempts, durationMs: now() - startedAt });
      } finally {
        if (typeof lock === 'object') void storeCall('release', () => lock.release(), undefined);
      }
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      if (isTokenRequestError(failure) && COOLDOWN_CODES.has(failure.code) && failure.attempts > 0) {
        refusals++;
        const delayMs = cooldownDelayMs(refusals, options.cooldownMs, failure.retryAfterMs, options.random);
        if (delayMs > 0) cooldown = { until: now() + delayMs, error: failure };
      }
      const background = isUsable(current, now());
      if (background) backgroundNotBefore = now() + options.backgroundRetryMs;
      emit({ type: 'token-failed', provider: source.name, error: failure, reason, background });
      throw failure;
    } finally {
      refreshing = false;
    }
  }

  async function acquireLock(key: string): Promise<TokenStoreLock | 'none' | 'timeout'> {
    if (store.lock === undefined) return 'none';
    const takeLock = store.lock.bind(store);
    const lockOptions = { ttlMs: options.lockTtlMs, waitMs: options.lockTtlMs, signal: lifecycle.signal };
    const lock = await storeCall(
      'lock',
      () => takeLock(key, lockOptions),
      'none' as const,
      options.lockTtlMs + options.storeTimeoutMs,
    );
    return lock ?? 'timeout';
  }

  function endCooldown(): void {
    cooldown = undefined;
    refusals = 0;
  }

  function throwIfCoolingDown(): void {
    if (cooldown === undefined || now() >= cooldown.until) return;
    const { error } = cooldown;
    const remainingMs = Math.ceil(cooldown.until - now());
    throw new TokenRequestError(`${error.message}; not asked again for ${remainingMs} ms (cool-down)`, {
      code: error.code,
      provider: error.provider,
      url: error.url,
      status: error.status,
      providerCode: error.providerCode,
      attempts: 0,
      retryAfterMs: error.retryAfterMs,
    });
  }

  async function adopt(
    token: StoredToken,
    how:
      | { kind: 'adopted'; reason: RefreshReason }
      | { kind: 'fetched'; reason: RefreshReason; attempts: number; durationMs: number },
  ): Promise<CurrentToken> {
    const previous = current;
    const sameToken = previous?.token.accessToken === token.accessToken;
    if (sameToken && previous.token.expiresAt === token.expiresAt) {
      // The endpoint handed back the token we have: don't ask again straight away. A token request
      // was still made, and is reported like any other.
      backgroundNotBefore = now() + options.backgroundRetryMs;
      endCooldown();
      if (how.kind === 'fetched') {
        emit({
          type: 'token-fetched',
          provider: source.name,
          fingerprint: previous.fingerprint,
          expiresAt: token.expiresAt,
          reason: how.reason,
          attempts: how.attempts,
          durationMs: how.durationMs,
        });
      }
      return previous;
    }
    const times = tokenTimes(token, { ...timing, jitter: options.random() });
    const next: CurrentToken = {
      token,
      generation: sameToken ? previous.generation : ++generation,
      refreshAt: times.refreshAt,
      expiredAt: times.expiredAt,
      header: `${token.tokenType} ${token.accessToken}`,
      fingerprint: sameToken ? previous.fingerprint : await fingerprint(token.accessToken),
    };
    current = next;
    endCooldown();
    if (sameToken) backgroundNotBefore = now() + options.backgroundRetryMs;
    const facts = {
      provider: source.name,
      fingerprint: next.fingerprint,
      expiresAt: token.expiresAt,
      reason: how.reason,
    };
    emit(
      how.kind === 'fetched'
        ? { type: 'token-fetched', ...facts, attempts: how.attempts, durationMs: how.durationMs }
        : { type: 'token-adopted', ...facts },
    );
    return next;
  }

  /** Store calls are bounded and never fatal: on error or timeout, carry on as if the store had nothing. */
  async function storeCall<T, F>(
    operation: 'get' | 'set' | 'delete' | 'lock' | 'release',
    call: () => Promise<T>,
    fallback: F,
    timeoutMs = options.storeTimeoutMs,
    tokens: readonly string[] = [],
  ): Promise<T | F> {
    try {
      return await withDeadline(
        call(),
        timeoutMs,
        () => new Error(`token store ${operation} took longer than ${timeoutMs} ms`),
      );
    } catch (error) {
      emit({
        type: 'store-failed',
        provider: source.name,
        operation,
        error: redactedError(error, [...tokens, ...knownTokens()]),
      });
      return fallback;
    }
  }

  /** The store's entry for `key`, if there is one and it passes the checks of a token response. */
  async function readStore(key: string): Promise<StoredToken | undefined> {
    return checked(key, await storeCall('get', () => store.get(key), undefined), 'get');
  }

  /** `found` if it is a valid token; otherwise it is reported, dropped from the store, and treated as missing. */
  async function checked(key: string, found: unknown, operation: 'get' | 'set'): Promise<StoredToken | undefined> {
    if (found === undefined) return undefined;
    const result = checkStoredToken(found, now());
    if (typeof result !== 'string') return result;
    const error = new TokenflightError(`The token store held an entry that is not a valid token: ${result}`, {
      code: 'ERR_STORE_ENTRY_INVALID',
      provider: source.name,
    });
    emit({ type: 'store-failed', provider: source.name, operation, error });
    const { accessToken } = found as { accessToken?: unknown };
    if (typeof accessToken === 'string') {
      await storeCall('delete', () => store.delete(key, accessToken), false, options.storeTimeoutMs, [accessToken]);
    }
    return undefined;
  }

  /** Every token this manager could have handed to the store. */
  function knownTokens(): string[] {
    return [current?.token.accessToken, rejectedToken].filter((token): token is string => token !== undefined);
  }

  async function forget(token: StoredToken, reason: 'rejected' | 'manual', tokenFingerprint?: string): Promise<void> {
    rejectedToken = token.accessToken;
    emit({
      type: 'token-invalidated',
      provider: source.name,
      fingerprint: tokenFingerprint ?? (await fingerprint(token.accessToken)),
      reason,
    });
    const key = await source.key;
    await storeCall('delete', () => store.delete(key, token.accessToken), false);
  }

  return {
    name: source.name,
    peek,
    get() {
      const token = peek();
      return token === undefined ? flight(current === undefined ? 'missing' : 'expired') : Promise.resolve(token);
    },
    async rejected(sentGeneration) {
      const token = current;
      if (token !== undefined && token.generation !== sentGeneration && isUsable(token, now())) {
        return { current: token, stale: true };
      }
      if (token !== undefined && token.generation === sentGeneration) {
        current = undefined;
        await forget(token.token, 'rejected', token.fingerprint);
      }
      const next = await flight('rejected');
      // We may have joined a flight that took up the rejected token just before it was rejected.
      return { current: next.token.accessToken === rejectedToken ? await flight('rejected') : next, stale: false };
    },
    async invalidate() {
      const token = current;
      current = undefined;
      endCooldown();
      if (token !== undefined) return forget(token.token, 'manual', token.fingerprint);
      const key = await source.key;
      const stored = await readStore(key);
      if (stored !== undefined) await forget(stored, 'manual');
    },
    dispose() {
      current = undefined;
      lifecycle.abort(new Error('tokenflight handle ejected'));
    },
  };
}
