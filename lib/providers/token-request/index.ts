// One token request, in four layers: retry and backoff (retry.ts) around one attempt (attempt.ts),
// whose answer is classified (classify.ts) and, when it succeeded, read for its token (read-token.ts).
export { backoffMs, requestToken } from './retry.js';
export { parseRetryAfter } from './classify.js';
export type { TokenRequestContext, TokenRequestRetry, TokenRequestSettings, TokenResponse } from './types.js';
