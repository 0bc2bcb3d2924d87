import type { AxiosResponse } from 'axios';
import { unrefTimer } from '../../async.js';
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

function send(endpoint: TokenEndpoint, context: TokenRequestContext, signal: AbortSignal): Promise<AxiosResponse> {
  return context.http.request<unknown>({
    method: endpoint.method,
    url: endpoint.url.href,
    headers: {
      Accept: 'application/json',
      ...(endpoint.body === undefined
        ? {}
        : {
            'Content-Type': endpoint.encoding === 'json' ? 'application/json' : 'application/x-www-form-urlencoded',
          }),
      ...endpoint.headers,
    },
    data: encodeBody(endpoint),
    timeout: context.settings.timeoutMs,
    signal,
    // A 307/308 would send the secret body to wherever the Location points: never follow.
    maxRedirects: 0,
    maxContentLength: context.settings.maxBodyBytes,
    responseType: 'text',
    // No transform: the body stays the text that arrived, parsed by classify.ts alone.
    transformResponse: [],
    validateStatus: () => true,
    withCredentials: false,
    withXSRFToken: false,
    transitional: { clarifyTimeoutError: true },
  });
}

function transportFailure(error: unknown, signal: AbortSignal): Failure {
  if (signal.aborted) return aborted();
  const { code, message } = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    message?: unknown;
  };
  const text = typeof message === 'string' ? message : 'unknown error';
  const cause = Object.assign(new Error(text), typeof code === 'string' ? { code } : {});
  if (code === 'ETIMEDOUT' || code === 'ECONNABORTED') {
    return { code: 'ERR_TOKEN_TIMEOUT', detail: 'the token endpoint did not answer in time', retryable: true, cause };
  }
  if (text.startsWith('maxContentLength size of')) {
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
  let response: AxiosResponse<unknown>;
  try {
    response = await untilAborted(send(endpoint, context, attempt.signal), attempt.signal);
  } catch (error) {
    if (attempt.signal.reason === kTimedOut)
      return transportFailure({ code: 'ETIMEDOUT', message: 'attempt timed out' }, context.signal);
    return transportFailure(error, context.signal);
  } finally {
    clearTimeout(timer);
    context.signal.removeEventListener('abort', abandon);
  }
  return classifyResponse(endpoint, response, sentAt, context);
}
