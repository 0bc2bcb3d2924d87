import type { HttpResponse } from '../../core/http.js';
import { headerText } from '../../shared/headers.js';
import type { TokenEndpoint } from '../endpoint.js';
import { readToken } from './read-token.js';
import type { Failure, Issued, TokenRequestContext } from './types.js';
import { firstCode, firstText } from './vendor-text.js';

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

/** `Retry-After` as delta-seconds or an HTTP-date, in ms from `now`; undefined if absent or unreadable. */
export function parseRetryAfter(value: unknown, now: number): number | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** What the vendor said in an error body: its code (received and reported) and `: CODE message`, or nothing. */
function vendorSaid(
  endpoint: TokenEndpoint,
  body: ParsedBody,
): { received: string | undefined; code: string | undefined; said: string } {
  if (!('json' in body)) return { received: undefined, code: undefined, said: '' };
  const code = firstCode(body.json, endpoint.response.errorCode, endpoint.secrets);
  const message = firstText(body.json, endpoint.response.errorMessage, endpoint.secrets);
  const said =
    message === undefined && code.said === undefined ? '' : `: ${[code.said, message].filter(Boolean).join(' ')}`;
  return { received: code.received, code: code.reported, said };
}

/**
 * A refusal (400, or the 401/403 some servers use) whose code, compared exactly as received
 * (RFC 6749 §5.2), is one the endpoint declares to end a session (`invalid_grant` for the
 * refresh-token grant). A 5xx never ends one, whatever its body says: that is the server's trouble.
 */
function endsSession(endpoint: TokenEndpoint, status: number, received: string | undefined): boolean {
  return received !== undefined && (endpoint.endsSession ?? []).includes(received) && [400, 401, 403].includes(status);
}

/** What an answer other than 2xx means: retryable (429, 408, 5xx) or not (a refusal, a redirect, another status). */
function classifyStatus(
  endpoint: TokenEndpoint,
  response: HttpResponse,
  body: ParsedBody,
  context: TokenRequestContext,
): Failure {
  const { status } = response;
  const { received, code: providerCode, said } = vendorSaid(endpoint, body);
  if (status >= 300 && status < 400) {
    return {
      code: 'ERR_TOKEN_REDIRECT',
      detail: `the token endpoint answered with a redirect (HTTP ${status}), which is never followed`,
      retryable: false,
      status,
    };
  }
  // Honoured up to the cap everywhere: in the backoff, in the error and in the cool-down.
  const askedMs = parseRetryAfter(headerText(response.headers, 'retry-after'), context.now());
  const retryAfterMs = askedMs === undefined ? undefined : Math.min(askedMs, context.settings.maxRetryAfterMs);
  if (status === 429) {
    return {
      code: 'ERR_TOKEN_RATE_LIMITED',
      detail: `the token endpoint is rate limiting (HTTP 429${said})`,
      retryable: true,
      status,
      providerCode,
      retryAfterMs,
    };
  }
  if (status === 408 || status >= 500) {
    return {
      code: 'ERR_TOKEN_UNAVAILABLE',
      detail: `the token endpoint failed (HTTP ${status}${said})`,
      retryable: true,
      status,
      providerCode,
      retryAfterMs,
    };
  }
  if (endsSession(endpoint, status, received)) {
    return {
      code: 'ERR_TOKEN_SESSION_ENDED',
      detail: `the token endpoint ended the session (HTTP ${status}${said})`,
      retryable: false,
      status,
      providerCode,
    };
  }
  if (status === 400 || status === 401 || status === 403) {
    return {
      code: 'ERR_TOKEN_CREDENTIALS',
      detail: `the token endpoint refused the credentials (HTTP ${status}${said})`,
      retryable: false,
      status,
      providerCode,
    };
  }
  return {
    code: 'ERR_TOKEN_HTTP_STATUS',
    detail: `the token endpoint answered HTTP ${status}${said}; check the token URL`,
    retryable: false,
    status,
    providerCode,
  };
}

/** The token in an answer of the token endpoint, or why there is none. */
export function classifyResponse(
  endpoint: TokenEndpoint,
  response: HttpResponse,
  sentAt: number,
  context: TokenRequestContext,
): Issued | Failure {
  const { status } = response;
  const receivedAt = context.now();
  const body = parseBody(response.body, context.settings.maxBodyBytes);
  if (status < 200 || status >= 300) return classifyStatus(endpoint, response, body, context);
  if ('failure' in body) return { ...body.failure, status };
  return readToken(endpoint, body.json, {
    status,
    sentAt,
    receivedAt,
    serverDate: headerText(response.headers, 'date'),
  });
}
