import { CLOCK_SKEW_THRESHOLD_MS, DEFAULTS } from '../../shared/defaults.js';
import { readJwtTimes } from '../../shared/jwt.js';

/** What a token response tells us about when its token expires. */
export interface ExpiryFacts {
  /** The response's lifetime (`expiresIn`) in ms, when it gave a positive one. */
  expiresInMs: number | undefined;
  accessToken: string;
  /** When the token request was sent, by our clock. */
  sentAt: number;
  /** When its response arrived, by our clock. */
  receivedAt: number;
  /** The response's `Date` header, if any, in epoch ms. */
  serverDateMs: number | undefined;
  /** The provider's documented lifetime, if it has one. */
  defaultLifetimeMs: number | undefined;
}

/**
 * Rule 10: an expiry no later than `DEFAULTS.maxTokenLifetimeMs` after `from`, or `null`. Anything
 * later (`Infinity` included) is brought forward; `NaN` is not an expiry and reads as unknown.
 */
export function boundedExpiresAt(expiresAt: number | null, from: number): number | null {
  if (expiresAt === null || Number.isNaN(expiresAt)) return null;
  return Math.min(expiresAt, from + DEFAULTS.maxTokenLifetimeMs);
}

/**
 * Rule 3: `expiresAt` comes from `expiresIn` (counted from when the request was sent, so latency
 * only makes us early), else the JWT `exp` claim (corrected when the server's clock and ours
 * disagree by minutes), else the provider's default lifetime, else unknown (`null`: refresh only
 * on 401). Always finite or `null`: lifetimes are bounded by `DEFAULTS.maxTokenLifetimeMs`.
 */
export function computeExpiresAt(facts: ExpiryFacts): number | null {
  return boundedExpiresAt(unboundedExpiresAt(facts), facts.sentAt);
}

function unboundedExpiresAt(facts: ExpiryFacts): number | null {
  if (facts.expiresInMs !== undefined) return facts.sentAt + facts.expiresInMs;
  const jwt = readJwtTimes(facts.accessToken);
  if (jwt?.exp !== undefined) {
    const expiresAt = jwt.exp * 1000 - clockOffsetMs(facts, jwt.iat);
    // An exp already in the past (a clock we could not correct) is not trusted: fall through.
    if (expiresAt > facts.receivedAt) return expiresAt;
  }
  if (facts.defaultLifetimeMs !== undefined) return facts.sentAt + facts.defaultLifetimeMs;
  return null;
}

/** The server's clock minus ours, if they disagree by at least CLOCK_SKEW_THRESHOLD_MS, else 0. */
function clockOffsetMs(facts: ExpiryFacts, iat: number | undefined): number {
  let offset = 0;
  if (facts.serverDateMs !== undefined) offset = facts.serverDateMs - facts.receivedAt;
  else if (iat !== undefined) offset = iat * 1000 - facts.receivedAt;
  return Math.abs(offset) >= CLOCK_SKEW_THRESHOLD_MS ? offset : 0;
}

/** When to start a background refresh and when to stop using a token, in epoch ms. */
export interface TokenTimes {
  /** From here on, one background refresh runs while requests keep using the token. */
  refreshAt: number;
  /** From here on, the token is not sent: callers wait for a new one. */
  expiredAt: number;
}

/** The refresh window is at most this share of the token's lifetime. */
const REFRESH_WINDOW_MAX_SHARE = 0.5;
/** The expiry margin is at most this share of the token's lifetime. */
const EXPIRY_MARGIN_MAX_SHARE = 0.1;
/** Refresh starts up to this share of the window earlier, at random, so a fleet does not refresh in step. */
const REFRESH_JITTER_SHARE = 0.2;

/**
 * Safety margins scale with the token's lifetime, so a token that lives two seconds is still used
 * for most of them.
 */
export function tokenTimes(
  token: { expiresAt: number | null; obtainedAt: number },
  options: { refreshWindowMs: number; expiryMarginMs: number; jitter?: number },
): TokenTimes {
  if (token.expiresAt === null) return { refreshAt: Infinity, expiredAt: Infinity };
  const lifetime = Math.max(0, token.expiresAt - token.obtainedAt);
  const margin = Math.min(options.expiryMarginMs, lifetime * EXPIRY_MARGIN_MAX_SHARE);
  const window = Math.min(options.refreshWindowMs, lifetime * REFRESH_WINDOW_MAX_SHARE);
  const jitter = window * REFRESH_JITTER_SHARE * (options.jitter ?? 0);
  const expiredAt = token.expiresAt - margin;
  // A window narrower than the margin (refreshWindowMs: 0) must not keep an expired token in use.
  return { refreshAt: Math.min(token.expiresAt - window - jitter, expiredAt), expiredAt };
}
