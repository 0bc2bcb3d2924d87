// The provider a test page uses, shared by the page (bundled against dist/) and the suites (run
// against lib/), so that a suite can work out the store key a page uses.
import { jsonProvider, refreshTokenGrant, type TokenProvider } from '../../../lib/index.js';

/** How a page sets tokenflight up. */
export interface PageConfig {
  adapter: 'xhr' | 'fetch';
  store: 'memory' | 'browser';
  /** The API's origin (the provider's). */
  apiOrigin: string;
  provider:
    { type: 'bff'; tokenUrl: string } | { type: 'refresh'; tokenUrl: string; clientId: string; refreshToken: string };
  /** Options of the page's BrowserTokenStore (`store: 'browser'`): localStorage and Web Locks by default. */
  browserStore?: {
    storage?: 'local' | 'session';
    /** `false`: the lease fallback even where Web Locks exist. */
    locks?: false;
    handoffWaitMs?: number;
  };
}

/** The page's provider: its own backend (a BFF), or a public OAuth client with a rotating refresh token. */
export function providerOf(config: PageConfig): TokenProvider {
  const { provider } = config;
  if (provider.type === 'refresh') {
    const { tokenUrl, clientId, refreshToken } = provider;
    // A public client: no secret in the page.
    return refreshTokenGrant({ tokenUrl, clientId, refreshToken, origins: [config.apiOrigin] });
  }
  // The page's own backend holds the app secret and answers { accessToken, expiresIn }.
  return jsonProvider({
    name: 'bff',
    tokenUrl: provider.tokenUrl,
    token: 'accessToken',
    expiresIn: 'expiresIn',
    origins: [config.apiOrigin],
    allowInsecureHttp: true,
  });
}
