import { unrefTimer } from '../../shared/async.js';
import { isHttpClientError, type HttpResponse } from '../../core/http.js';
import type { TokenEndpoint } from '../endpoint.js';
import { classifyResponse } from './classify.js';
import type { Failure, Issued, TokenRequestContext } from './types.js';

export function aborted(): Failure {
  return {
    code: 'ERR_TOKEN_ABORTED',
    detail: 'the token request was abandoned (the handle was ejected)',
    retryable: false,
  };
}

/** Marks an attempt abandoned by tokenflight's own deadline. */
const kTimedOut = Symbol('tokenflight.attempt-timed-out');

/**
 * Settles like `promise`, or rejects as soon as `signal` aborts: the attempt ends on time even if
 * the transport (a custom adapter, a mock) ignores its signal and timeout. `signal` is the
 * attempt's own, not aborted yet.
 */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      const reason: unknown = signal.reason;
      reject(reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function encodeBody(endpoint: TokenEndpoint): string | undefined {
  if (endpoint.body === undefined) return undefined;
  if (endpoint.encoding === 'json') return JSON.stringify(endpoint.body);
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(endpoint.body)) {
    if (value !== undefined) form.append(key, typeof value === 'string' ? value : JSON.stringify(value));
  }
  return form.toString();
}

function send(endpoint: TokenEndpoint, context: TokenRequestContext, signal: AbortSignal): Promise<HttpResponse> {
  const body = encodeBody(endpoint);
  return context.http.send({
    method: endpoint.method,
    url: endpoint.url.href,
    headers: {
      Accept: 'application/json',
      ...(body === undefined
        ? {}
        : {
            'Content-Type': endpoint.encoding === 'json' ? 'application/json' : 'application/x-www-form-urlencoded',
          }),
      ...endpoint.headers,
    },
    body,
    signal,
    timeoutMs: context.settings.timeoutMs,
    maxBodyBytes: context.settings.maxBodyBytes,
  });
}

function transportFailure(error: unknown, signal: AbortSignal): Failure {
  if (signal.aborted) return aborted();
  // An HttpClientError says why; its cause is the transport's own error, kept (message and code only).
  const reason = isHttpClientError(error) ? error.reason : 'network';
  const raw = isHttpClientError(error) ? error.cause : error;
  const { code, message } = (typeof raw === 'object' && raw !== null ? raw : {}) as {
    code?: unknown;
    message?: unknown;
  };
  const text = typeof message === 'string' ? message : 'unknown error';
  const cause = Object.assign(new Error(text), typeof code === 'string' ? { code } : {});
  if (reason === 'timeout') {
    return { code: 'ERR_TOKEN_TIMEOUT', detail: 'the token endpoint did not answer in time', retryable: true, cause };
  }
  if (reason === 'too-large') {
    return {
      code: 'ERR_TOKEN_TOO_LARGE',
      detail: 'the token response is larger than `tokenRequest.maxBodyBytes`',
      retryable: false,
      cause,
    };
  }
  return {
    code: 'ERR_TOKEN_UNAVAILABLE',
    detail: `the token endpoint could not be reached (${typeof code === 'string' ? code : text})`,
    retryable: true,
    cause,
  };
}

/** tokenflight's own deadline passed, whatever the transport did. */
function timedOut(signal: AbortSignal): Failure {
  if (signal.aborted) return aborted();
  return {
    code: 'ERR_TOKEN_TIMEOUT',
    detail: 'the token endpoint did not answer in time',
    retryable: true,
    cause: Object.assign(new Error('attempt timed out'), { code: 'ETIMEDOUT' }),
  };
}

/** One token request, within `timeoutMs` whatever the transport does: a token, or why not. */
export async function attemptOnce(endpoint: TokenEndpoint, context: TokenRequestContext): Promise<Issued | Failure> {
  if (context.signal.aborted) return aborted();
  const sentAt = context.now();
  const attempt = new AbortController();
  const abandon = (): void => {
    attempt.abort(context.signal.reason);
  };
  // Removed when the attempt ends, whatever its outcome.
  context.signal.addEventListener('abort', abandon);
  const timer = unrefTimer(() => {
    attempt.abort(kTimedOut);
  }, context.settings.timeoutMs);
  let response: HttpResponse;
  try {
    response = await untilAborted(send(endpoint, context, attempt.signal), attempt.signal);
  } catch (error) {
    if (attempt.signal.reason === kTimedOut) return timedOut(context.signal);
    return transportFailure(error, context.signal);
  } finally {
    clearTimeout(timer);
    context.signal.removeEventListener('abort', abandon);
  }
  context.dpop?.nonces.remember(endpoint.url, response.headers);
  const outcome = classifyResponse(endpoint, response, sentAt, context);
  const { dpop } = context;
  return dpop === undefined || endpoint.dpop === undefined ? outcome : endpoint.dpop.outcome(outcome, response, dpop);
}
