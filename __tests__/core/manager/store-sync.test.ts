import { describe, expect, test } from '@jest/globals';
import { MemoryTokenStore, type StoredToken, type TokenStore } from '../../../lib/index.js';
import { followStore } from '../../../lib/core/manager/store-sync.js';
import { deferred, flush } from '../../helpers/index.js';

// followStore(): how a token manager follows a store that tells of changes made elsewhere.

const token = (accessToken: string): StoredToken => ({
  accessToken,
  tokenType: 'Bearer',
  expiresAt: null,
  obtainedAt: 0,
});

/** A store that tells of changes when `notify(key)` is called, counting its listeners. */
function notifyingStore() {
  const listeners = new Set<(key: string) => void>();
  const store: TokenStore = Object.assign(new MemoryTokenStore(), {
    subscribe(listener: (key: string) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  });
  // A listener captured before it was removed, as a store that iterates a copy would call it.
  const captured: ((key: string) => void)[] = [];
  return {
    store,
    listeners,
    notify: (key: string) => [...listeners, ...captured].forEach((listener) => listener(key)),
    capture: () => captured.push(...listeners),
  };
}

function follow(store: TokenStore, read: (key: string) => Promise<StoredToken | undefined>) {
  const changes: (StoredToken | undefined)[] = [];
  const reads: string[] = [];
  const unfollow = followStore({
    store,
    key: () => Promise.resolve('k'),
    read: (key) => {
      reads.push(key);
      return read(key);
    },
    changed: (found) => {
      changes.push(found);
      return Promise.resolve();
    },
  });
  return { unfollow, changes, reads };
}

describe('followStore', () => {
  test('a change to its key is read once and handed over', async () => {
    const { store, notify } = notifyingStore();
    const { changes, reads } = follow(store, () => Promise.resolve(token('t2')));
    notify('k');
    await flush();
    expect(reads).toEqual(['k']);
    expect(changes).toEqual([token('t2')]);
  });

  test('a change to another key is not read', async () => {
    const { store, notify } = notifyingStore();
    const { reads } = follow(store, () => Promise.resolve(undefined));
    notify('other');
    await flush();
    expect(reads).toEqual([]);
  });

  test('changes while the entry is being read become one more read, not one each', async () => {
    const { store, notify } = notifyingStore();
    const slow = deferred<StoredToken | undefined>();
    let calls = 0;
    const { changes, reads } = follow(store, () => (++calls === 1 ? slow.promise : Promise.resolve(token('t3'))));
    notify('k');
    await flush();
    notify('k');
    notify('k');
    notify('k');
    slow.resolve(token('t2'));
    await flush();
    expect(reads).toEqual(['k', 'k']);
    expect(changes).toEqual([token('t2'), token('t3')]);
    notify('k');
    await flush();
    expect(reads).toHaveLength(3);
  });

  test('a failed read is passed over, and the next change is read again', async () => {
    const { store, notify } = notifyingStore();
    let calls = 0;
    const { changes, reads } = follow(store, () =>
      ++calls === 1 ? Promise.reject(new Error('store down')) : Promise.resolve(token('t2')),
    );
    notify('k');
    await flush();
    notify('k');
    await flush();
    expect(reads).toEqual(['k', 'k']);
    expect(changes).toEqual([token('t2')]);
  });

  test('unfollowing removes the listener, and a change that still arrives is not read', async () => {
    const { store, notify, listeners, capture } = notifyingStore();
    const { unfollow, reads } = follow(store, () => Promise.resolve(undefined));
    capture();
    unfollow();
    expect(listeners.size).toBe(0);
    notify('k');
    await flush();
    expect(reads).toEqual([]);
  });

  test('unfollowing during a read stops the read that was asked for after it', async () => {
    const { store, notify } = notifyingStore();
    const slow = deferred<StoredToken | undefined>();
    const { unfollow, reads, changes } = follow(store, () => slow.promise);
    notify('k');
    await flush();
    notify('k');
    unfollow();
    slow.resolve(token('t2'));
    await flush();
    expect(reads).toEqual(['k']);
    expect(changes).toEqual([token('t2')]);
  });

  test('a store without subscribe is not followed', async () => {
    const { reads, unfollow } = follow(new MemoryTokenStore(), () => Promise.resolve(undefined));
    expect(() => unfollow()).not.toThrow();
    await flush();
    expect(reads).toEqual([]);
  });
});
