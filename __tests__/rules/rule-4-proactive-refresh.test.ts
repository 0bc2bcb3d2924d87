import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals';
import { DEFAULTS, isTokenRequestError } from '../../lib/index.js';
import { SYMBL_TOKEN_URL, authOf, deferred, until, useFakeClock } from '../helpers/index.js';
import { MOCKED_TRANSPORTS, type MockedHarness } from '../helpers/mocked-transports.js';

const NOW = Date.UTC(2026, 0, 1);
const HOUR_S = 3600;

// Transport-neutral: the same cases over attachTokenAuth (axios) and createTokenFetch (fetch).
describe.each(MOCKED_TRANSPORTS)('rule 4: refreshing ahead of expiry, in the background, over %s', (_name, harness) => {
  let h: MockedHarness;
  beforeEach(() => useFakeClock(NOW));
  afterEach(() => {
    h.auth.eject();
    jest.useRealTimers();
  });

  function serve(): void {
    h.apiMock.onGet('/x').reply((config) => [200, authOf(config)]);
  }

  test('outside the refresh window nothing is refreshed', async () => {
    h = harness({ refreshWindowMs: 60_000 });
    h.tokenMock.onPost(SYMBL_TOKEN_URL).reply(200, { accessToken: 't1', expiresIn: HOUR_S });
    serve();
    await h.api.get('/x');
    jest.setSystemTime(NOW + HOUR_S * 1000 - 60_000 * 1.21);
    await h.api.get('/x');
    expect(h.tokenCalls()).toBe(1);
  });

  test('inside the window, requests keep the valid token while one background refresh runs', async () => {
    h = harness({ refreshWindowMs: 60_000 });
    const second = deferred<[number, unknown]>();
    h.tokenMock.onPost(SYMBL_TOKEN_URL).replyOnce(200, { accessToken: 't1', expiresIn: HOUR_S });
    h.tokenMock.onPost(SYMBL_TOKEN_URL).replyOnce(() => second.promise);
    serve();
    await h.api.get('/x');

    jest.setSystemTime(NOW + HOUR_S * 1000 - 30_000);
    // The token endpoint has not answered, yet none of these requests waits for it.
    const during = await Promise.all(Array.from({ length: 20 }, () => h.api.get('/x')));
    expect(during.map((r) => r.data)).toEqual(Array(20).fill('Bearer t1'));
    // The background token request is out (and stays unanswered while the requests went through).
    await until(() => h.tokenCalls() === 2);
    expect((await h.api.get('/x')).data).toBe('Bearer t1');
    expect(h.tokenCalls()).toBe(2);

    second.resolve([200, { accessToken: 't2', expiresIn: HOUR_S }]);
    await until(() => h.events.some((e) => e.type === 'token-fetched' && e.reason === 'refresh-window'));
    expect((await h.api.get('/x')).data).toBe('Bearer t2');
    expect(h.tokenCalls()).toBe(2);
  });

  test('a failed background refresh keeps the valid token, throws nowhere, and is retried later', async () => {
    h = harness({ refreshWindowMs: 60_000, tokenRequest: { retries: 0 } });
    h.tokenMock.onPost(SYMBL_TOKEN_URL).replyOnce(200, { accessToken: 't1', expiresIn: HOUR_S });
    h.tokenMock.onPost(SYMBL_TOKEN_URL).replyOnce(503, { message: 'maintenance' });
    h.tokenMock.onPost(SYMBL_TOKEN_URL).replyOnce(200, { accessToken: 't2', expiresIn: HOUR_S });
    serve();
    await h.api.get('/x');

    jest.setSystemTime(NOW + HOUR_S * 1000 - 30_000);
    expect((await h.api.get('/x')).data).toBe('Bearer t1');
    await until(() => h.events.some((e) => e.type === 'token-failed'));
    expect(h.events.find((e) => e.type === 'token-failed')).toMatchObject({
      background: true,
      reason: 'refresh-window',
    });

    // Within backgroundRetryMs, no new attempt; the valid token is still sent.
    jest.setSystemTime(NOW + HOUR_S * 1000 - 30_000 + DEFAULTS.backgroundRetryMs - 1);
    expect((await h.api.get('/x')).data).toBe('Bearer t1');
    expect(h.tokenCalls()).toBe(2);

    jest.setSystemTime(NOW + HOUR_S * 1000 - 30_000 + DEFAULTS.backgroundRetryMs);
    expect((await h.api.get('/x')).data).toBe('Bearer t1');
    await until(() => h.events.filter((e) => e.type === 'token-fetched').length === 2);
    expect((await h.api.get('/x')).data).toBe('Bearer t2');
    expect(h.tokenCalls()).toBe(3);
  });

  test('a background refresh answered with the token in use (Symbl hands back its cached token) is still reported', async () => {
    h = harness({ refreshWindowMs: 60_000 });
    h.tokenMock.onPost(SYMBL_TOKEN_URL).replyOnce(200, { accessToken: 'cached', expiresIn: HOUR_S });
    // Symbl's answer for the same token: its remaining lifetime, in whole seconds (so it ends a little earlier).
    h.tokenMock.onPost(SYMBL_TOKEN_URL).replyOnce(200, { accessToken: 'cached', expiresIn: 29 });
    serve();
    await h.api.get('/x');

    jest.setSystemTime(NOW + HOUR_S * 1000 - 30_000);
    expect((await h.api.get('/x')).data).toBe('Bearer cached');
    await until(() => h.tokenCalls() === 2);
    await until(() => h.events.filter((e) => e.type === 'token-fetched').length === 2);
    expect(h.events.filter((e) => e.type === 'token-fetched')).toMatchObject([
      { reason: 'missing', attempts: 1 },
      { reason: 'refresh-window', attempts: 1 },
    ]);
    expect((await h.api.get('/x')).data).toBe('Bearer cached');
    expect(h.tokenCalls()).toBe(2);
  });

  test('once the token has expired with the endpoint still down, callers get the TokenRequestError', async () => {
    h = harness({ refreshWindowMs: 60_000, tokenRequest: { retries: 0, cooldownMs: 0 } });
    h.tokenMock.onPost(SYMBL_TOKEN_URL).replyOnce(200, { accessToken: 't1', expiresIn: HOUR_S });
    h.tokenMock.onPost(SYMBL_TOKEN_URL).reply(503, { message: 'maintenance' });
    serve();
    await h.api.get('/x');
    jest.setSystemTime(NOW + HOUR_S * 1000);
    const error = await h.api.get('/x').catch((e: unknown) => e);
    expect(isTokenRequestError(error) && error.code).toBe('ERR_TOKEN_UNAVAILABLE');
    expect(h.apiMock.history).toHaveLength(1);
  });
});
