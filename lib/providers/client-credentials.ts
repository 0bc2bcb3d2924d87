import { invalidOption } from '../shared/errors.js';
import { describe, expectString, isPlainObject, optionalString } from '../shared/validate.js';
import type { TokenProvider } from './endpoint.js';
import { defineProvider, readOptions, type ProviderOptions } from './define.js';
import { CLIENT_AUTH_KEYS, OAUTH_RESPONSE, readOAuthClient, type ClientAuthMethod } from './oauth-client.js';
import type { ClientKeyOptions } from './client-key-options.js';

export type { ClientAuthMethod } from './oauth-client.js';

/** Options of {@link clientCredentials}. */
export interface ClientCredentialsOptions extends ProviderOptions, ClientKeyOptions {
  /** The authorization server's token endpoint. Give this or `issuer`, not both. */
  tokenUrl?: string;
  /** The OAuth client ID. */
  clientId: string;
  /**
   * The OAuth client secret: sent with `client_secret_basic` or `client_secret_post`, the HS256 key
   * of `client_secret_jwt`. Not used (and refused) with `private_key_jwt`.
   */
  clientSecret?: string;
  /** Space-separated scopes, or a list of them. */
  scope?: string | readonly string[];
  /** The `audience` parameter (Auth0 and others). */
  audience?: string;
  /**
   * `client_secret_basic` (HTTP Basic, the RFC's default) or `client_secret_post` (in the form
   * body); `basic` and `post` are accepted as short names. `private_key_jwt` (with `privateKey`)
   * or `client_secret_jwt` (with `clientSecret`): a JWT assertion, signed anew for every attempt
   * (RFC 7523 §2.2, OIDC Core §9).
   * @default 'client_secret_basic'
   */
  authMethod?: ClientAuthMethod;
  /** Further form parameters, such as `resource` (RFC 8707). */
  params?: Readonly<Record<string, string>>;
}

/**
 * The standard OAuth 2.0 client-credentials grant (RFC 6749 §4.4): a form-encoded
 * `grant_type=client_credentials` request, `scope` and `audience` when given, RFC 6749 §5.2 error
 * bodies (`error` becomes the `providerCode`). Its tokens go only to `origins`: set them to your
 * API's. Without them, attached to an axios instance that has a `baseURL`, it serves that
 * `baseURL`'s origin; otherwise its token URL's origin (see {@link OriginsSource}).
 *
 * @example
 * ```ts
 * attachTokenAuth(api, {
 *   providers: clientCredentials({
 *     tokenUrl: 'https://auth.example.com/oauth2/token',
 *     clientId, clientSecret, scope: ['read', 'write'],
 *     origins: ['https://api.example.com'],
 *   }),
 * });
 * ```
 */
export function clientCredentials(options: ClientCredentialsOptions): TokenProvider {
  const context = 'clientCredentials()';
  const given = readOptions(options, context, [
    'tokenUrl',
    'clientId',
    'clientSecret',
    'scope',
    'audience',
    'authMethod',
    'params',
    ...CLIENT_AUTH_KEYS,
  ]);
  const { url, issuer, discover, scope, auth, assertion, secrets, dpop } = readOAuthClient(given, context, {
    secretRequired: true,
  });
  const audience = optionalString(given['audience'], 'audience', context);

  const params = given['params'];
  if (params !== undefined && !isPlainObject(params)) {
    throw invalidOption(
      `${context}: expected \`params\` to be an object of strings, got ${describe(params)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  const extra: Record<string, string> = {};
  for (const [key, value] of Object.entries(params ?? {})) extra[key] = expectString(value, `params.${key}`, context);

  const body: Record<string, string> = { ...extra, grant_type: 'client_credentials' };
  if (scope !== undefined) body['scope'] = scope;
  if (audience !== undefined) body['audience'] = audience;
  Object.assign(body, auth.body);
  const { headers } = auth;

  return defineProvider({
    context,
    options: given,
    defaultName: 'oauth2',
    originsFromInstance: true,
    endpoint: {
      kind: 'oauth2',
      url,
      method: 'POST',
      encoding: 'form',
      body,
      headers,
      secrets,
      response: OAUTH_RESPONSE,
      defaultLifetimeMs: undefined,
      issuer,
      discover,
      assertion,
      dpop,
    },
  });
}
