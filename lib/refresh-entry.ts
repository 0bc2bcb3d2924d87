import { DEFAULTS } from './defaults.js';
import type { StoredToken, TokenStore } from './store.js';
import type { StoreAccess } from './store-access.js';
import { isRefreshToken } from './validate.js';

// A rotating refresh token as the store keeps it: an entry of its own beside the access token's,
// shaped like a token so that every store (and RedisTokenStore's encryption) keeps it as it keeps
// access tokens.

/** A refresh token as a store entry knows it. */
export interface RefreshEntry {
  readonly refreshToken: string;
  /** Orders entries: each one is later than the one it replaces. */
  readonly obtainedAt: number;
  readonly ended: boolean;
}

export const FAILED = Symbol('store failed');

/** The store key of a provider's refresh token, beside its access token's. */
export const refreshKey = (key: string): string => `${key}:refresh`;

/** The entry as a {@link StoredToken}: base64 keeps any refresh token within a bearer token's characters. */
function encode(entry: RefreshEntry): StoredToken {
  return {
    accessToken: btoa(entry.refreshToken),
    tokenType: entry.ended ? 'Ended' : 'Refresh',
    // Outlives every access token (whose lifetime is bounded by the same figure).
    expiresAt: entry.obtainedAt + DEFAULTS.maxTokenLifetimeMs,
    obtainedAt: entry.obtainedAt,
  };
}

function decode(token: StoredToken): RefreshEntry | undefined {
  if (token.tokenType !== 'Refresh' && token.tokenType !== 'Ended') return undefined;
  try {
    const refreshToken = atob(token.accessToken);
    if (!isRefreshToken(refreshToken)) return undefined;
    return { refreshToken, obtainedAt: token.obtainedAt, ended: token.tokenType === 'Ended' };
  } catch {
    return undefined;
  }
}

/** Reads and writes a session's refresh-token entry; `read` resolves to FAILED when the store failed. */
export function sharedEntry(store: StoreAccess, raw: TokenStore) {
  return {
    async read(key: string): Promise<RefreshEntry | undefined | typeof FAILED> {
      const found = await store.call('get', () => raw.get(refreshKey(key)), FAILED);
      if (found === FAILED) return FAILED;
      const checked = await store.checked(refreshKey(key), found, 'get');
      return checked === undefined ? undefined : decode(checked);
    },
    /** True if the store took it. */
    async write(key: string, entry: RefreshEntry): Promise<boolean> {
      const stored = encode(entry);
      const held = await store.call('set', () => raw.set(refreshKey(key), stored), FAILED, {
        tokens: [entry.refreshToken, stored.accessToken],
      });
      return held !== FAILED;
    },
  };
}
