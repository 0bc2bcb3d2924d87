import type { RejectionContext } from './options.js';

/** How an API says "your token was rejected": statuses, and optionally the user's own verdict. */
export interface RejectionPolicy {
  readonly unauthorizedStatuses: ReadonlySet<number>;
  readonly isTokenRejected: ((context: RejectionContext) => boolean) | undefined;
}

/** Whether a `WWW-Authenticate` challenge leaves room for a new token to help (RFC 6750 §3.1). */
export function challengeAllowsRefresh(challenge: string | undefined): boolean {
  if (challenge === undefined || challenge.trim() === '') return true;
  const bearer = /(?:^|[\s,])bearer(?:\s|$)(.*)/is.exec(challenge);
  if (bearer === null) return false;
  const error = /(?:^|[\s,])error\s*=\s*"?([^",\s]*)"?/i.exec(bearer[1] ?? '');
  return error === null || error[1] === 'invalid_token';
}
