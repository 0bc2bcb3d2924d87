import { base64url } from './base64url.js';

/** Fills a new array with `length` random bytes. Tests pass a fake; the default is WebCrypto's. */
export type RandomBytes = (length: number) => Uint8Array;

/** Random bytes drawn from WebCrypto at once, and handed out a few at a time by {@link cryptoRandomBytes}. */
export const RANDOM_POOL_BYTES = 4_096;
let pool = new Uint8Array(0);
let taken = 0;

/**
 * WebCrypto's random bytes (`crypto.getRandomValues`), in every runtime tokenflight supports. Small
 * requests (a `jti`, one per DPoP proof) are served from a pool drawn {@link RANDOM_POOL_BYTES} at a
 * time, as Node.js's `crypto.randomUUID` does: one `getRandomValues` call cost about 5 µs on Node 20
 * whatever its size. Bytes handed out are wiped from the pool and never handed out twice.
 */
export const cryptoRandomBytes: RandomBytes = (length) => {
  if (length > RANDOM_POOL_BYTES / 16) return globalThis.crypto.getRandomValues(new Uint8Array(length));
  if (taken + length > pool.length) {
    pool = globalThis.crypto.getRandomValues(new Uint8Array(RANDOM_POOL_BYTES));
    taken = 0;
  }
  const bytes = pool.slice(taken, taken + length);
  pool.fill(0, taken, taken + length);
  taken += length;
  return bytes;
};

/** Bytes in a JWT ID: 128 bits, as RFC 9449 §11.1 and RFC 7519 §4.1.7 ask of an unguessable `jti`. */
export const JTI_BYTES = 16;

/** A fresh JWT ID: {@link JTI_BYTES} random bytes in base64url (22 characters). */
export function newJti(randomBytes: RandomBytes): string {
  return base64url(randomBytes(JTI_BYTES));
}
