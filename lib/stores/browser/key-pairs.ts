import { withDeadline } from '../../shared/async.js';
import { invalidOption } from '../../shared/errors.js';
import type { StoredKeyPair } from '../store.js';
import { halvesMatch, keyPairProblem, keyPairRecord, readKeyPairRecord } from './key-record.js';
import { idbCommitted, idbResult, openIdb, type IdbDatabase, type IdbRequest } from './idb.js';
import type { BrowserIndexedDB } from './types.js';

// The DPoP key pairs of a BrowserTokenStore (its `keyPair`): one per id, kept in IndexedDB so the
// tabs of the origin prove possession with one key and share one token, and a reload keeps it.
//
// - One database per prefix (`tokenflight-keys:{prefix}`), one record per id, overwritten in place.
// - The first caller of a page reads the record; finding none, it makes a pair and adds it in one
//   readwrite transaction that reads again first: IndexedDB runs readwrite transactions on one
//   object store one at a time, so of tabs racing, the first to commit wins, and the others find
//   its pair in their transaction and use it (theirs is dropped). Later callers of the page get
//   the page's promise.
// - A record that is not a valid pair is replaced by the new one, and reported (never thrown).
// - Where IndexedDB is missing, fails or hangs (private mode, blocked, quota), the page keeps its
//   pairs in memory from then on and says so once. A store of one tab (`sharedBy: 'tab'`) always
//   does: its tabs must not share a key, and a record per tab would outlive the tab.

const STORE = 'keyPairs';
/** An IndexedDB step that takes longer than this counts as failed (the page goes on in memory). */
const STEP_DEADLINE_MS = 2_000;

/** The IndexedDB database that keeps the key pairs of a store with this prefix. */
export const keyDatabaseName = (prefix: string): string => `tokenflight-keys:${prefix}`;

/** What {@link createKeyPairs} works with. */
export interface KeyPairSettings {
  /** Where pairs are kept; `undefined` keeps them in memory (no IndexedDB here, or a tab's store). */
  indexedDB: BrowserIndexedDB | undefined;
  /** Why pairs are in memory when `indexedDB` is `undefined`; `undefined` when that is by design (say nothing). */
  missing: string | undefined;
  prefix: string;
  /** A record under `id` was not a valid pair: it was replaced. */
  onReplaced(id: string, reason: string): void;
  /** From now on this page keeps its pairs in memory (said once). */
  onInMemory(reason: string): void;
}

class StepFailed extends Error {}

/** What went wrong with IndexedDB, in words that quote nothing it holds (a DOMException's name). */
function failure(error: unknown): string {
  if (error instanceof StepFailed) return error.message;
  const name = (error as { name?: unknown } | null)?.name;
  return `IndexedDB failed${typeof name === 'string' && /^[A-Za-z]{1,40}$/.test(name) ? ` (${name})` : ''}`;
}

function settle<T>(request: IdbRequest<T>, what: string): Promise<T> {
  return withDeadline(
    idbResult(request).catch(() => {
      throw new StepFailed(what);
    }),
    STEP_DEADLINE_MS,
    () => new StepFailed(`${what} took too long`),
  );
}

function openDatabase(indexedDB: BrowserIndexedDB, name: string): Promise<IdbDatabase> {
  const request = openIdb(indexedDB, name, STORE);
  const opened = settle(request, 'opening IndexedDB');
  request.onblocked = () => request.onerror?.();
  // A database that opens after its deadline is closed, not leaked.
  opened.catch(() => (request.onsuccess = () => request.result.close()));
  return opened;
}

/** The record under `id`, read in a transaction of its own. */
function readRecord(db: IdbDatabase, id: string): Promise<unknown> {
  return settle(db.transaction(STORE, 'readonly').objectStore(STORE).get(id), 'reading the key pair');
}

/** What {@link addIfAbsent} must not take: the serial of a record already refused. */
interface Refused {
  serial: string | undefined;
  report(reason: string): void;
}

/**
 * In one readwrite transaction: the valid pair under `id` if there is one (and not the record
 * `refused` names), else `candidate`, written there (replacing whatever was). Resolves once the
 * transaction has committed.
 */
function addIfAbsent(db: IdbDatabase, id: string, candidate: StoredKeyPair, refused: Refused) {
  const transaction = db.transaction(STORE, 'readwrite');
  const store = transaction.objectStore(STORE);
  let winner = candidate;
  const request = store.get(id);
  request.onsuccess = () => {
    const found = readKeyPairRecord(request.result, id);
    if (found !== undefined && 'pair' in found && found.serial !== refused.serial) winner = found.pair;
    else {
      if (found !== undefined && 'refused' in found) refused.report(found.refused);
      store.put(keyPairRecord(id, candidate), id);
    }
  };
  const committed = idbCommitted(transaction, () => new StepFailed('IndexedDB did not take the key pair')).then(
    () => winner,
  );
  return withDeadline(committed, STEP_DEADLINE_MS, () => new StepFailed('writing the key pair took too long'));
}

/** `create`'s pair, refused (with an error naming what is wrong) unless it is one to keep. */
async function made(create: () => Promise<StoredKeyPair>): Promise<StoredKeyPair> {
  const pair = await create();
  const problem = keyPairProblem(pair);
  if (problem !== undefined) {
    throw invalidOption(
      `BrowserTokenStore.keyPair(): expected \`create\` to resolve to a CryptoKeyPair with a non-extractable private key, but ${problem}`,
      'ERR_INVALID_ARG_VALUE',
    );
  }
  return pair;
}

/** The key pairs of one store in this page; see the rules above. */
export function createKeyPairs(settings: KeyPairSettings) {
  const held = new Map<string, Promise<StoredKeyPair>>();
  let database: Promise<IdbDatabase> | undefined;
  let inMemory = false;

  const fallBack = (reason: string): void => {
    if (inMemory) return;
    inMemory = true;
    settings.onInMemory(reason);
  };

  async function kept(id: string, create: () => Promise<StoredKeyPair>): Promise<StoredKeyPair> {
    if (settings.indexedDB === undefined) {
      if (settings.missing !== undefined) fallBack(settings.missing);
      return made(create);
    }
    if (inMemory) return made(create);
    let candidate: StoredKeyPair | undefined;
    const step = { createFailed: false };
    try {
      database ??= openDatabase(settings.indexedDB, keyDatabaseName(settings.prefix));
      const db = await database;
      let found = readKeyPairRecord(await readRecord(db, id), id);
      // Only a read outside a transaction can check that the halves belong together (it signs).
      if (found !== undefined && 'pair' in found) {
        if (await halvesMatch(found.pair)) return found.pair;
        found = { refused: 'its keys do not belong together', serial: found.serial };
      }
      let reported = false;
      const refused: Refused = {
        serial: found?.serial,
        report: (reason) => {
          if (!reported) settings.onReplaced(id, reason);
          reported = true;
        },
      };
      if (found !== undefined) refused.report(found.refused);
      candidate = await made(create).catch((error: unknown) => {
        step.createFailed = true;
        throw error;
      });
      return await addIfAbsent(db, id, candidate, refused);
    } catch (error) {
      // `create`'s own failure is the caller's; anything else is IndexedDB's (it may throw at once:
      // a database of this name without the object store, one closed under the page).
      if (step.createFailed) throw error;
      fallBack(`${failure(error)}: key pairs are kept in this page's memory`);
      return candidate ?? made(create);
    }
  }

  return {
    /** The pair under `id`: this page's, IndexedDB's, or a new one; a failed `create` is not remembered. */
    keyPair(id: string, create: () => Promise<StoredKeyPair>): Promise<StoredKeyPair> {
      const known = held.get(id);
      if (known !== undefined) return known;
      const pair = kept(id, create);
      held.set(id, pair);
      pair.catch(() => {
        if (held.get(id) === pair) held.delete(id);
      });
      return pair;
    },
  };
}

export type KeyPairs = ReturnType<typeof createKeyPairs>;
