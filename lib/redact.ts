import type { AxiosError } from 'axios';

const REDACTED = '[REDACTED]';

function scrubString(holder: unknown, key: string, secret: string): void {
  if (typeof holder !== 'object' || holder === null) return;
  const value = (holder as Record<string, unknown>)[key];
  if (typeof value === 'string' && value.includes(secret)) {
    (holder as Record<string, unknown>)[key] = value.split(secret).join(REDACTED);
  }
}

function scrubHeaderObject(headers: unknown, secret: string): void {
  if (typeof headers !== 'object' || headers === null) return;
  for (const key of Object.keys(headers)) scrubString(headers, key, secret);
}

/** Node keeps outgoing headers under a symbol as `[name, value]` pairs. */
function scrubOutgoingHeaders(request: object, secret: string): void {
  for (const symbol of Object.getOwnPropertySymbols(request)) {
    if (symbol.description !== 'kOutHeaders') continue;
    const headers = (request as Record<symbol, unknown>)[symbol];
    if (typeof headers !== 'object' || headers === null) continue;
    for (const entry of Object.values(headers)) {
      if (Array.isArray(entry)) scrubString(entry, '1', secret);
    }
  }
}

/**
 * Node's ClientRequest keeps the raw request head (`_header`) and its header table; axios's
 * follow-redirects wrapper keeps the request options. All three hold the Authorization value.
 */
function scrubRequest(request: unknown, secret: string): void {
  if (typeof request !== 'object' || request === null) return;
  const node = request as Record<string, unknown>;
  for (const candidate of [node, node['_currentRequest'], node['_redirectable']]) {
    if (typeof candidate !== 'object' || candidate === null) continue;
    const part = candidate as Record<string, unknown>;
    scrubString(part, '_header', secret);
    scrubOutgoingHeaders(part, secret);
    scrubHeaderObject((part['_options'] as { headers?: unknown } | undefined)?.headers, secret);
  }
}

function hide(holder: unknown, key: string): void {
  if (typeof holder !== 'object' || holder === null || !Object.prototype.hasOwnProperty.call(holder, key)) return;
  const value = (holder as Record<string, unknown>)[key];
  Object.defineProperty(holder, key, { value, enumerable: false, writable: true, configurable: true });
}

/**
 * Masks the token tokenflight attached to a request in the axios error that reaches the caller:
 * in `config.headers`, in the raw request head Node keeps, and in follow-redirects' copy. The
 * request objects are made non-enumerable, so logging the error does not dump a socket either.
 * A replay through the same instance attaches the current token again.
 */
export function maskToken(error: AxiosError, accessToken: string): void {
  const configs = new Set([error.config, error.response?.config]);
  for (const config of configs) {
    const headers = config?.headers;
    if (typeof headers?.get !== 'function') continue;
    const value = headers.get('Authorization');
    if (typeof value === 'string' && value.includes(accessToken)) {
      headers.set('Authorization', value.split(accessToken).join(REDACTED));
    }
  }
  for (const request of new Set([error.request, error.response?.request])) scrubRequest(request, accessToken);
  hide(error, 'request');
  hide(error.response, 'request');
}
