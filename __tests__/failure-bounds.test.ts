import { afterEach, describe, expect, jest, test } from '@jest/globals';
import axios from 'axios';
import {
  attachTokenAuth,
  clientCredentials,
  DEFAULTS,
  isTokenflightError,
  MemoryTokenStore,
  symbl,
  type StoredToken,
} from '../lib/index.js';
import { simulatedProvider, startProviderServer, type ProviderServer } from '../lib/testing/index.js';
import {
  CREDS,
  SYMBL_TOKEN_URL,
  authOf,
  harness,
  jwt,
  mockOf,
  settleWithFakeTimers,
  useFakeClock,
  type Harness,
} from './helpers/index.js';

// The failure policy's bounds: no single answer silences a provider, no expiry is unbounded, no
// dying token is sent, the memory store forgets, a store entry is checked on read. Each test failed
// on the code before the bounds.

const NOW = Date.UTC(2026, 0, 1);
const HTML_PAGE = '<html><body>502 Bad Gateway</body></html>';

describe('no single answer silences a provider', () => {
  let h: Harness;
  afterEach(() => {
    h.auth.eject();
    jest.useRealTimers();
  });

  test.each([
    ['a gateway’s HTML page', HTML_PAGE],
    ['an empty token', '{"accessToken":""}'],
  ])('after one malformed 200 (%s) the next request asks again and gets a token', async (_what, body) => {
    useFakeClock(NOW);
    h = harness();
    h.tokenMock
      .onPost(SYMBL_TOKEN_URL)
      .replyOnce(200, body)
      .onPost(SYMBL_TOKEN_URL)
      .reply(200, { accessToken: 'good', expiresIn: 3600 });
    h.apiMock.onGet('/x').reply((config) => [200, authOf(config)]);
    await expect(h.api.get('/x')).rejects.toMatchObject({ code: 'ERR_TOKEN_MALFORMED', attempts: 1 });
    // At once, inside what used to be a 5 s cool-down.
    await expect(h.api.get('/x')).resolves.toMatchObject({ data: 'Bearer good' });
    expect(h.tokenCalls()).toBe(2);
  });

  test('a Retry-After of a year is honoured up to maxRetryAfterMs, and cools down no longer than cooldownMs', async () => {
    useFakeClock(NOW);
    h = harness({ tokenRequest: { retries: 0, maxRetryAfterMs: 500, cooldownMs: 200 } });
    h.tokenMock.onPost(SYMBL_TOKEN_URL).reply(429, { message: 'busy' }, { 'Retry-After': '31536000' });
    h.apiMock.onGet('/x').reply((config) => [200, authOf(config)]);
    // One 429 is not remembered; the error says how long was asked for, capped.
    await expect(h.api.get('/x')).rejects.toMatchObject({ code: 'ERR_TOKEN_RATE_LIMITED', retryAfterMs: 500 });
    await expect(h.api.get('/x')).rejects.toMatchObject({ code: 'ERR_TOKEN_RATE_LIMITED', attempts: 1 });
    // The second in a row cools down: for cooldownMs at most, not for a year.
    const fast = await h.api.get('/x').catch((error: unknown) => error);
    expect(fast).toMatchObject({ code: 'ERR_TOKEN_RATE_LIMITED', attempts: 0 });
    expect((fast as Error).message).toMatch(/not asked again for (1\d\d|200) ms \(cool-down\)$/);
    expect(h.tokenCalls()).toBe(2);
    jest.advanceTimersByTime(200);
    h.tokenMock.reset();
    h.tokenMock.onPost(SYMBL_TOKEN_URL).reply(200, { accessToken: 'back', expiresIn: 3600 });
    await expect(h.api.get('/x')).resolves.toMatchObject({ data: 'Bearer back' });
  });

  test('a cool-down ends with auth.invalidate(), and new credentials ask at once', async () => {
    useFakeClock(NOW);
    h = harness({ tokenRequest: { retries: 0 } });
    h.tokenMock.onPost(SYMBL_TOKEN_URL).reply(401, { message: 'Unauthorized' });
    await h.auth.token().catch(() => undefined);
    await h.auth.token().catch(() => undefined);
    await expect(h.auth.token()).rejects.toMatchObject({ code: 'ERR_TOKEN_CREDENTIALS', attempts: 0 });
    await h.auth.invalidate();
    await expect(h.auth.token()).rejects.toMatchObject({ code: 'ERR_TOKEN_CREDENTIALS', attempts: 1 });
    await expect(h.auth.token()).rejects.toMatchObject({ attempts: 1 });
    await expect(h.auth.token()).rejects.toMatchObject({ attempts: 0 });
    // Attaching again with other credentials starts with a clean slate.
    h.tokenMock.reset();
    h.tokenMock.onPost(SYMBL_TOKEN_URL).reply(200, { accessToken: 'fixed', expiresIn: 3600 });
    const fixed = attachTokenAuth(h.api, {
      providers: symbl({ appId: 'new-app-id', appSecret: 'new-app-secret' }),
      tokenClient: h.tokenClient,
    });
    await expect(fixed.token()).resolves.toMatchObject({ accessToken: 'fixed' });
    fixed.eject();
  });
});

describe('expiresAt is finite or null', () => {
  let h: Harness;
  afterEach(() => {
    h.auth.eject();
    jest.useRealTimers();
  });

  test('expiresIn of 1e308 seconds is bounded by DEFAULTS.maxTokenLifetimeMs', async () => {
    useFakeClock(NOW);
    h = harness();
    h.tokenMock.onPost(SYMBL_TOKEN_URL).reply(200, { accessToken: 'long', expiresIn: 1e308 });
    await expect(h.auth.token()).resolves.toEqual({
      accessToken: 'long',
      tokenType: 'Bearer',
      expiresAt: NOW + DEFAULTS.maxTokenLifetimeMs,
    });
  });

  test('a JWT exp of 1e308 is bounded the same way', async () => {
    useFakeClock(NOW);
    h = harness({
      providers: clientCredentials({
        tokenUrl: 'https://auth.example.com/token',
        clientId: 'id-1',
        clientSecret: 's-1',
      }),
    });
    const accessToken = jwt({ exp: 1e308 });
    h.tokenMock
      .onPost('https://auth.example.com/token')
      .reply(200, { access_token: accessToken, token_type: 'Bearer' });
    const token = await h.auth.token();
    expect(Number.isFinite(token.expiresAt)).toBe(true);
    expect(token.expiresAt).toBe(NOW + DEFAULTS.maxTokenLifetimeMs);
  });
});

describe('a token expired on arrival is never sent', () => {
  let server: ProviderServer | undefined;
  afterEach(async () => server?.close());

  test('with a 500 ms endpoint and expiresIn 0.3 s it is asked for again, then ERR_TOKEN_EXPIRED; the API sees nothing', async () => {
    server = await startProviderServer('symbl', { tokenLatencyMs: 500, tokenLifetimeSeconds: 0.3 });
    const api = axios.create({ baseURL: server.url });
    const auth = attachTokenAuth(api, {
      providers: simulatedProvider(server),
      tokenRequest: { retries: 1, minDelayMs: 20, maxDelayMs: 20 },
    });
    const error = await api.get('/api/anything').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_TOKEN_EXPIRED', attempts: 2, provider: 'symbl' });
    expect((error as Error).message).toMatch(/had expired \d+ ms before the answer arrived after 2 attempts/);
    expect(server.stats).toMatchObject({ tokenRequests: 2, apiRequests: 0 });
    // A vendor that answers in time again is used at once.
    server.setTokenLatency(0);
    server.setTokenLifetime(60);
    await expect(api.get('/api/anything')).resolves.toMatchObject({ status: 200 });
    auth.eject();
  }, 10_000);

  test('a dying token handed back once is replaced by asking again', async () => {
    useFakeClock(NOW);
    const h = harness({ tokenRequest: { minDelayMs: 10, maxDelayMs: 10 } });
    h.tokenMock
      .onPost(SYMBL_TOKEN_URL)
      .replyOnce(async () => {
        jest.setSystemTime(Date.now() + 500); // a 500 ms answer for a token that had 300 ms left
        return [200, { accessToken: 'dying', expiresIn: 0.3 }];
      })
      .onPost(SYMBL_TOKEN_URL)
      .reply(200, { accessToken: 'fresh', expiresIn: 3600 });
    h.apiMock.onGet('/x').reply((config) => [200, authOf(config)]);
    const outcome = await settleWithFakeTimers(h.api.get('/x'));
    expect(outcome).toMatchObject({ status: 'fulfilled', value: { data: 'Bearer fresh' } });
    expect(h.apiMock.history.get.map((request) => authOf(request))).toEqual(['Bearer fresh']);
    expect(h.events.find((event) => event.type === 'token-retry')).toMatchObject({ code: 'ERR_TOKEN_EXPIRED' });
    h.auth.eject();
    jest.useRealTimers();
  });
});

describe('MemoryTokenStore forgets', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  test('200 credential sets whose 16 KB tokens lived 1 s are swept after the handles are ejected', async () => {
    useFakeClock(NOW);
    const store = new MemoryTokenStore({ sweepIntervalMs: 5_000 });
    const tokenClient = axios.create();
    mockOf(tokenClient)
      .onPost(SYMBL_TOKEN_URL)
      // The longest tokens tokenflight takes (DEFAULTS.maxTokenLength), each one different.
      .reply(() => [
        200,
        {
          accessToken: `${'t'.repeat(DEFAULTS.maxTokenLength - 8)}${String(Math.random()).slice(2, 10).padEnd(8, '0')}`,
          expiresIn: 1,
        },
      ]);
    for (let set = 0; set < 200; set++) {
      const api = axios.create({ baseURL: 'https://api.symbl.ai' });
      const auth = attachTokenAuth(api, {
        providers: symbl({ appId: `app-${set}`, appSecret: `secret-${set}` }),
        store,
        tokenClient,
      });
      await auth.token();
      auth.eject();
    }
    expect(store.size).toBe(200);
    // No write and no read after this: the sweep alone drops them.
    await jest.advanceTimersByTimeAsync(5_000);
    expect(store.size).toBe(0);
  });

  test('at most maxEntries are held, the least recently used dropped first', async () => {
    const store = new MemoryTokenStore({ maxEntries: 2, now: () => NOW });
    const token = (accessToken: string): StoredToken => ({
      accessToken,
      tokenType: 'Bearer',
      expiresAt: NOW + 60_000,
      obtainedAt: NOW,
    });
    await store.set('a', token('a'));
    await store.set('b', token('b'));
    await store.get('a'); // a is now the most recently used
    await store.set('c', token('c'));
    expect(store.size).toBe(2);
    await expect(store.get('b')).resolves.toBeUndefined();
    await expect(store.get('a')).resolves.toMatchObject({ accessToken: 'a' });
    await expect(store.get('c')).resolves.toMatchObject({ accessToken: 'c' });
  });

  test('a maxEntries under 1 and a negative sweepIntervalMs are refused', () => {
    expect(() => new MemoryTokenStore({ maxEntries: 0 })).toThrow(
      'new MemoryTokenStore(): expected `maxEntries` to be an integer >= 1, got 0',
    );
    expect(() => new MemoryTokenStore({ sweepIntervalMs: -1 })).toThrow(TypeError);
  });
});

describe('store entries are validated on read', () => {
  test.each([
    ['CR/LF in the token', { accessToken: 'forged\r\nX-Injected: 1', tokenType: 'Bearer' }],
    ['non-ASCII in the token', { accessToken: 'tökén', tokenType: 'Bearer' }],
    ['a token type that is not a scheme', { accessToken: 'fine', tokenType: 'Bearer x' }],
    ['an expiry that is not a number', { accessToken: 'fine', tokenType: 'Bearer', expiresAt: 'soon' }],
  ])('an entry with %s is dropped, reported, and a fresh token is sent', async (_what, forged) => {
    const store = new MemoryTokenStore();
    const h = harness({ store, providers: symbl(CREDS) });
    // Learn the store key from a first, valid write, then forge the entry under it.
    h.tokenMock
      .onPost(SYMBL_TOKEN_URL)
      .replyOnce(200, { accessToken: 'first', expiresIn: 3600 })
      .onPost(SYMBL_TOKEN_URL)
      .reply(200, { accessToken: 'fresh', expiresIn: 3600 });
    const writes: string[] = [];
    const original = store.set.bind(store);
    store.set = (key, token) => {
      writes.push(key);
      return original(key, token);
    };
    await h.auth.token();
    const [key] = writes;
    await h.auth.invalidate();
    const entry = { expiresAt: Date.now() + 3_600_000, obtainedAt: Date.now(), ...forged } as unknown as StoredToken;
    await original(key!, entry);
    h.events.length = 0;
    h.apiMock.onGet('/x').reply((config) => [200, authOf(config)]);
    await expect(h.api.get('/x')).resolves.toMatchObject({ data: 'Bearer fresh' });
    const failed = h.events.find((event) => event.type === 'store-failed');
    expect(failed).toMatchObject({ operation: 'get', error: { code: 'ERR_STORE_ENTRY_INVALID' } });
    expect(isTokenflightError((failed as { error: unknown }).error)).toBe(true);
    expect(JSON.stringify(failed)).not.toContain(forged.accessToken);
    await expect(store.get(key!)).resolves.toMatchObject({ accessToken: 'fresh' });
    h.auth.eject();
  });
});
