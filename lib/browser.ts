/**
 * A token store for browsers, shared by the tabs of one origin: one token and one token request
 * per rotation for all of them. See {@link BrowserTokenStore} and the guide, docs/browser.md.
 *
 * @module tokenflight/browser
 */
export { BrowserTokenStore } from './stores/browser/store.js';
export { BROWSER_STORE_DEFAULTS } from './stores/browser/types.js';
export type {
  BrowserIndexedDB,
  BrowserLockManager,
  BrowserStorage,
  BrowserStorageEvent,
  BrowserTokenStoreEvent,
  BrowserTokenStoreOptions,
  StorageEventSource,
} from './stores/browser/types.js';
