import { unrefTimer } from '../shared/async.js';
import {
  HTTP_FAILURE_MESSAGES as DESCRIPTIONS,
  HttpClientError,
  type HttpClient,
  type HttpFailureReason,
  type HttpRequest,
} from '../core/http.js';

/** A `fetch` function: the global one, or any with its signature (undici's, a test double's). */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * The {@link HttpClient} of the fetch boundary: token requests through `fetch` (never the wrapped
 * `auth.fetch`), as lib/core/http.ts requires. Redirects are returned, not followed
 * (`redirect: 'manual'`; a browser's opaque redirect has status 0), no cookies or browser
 * credentials are sent (`credentials: 'omit'`), the body is read as a stream and abandoned past
 * `maxBodyBytes`, and `timeoutMs` bounds the whole exchange, body included, even when `fetch`
 * ignores its signal.
 */
export function fetchHttpClient(fetch: FetchFunction): HttpClient {
  return {
    send(request) {
      if (request.signal.aborted) return Promise.reject(failure('aborted', request.signal.reason));
      const exchange = new AbortController();
      return new Promise((resolve, reject) => {
        const end = (reason: HttpFailureReason, cause?: unknown): void => {
          exchange.abort(cause);
          settle(() => reject(failure(reason, cause)));
        };
        const onAbort = (): void => end('aborted', request.signal.reason);
        const timer = unrefTimer(() => end('timeout'), request.timeoutMs);
        // Settling twice is harmless (a promise settles once), so nothing guards against it.
        const settle = (then: () => void): void => {
          clearTimeout(timer);
          request.signal.removeEventListener('abort', onAbort);
          then();
        };
        request.signal.addEventListener('abort', onAbort);
        sendOnce(fetch, request, exchange.signal).then(
          (response) => settle(() => resolve(response)),
          (error: unknown) => {
            if (error instanceof HttpClientError) end(error.reason, error.cause);
            else end('network', error);
          },
        );
      });
    },
  };
}

async function sendOnce(
  fetch: FetchFunction,
  request: HttpRequest,
  signal: AbortSignal,
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const response = await fetch(request.url, {
    method: request.method,
    headers: request.headers,
    ...(request.body === undefined ? {} : { body: request.body }),
    signal,
    redirect: 'manual',
    credentials: 'omit',
  });
  const headers: Record<string, string> = {};
  // Headers already joins a repeated header with `, ` and gives names in lower case.
  response.headers.forEach((value, name) => {
    headers[name.toLowerCase()] = value;
  });
  const body = await readText(response, request.maxBodyBytes);
  return { status: response.type === 'opaqueredirect' ? 0 : response.status, headers, body };
}

/** The body as UTF-8 text, read chunk by chunk and abandoned as soon as it passes `maxBodyBytes`. */
async function readText(response: Response, maxBodyBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBodyBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new HttpClientError('too-large', DESCRIPTIONS['too-large']);
  }
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > maxBodyBytes) {
      await reader.cancel().catch(() => undefined);
      throw new HttpClientError('too-large', DESCRIPTIONS['too-large']);
    }
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}

/** The transport's own error, or the innermost one that has a `code` (undici wraps it in `cause`). */
function causeOf(error: unknown): unknown {
  let current = error;
  for (let depth = 0; depth < 4; depth++) {
    if (typeof (current as { code?: unknown } | null)?.code === 'string') return current;
    current = (current as { cause?: unknown } | null)?.cause;
  }
  return error;
}

function failure(reason: HttpFailureReason, cause?: unknown): HttpClientError {
  return new HttpClientError(reason, DESCRIPTIONS[reason], { cause: causeOf(cause) });
}
