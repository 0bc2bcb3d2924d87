import type { DpopBinding } from '../../core/dpop.js';
import type { HttpResponse } from '../../core/http.js';
import type { Failure, Issued } from './types.js';

/**
 * What a token endpoint's answer means under DPoP (RFC 9449 §5, §8): a 400 `use_dpop_nonce` is a
 * nonce challenge (sent once more at once, lib/providers/token-request/retry.ts); a token issued as
 * `DPoP` is bound (its type written `DPoP` whatever its case); one issued as `Bearer` is refused
 * when `dpop.required` is set (`ERR_TOKEN_NOT_DPOP_BOUND`, nothing cached), else used as a bearer token.
 */
export function dpopOutcome(outcome: Issued | Failure, response: HttpResponse, dpop: DpopBinding): Issued | Failure {
  if ('code' in outcome) {
    return dpop.isTokenNonceChallenge(response) ? { ...outcome, nonceChallenge: true } : outcome;
  }
  const { token } = outcome;
  if (token.tokenType.toLowerCase() === 'dpop') return { ...outcome, token: { ...token, tokenType: 'DPoP' } };
  if (!dpop.required) return outcome;
  const failure: Failure = {
    code: 'ERR_TOKEN_NOT_DPOP_BOUND',
    detail: `the token endpoint issued a ${token.tokenType} token, not a DPoP-bound one, and \`dpop.required\` is set`,
    retryable: false,
    status: response.status,
  };
  return outcome.refreshToken === undefined ? failure : { ...failure, refreshToken: outcome.refreshToken };
}
