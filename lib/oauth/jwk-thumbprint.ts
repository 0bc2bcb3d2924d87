import { base64url } from './base64url.js';

/** The members of a public JWK that identify it (RFC 7638 §3.2), in lexicographic order. */
const REQUIRED: Readonly<Record<string, readonly string[]>> = {
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
  RSA: ['e', 'kty', 'n'],
};

/**
 * A public JWK with its identifying members only (`kty` and the key's numbers): what a DPoP proof
 * puts in its `jwk` header (RFC 9449 §4.2: no private member) and what a thumbprint hashes.
 * Throws a `TypeError` for a key type without public members, or a JWK that lacks one.
 */
export function publicMembers(jwk: JsonWebKey): Record<string, string> {
  const names = typeof jwk.kty === 'string' ? REQUIRED[jwk.kty] : undefined;
  if (names === undefined) throw new TypeError('not an EC, OKP or RSA public key');
  const members: Record<string, string> = {};
  for (const name of names) {
    const value = (jwk as Record<string, unknown>)[name];
    if (typeof value !== 'string' || value === '') throw new TypeError(`the JWK has no \`${name}\``);
    members[name] = value;
  }
  return members;
}

/**
 * The JWK SHA-256 thumbprint of a public key (RFC 7638), in base64url: what DPoP calls `jkt`
 * (RFC 9449 §6.1) and what tokenflight keys its DPoP-bound tokens by. The same key gives the same
 * thumbprint wherever it is computed.
 *
 * @example
 * ```ts
 * const jkt = await jwkThumbprint(await crypto.subtle.exportKey('jwk', keyPair.publicKey));
 * ```
 */
export async function jwkThumbprint(jwk: JsonWebKey): Promise<string> {
  const members = publicMembers(jwk);
  // JSON.stringify keeps insertion order, which publicMembers made lexicographic, with no whitespace.
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(JSON.stringify(members)));
  return base64url(new Uint8Array(digest));
}
