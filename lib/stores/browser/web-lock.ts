import { unrefTimer } from '../../shared/async.js';
import type { TokenStoreLock, TokenStoreLockOptions } from '../store.js';
import type { BrowserLockManager } from './types.js';

/**
 * A lock of the Web Locks API: held from the moment `request` grants it until `release()`, or
 * `ttlMs` later (Web Locks never expire while their page lives, so a timer frees it), or until the
 * page closes (the browser frees it then). Waiting ends at `waitMs` or when `signal` aborts.
 */
export async function takeWebLock(
  locks: BrowserLockManager,
  name: string,
  options: TokenStoreLockOptions,
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
  return {
    release: () => {
      clearTimeout(ttlTimer);
      free();
      return Promise.resolve();
    },
  };
}
