import { sleep } from '../../shared/async.js';
import type { TokenStoreLock } from '../store.js';
import { idbCommitted, idbResult, openIdb, type IdbDatabase } from './idb.js';
import type { BrowserIndexedDB, BrowserStorage } from './types.js';

// Chromium hands a Web Lock to the next tab with no ordering against localStorage: a tab granted
// the lock right after another released it may not have received the writes made under it yet
// (measured: about 30 stale reads in 100 hand-offs; see docs/browser.md). The storage
// lease has the same lag. So each holder
// counts its hand-off twice: in IndexedDB, which every tab reads consistently, and last in
// localStorage, where the count arrives after the writes it follows. The next holder reads the
// count in IndexedDB and waits until its localStorage has caught up with it.

const DB_NAME = 'tokenflight-handoff';
const STORE = 'handoffs';

/** The hand-off counts of one origin, in IndexedDB; opened on first use. */
export function createHandoff(indexedDB: BrowserIndexedDB, storage: BrowserStorage) {
  let opened: Promise<IdbDatabase> | undefined;
  const database = (): Promise<IdbDatabase> => {
    opened ??= idbResult(openIdb(indexedDB, DB_NAME, STORE));
    opened.catch(() => (opened = undefined));
    return opened;
  };
  const counted = (markerKey: string): number => Number(storage.getItem(markerKey) ?? 0) || 0;

  return {
    /** The count the last holder left, once this tab's storage has caught up with it (waiting at most `waitMs`). */
    async catchUp(name: string, markerKey: string, waitMs: number, signal: AbortSignal): Promise<number> {
      const db = await database();
      const count = Number(await idbResult(db.transaction(STORE, 'readonly').objectStore(STORE).get(name))) || 0;
      for (let waited = 0; counted(markerKey) < count && waited < waitMs; waited += 5) await sleep(5, signal);
      return count;
    },
    /** Counts one more hand-off: in localStorage after every write made under the lock, then in IndexedDB. */
    async handOff(name: string, markerKey: string, count: number): Promise<void> {
      const next = Math.max(count, counted(markerKey)) + 1;
      storage.setItem(markerKey, String(next));
      const db = await database();
      const transaction = db.transaction(STORE, 'readwrite');
      transaction.objectStore(STORE).put(next, name);
      await idbCommitted(transaction, () => new Error('IndexedDB did not take the hand-off count'));
    },
  };
}

export type Handoff = ReturnType<typeof createHandoff>;

/** Where a lock's hand-off is counted: its name in IndexedDB, its marker key in the storage. */
export interface HandoffPlace {
  name: string;
  markerKey: string;
  waitMs: number;
  signal: AbortSignal | undefined;
}

/**
 * `lock`, once this tab's storage has caught up with the last holder's writes (at most
 * `waitMs`); releasing it counts one more hand-off first. Best effort: when IndexedDB fails, the
 * lock is held all the same.
 */
export async function withHandoff(
  lock: TokenStoreLock | undefined,
  handoff: Handoff,
  place: HandoffPlace,
): Promise<TokenStoreLock | undefined> {
  if (lock === undefined) return undefined;
  const { name, markerKey } = place;
  const count = await handoff
    .catchUp(name, markerKey, place.waitMs, place.signal ?? new AbortController().signal)
    .catch(() => undefined);
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      await handoff.handOff(name, markerKey, count ?? 0).catch(() => undefined);
      await lock.release();
    },
  };
}
