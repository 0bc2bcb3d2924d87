import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import axios, { type AxiosInstance } from 'axios';
import axiosRetry from 'axios-retry';
import { attachTokenAuth, isTokenRequestError, type TokenAuth } from '../lib/index.js';
import { simulatedProvider, startProviderServer, type ProviderServer } from '../lib/testing/index.js';

// axios-retry and tokenflight in either order: tokenflight works where the request leaves (it wraps
// the adapter), so axios-retry's interceptors never see a 401 that tokenflight replays, and every
// attempt axios-retry makes goes out with the current token.
let server: ProviderServer;
let api: AxiosInstance;
let auth: TokenAuth;
const retried: number[] = [];

type Order = 'axios-retry first' | 'tokenflight first';

function setUp(order: Order): void {
  beforeEach(async () => {
    server = await startProviderServer('symbl');
    api = axios.create({ baseURL: server.url });
    retried.length = 0;
    const retry = (): void =>
      void axiosRetry(api, {
        retries: 2,
        retryDelay: () => 10,
        onRetry: (count) => void retried.push(count),
      });
    if (order === 'axios-retry first') retry();
    auth = attachTokenAuth(api, {
      providers: simulatedProvider(server),
      tokenRequest: { retries: 1, minDelayMs: 10, maxDelayMs: 10 },
    });
    if (order === 'tokenflight first') retry();
  });
}

afterEach(async () => {
  auth.eject();
  await server.close();
});

const apiRequests = (): string[] =>
  server.requests.filter((request) => request.kind === 'api').map((request) => request.authorization ?? 'none');

describe.each<Order>(['axios-retry first', 'tokenflight first'])('%s', (order) => {
  setUp(order);

  test('an API 503 is retried by axios-retry with the same token, and costs no token request', async () => {
    await api.get('/api/warm-up');
    server.queueApiFaults({ status: 503, body: { message: 'busy' } });
    const { data } = await api.get<{ ok: boolean }>('/api/items');

    expect(data.ok).toBe(true);
    expect(retried).toEqual([1]);
    expect(server.stats.tokenRequests).toBe(1);
    const [warmUp, first, retry] = apiRequests();
    expect(first).toBe(warmUp);
    expect(retry).toBe(warmUp);
  });

  test('a 401 is left to tokenflight: one token request and one replay, no axios-retry retry', async () => {
    await api.get('/api/warm-up');
    server.revokeAll();
    await Promise.all([api.get('/api/a'), api.get('/api/b'), api.get('/api/c')]);

    expect(retried).toEqual([]);
    expect(server.stats.tokenRequests).toBe(2);
    expect(server.stats.apiUnauthorized).toBe(3);
    expect(server.stats.apiSucceeded).toBe(4);
  });

  test('a 503 to the replay after a 401 is retried by axios-retry, still with the new token', async () => {
    await api.get('/api/warm-up');
    server.queueApiFaults({ status: 401 }, { status: 503 });
    const { data } = await api.get<{ ok: boolean }>('/api/items');

    expect(data.ok).toBe(true);
    expect(retried).toEqual([1]);
    expect(server.stats.tokenRequests).toBe(2);
    const [warmUp, rejected, replay, retry] = apiRequests();
    expect(rejected).toBe(warmUp);
    expect(replay).not.toBe(warmUp);
    expect(retry).toBe(replay);
  });

  test('token endpoint failures are retried by tokenflight alone, never multiplied by axios-retry', async () => {
    server.setTokenFault({ status: 503, body: { message: 'down' } });
    const error: unknown = await api.get('/api/items').catch((caught: unknown) => caught);

    expect(isTokenRequestError(error) && error.code).toBe('ERR_TOKEN_UNAVAILABLE');
    expect(server.stats.tokenRequests).toBe(2);
    expect(server.stats.apiRequests).toBe(0);
    expect(retried).toEqual([]);
  });
});

describe('the wait for a token, in either order', () => {
  // axios-retry counts the time since its request interceptor ran against the request's `timeout`
  // before it retries. tokenflight waits for a token where the request leaves, after every
  // interceptor, so in either order that wait is part of the request's time, as the caller sees it.
  async function firstCallAfterSlowTokenAnd503(order: Order, shouldResetTimeout: boolean): Promise<number> {
    const slow = await startProviderServer('symbl', { tokenLatencyMs: 700 });
    const client = axios.create({ baseURL: slow.url, timeout: 1_000 });
    const retry = (): void => void axiosRetry(client, { retries: 1, retryDelay: () => 400, shouldResetTimeout });
    if (order === 'axios-retry first') retry();
    const handle = attachTokenAuth(client, { providers: simulatedProvider(slow) });
    if (order === 'tokenflight first') retry();
    slow.queueApiFaults({ status: 503 });
    try {
      const response = await client
        .get('/api/items')
        .catch((error: unknown) => axios.isAxiosError(error) && error.response);
      return response === false || response === undefined ? 0 : response.status;
    } finally {
      handle.eject();
      await slow.close();
    }
  }

  test.each<Order>(['axios-retry first', 'tokenflight first'])(
    '%s: axios-retry counts the wait against `timeout` and gives up on the 503',
    async (order) => {
      expect(await firstCallAfterSlowTokenAnd503(order, false)).toBe(503);
    },
  );

  test.each<Order>(['axios-retry first', 'tokenflight first'])(
    '%s: with `shouldResetTimeout: true` the 503 is retried',
    async (order) => {
      expect(await firstCallAfterSlowTokenAnd503(order, true)).toBe(200);
    },
  );
});
