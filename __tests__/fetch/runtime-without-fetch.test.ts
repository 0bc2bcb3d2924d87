import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { clientCredentials, createTokenFetch, type TokenFetch } from '../../lib/fetch.js';
import { startFetchApiServer, type FetchApiServer } from '../helpers/fetch-api-server.js';

// A runtime with no global fetch (an old Node, an embedded engine): createTokenFetch says at once
// which option to pass, and with `fetch` given, API and token requests both go through it.

jest.setTimeout(30_000);

const realFetch = globalThis.fetch;
let api: FetchApiServer;
let auth: TokenFetch | undefined;
beforeAll(async () => {
  api = await startFetchApiServer();
});
afterAll(() => api.close());
afterEach(() => {
  globalThis.fetch = realFetch;
  auth?.close();
});

const providers = () =>
  clientCredentials({ tokenUrl: api.tokenUrl, clientId: 'client-1', clientSecret: 'secret-1', origins: [api.origin] });

function withoutGlobalFetch(): void {
  Reflect.deleteProperty(globalThis, 'fetch');
  expect(typeof globalThis.fetch).toBe('undefined');
}

describe('createTokenFetch where there is no global fetch', () => {
  test('without the fetch option: a TypeError at construction, code ERR_INVALID_ARG_VALUE, naming `fetch`', () => {
    withoutGlobalFetch();
    let thrown: unknown;
    try {
      createTokenFetch({ providers: providers() });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect(thrown).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect((thrown as Error).message).toMatch(/no global `fetch`; pass the `fetch` option/);
  });

  test('with the fetch option: the token request and the API request both go through it', async () => {
    const urls: string[] = [];
    const given = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      urls.push(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      return realFetch(input, init);
    };
    withoutGlobalFetch();
    auth = createTokenFetch({ providers: providers(), fetch: given });
    const answer = await auth.fetch(`${api.origin}/api/items`);
    expect(await answer.json()).toMatchObject({ token: api.latest(), path: '/api/items' });
    expect(urls).toEqual([api.tokenUrl, `${api.origin}/api/items`]);
  });
});
