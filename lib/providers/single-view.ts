import type { TokenProvider } from './endpoint.js';
import { defineProvider, endpointUrl, path, readOptions, type ProviderOptions } from './define.js';
import { expectString, optionalString } from '../shared/validate.js';

/** Options of {@link singleView}. */
export interface SingleViewOptions extends ProviderOptions {
  /** Your SingleView client ID. */
  clientId: string;
  /** Your SingleView client code (the secret). */
  clientCode: string;
  /** Your SingleView merchant ID. */
  merchantId: string;
  /** The SingleView environment, such as your sandbox or production base URL. */
  baseURL: string;
  /** @default 'client_Credentials' */
  grantType?: string;
}

/**
 * SingleView: `POST {baseURL}/v1/api/observice/token` with
 * `{"clientId","clientCode","merchantId","grantType":"client_Credentials"}`, answered with
 * `{"success":true,"payload":{"access_token","token_type","expires_in"}}`. Its documented sample
 * has `expires_in` 0 and a JWT access token: the expiry then comes from the JWT's `exp`, else the
 * documented 60 minutes.
 *
 * @example
 * ```ts
 * attachTokenAuth(api, { providers: singleView({ clientId, clientCode, merchantId, baseURL: 'https://sandbox.example-singleview.com' }) });
 * ```
 */
export function singleView(options: SingleViewOptions): TokenProvider {
  const context = 'singleView()';
  const given = readOptions(options, context, ['clientId', 'clientCode', 'merchantId', 'baseURL', 'grantType']);
  const clientId = expectString(given['clientId'], 'clientId', context);
  const clientCode = expectString(given['clientCode'], 'clientCode', context);
  const merchantId = expectString(given['merchantId'], 'merchantId', context);
  const grantType = optionalString(given['grantType'], 'grantType', context) ?? 'client_Credentials';
  return defineProvider({
    context,
    options: given,
    defaultName: 'singleview',
    endpoint: {
      kind: 'singleview',
      url: endpointUrl(given, context, { key: 'baseURL' }, '/v1/api/observice/token'),
      method: 'POST',
      encoding: 'json',
      body: { clientId, clientCode, merchantId, grantType },
      headers: {},
      // The client and merchant IDs are public identifiers; the client code is the secret.
      secrets: [clientCode],
      response: {
        token: path('payload.access_token'),
        expiresIn: path('payload.expires_in'),
        tokenType: path('payload.token_type'),
        success: path('success'),
        errorCode: [path('errorCode'), path('error'), path('payload.errorCode')],
        errorMessage: [path('message'), path('errorMessage'), path('payload.message')],
      },
      defaultLifetimeMs: 3_600_000,
    },
  });
}
