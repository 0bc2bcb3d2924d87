// In-memory doubles of the browser APIs BrowserTokenStore uses, for the jest unit tests (the
// Chromium suites use the real ones): Web Storage shared by tabs, with the `storage` events a
// browser sends to the other tabs of the origin, one tab's sessionStorage (and the copy a
// duplicated tab starts with), a Web Locks LockManager, and BroadcastChannels.
import type {
  BrowserChannel,
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

/** A page's view of the Web Locks of its origin: closing the page frees the locks it holds. */
export type FakeLockManager = BrowserLockManager & {
  held: () => string[];
  page(): FakeLockManager & { close(): void };
};

/**
 * Exclusive Web Locks: granted in request order, held until the callback's promise settles or the
 * page that holds them closes; `ifAvailable` grants at once or calls back with `null`.
 */
export function createLockManager(): FakeLockManager {
  const queues = new Map<string, Array<() => void>>();
  const held = new Set<string>();
  const grantNext = (name: string): void => {
    const next = queues.get(name)?.shift();
    if (next === undefined) held.delete(name);
    else next();
  };
  const pageOf = (releases: Set<() => void>): FakeLockManager => ({
    held: () => [...held],
    page() {
      const own = new Set<() => void>();
      return Object.assign(pageOf(own), {
        close: () => {
          for (const release of [...own]) release();
        },
      });
    },
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
          let released = false;
          const release = (): void => {
            if (released) return;
            released = true;
            releases.delete(release);
            grantNext(name);
          };
          releases.add(release);
          callback({ name, mode: 'exclusive' }).then(resolve, reject).finally(release);
        };
        const onAbort = (): void => {
          const queue = queues.get(name) ?? [];
          queue.splice(queue.indexOf(grant), 1);
          reject(new DOMException('aborted', 'AbortError'));
        };
        if (!held.has(name)) {
          grant();
        } else if (options.ifAvailable === true) {
          callback(null).then(resolve, reject);
        } else {
          signal?.addEventListener('abort', onAbort, { once: true });
          queues.set(name, [...(queues.get(name) ?? []), grant]);
        }
      });
    },
  });
  return pageOf(new Set());
}

/** One tab's sessionStorage: entries of its own, no events; `copy()` is what a duplicated tab starts with. */
export interface FakeTabStorage {
  readonly storage: BrowserStorage;
  readonly entries: Map<string, string>;
  copy(): FakeTabStorage;
}

export function createTabStorage(entries = new Map<string, string>()): FakeTabStorage {
  return {
    entries,
    storage: {
      get length() {
        return entries.size;
      },
      key: (index) => [...entries.keys()][index] ?? null,
      getItem: (key) => entries.get(key) ?? null,
      setItem: (key, value) => void entries.set(key, value),
      removeItem: (key) => void entries.delete(key),
    },
    copy: () => createTabStorage(new Map(entries)),
  };
}

/**
 * BroadcastChannels of one origin: a message reaches every other open channel of its name on a
 * later turn. A page's channels go quiet when it is frozen (a background tab the browser froze).
 */
export function createChannels(): {
  page(): { open: (name: string) => BrowserChannel; freeze(): void };
} {
  const open = new Set<{ name: string; target: EventTarget; frozen: () => boolean }>();
  return {
    page() {
      let frozen = false;
      return {
        freeze: () => void (frozen = true),
        open(name) {
          const target = new EventTarget();
          const self = { name, target, frozen: () => frozen };
          open.add(self);
          const listeners = new Map<unknown, EventListener>();
          return {
            postMessage(message) {
              for (const other of open) {
                if (other === self || other.name !== name || other.frozen()) continue;
                setTimeout(() => {
                  if (open.has(other) && !other.frozen()) {
                    other.target.dispatchEvent(Object.assign(new Event('message'), { data: message }));
                  }
                }, 0);
              }
            },
            addEventListener(_type, listener) {
              const wrapped: EventListener = (event) => listener(event as unknown as { data: unknown });
              listeners.set(listener, wrapped);
              target.addEventListener('message', wrapped);
            },
            removeEventListener(_type, listener) {
              const wrapped = listeners.get(listener);
              if (wrapped !== undefined) target.removeEventListener('message', wrapped);
            },
            close: () => void open.delete(self),
          };
        },
      };
    },
  };
}
