/**
 * Every default tokenflight uses, in one place. Tests and docs import these rather than repeating
 * numbers.
 *
 * @example
 * ```ts
 * attachTokenAuth(api, { providers, tokenRequest: { retries: DEFAULTS.tokenRequest.retries + 2 } });
 * ```
 */
export const DEFAULTS = {
  /** Start one background refresh this long before a token expires (scaled down for short-lived tokens). */
  refreshWindowMs: 60_000,
  /** API statuses that mean "the token was rejected". */
  unauthorizedStatuses: [401] as readonly number[],
  /** A token counts as expired this long before its `expiresAt` (at most 10% of its lifetime). */
  expiryMarginMs: 5_000,
  /** After a failed background refresh, wait this long before the next one (the valid token stays in use). */
  backgroundRetryMs: 5_000,
  /** How long one call to the token store may take before tokenflight carries on without it. */
  storeTimeoutMs: 1_000,
  /**
   * The longest lifetime tokenflight believes (30 days): a later `expiresAt` (from `expiresIn`, a
   * JWT `exp` or a store entry) is brought forward to this long after the token was requested, so
   * `expiresAt` is always finite, and so are store TTLs. Not an option.
   */
  maxTokenLifetimeMs: 30 * 86_400_000,
  /**
   * The longest token tokenflight accepts, in characters (16 KiB): access and refresh tokens from
   * a token endpoint, from a `customProvider`'s `getToken`, from `resumeSession` and the
   * `refreshToken` option, and store entries (a refresh token's entry holds it in Base64, 4/3 as
   * long). Node's default limit for all of a request's headers together is the same 16 KiB
   * (`--max-http-header-size`), so a longer token could not be sent anyway. Longer ones are refused
   * (`ERR_TOKEN_TOO_LARGE`, or `ERR_STORE_ENTRY_INVALID` for a store entry), never quoted. Not an option.
   */
  maxTokenLength: 16_384,
  /** Limits of each token request (the `tokenRequest` option). */
  tokenRequest: {
    /** Time limit of one token request attempt. */
    timeoutMs: 10_000,
    /** Attempts after the first, for network errors, timeouts, 408, 429 and 5xx. */
    retries: 3,
    /** Backoff before the first retry; it doubles each time, with jitter (half to all of it). */
    minDelayMs: 250,
    /** Backoff never exceeds this, `Retry-After` aside. */
    maxDelayMs: 4_000,
    /** `Retry-After` is honoured up to this long. */
    maxRetryAfterMs: 30_000,
    /** Larger token responses are refused. */
    maxBodyBytes: 1_048_576,
    /** After a refusal that retrying cannot fix (bad credentials…), fail fast for this long without a request. */
    cooldownMs: 5_000,
  },
} as const;

/** When a token's clock and ours disagree by at least this much, a JWT `exp` is corrected by the difference. */
export const CLOCK_SKEW_THRESHOLD_MS = 5 * 60_000;
