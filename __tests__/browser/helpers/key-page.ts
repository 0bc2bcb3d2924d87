// The script of the key-pair test pages, bundled by page-server.ts (`bundlePage`) against the
// built dist/: BrowserTokenStore.keyPair in a real page, driven through `window.tokenflightKeys`.
import { BrowserTokenStore, type BrowserIndexedDB, type BrowserTokenStoreEvent } from '../../../lib/browser.js';

/** How a page's store is made: its prefix and storage, and what stands in for IndexedDB. */
export interface KeyStoreConfig {
  prefix: string;
  storage?: 'local' | 'session';
  /** `false`: none; `'failing'`: every open fails; `'hanging'`: no open ever answers. */
  indexedDB?: false | 'failing' | 'hanging';
}

/** What a page learned of the pair `keyPair` gave it. */
export interface KeyFacts {
  /** RFC 7638 thumbprint of the public key (base64url SHA-256 of its canonical JWK). */
  thumbprint: string;
  privateExtractable: boolean;
  /** How `crypto.subtle.exportKey` of the private key ended: `rejected` is the only right answer. */
  exportPrivate: 'rejected' | 'exported';
  /** Whether a signature by the private key verifies with the public key. */
  signs: boolean;
  /** How many times this page's `create` ran. */
  created: number;
}

export interface KeyPageApi {
  /** `keyPair(id)` of the page's store for `config`; its `create` takes at least `createDelayMs`. */
  keyPair(config: KeyStoreConfig, id: string, createDelayMs?: number): Promise<KeyFacts>;
  events(): BrowserTokenStoreEvent[];
  /** Writes `value` under `id` in the key database of `prefix`, as another script could. */
  writeRecord(prefix: string, id: string, value: unknown): Promise<void>;
}

declare global {
  interface Window {
    tokenflightKeys: KeyPageApi;
  }
}

const events: BrowserTokenStoreEvent[] = [];
const stores = new Map<string, BrowserTokenStore>();
let created = 0;

function fakeIndexedDB(kind: 'failing' | 'hanging'): BrowserIndexedDB {
  return {
    open: () => {
      const request: { onerror: (() => void) | null; error: Error } = { onerror: null, error: new Error('quota') };
      if (kind === 'failing') setTimeout(() => request.onerror?.(), 0);
      return request;
    },
  };
}

function storeOf(config: KeyStoreConfig): BrowserTokenStore {
  const name = JSON.stringify(config);
  let store = stores.get(name);
  if (store === undefined) {
    const { indexedDB } = config;
    store = new BrowserTokenStore({
      prefix: config.prefix,
      storage: config.storage === 'session' ? sessionStorage : localStorage,
      ...(indexedDB === undefined ? {} : { indexedDB: indexedDB === false ? false : fakeIndexedDB(indexedDB) }),
      onEvent: (event) => events.push(event),
    });
    stores.set(name, store);
  }
  return store;
}

const base64url = (bytes: ArrayBuffer): string =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

async function thumbprint(publicKey: CryptoKey): Promise<string> {
  const jwk = await crypto.subtle.exportKey('jwk', publicKey);
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonical)));
}

async function makePair(delayMs: number): Promise<CryptoKeyPair> {
  created++;
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  return crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
}

window.tokenflightKeys = {
  async keyPair(config, id, createDelayMs = 0) {
    const pair = (await storeOf(config).keyPair(id, () => makePair(createDelayMs))) as CryptoKeyPair;
    const exportPrivate = await crypto.subtle.exportKey('pkcs8', pair.privateKey).then(
      () => 'exported' as const,
      () => 'rejected' as const,
    );
    const algorithm = { name: 'ECDSA', hash: 'SHA-256' };
    const data = new TextEncoder().encode('proof');
    const signature = await crypto.subtle.sign(algorithm, pair.privateKey, data);
    const signs = await crypto.subtle.verify(algorithm, pair.publicKey, signature, data);
    return {
      thumbprint: await thumbprint(pair.publicKey),
      privateExtractable: pair.privateKey.extractable,
      exportPrivate,
      signs,
      created,
    };
  },
  events: () => events,
  writeRecord: (prefix, id, value) =>
    new Promise((resolve, reject) => {
      const open = indexedDB.open(`tokenflight-keys:${prefix}`, 1);
      open.onupgradeneeded = () => open.result.createObjectStore('keyPairs');
      open.onerror = () => reject(open.error ?? new Error('open failed'));
      open.onsuccess = () => {
        const transaction = open.result.transaction('keyPairs', 'readwrite');
        transaction.objectStore('keyPairs').put(value, id);
        transaction.oncomplete = () => {
          open.result.close();
          resolve();
        };
        transaction.onerror = () => reject(transaction.error ?? new Error('write failed'));
      };
    }),
};
