import { invalidOption } from '../shared/errors.js';
import { readIssuer } from '../oauth/metadata.js';
import { readPrivateKey, secretSigningKey, type SigningKey } from '../oauth/private-key.js';
import { expectHttpUrl } from '../shared/url.js';
import { describe, expectString, optionalString } from '../shared/validate.js';
import { assertionAudience, clientAssertionFields } from '../oauth/client-assertion.js';
import { createDiscovery } from '../oauth/discovery.js';
import { cryptoRandomBytes } from '../oauth/random.js';
import { createDpopKeySource, readDpopOption } from '../oauth/dpop-key.js';
import { boundKey, createDpopBinding, dpopKeyId } from '../core/dpop.js';
import type { ClientAssertionStep, EndpointDpop, ResponseShape } from './endpoint.js';
import { dpopOutcome } from './token-request/dpop.js';
import { insecureAllowed, path } from './define.js';

/**
 * How the client authenticates to the token endpoint: with its secret (RFC 6749 §2.3.1), or with a
 * JWT assertion signed by its private key (`private_key_jwt`) or by its secret
 * (`client_secret_jwt`, HS256) (RFC 7523 §2.2, OIDC Core §9).
 */
export type ClientAuthMethod =
  'client_secret_basic' | 'client_secret_post' | 'basic' | 'post' | 'private_key_jwt' | 'client_secret_jwt';

const METHODS: readonly string[] = [
  'client_secret_basic',
  'client_secret_post',
  'basic',
  'post',
  'private_key_jwt',
  'client_secret_jwt',
];

/** The options of key-based client authentication, as both OAuth grants take them. */
export const CLIENT_AUTH_KEYS = ['issuer', 'privateKey', 'keyId', 'alg', 'dpop'] as const;

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

/** Where token requests go: a fixed `tokenUrl`, or the token endpoint discovered from `issuer`. */
export interface TokenTarget {
  /** The token URL, or the issuer's URL with discovery (for display and cache keys; never an origin to serve). */
  url: URL;
  /** The issuer, exactly as configured, when the token endpoint is discovered. */
  issuer: string | undefined;
}

function readTarget(given: Record<string, unknown>, context: string): TokenTarget {
  const insecure = insecureAllowed(given, context);
  if ((given['issuer'] === undefined) === (given['tokenUrl'] === undefined)) {
    throw invalidOption(
      `${context}: expected exactly one of \`tokenUrl\` and \`issuer\` (the token endpoint, or the authorization server whose metadata names it), got ${given['issuer'] === undefined ? 'neither' : 'both'}`,
    );
  }
  if (given['tokenUrl'] !== undefined) {
    return { url: expectHttpUrl(given['tokenUrl'], 'tokenUrl', context, insecure), issuer: undefined };
  }
  const issuer = readIssuer(given['issuer'], context, insecure);
  return { url: new URL(issuer), issuer };
}

/** Refuses an option that the chosen `authMethod` does not use (it would be silently ignored). */
function refuseUnused(given: Record<string, unknown>, names: readonly string[], method: string, context: string): void {
  for (const name of names) {
    if (given[name] !== undefined) {
      throw invalidOption(`${context}: \`${name}\` is not used with \`authMethod\` '${method}'; leave it out`);
    }
  }
}

/** The key that signs client assertions, for the JWT methods; checks which options fit the method. */
function readSigner(
  given: Record<string, unknown>,
  clientSecret: string | undefined,
  context: string,
): SigningKey | undefined {
  const method = given['authMethod'];
  if (method === 'private_key_jwt') {
    refuseUnused(given, ['clientSecret'], method, context);
    return readPrivateKey(
      { privateKey: given['privateKey'], keyId: given['keyId'], alg: given['alg'] },
      `${context} (authMethod 'private_key_jwt')`,
    );
  }
  refuseUnused(
    given,
    ['privateKey', 'keyId', 'alg'],
    typeof method === 'string' ? method : 'client_secret_basic',
    context,
  );
  if (method !== 'client_secret_jwt') return undefined;
  if (clientSecret === undefined) {
    throw invalidOption(`${context}: \`authMethod\` 'client_secret_jwt' needs \`clientSecret\` (the HS256 key)`);
  }
  return secretSigningKey(clientSecret);
}

/**
 * An OAuth client's options, as both grants take them: token URL or issuer, client, secret or key,
 * scope and how to authenticate. `signer` is set for the JWT methods: each attempt signs a new
 * assertion with it (lib/providers/token-request/prepare.ts).
 */
export function readOAuthClient(
  given: Record<string, unknown>,
  context: string,
  { secretRequired }: { secretRequired: boolean },
) {
  const target = readTarget(given, context);
  const clientId = expectString(given['clientId'], 'clientId', context);
  const keyBased = given['authMethod'] === 'private_key_jwt';
  const clientSecret =
    secretRequired && !keyBased
      ? expectString(given['clientSecret'], 'clientSecret', context)
      : optionalString(given['clientSecret'], 'clientSecret', context);
  const scope = readScope(given['scope'], context);
  const auth = clientAuthentication({ clientId, clientSecret, authMethod: given['authMethod'] }, context);
  const signer = readSigner(given, clientSecret, context);
  // With an assertion, no secret travels: the assertion's fields replace Basic or the form's secret.
  const sent = signer === undefined ? auth : { body: {}, headers: {} };
  // The client ID is public (RFC 6749 §2.2): only the secret and the header made from it (whole, and
  // its Base64 credentials alone) are scrubbed.
  const headers = Object.values(sent.headers);
  const secrets = [
    ...(clientSecret === undefined ? [] : [clientSecret]),
    ...headers,
    ...headers.map((value) => value.replace(/^Basic /, '')),
  ];
  const assertion: ClientAssertionStep | undefined =
    signer === undefined
      ? undefined
      : {
          key: signer,
          fields: (server, now) =>
            clientAssertionFields(
              { clientId, audience: assertionAudience(server), key: signer },
              { now, randomBytes: cryptoRandomBytes },
            ),
        };
  const discover = target.issuer === undefined ? undefined : createDiscovery;
  const dpop = readDpop(given['dpop'], context, target.url, clientId);
  return {
    url: target.url,
    issuer: target.issuer,
    discover,
    clientId,
    scope,
    auth: sent,
    signer,
    assertion,
    secrets,
    dpop,
  };
}

/** The `dpop` option: its settings, the key source made once for this provider, and its identity in a store. */
function readDpop(value: unknown, context: string, url: URL, clientId: string): EndpointDpop | undefined {
  const settings = readDpopOption(value, context);
  if (settings === undefined) return undefined;
  return {
    settings,
    context,
    shared: createDpopKeySource(settings, context),
    id: dpopKeyId(url.href, clientId),
    bind: createDpopBinding,
    boundKey,
    outcome: dpopOutcome,
  };
}
