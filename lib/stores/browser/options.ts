import { invalidOption } from '../../errors.js';
import { checkFunction, describe, expectKnownKeys, expectNumber, expectOptions } from '../../validate.js';
import type { BrowserIndexedDB } from './handoff.js';
import {
  BROWSER_STORE_DEFAULTS,
  type BrowserLockManager,
  type BrowserStorage,
  type BrowserTokenStoreEvent,
  type BrowserTokenStoreOptions,
  type StorageEventSource,
} from './types.js';

const CONTEXT = 'new BrowserTokenStore()';
const OPTION_KEYS = [
  'storage',
  'prefix',
  'locks',
  'storageEvents',
  'sweepIntervalMs',
  'lockPollMs',
  'leaseSettleMs',
  'indexedDB',
  'handoffWaitMs',
  'onEvent',
  'now',
];

/** The options of a store, checked and with their defaults. */
export interface BrowserStoreSettings {
  storage: BrowserStorage;
  prefix: string;
  locks: BrowserLockManager | undefined;
  storageEvents: StorageEventSource | undefined;
  sweepIntervalMs: number;
  lockPollMs: number;
  leaseSettleMs: number;
  indexedDB: BrowserIndexedDB | undefined;
  handoffWaitMs: number;
  onEvent: ((event: BrowserTokenStoreEvent) => void) | undefined;
  now: () => number;
}

const hasMethods = (value: unknown, names: readonly string[]): boolean =>
  typeof value === 'object' &&
  value !== null &&
  names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function');

/** `localStorage`, if this runtime has one that may be used (a sandboxed frame throws on access). */
function defaultStorage(): unknown {
  try {
    return (globalThis as { localStorage?: unknown }).localStorage;
  } catch {
    return undefined;
  }
}

function readStorage(given: unknown): BrowserStorage {
  const storage = given ?? defaultStorage();
  if (!hasMethods(storage, ['getItem', 'setItem', 'removeItem', 'key'])) {
    const where = given === undefined ? ' (there is no usable `localStorage` here: pass `storage`)' : '';
    throw invalidOption(
      `${CONTEXT}: expected \`storage\` to be a Web Storage object such as localStorage or sessionStorage, got ${describe(storage)}${where}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  return storage as BrowserStorage;
}

function readLocks(given: unknown): BrowserLockManager | undefined {
  if (given === false) return undefined;
  const locks = given ?? (globalThis as { navigator?: { locks?: unknown } }).navigator?.locks;
  if (locks === undefined && given === undefined) return undefined;
  if (!hasMethods(locks, ['request'])) {
    throw invalidOption(
      `${CONTEXT}: expected \`locks\` to be a LockManager (navigator.locks) or false, got ${describe(locks)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  return locks as BrowserLockManager;
}

function readIndexedDB(given: unknown): BrowserIndexedDB | undefined {
  if (given === false) return undefined;
  let found: unknown = given;
  try {
    found ??= (globalThis as { indexedDB?: unknown }).indexedDB;
  } catch {
    // A sandboxed frame: no hand-off count.
  }
  if (found === undefined && given === undefined) return undefined;
  if (!hasMethods(found, ['open'])) {
    throw invalidOption(
      `${CONTEXT}: expected \`indexedDB\` to be an IDBFactory (indexedDB) or false, got ${describe(found)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  return found as BrowserIndexedDB;
}

function readStorageEvents(given: unknown): StorageEventSource | undefined {
  if (given === false) return undefined;
  const source = given ?? globalThis;
  const usable = hasMethods(source, ['addEventListener', 'removeEventListener']);
  if (given === undefined) return usable ? (source as StorageEventSource) : undefined;
  if (!usable) {
    throw invalidOption(
      `${CONTEXT}: expected \`storageEvents\` to have addEventListener and removeEventListener (a window), or be false, got ${describe(given)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  return given as StorageEventSource;
}

/** Checks a store's options when it is made; a wrong one throws an `InvalidOptionError` naming it. */
export function readBrowserStoreOptions(options: BrowserTokenStoreOptions): BrowserStoreSettings {
  const given = expectOptions(options, CONTEXT);
  expectKnownKeys(given, OPTION_KEYS, CONTEXT);
  const prefix: unknown = given['prefix'] ?? BROWSER_STORE_DEFAULTS.prefix;
  if (typeof prefix !== 'string') {
    throw invalidOption(
      `${CONTEXT}: expected \`prefix\` to be a string, got ${describe(prefix)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  checkFunction(given['onEvent'], 'onEvent', CONTEXT);
  checkFunction(given['now'], 'now', CONTEXT);
  const number = (key: 'sweepIntervalMs' | 'lockPollMs' | 'leaseSettleMs' | 'handoffWaitMs', min: number): number =>
    expectNumber(given[key], key, CONTEXT, { min }) ?? BROWSER_STORE_DEFAULTS[key];
  return {
    storage: readStorage(given['storage']),
    prefix,
    locks: readLocks(given['locks']),
    storageEvents: readStorageEvents(given['storageEvents']),
    sweepIntervalMs: number('sweepIntervalMs', 0),
    lockPollMs: number('lockPollMs', 1),
    leaseSettleMs: number('leaseSettleMs', 0),
    indexedDB: readIndexedDB(given['indexedDB']),
    handoffWaitMs: number('handoffWaitMs', 0),
    onEvent: options.onEvent,
    now: options.now ?? Date.now,
  };
}
