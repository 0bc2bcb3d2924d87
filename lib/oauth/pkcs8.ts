import { decodeBase64 } from './base64url.js';

/**
 * Reads a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`, RFC 5958) far enough to know what kind of
 * key it holds, without WebCrypto: WebCrypto must be told the algorithm before it imports a key,
 * and a factory must refuse a wrong PEM when it runs, before any await. The key itself is
 * imported later (`crypto.subtle.importKey('pkcs8', …)`), which checks the rest.
 */

/** The kinds of private key tokenflight signs with. */
export type KeyFamily = 'EC-P256' | 'Ed25519' | 'RSA' | 'RSA-PSS';

/** Why a PEM was refused, in words for an error message (never quoting the PEM). */
export interface PemProblem {
  problem: string;
}

const OIDS: Readonly<Record<string, KeyFamily | 'EC'>> = {
  '2a864886f70d010101': 'RSA', // rsaEncryption, 1.2.840.113549.1.1.1
  '2a864886f70d01010a': 'RSA-PSS', // id-RSASSA-PSS, 1.2.840.113549.1.1.10
  '2a8648ce3d0201': 'EC', // id-ecPublicKey, 1.2.840.10045.2.1
  '2b6570': 'Ed25519', // id-Ed25519, 1.3.101.112
};
/** prime256v1 (P-256), 1.2.840.10045.3.1.7. */
const P256 = '2a8648ce3d030107';

const OTHER_PEMS: readonly [RegExp, string][] = [
  [/-----BEGIN (?:RSA |EC )?PUBLIC KEY-----/, 'a public key PEM'],
  [/-----BEGIN CERTIFICATE-----/, 'a certificate PEM'],
  [/-----BEGIN ENCRYPTED PRIVATE KEY-----/, 'an encrypted PKCS#8 PEM (decrypt it first)'],
  [/-----BEGIN (RSA|EC|OPENSSH) PRIVATE KEY-----/, 'a PKCS#1, SEC1 or OpenSSH PEM, not PKCS#8'],
];

interface Tlv {
  tag: number;
  /** Where the contents start and end. */
  start: number;
  end: number;
}

/** One DER element at `at`, or undefined when it does not fit in `bytes`. */
function readTlv(bytes: Uint8Array, at: number): Tlv | undefined {
  const tag = bytes[at];
  let lengthByte = bytes[at + 1];
  if (tag === undefined || lengthByte === undefined) return undefined;
  let start = at + 2;
  let length = lengthByte;
  if (lengthByte > 0x80) {
    const count = lengthByte - 0x80;
    if (count > 3) return undefined;
    length = 0;
    for (let index = 0; index < count; index++) {
      lengthByte = bytes[start + index];
      if (lengthByte === undefined) return undefined;
      length = length * 256 + lengthByte;
    }
    start += count;
  } else if (lengthByte === 0x80) {
    return undefined; // indefinite lengths are BER, not DER
  }
  const end = start + length;
  return end <= bytes.length ? { tag, start, end } : undefined;
}

const hex = (bytes: Uint8Array): string => Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');

/** The key family named by a PrivateKeyInfo's AlgorithmIdentifier, or why there is none. */
function familyOf(der: Uint8Array): KeyFamily | PemProblem {
  const bad: PemProblem = { problem: 'not a DER PrivateKeyInfo' };
  const info = readTlv(der, 0);
  if (info?.tag !== 0x30 || info.end !== der.length) return bad;
  const version = readTlv(der, info.start);
  if (version?.tag !== 0x02) return bad;
  const algorithm = readTlv(der, version.end);
  if (algorithm?.tag !== 0x30) return bad;
  const oid = readTlv(der, algorithm.start);
  if (oid?.tag !== 0x06) return bad;
  const key = readTlv(der, algorithm.end);
  if (key?.tag !== 0x04) return bad;
  const family = OIDS[hex(der.subarray(oid.start, oid.end))];
  if (family === undefined)
    return { problem: 'a key of a type tokenflight does not sign with (use RSA, EC P-256 or Ed25519)' };
  if (family !== 'EC') return family;
  const curve = oid.end < algorithm.end ? readTlv(der, oid.end) : undefined;
  if (curve?.tag === 0x06 && hex(der.subarray(curve.start, curve.end)) === P256) return 'EC-P256';
  return { problem: 'an EC key on a curve other than P-256' };
}

/**
 * A PKCS#8 PEM's DER bytes and key family, or a {@link PemProblem}. Exactly one PEM block, base64
 * inside; text around the block (an openssl comment) is ignored.
 */
export function readPkcs8Pem(pem: string): { der: Uint8Array<ArrayBuffer>; family: KeyFamily } | PemProblem {
  const blocks = pem.match(/-----BEGIN PRIVATE KEY-----([\s\S]*?)-----END PRIVATE KEY-----/g) ?? [];
  if (blocks.length === 0) {
    for (const [pattern, what] of OTHER_PEMS) if (pattern.test(pem)) return { problem: what };
    return { problem: 'not a PEM (expected -----BEGIN PRIVATE KEY-----)' };
  }
  if (blocks.length > 1) return { problem: 'more than one PEM block' };
  const body = (blocks[0] ?? '').slice('-----BEGIN PRIVATE KEY-----'.length, -'-----END PRIVATE KEY-----'.length);
  const der = decodeBase64(body);
  if (der === undefined || der.length === 0) return { problem: 'a PEM whose body is not base64' };
  const family = familyOf(der);
  return typeof family === 'string' ? { der, family } : family;
}
