import { afterEach, describe, expect, jest, test } from '@jest/globals';
import axios from 'axios';
import { inspect } from 'node:util';
import {
  attachTokenAuth,
  customProvider,
  isTokenRequestError,
  MemoryTokenStore,
  type CustomProviderOptions,
  type GetTokenContext,
  type TokenAuth,
  type TokenAuthEvent,
} from '../../lib/index.js';
import { deferred, mockOf } from '../helpers/index.js';

// customProvider(): any function as a token source, under the same rules as the built-in providers.

const ORIGIN = 'https://api.example.com';
const handles: TokenAuth[] = [];
afterEach(() => {
  for (const handle of handles.splice(0)) handle.eject();
  jest.useRealTimers();
});

function setUp(
  getToken: CustomProviderOptions['getToken'],
  extra: { store?: MemoryTokenStore; cacheKey?: string } = {},
) {
  const api = axios.create({ baseURL: ORIGIN });
  const mock = mockOf(api);
  const seen: (string | undefined)[] = [];
  mock.onGet('/data').reply((config) => {
    const header = config.headers?.['Authorization'] as string | undefined;
    seen.push(header);
    return header === 'Bearer rejected' ? [401, {}] : [200, { ok: true }];
  });
  const events: TokenAuthEvent[] = [];
  const auth = attachTokenAuth(api, {
    providers: customProvider({
      name: 'mine',
      origins: [ORIGIN],
      getToken,
      ...(extra.cacheKey === undefined ? {} : { cacheKey: extra.cacheKey }),
    }),
    ...(extra.store === undefined ? {} : { store: extra.store }),
    tokenRequest: { timeoutMs: 200 },
    onEvent: (event) => events.push(event),
  });
  handles.push(auth);
  return { api, auth, seen, events };
}

describe('customProvider', () => {
  test('200 concurrent cold requests call getToken once and all carry its token', async () => {
    const answer = deferred<string>();
    const getToken = jest.fn((context: GetTokenContext) => (context.reason === 'missing' ? answer.promise : 'none'));
    const { api, seen } = setUp(getToken);
    const requests = Promise.all(Array.from({ length: 200 }, () => api.get('/data')));
    answer.resolve('tok-1');
    await requests;
    expect(getToken).toHaveBeenCalledTimes(1);
    expect(getToken.mock.calls[0]?.[0].reason).toBe('missing');
    expect(new Set(seen)).toEqual(new Set(['Bearer tok-1']));
  });

  test('a thrown value reaches every waiter as a TokenRequestError whose cause it is, and is not cached', async () => {
    const thrown = new Error('sdk down');
    const getToken = jest
      .fn<CustomProviderOptions['getToken']>()
      .mockRejectedValueOnce(thrown)
      .mockResolvedValue('tok-2');
    const { api } = setUp(getToken);
    const failures = await Promise.all(Array.from({ length: 5 }, () => api.get('/data').catch((e: unknown) => e)));
    for (const failure of failures) {
      expect(isTokenRequestError(failure) && failure.code).toBe('ERR_TOKEN_SOURCE_FAILED');
      expect((failure as Error).cause).toBe(thrown);
      expect(failure).toMatchObject({ provider: 'mine', url: 'custom:mine' });
    }
    expect((await api.get('/data')).status).toBe(200);
    expect(getToken).toHaveBeenCalledTimes(2);
  });

  test.each([
    ['an empty string', ''],
    ['a token with a space', 'two words'],
    ['a number', 42],
    ['an object without a token', { tokenType: 'Bearer' }],
    ['a bad token type', { accessToken: 'ok', tokenType: 'not a scheme' }],
    ['a negative expiresIn', { accessToken: 'ok', expiresIn: -1 }],
    ['an expiresAt that is not finite', { accessToken: 'ok', expiresAt: Infinity }],
    ['an expired token', { accessToken: 'ok', expiresAt: 1 }],
  ])('%s is ERR_TOKEN_MALFORMED, never cached, never quoted', async (_, value) => {
    const getToken = jest.fn(() => value as string);
    const { api, seen } = setUp(getToken);
    const error = await api.get('/data').catch((e: unknown) => e);
    expect(isTokenRequestError(error) && error.code).toBe('ERR_TOKEN_MALFORMED');
    expect(seen).toEqual([]);
    if (typeof value === 'object' && 'accessToken' in value) {
      expect(`${String(error)} ${JSON.stringify(error)} ${inspect(error)}`).not.toContain('"ok"');
    }
    await api.get('/data').catch(() => undefined);
    expect(getToken).toHaveBeenCalledTimes(2);
  });

  test('expiresIn (seconds) and expiresAt (epoch ms) set the expiry; tokenType is kept', async () => {
    jest.useFakeTimers({ now: 1_000_000, doNotFake: ['nextTick', 'setImmediate'] });
    const first = setUp(() => ({ accessToken: 'a', expiresIn: 60 }));
    expect(await first.auth.token()).toEqual({ accessToken: 'a', tokenType: 'Bearer', expiresAt: 1_060_000 });
    const second = setUp(() => ({ accessToken: 'b', tokenType: 'DPoP', expiresAt: 2_000_000 }));
    expect(await second.auth.token()).toEqual({ accessToken: 'b', tokenType: 'DPoP', expiresAt: 2_000_000 });
  });

  test('inside the refresh window the token stays in use while getToken runs once in the background, with reason refresh-window', async () => {
    let n = 0;
    const getToken = jest.fn(({ reason }: GetTokenContext) => ({ accessToken: `t${++n}-${reason}`, expiresIn: 120 }));
    jest.useFakeTimers({ now: 0, doNotFake: ['nextTick', 'setImmediate'] });
    const { api, auth, seen } = setUp(getToken);
    await api.get('/data');
    jest.setSystemTime(90_000);
    await api.get('/data');
    while ((await auth.token()).accessToken.startsWith('t1')) await new Promise((resolve) => setImmediate(resolve));
    await api.get('/data');
    expect(getToken).toHaveBeenCalledTimes(2);
    expect(seen).toEqual(['Bearer t1-missing', 'Bearer t1-missing', 'Bearer t2-refresh-window']);
  });

  test('a 401 for the current token calls getToken with reason rejected and replays once', async () => {
    const tokens = ['rejected', 'fresh'];
    const getToken = jest.fn(() => tokens.shift() ?? 'none');
    const { api, seen } = setUp(getToken);
    expect((await api.get('/data')).status).toBe(200);
    expect(seen).toEqual(['Bearer rejected', 'Bearer fresh']);
    expect(getToken.mock.calls.map((call) => (call as unknown as [GetTokenContext])[0].reason)).toEqual([
      'missing',
      'rejected',
    ]);
  });

  test('a shared store keys by name and cacheKey: same key shares one call, another cacheKey does not', async () => {
    const store = new MemoryTokenStore();
    const a = jest.fn(() => 'shared');
    const b = jest.fn(() => 'other');
    const c = jest.fn(() => 'tenant-2');
    await setUp(a, { store, cacheKey: 't1' }).api.get('/data');
    const second = setUp(b, { store, cacheKey: 't1' });
    await second.api.get('/data');
    const third = setUp(c, { store, cacheKey: 't2' });
    await third.api.get('/data');
    expect([a.mock.calls.length, b.mock.calls.length, c.mock.calls.length]).toEqual([1, 0, 1]);
    expect(second.seen).toEqual(['Bearer shared']);
    expect(third.seen).toEqual(['Bearer tenant-2']);
  });

  test('eject aborts the signal getToken was given, and the waiter gets ERR_TOKEN_ABORTED even if getToken ignores it', async () => {
    const called = deferred<AbortSignal>();
    const { api, auth } = setUp((context) => {
      called.resolve(context.signal);
      return new Promise<string>(() => undefined);
    });
    const pending = api.get('/data').catch((e: unknown) => e);
    const signal = await called.promise;
    auth.eject();
    expect(signal.aborted).toBe(true);
    expect(isTokenRequestError(await pending) && ((await pending) as { code: string }).code).toBe('ERR_TOKEN_ABORTED');
  });

  test('a getToken that never settles ends with ERR_TOKEN_TIMEOUT after tokenRequest.timeoutMs, its signal aborted', async () => {
    let signal: AbortSignal | undefined;
    const { api } = setUp((context) => {
      signal = context.signal;
      return new Promise<string>(() => undefined);
    });
    const error = await api.get('/data').catch((e: unknown) => e);
    expect(isTokenRequestError(error) && error.code).toBe('ERR_TOKEN_TIMEOUT');
    expect(signal?.aborted).toBe(true);
  });

  test('events carry the fingerprint, never the token', async () => {
    const { api, events } = setUp(() => 'secret-token-value');
    await api.get('/data');
    const fetched = events.find((event) => event.type === 'token-fetched');
    expect(fetched).toMatchObject({ provider: 'mine', attempts: 1, reason: 'missing' });
    expect(JSON.stringify(events)).not.toContain('secret-token-value');
  });

  test('options are checked at construction', () => {
    const base = { name: 'x', origins: [ORIGIN], getToken: () => 't' };
    expect(() => customProvider({ ...base, getToken: undefined as never })).toThrow(
      'expected `getToken` to be a function',
    );
    expect(() => customProvider({ ...base, origins: undefined as never })).toThrow('expected `origins`');
    expect(() => customProvider({ ...base, name: '' })).toThrow('expected `name` to be a non-empty string');
    expect(() => customProvider({ ...base, extra: 1 } as never)).toThrow('unknown option `extra`');
    expect(Object.keys(customProvider(base))).toEqual(['name', 'origins', 'originsFrom', 'tokenUrl']);
  });
});
