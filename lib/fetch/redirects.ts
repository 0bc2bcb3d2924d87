import { REDIRECT_STATUSES } from '../shared/headers.js';
import type { BodyPlan } from './body.js';

/** One send: where, how, with which headers and body. */
export interface Outgoing {
  readonly url: string;
  readonly method: string;
  readonly headers: Headers;
  readonly body: BodyPlan;
  /** 0 for the first send, then one more for each redirect followed. */
  readonly hop: number;
}

/** What came back: the final answer, and whether the send that got it still carried the token. */
export interface Arrival {
  readonly response: Response;
  readonly carried: boolean;
}

/** As many redirects as fetch follows (the Fetch standard's limit). */
export const MAX_REDIRECTS = 20;
/** Headers that describe a body: dropped with the body when a redirect turns the request into a GET. */
const BODY_HEADERS = ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location'];

/**
 * Rule 1 for redirects on fetch: sends `first` (which carries the token) with `redirect: 'manual'`
 * and follows the redirects itself, honouring the caller's `mode`, so that the token never
 * reaches another origin whatever the fetch underneath does: from the first hop to another origin
 * on, `Authorization` is gone and is never put back. Methods and bodies change as fetch changes
 * them (303, and 301/302 after a POST, become a GET without a body; 307/308 keep both), at most
 * {@link MAX_REDIRECTS} hops. Errors are the `TypeError`s fetch itself rejects with.
 */
export async function sendFollowing(
  dispatch: (out: Outgoing) => Promise<Response>,
  first: Outgoing,
  mode: RequestRedirect,
): Promise<Arrival> {
  let out = first;
  let carried = true;
  for (;;) {
    const response = await dispatch(out);
    const location = response.headers.get('location');
    if (mode === 'manual' || !REDIRECT_STATUSES.has(response.status) || location === null) {
      if (out.hop > 0) Object.defineProperty(response, 'redirected', { value: true });
      return { response, carried };
    }
    discard(response);
    if (mode === 'error') throw new TypeError('fetch failed: the answer is a redirect and `redirect` is "error"');
    if (out.hop >= MAX_REDIRECTS) throw new TypeError(`fetch failed: more than ${MAX_REDIRECTS} redirects`);
    const next = nextHop(out, response.status, location);
    // A DPoP proof is for one URL and one send (RFC 9449 §4.2): never carried to another.
    next.headers.delete('dpop');
    if (new URL(next.url).origin !== new URL(out.url).origin) {
      next.headers.delete('authorization');
      carried = false;
    }
    out = next;
  }
}

function nextHop(out: Outgoing, status: number, location: string): Outgoing {
  const url = URL.canParse(location, out.url) ? new URL(location, out.url) : undefined;
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new TypeError('fetch failed: a redirect to a URL that is not http(s)');
  }
  const headers = new Headers(out.headers);
  const method = out.method.toUpperCase();
  const toGet = (status === 303 && method !== 'GET' && method !== 'HEAD') || (status <= 302 && method === 'POST');
  if (toGet) {
    for (const name of BODY_HEADERS) headers.delete(name);
    return { url: url.href, method: 'GET', headers, body: { kind: 'none' }, hop: out.hop + 1 };
  }
  if (out.body.kind === 'stream') {
    throw new TypeError(
      'fetch failed: a 307/308 redirect of a request whose body is a stream, which cannot be sent twice',
    );
  }
  return { url: url.href, method: out.method, headers, body: out.body, hop: out.hop + 1 };
}

/** Lets go of a body no one will read (a redirect's, a rejected 401's), so its connection is freed. */
export function discard(response: Response): void {
  if (response.body !== null && !response.bodyUsed) response.body.cancel().catch(() => undefined);
}
