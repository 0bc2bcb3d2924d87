// Pages of one origin signed in with a rotating refresh token, for the jest unit tests of
// BrowserTokenStore: an authorization server played by axios-mock-adapter (rotation and reuse
// detection), and a page whose tokenflight handle uses a BrowserTokenStore on the in-memory doubles.
import axios, { type AxiosInstance } from 'axios';
import type MockAdapter from 'axios-mock-adapter';
import { attachTokenAuth, refreshTokenGrant, type TokenAuth, type TokenAuthEvent } from '../../../lib/index.js';
import { BrowserTokenStore, type BrowserTokenStoreEvent, type BrowserTokenStoreOptions } from '../../../lib/browser.js';
import { mockOf } from '../../helpers/index.js';

export const AUTH_TOKEN_URL = 'https://auth.example.com/oauth2/token';
export const API_URL = 'https://api.example.com';

/** What the mocked authorization server saw. */
export interface AuthorizationStats {
  /** Every refresh token presented, in order. */
  presented: string[];
  /** Presentations of a refresh token already used: each revokes the family. */
  reuseDetections: number;
  revoked: boolean;
}

/**
 * A token endpoint on `tokenClient` that rotates refresh tokens: `rt-1` is issued first (and any
 * passed to `issue`), each use answers `at-N` and `rt-N`, and a used one ends the family.
 */
export function mockAuthorizationServer(tokenClient: AxiosInstance): {
  stats: AuthorizationStats;
  issue(refreshToken: string): void;
  mock: MockAdapter;
} {
  const mock = mockOf(tokenClient);
  const valid = new Set(['rt-1']);
  const used = new Set<string>();
  const stats: AuthorizationStats = { presented: [], reuseDetections: 0, revoked: false };
  let issued = 1;
  mock.onPost(AUTH_TOKEN_URL).reply((config) => {
    const presented = new URLSearchParams(String(config.data)).get('refresh_token') ?? '';
    stats.presented.push(presented);
    if (used.has(presented)) {
      stats.reuseDetections++;
      stats.revoked = true;
    }
    if (stats.revoked || !valid.has(presented)) return [400, { error: 'invalid_grant' }];
    valid.delete(presented);
    used.add(presented);
    issued++;
    valid.add(`rt-${issued}`);
    return [
      200,
      { access_token: `at-${issued}`, refresh_token: `rt-${issued}`, token_type: 'Bearer', expires_in: 3600 },
    ];
  });
  return { stats, issue: (refreshToken) => valid.add(refreshToken), mock };
}

/** A page: its store, its handle on an API that answers 200, and what both reported. */
export interface SessionPage {
  store: BrowserTokenStore;
  auth: TokenAuth;
  api: AxiosInstance;
  events: TokenAuthEvent[];
  storeEvents: BrowserTokenStoreEvent[];
}

/** Opens a page signed in with `refreshToken` (the option an app would pass), over `store` options. */
export function openSessionPage(
  tokenClient: AxiosInstance,
  storeOptions: BrowserTokenStoreOptions,
  refreshToken = 'rt-1',
): SessionPage {
  const storeEvents: BrowserTokenStoreEvent[] = [];
  const events: TokenAuthEvent[] = [];
  const store = new BrowserTokenStore({
    storageEvents: false,
    pageEvents: false,
    indexedDB: false,
    onEvent: (event) => storeEvents.push(event),
    ...storeOptions,
  });
  const api = axios.create({ baseURL: API_URL });
  mockOf(api).onGet('/me').reply(200, {});
  const auth = attachTokenAuth(api, {
    providers: refreshTokenGrant({ tokenUrl: AUTH_TOKEN_URL, clientId: 'spa', refreshToken, origins: [API_URL] }),
    store,
    tokenClient,
    onEvent: (event) => events.push(event),
  });
  return { store, auth, api, events, storeEvents };
}
