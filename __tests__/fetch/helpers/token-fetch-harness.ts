import { afterAll, afterEach, beforeAll, jest } from '@jest/globals';
import { clientCredentials, createTokenFetch, type TokenFetch, type TokenFetchOptions } from '../../../lib/fetch.js';
import { startFetchApiServer, type FetchApiServer } from '../../helpers/fetch-api-server.js';

/** Two loopback API servers for a suite, and handles made on the first one's token endpoint. */
export interface TokenFetchHarness {
  /** The API the provider serves (its origin is the provider's only origin). */
  readonly api: FetchApiServer;
  /** An API on another origin, served by no provider. */
  readonly other: FetchApiServer;
  /**
   * A handle whose clientCredentials provider gets tokens from `api` through the global fetch
   * (`tokenFetch`), whatever `fetch` a case gives; closed after each case.
   */
  readonly make: (options?: Partial<TokenFetchOptions>) => TokenFetch;
}

/** Sets up the servers and hooks of a fetch boundary suite; call it once at the top of the file. */
export function tokenFetchHarness(): TokenFetchHarness {
  jest.setTimeout(30_000);
  let servers: [FetchApiServer, FetchApiServer] | undefined;
  let handle: TokenFetch | undefined;
  beforeAll(async () => {
    servers = await Promise.all([startFetchApiServer(), startFetchApiServer()]);
  });
  afterAll(() => Promise.all(servers?.map((server) => server.close()) ?? []));
  afterEach(() => handle?.close());
  const started = (): [FetchApiServer, FetchApiServer] => {
    if (servers === undefined) throw new Error('the harness servers start in beforeAll');
    return servers;
  };
  return {
    get api() {
      return started()[0];
    },
    get other() {
      return started()[1];
    },
    make: (options = {}) => {
      const { tokenUrl, origin } = started()[0];
      handle = createTokenFetch({
        providers: clientCredentials({ tokenUrl, clientId: 'client-1', clientSecret: 'secret-1', origins: [origin] }),
        tokenFetch: globalThis.fetch,
        ...options,
      });
      return handle;
    },
  };
}
