import { base64url } from './base64url.js';

/** Fills a new array with `length` random bytes. Tests pass a fake; the default is WebCrypto's. */
export type RandomBytes = (length: number) => Uint8Array;

/** WebCrypto's random bytes (`crypto.getRandomValues`), in every runtime tokenflight supports. */
export const cryptoRandomBytes: RandomBytes = (length) => globalThis.crypto.getRandomValues(new Uint8Array(length));

/** Bytes in a JWT ID: 128 bits, as RFC 9449 §11.1 and RFC 7519 §4.1.7 ask of an unguessable `jti`. */
export const JTI_BYTES = 16;

/** A fresh JWT ID: {@link JTI_BYTES} random bytes in base64url (22 characters). */
export function newJti(randomBytes: RandomBytes): string {
  return base64url(randomBytes(JTI_BYTES));
}
