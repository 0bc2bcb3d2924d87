import { waitWithAbort, type WaitLimits } from '../shared/async.js';
import { challengeAllowsRefresh, type RejectionPolicy } from '../core/challenge.js';
import type { ProviderRuntime } from '../core/runtime.js';
import { TokenflightError } from '../shared/errors.js';
import type { TokenAuthEvent } from '../shared/events.js';
import { displayTarget, type Router } from '../core/routing.js';
import type { CurrentToken } from '../core/manager/token-manager.js';
import { bodyPlan, canResend, type BodyPlan } from './body.js';
import { sendWithProof } from './dpop-hop.js';
import type { FetchFunction } from './http-client.js';
import { readRejectedBody } from './rejected-body.js';
import { discard, sendFollowing, type Arrival, type Outgoing } from './redirects.js';
import {
  prepare,
  readRequestOption,
  urlOf,
  withoutTokenAuth,
  type Prepared,
  type TokenFetchInit,
  type TokenFetchRequestOptions,
} from './request.js';

/** What `auth.fetch` works with: one per `createTokenFetch` handle. */
export interface FetchBoundary {
  readonly router: Router<ProviderRuntime>;
  readonly policy: RejectionPolicy;
  readonly emit: (event: TokenAuthEvent) => void;
  /** The fetch underneath (called as a plain function, never as a method). */
  readonly fetch: FetchFunction;
  /** True where fetch follows redirects itself and hides them (a browser): see {@link createTokenFetch}. */
  readonly browserRedirects: boolean;
  /** How long `isTokenRejected`'s view of a 401's body may take to arrive (`tokenRequest.timeoutMs`). */
  readonly rejectedBodyTimeoutMs: number;
  /** Set once the handle is closed: what `auth.fetch` rejects with from then on. */
  readonly closed: () => TokenflightError | undefined;
}

/** One request through `auth.fetch`: the token attached last, a rejected token replaced and the request sent once more. */
export async function fetchWithToken(
  boundary: FetchBoundary,
  input: string | URL | Request,
  init: TokenFetchInit | undefined,
): Promise<Response> {
  const closed = boundary.closed();
  if (closed !== undefined) throw closed;
  const option = readRequestOption(init?.tokenAuth);
  const plain = withoutTokenAuth(init);
  const runtime = option === false ? undefined : boundary.router.route({ url: urlOf(input) }, option?.provider);
  if (runtime === undefined) return boundary.fetch(input, plain);
  const request = prepare(input, plain);
  const replayBody = option === false ? undefined : option?.replayBody;
  const dispatch = (out: Outgoing): Promise<Response> => sendOnce(boundary.fetch, request, out, 'manual');
  const exchange: Exchange = { boundary, runtime, request, dispatch, replayBody, nonceResends: 0 };
  const current = runtime.manager.peek() ?? (await waitFor(exchange, () => runtime.manager.get()));
  const first = await attempt(exchange, current, request.body);
  if (!mayRejectToken(exchange, first) || !(await rejectsToken(exchange, first))) return first.response;
  return replay(exchange, current, first.response, option === false ? undefined : option);
}

interface Exchange {
  readonly boundary: FetchBoundary;
  readonly runtime: ProviderRuntime;
  readonly request: Prepared;
  /** One send with `redirect: 'manual'`, for {@link sendFollowing}: made once per request. */
  readonly dispatch: (out: Outgoing) => Promise<Response>;
  readonly replayBody: (() => BodyInit) | undefined;
  /** DPoP nonce re-sends so far: at most one per request. */
  nonceResends: number;
}

/** The 401 was for the token sent: a fresh one (or the one already newer), and the same request again. */
async function replay(
  exchange: Exchange,
  sent: CurrentToken,
  rejected: Response,
  option: TokenFetchRequestOptions | undefined,
): Promise<Response> {
  const { runtime, request, boundary } = exchange;
  if (!canResend(request.body) && option?.replayBody === undefined) {
    discard(rejected);
    // The token is still replaced, so the next request succeeds; this one cannot be sent again.
    runtime.manager.rejected(sent.generation).catch(() => undefined);
    throw new TokenflightError(
      `The API answered ${rejected.status} to a ${request.method.toUpperCase()} request whose body is a stream, which cannot be sent twice. ` +
        'The token has been refreshed for the next requests; pass `tokenAuth: { replayBody: () => newBody }` to replay such requests',
      { code: 'ERR_BODY_NOT_REPLAYABLE', provider: runtime.name },
    );
  }
  discard(rejected);
  const { current, stale } = await waitFor(exchange, () => runtime.manager.rejected(sent.generation));
  boundary.emit({
    type: 'request-replayed',
    provider: runtime.name,
    fingerprint: current.fingerprint,
    method: request.method.toUpperCase(),
    url: displayTarget({ url: request.url }),
    stale,
  });
  const body: BodyPlan =
    option?.replayBody === undefined ? request.body : bodyPlan(option.replayBody(), request.url, request);
  return (await attempt(exchange, current, body)).response;
}

/**
 * Sends the request with `current`'s token, written last, following redirects without leaking it;
 * with DPoP, every hop that carries the token gets its own proof (lib/fetch/dpop-hop.ts).
 */
function attempt(exchange: Exchange, current: CurrentToken, body: BodyPlan): Promise<Arrival> {
  const { boundary, request, runtime } = exchange;
  // The request's own copy of the caller's headers: the token is written last, just before the
  // send, and a replay overwrites it (redirect hops copy them before changing them).
  const { headers } = request;
  headers.set('authorization', current.header);
  if (runtime.dpop !== undefined) headers.delete('dpop');
  const first: Outgoing = { url: request.url, method: request.method, headers, body, hop: 0 };
  if (runtime.dpop === undefined) {
    // Straight to the send, with the request's one dispatcher: the hot path gains no closure or await.
    if (boundary.browserRedirects)
      return browserArrival(sendOnce(boundary.fetch, request, first, request.redirect), request);
    return sendFollowing(exchange.dispatch, first, request.redirect);
  }
  const dispatch = (out: Outgoing, redirect: RequestRedirect): Promise<Response> =>
    sendWithProof(exchange, current, out, (hop) => sendOnce(boundary.fetch, request, hop, redirect));
  if (boundary.browserRedirects) return browserArrival(dispatch(first, request.redirect), request);
  return sendFollowing((out) => dispatch(out, 'manual'), first, request.redirect);
}

/** The browser follows and drops Authorization across origins itself; it never shows a redirect. */
function browserArrival(sent: Promise<Response>, request: Prepared): Promise<Arrival> {
  return sent.then((response) => ({
    response,
    carried: response.url === '' || new URL(response.url).origin === new URL(request.url, response.url).origin,
  }));
}

/** Hands one send to the fetch underneath. */
function sendOnce(
  fetch: FetchFunction,
  request: Prepared,
  out: Outgoing,
  redirect: RequestRedirect,
): Promise<Response> {
  const init: RequestInit = { ...request.rest, headers: out.headers, redirect };
  if (request.signal !== undefined) init.signal = request.signal;
  const { body } = out;
  if (body.kind === 'template' && out.hop === 0) return fetch(body.template.clone(), init);
  init.method = out.method;
  if (body.kind === 'template') {
    // A 307/308 hop: the same bytes again, from a fresh clone (a stream body needs `duplex`).
    const again: RequestInit & { duplex: 'half' } = { ...init, body: body.template.clone().body, duplex: 'half' };
    return fetch(out.url, again);
  }
  if (body.kind !== 'none') init.body = body.body;
  return fetch(out.url, init);
}

/** Rule 5, first half, without a wait: an answer from the origin the token went to, with a status that may reject it. */
function mayRejectToken(exchange: Exchange, arrival: Arrival): boolean {
  return arrival.carried && exchange.boundary.policy.unauthorizedStatuses.has(arrival.response.status);
}

/** Rule 5, second half, for an answer {@link mayRejectToken} let through: a challenge (or body) that rejects the token. */
async function rejectsToken(exchange: Exchange, arrival: Arrival): Promise<boolean> {
  const { response } = arrival;
  const { policy } = exchange.boundary;
  const challenge = response.headers.get('www-authenticate') ?? undefined;
  if (policy.isTokenRejected === undefined) return challengeAllowsRefresh(challenge);
  const data = await readRejectedBody(response, exchange.request.signal, exchange.boundary.rejectedBodyTimeoutMs);
  return policy.isTokenRejected({ provider: exchange.runtime.name, status: response.status, challenge, data });
}

/** Waits for the token manager on this caller's behalf: its signal ends this wait only (rejecting with `signal.reason`). */
async function waitFor<T>(exchange: Exchange, start: () => Promise<T>): Promise<T> {
  try {
    return await waitWithAbort(start, waitLimits(exchange.request.signal));
  } catch (error) {
    throw exchange.boundary.closed() ?? error;
  }
}

/** Made only when a request waits for the token manager (the hot path, a cached token, never does). */
function waitLimits(signal: AbortSignal | undefined): WaitLimits {
  return { signal, timeoutMs: 0, onAbort: () => signal?.reason as Error, onTimeout: () => new Error('unreachable') };
}
