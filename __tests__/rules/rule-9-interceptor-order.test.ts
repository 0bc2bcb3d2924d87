import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import axios, { AxiosHeaders, type AxiosAdapter, type AxiosInstance, type InternalAxiosRequestConfig } from 'axios';
import axiosRetry from 'axios-retry';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { attachTokenAuth, type TokenAuth, type TokenAuthEvent } from '../../lib/index.js';
import { simulatedProvider, startProviderServer, type ProviderServer } from '../../lib/testing/index.js';
import { mockOf } from '../helpers/index.js';

// Rule 9: tokenflight is correct wherever it sits in the client's interceptor chain. Each case runs
// with tokenflight attached before the client's own interceptors and after them, and asserts at the
// servers (which origin got which header, token requests, 401s) and at the caller (what it received,
// how often each of the client's interceptors ran).
//
// axios only, by nature: interceptors are axios's. A fetch has no chain to sit in: what a fetch
// client wraps around auth.fetch (ky's hooks, ofetch's interceptors) runs outside it and sees one
// call and one answer (__tests__/fetch/clients.test.ts).

type Order = 'tokenflight attached first' | 'tokenflight attached last';
const ORDERS: readonly Order[] = ['tokenflight attached first', 'tokenflight attached last'];

interface Foreign {
  readonly url: string;
  readonly seen: { path: string; authorization: string | undefined }[];
  close(): Promise<void>;
}

/** Another origin on loopback that records what reaches it and answers 200. */
async function startForeign(): Promise<Foreign> {
  const seen: Foreign['seen'] = [];
  const server: Server = createServer((request, response) => {
    seen.push({ path: request.url ?? '', authorization: request.headers.authorization });
    response.writeHead(200, { 'Content-Type': 'application/json' });
    response.end(JSON.stringify({ ok: true, foreign: true }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

class ClientError extends Error {
  constructor(readonly status: number | undefined) {
    super(`client error ${String(status)}`);
  }
}

let server: ProviderServer;
let foreign: Foreign;
let api: AxiosInstance;
let auth: TokenAuth | undefined;
let events: TokenAuthEvent[];

beforeEach(async () => {
  [server, foreign] = await Promise.all([startProviderServer('symbl'), startForeign()]);
  api = axios.create({ baseURL: server.url });
  events = [];
  auth = undefined;
});

afterEach(async () => {
  const issued = new Set(server.tokens.map((token) => `Bearer ${token.accessToken}`));
  auth?.eject();
  await Promise.all([server.close(), foreign.close()]);
  // Whatever the case, no token of the provider ever reached the other origin.
  expect(
    foreign.seen.filter((request) => request.authorization !== undefined && issued.has(request.authorization)),
  ).toEqual([]);
});

/** Installs the client's own interceptors and tokenflight, in the given order. */
function setUp(order: Order, install: (instance: AxiosInstance) => void, instance: AxiosInstance = api): void {
  const attach = (): void => {
    auth = attachTokenAuth(instance, {
      providers: simulatedProvider(server),
      onEvent: (event) => events.push(event),
    });
  };
  if (order === 'tokenflight attached first') attach();
  install(instance);
  if (order === 'tokenflight attached last') attach();
}

const issuedHeaders = (): Set<string> => new Set(server.tokens.map((token) => `Bearer ${token.accessToken}`));
const apiAuthorizations = (): (string | undefined)[] =>
  server.requests.filter((request) => request.kind === 'api').map((request) => request.authorization);

/** 10 concurrent calls, a revocation, 10 more: the counts a correct client shows at the server. */
async function callsAcrossRevocation<T>(call: () => Promise<T>): Promise<T[]> {
  const before = await Promise.all(Array.from({ length: 10 }, call));
  server.revokeAll();
  const after = await Promise.all(Array.from({ length: 10 }, call));
  return [...before, ...after];
}

describe.each(ORDERS)('%s', (order) => {
  test('a request interceptor that sets its own Authorization never makes a stale token go out', async () => {
    let ran = 0;
    setUp(order, (instance) => {
      instance.interceptors.request.use((config) => {
        ran++;
        config.headers.set('Authorization', 'Bearer hand-written-static-token');
        return config;
      });
    });

    const responses = await callsAcrossRevocation(() => api.get<{ ok: boolean }>('/api/items'));

    expect(responses.every((response) => response.data.ok)).toBe(true);
    expect(ran).toBe(20);
    expect(server.stats.tokenRequests).toBe(2);
    expect(server.stats.apiUnauthorized).toBe(10); // only the calls that met the revocation
    const issued = issuedHeaders();
    expect(apiAuthorizations().every((header) => header !== undefined && issued.has(header))).toBe(true);
  });

  describe.each([
    ['synchronous', true],
    ['asynchronous', false],
  ] as const)('a %s request interceptor that sends the request to another origin', (_kind, synchronous) => {
    const rewrite = (change: (config: InternalAxiosRequestConfig) => void) => (instance: AxiosInstance) => {
      const interceptor = (config: InternalAxiosRequestConfig): InternalAxiosRequestConfig => {
        change(config);
        return config;
      };
      if (synchronous) instance.interceptors.request.use(interceptor, undefined, { synchronous: true });
      else instance.interceptors.request.use(async (config) => Promise.resolve(interceptor(config)));
    };

    test.each([
      ['by rewriting `baseURL`', (config: InternalAxiosRequestConfig) => void (config.baseURL = foreign.url)],
      [
        'by setting an absolute `url`',
        (config: InternalAxiosRequestConfig) => void (config.url = `${foreign.url}/moved`),
      ],
    ])('%s: the token never goes there, and the miss is reported once', async (_how, change) => {
      setUp(order, rewrite(change));

      const responses = await Promise.all(Array.from({ length: 5 }, () => api.get<{ foreign: boolean }>('/api/items')));

      expect(responses.every((response) => response.data.foreign)).toBe(true);
      expect(foreign.seen).toHaveLength(5);
      expect(foreign.seen.every((request) => request.authorization === undefined)).toBe(true);
      expect(server.stats.apiRequests).toBe(0);
      expect(server.stats.tokenRequests).toBe(0);
      expect(events.filter((event) => event.type === 'request-unrouted')).toEqual([
        {
          type: 'request-unrouted',
          provider: null,
          origin: foreign.url,
          url: expect.stringContaining(foreign.url) as unknown,
          servedOrigins: [server.url],
        },
      ]);
    });

    test('rewriting a foreign URL to the provider’s origin gets the provider’s token', async () => {
      const client = axios.create({ baseURL: foreign.url });
      setUp(
        order,
        rewrite((config) => void (config.baseURL = server.url)),
        client,
      );

      const responses = await callsAcrossRevocation(() => client.get<{ ok: boolean }>('/api/items'));

      expect(responses.every((response) => response.data.ok)).toBe(true);
      expect(foreign.seen).toHaveLength(0);
      expect(server.stats.tokenRequests).toBe(2);
      const issued = issuedHeaders();
      expect(apiAuthorizations().every((header) => header !== undefined && issued.has(header))).toBe(true);
    });
  });

  test('a data-unwrapping response interceptor runs once per call, and the caller gets its data after a replay', async () => {
    let ran = 0;
    setUp(order, (instance) => {
      instance.interceptors.response.use((response) => {
        ran++;
        return response.data as never;
      });
    });

    const results = (await callsAcrossRevocation(() => api.get('/api/items'))) as unknown as {
      ok: boolean;
      path: string;
    }[];

    expect(results.map((result) => result.ok)).toEqual(Array(20).fill(true));
    expect(results.every((result) => result.path === '/api/items')).toBe(true);
    expect(ran).toBe(20);
    expect(server.stats.apiUnauthorized).toBe(10);
    expect(server.stats.tokenRequests).toBe(2);
  });

  test('an error-mapping response interceptor never hides the 401 from tokenflight', async () => {
    let mapped = 0;
    setUp(order, (instance) => {
      instance.interceptors.response.use(undefined, (error: unknown) => {
        mapped++;
        return Promise.reject(new ClientError(axios.isAxiosError(error) ? error.response?.status : undefined));
      });
    });

    const responses = await callsAcrossRevocation(() => api.get<{ ok: boolean }>('/api/items'));

    expect(responses.every((response) => response.data.ok)).toBe(true);
    expect(mapped).toBe(0);
    expect(server.stats.apiUnauthorized).toBe(10);
    expect(server.stats.tokenRequests).toBe(2);

    // An API that rejects every token: one replay, then the client's own error, mapped once.
    server.setApiAlwaysUnauthorized(true);
    server.resetStats();
    const error = await api.get('/api/items').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).status).toBe(401);
    expect(mapped).toBe(1);
    expect(server.stats.apiRequests).toBe(2);
    expect(server.stats.tokenRequests).toBe(1);
  });

  test('a counting request and response interceptor pair each run once per call', async () => {
    const counts = { request: 0, response: 0, error: 0 };
    setUp(order, (instance) => {
      instance.interceptors.request.use((config) => {
        counts.request++;
        return config;
      });
      instance.interceptors.response.use(
        (response) => {
          counts.response++;
          return response;
        },
        (error: unknown) => {
          counts.error++;
          return Promise.reject(error);
        },
      );
    });

    await callsAcrossRevocation(() => api.get('/api/items'));

    expect(counts).toEqual({ request: 20, response: 20, error: 0 });
    expect(server.stats.apiUnauthorized).toBe(10);
  });

  test('axios-retry retries a 503 with the current token, and leaves 401s to tokenflight', async () => {
    const retried: number[] = [];
    setUp(order, (instance) => {
      axiosRetry(instance, { retries: 2, retryDelay: () => 10, onRetry: (count) => void retried.push(count) });
    });

    await api.get('/api/warm-up');
    server.queueApiFaults({ status: 503 });
    expect((await api.get<{ ok: boolean }>('/api/items')).data.ok).toBe(true);
    server.revokeAll();
    expect((await api.get<{ ok: boolean }>('/api/items')).data.ok).toBe(true);

    expect(retried).toEqual([1]);
    expect(server.stats.tokenRequests).toBe(2);
    expect(server.stats.apiUnauthorized).toBe(1);
    const [warmUp, unavailable, retry, rejected, replay] = apiAuthorizations();
    expect([unavailable, retry, rejected]).toEqual([warmUp, warmUp, warmUp]);
    expect(replay).not.toBe(warmUp);
    expect(issuedHeaders().has(replay ?? '')).toBe(true);
  });

  test('axios-mock-adapter, created before or after attaching, sees the token and its 401 is replayed', async () => {
    const seen: unknown[] = [];
    setUp(order, (instance) => {
      mockOf(instance)
        .onGet('/api/items')
        .reply((config) => {
          seen.push(new AxiosHeaders(config.headers as Record<string, string>).get('Authorization'));
          return seen.length === 1 ? [401] : [200, { mocked: true }];
        });
    });

    const { data } = await api.get<{ mocked: boolean }>('/api/items');

    expect(data.mocked).toBe(true);
    expect(seen).toHaveLength(2);
    const issued = issuedHeaders();
    expect(seen.every((header) => issued.has(String(header)))).toBe(true);
    expect(seen[1]).not.toBe(seen[0]);
    expect(server.stats.tokenRequests).toBe(2);
  });

  test.each(['fetch', 'http'] as const)('a per-request `%s` adapter gets the token and the replay', async (adapter) => {
    const counts = { request: 0, response: 0 };
    setUp(order, (instance) => {
      instance.interceptors.request.use((config) => {
        counts.request++;
        return config;
      });
      instance.interceptors.response.use((response) => {
        counts.response++;
        return response;
      });
    });

    const responses = await callsAcrossRevocation(() => api.get<{ ok: boolean }>('/api/items', { adapter }));

    expect(responses.every((response) => response.data.ok)).toBe(true);
    expect(counts).toEqual({ request: 20, response: 20 });
    expect(server.stats.tokenRequests).toBe(2);
    expect(server.stats.apiUnauthorized).toBe(10);
  });

  test('a per-request adapter function gets the token written last, over the client’s own header', async () => {
    const seen: string[] = [];
    const adapter: AxiosAdapter = (config) => {
      seen.push(String(config.headers.get('Authorization')));
      return Promise.resolve({ data: { custom: true }, status: 200, statusText: 'OK', headers: {}, config });
    };
    setUp(order, (instance) => {
      instance.interceptors.request.use((config) => {
        config.headers.set('Authorization', 'Bearer hand-written-static-token');
        return config;
      });
    });

    const { data } = await api.get<{ custom: boolean }>('/api/items', { adapter });

    expect(data.custom).toBe(true);
    expect(seen).toEqual([`Bearer ${server.tokens[0]?.accessToken ?? 'none'}`]);
  });
});

describe('requests no provider serves', () => {
  test('are reported once per origin, with the origins the providers serve, and logged as a warning', async () => {
    const lines: { level: string; message: string }[] = [];
    const logger = {
      debug: (_fields: unknown, message: string) => void lines.push({ level: 'debug', message }),
      info: (_fields: unknown, message: string) => void lines.push({ level: 'info', message }),
      warn: (_fields: unknown, message: string) => void lines.push({ level: 'warn', message }),
    };
    const typo = axios.create({ baseURL: foreign.url.replace('127.0.0.1', 'localhost') });
    auth = attachTokenAuth(typo, {
      providers: simulatedProvider(server),
      onEvent: (event) => events.push(event),
      logger,
    });

    await Promise.all(Array.from({ length: 5 }, () => typo.get('/api/items?api_key=SECRET')));
    await typo.get(`${foreign.url}/other`);

    const unrouted = events.filter((event) => event.type === 'request-unrouted');
    expect(unrouted.map((event) => event.origin)).toEqual([foreign.url.replace('127.0.0.1', 'localhost'), foreign.url]);
    expect(unrouted.every((event) => event.servedOrigins.join() === server.url)).toBe(true);
    expect(JSON.stringify(unrouted)).not.toContain('SECRET');
    const logged = lines.filter((line) => line.message.includes('no provider serves'));
    expect(logged.map((line) => line.level)).toEqual(['warn', 'warn']);
    expect(logged[0]?.message).toContain(server.url);
    expect(server.stats.tokenRequests).toBe(0);
  });

  test('a request with `tokenAuth: false` is not reported', async () => {
    auth = attachTokenAuth(api, { providers: simulatedProvider(server), onEvent: (event) => events.push(event) });

    await api.get(`${foreign.url}/x`, { tokenAuth: false });

    expect(events.filter((event) => event.type === 'request-unrouted')).toEqual([]);
    expect(foreign.seen).toHaveLength(1);
  });
});
