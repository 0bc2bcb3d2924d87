import type { AxiosInstance, AxiosResponse } from 'axios';
import { sleep, unrefTimer } from '../async.js';
import { TokenRequestError, type TokenRequestErrorCode } from '../errors.js';
import { computeExpiresAt } from '../expiry.js';
import { headerText } from '../headers.js';
import type { StoredToken } from '../store.js';
import { displayUrl } from '../url.js';
import { readPath, type TokenEndpoint } from './endpoint.js';

/** Limits of token requests; see `DEFAULTS.tokenRequest`. */
export interface TokenRequestSettings {
  /** Time limit of one attempt, in ms. @default 10_000 */
  timeoutMs: number;
  /** Attempts after the first, for network errors, timeouts, 408, 429 and 5xx. @default 3 */
  retries: number;
  /** Backoff before the first retry, in ms; it doubles each time, with jitter. @default 250 */
  minDelayMs: number;
  /** Backoff never exceeds this, in ms (`Retry-After` aside). @default 4_000 */
  maxDelayMs: number;
  /** `Retry-After` is honoured up to this long, in ms. @default 30_000 */
  maxRetryAfterMs: number;
  /** Larger token responses are refused (`ERR_TOKEN_TOO_LARGE`). @default 1_048_576 */
  maxBodyBytes: number;
}

/** What one retry looks like, for events. */
export interface TokenRequestRetry {
  attempt: number;
  delayMs: number;
  code: TokenRequestErrorCode;
  status: number | undefined;
}

export interface TokenRequestContext {
  http: AxiosInstance;
  settings: TokenRequestSettings;
  /** Aborts the whole request, retries included (the handle was ejected). */
  signal: AbortSignal;
  now: () => number;
  random: () => number;
  onRetry?: ((retry: TokenRequestRetry) => void) | undefined;
}

/** The outcome of a token request that produced a token. */
export interface TokenResponse {
  token: StoredToken;
  attempts: number;
}

interface Failure {
  code: TokenRequestErrorCode;
  detail: string;
  retryable: boolean;
  status?: number | undefined;
  providerCode?: string | undefined;
  retryAfterMs?: number | undefined;
  cause?: Error | undefined;
}

const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const TOKEN_TYPE = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
const MAX_MESSAGE_LENGTH = 200;

/**
 * Sends one token request, retrying what retrying can fix (rule 6): network errors, timeouts, 408,
 * 429 and 5xx, with exponential backoff and jitter, honouring `Retry-After` up to a cap. Anything
 * else (a refusal, a redirect, a malformed answer) fails at once. Rejects with a
 * {@link TokenRequestError} that carries no secret.
 */
export async function requestToken(
  name: string,
  endpoint: TokenEndpoint,
  context: TokenRequestContext,
): Promise<TokenResponse> {
  const { settings } = context;
  for (let attempt = 1; ; attempt++) {
    const outcome = await attemptOnce(endpoint, context);
    if (!('code' in outcome)) return { token: outcome, attempts: attempt };
    if (!outcome.retryable || attempt > settings.retries || context.signal.aborted) {
      throw toError(name, endpoint, outcome, attempt);
    }
    const delayMs =
      outcome.retryAfterMs !== undefined
        ? Math.min(outcome.retryAfterMs, settings.maxRetryAfterMs)
        : backoffMs(attempt, settings, context.random);
    context.onRetry?.({ attempt, delayMs, code: outcome.code, status: outcome.status });
    try {
      await sleep(delayMs, context.signal);
    } catch {
      throw toError(name, endpoint, aborted(), attempt);
    }
  }
}

/** Exponential backoff with "equal jitter": between half and all of min × 2^(attempt-1), capped. */
export function backoffMs(
  attempt: number,
  settings: Pick<TokenRequestSettings, 'minDelayMs' | 'maxDelayMs'>,
  random: () => number,
): number {
  const ceiling = Math.min(settings.maxDelayMs, settings.minDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** `Retry-After` as delta-seconds or an HTTP-date, in ms from `now`; undefined if absent or unreadable. */
export function parseRetryAfter(value: unknown, now: number): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function aborted(): Failure {
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
 * the transport (a custom adapter, a mock) ignores its signal and timeout.
 */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      const reason: unknown = signal.reason;
      reject(reason);
    };
    if (signal.aborted) onAbort();
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

async function attemptOnce(endpoint: TokenEndpoint, context: TokenRequestContext): Promise<StoredToken | Failure> {
  if (context.signal.aborted) return aborted();
  const sentAt = context.now();
  const attempt = new AbortController();
  const abandon = (): void => {
    attempt.abort(context.signal.reason);
  };
  context.signal.addEventListener('abort', abandon, { once: true });
  const timer = unrefTimer(() => {
    attempt.abort(kTimedOut);
  }, context.settings.timeoutMs);
  let response: AxiosResponse<unknown>;
  try {
    const sending = context.http.request<unknown>({
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
      signal: attempt.signal,
      // A 307/308 would send the secret body to wherever the Location points: never follow.
      maxRedirects: 0,
      maxContentLength: context.settings.maxBodyBytes,
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
      withCredentials: false,
      withXSRFToken: false,
      transitional: { clarifyTimeoutError: true },
    });
    response = await untilAborted(sending, attempt.signal);
  } catch (error) {
    if (attempt.signal.reason === kTimedOut)
      return transportFailure({ code: 'ETIMEDOUT', message: 'attempt timed out' }, context.signal);
    return transportFailure(error, context.signal);
  } finally {
    clearTimeout(timer);
    context.signal.removeEventListener('abort', abandon);
  }
  return readResponse(endpoint, response, sentAt, context);
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

function readResponse(
  endpoint: TokenEndpoint,
  response: AxiosResponse<unknown>,
  sentAt: number,
  context: TokenRequestContext,
): StoredToken | Failure {
  const { status } = response;
  const receivedAt = context.now();
  const body = parseBody(response.data, context.settings.maxBodyBytes);

  if (status >= 200 && status < 300) {
    if ('failure' in body) return { ...body.failure, status };
    return readToken(endpoint, body.json, {
      status,
      sentAt,
      receivedAt,
      serverDate: headerText(response.headers, 'date'),
    });
  }

  const vendor = 'json' in body ? vendorError(endpoint, body.json) : {};
  const said =
    vendor.message === undefined && vendor.code === undefined
      ? ''
      : `: ${[vendor.code, vendor.message].filter(Boolean).join(' ')}`;
  if (status >= 300 && status < 400) {
    return {
      code: 'ERR_TOKEN_REDIRECT',
      detail: `the token endpoint answered with a redirect (HTTP ${status}), which is never followed`,
      retryable: false,
      status,
    };
  }
  const retryAfterMs = parseRetryAfter(headerText(response.headers, 'retry-after'), context.now());
  if (status === 429) {
    return {
      code: 'ERR_TOKEN_RATE_LIMITED',
      detail: `the token endpoint is rate limiting (HTTP 429${said})`,
      retryable: true,
      status,
      providerCode: vendor.code,
      retryAfterMs,
    };
  }
  if (status === 408 || status >= 500) {
    return {
      code: 'ERR_TOKEN_UNAVAILABLE',
      detail: `the token endpoint failed (HTTP ${status}${said})`,
      retryable: true,
      status,
      providerCode: vendor.code,
      retryAfterMs,
    };
  }
  if (status === 400 || status === 401 || status === 403) {
    return {
      code: 'ERR_TOKEN_CREDENTIALS',
      detail: `the token endpoint refused the credentials (HTTP ${status}${said})`,
      retryable: false,
      status,
      providerCode: vendor.code,
    };
  }
  return {
    code: 'ERR_TOKEN_HTTP_STATUS',
    detail: `the token endpoint answered HTTP ${status}${said}; check the token URL`,
    retryable: false,
    status,
    providerCode: vendor.code,
  };

  function vendorError(shape: TokenEndpoint, json: Record<string, unknown>): { code?: string; message?: string } {
    const code = firstText(json, shape.response.errorCode, shape.secrets);
    const message = firstText(json, shape.response.errorMessage, shape.secrets);
    return { ...(code === undefined ? {} : { code }), ...(message === undefined ? {} : { message }) };
  }
}

type ParsedBody = { json: Record<string, unknown> } | { failure: Omit<Failure, 'status'> };

function malformed(detail: string): { failure: Omit<Failure, 'status'> } {
  return { failure: { code: 'ERR_TOKEN_MALFORMED', detail, retryable: false } };
}

function parseBody(data: unknown, maxBodyBytes: number): ParsedBody {
  let value = data;
  if (typeof data === 'string') {
    // Characters are at least one byte each, so this catches every body the transport did not.
    if (data.length > maxBodyBytes) {
      return {
        failure: {
          code: 'ERR_TOKEN_TOO_LARGE',
          detail: 'the token response is larger than `tokenRequest.maxBodyBytes`',
          retryable: false,
        },
      };
    }
    try {
      value = JSON.parse(data);
    } catch {
      return malformed('the token response is not JSON');
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return malformed(
      `the token response is not a JSON object (got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value})`,
    );
  }
  return { json: value as Record<string, unknown> };
}

function cleanText(value: unknown, secrets: readonly string[]): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  let text = String(value)
    .replace(/\p{Cc}+/gu, ' ')
    .trim();
  for (const secret of secrets) {
    if (secret.length >= 3) text = text.split(secret).join('[REDACTED]');
  }
  if (text === '') return undefined;
  return text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH)}…` : text;
}

function firstText(
  json: unknown,
  paths: readonly (readonly string[])[],
  secrets: readonly string[],
): string | undefined {
  for (const path of paths) {
    const text = cleanText(readPath(json, path), secrets);
    if (text !== undefined) return text;
  }
  return undefined;
}

function readToken(
  endpoint: TokenEndpoint,
  json: Record<string, unknown>,
  meta: { status: number; sentAt: number; receivedAt: number; serverDate: string | undefined },
): StoredToken | Failure {
  const shape = endpoint.response;
  const { status } = meta;
  // Some servers answer 200 to a refusal: an explicit failure flag or an OAuth `error` wins over any token.
  const flag = shape.success === undefined ? undefined : readPath(json, shape.success);
  const refused =
    (shape.success !== undefined && flag !== true) ||
    json['success'] === false ||
    json['status'] === false ||
    (typeof json['error'] === 'string' && json['error'] !== '');
  if (refused) {
    const providerCode = firstText(json, shape.errorCode, endpoint.secrets);
    const message = firstText(json, shape.errorMessage, endpoint.secrets);
    const said = [providerCode, message].filter(Boolean).join(' ');
    return {
      code: 'ERR_TOKEN_CREDENTIALS',
      detail: `the token endpoint answered HTTP ${status} but reported a failure${said === '' ? '' : `: ${said}`}`,
      retryable: false,
      status,
      providerCode,
    };
  }

  const where = (path: readonly string[]): string => `\`${path.join('.')}\``;
  const accessToken = readPath(json, shape.token);
  if (typeof accessToken !== 'string' || accessToken === '') {
    const got =
      accessToken === undefined
        ? 'it is missing'
        : accessToken === ''
          ? 'it is empty'
          : `it is ${typeof accessToken === 'object' ? (accessToken === null ? 'null' : 'an object') : `a ${typeof accessToken}`}`;
    return {
      code: 'ERR_TOKEN_MALFORMED',
      detail: `the token response has no token at ${where(shape.token)} (${got})`,
      retryable: false,
      status,
    };
  }
  if (!BEARER_TOKEN.test(accessToken)) {
    return {
      code: 'ERR_TOKEN_MALFORMED',
      detail: `the token at ${where(shape.token)} has characters a bearer token cannot have`,
      retryable: false,
      status,
    };
  }

  let tokenType = 'Bearer';
  if (shape.tokenType !== undefined) {
    const type = readPath(json, shape.tokenType);
    if (type !== undefined && type !== null && type !== '') {
      if (typeof type !== 'string' || !TOKEN_TYPE.test(type)) {
        return {
          code: 'ERR_TOKEN_MALFORMED',
          detail: `the token type at ${where(shape.tokenType)} is not a valid scheme name`,
          retryable: false,
          status,
        };
      }
      tokenType = type.toLowerCase() === 'bearer' ? 'Bearer' : type;
    }
  }

  let expiresInMs: number | undefined;
  if (shape.expiresIn !== undefined) {
    const raw = readPath(json, shape.expiresIn);
    const value = typeof raw === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : raw;
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) {
      if (value > 0) expiresInMs = value * (shape.expiresInUnit === 'seconds' ? 1000 : 1);
    } else if (value !== undefined && value !== null) {
      return {
        code: 'ERR_TOKEN_MALFORMED',
        detail: `the lifetime at ${where(shape.expiresIn)} is not a non-negative number`,
        retryable: false,
        status,
      };
    }
  }

  const serverDateMs = meta.serverDate === undefined ? NaN : Date.parse(meta.serverDate);
  const expiresAt = computeExpiresAt({
    expiresInMs,
    accessToken,
    sentAt: meta.sentAt,
    receivedAt: meta.receivedAt,
    serverDateMs: Number.isNaN(serverDateMs) ? undefined : serverDateMs,
    defaultLifetimeMs: endpoint.defaultLifetimeMs,
  });
  return { accessToken, tokenType, expiresAt, obtainedAt: meta.sentAt };
}

function toError(name: string, endpoint: TokenEndpoint, failure: Failure, attempts: number): TokenRequestError {
  const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
  return new TokenRequestError(
    `Could not get a token for provider "${name}": ${failure.detail}${tries} (${displayUrl(endpoint.url)})`,
    {
      code: failure.code,
      provider: name,
      url: displayUrl(endpoint.url),
      status: failure.status,
      providerCode: failure.providerCode,
      attempts,
      retryAfterMs: failure.retryAfterMs,
      cause: failure.cause,
    },
  );
}
