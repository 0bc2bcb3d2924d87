import type { TokenProvider } from './endpoint.js';
import { defineProvider, endpointUrl, path, readOptions, type ProviderOptions } from './define.js';
import { expectString } from '../shared/validate.js';

/** Options of {@link marsview}. */
export interface MarsviewOptions extends ProviderOptions {
  /** Your Marsview user ID. */
  userId: string;
  /** Your Marsview API key. */
  apiKey: string;
  /** Your Marsview API secret. */
  apiSecret: string;
  /** @default 'https://api.marsview.ai' */
  baseURL?: string;
}

/**
 * Marsview: `POST {baseURL}/cb/v1/auth/create_access_token` with `{"userId","apiKey","apiSecret"}`,
 * answered with `{"status":true,"data":{"accessToken","expiresIn","tokenType"}}`. Bad credentials
 * are a 401 `{"status":false,"error":"NJSCFE001"}`: a `TokenRequestError` with code
 * `ERR_TOKEN_CREDENTIALS` and `providerCode` `NJSCFE001`.
 *
 * @example
 * ```ts
 * attachTokenAuth(api, { providers: marsview({ userId, apiKey, apiSecret }) });
 * ```
 */
export function marsview(options: MarsviewOptions): TokenProvider {
  const context = 'marsview()';
  const given = readOptions(options, context, ['userId', 'apiKey', 'apiSecret', 'baseURL']);
  const userId = expectString(given['userId'], 'userId', context);
  const apiKey = expectString(given['apiKey'], 'apiKey', context);
  const apiSecret = expectString(given['apiSecret'], 'apiSecret', context);
  return defineProvider({
    context,
    options: given,
    defaultName: 'marsview',
    endpoint: {
      kind: 'marsview',
      url: endpointUrl(
        given,
        context,
        { key: 'baseURL', fallback: 'https://api.marsview.ai' },
        '/cb/v1/auth/create_access_token',
      ),
      method: 'POST',
      encoding: 'json',
      body: { userId, apiKey, apiSecret },
      headers: {},
      // The user ID is a public identifier; the API key and secret are scrubbed.
      secrets: [apiKey, apiSecret],
      response: {
        token: path('data.accessToken'),
        expiresIn: path('data.expiresIn'),
        tokenType: path('data.tokenType'),
        success: path('status'),
        errorCode: [path('error'), path('data.error')],
        errorMessage: [path('message'), path('data.message')],
      },
      defaultLifetimeMs: 3_600_000,
    },
  });
}
