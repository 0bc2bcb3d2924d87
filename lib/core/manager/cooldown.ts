import { isTokenRequestError, TokenRequestError, type TokenRequestErrorCode } from '../../shared/errors.js';

// The cool-down of a provider whose token endpoint keeps refusing (rule 6): a single refusal is
// never remembered; consecutive ones fail fast for a growing, capped, jittered time.

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

/** What a cool-down takes from its token manager's options. */
export interface CooldownOptions {
  cooldownMs: number;
  now: () => number;
  random: () => number;
}

/** Consecutive refusals of the token endpoint and the cool-down they earn (rule 6). */
export function createCooldown(options: CooldownOptions) {
  const { now } = options;
  let refusals = 0;
  let until = 0;
  let cause: TokenRequestError | undefined;
  return {
    /** Counts a failed flight; a refusal may start a cool-down. */
    failed(failure: Error): void {
      if (!isTokenRequestError(failure) || !COOLDOWN_CODES.has(failure.code) || failure.attempts === 0) return;
      refusals++;
      const delayMs = cooldownDelayMs(refusals, options.cooldownMs, failure.retryAfterMs, options.random);
      // A zero delay (the first refusal) ends at once: throwIfActive lets the next flight through.
      [until, cause] = [now() + delayMs, failure];
    },
    /** A token came, or the user invalidated: the endpoint is asked again at once. */
    end(): void {
      [refusals, until, cause] = [0, 0, undefined];
    },
    /** During a cool-down: the refusal again, with `attempts: 0`, and no token request. */
    throwIfActive(): void {
      const remainingMs = Math.ceil(until - now());
      if (cause === undefined || remainingMs <= 0) return;
      throw new TokenRequestError(`${cause.message}; not asked again for ${remainingMs} ms (cool-down)`, {
        code: cause.code,
        provider: cause.provider,
        url: cause.url,
        status: cause.status,
        providerCode: cause.providerCode,
        attempts: 0,
        retryAfterMs: cause.retryAfterMs,
      });
    },
  };
}

/** A provider's cool-down state; see {@link createCooldown}. */
export type Cooldown = ReturnType<typeof createCooldown>;
