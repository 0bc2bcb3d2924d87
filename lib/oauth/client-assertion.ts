import { signJws } from './jws.js';
import type { SigningKey } from './private-key.js';
import { newJti, type RandomBytes } from './random.js';

/**
 * JWT client assertions (RFC 7523 §2.2 and §3, OIDC Core §9): `private_key_jwt` signs with the
 * client's private key, `client_secret_jwt` with HS256 and the client secret. A new assertion for
 * every attempt (a retry re-signs: servers refuse a `jti` they have seen).
 */

/** The `client_assertion_type` of a JWT assertion (RFC 7523 §2.2). */
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * How long an assertion is valid, in seconds: `exp` is this long after `iat`. Short, as it is made
 * just before it is sent and used once (RFC 7523 §3 asks for a limited window; 5 minutes at most).
 */
export const ASSERTION_LIFETIME_SECONDS = 60;

/**
 * The `aud` of an assertion: the authorization server's issuer identifier when it is known
 * (through discovery), as RFC 7523bis asks (it closes an audience-injection attack that a token
 * endpoint URL leaves open), else the token endpoint URL (RFC 7523 §3, OIDC Core §9). oidc-provider
 * accepts either.
 */
export function assertionAudience(server: { issuer?: string | undefined; tokenEndpoint: string }): string {
  return server.issuer ?? server.tokenEndpoint;
}

/** Who asserts what to whom. */
export interface AssertionRequest {
  readonly clientId: string;
  /** See {@link assertionAudience}. */
  readonly audience: string;
  readonly key: SigningKey;
}

/** The clock and random source of assertions; tests pass fakes. */
export interface AssertionContext {
  /** Epoch ms. */
  readonly now: () => number;
  readonly randomBytes: RandomBytes;
}

/**
 * A signed client assertion: header `alg` (and `kid` when known); claims `iss` = `sub` = the client
 * ID, `aud`, a new `jti` (128 random bits), `iat`, and `exp` {@link ASSERTION_LIFETIME_SECONDS} later.
 */
export async function createClientAssertion(request: AssertionRequest, context: AssertionContext): Promise<string> {
  const { clientId, audience, key } = request;
  const iat = Math.floor(context.now() / 1000);
  const header = key.keyId === undefined ? { alg: key.alg } : { alg: key.alg, kid: key.keyId };
  const claims = {
    iss: clientId,
    sub: clientId,
    aud: audience,
    jti: newJti(context.randomBytes),
    iat,
    exp: iat + ASSERTION_LIFETIME_SECONDS,
  };
  return signJws(header, claims, await key.cryptoKey(), key.alg);
}

/**
 * The form fields that authenticate a token request with a new assertion (RFC 7523 §2.2), with
 * `client_id` as OIDC Core §9 allows and most servers expect.
 *
 * @example
 * ```ts
 * const form = { grant_type: 'client_credentials', ...(await clientAssertionFields({ clientId, audience, key }, { now: Date.now, randomBytes })) };
 * ```
 */
export async function clientAssertionFields(
  request: AssertionRequest,
  context: AssertionContext,
): Promise<{ client_id: string; client_assertion_type: string; client_assertion: string }> {
  return {
    client_id: request.clientId,
    client_assertion_type: CLIENT_ASSERTION_TYPE,
    client_assertion: await createClientAssertion(request, context),
  };
}
