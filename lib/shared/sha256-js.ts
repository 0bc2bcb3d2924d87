// The pure-JS SHA-256, in a module of its own so that sha256.ts loads it only where WebCrypto is
// missing, and bundlers keep only SHA-256 of @noble/hashes in its chunk.
import { sha256 } from '@noble/hashes/sha2';

/** SHA-256 of `bytes`, without WebCrypto. */
export const sha256Bytes = (bytes: Uint8Array): Uint8Array => sha256(bytes);
