import type { StoredToken } from '../store.js';
import { TokenflightError } from '../../shared/errors.js';
import { checkStoredToken } from '../../shared/token-check.js';

// What the store writes under its names, and how it proves, when it reads them back, that it wrote
// them for that key (and, in a `sessionStorage` tab, for that tab). Web Storage is open to every
// script of the origin: anything else under its names (another script's value, an entry copied
// from another key, a copy of another tab's storage) is refused, and the sweep removes only what
// carries this proof.

/** The name of the Web Lock that claims `id`, and the prefix of the tab's other names. */
export const tabLockName = (prefix: string, id: string): string => `${prefix}tab:${id}`;
/** Where a page asking about its tab id writes its probe. */
export const probeKey = (prefix: string, nonce: string): string => `${prefix}tab-probe:${nonce}`;

/** Marks what the store writes (entries, leases, probes); the sweep removes nothing without it. */
export const ENTRY_FORMAT = 'tokenflight/1';

/** Whom an entry was written for: its store key, and the tab id of a `'tab'` store. */
export interface EntryBinding {
  readonly key: string;
  readonly tab: string | undefined;
}

/** Why an entry is refused: copied from another live tab, or not one this store wrote for this key. */
export type RefusalCode = 'ERR_STORE_ENTRY_INVALID' | 'ERR_STORE_TAB_DUPLICATED';

/** An entry as read from storage: the token, nothing, or why it is refused (never quoting it). */
export type ReadEntry = { token: StoredToken } | { missing: true } | { refused: string; code: RefusalCode };

/** An entry's refusal. */
export type Refusal = Extract<ReadEntry, { refused: string }>;

/** The error a read of a refused entry rejects with: what was wrong, never the entry. */
export function refusalError(key: string, refusal: Refusal): TokenflightError {
  const message =
    refusal.code === 'ERR_STORE_TAB_DUPLICATED'
      ? `BrowserTokenStore: entry ${key} was copied from another tab that is still open (a duplicated tab); it is not used here: sign in again in this tab (auth.resumeSession)`
      : `BrowserTokenStore: entry ${key} is not one this store wrote for it (${refusal.refused}); it is not used`;
  return new TokenflightError(message, { code: refusal.code });
}

const invalid = (refused: string): ReadEntry => ({ refused, code: 'ERR_STORE_ENTRY_INVALID' });

/** `raw` parsed as a JSON object, or `undefined`. */
export function parseObject(raw: string | null): Record<string, unknown> | undefined {
  if (raw === null) return undefined;
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** True when `value` carries the store's mark and names `key`: the store wrote it under that key. */
export const isMarkedFor = (value: Record<string, unknown> | undefined, key: string): boolean =>
  value?.['format'] === ENTRY_FORMAT && value['key'] === key;

/** The fields that bind what the store writes to its key and tab. */
export function bindingFields(binding: EntryBinding): Record<string, string> {
  const fields: Record<string, string> = { format: ENTRY_FORMAT, key: binding.key };
  if (binding.tab !== undefined) fields['tab'] = binding.tab;
  return fields;
}

/** The JSON text of an entry: its binding and the token's four fields, nothing else. */
export function encodeEntry(token: StoredToken, binding: EntryBinding): string {
  const { accessToken, tokenType, expiresAt, obtainedAt } = token;
  return JSON.stringify({ ...bindingFields(binding), accessToken, tokenType, expiresAt, obtainedAt });
}

/** Why `value`, marked for `binding.key`, was not written for `binding.tab`; `undefined` when it was. */
function tabRefusal(value: Record<string, unknown>, binding: EntryBinding): ReadEntry | undefined {
  const { tab } = value;
  if (tab === binding.tab) return undefined;
  if (typeof tab === 'string' && binding.tab !== undefined) {
    return { refused: 'it was copied from another tab that is still open', code: 'ERR_STORE_TAB_DUPLICATED' };
  }
  return invalid('it was written by a store with another `sharedBy`');
}

/**
 * Reads an entry's text: it must be one this store wrote for `binding` (its mark, its key, its
 * tab), and pass the checks a token response passes (rule 10). Anything else is refused, and is
 * never sent.
 */
export function decodeEntry(raw: string | null, binding: EntryBinding, now: number): ReadEntry {
  if (raw === null) return { missing: true };
  const value = parseObject(raw);
  if (value === undefined) return invalid('it is not a JSON object');
  if (value['format'] !== ENTRY_FORMAT) return invalid('it is not an entry tokenflight wrote (no format mark)');
  if (value['key'] !== binding.key) return invalid('it was written under another key (copied from another entry)');
  const refusal = tabRefusal(value, binding);
  if (refusal !== undefined) return refusal;
  const checked = checkStoredToken(value, now);
  return typeof checked === 'string' ? invalid(checked) : { token: checked };
}

/** True when the token has expired at `now`. */
export const hasExpired = (token: StoredToken, now: number): boolean =>
  token.expiresAt !== null && token.expiresAt <= now;

/** True when `raw` is an entry the store wrote for `key` whose token had expired at `now`: the sweep may remove it. */
export function isOwnExpiredEntry(raw: string | null, key: string, now: number): boolean {
  const value = parseObject(raw);
  if (!isMarkedFor(value, key)) return false;
  const expiresAt = value?.['expiresAt'];
  return typeof expiresAt === 'number' && expiresAt <= now;
}

/**
 * True when `raw` is a record the store wrote for `key` (a lease, a probe) whose `until` has
 * passed at `now`: the sweep may remove it.
 */
export function isOwnRecordOver(raw: string | null, key: string, now: number): boolean {
  const value = parseObject(raw);
  const until = value?.['until'];
  return isMarkedFor(value, key) && typeof until === 'number' && until <= now;
}
