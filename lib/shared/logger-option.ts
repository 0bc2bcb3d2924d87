import { invalidOption } from './errors.js';
import type { TokenAuthEvent } from './events.js';
import type { TokenAuthLogFields, TokenAuthLogger, TokenAuthLogLevel } from './logger.js';
import { ignoreRejection } from './async.js';
import { errorFacts } from './redact.js';
import { describe } from './validate.js';

const LEVELS: readonly TokenAuthLogLevel[] = ['debug', 'info', 'warn', 'error'];

/** Events held while the messages load; past this many (the load hangs), the oldest go. */
const MAX_PENDING = 1_000;

type Describe = typeof import('./logger.js').describeEvent;

function expectLogger(value: unknown, context: string): TokenAuthLogger {
  const methods = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  const present = LEVELS.filter((level) => methods?.[level] !== undefined);
  if (methods === undefined || present.length === 0 || present.some((level) => typeof methods[level] !== 'function')) {
    throw invalidOption(
      `${context}: expected \`logger\` to be an object with debug, info, warn or error methods (pino, console), got ${describe(value)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  return value as TokenAuthLogger;
}

/** One log call for `event`: its fields, with errors as secret-free facts, and its message. */
function write(logger: TokenAuthLogger, describeEvent: Describe, event: TokenAuthEvent): void {
  const error = 'error' in event ? errorFacts(event.error, []) : undefined;
  const [level, message] = describeEvent(event, error);
  const callbackError =
    event.type === 'refresh-token-rotated' && event.callbackError !== undefined
      ? { callbackError: errorFacts(event.callbackError, []) }
      : {};
  const fields: TokenAuthLogFields = { ...event, ...(error === undefined ? {} : { error }), ...callbackError };
  ignoreRejection(logger[level]?.(fields, message));
}

/**
 * Reads the `logger` option (its shape is checked now, so a wrong one fails at attach time) and
 * returns what writes each event to it; that never throws, as a logger's failure must never break a
 * request. The messages (lib/shared/logger.ts) are loaded on demand with `import()`: a bundler makes them
 * a chunk of their own, which an application that passes no `logger` never loads. The events of
 * the first moments wait, in order, until it has loaded.
 */
export function readLogger(value: unknown, context: string): ((event: TokenAuthEvent) => void) | undefined {
  if (value === undefined) return undefined;
  const logger = expectLogger(value, context);
  const log = (describeEvent: Describe, event: TokenAuthEvent): void => {
    try {
      write(logger, describeEvent, event);
    } catch {
      // A logger's failure must never break a request.
    }
  };
  let loaded: Describe | 'failed' | undefined;
  const pending: TokenAuthEvent[] = [];
  import('./logger.js').then(
    ({ describeEvent }) => {
      loaded = describeEvent;
      for (const event of pending.splice(0)) log(describeEvent, event);
    },
    () => {
      // The messages could not be loaded (a chunk that failed to download): nothing is logged.
      loaded = 'failed';
      pending.length = 0;
    },
  );
  return (event) => {
    if (loaded === undefined) {
      if (pending.push(event) > MAX_PENDING) pending.shift();
    } else if (loaded !== 'failed') {
      log(loaded, event);
    }
  };
}
