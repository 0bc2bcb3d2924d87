import { base64url, base64urlText } from './base64url.js';

/**
 * JWS compact serialisation (RFC 7515 §7.1) signed with WebCrypto: the whole of JOSE that
 * client assertions and DPoP proofs need. `crypto.subtle` alone, so it runs in Node, Deno, Bun,
 * browsers, edge runtimes and workerd. ECDSA in WebCrypto already signs in the JWS form (the raw
 * `r || s`, RFC 7518 §3.4), so no signature is re-encoded.
 */

/** The asymmetric algorithms tokenflight signs with (RFC 7518 §3, RFC 8037 §3.1). */
export type AsymmetricAlgorithm = 'ES256' | 'EdDSA' | 'RS256' | 'PS256';

/** Every JWS algorithm tokenflight signs with: the asymmetric ones and HS256 (`client_secret_jwt`). */
export type JwsAlgorithm = AsymmetricAlgorithm | 'HS256';

/** The asymmetric algorithms in the order tokenflight prefers them. */
export const ASYMMETRIC_ALGORITHMS: readonly AsymmetricAlgorithm[] = ['ES256', 'EdDSA', 'RS256', 'PS256'];

/** True for a name in {@link ASYMMETRIC_ALGORITHMS}. */
export function isAsymmetricAlgorithm(value: unknown): value is AsymmetricAlgorithm {
  return (ASYMMETRIC_ALGORITHMS as readonly unknown[]).includes(value);
}

/** The WebCrypto parameters of `crypto.subtle.sign` for each JWS algorithm. */
export function signParams(alg: JwsAlgorithm): AlgorithmIdentifier | EcdsaParams | RsaPssParams {
  switch (alg) {
    case 'ES256':
      return { name: 'ECDSA', hash: 'SHA-256' };
    case 'EdDSA':
      return { name: 'Ed25519' };
    case 'RS256':
      return { name: 'RSASSA-PKCS1-v1_5' };
    case 'PS256':
      // RFC 7518 §3.5: the salt is as long as the hash.
      return { name: 'RSA-PSS', saltLength: 32 };
    case 'HS256':
      return { name: 'HMAC' };
  }
}

/**
 * `header` and `payload` as a signed JWS in compact form: `base64url(header).base64url(payload).base64url(signature)`.
 * The caller names `alg` in the header; `key` must be a WebCrypto key made for it.
 */
export async function signJws(
  header: Readonly<Record<string, unknown>>,
  payload: Readonly<Record<string, unknown>>,
  key: CryptoKey,
  alg: JwsAlgorithm,
): Promise<string> {
  return signJwsWithHeader(encodeJwsPart(header), payload, key, alg);
}

/** A JWS header or payload as it appears in the compact form: base64url of its JSON. */
export function encodeJwsPart(part: Readonly<Record<string, unknown>>): string {
  return base64urlText(JSON.stringify(part));
}

/**
 * As {@link signJws}, with the header already encoded ({@link encodeJwsPart}): for a header that
 * is the same for every JWS signed with one key (a DPoP proof's), encoded once.
 */
export async function signJwsWithHeader(
  encodedHeader: string,
  payload: Readonly<Record<string, unknown>>,
  key: CryptoKey,
  alg: JwsAlgorithm,
): Promise<string> {
  const input = `${encodedHeader}.${encodeJwsPart(payload)}`;
  const signature = await globalThis.crypto.subtle.sign(signParams(alg), key, new TextEncoder().encode(input));
  return `${input}.${base64url(new Uint8Array(signature))}`;
}
