import { parseChallenges } from './www-authenticate.js';

/**
 * DPoP nonces (RFC 9449 §8, §9): the latest `DPoP-Nonce` of each origin, and the rule for the
 * answer that asks for one.
 *
 * Simple rules:
 * - Every answer's `DPoP-Nonce` (token endpoint and API alike, any status) becomes its origin's
 *   nonce, and every later proof to that origin carries it.
 * - A nonce challenge (400 `use_dpop_nonce` from the token endpoint; 401 with a DPoP challenge
 *   `error="use_dpop_nonce"` from the API) is not a failure and not a rejected token: the send is
 *   made once more, at once, with the nonce and a new proof. No backoff, no token request.
 * - At most one nonce re-send per send: a second challenge reaches the caller as it came.
 */

/** Limits of the nonce store. */
export const NONCE_DEFAULTS = {
  /** Origins remembered; the least recently used is forgotten past this. */
  maxOrigins: 100,
  /** A longer `DPoP-Nonce` is ignored (RFC 9449 puts no limit; servers send tens of characters). */
  maxNonceLength: 1_024,
} as const;

/** RFC 9449 §8.1: `nonce = 1*NQCHAR`, NQCHAR being %x21 / %x23-5B / %x5D-7E. */
const NONCE = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** The `DPoP-Nonce` of an answer (headers by lower-case name), when it holds a valid nonce. */
export function readNonce(headers: Readonly<Record<string, string>>): string | undefined {
  const value = headers['dpop-nonce'];
  if (value === undefined || value.length > NONCE_DEFAULTS.maxNonceLength || !NONCE.test(value)) return undefined;
  return value;
}

/** The latest nonce of each origin. */
/**
 * Where a handle keeps its DPoP nonces: empty until a provider with DPoP first needs them, so a
 * handle without DPoP never loads the nonce code (the binding fills it, lib/core/dpop.ts).
 */
export interface NonceSlot {
  store?: NonceStore;
}

export interface NonceStore {
  /** The nonce to send to `url`'s origin, if one is known. */
  get(url: string | URL): string | undefined;
  /** Takes the `DPoP-Nonce` of an answer from `url` (headers by lower-case name); without one, nothing changes. */
  remember(url: string | URL, headers: Readonly<Record<string, string>>): void;
  /** How many origins have a nonce. */
  readonly size: number;
}

/**
 * A store of the latest nonce per origin, bounded to `maxOrigins` (least recently used first out).
 * One per handle, shared by its providers' token requests and API requests.
 *
 * @example
 * ```ts
 * const nonces = createNonceStore();
 * nonces.remember(url, answer.headers);
 * const nonce = nonces.get(url);
 * ```
 */
export function createNonceStore(limits: { maxOrigins?: number } = {}): NonceStore {
  const maxOrigins = limits.maxOrigins ?? NONCE_DEFAULTS.maxOrigins;
  const nonces = new Map<string, string>();
  return {
    get(url) {
      const origin = originOf(url);
      const nonce = nonces.get(origin);
      if (nonce !== undefined) {
        nonces.delete(origin);
        nonces.set(origin, nonce);
      }
      return nonce;
    },
    remember(url, headers) {
      const nonce = readNonce(headers);
      if (nonce === undefined) return;
      const origin = originOf(url);
      nonces.delete(origin);
      nonces.set(origin, nonce);
      for (const oldest of nonces.keys()) {
        if (nonces.size <= maxOrigins) break;
        nonces.delete(oldest);
      }
    },
    get size() {
      return nonces.size;
    },
  };
}

/** The origin of `url`; a `URL` already parsed is not parsed again. */
function originOf(url: string | URL): string {
  return (typeof url === 'string' ? new URL(url) : url).origin;
}

/** An answer as the nonce rule reads it: headers by lower-case name, the body as text. */
export interface NonceAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | undefined;
}

/** Is this token endpoint answer a nonce challenge? 400 with the JSON error `use_dpop_nonce` (RFC 9449 §8). */
export function isTokenEndpointNonceChallenge(answer: NonceAnswer): boolean {
  if (answer.status !== 400 || answer.body === undefined) return false;
  try {
    // Reading `error` of a string or number gives undefined, and of null throws: both are "no".
    const json = JSON.parse(answer.body) as { error?: unknown } | null;
    return json?.error === 'use_dpop_nonce';
  } catch {
    return false;
  }
}

/** Is this API answer a nonce challenge? 401 with a DPoP challenge `error="use_dpop_nonce"` (RFC 9449 §9). */
export function isResourceNonceChallenge(answer: NonceAnswer): boolean {
  const header = answer.headers['www-authenticate'];
  if (answer.status !== 401 || header === undefined) return false;
  return parseChallenges(header).some(
    (challenge) => challenge.scheme === 'dpop' && challenge.params['error'] === 'use_dpop_nonce',
  );
}

/** What decides a nonce re-send. */
export interface NonceResendQuestion {
  /** The answer is a nonce challenge ({@link isTokenEndpointNonceChallenge}, {@link isResourceNonceChallenge}). */
  readonly challenge: boolean;
  /** Nonce re-sends this send has had already. */
  readonly resends: number;
  /** The answer's own `DPoP-Nonce` ({@link readNonce}). */
  readonly answerNonce: string | undefined;
  /** The origin's latest nonce in the store (another answer may have brought one). */
  readonly knownNonce: string | undefined;
}

/**
 * The nonce to re-send with, or `undefined` when the answer stands: a challenge is re-sent once
 * per send, with the nonce the challenge brought (the freshest for this exchange), else the
 * origin's latest; a challenge with no nonce to use is the caller's answer.
 *
 * @example
 * ```ts
 * const nonce = nonceForResend({ challenge: isResourceNonceChallenge(answer), resends, answerNonce: readNonce(answer.headers), knownNonce: nonces.get(url) });
 * if (nonce !== undefined) return send({ nonce, resends: resends + 1 }); // a new proof, at once
 * ```
 */
export function nonceForResend(question: NonceResendQuestion): string | undefined {
  if (!question.challenge || question.resends >= 1) return undefined;
  return question.answerNonce ?? question.knownNonce;
}
