// The shapes the authorization server shares between its server, its grants and its HTTP handling:
// clients, counters and refresh-token families.

/** A client registered with the {@link startAuthorizationServer | authorization server}. */
export interface AuthorizationServerClient {
  /** Its `client_id`. */
  readonly clientId: string;
  /**
   * Its `client_secret`: a confidential client authenticates with it (`client_secret_basic` or
   * `client_secret_post`). Leave it out for a public client, which sends only `client_id`.
   */
  readonly clientSecret?: string;
}

/** Counters, taken at the authorization server. */
export interface AuthorizationServerStats {
  /** Requests that reached the token endpoint (`POST /oauth2/token`), whatever their outcome. */
  refreshRequests: number;
  /**
   * Refresh tokens the server looked up to handle a request: every use of one, whatever came of it.
   * A request abandoned before it was handled (its client went away during `tokenLatencyMs`) is not a use.
   */
  refreshTokenUses: number;
  /** Successful rotations: a refresh token was used up and a new one (and an access token) issued. */
  rotations: number;
  /** Refresh tokens presented again after they had been used (each revokes its family, if it is not revoked yet). */
  reuseDetections: number;
  /** Families revoked, by reuse detection or by `revokeFamily()`. */
  revokedFamilies: number;
  /** Token answers dropped by `dropNextTokenAnswer()`. */
  droppedAnswers: number;
  /** Requests to the protected API (every path but the token endpoint's, or under `apiPath`). */
  apiRequests: number;
  /** API requests answered 200. */
  apiSucceeded: number;
  /** API requests answered 401: no token, or an unknown, expired or revoked one. */
  apiUnauthorized: number;
}

/** A family of refresh tokens: one original grant and every token rotated from it. */
export interface RefreshTokenFamily {
  /** An opaque id. */
  readonly id: string;
  /** The client it was issued to. */
  readonly clientId: string;
  /** Whether it was revoked (reuse detected, or `revokeFamily()`): none of its tokens works any more. */
  readonly revoked: boolean;
  /** How many times its refresh token was rotated. */
  readonly rotations: number;
  /** The refresh token that may be used next (the newest one issued). */
  readonly currentRefreshToken: string;
}
