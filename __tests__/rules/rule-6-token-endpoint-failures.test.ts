import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals';
import axios from 'axios';
import { DEFAULTS, isTokenRequestError, marsview, singleView } from '../../lib/index.js';
import { simulatedProvider } from '../../lib/testing/index.js';
import { useSimulation } from '../helpers/simulation.js';
import { SYMBL_TOKEN_URL, authOf, settleWithFakeTimers, useFakeClock } from '../helpers/index.js';
import { MOCKED_TRANSPORTS, type MockedHarness } from '../helpers/mocked-transports.js';

const NOW = Date.UTC(2026, 0, 1);

// The first two groups are transport-neutral: the same cases over attachTokenAuth (axios, token
// requests through its tokenClient) and createTokenFetch (fetch, token requests through tokenFetch).
describe.each(MOCKED_TRANSPORTS)('rule 6: what is retried, and how, over %s', (_name, harness) => {
  let h: MockedHarness;
  let attempts: number[];
  beforeEach(() => {
    useFakeClock(NOW);
    attempts = [];
  });
  afterEach(() => {
    h.auth.eject();
    jest.useRealTimers();
  });

  function replies(...answers: ([number, unknown?, Record<string, string>?] | 'network')[]): void {
    let call = 0;
    h.tokenMock.onPost(SYMBL_TOKEN_URL).reply((config) => {
      attempts.push(Date.now() - NOW);
      const answer = answers[Math.min(call++, answers.length - 1)]!;
      if (answer === 'network') {
        const error = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET', isAxiosError: true, config });
        return Promise.reject(error);
      }
      return answer as [number, unknown, Record<string, string>];
    });
    h.apiMock.onGet('/x').reply((config) => [200, authOf(config)]);
  }

  const gaps = (): number[] => attempts.slice(1).map((at, i) => at - attempts[i]!);

  test('5xx is retried with exponential backoff and jitter, then fails after retries + 1 attempts', async () => {
    h = harness();
    replies([503, { message: 'unavailable' }]);
    const outcome = await settleWithFakeTimers(h.api.get('/x'));
    expect(outcome.status).toBe('rejected');
    const error = (outcome as PromiseRejectedResult).reason as unknown;
    expect(error).toMatchObject({
      code: 'ERR_TOKEN_UNAVAILABLE',
      status: 503,
      attempts: DEFAULTS.tokenRequest.retries + 1,
    });
    expect(attempts).toHaveLength(DEFAULTS.tokenRequest.retries + 1);
    const { minDelayMs } = DEFAULTS.tokenRequest;
    gaps().forEach((gap, i) => {
      const ceiling = minDelayMs * 2 ** i;
      expect(gap).toBeGreaterThanOrEqual(ceiling / 2);
      expect(gap).toBeLessThanOrEqual(ceiling + 10);
    });
    // Bounded: at least 3 retries, all within about 10 s.
    expect(attempts.at(-1)).toBeLessThan(10_000);
    expect(h.apiMock.history).toHaveLength(0);
  });

  test('network errors and 408 are retried, and a later success is used', async () => {
    h = harness();
    replies('network', [408, ''], [200, { accessToken: 'third-time', expiresIn: 3600 }]);
    const outcome = await settleWithFakeTimers(h.api.get('/x'));
    expect(outcome).toMatchObject({ status: 'fulfilled', value: { data: 'Bearer third-time' } });
    expect(attempts).toHaveLength(3);
    expect(h.events.filter((e) => e.type === 'token-retry').map((e) => (e as { code: string }).code)).toEqual([
      'ERR_TOKEN_UNAVAILABLE',
      'ERR_TOKEN_UNAVAILABLE',
    ]);
    expect(h.events.find((e) => e.type === 'token-fetched')).toMatchObject({ attempts: 3 });
  });

  test('429 with Retry-After in seconds waits that long before the next attempt', async () => {
    h = harness();
    replies(
      [429, { message: 'maximum number of concurrent jobs' }, { 'Retry-After': '2' }],
      [200, { accessToken: 'ok', expiresIn: 60 }],
    );
    await settleWithFakeTimers(h.api.get('/x'));
    expect(gaps()[0]).toBeGreaterThanOrEqual(2_000);
    expect(gaps()[0]).toBeLessThan(2_100);
  });

  test('Retry-After as an HTTP date is honoured too', async () => {
    h = harness();
    replies(
      [503, '', { 'Retry-After': new Date(NOW + 3_000).toUTCString() }],
      [200, { accessToken: 'ok', expiresIn: 60 }],
    );
    await settleWithFakeTimers(h.api.get('/x'));
    // Not before the date it named, and not much after.
    expect(attempts[1]).toBeGreaterThanOrEqual(3_000);
    expect(attempts[1]).toBeLessThan(3_100);
  });

  test('a huge Retry-After is capped at maxRetryAfterMs', async () => {
    h = harness({ tokenRequest: { maxRetryAfterMs: 1_500 } });
    replies([429, '', { 'Retry-After': '86400' }], [200, { accessToken: 'ok', expiresIn: 60 }]);
    await settleWithFakeTimers(h.api.get('/x'));
    expect(gaps()[0]).toBeGreaterThanOrEqual(1_500);
    expect(gaps()[0]).toBeLessThan(1_600);
  });

  test('an attempt ends at timeoutMs even when the transport ignores its timeout and signal', async () => {
    h = harness({ tokenRequest: { timeoutMs: 1_000, retries: 2 } });
    h.tokenMock.onPost(SYMBL_TOKEN_URL).reply(() => {
      attempts.push(Date.now() - NOW);
      return new Promise(() => undefined); // a custom adapter that never answers
    });
    const outcome = await settleWithFakeTimers(h.api.get('/x'));
    expect(outcome).toMatchObject({ status: 'rejected', reason: { code: 'ERR_TOKEN_TIMEOUT', attempts: 3 } });
    expect(attempts).toHaveLength(3);
    expect(gaps().every((gap) => gap >= 1_000)).toBe(true);
  });

  test('429 on every attempt fails with ERR_TOKEN_RATE_LIMITED and the vendor’s message; a second such failure cools down', async () => {
    h = harness({ tokenRequest: { retries: 1, minDelayMs: 1 } });
    replies([429, { message: 'maximum number of concurrent jobs' }]);
    const outcome = await settleWithFakeTimers(h.api.get('/x'));
    const error = (outcome as PromiseRejectedResult).reason as Error;
    expect(error).toMatchObject({ code: 'ERR_TOKEN_RATE_LIMITED', status: 429, attempts: 2 });
    expect(error.message).toContain('maximum number of concurrent jobs');
    // One failure is not remembered: the next request asks again; after the second, the cool-down.
    const again = await settleWithFakeTimers(h.api.get('/x'));
    expect(again).toMatchObject({ status: 'rejected', reason: { code: 'ERR_TOKEN_RATE_LIMITED', attempts: 2 } });
    await expect(h.api.get('/x')).rejects.toMatchObject({ code: 'ERR_TOKEN_RATE_LIMITED', attempts: 0 });
    expect(attempts).toHaveLength(4);
  });
});

describe.each(MOCKED_TRANSPORTS)('rule 6: what is not retried, and never cached, over %s', (_name, harness) => {
  let h: MockedHarness;
  afterEach(() => h.auth.eject());

  test.each([
    [400, 'ERR_TOKEN_CREDENTIALS'],
    [401, 'ERR_TOKEN_CREDENTIALS'],
    [403, 'ERR_TOKEN_CREDENTIALS'],
    [404, 'ERR_TOKEN_HTTP_STATUS'],
    [307, 'ERR_TOKEN_REDIRECT'],
  ])('HTTP %d from the token endpoint fails at once with %s', async (status, code) => {
    h = harness({ tokenRequest: { cooldownMs: 0 } });
    h.tokenMock
      .onPost(SYMBL_TOKEN_URL)
      .replyOnce(status, { message: 'no' }, status === 307 ? { Location: 'https://evil.example/' } : {});
    h.tokenMock.onPost(SYMBL_TOKEN_URL).replyOnce(200, { accessToken: 'later', expiresIn: 60 });
    h.apiMock.onGet('/x').reply((config) => [200, authOf(config)]);
    await expect(h.api.get('/x')).rejects.toMatchObject({ name: 'TokenRequestError', code, status, attempts: 1 });
    expect(h.tokenCalls()).toBe(1);
    // Nothing was cached: the next request asks again.
    await expect(h.api.get('/x')).resolves.toMatchObject({ data: 'Bearer later' });
  });

  test.each<[string, unknown, string]>([
    ['a body that is not JSON', '<html>oops</html>', 'ERR_TOKEN_MALFORMED'],
    [
      'SingleView’s sample with a literal 0000 (not JSON)',
      '{"success":true,"payload":{"access_token":"x","expires_in": 0000}}',
      'ERR_TOKEN_MALFORMED',
    ],
    ['a JSON array', '[]', 'ERR_TOKEN_MALFORMED'],
    ['a JSON number', '42', 'ERR_TOKEN_MALFORMED'],
    ['no token', { expiresIn: 3600 }, 'ERR_TOKEN_MALFORMED'],
    ['an empty token', { accessToken: '', expiresIn: 3600 }, 'ERR_TOKEN_MALFORMED'],
    ['a non-string token', { accessToken: 12345, expiresIn: 3600 }, 'ERR_TOKEN_MALFORMED'],
    ['a token that would inject a header', { accessToken: 'abc\r\nX-Evil: 1', expiresIn: 3600 }, 'ERR_TOKEN_MALFORMED'],
    ['a token with spaces', { accessToken: 'abc def', expiresIn: 3600 }, 'ERR_TOKEN_MALFORMED'],
    ['a lifetime that is not a number', { accessToken: 'abc', expiresIn: 'soon' }, 'ERR_TOKEN_MALFORMED'],
    ['a negative lifetime', { accessToken: 'abc', expiresIn: -5 }, 'ERR_TOKEN_MALFORMED'],
    ['success: false', { success: false, accessToken: 'abc' }, 'ERR_TOKEN_CREDENTIALS'],
    ['status: false', { status: false, accessToken: 'abc' }, 'ERR_TOKEN_CREDENTIALS'],
    ['an OAuth error', { error: 'invalid_client', accessToken: 'abc' }, 'ERR_TOKEN_CREDENTIALS'],
  ])('a 200 with %s is a typed error: one request, nothing cached', async (_what, body, code) => {
    h = harness({ tokenRequest: { cooldownMs: 0 } });
    h.tokenMock.onPost(SYMBL_TOKEN_URL).replyOnce(200, body);
    h.tokenMock.onPost(SYMBL_TOKEN_URL).replyOnce(200, { accessToken: 'good', expiresIn: 60 });
    h.apiMock.onGet('/x').reply((config) => [200, authOf(config)]);
    await expect(h.api.get('/x')).rejects.toMatchObject({ code, attempts: 1 });
    expect(h.tokenCalls()).toBe(1);
    await expect(h.api.get('/x')).resolves.toMatchObject({ data: 'Bearer good' });
  });

  test('Marsview’s 200 with status:false and SingleView’s success:false carry the vendor code', async () => {
    h = harness(
      { providers: marsview({ userId: 'u', apiKey: 'k-123', apiSecret: 's-123' }) },
      'https://api.marsview.ai',
    );
    h.tokenMock
      .onPost('https://api.marsview.ai/cb/v1/auth/create_access_token')
      .reply(200, { status: false, error: 'NJSCFE001', message: 'Invalid credentials' });
    await expect(h.auth.token()).rejects.toMatchObject({ code: 'ERR_TOKEN_CREDENTIALS', providerCode: 'NJSCFE001' });
    h.auth.eject();
    h = harness({
      providers: singleView({ clientId: 'c', clientCode: 'x-123', merchantId: 'm', baseURL: 'https://sv.example.com' }),
    });
    h.tokenMock
      .onPost('https://sv.example.com/v1/api/observice/token')
      .reply(200, { success: false, errorCode: 'MW-401', message: 'bad client' });
    await expect(h.auth.token()).rejects.toMatchObject({ code: 'ERR_TOKEN_CREDENTIALS', providerCode: 'MW-401' });
  });
});

// axios only: these go through the simulated provider attached to an axios instance. The limits
// the transport enforces on its own (time, size, redirects, resets) are asserted for both
// boundaries' HttpClient in __tests__/core/http-client.test.ts.
describe('rule 6: against a real loopback token endpoint', () => {
  const env = useSimulation();

  function attach(tokenRequest: Record<string, number>) {
    const api = axios.create({ baseURL: env.sim.symbl.url });
    env.attach(api, {
      providers: simulatedProvider(env.sim.symbl),
      tokenRequest: { minDelayMs: 5, ...tokenRequest },
    });
    return api;
  }

  test('a hung token endpoint: each attempt times out and every waiting request settles', async () => {
    env.sim.symbl.setTokenFault({ hang: true });
    const api = attach({ timeoutMs: 150, retries: 1 });
    const started = Date.now();
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => api.get('/api/x')));
    expect(
      outcomes.every(
        (o) => o.status === 'rejected' && isTokenRequestError(o.reason) && o.reason.code === 'ERR_TOKEN_TIMEOUT',
      ),
    ).toBe(true);
    expect(env.sim.symbl.stats.tokenRequests).toBe(2);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  test('a 307 from the token endpoint is not followed: the credentials never reach the Location', async () => {
    env.sim.symbl.queueTokenFaults({ redirect: `${env.sim.marsview.url}/oauth2/token:generate`, status: 307 });
    const api = attach({});
    await expect(api.get('/api/x')).rejects.toMatchObject({ code: 'ERR_TOKEN_REDIRECT', status: 307 });
    expect(env.sim.marsview.requests).toHaveLength(0);
  });

  test('a token response over 1 MiB is refused', async () => {
    env.sim.symbl.queueTokenFaults({
      raw: JSON.stringify({ accessToken: 'a'.repeat(DEFAULTS.tokenRequest.maxBodyBytes), expiresIn: 60 }),
    });
    const api = attach({});
    await expect(api.get('/api/x')).rejects.toMatchObject({ code: 'ERR_TOKEN_TOO_LARGE', attempts: 1 });
  });

  test('a connection reset is retried', async () => {
    env.sim.symbl.queueTokenFaults({ reset: true }, { status: 502, body: { message: 'bad gateway' } });
    const api = attach({});
    await expect(api.get('/api/x')).resolves.toMatchObject({ status: 200 });
    expect(env.sim.symbl.stats.tokenRequests).toBe(3);
  });

  test('token requests go through their own axios instance, never through the intercepted one', async () => {
    const api = attach({});
    const seenByInstance: string[] = [];
    api.interceptors.request.use((config) => {
      seenByInstance.push(String(config.url));
      return config;
    });
    await api.get('/api/x');
    expect(seenByInstance).toEqual(['/api/x']);
    expect(env.sim.symbl.stats.tokenRequests).toBe(1);
  });
});
