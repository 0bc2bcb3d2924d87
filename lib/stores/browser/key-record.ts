import type { StoredKeyPair } from '../store.js';
import { randomId } from './tab-identity.js';

// The record a BrowserTokenStore keeps a DPoP key pair in, in IndexedDB: the two CryptoKeys as the
// browser structured-clones them (the private key stays non-extractable: nobody can read it out,
// not even this code), under the id they were made for. A record read back is checked before use:
// anything else under the id (another script's value, a record of another version, a pair whose
// halves do not belong together) is refused, with the reason in words that never quote it. Each
// record has a random serial, so that a writer can tell a record it refused from a new one.

const KIND = 'tokenflight-dpop-key';
const VERSION = 1;

/** What a key pair record holds. */
export interface KeyPairRecord {
  readonly kind: typeof KIND;
  readonly v: typeof VERSION;
  readonly id: string;
  /** Random, new with every write. */
  readonly serial: string;
  readonly privateKey: object;
  readonly publicKey: object;
}

/** The facts of a `CryptoKey` the checks read, typed without the DOM library. */
interface KeyFacts {
  readonly type: unknown;
  readonly extractable: unknown;
  readonly usages: unknown;
  readonly algorithm: { readonly name?: unknown; readonly namedCurve?: unknown } | null;
}

/** True for a WebCrypto `CryptoKey` (also one structured-cloned out of IndexedDB). */
const isCryptoKey = (value: unknown): value is KeyFacts =>
  typeof value === 'object' && value !== null && Object.prototype.toString.call(value) === '[object CryptoKey]';

const uses = (key: KeyFacts, usage: string): boolean => Array.isArray(key.usages) && key.usages.includes(usage);

/**
 * What is wrong with `pair` as a DPoP key pair to keep (or `undefined` if nothing is): two
 * CryptoKeys of one algorithm (and curve), a non-extractable private key that signs, a public key.
 */
export function keyPairProblem(pair: unknown): string | undefined {
  if (typeof pair !== 'object' || pair === null) return 'it is not an object';
  const { privateKey, publicKey } = pair as Partial<StoredKeyPair>;
  if (!isCryptoKey(privateKey) || !isCryptoKey(publicKey)) return 'its keys are not CryptoKeys';
  if (privateKey.type !== 'private' || publicKey.type !== 'public')
    return 'its keys are not a private and a public key';
  if (privateKey.extractable !== false) return 'its private key is extractable';
  if (!uses(privateKey, 'sign')) return 'its private key cannot sign';
  const [a, b] = [privateKey.algorithm, publicKey.algorithm];
  if (a?.name !== b?.name || a?.namedCurve !== b?.namedCurve) return 'its keys are of different algorithms';
  return undefined;
}

/** The WebCrypto parameters that sign with a DPoP key of this algorithm (RFC 9449 §5: ES256, EdDSA, RS256, PS256). */
function signParams(
  algorithm: KeyFacts['algorithm'],
): { name: string; hash?: string; saltLength?: number } | undefined {
  const name = algorithm?.name;
  if (name === 'ECDSA') {
    const hash = { 'P-256': 'SHA-256', 'P-384': 'SHA-384', 'P-521': 'SHA-512' }[String(algorithm?.namedCurve)];
    return hash === undefined ? undefined : { name, hash };
  }
  if (name === 'RSA-PSS') return { name, saltLength: 32 };
  if (name === 'RSASSA-PKCS1-v1_5' || name === 'Ed25519') return { name };
  return undefined;
}

/**
 * Whether the two halves of a pair that passed {@link keyPairProblem} belong together: a signature
 * by its private key verifies with its public key. Never rejects (a key WebCrypto cannot use: no).
 */
export async function halvesMatch(pair: StoredKeyPair): Promise<boolean> {
  const params = signParams((pair.privateKey as KeyFacts).algorithm);
  const subtle = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
  if (params === undefined || subtle === undefined) return false;
  try {
    const data = new TextEncoder().encode('tokenflight key pair check');
    const signature = await subtle.sign(params, pair.privateKey as CryptoKey, data);
    return await subtle.verify(params, pair.publicKey as CryptoKey, signature, data);
  } catch {
    return false;
  }
}

/** The record that keeps `pair` under `id`. */
export function keyPairRecord(id: string, pair: StoredKeyPair): KeyPairRecord {
  return { kind: KIND, v: VERSION, id, serial: randomId(), privateKey: pair.privateKey, publicKey: pair.publicKey };
}

/** A record read back: its pair and serial, or why it is refused (and its serial, if it has one). */
export type ReadKeyPair = { pair: StoredKeyPair; serial: string } | { refused: string; serial?: string | undefined };

/** The pair a record read under `id` holds, or why it is refused; `undefined` when there was none. */
export function readKeyPairRecord(value: unknown, id: string): ReadKeyPair | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null) return { refused: 'it is not a key pair record' };
  const record = value as Partial<KeyPairRecord>;
  if (record.kind !== KIND) return { refused: 'it is not a key pair record' };
  if (record.v !== VERSION) return { refused: 'it is a record of another version' };
  if (record.id !== id) return { refused: 'it was written for another id' };
  const { privateKey, publicKey, serial } = record;
  if (typeof serial !== 'string') return { refused: 'it has no serial' };
  const problem = keyPairProblem(record);
  if (problem !== undefined || privateKey === undefined || publicKey === undefined) {
    return { refused: problem ?? 'its keys are missing', serial };
  }
  return { pair: { privateKey, publicKey }, serial };
}
