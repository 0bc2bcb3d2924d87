import type { BrowserIndexedDB } from './types.js';

// The few IndexedDB shapes the browser store uses (typed here: the library is built without the
// DOM library), and its request and transaction callbacks as promises. Used by the hand-off counts
// (handoff.ts) and the DPoP key pairs (key-pairs.ts).

export type IdbRequest<T> = { result: T; error: unknown; onsuccess: (() => void) | null; onerror: (() => void) | null };
export type IdbTransaction = {
  objectStore(name: string): {
    get(key: string): IdbRequest<unknown>;
    put(value: unknown, key: string): IdbRequest<unknown>;
  };
  oncomplete: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
};
export type IdbDatabase = {
  transaction(store: string, mode: 'readonly' | 'readwrite'): IdbTransaction;
  createObjectStore(name: string): unknown;
  objectStoreNames: { contains(name: string): boolean };
  close(): void;
};
export type IdbOpenRequest = IdbRequest<IdbDatabase> & {
  onupgradeneeded: (() => void) | null;
  onblocked: (() => void) | null;
};

/** A request's result, or its error. */
export function idbResult<T>(request: IdbRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** Opens (version 1) the database `name`, creating its one object store `store` when new. */
export function openIdb(indexedDB: BrowserIndexedDB, name: string, store: string): IdbOpenRequest {
  const request = indexedDB.open(name, 1) as IdbOpenRequest;
  request.onupgradeneeded = () => {
    if (!request.result.objectStoreNames.contains(store)) request.result.createObjectStore(store);
  };
  return request;
}

/** Resolves once `transaction` has committed; rejects with `failed()` if it fails or aborts. */
export function idbCommitted(transaction: IdbTransaction, failed: () => Error): Promise<void> {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve();
    transaction.onerror = transaction.onabort = () => reject(failed());
  });
}
