import type { TokenRequestErrorCode } from './errors.js';

/** Why tokenflight went to get a token. */
export type RefreshReason =
  /** There was no token yet. */
  | 'missing'
  /** The token had expired. */
  | 'expired'
  /** The token was inside its refresh window: refreshed in the background while it stayed in use. */
  | 'refresh-window'
  /** The API answered 401 to the current token. */
  | 'rejected'
  /** Another tab or handle wrote a newer token to a store that tells of changes (`TokenStore.subscribe`). */
  | 'store-changed';

/**
 * What tokenflight reports through `onEvent`. Events carry a token's fingerprint (the first 8 hex
 * digits of its SHA-256), never the token or a credential.
 */
export type TokenAuthEvent =
  | {
      type: 'token-fetched';
      provider: string;
      fingerprint: string;
      expiresAt: number | null;
      reason: RefreshReason;
      /** Token requests sent, retries included. */
      attempts: number;
      durationMs: number;
    }
  | {
      /** A token another handle or process had just put in the shared store was taken up instead of fetching. */
      type: 'token-adopted';
      provider: string;
      fingerprint: string;
      expiresAt: number | null;
      reason: RefreshReason;
    }
  | {
      type: 'token-failed';
      provider: string;
      error: Error;
      reason: RefreshReason;
      /** True when the current token stayed in use (a failed background refresh, retried later). */
      background: boolean;
    }
  | {
      type: 'token-retry';
      provider: string;
      attempt: number;
      delayMs: number;
      code: TokenRequestErrorCode;
      status: number | undefined;
    }
  | {
      type: 'token-invalidated';
      provider: string;
      fingerprint: string;
      /** `store-changed`: another tab or handle removed it from a store that tells of changes (`TokenStore.subscribe`). */
      reason: 'rejected' | 'manual' | 'store-changed';
    }
  | {
      type: 'request-replayed';
      provider: string;
      fingerprint: string;
      method: string;
      /** Origin and path, without query string. */
      url: string;
      /** True when the 401 was for an older token and the replay needed no token request. */
      stale: boolean;
    }
  | {
      /**
       * The token store failed or was too slow, or held an entry that is not a valid token (then
       * `error` is a `TokenflightError` with code `ERR_STORE_ENTRY_INVALID`, and the entry was
       * deleted); tokenflight carried on without it.
       */
      type: 'store-failed';
      provider: string;
      operation: 'get' | 'set' | 'delete' | 'lock' | 'release';
      error: unknown;
    }
  | {
      /**
       * A rotating refresh token was exchanged and the server rotated it: the new one replaced the
       * old one in the store (`stored: false` if the store failed to take it) and was handed to
       * `onRefreshToken`.
       */
      type: 'refresh-token-rotated';
      provider: string;
      /** Fingerprint of the new refresh token. */
      fingerprint: string;
      /** False when the store failed to take the new refresh token (this process still holds it). */
      stored: boolean;
      /** What `onRefreshToken` threw, scrubbed; the rotation stands. */
      callbackError: Error | undefined;
    }
  | {
      /**
       * The authorization server answered `invalid_grant`: the session of this refresh token is
       * over. Every caller gets `ERR_TOKEN_SESSION_ENDED` until `auth.resumeSession()` gives a new one.
       */
      type: 'session-ended';
      provider: string;
      /** Fingerprint of the refresh token that ended. */
      fingerprint: string;
      error: Error;
    }
  | {
      /**
       * A request went out without a token because no provider serves its origin (a typo in a
       * baseURL, `localhost` where a provider lists `127.0.0.1`). Reported once per origin.
       */
      type: 'request-unrouted';
      /** Always `null`: no provider serves the request. */
      provider: null;
      /** The origin the request was sent to, or `null` when its URL has no http(s) origin. */
      origin: string | null;
      /** Origin and path of the first such request, without user info or query string. */
      url: string;
      /** Every origin the attached providers serve. */
      servedOrigins: readonly string[];
    };

/** The names of {@link TokenAuthEvent}s. */
export type TokenAuthEventType = TokenAuthEvent['type'];
