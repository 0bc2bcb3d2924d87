import type { AxiosInstance, AxiosResponse } from 'axios';
import {
  HTTP_FAILURE_MESSAGES as DESCRIPTIONS,
  HttpClientError,
  type HttpClient,
  type HttpFailureReason,
  type HttpRequest,
} from '../core/http.js';

/**
 * The {@link HttpClient} of the axios boundary: token requests through `instance` (the
 * `tokenClient` option, never the intercepted instance), as lib/core/http.ts requires: no
 * redirect followed, the body as text, every status resolved, no cookies or XSRF header, and
 * `timeoutMs` / `maxBodyBytes` handed to axios's own limits.
 */
export function axiosHttpClient(instance: AxiosInstance): HttpClient {
  return {
    async send(request) {
      let response: AxiosResponse<unknown>;
      try {
        response = await instance.request<unknown>(configOf(request));
      } catch (error) {
        throw failureOf(error, request.signal);
      }
      return { status: response.status, headers: lowerCaseHeaders(response.headers), body: textOf(response.data) };
    },
  };
}

function configOf(request: HttpRequest): Parameters<AxiosInstance['request']>[0] {
  return {
    method: request.method,
    url: request.url,
    headers: { ...request.headers },
    data: request.body,
    timeout: request.timeoutMs,
    signal: request.signal,
    // A 307/308 would send the secret body to wherever the Location points: never follow.
    maxRedirects: 0,
    maxContentLength: request.maxBodyBytes,
    responseType: 'text',
    // No transform: the body stays the text that arrived, parsed by the core alone.
    transformResponse: [],
    validateStatus: () => true,
    withCredentials: false,
    withXSRFToken: false,
    transitional: { clarifyTimeoutError: true },
  };
}

/** The body as text: a transport (a mock adapter) may hand back an object, which is written as JSON. */
function textOf(data: unknown): string {
  if (typeof data === 'string') return data;
  const json = JSON.stringify(data) as string | undefined;
  return json ?? '';
}

/** Header names in lower case; a repeated header (an array) joined with `, `. */
function lowerCaseHeaders(headers: unknown): Record<string, string> {
  const result: Record<string, string> = {};
  if (typeof headers !== 'object' || headers === null) return result;
  const plain =
    typeof (headers as { toJSON?: unknown }).toJSON === 'function'
      ? (headers as { toJSON(): object }).toJSON()
      : headers;
  for (const [name, value] of Object.entries(plain)) {
    const text = Array.isArray(value)
      ? value.map(String).join(', ')
      : value === undefined || value === null
        ? undefined
        : String(value);
    if (text === undefined) continue;
    const key = name.toLowerCase();
    result[key] = key in result ? `${result[key]}, ${text}` : text;
  }
  return result;
}

/** Why axios gave no answer; `cause` is axios's own error. */
function failureOf(error: unknown, signal: AbortSignal): HttpClientError {
  const { code, message } = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    message?: unknown;
  };
  let reason: HttpFailureReason = 'network';
  if (signal.aborted) reason = 'aborted';
  else if (code === 'ETIMEDOUT' || code === 'ECONNABORTED') reason = 'timeout';
  else if (typeof message === 'string' && message.startsWith('maxContentLength size of')) reason = 'too-large';
  return new HttpClientError(reason, DESCRIPTIONS[reason], { cause: error });
}
