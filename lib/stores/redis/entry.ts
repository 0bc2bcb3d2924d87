import { createCipheriv, createDecipheriv, createHash, createSecretKey, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { invalidOption } from '../../shared/errors.js';
import type { StoredToken } from '../store.js';
import { describe, expectKnownKeys, expectOptions, isPlainObject } from '../../shared/validate.js';
import type { UnreadableEntryReason } from './types.js';

/** An entry as stored in Redis (JSON). Expiry and fingerprint stay in clear so the scripts can compare them. */
interface Entry {
  v: 1;
  tokenType: string;
  expiresAt: number | null;
  obtainedAt: number;
  /** SHA-256 (hex) of the access token. */
  fp: string;
  /** The token in clear, when the store does not encrypt. */
  accessToken?: string;
  /** Key id, IV, tag and ciphertext (base64), when it does. */
  kid?: string;
  iv?: string;
  tag?: string;
  ct?: string;
}

/** The keys a store encrypts with, read and checked from {@link RedisTokenStoreEncryption}. */
export interface Cipher {
  readonly keys: ReadonlyMap<string, KeyObject>;
  readonly currentKeyId: string;
}

/** Why an entry could not be read, and the key id it names, if any. */
export interface Unreadable {
  reason: UnreadableEntryReason;
  keyId: string | undefined;
}

const KEY_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const CONTEXT = 'new RedisTokenStore()';

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * Binds a ciphertext to its store key and to the metadata kept in clear, so neither can be swapped
 * or altered (to stretch a token's expiry, say) without decryption failing.
 */
function additionalData(key: string, entry: Entry, keyId: string): Buffer {
  return Buffer.from(
    JSON.stringify(['tokenflight/redis/v1', key, keyId, entry.tokenType, entry.expiresAt, entry.obtainedAt, entry.fp]),
  );
}

/** The JSON stored under `key` for `token`: the token in clear, or encrypted with the current key. */
export function encodeEntry(key: string, token: StoredToken, cipher: Cipher | undefined): string {
  const entry: Entry = {
    v: 1,
    tokenType: token.tokenType,
    expiresAt: token.expiresAt,
    obtainedAt: token.obtainedAt,
    fp: sha256(token.accessToken),
  };
  if (cipher === undefined) return JSON.stringify({ ...entry, accessToken: token.accessToken });
  const secretKey = cipher.keys.get(cipher.currentKeyId) as KeyObject;
  const iv = randomBytes(12);
  const aes = createCipheriv('aes-256-gcm', secretKey, iv);
  aes.setAAD(additionalData(key, entry, cipher.currentKeyId));
  const ct = Buffer.concat([aes.update(token.accessToken, 'utf8'), aes.final()]);
  return JSON.stringify({
    ...entry,
    kid: cipher.currentKeyId,
    iv: iv.toString('base64'),
    tag: aes.getAuthTag().toString('base64'),
    ct: ct.toString('base64'),
  });
}

function decrypt(key: string, entry: Entry, keyId: string, cipher: Cipher | undefined): string | Unreadable {
  const secretKey = cipher?.keys.get(keyId);
  if (secretKey === undefined) return { reason: 'unknown-key-id', keyId };
  try {
    const aes = createDecipheriv('aes-256-gcm', secretKey, Buffer.from(entry.iv ?? '', 'base64'));
    aes.setAAD(additionalData(key, entry, keyId));
    aes.setAuthTag(Buffer.from(entry.tag ?? '', 'base64'));
    const ct = Buffer.from(entry.ct ?? '', 'base64');
    const accessToken = Buffer.concat([aes.update(ct), aes.final()]).toString('utf8');
    return sha256(accessToken) === entry.fp ? accessToken : { reason: 'decryption-failed', keyId };
  } catch {
    return { reason: 'decryption-failed', keyId };
  }
}

/** The token in the JSON stored under `key`, or why it cannot be read. */
export function decodeEntry(key: string, raw: string, cipher: Cipher | undefined): StoredToken | Unreadable {
  const entry = parseEntry(raw);
  if (entry === undefined) return { reason: 'malformed', keyId: undefined };
  const facts = { tokenType: entry.tokenType, expiresAt: entry.expiresAt, obtainedAt: entry.obtainedAt };
  const keyId = entry.kid;
  if (keyId === undefined) {
    if (entry.accessToken === undefined) return { reason: 'malformed', keyId };
    if (cipher !== undefined) return { reason: 'not-encrypted', keyId };
    return { accessToken: entry.accessToken, ...facts };
  }
  const accessToken = decrypt(key, entry, keyId, cipher);
  return typeof accessToken === 'string' ? { accessToken, ...facts } : accessToken;
}

function parseEntry(raw: string): Entry | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!isPlainObject(value) || value['v'] !== 1) return undefined;
  const { tokenType, expiresAt, obtainedAt, fp } = value;
  const isText = (field: unknown): field is string => typeof field === 'string';
  if (!isText(tokenType) || !isText(fp) || typeof obtainedAt !== 'number') return undefined;
  if (expiresAt !== null && typeof expiresAt !== 'number') return undefined;
  const entry: Entry = { v: 1, tokenType, expiresAt, obtainedAt, fp };
  const { accessToken, kid, iv, tag, ct } = value;
  if (isText(kid)) {
    if (!isText(iv) || !isText(tag) || !isText(ct)) return undefined;
    return { ...entry, kid, iv, tag, ct };
  }
  return isText(accessToken) && accessToken !== '' ? { ...entry, accessToken } : entry;
}

function readKey(id: string, material: unknown): KeyObject {
  if (!KEY_ID.test(id)) {
    throw invalidOption(
      `${CONTEXT}: expected the key ids of \`encryption.keys\` to be 1 to 64 letters, digits or ._:- characters`,
    );
  }
  let bytes: Buffer | undefined;
  if (material instanceof Uint8Array) bytes = Buffer.from(material);
  else if (typeof material === 'string' && /^[A-Za-z0-9+/]+={0,2}$/.test(material.trim()))
    bytes = Buffer.from(material.trim(), 'base64');
  if (bytes?.length !== 32) {
    const got = bytes === undefined ? describe(material) : `${bytes.length} bytes`;
    throw invalidOption(
      `${CONTEXT}: expected \`encryption.keys["${id}"]\` to be a 32-byte key (a Buffer or a base64 string), got ${got}`,
    );
  }
  return createSecretKey(bytes);
}

/** Checks the `encryption` option and turns its keys into key objects. */
export function readEncryption(value: unknown): Cipher {
  const given = expectOptions(value, `${CONTEXT} \`encryption\``);
  expectKnownKeys(given, ['keys', 'currentKeyId'], `${CONTEXT} \`encryption\``);
  const { keys, currentKeyId } = given;
  if (!isPlainObject(keys) || Object.keys(keys).length === 0) {
    throw invalidOption(
      `${CONTEXT}: expected \`encryption.keys\` to be an object of keys by key id, got ${describe(keys)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  const map = new Map<string, KeyObject>();
  for (const [id, material] of Object.entries(keys)) map.set(id, readKey(id, material));
  if (typeof currentKeyId !== 'string' || !map.has(currentKeyId)) {
    throw invalidOption(
      `${CONTEXT}: expected \`encryption.currentKeyId\` to name one of \`encryption.keys\` (${[...map.keys()].join(', ')}), got ${
        typeof currentKeyId === 'string' ? `"${currentKeyId}"` : describe(currentKeyId)
      }`,
    );
  }
  return { keys: map, currentKeyId };
}
