import type { TokenAuthEvent, TokenAuthEventType } from './events.js';

// The log messages. This module imports nothing at run time: lib/shared/logger-option.ts loads it with
// `import()` when a `logger` is passed, so a bundler makes it a chunk of its own that applications
// without a logger never load.

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
 * | `request-unrouted` | `warn` (once per origin) |
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
  /** Tokens taken from a shared store, manual invalidations. */
  debug?(fields: TokenAuthLogFields, message: string): void;
  /** New tokens, tokens rejected by the API, replays. */
  info?(fields: TokenAuthLogFields, message: string): void;
  /** Token request retries, failed background refreshes, store failures, requests no provider serves. */
  warn?(fields: TokenAuthLogFields, message: string): void;
  /** A token could not be had: requests that needed it failed. */
  error?(fields: TokenAuthLogFields, message: string): void;
}

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

/**
 * The level and one-line message of an event; the message carries provider, timings and
 * fingerprint. `error` is the event's error as secret-free facts (`errorFacts`).
 */
export function describeEvent(
  event: TokenAuthEvent,
  error: Record<string, unknown> | undefined,
): [TokenAuthLogLevel, string] {
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
        'warn',
        `no token for ${event.url}: no provider serves ${event.origin ?? 'its URL'} (served: ${event.servedOrigins.join(', ')}); if it needs one, add it to a provider's \`origins\`. Further requests to it are not reported`,
      ];
  }
}
