// In-memory doubles of the browser APIs BrowserTokenStore uses, for the jest unit tests (the
// Chromium suites use the real ones): Web Storage shared by tabs, with the `storage` events a
// browser sends to the other tabs of the origin, and a Web Locks LockManager.
import type { BrowserLockManager, BrowserStorage, BrowserStorageEvent } from '../../../lib/browser.js';

/** One tab: its view of the shared storage, and its window, where the other tabs' changes arrive. */
export interface FakeTab {
  readonly storage: BrowserStorage;
  readonly window: EventTarget;
}

/** What a browser sends to the other tabs when one of them changes the storage. */
function storageEvent(key: string, storageArea: BrowserStorage): Event & BrowserStorageEvent {
  return Object.assign(new Event('storage'), { key, storageArea });
}

/** One origin's storage, seen by any number of tabs; `entries` is the storage itself. */
export function createOrigin(): { entries: Map<string, string>; openTab(): FakeTab } {
  const entries = new Map<string, string>();
  const tabs: FakeTab[] = [];
  return {
    entries,
    openTab() {
      const window = new EventTarget();
      const changed = (key: string): void => {
        for (const other of tabs) if (other !== tab) other.window.dispatchEvent(storageEvent(key, other.storage));
      };
      const storage: BrowserStorage = {
        get length() {
          return entries.size;
        },
        key: (index) => [...entries.keys()][index] ?? null,
        getItem: (key) => entries.get(key) ?? null,
        setItem: (key, value) => {
          entries.set(key, value);
          changed(key);
        },
        removeItem: (key) => {
          if (entries.delete(key)) changed(key);
        },
      };
      const tab: FakeTab = { storage, window };
      tabs.push(tab);
      return tab;
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
