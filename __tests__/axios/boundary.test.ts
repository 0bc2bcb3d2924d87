import { afterEach, describe, expect, test } from '@jest/globals';
import axios, { AxiosError, type AxiosAdapter, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { CREDS, authOf, deferred, harness, issueSequentialTokens, type Harness } from '../helpers/index.js';
import { attachTokenAuth, symbl } from '../../lib/index.js';

// The send boundary: what tokenflight does where the request leaves. Rules 1, 5 and 9 are tested
// as a whole in their own suites; these are the boundary's own cases: configs sent again,
// ejection, waits that end, the replay's headers and events.

let h: Harness;
afterEach(() => h.auth.eject());

/** A function adapter answering 200 that records the Authorization header of each request. */
function recordingAdapter(): { adapter: AxiosAdapter; seen: string[] } {
  const seen: string[] = [];
  const adapter: AxiosAdapter = (config) => {
    seen.push(authOf(config) ?? 'none');
    return Promise.resolve({ data: {}, status: 200, statusText: 'OK', headers: {}, config } as AxiosResponse);
  };
  return { adapter, seen };
}

function setUp(reply: (config: InternalAxiosRequestConfig, calls: number) => [number, unknown?]): () => string[] {
  h = harness();
  issueSequentialTokens(h.tokenMock);
  const seen: string[] = [];
  h.apiMock.onAny().reply((config) => {
    seen.push(authOf(config) ?? 'none');
    return reply(config as InternalAxiosRequestConfig, seen.length);
  });
  return () => seen;
}

describe('a config sent again (a retry plugin, or the caller with error.config)', () => {
  test('gets the current token, and its adapter is not wrapped twice', async () => {
    const seen = setUp(() => [200, {}]);
    const first = await h.api.get('/x');
    await h.auth.invalidate();
    const again = await h.api.request(first.config);
    const third = await h.api.request(again.config);

    expect(seen()).toEqual(['Bearer token-1', 'Bearer token-2', 'Bearer token-2']);
    expect(again.config.adapter).toBe(first.config.adapter);
    expect(third.config.adapter).toBe(first.config.adapter);
  });

  test('rewritten to an origin no provider serves, it drops the token of its previous attempt', async () => {
    const seen = setUp(() => [200, {}]);
    const first = await h.api.get('/x');
    await h.api.request({ ...first.config, baseURL: 'https://other.example' });
    await h.api.request({ ...first.config, url: 'https://other.example/y' });

    expect(seen()).toEqual(['Bearer token-1', 'none', 'none']);
  });

  test('keeps a header of the caller’s own that is not tokenflight’s token', async () => {
    const seen = setUp(() => [200, {}]);
    const first = await h.api.get('/x');
    first.config.headers.set('Authorization', 'Basic dXNlcjpwYXNz');
    await h.api.request({ ...first.config, baseURL: 'https://other.example' });

    expect(seen()).toEqual(['Bearer token-1', 'Basic dXNlcjpwYXNz']);
  });

  test('a replayed config that is sent again and gets a 401 is not replayed a second time', async () => {
    const seen = setUp(() => [401]);
    const error = (await h.api.get('/x').catch((caught: unknown) => caught)) as AxiosError;
    expect(error.response?.status).toBe(401);
    const again = (await h.api.request(error.config!).catch((caught: unknown) => caught)) as AxiosError;

    expect(again.response?.status).toBe(401);
    expect(seen()).toEqual(['Bearer token-1', 'Bearer token-2', 'Bearer token-2']);
    expect(h.tokenCalls()).toBe(2);
  });
});

describe('after eject()', () => {
  test('a request already past the interceptors goes out untouched, and a resent config loses the token', async () => {
    h = harness();
    issueSequentialTokens(h.tokenMock);
    // A function adapter, which axios keeps on the config (axios-mock-adapter deletes it).
    const { adapter, seen } = recordingAdapter();
    const first = await h.api.get('/x', { adapter });
    const gate = deferred<undefined>();
    h.api.interceptors.request.use(async (config) => {
      await gate.promise;
      return config;
    });
    const pending = h.api.get('/y', { adapter });
    h.auth.eject();
    gate.resolve(undefined);
    await pending;
    await h.api.request(first.config);

    expect(seen).toEqual(['Bearer token-1', 'none', 'none']);
  });
});

describe('the wait for a token', () => {
  test('a request whose signal is aborted by the time it leaves fails at once and asks for no token', async () => {
    setUp(() => [200, {}]);
    const controller = new AbortController();
    // transformRequest runs after axios's own abort check and before the adapter: a late abort.
    const abortLate = (data: unknown): unknown => {
      controller.abort();
      return data;
    };
    const error: unknown = await h.api
      .get('/x', { signal: controller.signal, transformRequest: [abortLate] })
      .catch((caught: unknown) => caught);

    expect(axios.isCancel(error)).toBe(true);
    expect(h.tokenCalls()).toBe(0);
  });

  test('ends with ETIMEDOUT when the request asks for clarified timeout errors', async () => {
    h = harness();
    const token = deferred<[number, unknown]>();
    h.tokenMock.onPost().reply(() => token.promise);
    const error = (await h.api
      .get('/x', { timeout: 20, transitional: { clarifyTimeoutError: true } })
      .catch((caught: unknown) => caught)) as AxiosError;
    token.resolve([200, { accessToken: 'late', expiresIn: 60 }]);

    expect(error.code).toBe('ETIMEDOUT');
    expect(error.message).toBe('timeout of 20ms exceeded while waiting for a token');
    expect(error.config?.url).toBe('/x');
  });

  test('a CancelToken ends only its own wait', async () => {
    h = harness();
    const token = deferred<[number, unknown]>();
    h.tokenMock.onPost().reply(() => token.promise);
    h.apiMock.onAny().reply(200, { ok: true });
    const source = axios.CancelToken.source();
    const cancelled = h.api.get('/x', { cancelToken: source.token }).catch((caught: unknown) => caught);
    const patient = h.api.get('/y');
    source.cancel('changed my mind');
    token.resolve([200, { accessToken: 'token-1', expiresIn: 60 }]);

    const error = await cancelled;
    expect(axios.isCancel(error) && (error as { message?: string }).message).toBe('changed my mind');
    expect((await patient).status).toBe(200);
    expect(h.tokenCalls()).toBe(1);
  });
});

describe('the replay', () => {
  test('is reported with the new token’s fingerprint, method and a URL without its query', async () => {
    setUp((_config, calls) => (calls === 1 ? [401] : [200, {}]));
    await h.api.post('/v1/jobs?api_key=SECRET', { a: 1 });

    const replayed = h.events.filter((event) => event.type === 'request-replayed');
    const fetched = h.events.filter((event) => event.type === 'token-fetched');
    expect(replayed).toEqual([
      {
        type: 'request-replayed',
        provider: 'symbl',
        fingerprint: fetched[1]?.fingerprint,
        method: 'POST',
        url: 'https://api.symbl.ai/v1/jobs',
        stale: false,
      },
    ]);
  });

  test('carries the caller’s other headers, and the first attempt’s error keeps no token', async () => {
    const headers: Record<string, unknown>[] = [];
    h = harness();
    issueSequentialTokens(h.tokenMock);
    h.apiMock.onAny().reply((config) => {
      headers.push({ ...(config.headers as Record<string, unknown>) });
      return headers.length === 1 ? [401] : [200, {}];
    });
    const response = await h.api.get('/x', { headers: { 'X-Trace': 'abc' } });

    expect(headers.map((sent) => [sent['X-Trace'], sent['Authorization']])).toEqual([
      ['abc', 'Bearer token-1'],
      ['abc', 'Bearer token-2'],
    ]);
    expect(response.config.headers.get('Authorization')).toBe('Bearer token-2');
  });

  test('a failed replay reaches the caller with its token masked', async () => {
    setUp(() => [401]);
    const error = (await h.api.get('/x').catch((caught: unknown) => caught)) as AxiosError;

    expect(JSON.stringify(error.config?.headers)).not.toContain('token-2');
    expect(String(error.config?.headers.get('Authorization'))).toContain('Bearer');
  });

  test('an error that is not an axios error passes through untouched', async () => {
    h = harness();
    issueSequentialTokens(h.tokenMock);
    const failure = new Error('adapter broke');
    const broken: AxiosAdapter = () => Promise.reject(failure);
    await expect(h.api.get('/x', { adapter: broken })).rejects.toBe(failure);
  });

  test('a network error, without a response, is not replayed', async () => {
    h = harness();
    issueSequentialTokens(h.tokenMock);
    h.apiMock.onAny().networkError();
    const error = (await h.api.get('/x').catch((caught: unknown) => caught)) as AxiosError;

    expect(error.response).toBeUndefined();
    expect(h.tokenCalls()).toBe(1);
    expect(h.apiMock.history['get']).toHaveLength(1);
  });
});

describe('adapters', () => {
  test('a named adapter list and a function adapter are each wrapped once, whatever the number of requests', async () => {
    h = harness();
    issueSequentialTokens(h.tokenMock);
    const { adapter: counted } = recordingAdapter();
    const adapters = new Set<unknown>();
    for (let i = 0; i < 5; i++) {
      adapters.add((await h.api.get('/x', { adapter: counted })).config.adapter);
    }
    expect(adapters.size).toBe(1);
    expect([...adapters][0]).not.toBe(counted);
  });

  test('two attachments on two instances do not share wrappers or tokens', async () => {
    h = harness();
    issueSequentialTokens(h.tokenMock);
    const { adapter, seen } = recordingAdapter();
    const other = axios.create({ baseURL: 'https://api.symbl.ai', adapter });
    const otherTokens = axios.create();
    issueSequentialTokens(
      new (await import('axios-mock-adapter')).default(otherTokens as never, { onNoMatch: 'throwException' }),
    );
    const second = attachTokenAuth(other, { providers: symbl(CREDS), tokenClient: otherTokens });
    await h.api.get('/x', { adapter });
    await other.get('/x');
    second.eject();

    expect(seen).toEqual(['Bearer token-1', 'Bearer token-1']);
  });
});

describe('what the boundary leaves on the request', () => {
  test('one Authorization header, in the case the caller wrote it, holding the token', async () => {
    h = harness();
    issueSequentialTokens(h.tokenMock);
    const { adapter } = recordingAdapter();
    const response = await h.api.get('/x', { adapter, headers: { authorization: 'Basic dXNlcjpwYXNz' } });

    const keys = Object.keys(response.config.headers).filter((key) => key.toLowerCase() === 'authorization');
    expect(keys).toEqual(['authorization']);
    expect(response.config.headers['authorization']).toBe('Bearer token-1');
  });

  test('its state under `tokenAuth` serialises to provider and replay flag only, and is shared while the token is', async () => {
    h = harness();
    issueSequentialTokens(h.tokenMock);
    const { adapter } = recordingAdapter();
    const first = await h.api.get('/x', { adapter });
    const second = await h.api.get('/y', { adapter });
    const named = await h.api.get('/z', { adapter, tokenAuth: { provider: 'symbl' } });
    await h.auth.invalidate();
    const after = await h.api.get('/w', { adapter });

    expect(JSON.stringify(first.config.tokenAuth)).toBe('{"provider":"symbl","replayed":false}');
    expect(second.config.tokenAuth).toBe(first.config.tokenAuth);
    expect(named.config.tokenAuth).not.toBe(first.config.tokenAuth);
    expect(after.config.tokenAuth).not.toBe(first.config.tokenAuth);
    expect(JSON.stringify(after.config.tokenAuth)).toBe('{"provider":"symbl","replayed":false}');
  });

  test('a resent config loses only the header tokenflight wrote, not another holding the same value', async () => {
    h = harness();
    issueSequentialTokens(h.tokenMock);
    const { adapter } = recordingAdapter();
    const first = await h.api.get('/x', { adapter });
    first.config.headers.set('X-Forwarded-Authorization', 'Bearer token-1');
    const again = await h.api.request({ ...first.config, baseURL: 'https://other.example' });

    expect(again.config.headers.get('Authorization')).toBeUndefined();
    expect(again.config.headers.get('X-Forwarded-Authorization')).toBe('Bearer token-1');
  });

  test('a stream body that met a 401 names the method in its error', async () => {
    h = harness();
    issueSequentialTokens(h.tokenMock);
    h.apiMock.onAny().reply(401);
    const { Readable } = await import('node:stream');
    const error: unknown = await h.api.put('/upload', Readable.from(['x'])).catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 'ERR_BODY_NOT_REPLAYABLE' });
    expect((error as Error).message).toContain('to a PUT request whose body is a stream');
  });
});

describe('adapter wrappers', () => {
  test('one per named adapter setting, kept for at most 32 settings, and a list holding a function is never kept', async () => {
    const { startProviderServer, simulatedProvider } = await import('../../lib/testing/index.js');
    const server = await startProviderServer('symbl');
    const api = axios.create({ baseURL: server.url });
    const handle = attachTokenAuth(api, { providers: simulatedProvider(server) });
    const wrapperOf = async (adapter: NonNullable<InternalAxiosRequestConfig['adapter']>): Promise<unknown> =>
      (await api.get('/api/x', { adapter })).config.adapter;
    try {
      const http = await wrapperOf('http');
      expect(await wrapperOf('http')).toBe(http);
      const fetch = await wrapperOf('fetch');
      expect(fetch).not.toBe(http);
      expect(await wrapperOf('http')).toBe(http);
      expect(await wrapperOf(['http', 'fetch'])).toBe(await wrapperOf(['http', 'fetch']));
      const withFunction = ['http', axios.getAdapter('http')] as NonNullable<InternalAxiosRequestConfig['adapter']>;
      expect(await wrapperOf(withFunction)).not.toBe(await wrapperOf(withFunction));
      // 3 settings kept so far ('http', 'fetch', the list); 29 more fill the 32.
      for (let i = 1; i <= 29; i++) await wrapperOf(Array<'http'>(i + 1).fill('http'));
      expect(await wrapperOf('http')).toBe(http);
      await wrapperOf(Array<'http'>(31).fill('http')); // the 33rd: the kept wrappers start afresh
      expect(await wrapperOf('http')).not.toBe(http);
      expect(server.stats.tokenRequests).toBe(1);
    } finally {
      handle.eject();
      await server.close();
    }
  });

  test('without any adapter setting, axios’s default adapter is wrapped and used', async () => {
    const { startProviderServer, simulatedProvider } = await import('../../lib/testing/index.js');
    const server = await startProviderServer('symbl');
    const api = axios.create({ baseURL: server.url });
    Reflect.deleteProperty(api.defaults, 'adapter');
    const handle = attachTokenAuth(api, { providers: simulatedProvider(server) });
    try {
      server.revokeAll();
      const response = await api.get<{ ok: boolean }>('/api/x');
      expect(response.data.ok).toBe(true);
      expect(server.stats.apiSucceeded).toBe(1);
    } finally {
      handle.eject();
      await server.close();
    }
  });
});
