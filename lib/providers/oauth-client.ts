import { invalidOption } from '../errors.js';
import { expectHttpUrl } from '../url.js';
import { describe, expectString, optionalString } from '../validate.js';
import type { ResponseShape } from './endpoint.js';
import { insecureAllowed, path } from './define.js';

/** How the client authenticates to the token endpoint (RFC 6749 §2.3.1). */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'basic' | 'post';

const METHODS: readonly string[] = ['client_secret_basic', 'client_secret_post', 'basic', 'post'];

const formEncode = (value: string): string => encodeURIComponent(value).replace(/%20/g, '+');

/** Space-separated scopes, from a string or a list of strings. */
export function readScope(value: unknown, context: string): string | undefined {
  if (Array.isArray(value)) {
    return value.map((item: unknown, index) => expectString(item, `scope[${index}]`, context)).join(' ');
  }
  return value === undefined ? undefined : expectString(value, 'scope', context);
}

/**
 * Where the client's credentials go: HTTP Basic (the default) or the form body with a secret; only
 * `client_id` in the body without one (a public client, RFC 6749 §2.1).
 */
export function clientAuthentication(
  given: { clientId: string; clientSecret: string | undefined; authMethod: unknown },
  context: string,
): { body: Record<string, string>; headers: Record<string, string> } {
  const { clientId, clientSecret, authMethod } = given;
  const method = authMethod ?? 'client_secret_basic';
  if (!METHODS.includes(method as string)) {
    throw invalidOption(
      `${context}: expected \`authMethod\` to be one of ${METHODS.map((name) => `'${name}'`).join(', ')}, got ${typeof method === 'string' && /^[a-z_]{1,32}$/i.test(method) ? JSON.stringify(method) : describe(method)}`,
    );
  }
  if (clientSecret === undefined) return { body: { client_id: clientId }, headers: {} };
  if (method === 'client_secret_post' || method === 'post') {
    return { body: { client_id: clientId, client_secret: clientSecret }, headers: {} };
  }
  return {
    body: {},
    headers: { Authorization: `Basic ${btoa(`${formEncode(clientId)}:${formEncode(clientSecret)}`)}` },
  };
}

/** An OAuth 2.0 token response (RFC 6749 §5.1) and its error body (§5.2). */
export const OAUTH_RESPONSE: Pick<ResponseShape, 'token' | 'expiresIn' | 'tokenType' | 'errorCode' | 'errorMessage'> = {
  token: path('access_token'),
  expiresIn: path('expires_in'),
  tokenType: path('token_type'),
  errorCode: [path('error')],
  errorMessage: [path('error_description')],
};

/** An OAuth client's options, as both grants take them: token URL, client, secret, scope and how to authenticate. */
export function readOAuthClient(
  given: Record<string, unknown>,
  context: string,
  { secretRequired }: { secretRequired: boolean },
) {
  const url = expectHttpUrl(given['tokenUrl'], 'tokenUrl', context, insecureAllowed(given, context));
  const clientId = expectString(given['clientId'], 'clientId', context);
  const clientSecret = secretRequired
    ? expectString(given['clientSecret'], 'clientSecret', context)
    : optionalString(given['clientSecret'], 'clientSecret', context);
  const scope = readScope(given['scope'], context);
  const auth = clientAuthentication({ clientId, clientSecret, authMethod: given['authMethod'] }, context);
  // The client ID is public (RFC 6749 §2.2): only the secret and the header made from it (whole, and
  // its Base64 credentials alone) are scrubbed.
  const headers = Object.values(auth.headers);
  const secrets = [
    ...(clientSecret === undefined ? [] : [clientSecret]),
    ...headers,
    ...headers.map((value) => value.replace(/^Basic /, '')),
  ];
  return { url, clientId, scope, auth, secrets };
}
