/**
 * The one seam between tokenflight's core and an HTTP client. The core (token requests,
 * discovery) never imports axios and never calls `fetch`: each boundary hands it an
 * {@link HttpClient} built from what the application gave it (an axios instance, a fetch
 * function), and the core sends through that alone.
 *
 * What every implementation must do, so that the core can rely on it whatever the transport:
 *
 * - **No redirects followed.** A 3xx is an answer like any other, returned with its status (a
 *   307/308 to a token endpoint would carry the credentials to another address). A browser's
 *   opaque redirect (fetch's `redirect: 'manual'`, status 0) is returned with status 0.
 * - **The body as text**, decoded as UTF-8, never parsed or transformed; the core parses it.
 * - **Lower-case header names in the answer**, a repeated header joined with `, ` (as fetch's `Headers` does).
 * - **Bounded**: the body is read up to `maxBodyBytes` and the request ends within `timeoutMs`,
 *   whatever the server does; past either, it rejects with an {@link HttpClientError}.
 * - **No ambient credentials**: no cookies, no browser credentials, no XSRF header.
 * - **Every status resolves** (4xx and 5xx included); only a failure to get an answer rejects, and
 *   always with an {@link HttpClientError} whose `reason` says why.
 */

/** The methods the core sends. */
export type HttpMethod = 'GET' | 'POST';

/** One request, as the core sends it through an {@link HttpClient}. */
export interface HttpRequest {
  readonly method: HttpMethod;
  /** An absolute http(s) URL. */
  readonly url: string;
  /**
   * Header names as the core writes them (case does not matter on the wire; no name is given
   * twice in two cases), sent as they are.
   */
  readonly headers: Readonly<Record<string, string>>;
  /** The body, already encoded (a form or JSON text); none for a GET. */
  readonly body?: string | undefined;
  /** Ends the request: the client rejects with reason `'aborted'`. */
  readonly signal: AbortSignal;
  /** The whole exchange, body included, ends within this many ms, else reason `'timeout'`. */
  readonly timeoutMs: number;
  /** A body larger than this many bytes is not read on: reason `'too-large'`. */
  readonly maxBodyBytes: number;
}

/** An answer: any status, with its headers and body text. */
export interface HttpResponse {
  /** The HTTP status; 0 for a browser's opaque redirect. */
  readonly status: number;
  /** Header names in lower case; a repeated header joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  /** The body as UTF-8 text; empty when there was none. */
  readonly body: string;
}

/**
 * Sends one request and resolves to its answer, whatever its status; rejects only with an
 * {@link HttpClientError}.
 *
 * @example
 * ```ts
 * const answer = await http.send({
 *   method: 'GET', url: 'https://as.example.com/.well-known/oauth-authorization-server',
 *   headers: { accept: 'application/json' }, signal, timeoutMs: 10_000, maxBodyBytes: 65_536,
 * });
 * ```
 */
export interface HttpClient {
  send(request: HttpRequest): Promise<HttpResponse>;
}

/**
 * Why no answer came: `network` (refused, reset, DNS…), `timeout` (`timeoutMs` passed),
 * `too-large` (the body passed `maxBodyBytes`), `aborted` (the request's `signal`).
 */
export type HttpFailureReason = 'network' | 'timeout' | 'too-large' | 'aborted';

/** The message of an {@link HttpClientError} for each reason: no URL, header or body in it. */
export const HTTP_FAILURE_MESSAGES: Readonly<Record<HttpFailureReason, string>> = {
  network: 'the request failed before an answer arrived',
  timeout: 'no answer within the time limit',
  'too-large': 'the answer is larger than its limit',
  aborted: 'the request was aborted',
};

/**
 * What an {@link HttpClient} rejects with. Its message never holds a header or a body (the
 * request may carry credentials); `cause` is the transport's own error, for debugging.
 */
export class HttpClientError extends Error {
  override name = 'HttpClientError';
  /** Why no answer came. */
  readonly reason: HttpFailureReason;

  /** @ignore */
  constructor(reason: HttpFailureReason, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
  }
}

/** True for an {@link HttpClientError}, also from another copy of tokenflight. */
export function isHttpClientError(error: unknown): error is HttpClientError {
  return (
    error instanceof Error &&
    error.name === 'HttpClientError' &&
    ['network', 'timeout', 'too-large', 'aborted'].includes((error as { reason?: unknown }).reason as string)
  );
}
