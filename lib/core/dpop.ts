import { createDpopKeySource, readKeyPair, type DpopKey, type DpopSettings } from '../oauth/dpop-key.js';
import {
  createNonceStore,
  isResourceNonceChallenge,
  isTokenEndpointNonceChallenge,
  nonceForResend,
  readNonce,
  type NonceAnswer,
  type NonceSlot,
  type NonceStore,
} from '../oauth/dpop-nonce.js';
import { createAthCache, createDpopProof } from '../oauth/dpop-proof.js';
import { cryptoRandomBytes, type RandomBytes } from '../oauth/random.js';
import type { AsymmetricAlgorithm } from '../oauth/jws.js';
import { sha256Hex } from '../shared/sha256.js';
import type { TokenStore } from '../stores/store.js';

/**
 * DPoP (RFC 9449) as both boundaries and the token request use it, written once: one key per
 * provider, a new proof per send (with the origin's latest nonce, and on API requests the token's
 * `ath`, hashed once per token), every answer's `DPoP-Nonce` remembered, and the nonce re-send.
 *
 * Simple rules:
 * - A proof is made for every send, never reused: first send, nonce re-send, replay after a 401.
 * - A request to the API carries a proof only with a DPoP-bound token (`token_type: DPoP`); a
 *   token the server issued as `Bearer` goes as a bearer token (unless `dpop.required` refused it).
 * - A `use_dpop_nonce` challenge is sent once more at once, with the nonce and a new proof: one
 *   nonce re-send per request; it is not a rejected token (no token request) and not a failure.
 */

/** What the rest of tokenflight sees of a DPoP key: its algorithm and thumbprint (never the key itself). */
export interface DpopKeyFacts {
  readonly alg: AsymmetricAlgorithm;
  /** RFC 7638 thumbprint of the public key: the token's `cnf.jkt`. */
  readonly thumbprint: string;
}

/** The DPoP side of one provider on one handle. */
export interface DpopBinding {
  /** The provider's key, made (or read from the store) once, at first use. */
  key(): Promise<DpopKeyFacts>;
  /** The latest `DPoP-Nonce` of each origin, shared by the handle's token requests and API requests. */
  readonly nonces: NonceStore;
  /** `dpop.required`: a token issued as `Bearer` is refused. */
  readonly required: boolean;
  /** A new proof for a token request to `url`, with the origin's latest nonce. */
  tokenProof(method: string, url: string): Promise<string>;
  /** A new proof for a request to the API that carries `accessToken` (`ath` hashed once per token). */
  resourceProof(method: string, url: string, accessToken: string): Promise<string>;
  /** The `DPoP` header of one send to the API ({@link proofForSend}); none for a bearer token. */
  proofForSend(token: SentTokenFacts, method: string, url: string): Promise<string> | undefined;
  /** Reads an API answer and says whether to send once more with its nonce ({@link shouldResendWithNonce}). */
  shouldResend(url: string, answer: ApiAnswer, resends: number): boolean;
  /** True for a token endpoint's `use_dpop_nonce` answer (RFC 9449 §8). */
  isTokenNonceChallenge(answer: NonceAnswer): boolean;
}

/** What a send's proof needs of the token it carries. */
export interface SentTokenFacts {
  readonly tokenType: string;
  readonly accessToken: string;
}

/** What a provider's DPoP setting is made with, once per handle. */
export interface DpopBindingOptions {
  readonly settings: DpopSettings;
  /** The factory's name, for errors (`clientCredentials()`). */
  readonly context: string;
  /** The provider's own key source: the key made once per provider, for every handle without a store pair. */
  readonly shared: ReturnType<typeof createDpopKeySource>;
  /** The handle's store: when it has `keyPair(id, create)`, the pair kept there is used (tabs share it). */
  readonly store: Pick<TokenStore, 'keyPair'>;
  /** The provider's stable identity (token endpoint and client ID, never a secret), the store pair's `id`. */
  readonly id: Promise<string>;
  /** The handle's nonces, or the slot that holds them once a DPoP provider needs them. */
  readonly nonces: NonceStore | NonceSlot;
  /** `dpop_signing_alg_values_supported` from the server's metadata, with discovery. */
  readonly serverAlgs: () => Promise<readonly string[] | undefined>;
  readonly now: () => number;
  readonly randomBytes?: RandomBytes;
}

/**
 * The DPoP binding of one provider on one handle.
 *
 * @example
 * ```ts
 * const dpop = createDpopBinding({ settings, context, shared, store, id, nonces, serverAlgs, now: Date.now });
 * headers['DPoP'] = await dpop.tokenProof('POST', tokenUrl);
 * ```
 */
export function createDpopBinding(options: DpopBindingOptions): DpopBinding {
  const { settings, context, store, now } = options;
  const nonces = nonceStoreOf(options.nonces);
  const randomBytes = options.randomBytes ?? cryptoRandomBytes;
  const keyPair = store.keyPair?.bind(store);
  const keys =
    settings.keyPair !== undefined || keyPair === undefined
      ? options.shared
      : createDpopKeySource(
          settings,
          context,
          async (generate) =>
            readKeyPair(await keyPair(await options.id, generate), `${context} (the store's DPoP key pair)`).pair,
        );
  // Once made, the key is read without a wait: one proof per send is the hot path.
  let made: DpopKey | undefined;
  const key = async (): Promise<DpopKey> => {
    if (made !== undefined) return made;
    const found = await keys.key(await options.serverAlgs());
    made = found;
    return found;
  };
  const athOf = createAthCache();
  const clock = { now, randomBytes };
  // The URL is parsed once for the nonce lookup and `htu`.
  const prove = (signer: DpopKey, method: string, url: string, ath: string | undefined): Promise<string> => {
    const target = new URL(url);
    return createDpopProof(signer, { method, url: target, nonce: nonces.get(target), ath }, clock);
  };
  const binding: DpopBinding = {
    key,
    nonces,
    required: settings.required,
    tokenProof: async (method, url) => prove(await key(), method, url, undefined),
    resourceProof: (method, url, accessToken) => {
      // Once the key is made and the token's `ath` hashed (every send after the token's first), the
      // signature is the only wait.
      const ath = athOf.known(accessToken);
      if (made !== undefined && ath !== undefined) return prove(made, method, url, ath);
      return (async () => prove(await key(), method, url, await athOf(accessToken)))();
    },
    proofForSend: (token, method, url) => proofForSend(binding, token, method, url),
    shouldResend: (url, answer, resends) => shouldResendWithNonce(binding, url, answer, resends),
    isTokenNonceChallenge: isTokenEndpointNonceChallenge,
  };
  return binding;
}

function nonceStoreOf(nonces: NonceStore | NonceSlot): NonceStore {
  if ('get' in nonces) return nonces;
  nonces.store ??= createNonceStore();
  return nonces.store;
}

/** The stable identity of a provider's DPoP key pair in a store: a hash of where and who asks, never a secret. */
export function dpopKeyId(tokenUrl: string, clientId: string): Promise<string> {
  return sha256Hex(JSON.stringify(['tokenflight/dpop-key/v1', tokenUrl, clientId]));
}

/**
 * A cache key bound to the DPoP key: tokens are kept per key thumbprint (`jkt`), so handles with
 * different keys never use each other's token, even through one store, and handles given one key
 * pair share one.
 */
export async function keyWithThumbprint(base: Promise<string>, dpop: DpopBinding): Promise<string> {
  const [key, { thumbprint }] = await Promise.all([base, dpop.key()]);
  return sha256Hex(JSON.stringify([key, { jkt: thumbprint }]));
}

/** The cache key of a DPoP provider's tokens ({@link keyWithThumbprint}), made once unless it fails. */
export function boundKey(base: Promise<string>, dpop: DpopBinding): () => Promise<string> {
  return keptUnlessFailed(() => keyWithThumbprint(base, dpop));
}

/**
 * A promise made at first call and kept, unless it fails: the next call makes it again. For a cache
 * key that needs the DPoP key (made at first use), so a failure to make it is not kept.
 */
export function keptUnlessFailed<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => {
    if (made !== undefined) return made;
    const attempt = make();
    made = attempt;
    attempt.catch(() => {
      if (made === attempt) made = undefined;
    });
    return attempt;
  };
}

/** True for a token sent with proofs: issued as `DPoP`. */
export function isDpopBound(token: { readonly tokenType: string }): boolean {
  return token.tokenType === 'DPoP';
}

/**
 * The `DPoP` header of one send to the API: a new proof when the token is DPoP-bound, none for a
 * bearer token or a provider without DPoP.
 */
export function proofForSend(
  dpop: DpopBinding | undefined,
  token: SentTokenFacts,
  method: string,
  url: string,
): Promise<string> | undefined {
  if (dpop === undefined || !isDpopBound(token)) return undefined;
  return dpop.resourceProof(method, url, token.accessToken);
}

/** An API answer as the nonce rule reads it. */
export interface ApiAnswer {
  readonly status: number;
  /** A header by lower-case name. */
  header(name: string): string | undefined;
}

/**
 * Reads an API answer to a send that carried a proof: its `DPoP-Nonce` becomes the origin's nonce,
 * and the result says whether to send the request once more at once (a nonce challenge, a nonce to
 * send, and no nonce re-send yet: `resends` is how many the request had).
 */
export function shouldResendWithNonce(
  dpop: DpopBinding | undefined,
  url: string,
  answer: ApiAnswer,
  resends: number,
): boolean {
  if (dpop === undefined) return false;
  const headers: Record<string, string> = {};
  for (const name of ['dpop-nonce', 'www-authenticate']) {
    const value = answer.header(name);
    if (value !== undefined) headers[name] = value;
  }
  dpop.nonces.remember(url, headers);
  const challenge = isResourceNonceChallenge({ status: answer.status, headers });
  if (!challenge) return false;
  const nonce = nonceForResend({
    challenge,
    resends,
    answerNonce: readNonce(headers),
    knownNonce: dpop.nonces.get(url),
  });
  return nonce !== undefined;
}
