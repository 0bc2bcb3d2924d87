import type { AsymmetricAlgorithm } from '../oauth/jws.js';
import type { DpopOptions } from '../oauth/dpop-key.js';

/**
 * A WebCrypto `CryptoKey`, described by the members tokenflight reads, so that its types need
 * neither the DOM library nor Node.js's: a `CryptoKey` from any realm fits.
 */
export interface PrivateCryptoKey {
  readonly type: string;
  readonly extractable: boolean;
  readonly algorithm: object;
  readonly usages: readonly string[];
}

/**
 * A JSON Web Key (RFC 7517) object with its private members, typed without the DOM library: a
 * `JsonWebKey` fits.
 */
export interface PrivateJwk {
  kty?: string;
  kid?: string;
  alg?: string;
  use?: string;
  key_ops?: readonly string[];
  ext?: boolean;
  crv?: string;
  x?: string;
  y?: string;
  d?: string;
  n?: string;
  e?: string;
  p?: string;
  q?: string;
  dp?: string;
  dq?: string;
  qi?: string;
}

/** The options of key-based client authentication, discovery and DPoP, on both OAuth grants. */
export interface ClientKeyOptions {
  /**
   * The authorization server's issuer identifier, instead of `tokenUrl`: the token endpoint is read
   * from its metadata (RFC 8414 `/.well-known/oauth-authorization-server`, then OpenID's
   * `/.well-known/openid-configuration` when that answers 404), once for all concurrent callers,
   * cached and refreshed hourly. The metadata's `issuer` must equal this exactly, and its
   * `token_endpoint` must be https (plain http only to a loopback host), else `ERR_TOKEN_DISCOVERY`
   * and no token request. The issuer's origin is never one the provider's tokens are sent to.
   */
  issuer?: string;
  /**
   * With `authMethod: 'private_key_jwt'`: the client's private key, as a `CryptoKey`, a private JWK
   * (with `d`) or a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`); EC P-256, Ed25519 or RSA of at least
   * 2048 bits. Checked when the factory runs (a public key, a key for another algorithm, a malformed
   * PEM: `InvalidOptionError` naming `privateKey`); a JWK or PEM whose numbers WebCrypto will not
   * import fails at the first token request, with the same error. Never shown in an error, event,
   * log, `util.inspect` or `JSON.stringify`.
   */
  privateKey?: PrivateCryptoKey | PrivateJwk | string;
  /** With `private_key_jwt`: the `kid` header of the assertion. @default the JWK's `kid`, else none */
  keyId?: string;
  /**
   * With `private_key_jwt`: the algorithm of the assertion; it must fit the key.
   * @default ES256 for an EC key, EdDSA for Ed25519, RS256 for RSA
   */
  alg?: AsymmetricAlgorithm;
  /**
   * DPoP, sender-constrained tokens (RFC 9449): `true`, or `{ keyPair?, alg?, required? }`. Every
   * token request carries a `DPoP` proof, and every request to the API `Authorization: DPoP <token>`
   * with a new proof (`htm`, `htu`, `ath`, a new `jti`, the origin's latest `DPoP-Nonce`). A
   * `use_dpop_nonce` answer is sent once more at once with the nonce: not a failure, never a token
   * request. Tokens are cached per key thumbprint. Without `keyPair`, a non-extractable key pair is
   * made once per provider (or kept by the store, when it has `keyPair(id, create)`: browser tabs
   * share one). A token issued as `Bearer` is used as a bearer token unless `required` is set.
   * See docs/sender-constrained.md.
   * @default false (bearer tokens)
   * @example
   * ```ts
   * clientCredentials({ issuer, clientId, authMethod: 'private_key_jwt', privateKey, dpop: true, origins });
   * ```
   */
  dpop?: boolean | DpopOptions;
}
