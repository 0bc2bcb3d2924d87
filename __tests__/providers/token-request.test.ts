import { afterEach, describe, expect, jest, test } from '@jest/globals';
import axios, { type AxiosRequestConfig } from 'axios';
import { getEventListeners } from 'node:events';
import { axiosHttpClient } from '../../lib/axios/http-client.js';
import { DEFAULTS, jsonProvider, symbl, type TokenProvider } from '../../lib/index.js';
import { kEndpoint, type TokenEndpoint } from '../../lib/providers/endpoint.js';
import {
  backoffMs,
  parseRetryAfter,
  requestToken,
  type TokenRequestRetry,
  type TokenRequestSettings,
} from '../../lib/providers/token-request/index.js';
import { SYMBL_TOKEN_URL, mockOf } from '../helpers/index.js';

// The token request on its own (lib/providers/token-request/), on a clock the test sets: the
// boundaries of status classification, Retry-After, backoff, vendor text and expiry on arrival.

const NOW = Date.UTC(2026, 0, 1);
const endpointOf = (provider: TokenProvider): TokenEndpoint =>
  (provider as unknown as Record<symbol, () => TokenEndpoint>)[kEndpoint]!();
const SYMBL = endpointOf(symbl({ appId: 'app-id-1', appSecret: 'app-secret-1' }));

function rig(settings: Partial<TokenRequestSettings> = {}, clock = { now: NOW }) {
  const http = axios.create();
  const mock = mockOf(http);
  const retries: TokenRequestRetry[] = [];
  const lifecycle = new AbortController();
  const context = {
    http: axiosHttpClient(http),
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
  return { mock, retries, lifecycle, clock, request, context };
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

  test('the error says how long before its arrival the token had expired', async () => {
    const clock = { now: NOW };
    current = rig({ retries: 0 }, clock);
    current.mock.onPost(SYMBL_TOKEN_URL).replyOnce(() => {
      clock.now = NOW + 1_250;
      return [200, { accessToken: 'dead', expiresIn: 1 }];
    });
    const error = await current.request();
    expect(error).toMatchObject({ code: 'ERR_TOKEN_EXPIRED', attempts: 1 });
    expect(error['message']).toMatch(/\b250 ms\b/);
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

// What the token request sends, how it reads answers of every shape, and how it ends when the
// transport fails, hangs or is abandoned: on an endpoint built here, so that each field of the
// response shape can be set on its own.
const CUSTOM_URL = 'https://auth.example.com/token';

function customEndpoint(overrides: Partial<TokenEndpoint> = {}, shape: Partial<TokenEndpoint['response']> = {}) {
  const endpoint: TokenEndpoint = {
    kind: 'custom',
    url: new URL(CUSTOM_URL),
    method: 'POST',
    encoding: 'json',
    body: { key: 'custom-key-1' },
    headers: {},
    secrets: ['custom-key-1'],
    response: {
      token: ['token'],
      expiresIn: ['ttl'],
      expiresInUnit: 'seconds',
      tokenType: ['type'],
      success: undefined,
      errorCode: [['code']],
      errorMessage: [['message']],
      ...shape,
    },
    defaultLifetimeMs: undefined,
    ...overrides,
  };
  return endpoint;
}

/** The request headers as the transport got them, as a plain object. */
const headersOf = (config: AxiosRequestConfig): Record<string, unknown> =>
  Object.fromEntries(Object.entries(config.headers ?? {}));

describe('requestToken: what reaches the transport', () => {
  let current: ReturnType<typeof rig> | undefined;
  afterEach(() => current?.lifecycle.abort());

  test('a JSON body, with its content type, the endpoint headers and the safety settings', async () => {
    current = rig({ timeoutMs: 1_234, maxBodyBytes: 4_321 });
    let seen: Record<string, unknown> = {};
    current.mock.onPost(CUSTOM_URL).reply((config) => {
      seen = { ...config, headers: headersOf(config) };
      return [200, { token: 'a' }];
    });
    await current.request(customEndpoint({ headers: { 'X-Api': 'v1', Accept: 'application/vnd+json' } }));
    expect(seen).toMatchObject({
      method: 'post',
      url: CUSTOM_URL,
      data: '{"key":"custom-key-1"}',
      timeout: 1_234,
      maxRedirects: 0,
      maxContentLength: 4_321,
      responseType: 'text',
      withCredentials: false,
      withXSRFToken: false,
      transitional: { clarifyTimeoutError: true },
      headers: { 'Content-Type': 'application/json', 'X-Api': 'v1', Accept: 'application/vnd+json' },
    });
    const validateStatus = seen['validateStatus'] as (status: number) => boolean;
    expect([200, 302, 401, 503].map(validateStatus)).toEqual([true, true, true, true]);
    expect(seen['signal']).toBeInstanceOf(AbortSignal);
  });

  test('a form body skips undefined fields and encodes the others; Accept is JSON by default', async () => {
    current = rig();
    let seen: Record<string, unknown> = {};
    current.mock.onPost(CUSTOM_URL).reply((config) => {
      seen = { data: config.data, headers: headersOf(config) };
      return [200, { token: 'a' }];
    });
    await current.request(
      customEndpoint({ encoding: 'form', body: { a: 'x y', b: 2, c: undefined, d: { e: 1 }, f: '' } }),
    );
    expect(seen['data']).toBe('a=x+y&b=2&d=%7B%22e%22%3A1%7D&f=');
    expect(seen['headers']).toMatchObject({
      'Content-Type': 'application/x-www-form-urlencoded',
      Accept: 'application/json',
    });
  });

  test('without a body: no data and no content type', async () => {
    current = rig();
    let seen: Record<string, unknown> = {};
    current.mock.onGet(CUSTOM_URL).reply((config) => {
      seen = { data: config.data, headers: headersOf(config) };
      return [200, { token: 'a' }];
    });
    await expect(current.request(customEndpoint({ method: 'GET', body: undefined }))).resolves.toMatchObject({
      token: { accessToken: 'a' },
    });
    expect(seen['data']).toBeUndefined();
    expect((seen['headers'] as Record<string, unknown>)['Content-Type']).toBeUndefined();
    expect(seen['headers']).toMatchObject({ Accept: 'application/json' });
  });
});

describe('requestToken: transport failures', () => {
  let current: ReturnType<typeof rig> | undefined;
  afterEach(() => current?.lifecycle.abort());

  const failWith = async (thrown: unknown, retries = 1) => {
    current = rig({ retries });
    current.mock.onPost(CUSTOM_URL).reply(() => {
      throw thrown;
    });
    return current.request(customEndpoint());
  };

  test.each(['ETIMEDOUT', 'ECONNABORTED'])('%s is a timeout, retried', async (code) => {
    const error = await failWith(Object.assign(new Error('slow'), { code }));
    expect(error).toMatchObject({ code: 'ERR_TOKEN_TIMEOUT', attempts: 2 });
    expect(error['cause']).toMatchObject({ message: 'slow', code });
  });

  test('a network error is retried and named by its code, else by its message', async () => {
    const coded = await failWith(Object.assign(new Error('connect refused'), { code: 'ECONNREFUSED' }));
    expect(coded).toMatchObject({ code: 'ERR_TOKEN_UNAVAILABLE', attempts: 2 });
    expect(coded['message']).toContain('could not be reached (ECONNREFUSED) after 2 attempts');
    const uncoded = await failWith(new Error('socket hang up'), 0);
    expect(uncoded).toMatchObject({ code: 'ERR_TOKEN_UNAVAILABLE', attempts: 1 });
    expect(uncoded['message']).toContain('could not be reached (socket hang up) (');
    expect(uncoded['message']).not.toContain('attempts');
    expect(uncoded['cause']).not.toHaveProperty('code');
  });

  test('a thrown value that is not an error is an unknown error', async () => {
    for (const thrown of ['boom', null, undefined, { code: 42, message: 7 }]) {
      const error = await failWith(thrown, 0);
      expect(error).toMatchObject({ code: 'ERR_TOKEN_UNAVAILABLE', attempts: 1 });
      expect(error['message']).toContain('could not be reached (unknown error)');
      expect(error['cause']).toMatchObject({ message: 'unknown error' });
      expect(error['cause']).not.toHaveProperty('code');
    }
  });

  test('a body over maxContentLength is too large, not retried', async () => {
    const error = await failWith(new Error('maxContentLength size of 10 exceeded'));
    expect(error).toMatchObject({ code: 'ERR_TOKEN_TOO_LARGE', attempts: 1 });
    expect(current?.retries).toEqual([]);
  });

  test('a transport that never answers is abandoned after timeoutMs', async () => {
    current = rig({ retries: 0, timeoutMs: 30 });
    current.mock.onPost(CUSTOM_URL).reply(() => new Promise<never>(() => undefined));
    const startedAt = Date.now();
    const error = await current.request(customEndpoint());
    expect(error).toMatchObject({ code: 'ERR_TOKEN_TIMEOUT', attempts: 1 });
    expect(error['cause']).toMatchObject({ code: 'ETIMEDOUT' });
    expect(Date.now() - startedAt).toBeLessThan(2_000);
  });

  test('an abort while the transport hangs ends the request at once; an aborted one sends nothing', async () => {
    current = rig({ retries: 3, timeoutMs: 60_000 });
    current.mock.onPost(CUSTOM_URL).reply(() => new Promise<never>(() => undefined));
    const pending = current.request(customEndpoint());
    setTimeout(() => current?.lifecycle.abort(new Error('ejected')), 10);
    await expect(pending).resolves.toMatchObject({ code: 'ERR_TOKEN_ABORTED', attempts: 1 });
    expect(current.mock.history['post']).toHaveLength(1);
    await expect(current.request(customEndpoint())).resolves.toMatchObject({ code: 'ERR_TOKEN_ABORTED', attempts: 1 });
    expect(current.mock.history['post']).toHaveLength(1);
  });

  test('no abort listener is left on the lifecycle signal, whatever the outcome', async () => {
    current = rig({ retries: 0 });
    current.mock
      .onPost(CUSTOM_URL)
      .replyOnce(200, { token: 'a' })
      .onPost(CUSTOM_URL)
      .replyOnce(500, {})
      .onPost(CUSTOM_URL)
      .networkErrorOnce();
    for (let i = 0; i < 3; i++) await current.request(customEndpoint());
    expect(getEventListeners(current.lifecycle.signal, 'abort')).toHaveLength(0);
  });

  test('mayRetry decides, given the failure and the delay', async () => {
    current = rig({ retries: 3 });
    current.mock.onPost(CUSTOM_URL).reply(503, {});
    const asked: [string, number][] = [];
    const error = await requestToken('custom', customEndpoint(), {
      ...current.context,
      settings: { ...DEFAULTS.tokenRequest, minDelayMs: 4, maxDelayMs: 4 },
      random: () => 1,
      mayRetry: (failure, delayMs) => {
        asked.push([failure.code, delayMs]);
        return asked.length < 2;
      },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_TOKEN_UNAVAILABLE' });
    expect(asked).toEqual([
      ['ERR_TOKEN_UNAVAILABLE', 4],
      ['ERR_TOKEN_UNAVAILABLE', 4],
    ]);
  });
});

describe('requestToken: reading answers', () => {
  let current: ReturnType<typeof rig> | undefined;
  afterEach(() => current?.lifecycle.abort());

  /** The outcome of one answer to `endpoint`. */
  async function answer(
    status: number,
    data: unknown,
    endpoint = customEndpoint(),
    settings: Partial<TokenRequestSettings> = { retries: 0 },
    headers: Record<string, string> = {},
  ) {
    current = rig(settings);
    current.mock.onAny(CUSTOM_URL).replyOnce(status, data, headers);
    return current.request(endpoint);
  }

  test('bodies that are too large, not JSON or not an object', async () => {
    expect(await answer(200, '{"token":"ab"}', customEndpoint(), { retries: 0, maxBodyBytes: 13 })).toMatchObject({
      code: 'ERR_TOKEN_TOO_LARGE',
      status: 200,
    });
    expect(await answer(200, '{"token":"ab"}', customEndpoint(), { retries: 0, maxBodyBytes: 14 })).toMatchObject({
      token: { accessToken: 'ab' },
    });
    const notJson = await answer(200, 'token=ab');
    expect(notJson).toMatchObject({ code: 'ERR_TOKEN_MALFORMED', status: 200, attempts: 1 });
    expect(notJson['message']).toContain('is not JSON');
    for (const [body, got] of [
      ['[1]', 'an array'],
      ['null', 'null'],
      ['5', 'number'],
      ['"text"', 'string'],
    ]) {
      const error = await answer(200, body);
      expect(error).toMatchObject({ code: 'ERR_TOKEN_MALFORMED', status: 200 });
      expect(error['message']).toContain(`is not a JSON object (got ${got})`);
    }
  });

  test('an error status with a body that is not JSON quotes nothing', async () => {
    const error = await answer(500, '<html>down</html>');
    expect(error).toMatchObject({ code: 'ERR_TOKEN_UNAVAILABLE', status: 500, providerCode: undefined });
    expect(error['message']).toContain('failed (HTTP 500) (');
    const coded = await answer(400, { code: 'E7' });
    expect(coded['message']).toContain('(HTTP 400: E7) (');
    const said = await answer(403, { message: 'no' });
    expect(said).toMatchObject({ providerCode: undefined });
    expect(said['message']).toContain('(HTTP 403: no) (');
  });

  test('statuses below 200 and at 300 are not tokens', async () => {
    expect(await answer(199, { token: 'a' })).toMatchObject({ code: 'ERR_TOKEN_HTTP_STATUS', status: 199 });
    expect(await answer(300, { token: 'a' })).toMatchObject({ code: 'ERR_TOKEN_REDIRECT', status: 300 });
  });

  test('Retry-After counts for 429 and 5xx, capped; not for a refusal or a redirect', async () => {
    const cap = { retries: 0, maxRetryAfterMs: 5_000 };
    const later = { 'Retry-After': '7' };
    expect(await answer(429, {}, customEndpoint(), cap, later)).toMatchObject({ retryAfterMs: 5_000 });
    expect(await answer(503, {}, customEndpoint(), cap, { 'Retry-After': '2' })).toMatchObject({ retryAfterMs: 2_000 });
    expect(await answer(401, {}, customEndpoint(), cap, later)).toMatchObject({ retryAfterMs: undefined });
    expect(await answer(302, {}, customEndpoint(), cap, later)).toMatchObject({ retryAfterMs: undefined });
    expect(await answer(404, {}, customEndpoint(), cap, later)).toMatchObject({ retryAfterMs: undefined });
  });

  test('a 2xx refusal: a failure flag, success or status false, or an OAuth error', async () => {
    const flagged = customEndpoint({}, { success: ['ok'] });
    expect(await answer(200, { ok: true, token: 'a' }, flagged)).toMatchObject({ token: { accessToken: 'a' } });
    for (const ok of ['true', 1, undefined]) {
      expect(await answer(200, { ok, token: 'a' }, flagged)).toMatchObject({ code: 'ERR_TOKEN_CREDENTIALS' });
    }
    expect(await answer(200, { success: false, token: 'a' })).toMatchObject({ code: 'ERR_TOKEN_CREDENTIALS' });
    expect(await answer(200, { status: false, token: 'a' })).toMatchObject({ code: 'ERR_TOKEN_CREDENTIALS' });
    expect(await answer(200, { success: 0, status: 0, error: '', token: 'a' })).toMatchObject({
      token: { accessToken: 'a' },
    });
    expect(await answer(200, { error: 5, token: 'a' })).toMatchObject({ token: { accessToken: 'a' } });
    const oauth = await answer(200, { error: 'invalid_client', code: 'C1', message: 'bad key', token: 'a' });
    expect(oauth).toMatchObject({ code: 'ERR_TOKEN_CREDENTIALS', status: 200, providerCode: 'C1', attempts: 1 });
    expect(oauth['message']).toContain('reported a failure: C1 bad key (');
    const silent = await answer(200, { error: 'invalid_client', token: 'a' });
    expect(silent['message']).toContain('answered HTTP 200 but reported a failure (');
  });

  test('the access token: missing, empty, of another type, or with characters a bearer token cannot have', async () => {
    for (const [body, got] of [
      [{}, 'it is missing'],
      [{ token: '' }, 'it is empty'],
      [{ token: null }, 'it is null'],
      [{ token: {} }, 'it is an object'],
      [{ token: 5 }, 'it is a number'],
    ] as const) {
      const error = await answer(200, body);
      expect(error).toMatchObject({ code: 'ERR_TOKEN_MALFORMED', status: 200 });
      expect(error['message']).toContain(`no token at \`token\` (${got})`);
    }
    const spaced = await answer(200, { token: 'a b' });
    expect(spaced).toMatchObject({ code: 'ERR_TOKEN_MALFORMED' });
    expect(spaced['message']).toContain('characters a bearer token cannot have');
  });

  test('the token type: Bearer by default or when blank, kept otherwise, refused when not a scheme', async () => {
    const typeOf = async (type: unknown, endpoint = customEndpoint()) =>
      ((await answer(200, { token: 'a', type }, endpoint))['token'] as { tokenType?: string } | undefined)?.tokenType;
    expect(await typeOf(undefined)).toBe('Bearer');
    expect(await typeOf(null)).toBe('Bearer');
    expect(await typeOf('')).toBe('Bearer');
    expect(await typeOf('bEaReR')).toBe('Bearer');
    expect(await typeOf('MAC')).toBe('MAC');
    expect(await typeOf('MAC', customEndpoint({}, { tokenType: undefined }))).toBe('Bearer');
    for (const type of [5, 'a b']) {
      expect(await answer(200, { token: 'a', type })).toMatchObject({ code: 'ERR_TOKEN_MALFORMED', status: 200 });
    }
  });

  test('the lifetime: seconds or milliseconds, numeric text, 0 or absent as unknown, anything else refused', async () => {
    const expiresAt = async (ttl: unknown, endpoint = customEndpoint()) =>
      ((await answer(200, { token: 'a', ttl }, endpoint))['token'] as { expiresAt?: number | null } | undefined)
        ?.expiresAt;
    expect(await expiresAt(60)).toBe(NOW + 60_000);
    expect(await expiresAt('60')).toBe(NOW + 60_000);
    expect(await expiresAt(' 1.5 ')).toBe(NOW + 1_500);
    expect(await expiresAt('1.25')).toBe(NOW + 1_250);
    expect(await expiresAt(60, customEndpoint({}, { expiresInUnit: 'milliseconds' }))).toBe(NOW + 60);
    expect(await expiresAt(0)).toBeNull();
    expect(await expiresAt(null)).toBeNull();
    expect(await expiresAt(undefined)).toBeNull();
    expect(await expiresAt(60, customEndpoint({}, { expiresIn: undefined }))).toBeNull();
    expect(await expiresAt(0, customEndpoint({ defaultLifetimeMs: 5_000 }))).toBe(NOW + 5_000);
    for (const ttl of [-1, '6x', '-1', true, {}]) {
      const error = await answer(200, { token: 'a', ttl });
      expect(error).toMatchObject({ code: 'ERR_TOKEN_MALFORMED', status: 200 });
      expect(error['message']).toContain('the lifetime at `ttl`');
    }
  });

  test('the rotated refresh token: read where the endpoint says, refused when not visible text', async () => {
    const rotating = customEndpoint({ refreshToken: ['refresh'] });
    expect(await answer(200, { token: 'a', refresh: 'r 1~' }, rotating)).toMatchObject({ refreshToken: 'r 1~' });
    expect(await answer(200, { token: 'a', refresh: null }, rotating)).toMatchObject({ refreshToken: undefined });
    expect(await answer(200, { token: 'a' }, rotating)).toMatchObject({ refreshToken: undefined });
    expect(await answer(200, { token: 'a', refresh: 'r1' })).toMatchObject({ refreshToken: undefined });
    for (const refresh of ['', 5, 'r\n1', 'ré']) {
      const error = await answer(200, { token: 'a', refresh }, rotating);
      expect(error).toMatchObject({ code: 'ERR_TOKEN_MALFORMED', status: 200 });
      expect(error['message']).toContain('the refresh token at `refresh`');
    }
  });

  test('the server Date corrects a JWT exp from a skewed clock; an unreadable Date is ignored', async () => {
    const body = (exp: number) => Buffer.from(JSON.stringify({ exp })).toString('base64url');
    const jwt = `eyJhbGciOiJub25lIn0.${body(NOW / 1000 + 3_600)}.sig`;
    const noTtl = customEndpoint({}, { expiresIn: undefined });
    const skewed = { Date: new Date(NOW + 600_000).toUTCString() };
    const at = async (headers: Record<string, string>) =>
      ((await answer(200, { token: jwt }, noTtl, { retries: 0 }, headers))['token'] as { expiresAt: number }).expiresAt;
    expect(await at(skewed)).toBe(NOW + 3_600_000 - 600_000);
    expect(await at({ Date: 'not a date' })).toBe(NOW + 3_600_000);
    expect(await at({})).toBe(NOW + 3_600_000);
  });

  test('the token is obtained when it was asked for', async () => {
    const clock = { now: NOW };
    current = rig({}, clock);
    current.mock.onPost(CUSTOM_URL).replyOnce(() => {
      clock.now = NOW + 500;
      return [200, { token: 'a', ttl: 60 }];
    });
    await expect(current.request(customEndpoint())).resolves.toMatchObject({
      token: { accessToken: 'a', tokenType: 'Bearer', obtainedAt: NOW, expiresAt: NOW + 60_000 },
      attempts: 1,
    });
  });
});

// What each failure leaves to the retry loop: only what retrying can fix is asked for again, an
// abort stops it, and nothing of an attempt (timer, listener) outlives it.
describe('requestToken: what is asked for again', () => {
  let current: ReturnType<typeof rig> | undefined;
  afterEach(() => {
    current?.lifecycle.abort();
    jest.useRealTimers();
  });

  test.each([
    ['a body over maxBodyBytes', 200, '{"token":"abc"}'],
    ['a body that is not JSON', 200, 'token=abc'],
    ['a JSON array', 200, '[]'],
    ['a 2xx refusal', 200, { success: false, token: 'a' }],
    ['no token', 200, {}],
    ['a token type that is not a scheme', 200, { token: 'a', type: 'a b' }],
    ['a lifetime that is not a number', 200, { token: 'a', ttl: 'soon' }],
    ['a redirect', 302, {}],
    ['a refusal', 401, {}],
    ['another status', 404, {}],
  ])('%s fails at the first attempt, with no retry', async (_what, status, body) => {
    current = rig({ retries: 2, maxBodyBytes: 14 });
    current.mock.onPost(CUSTOM_URL).reply(status, body);
    await expect(current.request(customEndpoint())).resolves.toMatchObject({ attempts: 1 });
    expect(current.retries).toEqual([]);
    expect(current.mock.history['post']).toHaveLength(1);
  });

  test('a lifetime that is not finite, or numeric text other than plain decimals, is refused', async () => {
    current = rig({ retries: 0 });
    for (const ttl of ['1e3', '0x10', '+5', '.5', '5.', '', ' ', 'Infinity', '1 2']) {
      current.mock.onPost(CUSTOM_URL).replyOnce(200, { token: 'a', ttl });
      await expect(current.request(customEndpoint())).resolves.toMatchObject({ code: 'ERR_TOKEN_MALFORMED' });
    }
    current.mock.onPost(CUSTOM_URL).replyOnce(200, '{"token":"a","ttl":1e999}');
    await expect(current.request(customEndpoint())).resolves.toMatchObject({ code: 'ERR_TOKEN_MALFORMED' });
  });

  test('Retry-After other than plain decimal seconds or a date is no Retry-After', () => {
    for (const value of ['1e3', '0x10', 'x5', '5x', '5s', '-']) expect(parseRetryAfter(value, NOW)).toBeUndefined();
    expect(parseRetryAfter('12.25', NOW)).toBe(12_250);
    expect(parseRetryAfter('007', NOW)).toBe(7_000);
  });

  test('an abort while mayRetry decides ends the request with the answer it had, and no retry', async () => {
    current = rig({ retries: 3 });
    current.mock.onPost(CUSTOM_URL).reply(503, {});
    const { lifecycle } = current;
    const error = await requestToken('custom', customEndpoint(), {
      ...current.context,
      mayRetry: () => {
        lifecycle.abort(new Error('ejected'));
        return true;
      },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_TOKEN_UNAVAILABLE', status: 503, attempts: 1 });
    expect(current.retries).toEqual([]);
    expect(current.mock.history['post']).toHaveLength(1);
  });

  test('retries need no onRetry listener', async () => {
    current = rig({ retries: 1 });
    current.mock.onPost(CUSTOM_URL).replyOnce(503, {}).onPost(CUSTOM_URL).replyOnce(200, { token: 'a' });
    const context = { ...current.context, onRetry: undefined };
    await expect(requestToken('custom', customEndpoint(), context)).resolves.toMatchObject({
      token: { accessToken: 'a' },
      attempts: 2,
    });
  });

  test('an attempt leaves no timer behind, whatever its outcome', async () => {
    jest.useFakeTimers({ now: NOW });
    current = rig({ retries: 0, timeoutMs: 60_000 });
    current.mock
      .onPost(CUSTOM_URL)
      .replyOnce(200, { token: 'a' })
      .onPost(CUSTOM_URL)
      .replyOnce(500, {})
      .onPost(CUSTOM_URL)
      .networkErrorOnce();
    for (let i = 0; i < 3; i++) {
      await current.request(customEndpoint());
      expect(jest.getTimerCount()).toBe(0);
    }
  });

  test('the signal an attempt gave the transport is left with no listener, whether it answered or hung', async () => {
    current = rig({ retries: 0, timeoutMs: 20 });
    const signals: AbortSignal[] = [];
    current.mock
      .onPost(CUSTOM_URL)
      .replyOnce((config) => {
        signals.push(config.signal as AbortSignal);
        return [200, { token: 'a' }];
      })
      .onPost(CUSTOM_URL)
      .replyOnce((config) => {
        signals.push(config.signal as AbortSignal);
        return Promise.reject(new Error('socket hang up'));
      })
      .onPost(CUSTOM_URL)
      .replyOnce((config) => {
        signals.push(config.signal as AbortSignal);
        return new Promise<never>(() => undefined);
      });
    await expect(current.request(customEndpoint())).resolves.toMatchObject({ attempts: 1 });
    await expect(current.request(customEndpoint())).resolves.toMatchObject({ code: 'ERR_TOKEN_UNAVAILABLE' });
    await expect(current.request(customEndpoint())).resolves.toMatchObject({ code: 'ERR_TOKEN_TIMEOUT' });
    expect(signals.map((signal) => [signal.aborted, getEventListeners(signal, 'abort').length])).toEqual([
      [false, 0],
      [false, 0],
      [true, 0],
    ]);
  });
});
