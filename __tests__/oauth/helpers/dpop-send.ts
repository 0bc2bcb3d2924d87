import type { HttpClient, HttpResponse } from '../../../lib/core/http.js';
import type { DpopKey } from '../../../lib/oauth/dpop-key.js';
import {
  isResourceNonceChallenge,
  isTokenEndpointNonceChallenge,
  nonceForResend,
  readNonce,
  type NonceStore,
} from '../../../lib/oauth/dpop-nonce.js';
import { createDpopProof } from '../../../lib/oauth/dpop-proof.js';
import { cryptoRandomBytes } from '../../../lib/oauth/random.js';

/**
 * How a boundary or the token request will use the DPoP modules, as the suites drive them: a new
 * proof for every send with the origin's latest nonce, every answer's nonce remembered, and a nonce
 * challenge re-sent once at once.
 */
export async function sendWithDpop(
  http: HttpClient,
  nonces: NonceStore,
  key: DpopKey,
  request: {
    method: 'GET' | 'POST';
    url: string;
    headers?: Record<string, string>;
    /** Made again for every send (a client assertion is re-signed). */
    body?: () => Promise<string> | string;
    accessToken?: string;
    ath?: string;
    at: 'token' | 'resource';
  },
): Promise<HttpResponse & { sends: number }> {
  let resends = 0;
  let nonce = nonces.get(request.url);
  for (;;) {
    const proof = await createDpopProof(
      key,
      { method: request.method, url: request.url, nonce, ath: request.ath },
      { now: Date.now, randomBytes: cryptoRandomBytes },
    );
    const answer = await http.send({
      method: request.method,
      url: request.url,
      headers: {
        ...request.headers,
        dpop: proof,
        ...(request.accessToken === undefined ? {} : { authorization: `DPoP ${request.accessToken}` }),
      },
      body: request.body === undefined ? undefined : await request.body(),
      signal: new AbortController().signal,
      timeoutMs: 10_000,
      maxBodyBytes: 1_048_576,
    });
    nonces.remember(request.url, answer.headers);
    const challenge = request.at === 'token' ? isTokenEndpointNonceChallenge(answer) : isResourceNonceChallenge(answer);
    const next = nonceForResend({
      challenge,
      resends,
      answerNonce: readNonce(answer.headers),
      knownNonce: nonces.get(request.url),
    });
    if (next === undefined) return { ...answer, sends: resends + 1 };
    resends++;
    nonce = next;
  }
}

/** The claims of a JWT, unverified. */
export function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** The protected header of a JWT, unverified. */
export function headerOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[0] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}
