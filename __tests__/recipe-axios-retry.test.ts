import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import axios, { type AxiosInstance } from 'axios';
import axiosRetry from 'axios-retry';
import { attachTokenAuth, isTokenRequestError, type TokenAuth } from '../lib/index.js';
import { simulatedProvider, startProviderServer, type ProviderServer } from '../lib/testing/index.js';

// The setup docs/recipes.md recommends: axios-retry first, tokenflight second. axios runs request
// interceptors in reverse order of registration (tokenflight's first: the token is attached before
// axios-retry stamps the attempt) and response interceptors in order (axios-retry's first: it
// retries 5xx and network errors; a 401 is not retryable for it and reaches tokenflight).
let server: ProviderServer;
let api: AxiosInstance;
let auth: TokenAuth;
const retried: number[] = [];

beforeEach(async () => {
  server = await startProviderServer('symbl');
  api = axios.create({ baseURL: server.url });
  retried.length = 0;
  axiosRetry(api, {
    retries: 2,
    retryDelay: () => 10,
    onRetry: (count) => void retried.push(count),
  });
  auth = attachTokenAuth(api, {
    providers: simulatedProvider(server),
    tokenRequest: { retries: 1, minDelayMs: 10, maxDelayMs: 10 },
  });
});

afterEach(async () => {
  auth.eject();
  await server.close();
});

const apiRequests = (): string[] =>
  server.requests.filter((request) => request.kind === 'api').map((request) => request.authorization ?? 'none');

describe('axios-retry registered first, tokenflight second', () => {
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

describe('why the order matters', () => {
  // axios-retry counts the time since its request interceptor ran against the request's `timeout`
  // before it retries. Registered first, its interceptor runs after tokenflight's, so time spent
  // waiting for a token is not counted; registered second, it is, and a retry can be refused.
  async function firstCallAfterSlowTokenAnd503(order: 'retry-first' | 'tokenflight-first'): Promise<number> {
    const slow = await startProviderServer('symbl', { tokenLatencyMs: 700 });
    const client = axios.create({ baseURL: slow.url, timeout: 1_000 });
    const retry = (): void => void axiosRetry(client, { retries: 1, retryDelay: () => 400 });
    if (order === 'retry-first') retry();
    const handle = attachTokenAuth(client, { providers: simulatedProvider(slow) });
    if (order === 'tokenflight-first') retry();
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

  test('registered first, axios-retry does not count the wait for a token: the 503 is retried', async () => {
    expect(await firstCallAfterSlowTokenAnd503('retry-first')).toBe(200);
  });

  test('registered second, it counts the wait for a token against the timeout and gives up on the 503', async () => {
    expect(await firstCallAfterSlowTokenAnd503('tokenflight-first')).toBe(503);
  });
});
