import { invalidOption } from '../shared/errors.js';
import { describe } from '../shared/validate.js';
import { bodyPlan, requestPlan, type BodyPlan } from './body.js';

/**
 * Per-request options of `auth.fetch`, under `tokenAuth` in its second argument (`tokenAuth:
 * false` sends the request without a token).
 *
 * @example
 * ```ts
 * await auth.fetch('https://api.example.com/health', { tokenAuth: false });
 * await auth.fetch(url, { method: 'PUT', body: stream, duplex: 'half', tokenAuth: { replayBody: () => openStream() } });
 * ```
 */
export interface TokenFetchRequestOptions {
  /** Use this provider's token, when several serve the request's origin; refused if it does not serve it. */
  provider?: string;
  /**
   * Makes a fresh body for the replay after a 401, for bodies that cannot be sent twice (a
   * `ReadableStream`). Without it, such a request answered 401 fails with `ERR_BODY_NOT_REPLAYABLE`.
   */
  replayBody?: () => BodyInit;
}

/** What `auth.fetch` takes as its second argument: `RequestInit`, plus `tokenAuth`. */
export interface TokenFetchInit extends RequestInit {
  /** `false` sends the request without a token; an object picks a provider or a replay body. */
  tokenAuth?: false | TokenFetchRequestOptions;
}

/** A request as `auth.fetch` sends it: the caller's, apart from the token and the redirect mode. */
export interface Prepared {
  readonly url: string;
  readonly method: string;
  /** The caller's headers (a `Request`'s own, or a `FormData`'s with its content type), never the token. */
  readonly headers: Headers;
  readonly body: BodyPlan;
  /** The caller's `RequestInit`, less what `auth.fetch` sets itself; for extensions such as undici's `dispatcher`. */
  readonly rest: RequestInit;
  readonly redirect: RequestRedirect;
  readonly signal: AbortSignal | undefined;
}

/** The URL a `fetch` input goes to, without reading or copying anything. */
export function urlOf(input: string | URL | Request): string {
  if (typeof input === 'string') return input;
  if (input instanceof URL) return input.href;
  return input.url;
}

export function isRequest(input: unknown): input is Request {
  return typeof Request !== 'undefined' && input instanceof Request;
}

/** `init` without `tokenAuth`, as the fetch underneath must get it. */
export function withoutTokenAuth(init: TokenFetchInit | undefined): RequestInit | undefined {
  if (init === undefined || !('tokenAuth' in init)) return init;
  const rest: TokenFetchInit = { ...init };
  delete rest.tokenAuth;
  return rest;
}

/** The `tokenAuth` option, checked: `undefined`, `false`, or `{ provider?, replayBody? }`. */
export function readRequestOption(value: unknown): false | TokenFetchRequestOptions | undefined {
  if (value === undefined || value === false) return value;
  const option = value as Record<string, unknown> | null;
  if (
    typeof option !== 'object' ||
    option === null ||
    (option['provider'] !== undefined && typeof option['provider'] !== 'string') ||
    (option['replayBody'] !== undefined && typeof option['replayBody'] !== 'function')
  ) {
    throw invalidOption(
      `auth.fetch(): expected \`tokenAuth\` to be false or { provider?: string, replayBody?: () => body }, got ${describe(value)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  return option;
}

/** Reads what the caller asked for once, before the first send (a `Request`'s body is cloned from here on). */
export function prepare(input: string | URL | Request, init: RequestInit | undefined): Prepared {
  const { body, headers, method, redirect, signal, ...rest } = init ?? {};
  if (isRequest(input)) {
    const request = init === undefined ? input : new Request(input, init);
    return {
      url: request.url,
      method: request.method,
      headers: new Headers(request.headers),
      body: requestPlan(request),
      rest,
      redirect: request.redirect,
      signal: request.signal,
    };
  }
  const url = urlOf(input);
  const plan = bodyPlan(body, url, { method, headers });
  return {
    url,
    method: method ?? 'GET',
    headers: plan.kind === 'template' ? new Headers(plan.template.headers) : new Headers(headers),
    body: plan,
    rest,
    redirect: redirect ?? 'follow',
    signal: signal ?? undefined,
  };
}
