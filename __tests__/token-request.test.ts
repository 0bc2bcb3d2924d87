import { afterEach, describe, expect, test } from '@jest/globals';
import axios from 'axios';
import { DEFAULTS, jsonProvider, symbl, type TokenProvider } from '../lib/index.js';
import { kEndpoint, type TokenEndpoint } from '../lib/providers/endpoint.js';
import {
  backoffMs,
  parseRetryAfter,
  requestToken,
  type TokenRequestRetry,
  type TokenRequestSettings,
} from '../lib/providers/token-request/index.js';
import { SYMBL_TOKEN_URL, mockOf } from './helpers/index.js';

// The token request on its own (lib/providers/token-request/), on a clock the test sets: the
// boundaries of status classification, Retry-After, backoff, vendor text and expiry on arrival.

const NOW = Date.UTC(2026, 0, 1);
const endpointOf = (provider: TokenProvider): TokenEndpoint =>
  (provider as unknown as Record<symbol, TokenEndpoint>)[kEndpoint] as TokenEndpoint;
const SYMBL = endpointOf(symbl({ appId: 'app-id-1', appSecret: 'app-secret-1' }));

function rig(settings: Partial<TokenRequestSettings> = {}, clock = { now: NOW }) {
  const http = axios.create();
  const mock = mockOf(http);
  const retries: TokenRequestRetry[] = [];
  const lifecycle = new AbortController();
  const context = {
    http,
    settings: { ...DEFAULTS.tokenRequest, minDelayMs: 1, maxDelayMs: 1, ...settings },
    signal: lifecycle.signal,
    now: () => clock.now,
    random: () => 0,
    onRetry: (retry: TokenRequestRetry) => retries.push(retry),
  };
  /** The token response, or the error it rejected with. */
  const request = (endpoint: TokenEndpoint = SYMBL): Promise<Record<string, unknown>> =>
    requestToken('symbl', endpoint, context).then(
      (response) => ({ ...response }),
      (error: unknown) => error as Record<string, unknown>,
    );
  return { mock, retries, lifecycle, clock, request };
}

describe('parseRetryAfter', () => {
  test('seconds, fractions and HTTP dates; anything else is no Retry-After', () => {
    expect(parseRetryAfter('2', NOW)).toBe(2_000);
    expect(parseRetryAfter(' 1.5 ', NOW)).toBe(1_500);
    expect(parseRetryAfter('0', NOW)).toBe(0);
    expect(parseRetryAfter(new Date(NOW + 3_000).toUTCString(), NOW)).toBe(3_000);
    expect(parseRetryAfter(new Date(NOW - 3_000).toUTCString(), NOW)).toBe(0);
    for (const value of ['', '   ', 'soon', undefined, 5]) expect(parseRetryAfter(value, NOW)).toBeUndefined();
  });
});

describe('backoffMs', () => {
  test('doubles from minDelayMs, capped at maxDelayMs, between half and all of it', () => {
    const settings = { minDelayMs: 100, maxDelayMs: 500 };
    expect([1, 2, 3, 4, 5].map((attempt) => backoffMs(attempt, settings, () => 1))).toEqual([100, 200, 400, 500, 500]);
    expect([1, 2, 3, 4].map((attempt) => backoffMs(attempt, settings, () => 0))).toEqual([50, 100, 200, 250]);
    expect(backoffMs(2, settings, () => 0.5)).toBe(150);
  });
});

describe('requestToken', () => {
  let current: ReturnType<typeof rig> | undefined;
  afterEach(() => current?.lifecycle.abort());

  test.each([
    [301, 'ERR_TOKEN_REDIRECT', false],
    [399, 'ERR_TOKEN_REDIRECT', false],
    [400, 'ERR_TOKEN_CREDENTIALS', false],
    [401, 'ERR_TOKEN_CREDENTIALS', false],
    [403, 'ERR_TOKEN_CREDENTIALS', false],
    [402, 'ERR_TOKEN_HTTP_STATUS', false],
    [404, 'ERR_TOKEN_HTTP_STATUS', false],
    [499, 'ERR_TOKEN_HTTP_STATUS', false],
    [408, 'ERR_TOKEN_UNAVAILABLE', true],
    [429, 'ERR_TOKEN_RATE_LIMITED', true],
    [500, 'ERR_TOKEN_UNAVAILABLE', true],
    [599, 'ERR_TOKEN_UNAVAILABLE', true],
  ])('HTTP %d is %s, retried: %s', async (status, code, retried) => {
    current = rig({ retries: 1 });
    current.mock.onPost(SYMBL_TOKEN_URL).reply(status, { code: 'E1', message: 'nope' });
    const error = await current.request();
    expect(error).toMatchObject({ code, status, attempts: retried ? 2 : 1 });
    expect(current.retries).toHaveLength(retried ? 1 : 0);
    if (status >= 400) expect(error['providerCode']).toBe('E1');
  });

  test('2xx bodies are read at both ends of the range', async () => {
    current = rig();
    current.mock
      .onPost(SYMBL_TOKEN_URL)
      .replyOnce(200, { accessToken: 'a', expiresIn: 60 })
      .onPost(SYMBL_TOKEN_URL)
      .replyOnce(299, { accessToken: 'b', expiresIn: 60 });
    await expect(current.request()).resolves.toMatchObject({ token: { accessToken: 'a' }, attempts: 1 });
    await expect(current.request()).resolves.toMatchObject({ token: { accessToken: 'b' }, attempts: 1 });
  });

  test('retries run out after `retries`, each waiting its backoff or the Retry-After, capped', async () => {
    current = rig({ retries: 2, maxRetryAfterMs: 40, minDelayMs: 8, maxDelayMs: 100 });
    current.mock
      .onPost(SYMBL_TOKEN_URL)
      .replyOnce(503, {}, { 'Retry-After': '10' })
      .onPost(SYMBL_TOKEN_URL)
      .replyOnce(503, {})
      .onPost(SYMBL_TOKEN_URL)
      .reply(503, {}, { 'Retry-After': '0.02' });
    const error = await current.request();
    expect(error).toMatchObject({ code: 'ERR_TOKEN_UNAVAILABLE', attempts: 3, retryAfterMs: 20 });
    expect(error['message']).toContain('after 3 attempts');
    expect(current.retries).toEqual([
      { attempt: 1, delayMs: 40, code: 'ERR_TOKEN_UNAVAILABLE', status: 503 },
      { attempt: 2, delayMs: 8, code: 'ERR_TOKEN_UNAVAILABLE', status: 503 },
    ]);
  });

  test('an abort during the backoff ends the request with ERR_TOKEN_ABORTED', async () => {
    current = rig({ retries: 3, minDelayMs: 10_000, maxDelayMs: 10_000 });
    current.mock.onPost(SYMBL_TOKEN_URL).reply(503, {});
    const pending = current.request();
    setTimeout(() => current?.lifecycle.abort(new Error('ejected')), 20);
    await expect(pending).resolves.toMatchObject({ code: 'ERR_TOKEN_ABORTED', attempts: 1 });
  });

  test('a token that expired by the time its answer arrived is asked for again; at the arrival it counts as expired', async () => {
    const clock = { now: NOW };
    current = rig({ retries: 1 }, clock);
    current.mock
      .onPost(SYMBL_TOKEN_URL)
      .replyOnce(() => {
        clock.now = NOW + 1_000; // expires exactly when it arrives
        return [200, { accessToken: 'dead', expiresIn: 1 }];
      })
      .onPost(SYMBL_TOKEN_URL)
      .replyOnce(() => {
        clock.now += 999; // 1 ms left on arrival
        return [200, { accessToken: 'alive', expiresIn: 1 }];
      });
    await expect(current.request()).resolves.toMatchObject({ token: { accessToken: 'alive' }, attempts: 2 });
    expect(current.retries).toMatchObject([{ code: 'ERR_TOKEN_EXPIRED', status: 200 }]);
  });

  test('vendor text is one line, scrubbed, and cut after 200 characters', async () => {
    current = rig();
    const long = 'x'.repeat(200);
    current.mock
      .onPost(SYMBL_TOKEN_URL)
      .replyOnce(401, { message: long })
      .onPost(SYMBL_TOKEN_URL)
      .replyOnce(401, { message: `${long}y` })
      .onPost(SYMBL_TOKEN_URL)
      .replyOnce(401, { message: 'bad\r\napp-secret-1\tnow', code: 4010 })
      .onPost(SYMBL_TOKEN_URL)
      .replyOnce(401, { message: ' \n ' });
    expect((await current.request())['message']).toContain(`(HTTP 401: ${long}) (`);
    expect((await current.request())['message']).toContain(`(HTTP 401: ${long}…) (`);
    const scrubbed = await current.request();
    expect(scrubbed).toMatchObject({ providerCode: '4010' });
    expect(scrubbed['message']).toContain('(HTTP 401: 4010 bad [REDACTED] now)');
    expect((await current.request())['message']).toContain('refused the credentials (HTTP 401) (');
  });

  test('the first vendor field that holds text is the one quoted', async () => {
    const endpoint = endpointOf(
      jsonProvider({
        name: 'custom',
        tokenUrl: 'https://auth.example.com/token',
        body: { key: 'json-key-1' },
        token: 'token',
        errorMessage: ['error.detail', 'message'],
      }),
    );
    current = rig();
    current.mock.onPost('https://auth.example.com/token').reply(400, { error: { detail: '' }, message: 'second' });
    expect((await current.request(endpoint))['message']).toContain('(HTTP 400: second)');
  });
});
