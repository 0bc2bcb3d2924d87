import type { StoredToken } from '../../store.js';
import { checkStoredToken } from '../../token-check.js';

/** An entry as read from storage: the token, nothing, or why it cannot be used (never quoting it). */
export type ReadEntry = { token: StoredToken } | { missing: true } | { invalid: string };

/** The JSON text of an entry: the token's four fields, nothing else. */
export function encodeEntry(token: StoredToken): string {
  const { accessToken, tokenType, expiresAt, obtainedAt } = token;
  return JSON.stringify({ accessToken, tokenType, expiresAt, obtainedAt });
}

/**
 * Reads an entry's text with the checks a token response passes (rule 10): anything else under
 * the prefix (a tampered entry, another app's value) is `invalid`, and is never sent.
 */
export function decodeEntry(raw: string | null, now: number): ReadEntry {
  if (raw === null) return { missing: true };
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { invalid: 'it is not JSON' };
  }
  const checked = checkStoredToken(value, now);
  return typeof checked === 'string' ? { invalid: checked } : { token: checked };
}

/** True when the token has expired at `now`. */
export const hasExpired = (token: StoredToken, now: number): boolean =>
  token.expiresAt !== null && token.expiresAt <= now;
