import { afterEach, describe, expect, test } from '@jest/globals';
import axios from 'axios';
import { isTokenRequestError, marsview, MemoryTokenStore, singleView, type TokenStore } from '../../lib/index.js';
import {
  SYMBL_TOKEN_URL,
  authOf,
  deferred,
  until,
  harness,
  issueSequentialTokens,
  type Harness,
} from '../helpers/index.js';

const unauthorized = (challenge?: string): [number, unknown, Record<string, string>] => [
  401,
  { message: 'invalid token' },
  challenge === undefined ? {} : { 'WWW-Authenticate': challenge },
];

describe('rule 5: a 401 makes one token request and one replay', () => {
  let h: Harness;
  afterEach(() => h.auth.eject());

  test('a 401 for the current token: one token request, the request replayed once with the new token', async () => {
    h = harness();
    issueSequentialTokens(h.tokenMock);
    const sent: (string | undefined)[] = [];
    h.apiMock.onPost('/jobs').reply((config) => {
      sent.push(authOf(config));
      return authOf(config) === 'Bearer token-1'
        ? unauthorized('Bearer error="invalid_token"')
        : [201, { body: config.data }];
    });
    const response = await h.api.post('/jobs', { name: 'job' });
    expect(response.status).toBe(201);
    expect(response.data).toEqual({ body: '{"name":"job"}' });
    expect(sent).toEqual(['Bearer token-1', 'Bearer token-2']);
    expect(h.tokenCalls()).toBe(2);
    expect(h.events.filter((e) => e.type === 'request-replayed')).toMatchObject([{ method: 'POST', stale: false }]);
  });

  test('concurrent 401s for one revoked token share one token request and each is replayed once', async () => {
    h = harness();
    issueSequentialTokens(h.tokenMock);
    h.apiMock
      .onPost('/x')
      .reply((config) =>
        authOf(config) === 'Bearer token-1' ? unauthorized() : [200, { body: JSON.parse(String(config.data)) }],
      );
    await h.auth.token();
    const responses = await Promise.all(Array.from({ length: 100 }, (_, i) => h.api.post('/x', { i })));
    expect(responses.map((r) => r.data.body.i)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(h.tokenCalls()).toBe(2);
    expect(h.apiMock.history).toHaveLength(200);
  });

  test('a straggler 401 for a token already replaced is replayed with the current token, with no token request', async () => {
    h = harness();
    issueSequentialTokens(h.tokenMock);
    const slow = deferred<[number, unknown, Record<string, string>]>();
    h.apiMock.onGet('/fast').reply((config) => (authOf(config) === 'Bearer token-1' ? unauthorized() : [200, 'fast']));
    h.apiMock.onGet('/slow').reply((config) => (authOf(config) === 'Bearer token-1' ? slow.promise : [200, 'slow']));
    await h.auth.token();
    const slowRequest = h.api.get('/slow'); // sent with token-1, answered late
    await until(() => h.apiMock.history.length > 0);
    expect((await h.api.get('/fast')).data).toBe('fast'); // 401 → token-2 → replayed
    expect(h.tokenCalls()).toBe(2);
    slow.resolve(unauthorized());
    expect((await slowRequest).data).toBe('slow');
    expect(h.tokenCalls()).toBe(2);
    expect(h.events.filter((e) => e.type === 'request-replayed').map((e) => (e as { stale: boolean }).stale)).toEqual([
      false,
      true,
    ]);
  });

  test('a rejected token is never taken up again, even when the store could not delete it and keeps it as the newer one', async () => {
    const memory = new MemoryTokenStore();
    const store: TokenStore = {
      get: (key) => memory.get(key),
      set: (key, token) => memory.set(key, token),
      delete: () => Promise.reject(new Error('store unavailable')),
    };
    h = harness({ store });
    h.tokenMock.onPost(SYMBL_TOKEN_URL).replyOnce(200, { accessToken: 'long-lived', expiresIn: 3600 });
    h.tokenMock.onPost(SYMBL_TOKEN_URL).replyOnce(200, { accessToken: 'short-lived', expiresIn: 60 });
    const sent: (string | undefined)[] = [];
    h.apiMock.onGet('/x').reply((config) => {
      sent.push(authOf(config));
      return authOf(config) === 'Bearer long-lived' ? unauthorized() : [200, authOf(config)];
    });
    await h.auth.token();
    await expect(h.api.get('/x')).resolves.toMatchObject({ data: 'Bearer short-lived' });
    await expect(h.api.get('/x')).resolves.toMatchObject({ data: 'Bearer short-lived' });
    expect(sent).toEqual(['Bearer long-lived', 'Bearer short-lived', 'Bearer short-lived']);
    expect(h.tokenCalls()).toBe(2);
    expect(h.events.filter((e) => e.type === 'store-failed')).toMatchObject([{ operation: 'delete' }]);
  });

  test('an API that always answers 401: each request is replayed once, then the caller gets the original axios error', async () => {
    h = harness();
    issueSequentialTokens(h.tokenMock);
    h.apiMock.onGet('/x').reply(() => unauthorized());
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => h.api.get('/x')));
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      const reason = (outcome as PromiseRejectedResult).reason as unknown;
      expect(axios.isAxiosError(reason) && reason.response?.status).toBe(401);
    }
    expect(h.apiMock.history).toHaveLength(20);
    expect(h.tokenCalls()).toBe(2);
  });

  test('a 401 from the token endpoint is never "refreshed": it is a credentials error and the API is not called', async () => {
    h = harness(
      { providers: marsview({ userId: 'u', apiKey: 'k-1234', apiSecret: 's-1234' }) },
      'https://api.marsview.ai',
    );
    h.tokenMock
      .onPost('https://api.marsview.ai/cb/v1/auth/create_access_token')
      .reply(401, { status: false, error: 'NJSCFE001', message: 'Invalid credentials' });
    const error = await h.api.get('/x').catch((e: unknown) => e);
    expect(isTokenRequestError(error)).toBe(true);
    expect(error).toMatchObject({
      code: 'ERR_TOKEN_CREDENTIALS',
      status: 401,
      providerCode: 'NJSCFE001',
      provider: 'marsview',
      attempts: 1,
    });
    expect(h.tokenCalls()).toBe(1);
    expect(h.apiMock.history).toHaveLength(0);
  });

  test('when the refresh after a 401 fails, the caller gets the TokenRequestError', async () => {
    h = harness({ tokenRequest: { retries: 0 } });
    h.tokenMock.onPost(SYMBL_TOKEN_URL).replyOnce(200, { accessToken: 'token-1', expiresIn: 3600 });
    h.tokenMock.onPost(SYMBL_TOKEN_URL).replyOnce(400, { message: 'app disabled' });
    h.apiMock.onGet('/x').reply(() => unauthorized());
    const error = await h.api.get('/x').catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'TokenRequestError', code: 'ERR_TOKEN_CREDENTIALS' });
  });
});

describe('rule 5: which 401s mean "token rejected" (challenge-aware)', () => {
  let h: Harness;
  afterEach(() => h.auth.eject());

  test.each([
    ['no WWW-Authenticate header', undefined],
    [
      'a Bearer challenge with error="invalid_token"',
      'Bearer realm="api", error="invalid_token", error_description="expired"',
    ],
    ['a Bearer challenge without an error', 'Bearer realm="api"'],
  ])('a 401 with %s refreshes and replays', async (_what, challenge) => {
    h = harness();
    issueSequentialTokens(h.tokenMock);
    h.apiMock
      .onGet('/x')
      .reply((config) => (authOf(config) === 'Bearer token-1' ? unauthorized(challenge) : [200, 'ok']));
    await expect(h.api.get('/x')).resolves.toMatchObject({ data: 'ok' });
    expect(h.tokenCalls()).toBe(2);
  });

  test.each([
    ['a Bearer challenge with error="insufficient_scope"', 401, 'Bearer error="insufficient_scope", scope="admin"'],
    ['a Bearer challenge with error="invalid_request"', 401, 'Bearer error="invalid_request"'],
    ['only another scheme’s challenge', 401, 'Basic realm="api"'],
    ['status 403', 403, undefined],
  ])('a response with %s reaches the caller untouched, with no token request', async (_what, status, challenge) => {
    h = harness();
    issueSequentialTokens(h.tokenMock);
    h.apiMock
      .onGet('/x')
      .reply(status, { message: 'no' }, challenge === undefined ? {} : { 'WWW-Authenticate': challenge });
    const error = await h.api.get('/x').catch((e: unknown) => e);
    expect(axios.isAxiosError(error) && error.response?.status).toBe(status);
    expect(h.tokenCalls()).toBe(1);
    expect(h.apiMock.history).toHaveLength(1);
  });

  test('a 401 for a request sent without a tokenflight token is not replayed', async () => {
    h = harness();
    issueSequentialTokens(h.tokenMock);
    h.apiMock.onGet('/x').reply(() => unauthorized());
    const error = await h.api.get('/x', { tokenAuth: false }).catch((e: unknown) => e);
    expect(axios.isAxiosError(error) && error.response?.status).toBe(401);
    expect(h.tokenCalls()).toBe(0);
    expect(h.apiMock.history).toHaveLength(1);
  });

  test('unauthorizedStatuses adds statuses, still subject to the challenge', async () => {
    h = harness({ unauthorizedStatuses: [401, 403] });
    issueSequentialTokens(h.tokenMock);
    h.apiMock.onGet('/plain-403').reply((config) => (authOf(config) === 'Bearer token-1' ? [403, ''] : [200, 'ok']));
    h.apiMock.onGet('/scope-403').reply(403, '', { 'WWW-Authenticate': 'Bearer error="insufficient_scope"' });
    await expect(h.api.get('/plain-403')).resolves.toMatchObject({ data: 'ok' });
    await expect(h.api.get('/scope-403')).rejects.toMatchObject({ response: { status: 403 } });
    expect(h.tokenCalls()).toBe(2);
  });

  test('isTokenRejected decides instead, e.g. from a vendor error code in the body', async () => {
    const sv = { clientId: 'c', clientCode: 'code-123456', merchantId: 'm', baseURL: 'https://sv.example.com' };
    h = harness(
      {
        providers: singleView(sv),
        isTokenRejected: ({ data }) => (data as { errorCode?: string } | undefined)?.errorCode === 'MW-401',
      },
      sv.baseURL,
    );
    let issued = 0;
    h.tokenMock
      .onPost('https://sv.example.com/v1/api/observice/token')
      .reply(() => [200, { success: true, payload: { access_token: `sv-${++issued}`, expires_in: 3600 } }]);
    h.apiMock
      .onGet('/expired')
      .reply((config) =>
        authOf(config) === 'Bearer sv-1'
          ? [401, { errorCode: 'MW-401' }, { 'WWW-Authenticate': 'Basic' }]
          : [200, 'ok'],
      );
    h.apiMock.onGet('/other').reply(401, { errorCode: 'MW-999' });
    await expect(h.api.get('/expired')).resolves.toMatchObject({ data: 'ok' });
    await expect(h.api.get('/other')).rejects.toMatchObject({ response: { status: 401 } });
    expect(issued).toBe(2);
  });
});
