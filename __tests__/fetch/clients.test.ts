import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals';
import ky from 'ky';
import { ofetch } from 'ofetch';
import createClient from 'openapi-fetch';
import { clientCredentials, createTokenFetch, type TokenFetch } from '../../lib/fetch.js';
import { startFetchApiServer, type FetchApiServer } from '../helpers/fetch-api-server.js';

// auth.fetch handed as is to ky, ofetch and openapi-fetch, against a real loopback server: the
// token attached, a 401 after a revocation turned into one token request and one replay, the
// body intact, the client none the wiser.

jest.setTimeout(30_000);

let api: FetchApiServer;
beforeAll(async () => {
  api = await startFetchApiServer();
});
afterAll(() => api.close());

let auth: TokenFetch;
afterEach(() => auth.close());

function makeAuth(): TokenFetch {
  auth = createTokenFetch({
    providers: clientCredentials({
      tokenUrl: api.tokenUrl,
      clientId: 'c-1',
      clientSecret: 's-1',
      origins: [api.origin],
    }),
  });
  return auth;
}

interface Echo {
  method: string;
  token: string;
  body: string;
  contentType: string | null;
}

/** Runs `post` twice: once on a fresh token, once after the server revoked it. */
async function flow(post: (payload: { n: number; text: string }) => Promise<Echo>): Promise<void> {
  const first = await post({ n: 1, text: 'é' });
  expect(first).toMatchObject({ method: 'POST', token: api.latest(), body: '{"n":1,"text":"é"}' });
  api.revoke();
  const tokensBefore = api.tokenRequests();
  const sendsBefore = api.apiRequests().length;
  const second = await post({ n: 2, text: 'ü' });
  expect(second).toMatchObject({ method: 'POST', token: api.latest(), body: '{"n":2,"text":"ü"}' });
  expect(second.token).not.toBe(first.token);
  expect(api.tokenRequests() - tokensBefore).toBe(1);
  const sends = api.apiRequests().slice(sendsBefore);
  expect(sends).toHaveLength(2);
  expect(sends[1]?.body.equals(sends[0]?.body ?? Buffer.alloc(0))).toBe(true);
  expect(second.contentType).toContain('application/json');
}

describe('fetch-based clients, given auth.fetch', () => {
  test('ky 1.x (fetch option)', async () => {
    const client = ky.create({ prefixUrl: api.origin, fetch: makeAuth().fetch, retry: 0 });
    await flow((payload) => client.post('api/items', { json: payload }).json<Echo>());
  });

  test('ofetch (ofetch.create(defaults, { fetch }))', async () => {
    // ofetch takes its fetch from the second argument (global options), not from the defaults.
    const client = ofetch.create({ baseURL: api.origin, retry: 0 }, { fetch: makeAuth().fetch });
    await flow((payload) => client<Echo>('/api/items', { method: 'POST', body: payload }));
  });

  test('openapi-fetch (createClient({ fetch }))', async () => {
    interface Paths {
      '/api/items': {
        post: {
          requestBody: { content: { 'application/json': { n: number; text: string } } };
          responses: { 200: { content: { 'application/json': Echo } } };
        };
      };
    }
    const client = createClient<Paths>({ baseUrl: api.origin, fetch: makeAuth().fetch });
    await flow(async (payload) => {
      const { data, error } = await client.POST('/api/items', { body: payload });
      expect(error).toBeUndefined();
      return data as Echo;
    });
  });
});
