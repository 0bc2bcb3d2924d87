import { invalidOption } from '../../shared/errors.js';
import { checkFunction, describe, expectKnownKeys, expectNumber, expectOptions } from '../../shared/validate.js';
import type { BrowserIndexedDB } from './types.js';
import {
  BROWSER_STORE_DEFAULTS,
  PREFIX_SEPARATORS,
  type BrowserChannel,
  type BrowserLockManager,
  type BrowserStorage,
  type BrowserTokenStoreEvent,
  type BrowserTokenStoreOptions,
  type PageEventSource,
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
  'sharedBy',
  'broadcastChannel',
  'tabCheckMs',
  'pageEvents',
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
  sharedBy: 'origin' | 'tab';
  broadcastChannel: ((name: string) => BrowserChannel) | undefined;
  tabCheckMs: number;
  pageEvents: PageEventSource | undefined;
  onEvent: ((event: BrowserTokenStoreEvent) => void) | undefined;
  now: () => number;
}

const LISTENS = ['addEventListener', 'removeEventListener'];

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

/**
 * A window-like source of events (`storageEvents`, `pageEvents`): the page's window by default
 * (nothing where there is none), `false` for none.
 */
function readEventSource(given: unknown, option: string, methods: readonly string[]): object | undefined {
  if (given === false) return undefined;
  const source = given ?? globalThis;
  const usable = hasMethods(source, methods);
  if (given === undefined) return usable ? source : undefined;
  if (!usable) {
    throw invalidOption(
      `${CONTEXT}: expected \`${option}\` to have ${methods.join(' and ')} (a window), or be false, got ${describe(given)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  return given as object;
}

/** `globalThis[name]`, or `undefined` where reading it throws (a sandboxed frame). */
function globalValue(name: string): unknown {
  try {
    return (globalThis as Record<string, unknown>)[name];
  } catch {
    return undefined;
  }
}

const PREFIX_RULE = `a string with a letter or digit that ends with a separator (one of ${Array.from(PREFIX_SEPARATORS).join(' ')}), such as 'myapp:'`;

/**
 * The prefix: an empty one would make every key of the origin look like the store's, and one
 * without a separator at its end covers other apps' keys (`myapp` covers `myapplication…`).
 */
function readPrefix(given: unknown): string {
  const prefix = given ?? BROWSER_STORE_DEFAULTS.prefix;
  if (typeof prefix !== 'string') {
    throw invalidOption(
      `${CONTEXT}: expected \`prefix\` to be ${PREFIX_RULE}, got ${describe(prefix)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  const sound =
    /[A-Za-z0-9]/.test(prefix) && PREFIX_SEPARATORS.includes(prefix.slice(-1)) && !/[\s\p{Cc}]/u.test(prefix);
  if (!sound) {
    const got =
      prefix === '' ? 'an empty string' : `${JSON.stringify(prefix.slice(0, 40))}${prefix.length > 40 ? '…' : ''}`;
    throw invalidOption(`${CONTEXT}: expected \`prefix\` to be ${PREFIX_RULE}, got ${got}`, 'ERR_INVALID_ARG_VALUE');
  }
  return prefix;
}

/** Who shares the storage; `sharedBy` may not contradict what the page's own storages are. */
function readSharedBy(given: unknown, storage: BrowserStorage): 'origin' | 'tab' {
  const isSession = storage === globalValue('sessionStorage');
  if (given === undefined) return isSession ? 'tab' : 'origin';
  if (given !== 'origin' && given !== 'tab') {
    throw invalidOption(
      `${CONTEXT}: expected \`sharedBy\` to be 'origin' or 'tab', got ${describe(given)}`,
      typeof given === 'string' ? 'ERR_INVALID_ARG_VALUE' : 'ERR_INVALID_ARG_TYPE',
    );
  }
  const actual = isSession ? 'tab' : storage === globalValue('localStorage') ? 'origin' : given;
  if (given !== actual) {
    const storageName = isSession ? 'sessionStorage' : 'localStorage';
    throw invalidOption(
      `${CONTEXT}: expected \`sharedBy\` to be '${actual}' for ${storageName}, got '${given}'`,
      'ERR_INVALID_ARG_VALUE',
    );
  }
  return given;
}

function readBroadcastChannel(given: unknown): ((name: string) => BrowserChannel) | undefined {
  if (given === false) return undefined;
  if (given === undefined) {
    const Channel = globalValue('BroadcastChannel') as (new (name: string) => BrowserChannel) | undefined;
    return typeof Channel === 'function' ? (name) => new Channel(name) : undefined;
  }
  checkFunction(given, 'broadcastChannel', CONTEXT);
  return given as (name: string) => BrowserChannel;
}

/** Checks a store's options when it is made; a wrong one throws an `InvalidOptionError` naming it. */
export function readBrowserStoreOptions(options: BrowserTokenStoreOptions): BrowserStoreSettings {
  const given = expectOptions(options, CONTEXT);
  expectKnownKeys(given, OPTION_KEYS, CONTEXT);
  const prefix = readPrefix(given['prefix']);
  checkFunction(given['onEvent'], 'onEvent', CONTEXT);
  checkFunction(given['now'], 'now', CONTEXT);
  type NumberOption = 'sweepIntervalMs' | 'lockPollMs' | 'leaseSettleMs' | 'handoffWaitMs' | 'tabCheckMs';
  const number = (key: NumberOption, min: number): number =>
    expectNumber(given[key], key, CONTEXT, { min }) ?? BROWSER_STORE_DEFAULTS[key];
  const storage = readStorage(given['storage']);
  const sharedBy = readSharedBy(given['sharedBy'], storage);
  return {
    storage,
    prefix,
    locks: readLocks(given['locks']),
    storageEvents: readEventSource(given['storageEvents'], 'storageEvents', LISTENS) as StorageEventSource | undefined,
    sweepIntervalMs: number('sweepIntervalMs', 0),
    lockPollMs: number('lockPollMs', 1),
    leaseSettleMs: number('leaseSettleMs', 0),
    indexedDB: readIndexedDB(given['indexedDB']),
    handoffWaitMs: number('handoffWaitMs', 0),
    sharedBy,
    broadcastChannel: sharedBy === 'tab' ? readBroadcastChannel(given['broadcastChannel']) : undefined,
    tabCheckMs: number('tabCheckMs', 0),
    pageEvents: readEventSource(given['pageEvents'], 'pageEvents', LISTENS.slice(0, 1)) as PageEventSource | undefined,
    onEvent: options.onEvent,
    now: options.now ?? Date.now,
  };
}
