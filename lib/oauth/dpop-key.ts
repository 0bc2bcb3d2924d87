import { invalidOption } from '../shared/errors.js';
import { describe, expectBoolean, expectKnownKeys, isPlainObject } from '../shared/validate.js';
import { ASYMMETRIC_ALGORITHMS, isAsymmetricAlgorithm, signParams, type AsymmetricAlgorithm } from './jws.js';
import { cryptoKeyAlgorithms, generateParams, isCryptoKey } from './key-family.js';
import { jwkThumbprint, publicMembers } from './jwk-thumbprint.js';
import { opaque } from './opaque.js';

/**
 * A WebCrypto `CryptoKey`, described by the members tokenflight reads, so that the option types need
 * neither the DOM library nor Node.js's: a `CryptoKey` from any realm fits.
 */
export interface DpopCryptoKey {
  readonly type: string;
  readonly extractable: boolean;
  readonly algorithm: object;
  readonly usages: readonly string[];
}

/** A WebCrypto key pair, typed structurally: a `CryptoKeyPair` fits. */
export interface DpopKeyPair {
  /** A private key usable to sign (best made non-extractable). */
  readonly privateKey: DpopCryptoKey;
  /** Its public key, extractable and usable to verify: every proof carries it. */
  readonly publicKey: DpopCryptoKey;
}

/** The `dpop` option of the OAuth grants, in its object form. */
export interface DpopOptions {
  /**
   * The key pair to prove possession with, used as it is: give every process of a fleet the same
   * pair (from the app's key store) and they share one token.
   * @default a non-extractable pair made once per provider (or kept by the store, when it has `keyPair`)
   */
  keyPair?: DpopKeyPair;
  /** @default the pair's algorithm; without a pair ES256, or with discovery the first of ES256, EdDSA, RS256, PS256 the server lists */
  alg?: AsymmetricAlgorithm;
  /**
   * Refuse a token the server issued as `Bearer` instead of `DPoP` (`ERR_TOKEN_NOT_DPOP_BOUND`,
   * nothing cached); without it such a token is sent as a bearer token. @default false
   */
  required?: boolean;
}

/** The `dpop` option, read and checked when the factory runs. */
export interface DpopSettings {
  readonly keyPair: CryptoKeyPair | undefined;
  readonly alg: AsymmetricAlgorithm | undefined;
  readonly required: boolean;
}

/**
 * The key a DPoP proof is signed with, and what every proof and cache key needs of it, computed
 * once: the public JWK (its identifying members only) and its RFC 7638 thumbprint (`jkt`).
 */
export interface DpopKey {
  readonly alg: AsymmetricAlgorithm;
  readonly privateKey: CryptoKey;
  /** The public key as the proof's `jwk` header carries it: no private member. */
  readonly jwk: Readonly<Record<string, string>>;
  /** RFC 7638 thumbprint of the public key, base64url: the token's `cnf.jkt`. */
  readonly thumbprint: string;
}

/** Checks a key pair as `dpop.keyPair` must be (see {@link readDpopOption}); a store's pair too. */
export function readKeyPair(
  value: unknown,
  context: string,
): { pair: CryptoKeyPair; algs: readonly AsymmetricAlgorithm[] } {
  const refuse = (what: string): never => {
    throw invalidOption(`${context}: ${what}`);
  };
  if (typeof value !== 'object' || value === null) {
    throw invalidOption(
      `${context}: expected \`dpop.keyPair\` to be a CryptoKeyPair, got ${describe(value)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  const { privateKey, publicKey } = value as Partial<CryptoKeyPair>;
  if (!isCryptoKey(privateKey) || privateKey.type !== 'private' || !privateKey.usages.includes('sign')) {
    refuse('expected `dpop.keyPair.privateKey` to be a private CryptoKey usable to sign');
  }
  if (
    !isCryptoKey(publicKey) ||
    publicKey.type !== 'public' ||
    !publicKey.extractable ||
    !publicKey.usages.includes('verify')
  ) {
    refuse(
      'expected `dpop.keyPair.publicKey` to be an extractable public CryptoKey usable to verify (every proof carries it)',
    );
  }
  const algs = cryptoKeyAlgorithms(privateKey as CryptoKey);
  if (!Array.isArray(algs)) return refuse(`\`dpop.keyPair\` holds ${(algs as { problem: string }).problem}`);
  const publicAlgs = cryptoKeyAlgorithms(publicKey as CryptoKey);
  if (!Array.isArray(publicAlgs) || publicAlgs.join() !== algs.join()) {
    refuse('`dpop.keyPair` holds a private and a public key of different algorithms');
  }
  return { pair: value as CryptoKeyPair, algs: algs as readonly AsymmetricAlgorithm[] };
}

/**
 * Reads the `dpop` option: `undefined`/`false` (no DPoP), `true`, or `{ keyPair?, alg?, required? }`.
 * A given pair is checked now (two CryptoKeys: a private one that signs, an extractable public one
 * that verifies, of one algorithm that `alg` fits); that they are halves of one pair is checked at
 * first use.
 *
 * @example
 * ```ts
 * readDpopOption({ alg: 'EdDSA' }, 'clientCredentials()'); // { keyPair: undefined, alg: 'EdDSA', required: false }
 * ```
 */
export function readDpopOption(value: unknown, context: string): DpopSettings | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return { keyPair: undefined, alg: undefined, required: false };
  if (!isPlainObject(value)) {
    throw invalidOption(
      `${context}: expected \`dpop\` to be a boolean or an object, got ${describe(value)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  expectKnownKeys(value, ['keyPair', 'alg', 'required'], `${context} \`dpop\``);
  const { alg } = value;
  if (alg !== undefined && !isAsymmetricAlgorithm(alg)) {
    throw invalidOption(
      `${context}: expected \`dpop.alg\` to be one of ${ASYMMETRIC_ALGORITHMS.map((a) => `'${a}'`).join(', ')}, got ${typeof alg === 'string' ? JSON.stringify(alg) : describe(alg)}`,
    );
  }
  const required = expectBoolean(value['required'], 'dpop.required', context) ?? false;
  if (value['keyPair'] === undefined) return { keyPair: undefined, alg, required };
  const { pair, algs } = readKeyPair(value['keyPair'], context);
  if (alg !== undefined && !algs.includes(alg)) {
    throw invalidOption(
      `${context}: \`dpop.alg\` ${JSON.stringify(alg)} does not fit \`dpop.keyPair\` (${algs.join(' or ')})`,
    );
  }
  return { keyPair: pair, alg: alg ?? algs[0], required };
}

/**
 * The algorithm of the proofs: the one configured (or the pair's), else ES256, else with discovery
 * the first of ES256, EdDSA, RS256, PS256 that the server lists in
 * `dpop_signing_alg_values_supported`. `undefined` when the server lists none that fits.
 */
export function chooseDpopAlgorithm(
  settings: Pick<DpopSettings, 'alg'>,
  serverAlgs: readonly string[] | undefined,
): AsymmetricAlgorithm | undefined {
  const candidates = settings.alg === undefined ? ASYMMETRIC_ALGORITHMS : [settings.alg];
  if (serverAlgs === undefined) return candidates[0];
  return candidates.find((alg) => serverAlgs.includes(alg));
}

async function provePair(pair: CryptoKeyPair, alg: AsymmetricAlgorithm, context: string): Promise<void> {
  const probe = new TextEncoder().encode('tokenflight: do these keys belong together?');
  const signature = await globalThis.crypto.subtle.sign(signParams(alg), pair.privateKey, probe);
  const valid = await globalThis.crypto.subtle.verify(signParams(alg), pair.publicKey, signature, probe);
  if (!valid) throw invalidOption(`${context}: \`dpop.keyPair\` holds a public key that is not the private key's`);
}

/**
 * Where a key pair is kept when none is given: a store's `keyPair(id, create)` (browser tabs share
 * one pair kept in IndexedDB). `generate` makes a new non-extractable pair.
 */
export type PairSource = (generate: () => Promise<CryptoKeyPair>) => Promise<CryptoKeyPair>;

/**
 * The DPoP key of one provider, made (or checked) once at first use and shared by every later
 * proof: `key()` resolves to the same {@link DpopKey} each time. A generated pair is not
 * extractable. A failure is not kept: the next call tries again.
 *
 * @example
 * ```ts
 * const keys = createDpopKeySource(readDpopOption(true, context)!, context);
 * const key = await keys.key(metadata.dpopSigningAlgValues); // the same key for every proof
 * ```
 */
export function createDpopKeySource(settings: DpopSettings, context: string, pairs?: PairSource) {
  let made: Promise<DpopKey> | undefined;
  const make = async (serverAlgs: readonly string[] | undefined): Promise<DpopKey> => {
    const alg = chooseDpopAlgorithm(settings, serverAlgs);
    if (alg === undefined) {
      throw invalidOption(
        `${context}: the server's \`dpop_signing_alg_values_supported\` lists none of ${settings.alg ?? ASYMMETRIC_ALGORITHMS.join(', ')}`,
      );
    }
    const generate = async (): Promise<CryptoKeyPair> =>
      (await globalThis.crypto.subtle.generateKey(generateParams(alg), false, ['sign', 'verify'])) as CryptoKeyPair;
    let pair = settings.keyPair;
    if (pair === undefined && pairs !== undefined) pair = await pairs(generate);
    if (pair === undefined) pair = await generate();
    else await provePair(pair, alg, context);
    const jwk = publicMembers(await globalThis.crypto.subtle.exportKey('jwk', pair.publicKey));
    const key: DpopKey = opaque(
      'DpopKey',
      { alg, jwk, thumbprint: await jwkThumbprint(jwk) },
      { privateKey: pair.privateKey },
    );
    return key;
  };
  const key = (serverAlgs?: readonly string[]): Promise<DpopKey> => {
    made ??= make(serverAlgs);
    made.catch(() => (made = undefined));
    return made;
  };
  return { key };
}
