import type { AsymmetricAlgorithm } from './jws.js';
import type { KeyFamily } from './pkcs8.js';

/**
 * Which algorithms each kind of key signs with, and the WebCrypto parameters that import or make
 * a key for an algorithm. The first algorithm of a family is the one used when none is named: an
 * RSA key signs RS256 unless told otherwise (the algorithm every OpenID server accepts, OIDC Core
 * §15.1).
 */
export const FAMILY_ALGORITHMS: Readonly<Record<KeyFamily, readonly AsymmetricAlgorithm[]>> = {
  'EC-P256': ['ES256'],
  Ed25519: ['EdDSA'],
  RSA: ['RS256', 'PS256'],
  'RSA-PSS': ['PS256'],
};

/** The smallest RSA modulus tokenflight signs with, in bits (RFC 7518 §3.3, §3.5). */
export const MIN_RSA_BITS = 2048;

/** What a family is called in an error message. */
export function familyName(family: KeyFamily): string {
  return family === 'EC-P256' ? 'an EC P-256 key' : family === 'Ed25519' ? 'an Ed25519 key' : 'an RSA key';
}

/** The WebCrypto parameters of `importKey` for a key that signs with `alg`. */
export function importParams(alg: AsymmetricAlgorithm): EcKeyImportParams | RsaHashedImportParams | Algorithm {
  switch (alg) {
    case 'ES256':
      return { name: 'ECDSA', namedCurve: 'P-256' };
    case 'EdDSA':
      return { name: 'Ed25519' };
    case 'RS256':
      return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    case 'PS256':
      return { name: 'RSA-PSS', hash: 'SHA-256' };
  }
}

/** The WebCrypto parameters of `generateKey` for a key pair that signs with `alg`. */
export function generateParams(alg: AsymmetricAlgorithm): EcKeyGenParams | RsaHashedKeyGenParams | Algorithm {
  const params = importParams(alg);
  if (alg !== 'RS256' && alg !== 'PS256') return params;
  return {
    ...(params as RsaHashedImportParams),
    modulusLength: MIN_RSA_BITS,
    publicExponent: new Uint8Array([1, 0, 1]),
  };
}

/** True for a WebCrypto `CryptoKey`, from any realm (a worker's, another copy of a polyfill). */
export function isCryptoKey(value: unknown): value is CryptoKey {
  return Object.prototype.toString.call(value) === '[object CryptoKey]';
}

/**
 * The algorithms a WebCrypto key signs with, or why it signs with none of ours. WebCrypto binds a
 * key to one algorithm (and hash), so an RSA key here is RS256 or PS256, never both.
 */
export function cryptoKeyAlgorithms(key: CryptoKey): readonly AsymmetricAlgorithm[] | { problem: string } {
  const algorithm = key.algorithm as Partial<EcKeyAlgorithm & RsaHashedKeyAlgorithm>;
  const hash = typeof algorithm.hash === 'object' ? algorithm.hash.name : undefined;
  switch (algorithm.name) {
    case 'ECDSA':
      return algorithm.namedCurve === 'P-256' ? ['ES256'] : { problem: 'an ECDSA key on a curve other than P-256' };
    case 'Ed25519':
      return ['EdDSA'];
    case 'RSASSA-PKCS1-v1_5':
    case 'RSA-PSS':
      if (hash !== 'SHA-256') return { problem: 'an RSA key for a hash other than SHA-256' };
      if ((algorithm.modulusLength ?? 0) < MIN_RSA_BITS)
        return { problem: `an RSA key shorter than ${MIN_RSA_BITS} bits` };
      return algorithm.name === 'RSA-PSS' ? ['PS256'] : ['RS256'];
    default:
      return { problem: 'a key for an algorithm tokenflight does not sign with (ECDSA P-256, Ed25519, RSA)' };
  }
}
