import { DEFAULTS } from './defaults.js';
import { boundedExpiresAt } from '../core/manager/expiry.js';
import type { StoredToken } from '../stores/store.js';

/** Characters of a bearer token (RFC 6750 §2.1 `b64token`). */
export const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
/** An authentication scheme name (RFC 9110 §11.1 `token`). */
export const TOKEN_TYPE = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/** Why `token` is too long to accept ({@link DEFAULTS}`.maxTokenLength`), in words that never quote it; undefined if it is not. */
export function tooLong(token: string, limit: number = DEFAULTS.maxTokenLength): string | undefined {
  return token.length > limit ? `is longer than ${limit} characters (DEFAULTS.maxTokenLength)` : undefined;
}

/**
 * A refresh token's entry holds it in Base64 (lib/core/manager/refresh-entry.ts): 4 characters for
 * every 3, and a rotation mark 17 more before it (its expiry and a dot).
 */
const STORED_REFRESH_LENGTH = 4 * Math.ceil(DEFAULTS.maxTokenLength / 3) + 17;

/**
 * Rule 10: a store entry passes the checks a token response passes (token characters, token
 * type, a finite expiry or none), so a corrupted or forged entry never reaches a header. Resolves
 * to the token (its expiry bounded like a fresh one's), or to what is wrong with it, in words that
 * never quote it.
 */
export function checkStoredToken(value: unknown, now: number): StoredToken | string {
  if (typeof value !== 'object' || value === null) return 'it is not an object';
  const { accessToken, tokenType, expiresAt, obtainedAt } = value as Record<string, unknown>;
  if (typeof accessToken !== 'string' || accessToken === '') return 'its token is missing or empty';
  if (typeof tokenType !== 'string' || !TOKEN_TYPE.test(tokenType)) return 'its token type is not a valid scheme name';
  const refresh = tokenType === 'Refresh' || tokenType === 'Ended' || tokenType === 'Rotating';
  const length = tooLong(accessToken, refresh ? STORED_REFRESH_LENGTH : DEFAULTS.maxTokenLength);
  if (length !== undefined) return `its token ${length}`;
  if (!BEARER_TOKEN.test(accessToken)) return 'its token has characters a bearer token cannot have';
  if (typeof obtainedAt !== 'number' || !Number.isFinite(obtainedAt)) return 'its `obtainedAt` is not a finite number';
  if (expiresAt !== null && (typeof expiresAt !== 'number' || Number.isNaN(expiresAt))) {
    return 'its `expiresAt` is neither a number nor null';
  }
  const bounded = boundedExpiresAt(expiresAt, Math.min(obtainedAt, now));
  return { accessToken, tokenType, expiresAt: bounded, obtainedAt };
}
