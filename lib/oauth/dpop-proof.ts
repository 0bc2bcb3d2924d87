import { base64url } from './base64url.js';
import type { DpopKey } from './dpop-key.js';
import { encodeJwsPart, signJwsWithHeader } from './jws.js';
import { newJti, type RandomBytes } from './random.js';

/**
 * DPoP proofs (RFC 9449 §4): one signed JWT per send, never reused (a retry, a nonce re-send and
 * a replay after 401 each make a new one).
 */

/** What one send needs proved: its method and URL, and on a resource request the token it carries. */
export interface ProofRequest {
  /** The HTTP method as it goes on the wire. */
  readonly method: string;
  /** The absolute URL requested; its query and fragment are left out of `htu`. */
  readonly url: string | URL;
  /** The latest `DPoP-Nonce` of the URL's origin, when one is known. */
  readonly nonce?: string | undefined;
  /** `ath`: the access token's hash ({@link accessTokenHash}), on requests to a resource server. */
  readonly ath?: string | undefined;
}

/** The clock and random source of proofs; tests pass fakes. */
export interface ProofContext {
  /** Epoch ms. */
  readonly now: () => number;
  readonly randomBytes: RandomBytes;
}

/**
 * `htu` (RFC 9449 §4.2, §4.3): the request URL without query, fragment and user info, as the WHATWG
 * URL parser serialises it (scheme and host in lower case, the default port dropped, an empty path
 * as `/`): the form in which fetch and axios put the request on the wire, and the form
 * oidc-provider compares it in.
 */
export function proofUrl(url: string | URL): string {
  const parsed = typeof url === 'string' ? new URL(url) : url;
  return `${parsed.origin}${parsed.pathname}`;
}

/** The methods fetch upper-cases whatever case they were given in (Fetch standard, "normalize a method"). */
const NORMALIZED = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT'];

/** `htm`: the method as it goes on the wire (fetch's normalisation: `get` is sent `GET`, `patch` as given). */
export function proofMethod(method: string): string {
  const upper = method.toUpperCase();
  return NORMALIZED.includes(upper) ? upper : method;
}

/**
 * `ath` (RFC 9449 §4.2): base64url(SHA-256(the access token's ASCII bytes)). Compute it once per
 * token ({@link createAthCache}), not once per request.
 */
export async function accessTokenHash(accessToken: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(accessToken));
  return base64url(new Uint8Array(digest));
}

/**
 * Remembers the `ath` of the last token it was asked about: every request that carries one token
 * shares one hash, and a new token replaces the old one (one entry, so nothing grows).
 *
 * @example
 * ```ts
 * const athOf = createAthCache();
 * const ath = await athOf(token.accessToken); // hashed once for every request with this token
 * ```
 */
export function createAthCache(): AthCache {
  let last: { token: string; ath: Promise<string>; hashed?: string } | undefined;
  const athOf = (accessToken: string): Promise<string> => {
    if (last?.token !== accessToken) {
      const entry: { token: string; ath: Promise<string>; hashed?: string } = {
        token: accessToken,
        ath: accessTokenHash(accessToken),
      };
      // Failures reach whoever awaits `ath`; this only keeps the value for `known`.
      entry.ath.then((hashed) => (entry.hashed = hashed)).catch(() => undefined);
      last = entry;
    }
    return last.ath;
  };
  return Object.assign(athOf, {
    known: (accessToken: string) => (last?.token === accessToken ? last.hashed : undefined),
  });
}

/** {@link createAthCache}: the `ath` of a token, hashed once; `known` reads it without a wait once hashed. */
export interface AthCache {
  (accessToken: string): Promise<string>;
  /** The `ath` of `accessToken` if it is the last token asked about and its hash is done; else `undefined`. */
  known(accessToken: string): string | undefined;
}

/**
 * A DPoP proof for one send: header `typ: dpop+jwt`, `alg` (the key's), `jwk` (the public key's
 * identifying members only); claims `jti` (new, 128 random bits), `htm`, `htu`, `iat`, and `nonce`
 * and `ath` when given.
 *
 * @example
 * ```ts
 * const proof = await createDpopProof(key, { method: 'POST', url: tokenUrl, nonce }, { now: Date.now, randomBytes });
 * headers['dpop'] = proof;
 * ```
 */
export function createDpopProof(key: DpopKey, request: ProofRequest, context: ProofContext): Promise<string> {
  // JSON leaves out the members that are undefined: `nonce` and `ath` appear only when given.
  const claims = {
    jti: newJti(context.randomBytes),
    htm: proofMethod(request.method),
    htu: proofUrl(request.url),
    iat: Math.floor(context.now() / 1000),
    nonce: request.nonce,
    ath: request.ath,
  };
  return signJwsWithHeader(proofHeader(key), claims, key.privateKey, key.alg);
}

/** The encoded header of each key's proofs: the same for every proof, so encoded once per key (held no longer than the key). */
const headers = new WeakMap<DpopKey, string>();

function proofHeader(key: DpopKey): string {
  let header = headers.get(key);
  if (header === undefined) {
    header = encodeJwsPart({ typ: 'dpop+jwt', alg: key.alg, jwk: key.jwk });
    headers.set(key, header);
  }
  return header;
}
