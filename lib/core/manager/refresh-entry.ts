import { DEFAULTS } from '../../shared/defaults.js';
import type { StoredToken, TokenStore } from '../../stores/store.js';
import type { StoreAccess } from './store-access.js';
import { isRefreshToken } from '../../shared/validate.js';

// A rotating refresh token as the store keeps it: an entry of its own beside the access token's,
// shaped like a token so that every store (and RedisTokenStore's encryption) keeps it as it keeps
// access tokens.

/** A refresh token as a store entry knows it. */
export interface RefreshEntry {
  readonly refreshToken: string;
  /** Orders entries: each one is later than the one it replaces. */
  readonly obtainedAt: number;
  readonly ended: boolean;
  /**
   * Set on a rotation mark: a holder is presenting `refreshToken` and will have written what the
   * server answered before this (epoch ms, the holder's clock). See lib/core/manager/rotation.ts.
   */
  readonly rotatingUntil?: number;
}

/** The store failed; `cause` is what it threw (scrubbed), when it threw. */
export interface StoreFailed {
  readonly failed: true;
  readonly cause: Error | undefined;
}

/** The entry is there but is not one tokenflight wrote (junk, or another program's). */
export const CORRUPT = Symbol('entry corrupt');

/** The store key of a provider's refresh token, beside its access token's. */
export const refreshKey = (key: string): string => `${key}:refresh`;

/** The entry as a {@link StoredToken}: base64 keeps any refresh token within a bearer token's characters. */
function encode(entry: RefreshEntry): StoredToken {
  const marked = entry.rotatingUntil !== undefined;
  return {
    // A mark carries its expiry before the token: digits and a dot are bearer-token characters.
    accessToken: marked ? `${entry.rotatingUntil}.${btoa(entry.refreshToken)}` : btoa(entry.refreshToken),
    tokenType: entry.ended ? 'Ended' : marked ? 'Rotating' : 'Refresh',
    // Outlives every access token (whose lifetime is bounded by the same figure).
    expiresAt: entry.obtainedAt + DEFAULTS.maxTokenLifetimeMs,
    obtainedAt: entry.obtainedAt,
  };
}

const MARK = /^(\d{1,16})\.(.+)$/;

function decode(token: StoredToken): RefreshEntry | undefined {
  if (token.tokenType === 'Rotating') {
    const [, until, rest] = MARK.exec(token.accessToken) ?? [];
    const entry = rest === undefined ? undefined : decode({ ...token, accessToken: rest, tokenType: 'Refresh' });
    return entry === undefined ? undefined : { ...entry, rotatingUntil: Number(until) };
  }
  if (token.tokenType !== 'Refresh' && token.tokenType !== 'Ended') return undefined;
  try {
    const refreshToken = atob(token.accessToken);
    if (!isRefreshToken(refreshToken)) return undefined;
    return { refreshToken, obtainedAt: token.obtainedAt, ended: token.tokenType === 'Ended' };
  } catch {
    return undefined;
  }
}

const FAILED = Symbol('store failed');

/**
 * Reads and writes a session's refresh-token entry. `read` resolves to a {@link StoreFailed} when
 * the store failed, and to CORRUPT (reported at once, as `ERR_STORE_ENTRY_INVALID`) when the entry
 * is not one tokenflight wrote.
 */
export function sharedEntry(store: StoreAccess, raw: TokenStore) {
  return {
    async read(key: string): Promise<RefreshEntry | undefined | StoreFailed | typeof CORRUPT> {
      let cause: Error | undefined;
      const found = await store.call('get', () => raw.get(refreshKey(key)), FAILED, {
        onError: (error) => (cause = error),
      });
      if (found === FAILED) return { failed: true, cause };
      if (found === undefined) return undefined;
      const checked = await store.checked(refreshKey(key), found, 'get');
      const entry = checked === undefined ? undefined : decode(checked);
      if (entry !== undefined) return entry;
      if (checked !== undefined) store.invalid('the refresh-token entry is not one tokenflight wrote', 'get');
      return CORRUPT;
    },
    /** True if the store took it; `critical` asks the store not to skip it (a circuit breaker open). */
    async write(key: string, entry: RefreshEntry, options: { critical?: boolean } = {}): Promise<boolean> {
      const stored = encode(entry);
      const setOptions = options.critical === true ? { critical: true } : undefined;
      const held = await store.call('set', () => raw.set(refreshKey(key), stored, setOptions), FAILED, {
        tokens: [entry.refreshToken, stored.accessToken],
      });
      return held !== FAILED;
    },
  };
}
