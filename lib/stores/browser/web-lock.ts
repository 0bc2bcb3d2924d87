import { unrefTimer } from '../../async.js';
import type { TokenStoreLock, TokenStoreLockOptions } from '../../store.js';
import type { Handoff } from './handoff.js';
import type { BrowserLockManager } from './types.js';

/** The hand-off count this lock keeps (see handoff.ts), where IndexedDB is there. */
export interface HandoffOptions {
  handoff: Handoff;
  markerKey: string;
  waitMs: number;
}

/**
 * A lock of the Web Locks API: held from the moment `request` grants it until `release()`, or
 * `ttlMs` later (Web Locks never expire while their page lives, so a timer frees it), or until the
 * page closes (the browser frees it then). Waiting ends at `waitMs` or when `signal` aborts.
 */
export async function takeWebLock(
  locks: BrowserLockManager,
  name: string,
  options: TokenStoreLockOptions,
  handoff?: HandoffOptions,
): Promise<TokenStoreLock | undefined> {
  const { signal } = options;
  if (signal?.aborted === true) return undefined;
  const giveUp = new AbortController();
  const stopWaiting = (): void => giveUp.abort();
  const waitTimer = unrefTimer(stopWaiting, Math.max(0, options.waitMs));
  signal?.addEventListener('abort', stopWaiting, { once: true });
  let free: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (free = resolve));
  const granted = await new Promise<boolean>((resolve) => {
    locks
      .request(name, { signal: giveUp.signal }, () => {
        resolve(true);
        return held;
      })
      // Rejected with an AbortError when the wait was given up before the lock was granted.
      .catch(() => resolve(false));
  });
  clearTimeout(waitTimer);
  signal?.removeEventListener('abort', stopWaiting);
  if (!granted) return undefined;
  const ttlTimer = unrefTimer(free, Math.max(1, options.ttlMs));
  // Best effort: without IndexedDB (or when it fails) the lock is held all the same.
  const count = await handoff?.handoff
    .catchUp(name, handoff.markerKey, handoff.waitMs, signal ?? new AbortController().signal)
    .catch(() => undefined);
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      clearTimeout(ttlTimer);
      await handoff?.handoff.handOff(name, handoff.markerKey, count ?? 0).catch(() => undefined);
      free();
    },
  };
}
