import { afterEach, describe, expect, jest, test } from '@jest/globals';
import axios from 'axios';
import { attachTokenAuth, customProvider, MemoryTokenStore, type StoredToken } from '../../lib/index.js';
import { mockOf } from '../helpers/index.js';

const token = (accessToken: string, expiresAt: number | null, obtainedAt = 0): StoredToken => ({
  accessToken,
  tokenType: 'Bearer',
  expiresAt,
  obtainedAt,
});

describe('MemoryTokenStore', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  // Where timers cannot be unref'd (browsers, edge runtimes), a pending sweep keeps running.
  test('clear() drops every entry and stops the sweep timer', async () => {
    jest.useFakeTimers();
    const store = new MemoryTokenStore({ sweepIntervalMs: 1_000 });
    await store.set('a', token('a', null));
    await store.set('b', token('b', Date.now() + 60_000));
    expect(jest.getTimerCount()).toBe(1);
    store.clear();
    expect([store.size, jest.getTimerCount()]).toEqual([0, 0]);
    await expect(store.get('a')).resolves.toBeUndefined();
    await store.set('c', token('c', null));
    expect([store.size, jest.getTimerCount()]).toEqual([1, 1]);
  });

  test('eject() clears the store attachTokenAuth made, and leaves a store it was given alone', async () => {
    jest.useFakeTimers();
    const attachOne = (store?: MemoryTokenStore) => {
      const api = axios.create({ baseURL: 'https://api.example.com' });
      mockOf(api).onGet('/x').reply(200, 'ok');
      const auth = attachTokenAuth(api, {
        providers: customProvider({ name: 'mine', origins: ['https://api.example.com'], getToken: () => 'tok' }),
        ...(store === undefined ? {} : { store }),
      });
      return { api, auth };
    };
    const own = attachOne();
    await own.api.get('/x');
    expect(jest.getTimerCount()).toBe(1);
    own.auth.eject();
    expect(jest.getTimerCount()).toBe(0);

    const given = new MemoryTokenStore();
    const shared = attachOne(given);
    await shared.api.get('/x');
    shared.auth.eject();
    expect(given.size).toBe(1);
  });

  test('a write never replaces a newer token with an older one', async () => {
    const store = new MemoryTokenStore({ now: () => 0 });
    await expect(store.set('k', token('newer', 2_000))).resolves.toMatchObject({ accessToken: 'newer' });
    await expect(store.set('k', token('older', 1_000))).resolves.toMatchObject({ accessToken: 'newer' });
    await expect(store.set('k', token('same-expiry-later', 2_000, 5))).resolves.toMatchObject({
      accessToken: 'same-expiry-later',
    });
    await expect(store.get('k')).resolves.toMatchObject({ accessToken: 'same-expiry-later' });
  });

  test('delete removes the entry only if it still holds the rejected token', async () => {
    const store = new MemoryTokenStore({ now: () => 0 });
    await store.set('k', token('t2', 1_000));
    await expect(store.delete('k', 't1')).resolves.toBe(false);
    await expect(store.get('k')).resolves.toMatchObject({ accessToken: 't2' });
    await expect(store.delete('k', 't2')).resolves.toBe(true);
    await expect(store.get('k')).resolves.toBeUndefined();
  });

  test('entries expire with their token; tokens without expiry stay', async () => {
    let now = 0;
    const store = new MemoryTokenStore({ now: () => now });
    await store.set('a', token('a', 100));
    await store.set('b', token('b', null));
    now = 100;
    await expect(store.get('a')).resolves.toBeUndefined();
    await expect(store.get('b')).resolves.toMatchObject({ accessToken: 'b' });
  });

  test('the lock has one holder at a time; a waiter gets it when it is released', async () => {
    jest.useFakeTimers({ now: 0 });
    const store = new MemoryTokenStore();
    const first = await store.lock('k', { ttlMs: 10_000, waitMs: 10_000 });
    expect(first).toBeDefined();
    let second: unknown;
    const waiting = store.lock('k', { ttlMs: 10_000, waitMs: 10_000 }).then((lock) => (second = lock));
    await jest.advanceTimersByTimeAsync(20);
    expect(second).toBeUndefined();
    await first!.release();
    await waiting;
    expect(second).toBeDefined();
    // Woken by the release, not by a timer.
    expect(Date.now()).toBe(20);
  });

  test('a waiter gives up after waitMs, and a holder that never releases loses the lock after ttlMs', async () => {
    jest.useFakeTimers({ now: 0 });
    const store = new MemoryTokenStore();
    await store.lock('k', { ttlMs: 80, waitMs: 10_000 });
    const givingUp = store.lock('k', { ttlMs: 80, waitMs: 20 });
    await jest.advanceTimersByTimeAsync(19);
    let settled = false;
    void givingUp.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    await expect(givingUp).resolves.toBeUndefined();
    const started = Date.now();
    const taking = store.lock('k', { ttlMs: 80, waitMs: 10_000 });
    await jest.advanceTimersByTimeAsync(60);
    await expect(taking).resolves.toBeDefined();
    expect(Date.now() - started).toBeLessThan(1_000);
    // Taken the moment the holder's ttlMs ran out, 80 ms after it took the lock.
    expect(Date.now()).toBe(80);
  });

  test('releasing a lock that was taken over does not free the new holder’s lock', async () => {
    jest.useFakeTimers({ now: 0 });
    const store = new MemoryTokenStore();
    const stale = await store.lock('k', { ttlMs: 30, waitMs: 0 });
    await jest.advanceTimersByTimeAsync(40);
    const current = await store.lock('k', { ttlMs: 10_000, waitMs: 0 });
    await stale!.release();
    await expect(store.lock('k', { ttlMs: 10_000, waitMs: 0 })).resolves.toBeUndefined();
    await current!.release();
  });
});

describe('MemoryTokenStore.keyPair', () => {
  const makePair = () =>
    crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']) as Promise<{
      privateKey: object;
      publicKey: object;
    }>;

  test('concurrent callers of one id get the one pair the first caller made', async () => {
    const store = new MemoryTokenStore();
    const create = jest.fn(makePair);
    const pairs = await Promise.all(Array.from({ length: 20 }, () => store.keyPair('p1', create)));
    expect(create).toHaveBeenCalledTimes(1);
    expect(new Set(pairs).size).toBe(1);
    await expect(store.keyPair('p1', create)).resolves.toBe(pairs[0]);
    expect(create).toHaveBeenCalledTimes(1);
  });

  test('each id has a pair of its own, and clear() keeps them', async () => {
    const store = new MemoryTokenStore();
    const a = await store.keyPair('a', makePair);
    const b = await store.keyPair('b', makePair);
    expect(a).not.toBe(b);
    store.clear();
    await expect(store.keyPair('a', makePair)).resolves.toBe(a);
  });

  test('a create that fails is not remembered: every waiter gets its failure, the next caller makes a pair', async () => {
    const store = new MemoryTokenStore();
    const failing = jest.fn(() => Promise.reject(new Error('no crypto')));
    const outcomes = await Promise.allSettled([store.keyPair('p', failing), store.keyPair('p', failing)]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
    expect(failing).toHaveBeenCalledTimes(1);
    const thrower = (): Promise<never> => {
      throw new Error('thrown at once');
    };
    await expect(store.keyPair('p', thrower)).rejects.toThrow('thrown at once');
    const pair = await store.keyPair('p', makePair);
    await expect(store.keyPair('p', failing)).resolves.toBe(pair);
  });

  test('holds at most maxEntries ids, dropping the oldest', async () => {
    const store = new MemoryTokenStore({ maxEntries: 2 });
    const first = await store.keyPair('1', makePair);
    await store.keyPair('2', makePair);
    await store.keyPair('3', makePair);
    const again = await store.keyPair('1', makePair);
    expect(again).not.toBe(first);
  });
});
