import { invalidOption } from './errors.js';
import type { TokenAuthEvent, TokenAuthEventType } from './events.js';
import { errorFacts } from './redact.js';
import { describe } from './validate.js';

/** The levels tokenflight logs at. */
export type TokenAuthLogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * The first argument of every log call: the {@link TokenAuthEvent}'s own fields (`type`,
 * `provider`, a token `fingerprint`, `durationMs`…), with `error` replaced by the error's
 * secret-free JSON (`{ name, message, code, provider, status, providerCode, url, attempts }`).
 * It never holds a token or a credential.
 */
export interface TokenAuthLogFields {
  /** The event: `token-fetched`, `token-failed`… */
  readonly type: TokenAuthEventType;
  /** The provider's name; `null` for `request-unrouted`, which no provider serves. */
  readonly provider: string | null;
  /** The event's other fields. */
  readonly [field: string]: unknown;
}

/**
 * A logger for the `logger` option of `attachTokenAuth`: pino, `console`, or any object with some of
 * these methods. Each event is one call, `logger[level](fields, message)`, which suits pino's
 * `(object, message)` and console's `(...args)` alike. A level whose method is missing is not logged.
 *
 * | event | level |
 * | --- | --- |
 * | `token-fetched` | `info` |
 * | `token-adopted` | `debug` |
 * | `token-failed` | `error`, or `warn` when a background refresh failed and the current token stays in use |
 * | `token-retry` | `warn` |
 * | `token-invalidated` | `info` when the API rejected the token, `debug` when `auth.invalidate()` was called |
 * | `request-replayed` | `info` |
 * | `store-failed` | `warn` |
 * | `request-unrouted` | `debug` |
 * | `refresh-token-rotated` | `info`, or `warn` when the store did not take it or `onRefreshToken` failed |
 * | `session-ended` | `error` |
 *
 * @example
 * ```ts
 * import { pino } from 'pino';
 * attachTokenAuth(api, { providers, logger: pino().child({ lib: 'tokenflight' }) });
 * // {"level":30,"lib":"tokenflight","type":"token-fetched","provider":"symbl","fingerprint":"1a2b3c4d",
 * //  "durationMs":42,...,"msg":"symbl: new token 1a2b3c4d in 42 ms (1 request; no token yet; expires 2026-01-01T01:00:00.000Z)"}
 *
 * attachTokenAuth(api, { providers, logger: console });
 * ```
 */
export interface TokenAuthLogger {
  /** Tokens taken from a shared store, manual invalidations, requests no provider serves. */
  debug?(fields: TokenAuthLogFields, message: string): void;
  /** New tokens, tokens rejected by the API, replays. */
  info?(fields: TokenAuthLogFields, message: string): void;
  /** Token request retries, failed background refreshes, store failures. */
  warn?(fields: TokenAuthLogFields, message: string): void;
  /** A token could not be had: requests that needed it failed. */
  error?(fields: TokenAuthLogFields, message: string): void;
}

const LEVELS: readonly TokenAuthLogLevel[] = ['debug', 'info', 'warn', 'error'];

const REASONS = {
  missing: 'no token yet',
  expired: 'the previous one had expired',
  'refresh-window': 'refreshed ahead of expiry',
  rejected: 'the API rejected the previous one',
  'store-changed': 'another tab or handle stored a newer one',
} as const;

function errorSummary(error: Record<string, unknown>): string {
  const code = typeof error['code'] === 'string' ? error['code'] : String(error['name']);
  return typeof error['status'] === 'number' ? `${code}, HTTP ${error['status']}` : code;
}

function expiry(expiresAt: number | null): string {
  return expiresAt === null ? 'no known expiry' : `expires ${new Date(expiresAt).toISOString()}`;
}

/** The level and one-line message of an event; the message carries provider, timings and fingerprint. */
function describeEvent(event: TokenAuthEvent, error: Record<string, unknown> | undefined): [TokenAuthLogLevel, string] {
  const who = event.provider ?? 'tokenflight';
  switch (event.type) {
    case 'token-fetched': {
      const requests = `${event.attempts} request${event.attempts === 1 ? '' : 's'}`;
      return [
        'info',
        `${who}: new token ${event.fingerprint} in ${event.durationMs} ms (${requests}; ${REASONS[event.reason]}; ${expiry(event.expiresAt)})`,
      ];
    }
    case 'token-adopted':
      return [
        'debug',
        `${who}: token ${event.fingerprint} taken from the shared store (${REASONS[event.reason]}; ${expiry(event.expiresAt)})`,
      ];
    case 'token-failed': {
      const what = errorSummary(error ?? {});
      return event.background
        ? ['warn', `${who}: background token refresh failed (${what}); the current token stays in use`]
        : ['error', `${who}: could not get a token (${what}); requests that need one fail`];
    }
    case 'token-retry':
      return [
        'warn',
        `${who}: token request attempt ${event.attempt} failed (${event.status === undefined ? event.code : `${event.code}, HTTP ${event.status}`}); retrying in ${event.delayMs} ms`,
      ];
    case 'token-invalidated':
      return event.reason === 'rejected'
        ? ['info', `${who}: token ${event.fingerprint} rejected by the API; dropped`]
        : ['debug', `${who}: token ${event.fingerprint} invalidated`];
    case 'request-replayed':
      return [
        'info',
        `${who}: replayed ${event.method} ${event.url} with token ${event.fingerprint}${event.stale ? ' (the 401 was for an older token; no token request)' : ''}`,
      ];
    case 'store-failed':
      return [
        'warn',
        `${who}: token store ${event.operation} failed (${errorSummary(error ?? {})}); carrying on without it`,
      ];
    case 'refresh-token-rotated':
      return event.stored && event.callbackError === undefined
        ? ['info', `${who}: refresh token rotated to ${event.fingerprint}`]
        : [
            'warn',
            `${who}: refresh token rotated to ${event.fingerprint}, but ${event.stored ? 'onRefreshToken failed' : 'the store did not take it (this process holds it)'}`,
          ];
    case 'session-ended':
      return [
        'error',
        `${who}: session ended (refresh token ${event.fingerprint}: ${errorSummary(error ?? {})}); requests fail until auth.resumeSession() gives a new refresh token`,
      ];
    case 'request-unrouted':
      return [
        'debug',
        `no token for ${event.url}: no provider serves ${event.origin ?? 'its URL'} (served: ${event.servedOrigins.join(', ')}); further requests to it are not reported`,
      ];
  }
}

/**
 * Checks the `logger` option and returns what writes events to it, or `undefined` without one.
 * The writer never throws: a logger's failure must never break a request.
 */
export function createEventLogger(value: unknown, context: string): ((event: TokenAuthEvent) => void) | undefined {
  if (value === undefined) return undefined;
  const methods = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  const present = LEVELS.filter((level) => methods?.[level] !== undefined);
  if (methods === undefined || present.length === 0 || present.some((level) => typeof methods[level] !== 'function')) {
    throw invalidOption(
      `${context}: expected \`logger\` to be an object with debug, info, warn or error methods (pino, console), got ${describe(value)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  const logger = value as TokenAuthLogger;
  return (event) => {
    try {
      const error = 'error' in event ? errorFacts(event.error, []) : undefined;
      const [level, message] = describeEvent(event, error);
      const callbackError =
        event.type === 'refresh-token-rotated' && event.callbackError !== undefined
          ? { callbackError: errorFacts(event.callbackError, []) }
          : {};
      const fields: TokenAuthLogFields = { ...event, ...(error === undefined ? {} : { error }), ...callbackError };
      logger[level]?.(fields, message);
    } catch {
      // A logger's failure must never break a request.
    }
  };
}
