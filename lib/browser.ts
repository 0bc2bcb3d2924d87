/**
 * A token store for browsers, shared by the tabs of one origin (or kept by one tab, on
 * sessionStorage): one token and one token request per rotation for all of them. See
 * {@link BrowserTokenStore} and the guide, docs/browser.md.
 *
 * @module tokenflight/browser
 */
export { BrowserTokenStore } from './stores/browser/store.js';
export { BROWSER_STORE_DEFAULTS } from './stores/browser/types.js';
export type {
  BrowserChannel,
  BrowserEntryDroppedEvent,
  BrowserIndexedDB,
  BrowserKeyInMemoryEvent,
  BrowserKeyReplacedEvent,
  BrowserLockManager,
  BrowserStorage,
  BrowserStorageEvent,
  BrowserTabDuplicatedEvent,
  BrowserTokenStoreEvent,
  BrowserTokenStoreOptions,
  PageEventSource,
  StorageEventSource,
} from './stores/browser/types.js';
