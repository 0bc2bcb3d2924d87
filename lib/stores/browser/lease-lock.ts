import { sleep } from '../../shared/async.js';
import type { TokenStoreLock, TokenStoreLockOptions } from '../store.js';
import { bindingFields, isMarkedFor, parseObject, type EntryBinding } from './entry.js';
import type { BrowserStorage, PageEventSource } from './types.js';

// The lock where there are no Web Locks (a page that is not a secure context, an old browser): a
// lease written in the storage itself. Best-effort, not mutual exclusion: Web Storage has no
// compare-and-set, so a tab writes its lease, waits `settleMs`, and holds the lock only if the
// lease still names it. Two tabs can both win if one of them writes its lease more than
// `settleMs` after the other read the lease back (a tab frozen or throttled between its read and
// its write, or a write that takes longer than that to reach the other tab's process): then both
// ask for a token (and with a rotating refresh token, the second use can end the session).
// A lease carries the store's mark, its key and its tab (like an entry): a lease copied from
// another tab, or any other value under its name, holds nothing.

interface Lease {
  owner: string;
  until: number;
}

export interface LeaseOptions extends TokenStoreLockOptions {
  binding: EntryBinding;
  now: () => number;
  pollMs: number;
  settleMs: number;
}

function readLeaseText(raw: string | null, binding: EntryBinding): Lease | undefined {
  const value = parseObject(raw);
  if (!isMarkedFor(value, binding.key) || value?.['tab'] !== binding.tab) return undefined;
  const { owner, until } = value as Record<string, unknown>;
  return typeof owner === 'string' && typeof until === 'number' ? { owner, until } : undefined;
}

/** Resolves after `ms`, or to false as soon as `signal` aborts. */
async function pause(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  try {
    await sleep(ms, signal ?? new AbortController().signal);
    return true;
  } catch {
    return false;
  }
}

const randomOwner = (): string => `${Date.now().toString(36)}.${Math.random().toString(36).slice(2)}`;

/** Takes the lease under `leaseKey`, waiting for another tab's to be released or to run out, up to `waitMs`. */
export async function takeLeaseLock(
  storage: BrowserStorage,
  leaseKey: string,
  options: LeaseOptions,
): Promise<TokenStoreLock | undefined> {
  const { now, signal, binding } = options;
  const owner = randomOwner();
  const readLease = (): Lease | undefined => readLeaseText(storage.getItem(leaseKey), binding);
  const ownsLease = (): boolean => readLease()?.owner === owner;
  const release = (): Promise<void> => {
    if (ownsLease()) storage.removeItem(leaseKey);
    return Promise.resolve();
  };
  const deadline = now() + options.waitMs;
  for (;;) {
    if (signal?.aborted === true) return undefined;
    const lease = readLease();
    if (lease === undefined || lease.until <= now()) {
      const until = now() + Math.max(1, options.ttlMs);
      storage.setItem(leaseKey, JSON.stringify({ ...bindingFields(binding), owner, until }));
      const settled = await pause(options.settleMs, signal);
      if (settled && ownsLease()) return { release };
      if (!settled) {
        await release();
        return undefined;
      }
    }
    const remaining = deadline - now();
    if (remaining <= 0) return undefined;
    if (!(await pause(Math.min(remaining, options.pollMs * (0.5 + Math.random())), signal))) return undefined;
  }
}

/**
 * Tracks the leases a page holds and releases them on `pagehide` (the page is closed, navigated
 * away or put in the back-forward cache), so that a waiting tab takes over at its next look
 * instead of after the lease's time to live. The release is synchronous: a page that is going
 * away runs no more tasks.
 */
export function releaseOnPagehide(
  pageEvents: PageEventSource | undefined,
): (lock: TokenStoreLock | undefined) => TokenStoreLock | undefined {
  if (pageEvents === undefined) return (lock) => lock;
  const held = new Set<TokenStoreLock>();
  pageEvents.addEventListener('pagehide', () => {
    for (const lock of held) void lock.release();
    held.clear();
  });
  return (lock) => {
    if (lock === undefined) return undefined;
    held.add(lock);
    return {
      release: () => {
        held.delete(lock);
        return lock.release();
      },
    };
  };
}
