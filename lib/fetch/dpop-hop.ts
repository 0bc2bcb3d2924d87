import type { DpopBinding } from '../core/dpop.js';
import type { CurrentToken } from '../core/manager/token-manager.js';
import { TokenflightError } from '../shared/errors.js';
import { bodyPlan, canResend, type BodyPlan } from './body.js';
import { discard, type Outgoing } from './redirects.js';
import type { Prepared } from './request.js';

/** What one `auth.fetch` request shares across its sends, as DPoP needs it. */
export interface ProvingExchange {
  readonly runtime: { readonly name: string; readonly dpop?: DpopBinding | undefined };
  readonly request: Prepared;
  readonly replayBody: (() => BodyInit) | undefined;
  /** DPoP nonce re-sends so far: at most one per request. */
  nonceResends: number;
}

/**
 * One hop of a DPoP request (RFC 9449 §4.3: each request carries a proof of its own method and
 * URL, so every hop that still carries the token, the first and each same-origin redirect, gets a
 * new proof with that hop's `htm` and `htu` and the origin's latest nonce). The answer's
 * `DPoP-Nonce` is remembered (a redirect's included, so the next hop sends it); a nonce challenge
 * sends this hop once more at once with a new proof, once per request (rule 8's body rules apply).
 */
export async function sendWithProof(
  exchange: ProvingExchange,
  current: CurrentToken,
  out: Outgoing,
  send: (out: Outgoing) => Promise<Response>,
): Promise<Response> {
  const { dpop } = exchange.runtime;
  // Past a change of origin the token is gone, and a proof goes only with its token.
  const carries = out.headers.get('authorization') === current.header;
  const proof = carries ? await dpop?.proofForSend(current.token, out.method, out.url) : undefined;
  if (dpop === undefined || proof === undefined) return send(out);
  out.headers.set('dpop', proof);
  const response = await send(out);
  // Where the browser followed a redirect to another origin itself, that answer is not the API's.
  if (response.redirected && new URL(response.url).origin !== new URL(out.url).origin) return response;
  const header = (name: string): string | undefined => response.headers.get(name) ?? undefined;
  if (!dpop.shouldResend(out.url, { status: response.status, header }, exchange.nonceResends)) return response;
  exchange.nonceResends++;
  discard(response);
  return sendWithProof(exchange, current, { ...out, body: bodyForResend(exchange, out, response.status) }, send);
}

/** The body of a hop sent once more: the same, or `replayBody`'s for a stream (else `ERR_BODY_NOT_REPLAYABLE`). */
function bodyForResend(exchange: ProvingExchange, out: Outgoing, status: number): BodyPlan {
  const { request, replayBody, runtime } = exchange;
  if (canResend(out.body)) return out.body;
  if (replayBody === undefined) {
    throw new TokenflightError(
      `The API asked for a DPoP nonce (HTTP ${status}) in answer to a ${out.method.toUpperCase()} request whose body is a stream, which cannot be sent twice. ` +
        'The nonce is kept for the next requests; pass `tokenAuth: { replayBody: () => newBody }` to replay such requests',
      { code: 'ERR_BODY_NOT_REPLAYABLE', provider: runtime.name },
    );
  }
  return bodyPlan(replayBody(), request.url, request);
}
