// In-memory doubles of the browser APIs BrowserTokenStore uses, for the jest unit tests (the
// Chromium suites use the real ones): Web Storage shared by tabs, with the `storage` events a
// browser sends to the other tabs of the origin, and a Web Locks LockManager.
import type {
  BrowserIndexedDB,
  BrowserLockManager,
  BrowserStorage,
  BrowserStorageEvent,
} from '../../../lib/browser.js';

/** One tab: its view of the shared storage, and its window, where the other tabs' changes arrive. */
export interface FakeTab {
  readonly storage: BrowserStorage;
  readonly window: EventTarget;
}

/** What a browser sends to the other tabs when one of them changes the storage. */
function storageEvent(key: string, storageArea: BrowserStorage): Event & BrowserStorageEvent {
  return Object.assign(new Event('storage'), { key, storageArea });
}

/**
 * One origin's storage, seen by any number of tabs; `entries` is the storage itself. With
 * `propagationMs`, a write reaches the other tabs' views (and fires their `storage` event) that
 * much later, as Chromium delivers them, with no ordering against Web Locks.
 */
export function createOrigin(options: { propagationMs?: number } = {}): {
  entries: Map<string, string>;
  openTab(): FakeTab;
} {
  const entries = new Map<string, string>();
  const tabs: Array<FakeTab & { view: Map<string, string> }> = [];
  return {
    entries,
    openTab() {
      const window = new EventTarget();
      const view = options.propagationMs === undefined ? entries : new Map(entries);
      const changed = (key: string, value: string | null): void => {
        if (view !== entries) {
          if (value === null) entries.delete(key);
          else entries.set(key, value);
        }
        for (const other of tabs) {
          if (other === tab) continue;
          const deliver = (): void => {
            if (other.view !== entries) {
              if (value === null) other.view.delete(key);
              else other.view.set(key, value);
            }
            other.window.dispatchEvent(storageEvent(key, other.storage));
          };
          if (options.propagationMs === undefined) deliver();
          else setTimeout(deliver, options.propagationMs);
        }
      };
      const storage: BrowserStorage = {
        get length() {
          return view.size;
        },
        key: (index) => [...view.keys()][index] ?? null,
        getItem: (key) => view.get(key) ?? null,
        setItem: (key, value) => {
          view.set(key, value);
          changed(key, value);
        },
        removeItem: (key) => {
          if (view.delete(key)) changed(key, null);
        },
      };
      const tab = { storage, window, view };
      tabs.push(tab);
      return tab;
    },
  };
}

type Callback = (() => void) | null;

/** A request of the fake IndexedDB: settles on a later turn, like the real one. */
function idbRequest<T>(result: () => T): { result: T | undefined; onsuccess: Callback; onerror: Callback } {
  const request = { result: undefined as T | undefined, onsuccess: null as Callback, onerror: null as Callback };
  setTimeout(() => {
    request.result = result();
    request.onsuccess?.();
  }, 0);
  return request;
}

/** IndexedDB as the store's hand-off count uses it: one database, consistent for every tab. */
export function createIndexedDB(): BrowserIndexedDB {
  const stores = new Map<string, Map<string, unknown>>();
  const database = {
    objectStoreNames: { contains: (name: string) => stores.has(name) },
    createObjectStore: (name: string) => stores.set(name, new Map()),
    transaction(name: string) {
      const data = stores.get(name) ?? new Map<string, unknown>();
      const transaction = {
        oncomplete: null as Callback,
        onerror: null as Callback,
        onabort: null as Callback,
        objectStore: () => ({
          get: (key: string) => idbRequest(() => data.get(key)),
          put: (value: unknown, key: string) =>
            idbRequest(() => {
              data.set(key, value);
              setTimeout(() => transaction.oncomplete?.(), 0);
              return key;
            }),
        }),
      };
      return transaction;
    },
  };
  return {
    open() {
      const request = {
        result: database,
        onupgradeneeded: null as Callback,
        onsuccess: null as Callback,
        onerror: null as Callback,
      };
      setTimeout(() => {
        if (!stores.has('handoffs')) request.onupgradeneeded?.();
        request.onsuccess?.();
      }, 0);
      return request;
    },
  };
}

/** Exclusive Web Locks: granted in request order, held until the callback's promise settles. */
export function createLockManager(): BrowserLockManager & { held: () => string[] } {
  const queues = new Map<string, Array<() => void>>();
  const held = new Set<string>();
  const grantNext = (name: string): void => {
    const next = queues.get(name)?.shift();
    if (next === undefined) held.delete(name);
    else next();
  };
  return {
    held: () => [...held],
    request(name, options, callback) {
      return new Promise((resolve, reject) => {
        const { signal } = options;
        if (signal?.aborted === true) {
          reject(new DOMException('aborted', 'AbortError'));
          return;
        }
        const grant = (): void => {
          signal?.removeEventListener('abort', onAbort);
          held.add(name);
          callback({ name, mode: 'exclusive' })
            .then(resolve, reject)
            .finally(() => grantNext(name));
        };
        const onAbort = (): void => {
          const queue = queues.get(name) ?? [];
          queue.splice(queue.indexOf(grant), 1);
          reject(new DOMException('aborted', 'AbortError'));
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        if (held.has(name)) {
          queues.set(name, [...(queues.get(name) ?? []), grant]);
        } else {
          grant();
        }
      });
    },
  };
}
