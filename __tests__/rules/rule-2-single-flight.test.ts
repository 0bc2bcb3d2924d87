import { afterEach, describe, expect, test } from '@jest/globals';
import axios, { CanceledError } from 'axios';
import { attachTokenAuth, MemoryTokenStore, symbl, type TokenAuth } from '../../lib/index.js';
import {
  CREDS,
  SYMBL_TOKEN_URL,
  authOf,
  deferred,
  flush,
  harness,
  mockOf,
  until,
  type Harness,
} from '../helpers/index.js';

describe('rule 2: one token request at a time per provider and credentials', () => {
  let h: Harness;
  const extra: TokenAuth[] = [];
  afterEach(() => {
    h.auth.eject();
    extra.splice(0).forEach((auth) => auth.eject());
  });

  test('200 concurrent requests on a cold cache share one token request', async () => {
    h = harness();
    const token = deferred<[number, unknown]>();
    h.tokenMock.onPost(SYMBL_TOKEN_URL).reply(() => token.promise);
    h.apiMock.onGet('/v1/x').reply((config) => [200, { authorization: authOf(config) }]);

    const requests = Array.from({ length: 200 }, () => h.api.get('/v1/x'));
    await until(() => h.tokenCalls() > 0); // the cache key's digest runs off the event loop
    await flush();
    expect(h.tokenCalls()).toBe(1);
    token.resolve([200, { accessToken: 'shared', expiresIn: 3600 }]);

    const responses = await Promise.all(requests);
    expect(responses.every((r) => r.data.authorization === 'Bearer shared')).toBe(true);
    expect(h.tokenCalls()).toBe(1);
  });

  test('a failed token request is not cached: every waiter gets the failure, the next request asks again', async () => {
    h = harness({ tokenRequest: { retries: 0, cooldownMs: 0 } });
    const first = deferred<[number, unknown]>();
    h.tokenMock.onPost(SYMBL_TOKEN_URL).replyOnce(() => first.promise);
    h.tokenMock.onPost(SYMBL_TOKEN_URL).replyOnce(200, { accessToken: 'second', expiresIn: 3600 });
    h.apiMock.onGet('/v1/x').reply((config) => [200, { authorization: authOf(config) }]);

    const failing = Array.from({ length: 10 }, () => h.api.get('/v1/x'));
    await until(() => h.tokenCalls() > 0);
    first.resolve([500, { message: 'boom' }]);
    const outcomes = await Promise.allSettled(failing);
    expect(
      outcomes.every(
        (o) => o.status === 'rejected' && (o.reason as { code?: string }).code === 'ERR_TOKEN_UNAVAILABLE',
      ),
    ).toBe(true);
    expect(h.tokenCalls()).toBe(1);

    const { data } = await h.api.get('/v1/x');
    expect(data).toEqual({ authorization: 'Bearer second' });
    expect(h.tokenCalls()).toBe(2);
  });

  test('two instances sharing one store share one token request', async () => {
    h = harness();
    const store = new MemoryTokenStore();
    h.auth.eject();
    const tokenClient = axios.create();
    const tokenMock = mockOf(tokenClient);
    const token = deferred<[number, unknown]>();
    tokenMock.onPost(SYMBL_TOKEN_URL).reply(() => token.promise);
    const instances = [
      axios.create({ baseURL: 'https://api.symbl.ai' }),
      axios.create({ baseURL: 'https://api.symbl.ai' }),
    ];
    for (const api of instances) {
      extra.push(attachTokenAuth(api, { providers: symbl(CREDS), store, tokenClient }));
      mockOf(api)
        .onGet('/x')
        .reply((config) => [200, authOf(config)]);
    }
    const requests = instances.flatMap((api) => Array.from({ length: 50 }, () => api.get('/x')));
    await flush(20);
    token.resolve([200, { accessToken: 'one-for-both', expiresIn: 3600 }]);
    const responses = await Promise.all(requests);
    expect(new Set(responses.map((r) => r.data))).toEqual(new Set(['Bearer one-for-both']));
    expect(tokenMock.history).toHaveLength(1);
  });

  test('two instances with their own stores do not share tokens', async () => {
    h = harness();
    issueTwo(h);
    const other = harness({ tokenClient: h.tokenClient });
    extra.push(other.auth);
    other.apiMock.onGet('/x').reply((config) => [200, authOf(config)]);
    h.apiMock.onGet('/x').reply((config) => [200, authOf(config)]);
    const [a, b] = await Promise.all([h.api.get('/x'), other.api.get('/x')]);
    expect(a.data).not.toBe(b.data);
    expect(h.tokenMock.history).toHaveLength(2);
  });

  test('different credentials of one provider never share a token or a flight', async () => {
    const store = new MemoryTokenStore();
    h = harness({ store });
    const other = harness({
      store,
      providers: symbl({ appId: 'tenant-b', appSecret: 'secret-b-123456' }),
      tokenClient: h.tokenClient,
    });
    extra.push(other.auth);
    h.tokenMock.onPost(SYMBL_TOKEN_URL).reply((config) => {
      const { appId } = JSON.parse(String(config.data)) as { appId: string };
      return [200, { accessToken: `token-for-${appId}`, expiresIn: 3600 }];
    });
    h.apiMock.onGet('/x').reply((config) => [200, authOf(config)]);
    other.apiMock.onGet('/x').reply((config) => [200, authOf(config)]);
    const [a, b] = await Promise.all([h.api.get('/x'), other.api.get('/x')]);
    expect(a.data).toBe(`Bearer token-for-${CREDS.appId}`);
    expect(b.data).toBe('Bearer token-for-tenant-b');
    expect(h.tokenMock.history).toHaveLength(2);
  });

  test('a caller’s abort ends only that caller’s wait, never the shared token request', async () => {
    h = harness();
    const token = deferred<[number, unknown]>();
    h.tokenMock.onPost(SYMBL_TOKEN_URL).reply(() => token.promise);
    h.apiMock.onGet('/x').reply((config) => [200, authOf(config)]);
    const controller = new AbortController();
    const aborted = h.api.get('/x', { signal: controller.signal });
    const patient = h.api.get('/x');
    await flush();
    controller.abort();
    const error = await aborted.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CanceledError);
    expect(axios.isCancel(error)).toBe(true);

    token.resolve([200, { accessToken: 'still-fetched', expiresIn: 3600 }]);
    expect((await patient).data).toBe('Bearer still-fetched');
    expect(h.tokenCalls()).toBe(1);
    expect(h.apiMock.history).toHaveLength(1);
  });

  test('a caller’s timeout ends only that caller’s wait, with axios’s timeout error', async () => {
    h = harness();
    const token = deferred<[number, unknown]>();
    h.tokenMock.onPost(SYMBL_TOKEN_URL).reply(() => token.promise);
    h.apiMock.onGet('/x').reply((config) => [200, authOf(config)]);
    const hasty = h.api.get('/x', { timeout: 20 });
    const patient = h.api.get('/x');
    const error = await hasty.catch((e: unknown) => e);
    expect(axios.isAxiosError(error) && error.code).toBe('ECONNABORTED');
    expect((error as Error).message).toContain('timeout of 20ms exceeded while waiting for a token');
    token.resolve([200, { accessToken: 'late', expiresIn: 3600 }]);
    expect((await patient).data).toBe('Bearer late');
    expect(h.tokenCalls()).toBe(1);
  });

  test('an already-aborted request fails at once and starts no token request', async () => {
    h = harness();
    h.tokenMock.onPost(SYMBL_TOKEN_URL).reply(200, { accessToken: 't', expiresIn: 3600 });
    const controller = new AbortController();
    controller.abort();
    await expect(h.api.get('/x', { signal: controller.signal })).rejects.toBeInstanceOf(CanceledError);
    expect(h.tokenCalls()).toBe(0);
  });
});

function issueTwo(h: Harness): void {
  let n = 0;
  h.tokenMock.onPost(SYMBL_TOKEN_URL).reply(() => [200, { accessToken: `token-${++n}`, expiresIn: 3600 }]);
}
