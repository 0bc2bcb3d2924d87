import { fingerprint, runCallback, sleep } from '../../shared/async.js';
import { isTokenRequestError, TokenRequestError } from '../../shared/errors.js';
import { redactedError } from '../../shared/redact.js';
import { CORRUPT, sharedEntry, type RefreshEntry } from './refresh-entry.js';
import type { TokenStoreLock } from '../../stores/store.js';
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
 *   the clocks say; a failed write is tried again, past the store's circuit breaker, until it lands
 *   or the lock's lease is nearly over) and then handed to `onRefreshToken` (waited for at most the
 *   token request's time limit) before its access token is used. It is kept whenever the server
 *   sent one, even in an answer that is unusable otherwise; an answer without one keeps the old one.
 * - A flight of a session that `resume()` replaced (lib/core/manager/session.ts) presents nothing more, and
 *   neither stores nor hands out what its exchange brought back. `resume()` writes under the same
 *   lock, so a rotation under way (anywhere sharing the store) lands first and the new session after.
 * - An entry tokenflight did not write (junk, another program's) is reported when it is read and
 *   is never a reason to present a refresh token.
 * - `invalid_grant` ends the session: an `Ended` entry takes the refresh token's place, so every
 *   handle sharing the store fails fast with `ERR_TOKEN_SESSION_ENDED` until `resume()`.
 * - Once this process has seen the session under way (an entry in the store, a token another
 *   handle fetched, a rotation of its own), a store that no longer holds the entry (a Redis
 *   restarted without persistence, an eviction) has lost the session: `ERR_TOKEN_SESSION_ENDED`.
 *   Neither the `refreshToken` option (some handle has used it) nor this process's own last copy
 *   (another may have rotated it since) is presented.
 */

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
  cause?: Error,
): TokenRequestError {
  const provider = context.options.source.name;
  return new TokenRequestError(`Could not get a token for provider "${provider}": ${detail}`, {
    code,
    provider,
    url: context.credential.url,
    attempts: 0,
    cause,
  });
}

const isDuplicatedTab = (error: Error | undefined): boolean =>
  (error as { code?: unknown } | undefined)?.code === 'ERR_STORE_TAB_DUPLICATED';

/** The store's entry; CORRUPT when it holds one tokenflight did not write (already reported). */
async function readShared(context: RotationContext, key: string): Promise<RefreshEntry | undefined | typeof CORRUPT> {
  const entry = await context.entries.read(key);
  if (entry !== undefined && entry !== CORRUPT && 'failed' in entry) {
    throw failure(
      context,
      'ERR_TOKEN_STORE_UNAVAILABLE',
      isDuplicatedTab(entry.cause)
        ? 'this tab was copied from another that is still open, and does not use the session it copied (see `cause`); no refresh token was presented: sign in again (auth.resumeSession())'
        : 'the token store could not be read; no refresh token was presented',
      entry.cause,
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
  const obtainedAt = Math.max(context.options.now(), held.obtainedAt + 1);
  context.latest = { refreshToken: held.refreshToken, obtainedAt, ended: true };
  await context.entries.write(key, context.latest);
  const shown = await fingerprint(held.refreshToken);
  context.options.emit({ type: 'session-ended', provider: context.options.source.name, fingerprint: shown, error });
}

/** Writes `entry` until the store takes it, past its circuit breaker, while the lock surely holds. */
async function writeUntil(
  context: RotationContext,
  key: string,
  entry: RefreshEntry,
  lockedUntil: number,
): Promise<boolean> {
  const { options, parts } = context;
  // Still under the lock: until the store has it, the next holder would act on the entry before it.
  let stored = await context.entries.write(key, entry, { critical: true });
  while (!stored && !parts.signal.aborted && options.now() + options.storeTimeoutMs * 1.25 <= lockedUntil) {
    await sleep(options.storeTimeoutMs / 4, parts.signal).catch(() => undefined);
    stored = await context.entries.write(key, entry, { critical: true });
  }
  return stored;
}

async function storeRotated(
  context: RotationContext,
  key: string,
  rotated: { held: RefreshEntry; next: string; lockedUntil: number },
): Promise<void> {
  const { options, parts, credential } = context;
  const { held, next } = rotated;
  context.underway = true;
  context.latest = { refreshToken: next, obtainedAt: Math.max(options.now(), held.obtainedAt + 1), ended: false };
  const stored = await writeUntil(context, key, context.latest, rotated.lockedUntil);
  const onRotated = credential.onRotated;
  const failed =
    onRotated === undefined
      ? undefined
      : await runCallback(() => onRotated(next), {
          timeoutMs: credential.callbackTimeoutMs,
          signal: parts.signal,
          onTimeout: () => new Error(`onRefreshToken did not settle within ${credential.callbackTimeoutMs} ms`),
        });
  const callbackError = failed === undefined ? undefined : redactedError(failed, [next, held.refreshToken]);
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
        : "the token store's lock could not be taken (the store failed, was too slow, or refused it: see the `store-failed` event); no refresh token was presented",
    );
  }
  const found = await readShared(context, key);
  if (found === CORRUPT && !context.resumed) {
    throw failure(
      context,
      'ERR_TOKEN_SESSION_ENDED',
      "the token store's refresh-token entry is not one tokenflight wrote (junk, or another program's write; reported as ERR_STORE_ENTRY_INVALID when it was read); no refresh token was presented: call auth.resumeSession() with the last one onRefreshToken received",
    );
  }
  const shared = found === CORRUPT ? undefined : found;
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
    async exchange(key, lock, { reason, ticket }) {
      const lockedUntil = options.now() + options.lockTtlMs;
      const held = await presentable(context, key, lock);
      ticket.check();
      try {
        context.resumed = false;
        const deadline = lockedUntil - options.storeTimeoutMs;
        const result = await credential.exchange(held.refreshToken, { signal: parts.signal, reason, deadline });
        ticket.check();
        if (result.next !== undefined && result.next !== held.refreshToken)
          await storeRotated(context, key, { held, next: result.next, lockedUntil });
        if ('failure' in result) throw result.failure;
        return { token: result.token, attempts: result.attempts };
      } catch (error) {
        if (isTokenRequestError(error) && error.code === 'ERR_TOKEN_SESSION_ENDED') {
          // The end of a replaced session is not the end of the new one.
          ticket.check();
          await endSession(context, key, held, error);
        }
        throw error;
      }
    },
    async resume(key, refreshToken, { lock, dropOld }) {
      if (lock === 'timeout') {
        throw failure(
          context,
          'ERR_TOKEN_STORE_UNAVAILABLE',
          `another holder kept the token store's lock for longer than ${options.lockTtlMs} ms; the session was not resumed`,
        );
      }
      let shared: RefreshEntry | undefined;
      try {
        const found = await readShared(context, key);
        shared = found === CORRUPT ? undefined : found;
      } catch {
        // The store is down: the new session is held here, ordered after anything it may hold.
      }
      const after = newest(shared, context.latest).obtainedAt + 1;
      context.latest = { refreshToken, obtainedAt: Math.max(options.now(), after), ended: false };
      context.resumed = true;
      await context.entries.write(key, context.latest, { critical: true });
      await dropOld();
    },
    adopted: (key) => {
      context.underway = true;
      void context.entries.read(key);
    },
    secrets: () => [context.latest.refreshToken, btoa(context.latest.refreshToken)],
  };
}
