import { sleep } from '../../shared/async.js';
import { TokenRequestError } from '../../shared/errors.js';
import { displayUrl } from '../../shared/url.js';
import type { TokenEndpoint } from '../endpoint.js';
import { aborted, attemptOnce } from './attempt.js';
import { prepareEndpoint, preparationFailure } from './prepare.js';
import type { Failure, Issued, TokenRequestContext, TokenRequestSettings, TokenResponse } from './types.js';

/**
 * Sends one token request, retrying what retrying can fix (rule 6): network errors, timeouts, 408,
 * 429 and 5xx, with exponential backoff and jitter, honouring `Retry-After` up to a cap. Anything
 * else (a refusal, a redirect, a malformed answer) fails at once. Rejects with a
 * {@link TokenRequestError} that carries no secret.
 */
export async function requestToken(
  name: string,
  endpoint: TokenEndpoint,
  context: TokenRequestContext,
): Promise<TokenResponse> {
  const { settings } = context;
  for (let attempt = 1; ; attempt++) {
    const { target, outcome } = await attemptWithNonce(name, endpoint, context, attempt);
    if (!('code' in outcome)) return { ...outcome, attempts: attempt };
    if (outcome.refreshToken !== undefined) context.onRotatedAnyway?.(outcome.refreshToken);
    const delayMs = outcome.retryAfterMs ?? backoffMs(attempt, settings, context.random);
    const mayRetry = context.mayRetry?.(outcome, delayMs) ?? true;
    if (!outcome.retryable || !mayRetry || attempt > settings.retries || context.signal.aborted) {
      throw toError(name, target, outcome, attempt);
    }
    context.onRetry?.({ attempt, delayMs, code: outcome.code, status: outcome.status });
    try {
      await sleep(delayMs, context.signal);
    } catch {
      throw toError(name, endpoint, aborted(), attempt);
    }
  }
}

/**
 * One attempt: its own target, assertion and DPoP proof (a retry re-signs; a discovery failure
 * sends nothing). A DPoP nonce challenge is sent once more at once, with the nonce, a new proof and
 * a new assertion: part of the attempt, not a failure, no backoff, never a loop.
 */
async function attemptWithNonce(
  name: string,
  endpoint: TokenEndpoint,
  context: TokenRequestContext,
  attempt: number,
): Promise<{ target: TokenEndpoint; outcome: Issued | Failure }> {
  for (let resends = 0; ; resends++) {
    let target: TokenEndpoint;
    try {
      target = await prepareEndpoint(endpoint, context);
    } catch (error) {
      const failure = preparationFailure(error, context.signal);
      if (failure === undefined) throw error;
      throw toError(name, endpoint, failure, attempt);
    }
    const outcome = await attemptOnce(target, context);
    const again =
      'code' in outcome &&
      outcome.nonceChallenge === true &&
      resends === 0 &&
      context.dpop?.nonces.get(target.url) !== undefined;
    if (!again) return { target, outcome };
  }
}

/** Exponential backoff with "equal jitter": between half and all of min × 2^(attempt-1), capped. */
export function backoffMs(
  attempt: number,
  settings: Pick<TokenRequestSettings, 'minDelayMs' | 'maxDelayMs'>,
  random: () => number,
): number {
  const ceiling = Math.min(settings.maxDelayMs, settings.minDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export function toError(name: string, endpoint: TokenEndpoint, failure: Failure, attempts: number): TokenRequestError {
  const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
  return new TokenRequestError(
    `Could not get a token for provider "${name}": ${failure.detail}${tries} (${displayUrl(endpoint.url)})`,
    {
      code: failure.code,
      provider: name,
      url: displayUrl(endpoint.url),
      status: failure.status,
      providerCode: failure.providerCode,
      attempts,
      retryAfterMs: failure.retryAfterMs,
      cause: failure.cause,
    },
  );
}
