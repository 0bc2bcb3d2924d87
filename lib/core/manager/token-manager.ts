import { fingerprint } from '../../shared/async.js';
import { createCooldown, type Cooldown } from './cooldown.js';
import { isTokenRequestError } from '../../shared/errors.js';
import type { RefreshReason, TokenAuthEvent } from '../../shared/events.js';
import { tokenTimes } from './expiry.js';
import type { Rotation } from './rotation.js';
import {
  createSessionFlights,
  createSessionOrder,
  isCarriedOver,
  isPending,
  type SessionOrder,
  type SessionTicket,
} from './session.js';
import type { StoredToken, TokenStore } from '../../stores/store.js';
import { createStoreAccess, type StoreAccess } from './store-access.js';
import { followStore, reactionTo } from './store-sync.js';
import type { FetchedToken, TokenSource } from './token-source.js';

export type { TokenSource } from './token-source.js';

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
  /** For a source whose refresh token rotates: starts a new session with `refreshToken`. */
  resume(refreshToken: string): Promise<void>;
  /** Abandons token requests in flight and their backoff timers. */
  dispose(): void;
}

const noop = (): void => undefined;

type Adoption =
  | { kind: 'adopted'; reason: RefreshReason }
  | { kind: 'fetched'; reason: RefreshReason; attempts: number; durationMs: number };

/** The event that says a token became (or stayed) current. */
function adoptionEvent(provider: string, current: CurrentToken, how: Adoption): TokenAuthEvent {
  const facts = { provider, fingerprint: current.fingerprint, expiresAt: current.token.expiresAt, reason: how.reason };
  return how.kind === 'fetched'
    ? { type: 'token-fetched', ...facts, attempts: how.attempts, durationMs: how.durationMs }
    : { type: 'token-adopted', ...facts };
}

/** What a token manager's parts share. */
interface ManagerState {
  current: CurrentToken | undefined;
  /** Goes up by one each time a different token becomes current. */
  generation: number;
  /** The last token the API rejected (or the user invalidated): never taken up again. */
  rejectedToken: string | undefined;
  /** No background refresh starts before this. */
  backgroundNotBefore: number;
}

function isUsable(token: CurrentToken | undefined, at: number): token is CurrentToken {
  return token !== undefined && at < token.expiredAt;
}

/** Makes a token current, and says so. */
function createAdopter(options: TokenManagerOptions, state: ManagerState, cooldown: { end(): void }) {
  const { now } = options;
  const timing = { refreshWindowMs: options.refreshWindowMs, expiryMarginMs: options.expiryMarginMs };

  /** `token` with its timings worked out; a new generation unless it is `previous`'s token with a new expiry. */
  async function nextCurrent(token: StoredToken, previous: CurrentToken | undefined): Promise<CurrentToken> {
    const times = tokenTimes(token, { ...timing, jitter: options.random() });
    return {
      token,
      generation: previous === undefined ? ++state.generation : previous.generation,
      refreshAt: times.refreshAt,
      expiredAt: times.expiredAt,
      header: `${token.tokenType} ${token.accessToken}`,
      fingerprint: previous === undefined ? await fingerprint(token.accessToken) : previous.fingerprint,
    };
  }

  return async function adopt(token: StoredToken, how: Adoption): Promise<CurrentToken> {
    const previous = state.current;
    const sameToken = previous?.token.accessToken === token.accessToken;
    cooldown.end();
    // The endpoint handed back the token we have (Symbl does): don't ask again straight away. If
    // nothing about it changed, it stays current as it is; a token request was still made, and is
    // reported like any other.
    if (sameToken) state.backgroundNotBefore = now() + options.backgroundRetryMs;
    // Timings count from `obtainedAt`: a later copy with the same expiry has less life left.
    const unchanged =
      sameToken && previous.token.expiresAt === token.expiresAt && previous.token.obtainedAt === token.obtainedAt;
    const next = unchanged ? previous : await nextCurrent(token, sameToken ? previous : undefined);
    state.current = next;
    if (how.kind === 'fetched' || !unchanged) options.emit(adoptionEvent(options.source.name, next, how));
    return next;
  };
}

/** One flight: the store first, then (under the store's lock) the token endpoint. */
function createFlightRunner(
  options: TokenManagerOptions,
  state: ManagerState,
  parts: {
    store: StoreAccess;
    cooldown: Cooldown;
    adopt: ReturnType<typeof createAdopter>;
    rotation: Rotation | undefined;
    session: SessionOrder;
    signal: AbortSignal;
  },
) {
  const { source, now, emit } = options;
  const { store, cooldown } = parts;
  /** Only a flight of the current session makes its token current. */
  const adopt = (ticket: SessionTicket, token: StoredToken, how: Adoption): Promise<CurrentToken> => {
    ticket.check();
    return parts.adopt(token, how);
  };
  const timing = { refreshWindowMs: options.refreshWindowMs, expiryMarginMs: options.expiryMarginMs };

  /** Whether a token found in the store will do, instead of fetching one. */
  function isAcceptable(found: StoredToken | undefined): found is StoredToken {
    if (found === undefined || found.accessToken === state.rejectedToken) return false;
    const at = now();
    const times = tokenTimes(found, timing);
    if (at >= times.expiredAt) return false;
    // While our token is still usable we are refreshing ahead: only a different, fresh token helps.
    const { current } = state;
    if (isUsable(current, at)) return found.accessToken !== current.token.accessToken && at < times.refreshAt;
    return true;
  }

  return async function runFlight(reason: RefreshReason): Promise<CurrentToken> {
    const startedAt = now();
    try {
      const ticket = await parts.session.begin();
      const key = await source.key;
      const found = await store.read(key);
      if (isAcceptable(found)) {
        parts.rotation?.adopted(key);
        return await adopt(ticket, found, { kind: 'adopted', reason });
      }
      const lock = await store.lock(key);
      try {
        // Double-checked: the previous holder may have just written a token.
        const again = typeof lock === 'object' || lock === 'timeout' ? await store.read(key) : undefined;
        if (isAcceptable(again)) {
          parts.rotation?.adopted(key);
          return await adopt(ticket, again, { kind: 'adopted', reason });
        }
        // Taken up from another tab's write (TokenStore.subscribe) while this flight waited.
        const { current } = state;
        if (current !== undefined && now() < current.refreshAt && current.token.accessToken !== state.rejectedToken) {
          return current;
        }
        cooldown.throwIfActive();
        const { token, attempts }: FetchedToken =
          parts.rotation === undefined
            ? await source.fetch(parts.signal, reason)
            : await parts.rotation.exchange(key, lock, { reason, ticket });
        // A flight of a replaced session hands its token to no one, the store included.
        ticket.check();
        const kept = await store.write(key, token);
        // The store keeps the token that expires later, which may be the one just rejected if its
        // compare-and-delete failed: never take that one up again.
        const winner = kept.accessToken === state.rejectedToken ? token : kept;
        return await adopt(ticket, winner, { kind: 'fetched', reason, attempts, durationMs: now() - startedAt });
      } finally {
        if (typeof lock === 'object') void store.call('release', () => lock.release(), undefined);
      }
    } catch (error) {
      // Not a failure: its callers are carried over to a flight of the new session, or to one
      // after another holder's rotation (no background refresh tries before that one).
      if (isPending(error)) state.backgroundNotBefore = now() + error.waitMs;
      if (isCarriedOver(error)) throw error;
      const failure = error instanceof Error ? error : new Error(String(error));
      cooldown.failed(failure);
      // The session is over: its access token is not sent again either.
      if (isTokenRequestError(failure) && failure.code === 'ERR_TOKEN_SESSION_ENDED') state.current = undefined;
      const background = isUsable(state.current, now());
      if (background) state.backgroundNotBefore = now() + options.backgroundRetryMs;
      emit({ type: 'token-failed', provider: source.name, error: failure, reason, background });
      throw failure;
    }
  };
}

/** Dropping a token: here, then in the store (compare-and-delete), reported once. */
function createInvalidation(
  options: TokenManagerOptions,
  state: ManagerState,
  parts: { store: StoreAccess; cooldown: Cooldown },
) {
  const { source, emit } = options;
  const { store, cooldown } = parts;

  async function forget(token: StoredToken, reason: 'rejected' | 'manual', tokenFingerprint?: string): Promise<void> {
    state.rejectedToken = token.accessToken;
    const shown = tokenFingerprint ?? (await fingerprint(token.accessToken));
    emit({ type: 'token-invalidated', provider: source.name, fingerprint: shown, reason });
    const key = await source.key;
    await store.call('delete', () => options.store.delete(key, token.accessToken), undefined);
  }

  /** Drops the current token (if any) here and in the store; resolves to it. */
  async function dropCurrent(): Promise<StoredToken | undefined> {
    const token = state.current;
    state.current = undefined;
    cooldown.end();
    if (token !== undefined) await forget(token.token, 'manual', token.fingerprint);
    return token?.token;
  }

  /** The store's token, when it is not `dropped`, goes too. */
  async function dropStored(dropped: StoredToken | undefined): Promise<void> {
    const stored = await store.read(await source.key);
    if (stored !== undefined && stored.accessToken !== dropped?.accessToken) await forget(stored, 'manual');
  }

  async function invalidate(): Promise<void> {
    const dropped = await dropCurrent();
    if (dropped === undefined) await dropStored(undefined);
  }

  /** A new session started: its predecessor's access token goes, here and in the store, whichever it is. */
  async function dropAll(): Promise<void> {
    await dropStored(await dropCurrent());
    // Whatever was taken up meanwhile (a change read before this) belonged to the old session.
    state.current = undefined;
  }

  return { forget, invalidate, dropAll };
}

/**
 * Follows what other tabs or processes do to this provider's store entry (stores with
 * `subscribe`): takes up a newer token, or drops ours when the entry holding it was removed.
 */
function followSiblings(
  options: TokenManagerOptions,
  state: ManagerState,
  parts: {
    store: StoreAccess;
    adopt: ReturnType<typeof createAdopter>;
    rotation: Rotation | undefined;
    session: SessionOrder;
  },
): () => void {
  const { source, now, emit } = options;
  const timing = { refreshWindowMs: 0, expiryMarginMs: options.expiryMarginMs };
  const expired = (token: StoredToken): boolean => now() >= tokenTimes(token, timing).expiredAt;
  /** The session the entry was read in: what was read before a resume is not taken up after it. */
  let readIn = parts.session.current().generation;
  return followStore({
    store: options.store,
    key: () => source.key,
    read: (key) => {
      readIn = parts.session.current().generation;
      return parts.store.read(key);
    },
    changed: async (found) => {
      if (readIn !== parts.session.current().generation || parts.session.isResuming()) return;
      const { current } = state;
      const reaction = reactionTo(found, { current: current?.token, rejectedToken: state.rejectedToken }, expired);
      if (reaction === 'drop' && current !== undefined) {
        state.current = undefined;
        const { fingerprint: shown } = current;
        emit({ type: 'token-invalidated', provider: source.name, fingerprint: shown, reason: 'store-changed' });
      }
      if (reaction !== 'adopt' || found === undefined) return;
      parts.rotation?.adopted(await source.key);
      await parts.adopt(found, { kind: 'adopted', reason: 'store-changed' });
    },
  });
}

/** Rule 5's replay token: the current one if the 401 was for an older token, else a new one (the rejected one dropped). */
function createReplacement(
  state: ManagerState,
  parts: {
    now: () => number;
    forget: ReturnType<typeof createInvalidation>['forget'];
    flightOfSession: (reason: RefreshReason) => Promise<CurrentToken>;
  },
) {
  const { now, forget, flightOfSession } = parts;
  return async function replacementFor(sentGeneration: number): Promise<{ current: CurrentToken; stale: boolean }> {
    const token = state.current;
    if (token !== undefined && token.generation !== sentGeneration && isUsable(token, now())) {
      return { current: token, stale: true };
    }
    if (token !== undefined && token.generation === sentGeneration) {
      state.current = undefined;
      await forget(token.token, 'rejected', token.fingerprint);
    }
    const next = await flightOfSession('rejected');
    // We may have joined a flight that took up the rejected token just before it was rejected.
    const retook = next.token.accessToken === state.rejectedToken;
    return { current: retook ? await flightOfSession('rejected') : next, stale: false };
  };
}

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
  const { source, now } = options;
  const lifecycle = new AbortController();
  const state: ManagerState = {
    current: undefined,
    generation: 0,
    rejectedToken: undefined,
    backgroundNotBefore: 0,
  };
  const cooldown = createCooldown(options);
  let rotation: Rotation | undefined;
  /** Every token this manager could have handed to the store, to scrub from store errors. */
  const knownTokens = (): string[] =>
    [state.current?.token.accessToken, state.rejectedToken, ...(rotation?.secrets() ?? [])].filter(
      (token): token is string => token !== undefined,
    );
  const store = createStoreAccess(options, { signal: lifecycle.signal, knownTokens });
  if (source.rotation !== undefined) {
    rotation = source.rotation.rotate(options, { store, signal: lifecycle.signal });
  }
  const adopt = createAdopter(options, state, cooldown);
  const session = createSessionOrder();
  const parts = { store, cooldown, adopt, rotation, session, signal: lifecycle.signal };
  const { flight, flightOfSession, bounded, ejected } = createSessionFlights(
    createFlightRunner(options, state, parts),
    { name: source.name, url: source.rotation?.url ?? '', signal: lifecycle.signal },
  );
  const unfollow = followSiblings(options, state, { store, adopt, rotation, session });

  function peek(): CurrentToken | undefined {
    const token = state.current;
    if (token === undefined) return undefined;
    const at = now();
    if (at < token.refreshAt) return token;
    if (at >= token.expiredAt) return undefined;
    // While a flight is under way, this joins it (p-memoize): no second token request.
    if (at >= state.backgroundNotBefore) flight('refresh-window').catch(noop);
    return token;
  }

  const { forget, invalidate, dropAll } = createInvalidation(options, state, { store, cooldown });

  return {
    name: source.name,
    peek,
    get() {
      const token = lifecycle.signal.aborted ? undefined : peek();
      if (token !== undefined) return Promise.resolve(token);
      if (lifecycle.signal.aborted) return Promise.reject(ejected());
      return flightOfSession(state.current === undefined ? 'missing' : 'expired');
    },
    rejected: createReplacement(state, { now, forget, flightOfSession }),
    invalidate,
    async resume(refreshToken) {
      if (rotation === undefined) throw new TypeError(`provider "${source.name}" has no refresh token to resume`);
      const started = rotation;
      const underLock = async (): Promise<void> => {
        const key = await source.key;
        const lock = await store.lock(key);
        try {
          if (lifecycle.signal.aborted) throw ejected();
          // The old session's access token is not taken up again, here or from the store.
          await started.resume(key, refreshToken, { lock, dropOld: dropAll });
        } finally {
          if (typeof lock === 'object') void store.call('release', () => lock.release(), undefined);
        }
      };
      await bounded(() => session.resume(underLock));
    },
    dispose() {
      unfollow();
      state.current = undefined;
      lifecycle.abort(new Error('tokenflight handle ejected'));
    },
  };
}
