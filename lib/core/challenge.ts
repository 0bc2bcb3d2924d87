import type { RejectionContext } from './options.js';
import { parseChallenges } from '../oauth/www-authenticate.js';

/** How an API says "your token was rejected": statuses, and optionally the user's own verdict. */
export interface RejectionPolicy {
  readonly unauthorizedStatuses: ReadonlySet<number>;
  readonly isTokenRejected: ((context: RejectionContext) => boolean) | undefined;
}

/**
 * Whether a `WWW-Authenticate` challenge leaves room for a new token to help (RFC 6750 §3.1): none,
 * or a Bearer challenge without an error or with `invalid_token`; or a DPoP challenge (RFC 9449 §7.1)
 * that says `invalid_token` (a DPoP-bound token rejected). A DPoP challenge without an error asks
 * for DPoP (a new bearer token cannot help), and `use_dpop_nonce` asks for a nonce, not a token.
 */
export function challengeAllowsRefresh(challenge: string | undefined): boolean {
  if (challenge === undefined || challenge.trim() === '') return true;
  const bearer = /(?:^|[\s,])bearer(?:\s|$)(.*)/is.exec(challenge);
  if (bearer === null) return dpopAllowsRefresh(challenge);
  const error = /(?:^|[\s,])error\s*=\s*"?([^",\s]*)"?/i.exec(bearer[1] ?? '');
  return error === null || error[1] === 'invalid_token';
}

/** A DPoP challenge whose error is `invalid_token`. */
function dpopAllowsRefresh(challenge: string): boolean {
  return parseChallenges(challenge).some(
    (found) => found.scheme === 'dpop' && found.params['error'] === 'invalid_token',
  );
}
