import { sleep } from '../../async.js';
import type { TokenStoreLock, TokenStoreLockOptions } from '../../store.js';
import type { BrowserStorage } from './types.js';

// The lock where there are no Web Locks (a page that is not a secure context, an old browser): a
// lease written in the storage itself. Best-effort, not mutual exclusion: Web Storage has no
// compare-and-set, so a tab writes its lease, waits `settleMs`, and holds the lock only if the
// lease still names it. Two tabs can both win if one of them writes its lease more than
// `settleMs` after the other read the lease back (a tab frozen or throttled between its read and
// its write, or a write that takes longer than that to reach the other tab's process): then both
// ask for a token (and with a rotating refresh token, the second use can end the session).

interface Lease {
  owner: string;
  until: number;
}

export interface LeaseOptions extends TokenStoreLockOptions {
  now: () => number;
  pollMs: number;
  settleMs: number;
}

function readLeaseText(raw: string | null): Lease | undefined {
  try {
    const value = JSON.parse(raw ?? 'null') as Partial<Lease> | null;
    if (typeof value?.owner === 'string' && typeof value.until === 'number') return value as Lease;
  } catch {
    // Not a lease: it is overwritten like an expired one.
  }
  return undefined;
}

const readLease = (storage: BrowserStorage, leaseKey: string): Lease | undefined =>
  readLeaseText(storage.getItem(leaseKey));

/** True when the text under a lease key holds no lease that is still running (it may be removed). */
export function isLeaseOver(raw: string | null, now: number): boolean {
  const lease = readLeaseText(raw);
  return lease === undefined || lease.until <= now;
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
  const { now, signal } = options;
  const owner = randomOwner();
  const ownsLease = (): boolean => readLease(storage, leaseKey)?.owner === owner;
  const release = (): Promise<void> => {
    if (ownsLease()) storage.removeItem(leaseKey);
    return Promise.resolve();
  };
  const deadline = now() + options.waitMs;
  for (;;) {
    if (signal?.aborted === true) return undefined;
    const lease = readLease(storage, leaseKey);
    if (lease === undefined || lease.until <= now()) {
      storage.setItem(leaseKey, JSON.stringify({ owner, until: now() + Math.max(1, options.ttlMs) }));
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
