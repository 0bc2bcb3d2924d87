import type { IncomingHttpHeaders } from 'node:http';
import type { CorsOption } from './cors.js';
import type { SimulatedCredentials } from './vendors.js';

// The shapes a simulated provider shares between its server, its state and its API: faults, issued
// tokens, the requests it saw, its counters and its options.

/**
 * A fault for the token endpoint (or the protected API) to play. Queued faults are used up one per
 * request, in order; a persistent fault (`setTokenFault`) answers every token request until cleared.
 */
export type TokenFault =
  /** Answer with this status, body (an object is sent as JSON) and headers. */
  | { status: number; body?: unknown; headers?: Record<string, string> }
  /** Answer this raw text as the body (for malformed responses). */
  | { raw: string; status?: number; contentType?: string }
  /** Answer a redirect to `location`. */
  | { redirect: string; status?: 301 | 302 | 303 | 307 | 308 }
  /** Never answer (until the server closes). */
  | { hang: true }
  /** Cut the connection without answering (a network error). */
  | { reset: true }
  /** Answer normally, after a delay. */
  | { delayMs: number };

/** A token issued by the simulation. */
export interface IssuedToken {
  /** The token, as the simulation sent it. */
  readonly accessToken: string;
  /** Which tenant (index into `tenants`) it was issued to. */
  readonly tenant: number;
  /** The OAuth scope asked for, if any. */
  readonly scope: string | undefined;
  /** Epoch ms, by the simulation's clock. */
  readonly issuedAt: number;
  /** Epoch ms, by the simulation's clock. */
  readonly expiresAt: number;
  /** Set by `revoke()` and `revokeAll()`: the API then answers 401 to it. */
  revoked: boolean;
}

/** A request the simulation received. */
export interface SeenRequest {
  readonly kind: 'token' | 'api';
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
  /** All request headers, names in lower case. */
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** Counters, taken at the server. */
export interface SimulationStats {
  /** Requests that reached the token endpoint, faults included. */
  tokenRequests: number;
  tokensIssued: number;
  apiRequests: number;
  /** API requests answered 2xx. */
  apiSucceeded: number;
  /** API requests answered 401 because the token was missing, unknown, expired or revoked. */
  apiUnauthorized: number;
}

/** Options of {@link startProviderServer}. */
export interface ProviderServerOptions {
  /** Valid credentials; a request with any of these tenants gets a token. @default one tenant per vendor */
  credentials?: readonly SimulatedCredentials[];
  /** Lifetime of issued tokens, in seconds (fractions allowed). @default 3600 */
  tokenLifetimeSeconds?: number;
  /** Like Symbl: answer a token request with the tenant's unexpired token and its remaining lifetime. @default false */
  reuseTokens?: boolean;
  /** Delay of every token answer. @default 0 */
  tokenLatencyMs?: number;
  /** Delay of every API answer. @default 0 */
  apiLatencyMs?: number;
  /** The simulation's clock runs this far ahead of the machine's (for clock-skew tests). @default 0 */
  clockOffsetMs?: number;
  /** How many requests `requests` keeps, newest last. @default 10_000 */
  maxLoggedRequests?: number;
  /**
   * Lets web pages call it from a browser: `true` for any origin, or a list of page origins. CORS
   * preflights are answered and neither counted nor logged. @default false
   */
  cors?: CorsOption;
  /**
   * The protected API answers every path under this prefix but the token endpoint's, such as your
   * real API's `/v1/conversations`; other paths get 404. @default '/' (every path)
   */
  apiPath?: string;
}
