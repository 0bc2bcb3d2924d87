import { fingerprint, runCallback, sleep } from '../../shared/async.js';
import { isTokenRequestError, TokenRequestError } from '../../shared/errors.js';
import { redactedError } from '../../shared/redact.js';
import { CORRUPT, sharedEntry, type RefreshEntry } from './refresh-entry.js';
import { RotationPending } from './session.js';
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
 * - Before presenting it, the holder marks it in the store's entry (same entry, same token): "a
 *   rotation of this refresh token is under way until E", E being the lock's lease plus the token
 *   request's time limit. No mark stored, no request. Whatever the exchange brings back replaces
 *   the mark: the rotated token, the same token unmarked (no rotation happened), or `Ended`.
 * - A holder that finds another's mark before E presents nothing: it releases the lock and its
 *   callers wait until E (never longer than the lease plus the time limit, whatever the mark says)
 *   and try again. The marker, if alive, is still writing what the server answered.
 * - A mark found after E means the outcome is unknown: the marker died, or was cut off from the
 *   store from the server's answer to E. The refresh token is then presented: if the server never
 *   handled it (killed before, or during, the request) the fleet goes on; if it did, it answers
 *   `invalid_grant` (reuse, RFC 9700 §4.14.2) and the session ends with `ERR_TOKEN_SESSION_ENDED`,
 *   as it would have ended anyway (the rotated token died with the marker). Failing instead would
 *   end the first case too, with no way back but `resumeSession()`. docs/fleets.md lists these.
 * - A rotated refresh token is written to the store (ordered after the one it replaces, whatever
 *   the clocks say; a failed write is tried again, past the store's circuit breaker, until it lands
 *   or the mark's E is nearly reached: no one presents the old token before then) and then handed
 *   to `onRefreshToken` (waited for at most the token request's time limit) before its access
 *   token is used. It is kept whenever the server sent one, even in an answer that is unusable
 *   otherwise; an answer without one keeps the old one.
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

/** The later of two entries; on a tie `b` (this process's own: its mark's outcome it knows). */
const newest = (a: RefreshEntry | undefined, b: RefreshEntry): RefreshEntry =>
  a !== undefined && a.obtainedAt > b.obtainedAt ? a : b;

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
  /** Another holder's rotation mark, and when this process first found it. */
  markSeen: { refreshToken: string; obtainedAt: number; at: number } | undefined;
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

/** Writes `entry` until the store takes it, past its circuit breaker, while the mark surely holds. */
async function writeUntil(context: RotationContext, key: string, entry: RefreshEntry, until: number): Promise<boolean> {
  const { options, parts } = context;
  // Until the store has it, the mark keeps every other holder from presenting the used token.
  let stored = await context.entries.write(key, entry, { critical: true });
  while (!stored && !parts.signal.aborted && options.now() + options.storeTimeoutMs * 1.25 <= until) {
    await sleep(options.storeTimeoutMs / 4, parts.signal).catch(() => undefined);
    stored = await context.entries.write(key, entry, { critical: true });
  }
  return stored;
}

async function storeRotated(
  context: RotationContext,
  key: string,
  rotated: { held: RefreshEntry; next: string; until: number },
): Promise<void> {
  const { options, parts, credential } = context;
  const { held, next } = rotated;
  context.underway = true;
  context.latest = { refreshToken: next, obtainedAt: Math.max(options.now(), held.obtainedAt + 1), ended: false };
  const stored = await writeUntil(context, key, context.latest, rotated.until);
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

/** The exchange brought no rotated token: the entry holds `held` again, unmarked and later than its mark. */
async function unmark(context: RotationContext, key: string, held: RefreshEntry): Promise<void> {
  context.latest = { ...held, obtainedAt: held.obtainedAt + 1 };
  await context.entries.write(key, context.latest, { critical: true });
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

/**
 * Marks `held` as being rotated until E, before it is presented (see the rules above); throws
 * {@link RotationPending} while another holder's mark stands, and `ERR_TOKEN_STORE_UNAVAILABLE`
 * when the store does not take the mark.
 */
async function mark(
  context: RotationContext,
  key: string,
  held: RefreshEntry,
  lockedUntil: number,
): Promise<{ held: RefreshEntry; until: number }> {
  const { options, credential } = context;
  const now = options.now();
  const span = options.lockTtlMs + credential.callbackTimeoutMs;
  if (held.rotatingUntil !== undefined) {
    // Waited for from the first time this process saw it: a mark that claims more is not waited for again.
    const seen = context.markSeen;
    const since = seen?.refreshToken === held.refreshToken && seen.obtainedAt === held.obtainedAt ? seen.at : now;
    context.markSeen = { refreshToken: held.refreshToken, obtainedAt: held.obtainedAt, at: since };
    const waitMs = Math.min(held.rotatingUntil - now, since + span - now);
    if (waitMs > 0) throw new RotationPending(waitMs);
  }
  const until = lockedUntil + credential.callbackTimeoutMs;
  const obtainedAt = Math.max(now, held.obtainedAt + 1);
  const marked = { refreshToken: held.refreshToken, obtainedAt, ended: false, rotatingUntil: until };
  if (!(await context.entries.write(key, marked, { critical: true }))) {
    throw failure(
      context,
      'ERR_TOKEN_STORE_UNAVAILABLE',
      'the token store did not take the mark that must precede a rotation; no refresh token was presented',
    );
  }
  context.latest = { refreshToken: held.refreshToken, obtainedAt, ended: false };
  return { held: context.latest, until };
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
    markSeen: undefined,
  };
  return {
    async exchange(key, lock, { reason, ticket }) {
      const lockedUntil = options.now() + options.lockTtlMs;
      const { held, until } = await mark(context, key, await presentable(context, key, lock), lockedUntil);
      try {
        ticket.check();
        context.resumed = false;
        const deadline = lockedUntil - options.storeTimeoutMs;
        const result = await credential.exchange(held.refreshToken, { signal: parts.signal, reason, deadline });
        ticket.check();
        if (result.next !== undefined && result.next !== held.refreshToken) {
          await storeRotated(context, key, { held, next: result.next, until });
        }
        if ('failure' in result) throw result.failure;
        return { token: result.token, attempts: result.attempts };
      } catch (error) {
        if (isTokenRequestError(error) && error.code === 'ERR_TOKEN_SESSION_ENDED') {
          // The end of a replaced session is not the end of the new one.
          ticket.check();
          await endSession(context, key, held, error);
        }
        throw error;
      } finally {
        // No rotated token, no end of the session (each replaces `latest` before its first await),
        // no resume: the mark gives way to the same token, unmarked, ordered after it.
        if (context.latest === held) await unmark(context, key, held);
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
