import { describe, expect, jest, test } from '@jest/globals';
import { BrowserTokenStore, type BrowserIndexedDB, type BrowserTokenStoreEvent } from '../../../lib/browser.js';
import type { StoredKeyPair } from '../../../lib/index.js';
import { createOrigin } from '../../browser/helpers/fakes.js';

// BrowserTokenStore.keyPair where a browser cannot easily be made to misbehave: what `create` may
// hand it, and IndexedDB failing at once. The rules that need a real browser (tabs racing, reloads,
// structured-cloned keys) are in __tests__/browser/key-pair.test.ts.

const makePair = (extractable = false) =>
  crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, extractable, [
    'sign',
    'verify',
  ]) as Promise<StoredKeyPair>;

function storeWith(indexedDB: BrowserIndexedDB | false): {
  store: BrowserTokenStore;
  events: BrowserTokenStoreEvent[];
} {
  const events: BrowserTokenStoreEvent[] = [];
  const store = new BrowserTokenStore({
    storage: createOrigin().openTab().storage,
    locks: false,
    storageEvents: false,
    pageEvents: false,
    indexedDB,
    onEvent: (event) => events.push(event),
  });
  return { store, events };
}

/** An IndexedDB whose `open` throws at once. */
const throwingOpen: BrowserIndexedDB = {
  open: () => {
    throw Object.assign(new Error('The user denied permission to access the database.'), { name: 'SecurityError' });
  },
};

/** An IndexedDB holding a database of the store's name made by someone else, without its object store. */
const foreignDatabase: BrowserIndexedDB = {
  open: () => {
    const database = {
      objectStoreNames: { contains: () => false },
      createObjectStore: () => undefined,
      transaction: () => {
        throw Object.assign(new Error('One of the specified object stores was not found.'), { name: 'NotFoundError' });
      },
      close: () => undefined,
    };
    const request = { result: database, onsuccess: null as (() => void) | null, onerror: null };
    setTimeout(() => request.onsuccess?.(), 0);
    return request;
  },
};

describe('BrowserTokenStore.keyPair', () => {
  test.each([
    ['without IndexedDB', false as const],
    ['with an IndexedDB that throws', throwingOpen],
  ])('%s: refuses a pair whose private key is extractable, naming `create`, and keeps nothing', async (_what, idb) => {
    const { store } = storeWith(idb);
    const error = (await store
      .keyPair('p', () => makePair(true))
      .then(
        () => undefined,
        (caught: unknown) => caught,
      )) as Error;
    expect(error).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(error.message).toMatch(/`create`.*private key is extractable/);
    const good = await store.keyPair('p', () => makePair());
    await expect(store.keyPair('p', () => makePair())).resolves.toBe(good);
  });

  test('a create that fails reaches its callers, is not remembered and is not reported', async () => {
    const { store, events } = storeWith(false);
    const failing = jest.fn(() => Promise.reject(new Error('no key for you')));
    const outcomes = await Promise.allSettled([store.keyPair('p', failing), store.keyPair('p', failing)]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
    expect(failing).toHaveBeenCalledTimes(1);
    const pair = await store.keyPair('p', () => makePair());
    await expect(store.keyPair('p', failing)).resolves.toBe(pair);
    expect(events).toEqual([
      { type: 'browser-key-in-memory', code: 'ERR_STORE_KEY_UNAVAILABLE', reason: expect.any(String) },
    ]);
  });

  test.each([
    ['open throws at once', throwingOpen, 'IndexedDB failed (SecurityError)'],
    ['the database has no object store of the store', foreignDatabase, 'IndexedDB failed (NotFoundError)'],
  ])(
    'when %s, pairs are kept in memory, one per id, and that is said once, quoting nothing',
    async (_what, idb, reason) => {
      const { store, events } = storeWith(idb);
      const [a, b] = await Promise.all([store.keyPair('p', () => makePair()), store.keyPair('p', () => makePair())]);
      expect(a).toBe(b);
      await store.keyPair('q', () => makePair());
      expect(events).toEqual([
        { type: 'browser-key-in-memory', code: 'ERR_STORE_KEY_UNAVAILABLE', reason: expect.stringContaining(reason) },
      ]);
      expect(JSON.stringify(events)).not.toMatch(/denied|specified/);
    },
  );
});
