import { afterEach, describe, expect, test } from '@jest/globals';
import axios, { AxiosError, type AxiosInstance } from 'axios';
import { Readable } from 'node:stream';
import { isTokenflightError } from '../../lib/index.js';
import { simulatedProvider } from '../../lib/testing/index.js';
import { authOf, harness, issueSequentialTokens, type Harness } from '../helpers/index.js';
import { useSimulation } from '../helpers/simulation.js';

// Rule 5 whatever the instance's `validateStatus` says: a 401 to a request that carried a
// tokenflight token is handled (invalidate, one token request, one replay) even when
// `validateStatus` accepts it, and the caller gets what `validateStatus` gives for the final answer.

const ACCEPTING: [string, ((status: number) => boolean) | null][] = [
  ['(s) => s < 500', (status) => status < 500],
  ['() => true', () => true],
  // axios accepts every status when validateStatus is null.
  ['null', null],
];

describe.each(ACCEPTING)('validateStatus %s (axios-mock-adapter)', (_name, validateStatus) => {
  let h: Harness;
  afterEach(() => h.auth.eject());

  function setUp(): Harness {
    h = harness();
    h.api.defaults.validateStatus = validateStatus;
    issueSequentialTokens(h.tokenMock);
    return h;
  }

  test('a 401 for the current token is refreshed and replayed once; the caller gets the replay', async () => {
    setUp();
    const sent: (string | undefined)[] = [];
    h.apiMock.onGet('/me').reply((config) => {
      sent.push(authOf(config));
      return authOf(config) === 'Bearer token-1' ? [401, { message: 'revoked' }] : [200, { me: 'ok' }];
    });
    const response = await h.api.get('/me');
    expect([response.status, response.data]).toEqual([200, { me: 'ok' }]);
    expect(sent).toEqual(['Bearer token-1', 'Bearer token-2']);
    expect(h.tokenCalls()).toBe(2);
    expect(h.events.filter((event) => event.type === 'request-replayed')).toHaveLength(1);
  });

  test('concurrent 401s that validateStatus accepts share one token request, and each is replayed once', async () => {
    setUp();
    await h.auth.token();
    const sent: (string | undefined)[] = [];
    h.apiMock.onGet('/me').reply((config) => {
      sent.push(authOf(config));
      return authOf(config) === 'Bearer token-1' ? [401, {}] : [200, { me: 'ok' }];
    });
    const responses = await Promise.all(Array.from({ length: 10 }, () => h.api.get('/me')));
    expect(responses.map((response) => response.status)).toEqual(Array<number>(10).fill(200));
    expect(h.tokenCalls()).toBe(2);
    expect(sent.filter((value) => value === 'Bearer token-2')).toHaveLength(10);
  });

  test("a validateStatus that throws on the 401 is the caller's error, and the token is left alone", async () => {
    setUp();
    h.api.defaults.validateStatus = (status) => {
      if (status === 401) throw new Error('validateStatus exploded');
      return true;
    };
    h.apiMock.onGet('/me').reply(401, {});
    await expect(h.api.get('/me')).rejects.toThrow('validateStatus exploded');
    expect(h.tokenCalls()).toBe(1);
  });

  test('an API that always answers 401: replayed once, then the 401 is resolved as validateStatus accepts it', async () => {
    setUp();
    const sent: (string | undefined)[] = [];
    h.apiMock.onGet('/me').reply((config) => {
      sent.push(authOf(config));
      return [401, { message: 'no' }];
    });
    const response = await h.api.get('/me');
    expect(response.status).toBe(401);
    expect(sent).toEqual(['Bearer token-1', 'Bearer token-2']);
  });

  test('a 401 whose challenge is not about the token (insufficient_scope) is resolved untouched', async () => {
    setUp();
    h.apiMock.onGet('/me').reply(401, {}, { 'WWW-Authenticate': 'Bearer error="insufficient_scope"' });
    const response = await h.api.get('/me');
    expect(response.status).toBe(401);
    expect(h.tokenCalls()).toBe(1);
  });

  test('with an error-mapping response interceptor, the 401 is still handled below it', async () => {
    setUp();
    const seen: number[] = [];
    h.api.interceptors.response.use((response) => {
      seen.push(response.status);
      if (response.status === 401) throw new Error('mapped: unauthorized');
      return response;
    });
    h.apiMock.onGet('/me').reply((config) => (authOf(config) === 'Bearer token-1' ? [401, {}] : [200, { me: 'ok' }]));
    const response = await h.api.get('/me');
    expect(response.data).toEqual({ me: 'ok' });
    // The interceptor ran once, on the replay's answer.
    expect(seen).toEqual([200]);
  });

  test('a stream body answered 401 is not replayed: ERR_BODY_NOT_REPLAYABLE, and the token is refreshed', async () => {
    setUp();
    h.apiMock.onPost('/upload').reply((config) => (authOf(config) === 'Bearer token-1' ? [401, {}] : [201, {}]));
    const error = await h.api.post('/upload', Readable.from(['chunk'])).catch((e: unknown) => e);
    expect(isTokenflightError(error) && error.code).toBe('ERR_BODY_NOT_REPLAYABLE');
    const cause = (error as { cause?: unknown }).cause;
    expect(cause).toBeInstanceOf(AxiosError);
    expect((cause as AxiosError).response?.status).toBe(401);
    expect(JSON.stringify(cause)).not.toContain('token-1');
    expect((await h.api.post('/upload', 'again')).status).toBe(201);
    expect(h.tokenCalls()).toBe(2);
  });
});

describe('validateStatus that accepts 401, against a real loopback server', () => {
  const env = useSimulation();

  test.each(ACCEPTING)(
    '%s: a revoked token is replaced at the first 401, not sent on every request',
    async (_name, validateStatus) => {
      const api: AxiosInstance = axios.create({ baseURL: env.sim.symbl.url, validateStatus });
      const auth = env.attach(api, { providers: simulatedProvider(env.sim.symbl) });
      const first = await auth.token();
      env.sim.symbl.revoke(first.accessToken);
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await api.get('/api/v1/conversations')).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200]);
      expect(env.sim.symbl.stats.tokenRequests).toBe(2);
      expect((await auth.token()).accessToken).not.toBe(first.accessToken);
    },
  );

  test("a validateStatus that refuses the replay's 401 rejects with the axios error for it", async () => {
    let calls = 0;
    const api = axios.create({
      baseURL: env.sim.symbl.url,
      // Accepts the first 401 only: the replay's 401 is refused, as axios would refuse it.
      validateStatus: (status) => status < 300 || (status === 401 && calls++ === 0),
    });
    const auth = env.attach(api, { providers: simulatedProvider(env.sim.symbl) });
    await auth.token();
    env.sim.symbl.setApiAlwaysUnauthorized(true);
    const error = await api.get('/api/v1/conversations').catch((e: unknown) => e);
    expect(axios.isAxiosError(error) && [error.code, error.response?.status]).toEqual(['ERR_BAD_REQUEST', 401]);
    expect(env.sim.symbl.stats.tokenRequests).toBe(2);
  });
});
