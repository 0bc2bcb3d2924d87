import { invalidOption } from '../shared/errors.js';
import { describe, optionalString } from '../shared/validate.js';
import { isAsymmetricAlgorithm, type AsymmetricAlgorithm, type JwsAlgorithm } from './jws.js';
import {
  FAMILY_ALGORITHMS,
  MIN_RSA_BITS,
  cryptoKeyAlgorithms,
  familyName,
  importParams,
  isCryptoKey,
} from './key-family.js';
import { base64url } from './base64url.js';
import { opaque } from './opaque.js';
import { sha256Hex } from '../shared/async.js';
import { readPkcs8Pem, type KeyFamily } from './pkcs8.js';

/**
 * The `privateKey` option of `private_key_jwt` (and the HS256 key of `client_secret_jwt`).
 *
 * What is checked when, so that a wrong key fails the factory that was given it, not a request:
 *
 * - **When the factory runs** (synchronously): the type (a `CryptoKey`, a plain JWK object or a
 *   PEM string); a `CryptoKey` is private, may `sign`, and is ECDSA P-256, Ed25519, or RSA with
 *   SHA-256 and at least 2048 bits; a JWK has a `d` (else it is a public key), a `kty`/`crv`
 *   tokenflight signs with, its members as strings, an RSA modulus of at least 2048 bits, no `use`
 *   but `sig` and no `key_ops` without `sign`; a PEM is one `-----BEGIN PRIVATE KEY-----` block
 *   (PKCS#8: PKCS#1, SEC1, encrypted and public PEMs are refused by name) of base64 whose DER names
 *   RSA, EC P-256 or Ed25519; `alg` fits the key (and the JWK's own `alg`).
 * - **At first use**, because WebCrypto imports asynchronously: the import itself (a JWK or PEM
 *   whose numbers are not a valid key, an RSA PEM shorter than 2048 bits). It fails with the
 *   same kind of error (a `TypeError`, code `ERR_INVALID_ARG_VALUE`, naming `privateKey`).
 *
 * Keys tokenflight imports are not extractable. No error, `JSON.stringify` or `util.inspect` of
 * the key object shows key material: only `alg` and `keyId`.
 */
export interface SigningKey {
  /** The JWS algorithm it signs with, named in the header exactly. */
  readonly alg: JwsAlgorithm;
  /** The `kid` header, when there is one. */
  readonly keyId: string | undefined;
  /** The WebCrypto key, imported once, at first use. */
  cryptoKey(): Promise<CryptoKey>;
  /**
   * Which key this is, for cache keys: a SHA-256 (hex) of the key material, never the material
   * itself. The same JWK or PEM gives the same identity in every process. A `CryptoKey` that
   * cannot be exported is identified by its `keyId` when it has one (so a fleet given one key
   * under one `kid` shares tokens), else by a random identity of that object in this process.
   */
  identity(): Promise<string>;
}

/** The options of a key-based client authentication, as the OAuth grants take them. */
export interface PrivateKeyOptions {
  /** A private `CryptoKey`, a private JWK (with `d`) or a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). */
  privateKey: CryptoKey | JsonWebKey | string;
  /** The `kid` of the assertion's header. @default the JWK's `kid`, else none */
  keyId?: string;
  /** @default inferred from the key: ES256, EdDSA, or RS256 for an RSA key */
  alg?: AsymmetricAlgorithm;
}

/** The members of a private JWK that WebCrypto needs, and no others. */
const JWK_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  EC: ['crv', 'x', 'y', 'd'],
  OKP: ['crv', 'x', 'd'],
  RSA: ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'],
};

type Refuse = (what: string) => never;

/** A plain object from any realm (a JWK parsed in a worker, exported by Node's crypto). */
function isJwkObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null;
  return prototype === null || (Object.getPrototypeOf(prototype) === null && prototype.constructor?.name === 'Object');
}

function chooseAlg(
  candidates: readonly AsymmetricAlgorithm[],
  alg: AsymmetricAlgorithm | undefined,
  what: string,
  refuse: Refuse,
) {
  if (alg === undefined) return candidates[0] as AsymmetricAlgorithm;
  if (!candidates.includes(alg)) {
    refuse(`\`alg\` ${JSON.stringify(alg)} does not fit \`privateKey\` (${what}: ${candidates.join(' or ')})`);
  }
  return alg;
}

function readCryptoKey(key: CryptoKey, alg: AsymmetricAlgorithm | undefined, refuse: Refuse) {
  if (key.type !== 'private') refuse(`expected \`privateKey\` to be a private key, got a ${key.type} CryptoKey`);
  if (!key.usages.includes('sign'))
    refuse('expected `privateKey` to be a CryptoKey usable to sign (its usages lack "sign")');
  const algorithms = cryptoKeyAlgorithms(key);
  if (!Array.isArray(algorithms)) return refuse(`\`privateKey\` is ${(algorithms as { problem: string }).problem}`);
  const chosen = chooseAlg(algorithms as readonly AsymmetricAlgorithm[], alg, 'a CryptoKey bound to', refuse);
  return { alg: chosen, load: () => Promise.resolve(key), kid: undefined, material: () => cryptoKeyMaterial(key) };
}

/** Random identities of CryptoKeys that cannot be exported, per object, in this process. */
const unexportable = new WeakMap<CryptoKey, string>();

async function cryptoKeyMaterial(key: CryptoKey): Promise<string | undefined> {
  if (!key.extractable) return undefined;
  return `pkcs8:${base64url(new Uint8Array(await globalThis.crypto.subtle.exportKey('pkcs8', key)))}`;
}

function objectIdentity(key: CryptoKey): string {
  let id = unexportable.get(key);
  if (id === undefined) {
    id = base64url(globalThis.crypto.getRandomValues(new Uint8Array(16)));
    unexportable.set(key, id);
  }
  return id;
}

function jwkFamily(jwk: Record<string, unknown>, refuse: Refuse): KeyFamily {
  const { kty, crv } = jwk;
  if (kty === 'EC' && crv === 'P-256') return 'EC-P256';
  if (kty === 'OKP' && crv === 'Ed25519') return 'Ed25519';
  if (kty === 'RSA') return 'RSA';
  if (kty === 'oct') return refuse('`privateKey` is a symmetric JWK; for a shared secret use `client_secret_jwt`');
  return refuse('`privateKey` is a JWK of a type tokenflight does not sign with (EC P-256, OKP Ed25519, RSA)');
}

function checkJwkUse(jwk: Record<string, unknown>, refuse: Refuse): void {
  if (jwk['use'] !== undefined && jwk['use'] !== 'sig') refuse('`privateKey` is a JWK whose `use` is not "sig"');
  const ops = jwk['key_ops'];
  if (ops !== undefined && !(Array.isArray(ops) && ops.includes('sign'))) {
    refuse('`privateKey` is a JWK whose `key_ops` lack "sign"');
  }
}

function readJwk(jwk: Record<string, unknown>, alg: AsymmetricAlgorithm | undefined, refuse: Refuse) {
  if (jwk['d'] === undefined) refuse('expected `privateKey` to be a private key, got a public JWK (it has no `d`)');
  const family = jwkFamily(jwk, refuse);
  checkJwkUse(jwk, refuse);
  const members: Record<string, string> = { kty: jwk['kty'] as string };
  for (const name of JWK_MEMBERS[members['kty'] as string] ?? []) {
    const value = jwk[name];
    if (value === undefined && members['kty'] === 'RSA' && !['n', 'e', 'd'].includes(name)) continue;
    if (typeof value !== 'string' || !/^[A-Za-z0-9_-]+$/.test(value)) {
      refuse(`\`privateKey\` is a JWK whose \`${name}\` is not a base64url string`);
    }
    members[name] = value;
  }
  if (family === 'RSA' && Math.floor(((members['n'] ?? '').length * 6) / 8) < MIN_RSA_BITS / 8) {
    refuse(`\`privateKey\` is an RSA key shorter than ${MIN_RSA_BITS} bits`);
  }
  const own = jwk['alg'];
  if (own !== undefined && !isAsymmetricAlgorithm(own))
    refuse('`privateKey` is a JWK whose `alg` tokenflight does not sign with');
  if (own !== undefined && alg !== undefined && own !== alg)
    refuse(`\`alg\` ${JSON.stringify(alg)} differs from the JWK's own \`alg\``);
  const chosen = chooseAlg(FAMILY_ALGORITHMS[family], alg ?? own, familyName(family), refuse);
  const kid = typeof jwk['kid'] === 'string' ? jwk['kid'] : undefined;
  const material = (): Promise<string> => Promise.resolve(`jwk:${JSON.stringify(members)}`);
  return { alg: chosen, load: () => importKey('jwk', members, chosen, refuse), kid, material };
}

function readPem(pem: string, alg: AsymmetricAlgorithm | undefined, refuse: Refuse) {
  const read = readPkcs8Pem(pem);
  if ('problem' in read)
    return refuse(`expected \`privateKey\` to be a PKCS#8 PEM (-----BEGIN PRIVATE KEY-----), got ${read.problem}`);
  const chosen = chooseAlg(FAMILY_ALGORITHMS[read.family], alg, familyName(read.family), refuse);
  const material = (): Promise<string> => Promise.resolve(`pkcs8:${base64url(read.der)}`);
  return { alg: chosen, load: () => importKey('pkcs8', read.der, chosen, refuse), kid: undefined, material };
}

async function importKey(
  format: 'jwk' | 'pkcs8',
  data: Record<string, string> | Uint8Array<ArrayBuffer>,
  alg: AsymmetricAlgorithm,
  refuse: Refuse,
): Promise<CryptoKey> {
  let key: CryptoKey;
  try {
    key =
      format === 'jwk'
        ? await globalThis.crypto.subtle.importKey('jwk', data as JsonWebKey, importParams(alg), false, ['sign'])
        : await globalThis.crypto.subtle.importKey('pkcs8', data as Uint8Array<ArrayBuffer>, importParams(alg), false, [
            'sign',
          ]);
  } catch (error) {
    const name = error instanceof Error ? error.name : 'Error';
    return refuse(`\`privateKey\` could not be imported as an ${alg} signing key by WebCrypto (${name})`);
  }
  const bits = (key.algorithm as Partial<RsaHashedKeyAlgorithm>).modulusLength;
  if (bits !== undefined && bits < MIN_RSA_BITS)
    refuse(`\`privateKey\` is an RSA key shorter than ${MIN_RSA_BITS} bits`);
  return key;
}

/**
 * Reads and checks `privateKey`, `keyId` and `alg` (see {@link SigningKey} for what is checked
 * when) and returns a key that imports itself once, at first use.
 *
 * @example
 * ```ts
 * const key = readPrivateKey({ privateKey: process.env.CLIENT_KEY_PEM, keyId: 'k1' }, 'clientCredentials()');
 * key.alg; // 'RS256' for an RSA PEM
 * ```
 */
export function readPrivateKey(
  given: { privateKey: unknown; keyId?: unknown; alg?: unknown },
  context: string,
): SigningKey {
  const refuse: Refuse = (what) => {
    throw invalidOption(`${context}: ${what}`);
  };
  const { privateKey, alg } = given;
  if (alg !== undefined && !isAsymmetricAlgorithm(alg)) {
    refuse(
      `expected \`alg\` to be one of 'ES256', 'EdDSA', 'RS256', 'PS256', got ${typeof alg === 'string' ? JSON.stringify(alg) : describe(alg)}`,
    );
  }
  const wanted = alg;
  const keyId = optionalString(given.keyId, 'keyId', context);
  let read: {
    alg: AsymmetricAlgorithm;
    load: () => Promise<CryptoKey>;
    kid: string | undefined;
    material: () => Promise<string | undefined>;
  };
  if (isCryptoKey(privateKey)) read = readCryptoKey(privateKey, wanted, refuse);
  else if (isJwkObject(privateKey)) read = readJwk(privateKey, wanted, refuse);
  else if (typeof privateKey === 'string' && privateKey.trim() !== '') read = readPem(privateKey, wanted, refuse);
  else {
    throw invalidOption(
      `${context}: expected \`privateKey\` to be a CryptoKey, a private JWK or a PKCS#8 PEM string, got ${describe(privateKey)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  let imported: Promise<CryptoKey> | undefined;
  const cryptoKey = (): Promise<CryptoKey> => {
    imported ??= read.load();
    // A failed import is not kept: the next use tries again and fails the same way.
    imported.catch(() => (imported = undefined));
    return imported;
  };
  const kid = keyId ?? read.kid;
  const identity = async (): Promise<string> => {
    const material = await read.material();
    if (material !== undefined) return sha256Hex(`tokenflight/key/v1\n${material}`);
    const key = privateKey as CryptoKey;
    return kid === undefined ? `object:${objectIdentity(key)}` : `kid:${kid}`;
  };
  return opaque('SigningKey', { alg: read.alg, keyId: kid }, { cryptoKey, identity });
}

/**
 * The HS256 key of `client_secret_jwt` (RFC 7523 §2.2 with the client secret as the HMAC key,
 * OIDC Core §9), imported once, not extractable.
 */
export function secretSigningKey(clientSecret: string): SigningKey {
  let imported: Promise<CryptoKey> | undefined;
  const cryptoKey = (): Promise<CryptoKey> =>
    (imported ??= globalThis.crypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(clientSecret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign'],
    ));
  const facts: Pick<SigningKey, 'alg' | 'keyId'> = { alg: 'HS256', keyId: undefined };
  const identity = (): Promise<string> => sha256Hex(`tokenflight/key/v1\nsecret:${clientSecret}`);
  return opaque('SigningKey', facts, { cryptoKey, identity });
}
