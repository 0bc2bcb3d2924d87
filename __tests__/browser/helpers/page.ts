// The script of the test pages, bundled by page-server.ts with esbuild for the browser: tokenflight
// from the built dist/ ES modules (page-server.ts points these imports there) and axios's browser
// build. The suites drive it through `window.tokenflightPage` (page.evaluate).
import axios, { isAxiosError, type AxiosInstance } from 'axios';
import {
  attachTokenAuth,
  MemoryTokenStore,
  type TokenAuth,
  type TokenStore,
  type TokenStoreLock,
} from '../../../lib/index.js';
import { BrowserTokenStore, type BrowserTokenStoreOptions } from '../../../lib/browser.js';
import { providerOf, type PageConfig } from './page-provider.js';

export type { PageConfig } from './page-provider.js';

/** What a request ended with: its status, or the code of the error it rejected with. */
export interface Outcome {
  status?: number;
  error?: string;
}

/** What a page knows about where it runs and what its store holds. */
export interface PageFacts {
  isSecureContext: boolean;
  hasSubtle: boolean;
  hasWebLocks: boolean;
  usesWebLocks: boolean | undefined;
  /** localStorage keys of tokenflight's entries. */
  entryKeys: string[];
  /** How the page's requests to the API left: `xmlhttprequest` or `fetch` (Resource Timing). */
  apiInitiators: string[];
}

export interface PageApi {
  start(config: PageConfig): void;
  get(path: string, options?: { tokenAuth?: false }): Promise<Outcome>;
  burst(path: string, count: number): Promise<Outcome[]>;
  token(): Promise<string>;
  events(): Array<{ type: string; reason?: string }>;
  facts(): PageFacts;
  /** Takes the store's lock of `key` and keeps it. */
  holdLock(key: string): Promise<void>;
  /** Writes a token under `key` while holding its lock, then releases the lock. */
  writeAndRelease(key: string, accessToken: string): Promise<void>;
  /** Takes the lock of `key` (waiting for it), reads the token under it, and releases it. */
  readUnderLock(key: string): Promise<string | undefined>;
  /** Whether the lock of `key` was had within `waitMs` (it is released at once). */
  tryLock(key: string, waitMs: number): Promise<boolean>;
  /** What the page's BrowserTokenStore reported (`onEvent`). */
  storeEvents(): Array<{ type: string; code?: string }>;
  /** `auth.resumeSession(refreshToken)`; resolves to the error code it rejected with, if any. */
  resume(refreshToken: string): Promise<string | undefined>;
  /**
   * Plays another script of the origin: writes `count` valid-looking entries (as tokenflight 0.2
   * wrote them, or bound to another key) into each of the store's entries in localStorage,
   * yielding to the page every `every` writes.
   */
  writeForeign(count: number, every: number): Promise<void>;
}

declare global {
  interface Window {
    tokenflightPage: PageApi;
  }
}

let api: AxiosInstance | undefined;
let apiOrigin = '';
let auth: TokenAuth | undefined;
let store: TokenStore | undefined;
let held: TokenStoreLock | undefined;
const LOCK = { ttlMs: 10_000, waitMs: 10_000 };

function lockingStore(): TokenStore & Required<Pick<TokenStore, 'lock'>> {
  if (store?.lock === undefined) throw new Error('start() the page with a store that locks');
  return store as TokenStore & Required<Pick<TokenStore, 'lock'>>;
}
const seen: Array<{ type: string; reason?: string }> = [];
const storeSeen: Array<{ type: string; code?: string }> = [];

function browserStore(config: PageConfig): BrowserTokenStore {
  const options = config.browserStore ?? {};
  const given: BrowserTokenStoreOptions = {
    storage: options.storage === 'session' ? sessionStorage : localStorage,
    onEvent: (event) => storeSeen.push('code' in event ? { type: event.type, code: event.code } : { type: event.type }),
  };
  if (options.locks === false) given.locks = false;
  if (options.handoffWaitMs !== undefined) given.handoffWaitMs = options.handoffWaitMs;
  return new BrowserTokenStore(given);
}

const codeOf = (error: unknown): string => {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.name : 'unknown';
};

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function get(path: string, options: { tokenAuth?: false } = {}): Promise<Outcome> {
  if (api === undefined) throw new Error('start() the page first');
  try {
    const response = await api.get(path, options.tokenAuth === false ? { tokenAuth: false } : {});
    return { status: response.status };
  } catch (error) {
    if (isAxiosError(error) && error.response !== undefined) return { status: error.response.status };
    return { error: codeOf(error) };
  }
}

window.tokenflightPage = {
  start(config) {
    apiOrigin = config.apiOrigin;
    api = axios.create({ baseURL: config.apiOrigin, adapter: config.adapter });
    store = config.store === 'browser' ? browserStore(config) : new MemoryTokenStore();
    auth = attachTokenAuth(api, {
      providers: providerOf(config),
      store,
      tokenClient: axios.create({ adapter: config.adapter }),
      onEvent: (event) =>
        seen.push('reason' in event ? { type: event.type, reason: event.reason } : { type: event.type }),
    });
  },
  get,
  burst: (path, count) => Promise.all(Array.from({ length: count }, () => get(path))),
  async token() {
    if (auth === undefined) throw new Error('start() the page first');
    return (await auth.token()).accessToken;
  },
  events: () => [...seen],
  facts: () => ({
    isSecureContext: window.isSecureContext,
    hasSubtle: (globalThis.crypto as Crypto | undefined)?.subtle !== undefined,
    hasWebLocks: (navigator as { locks?: unknown }).locks !== undefined,
    usesWebLocks: store instanceof BrowserTokenStore ? store.usesWebLocks : undefined,
    entryKeys: Object.keys(localStorage).filter((key) => key.startsWith('tokenflight:token:')),
    apiInitiators: performance
      .getEntriesByType('resource')
      .filter((entry) => entry.name.startsWith(`${apiOrigin}/`))
      .map((entry) => (entry as PerformanceResourceTiming).initiatorType),
  }),
  async holdLock(key) {
    held = await lockingStore().lock(key, LOCK);
  },
  async writeAndRelease(key, accessToken) {
    await lockingStore().set(key, { accessToken, tokenType: 'Bearer', expiresAt: null, obtainedAt: Date.now() });
    await held?.release();
  },
  async readUnderLock(key) {
    const lock = await lockingStore().lock(key, LOCK);
    const found = await lockingStore().get(key);
    await lock?.release();
    return found?.accessToken;
  },
  async tryLock(key, waitMs) {
    const lock = await lockingStore().lock(key, { ...LOCK, waitMs });
    await lock?.release();
    return lock !== undefined;
  },
  storeEvents: () => [...storeSeen],
  async resume(refreshToken) {
    if (auth === undefined) throw new Error('start() the page first');
    return auth.resumeSession(refreshToken).then(
      () => undefined,
      (error: unknown) => codeOf(error),
    );
  },
  async writeForeign(count, every) {
    const names = Object.keys(localStorage).filter((key) => key.startsWith('tokenflight:token:'));
    for (let index = 0; index < count; index++) {
      const forged = {
        accessToken: `forged-${index}`,
        tokenType: 'Bearer',
        expiresAt: Date.now() + 7_200_000,
        obtainedAt: Date.now(),
      };
      const value = index % 2 === 0 ? forged : { format: 'tokenflight/1', key: 'another-tenant', ...forged };
      for (const name of names) localStorage.setItem(name, JSON.stringify(value));
      if (index % every === every - 1) await pause(1);
    }
  },
};
