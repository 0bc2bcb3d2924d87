import { randomUUID } from 'node:crypto';
import { unrefTimer } from '../../shared/async.js';
import type { TokenStoreLock, TokenStoreLockOptions } from '../store.js';
import type { CommandRunner } from './runner.js';
import { RELEASE_IF_OWNER, RENEW_IF_OWNER } from './scripts.js';

const noop = (): void => undefined;

/** Resolves after `ms`, or as soon as `signal` aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = unrefTimer(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

function releaseLock(runner: CommandRunner, lockKey: string, owner: string): Promise<unknown> {
  return runner.run('release', () => runner.eval(RELEASE_IF_OWNER, lockKey, [owner]));
}

/** A held lock: its lease is renewed every third of `leaseMs` until it is released or `until` passes. */
function heldLock(
  runner: CommandRunner,
  now: () => number,
  lock: { lockKey: string; owner: string; leaseMs: number; until: number },
): TokenStoreLock {
  const { lockKey, owner, leaseMs, until } = lock;
  let released = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const renew = (): void => {
    const remaining = Math.ceil(until - now());
    if (released || remaining <= 0) return;
    const lease = String(Math.min(leaseMs, remaining));
    runner
      .run('renew', () => runner.eval(RENEW_IF_OWNER, lockKey, [owner, lease]))
      .then((renewed) => {
        // 0: the lock was lost (expired and taken, or deleted); an error: Redis failed. Stop either way.
        if (renewed === 1) schedule();
      }, noop);
  };
  const schedule = (): void => {
    if (!released) timer = unrefTimer(renew, leaseMs / 3);
  };
  // A lease as long as the lock was asked for needs no renewal.
  if (leaseMs < until - now()) schedule();
  return {
    release: async () => {
      if (released) return;
      released = true;
      if (timer !== undefined) clearTimeout(timer);
      await releaseLock(runner, lockKey, owner);
    },
  };
}

/**
 * `SET NX PX` with a random owner id, released by a compare-and-delete script. Waiters poll with
 * jitter rather than subscribe: no extra connection per process, and a missed message can never
 * strand a waiter. Polling happens only while a token is being fetched.
 */
export async function takeLock(
  runner: CommandRunner,
  lockKey: string,
  options: TokenStoreLockOptions & { leaseMs: number; pollMs: number; now: () => number },
): Promise<TokenStoreLock | undefined> {
  const { now, signal } = options;
  const owner = randomUUID();
  const ttlMs = Math.max(1, Math.ceil(options.ttlMs));
  const leaseMs = Math.min(ttlMs, options.leaseMs);
  const deadline = now() + options.waitMs;
  for (;;) {
    if (signal?.aborted === true) return undefined;
    const reply = await runner.run('lock', () => runner.client.set(lockKey, owner, 'PX', leaseMs, 'NX'), [], {
      // Taken after we stopped waiting for the answer (a reply delayed past commandTimeoutMs):
      // give it back at once rather than block the fleet.
      onLate: (late) => {
        if (late === 'OK') releaseLock(runner, lockKey, owner).catch(noop);
      },
    });
    if (reply === 'OK') return heldLock(runner, now, { lockKey, owner, leaseMs, until: now() + ttlMs });
    const remaining = deadline - now();
    if (remaining <= 0) return undefined;
    await pause(Math.min(remaining, options.pollMs * (0.5 + Math.random())), signal);
  }
}
