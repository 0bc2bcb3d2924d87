import type { RejectionContext } from './options.js';

/** How an API says "your token was rejected": statuses, and optionally the user's own verdict. */
export interface RejectionPolicy {
  readonly unauthorizedStatuses: ReadonlySet<number>;
  readonly isTokenRejected: ((context: RejectionContext) => boolean) | undefined;
}

/** The `error` parameter of a challenge's parameters. */
const ERROR_PARAM = /(?:^|[\s,])error\s*=\s*"?([^",\s]*)"?/i;

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
  const error = ERROR_PARAM.exec(bearer[1] ?? '');
  return error === null || error[1] === 'invalid_token';
}

/**
 * A DPoP challenge whose error is `invalid_token`, read as the Bearer one is (a pattern, not the
 * full parser of lib/oauth/www-authenticate.ts, which only DPoP providers load).
 */
function dpopAllowsRefresh(challenge: string): boolean {
  const dpop = /(?:^|[\s,])dpop(?:\s|$)(.*)/is.exec(challenge);
  if (dpop === null) return false;
  return ERROR_PARAM.exec(dpop[1] ?? '')?.[1] === 'invalid_token';
}
