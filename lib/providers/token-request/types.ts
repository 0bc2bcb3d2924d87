import type { HttpClient } from '../../core/http.js';
import type { Discovery } from '../../oauth/discovery.js';
import type { DpopBinding } from '../../core/dpop.js';
import type { TokenRequestErrorCode } from '../../shared/errors.js';
import type { StoredToken } from '../../stores/store.js';

/** Limits of token requests; see `DEFAULTS.tokenRequest`. */
export interface TokenRequestSettings {
  /** Time limit of one attempt, in ms. @default 10_000 */
  timeoutMs: number;
  /** Attempts after the first, for network errors, timeouts, 408, 429 and 5xx. @default 3 */
  retries: number;
  /** Backoff before the first retry, in ms; it doubles each time, with jitter. @default 250 */
  minDelayMs: number;
  /** Backoff never exceeds this, in ms (`Retry-After` aside). @default 4_000 */
  maxDelayMs: number;
  /** `Retry-After` is honoured up to this long, in ms. @default 30_000 */
  maxRetryAfterMs: number;
  /** Larger token responses are refused (`ERR_TOKEN_TOO_LARGE`). @default 1_048_576 */
  maxBodyBytes: number;
}

/** What one retry looks like, for events. */
export interface TokenRequestRetry {
  attempt: number;
  delayMs: number;
  code: TokenRequestErrorCode;
  status: number | undefined;
}

export interface TokenRequestContext {
  /** The boundary's HttpClient (never the intercepted instance or the wrapped fetch). */
  http: HttpClient;
  settings: TokenRequestSettings;
  /** Aborts the whole request, retries included (the handle was ejected). */
  signal: AbortSignal;
  now: () => number;
  random: () => number;
  onRetry?: ((retry: TokenRequestRetry) => void) | undefined;
  /**
   * Narrows which retryable failures are retried, after `delayMs` (the refresh-token grant retries
   * only what cannot have reached the server, and only within its lock). @default every retryable one
   */
  mayRetry?: ((failure: Failure, delayMs: number) => boolean) | undefined;
  /**
   * Called with the `refresh_token` of an answer that carried a valid one but is unusable otherwise
   * (no access token, say): the server rotated it all the same, and it must not be lost.
   */
  onRotatedAnyway?: ((refreshToken: string) => void) | undefined;
  /** The provider's metadata, when its token endpoint is discovered from an issuer. */
  discovery?: Discovery | undefined;
  /** DPoP: every attempt carries a new proof; a `use_dpop_nonce` answer is sent once more at once. */
  dpop?: DpopBinding | undefined;
}

/** The outcome of a token request that produced a token. */
export interface TokenResponse {
  token: StoredToken;
  attempts: number;
  /** The answer's `refresh_token`, for an endpoint that declares one. */
  refreshToken?: string | undefined;
}

/** What a successful answer issued. */
export interface Issued {
  token: StoredToken;
  refreshToken: string | undefined;
}

/** Why one attempt produced no token, and whether another attempt could. */
export interface Failure {
  code: TokenRequestErrorCode;
  detail: string;
  retryable: boolean;
  status?: number | undefined;
  providerCode?: string | undefined;
  retryAfterMs?: number | undefined;
  cause?: Error | undefined;
  /** A valid `refresh_token` the otherwise unusable answer carried. */
  refreshToken?: string | undefined;
  /** A DPoP nonce challenge (400 `use_dpop_nonce`): sent once more at once, not a failure to back off from. */
  nonceChallenge?: boolean | undefined;
}

/** The facts of a response that arrived, as one attempt saw them. */
export interface ResponseMeta {
  status: number;
  /** When the token request was sent and when its answer arrived, by our clock. */
  sentAt: number;
  receivedAt: number;
  /** The `Date` header, if any. */
  serverDate: string | undefined;
}
