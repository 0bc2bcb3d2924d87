import { fingerprint, unrefTimer } from './async.js';
import { isTokenRequestError, TokenRequestError } from './errors.js';
import { redactedError } from './redact.js';
import { FAILED, sharedEntry, type RefreshEntry } from './refresh-entry.js';
import type { TokenStoreLock } from './store.js';
import type { StoreAccess } from './store-access.js';
import type { Rotation, RotationOptions, RotatingCredential } from './token-source.js';

export type { Rotation, RotationOptions } from './token-source.js';

/**
 * A rotating refresh token, and how it is used at most once (RFC 9700 §4.14).
 *
 * Simple rules:
 * - It is presented only by the holder of the store's lock, after re-reading the store under that
 *   lock: the store's refresh token, unless this process knows a newer one (it rotated it and the
 *   store failed to take it). The `refreshToken` option is used only while neither knows one.
 * - No lock, no request: when the store fails, is too slow, or another holder keeps the lock past
 *   its wait, the caller gets `ERR_TOKEN_STORE_UNAVAILABLE` and nothing is presented. There is no
 *   per-process fallback (that would be a second use somewhere in the fleet).
 * - The holder's exchange ends before its lock can: no attempt runs past `lockTtlMs` after the lock
 *   was taken, and only failures that cannot have reached the server are retried.
 * - A rotated refresh token is written to the store (ordered after the one it replaces, whatever
 *   the clocks say; a failed write is tried again before the lock is let go) and handed to
 *   `onRefreshToken` before its access token is used; an answer without one keeps the old one.
 * - `invalid_grant` ends the session: an `Ended` entry takes the refresh token's place, so every
 *   handle sharing the store fails fast with `ERR_TOKEN_SESSION_ENDED` until `resume()`.
 * - Once this process has seen the session under way (an entry in the store, a token another
 *   handle fetched, a rotation of its own), a store that no longer holds the entry (a Redis
 *   restarted without persistence, an eviction) has lost the session: `ERR_TOKEN_SESSION_ENDED`.
 *   Neither the `refreshToken` option (some handle has used it) nor this process's own last copy
 *   (another may have rotated it since) is presented.
 */

/** Writes of a rotated refresh token, a quarter of `storeTimeoutMs` apart, before the lock is let go. */
const WRITE_ATTEMPTS = 4;

const newest = (a: RefreshEntry | undefined, b: RefreshEntry): RefreshEntry =>
  a !== undefined && a.obtainedAt >= b.obtainedAt ? a : b;

/** One session's state and what its steps work with. */
interface RotationContext {
  readonly options: RotationOptions;
  readonly credential: RotatingCredential;
  readonly parts: { store: StoreAccess; signal: AbortSignal };
  readonly entries: ReturnType<typeof sharedEntry>;
  /** The newest refresh token this process knows. */
  latest: RefreshEntry;
  /** Whether the session has been seen under way, so that `initial` may have been used. */
  underway: boolean;
  /** Whether `latest` was handed over by the application (`resume()`) and not presented yet. */
  resumed: boolean;
}

function failure(
  context: RotationContext,
  code: 'ERR_TOKEN_STORE_UNAVAILABLE' | 'ERR_TOKEN_SESSION_ENDED',
  detail: string,
): TokenRequestError {
  const provider = context.options.source.name;
  return new TokenRequestError(`Could not get a token for provider "${provider}": ${detail}`, {
    code,
    provider,
    url: context.credential.url,
    attempts: 0,
  });
}

async function readShared(context: RotationContext, key: string): Promise<RefreshEntry | undefined> {
  const entry = await context.entries.read(key);
  if (entry === FAILED) {
    throw failure(
      context,
      'ERR_TOKEN_STORE_UNAVAILABLE',
      'the token store could not be read; no refresh token was presented',
    );
  }
  if (entry !== undefined) context.underway = true;
  return entry;
}

async function endSession(
  context: RotationContext,
  key: string,
  held: RefreshEntry,
  error: TokenRequestError,
): Promise<void> {
  context.latest = { ...held, ended: true, obtainedAt: Math.max(context.options.now(), held.obtainedAt + 1) };
  await context.entries.write(key, context.latest);
  const shown = await fingerprint(held.refreshToken);
  context.options.emit({ type: 'session-ended', provider: context.options.source.name, fingerprint: shown, error });
}

async function storeRotated(context: RotationContext, key: string, held: RefreshEntry, next: string): Promise<void> {
  const { options, parts } = context;
  context.underway = true;
  context.latest = { refreshToken: next, obtainedAt: Math.max(options.now(), held.obtainedAt + 1), ended: false };
  // Still under the lock: until the store has the new one, the next holder would present the used one.
  let stored = await context.entries.write(key, context.latest);
  for (let attempt = 1; !stored && attempt < WRITE_ATTEMPTS && !parts.signal.aborted; attempt++) {
    await new Promise((resolve) => unrefTimer(resolve as () => void, options.storeTimeoutMs / 4));
    stored = await context.entries.write(key, context.latest);
  }
  let callbackError: Error | undefined;
  try {
    await context.credential.onRotated?.(next);
  } catch (error) {
    callbackError = redactedError(error, [next, held.refreshToken]);
  }
  const shown = await fingerprint(next);
  options.emit({
    type: 'refresh-token-rotated',
    provider: options.source.name,
    fingerprint: shown,
    stored,
    callbackError,
  });
}

/** The refresh token to present under `lock`, or the reason none may be. */
async function presentable(
  context: RotationContext,
  key: string,
  lock: TokenStoreLock | 'none' | 'failed' | 'timeout',
): Promise<RefreshEntry> {
  if (typeof lock !== 'object') {
    throw failure(
      context,
      'ERR_TOKEN_STORE_UNAVAILABLE',
      lock === 'timeout'
        ? `another holder kept the token store's lock for longer than ${context.options.lockTtlMs} ms; no refresh token was presented`
        : "the token store's lock could not be taken (the store failed or was too slow); no refresh token was presented",
    );
  }
  const shared = await readShared(context, key);
  if (shared === undefined && context.underway && !context.resumed) {
    throw failure(
      context,
      'ERR_TOKEN_SESSION_ENDED',
      "the token store no longer holds the session's refresh token (restarted without persistence, or evicted); call auth.resumeSession() with the last one onRefreshToken received",
    );
  }
  const held = newest(shared, context.latest);
  context.latest = held;
  if (held.ended) {
    throw failure(
      context,
      'ERR_TOKEN_SESSION_ENDED',
      'the session ended earlier (the server answered invalid_grant); call auth.resumeSession() with a new refresh token',
    );
  }
  return held;
}

export function createRotation(
  options: RotationOptions,
  credential: RotatingCredential,
  parts: { store: StoreAccess; signal: AbortSignal },
): Rotation {
  const context: RotationContext = {
    options,
    credential,
    parts,
    entries: sharedEntry(parts.store, options.store),
    latest: { refreshToken: credential.initial, obtainedAt: 0, ended: false },
    underway: false,
    resumed: false,
  };
  return {
    async exchange(key, lock, reason) {
      const deadline = options.now() + options.lockTtlMs - options.storeTimeoutMs;
      const held = await presentable(context, key, lock);
      try {
        context.resumed = false;
        const result = await credential.exchange(held.refreshToken, { signal: parts.signal, reason, deadline });
        if (result.next !== undefined && result.next !== held.refreshToken)
          await storeRotated(context, key, held, result.next);
        return { token: result.token, attempts: result.attempts };
      } catch (error) {
        if (isTokenRequestError(error) && error.code === 'ERR_TOKEN_SESSION_ENDED')
          await endSession(context, key, held, error);
        throw error;
      }
    },
    async resume(key, refreshToken) {
      let shared: RefreshEntry | undefined;
      try {
        shared = await readShared(context, key);
      } catch {
        // The store is down: the new session is held here, ordered after anything it may hold.
      }
      const after = newest(shared, context.latest).obtainedAt + 1;
      context.latest = { refreshToken, obtainedAt: Math.max(options.now(), after), ended: false };
      context.resumed = true;
      await context.entries.write(key, context.latest);
    },
    adopted: () => {
      context.underway = true;
    },
    secrets: () => [context.latest.refreshToken, btoa(context.latest.refreshToken)],
  };
}
