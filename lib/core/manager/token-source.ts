import type { RefreshReason, TokenAuthEvent } from '../../shared/events.js';
import type { StoredToken, TokenStore, TokenStoreLock } from '../../stores/store.js';
import type { StoreAccess } from './store-access.js';
import type { DpopBinding } from '../dpop.js';
import type { SessionTicket } from './session.js';

/** A token a source produced, and how many requests it took. */
export interface FetchedToken {
  token: StoredToken;
  attempts: number;
}

/**
 * What a rotating credential's exchange produced: a token, and the credential to use next, if the
 * server rotated it; or, when the answer was unusable but carried a rotated credential all the
 * same, why it failed and that credential (which must be kept).
 */
export type ExchangedToken =
  | (FetchedToken & {
      /** The next credential, when the answer carried one (`refresh_token`); otherwise the presented one stays. */
      next: string | undefined;
    })
  | { failure: Error; next: string };

/**
 * A credential that may be presented once: a rotating refresh token. The token manager keeps it in
 * the store beside the access token and presents it only under the store's lock (lib/core/manager/rotation.ts).
 */
export interface RotatingCredential {
  /** The credential to present when neither the store nor this process knows a newer one. */
  readonly initial: string;
  /** The token endpoint, as errors show it. */
  readonly url: string;
  /**
   * Presents `credential` once. Rejects with `ERR_TOKEN_SESSION_ENDED` when the server says it is
   * over; never presents it again by itself after the request may have reached the server.
   * `deadline` (epoch ms): no attempt may still run after it.
   */
  exchange(
    credential: string,
    context: { signal: AbortSignal; reason: RefreshReason; deadline: number },
  ): Promise<ExchangedToken>;
  /** Hands a rotated credential to the application, before the token it came with is used. */
  readonly onRotated: ((credential: string) => unknown) | undefined;
  /** How long `onRotated` may take before the flight goes on without it (the token request's time limit). */
  readonly callbackTimeoutMs: number;
  /**
   * Makes the token manager's {@link Rotation} of this credential (lib/core/manager/rotation.ts). The provider
   * carries it, so that only applications that use a rotating credential bundle that code.
   */
  readonly rotate: (options: RotationOptions, parts: { store: StoreAccess; signal: AbortSignal }) => Rotation;
}

/** Where a token manager gets new tokens: one provider with one set of credentials. */
export interface TokenSource {
  readonly name: string;
  /** The store key: a hash of provider, endpoint and credentials (never a rotating credential). */
  readonly key: Promise<string>;
  /** Gets a token. Not called for a source with a `rotation`: its tokens come from `rotation.exchange`. */
  fetch(signal: AbortSignal, reason: RefreshReason): Promise<FetchedToken>;
  /** Present when the source's credential rotates (each one may be used once). */
  readonly rotation?: RotatingCredential | undefined;
  /** Present when its tokens are DPoP-bound: the key, proofs and nonces of both boundaries. */
  readonly dpop?: DpopBinding | undefined;
}

/** What a rotation takes from its token manager's options. */
export interface RotationOptions {
  source: { readonly name: string };
  store: TokenStore;
  now: () => number;
  lockTtlMs: number;
  storeTimeoutMs: number;
  emit: (event: TokenAuthEvent) => void;
}

/** What a rotating source's token manager uses to present its refresh token. */
export interface Rotation {
  exchange(
    key: string,
    lock: TokenStoreLock | 'none' | 'failed' | 'timeout',
    flight: { reason: RefreshReason; ticket: SessionTicket },
  ): Promise<FetchedToken>;
  /**
   * Starts a new session with `refreshToken` under the store's lock (taken with `lock`); `dropOld`
   * runs under it too, to drop the old session's access token.
   */
  resume(
    key: string,
    refreshToken: string,
    under: { lock: TokenStoreLock | 'none' | 'failed' | 'timeout'; dropOld: () => Promise<void> },
  ): Promise<void>;
  /**
   * A token another handle fetched was taken from the store: the session is under way. The
   * session's entry is read then too (in the background), so that a corrupt one is reported when
   * it appears rather than at the next rotation.
   */
  adopted(key: string): void;
  /** The refresh tokens this process knows, in clear and as stored, to scrub from store errors. */
  secrets(): string[];
}
