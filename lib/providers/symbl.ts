import type { TokenProvider } from './endpoint.js';
import { defineProvider, endpointUrl, path, readOptions, type ProviderOptions } from './define.js';
import { expectString } from '../shared/validate.js';

/** Options of {@link symbl}. */
export interface SymblOptions extends ProviderOptions {
  /** Your Symbl App ID. */
  appId: string;
  /** Your Symbl App Secret. */
  appSecret: string;
  /** @default 'https://api.symbl.ai' */
  baseURL?: string;
}

/**
 * Symbl.ai: `POST {baseURL}/oauth2/token:generate` with `{"type":"application","appId","appSecret"}`,
 * answered with `{"accessToken","expiresIn"}` (seconds; 86400 when absent).
 *
 * @example
 * ```ts
 * const api = axios.create({ baseURL: 'https://api.symbl.ai' });
 * attachTokenAuth(api, { providers: symbl({ appId: process.env.SYMBL_APP_ID!, appSecret: process.env.SYMBL_APP_SECRET! }) });
 * ```
 */
export function symbl(options: SymblOptions): TokenProvider {
  const context = 'symbl()';
  const given = readOptions(options, context, ['appId', 'appSecret', 'baseURL']);
  const appId = expectString(given['appId'], 'appId', context);
  const appSecret = expectString(given['appSecret'], 'appSecret', context);
  return defineProvider({
    context,
    options: given,
    defaultName: 'symbl',
    endpoint: {
      kind: 'symbl',
      url: endpointUrl(given, context, { key: 'baseURL', fallback: 'https://api.symbl.ai' }, '/oauth2/token:generate'),
      method: 'POST',
      encoding: 'json',
      body: { type: 'application', appId, appSecret },
      headers: {},
      // The App ID names the app (a public identifier); only the secret is scrubbed.
      secrets: [appSecret],
      response: {
        token: path('accessToken'),
        expiresIn: path('expiresIn'),
        errorCode: [path('code')],
        errorMessage: [path('message')],
      },
      defaultLifetimeMs: 86_400_000,
    },
  });
}
