import axios, { type AxiosInstance } from 'axios';
import MockAdapter from 'axios-mock-adapter';
import { jest } from '@jest/globals';
import { attachTokenAuth, symbl, type TokenAuth, type TokenAuthEvent, type TokenAuthOptions } from '../../lib/index.js';

/**
 * axios-mock-adapter on an instance, failing on any unmatched request. Its type declarations
 * import axios's CommonJS types while these tests use the ES module ones; the two AxiosInstance
 * types are the same at run time, so the cast is confined here.
 */
export function mockOf(instance: AxiosInstance): MockAdapter {
  return new MockAdapter(instance as unknown as ConstructorParameters<typeof MockAdapter>[0], {
    onNoMatch: 'throwException',
  });
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A syntactically valid JWT with the given claims (unsigned: tokenflight never verifies). */
export function jwt(claims: Record<string, unknown>): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}.c2lnbmF0dXJl`;
}

export const SYMBL_URL = 'https://api.symbl.ai';
export const SYMBL_TOKEN_URL = `${SYMBL_URL}/oauth2/token:generate`;
export const CREDS = { appId: 'app-id-1234', appSecret: 'app-secret-SECRET-5678' } as const;

/** Lets pending promise callbacks run (microtasks and a few macrotask turns). */
export async function flush(turns = 10): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * Waits until `condition()` holds, checking between macrotask turns, for at most `timeoutMs` of
 * real time (it works under fake timers too). Some steps run off the event loop (WebCrypto
 * digests), so a fixed number of turns is not enough.
 */
export async function until(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms: ${condition.toString()}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

export function useFakeClock(now = Date.UTC(2026, 0, 1)): void {
  jest.useFakeTimers({ now, doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate', 'performance'] });
}

export interface Harness {
  api: AxiosInstance;
  apiMock: MockAdapter;
  tokenClient: AxiosInstance;
  tokenMock: MockAdapter;
  auth: TokenAuth;
  events: TokenAuthEvent[];
  /** Token requests that reached the mocked token endpoint. */
  tokenCalls: () => number;
}

/**
 * An axios instance on `https://api.symbl.ai` with tokenflight attached, and mocks for both the
 * API and the token endpoint (no match is an exception: nothing reaches the network).
 */
export function harness(options: Partial<TokenAuthOptions> = {}, baseURL = SYMBL_URL): Harness {
  const api = axios.create({ baseURL });
  const apiMock = mockOf(api);
  const tokenClient = axios.create();
  const tokenMock = mockOf(tokenClient);
  const events: TokenAuthEvent[] = [];
  const auth = attachTokenAuth(api, {
    providers: symbl(CREDS),
    tokenClient,
    onEvent: (event) => events.push(event),
    ...options,
  });
  return {
    api,
    apiMock,
    tokenClient,
    tokenMock,
    auth,
    events,
    tokenCalls: () => tokenMock.history.length,
  };
}

/** The Authorization header a mocked request carries, read inside the mock's reply (before any masking). */
export function authOf(config: { headers?: unknown }): string | undefined {
  const headers = config.headers as { get?: (name: string) => unknown } | Record<string, unknown> | undefined;
  const value =
    typeof headers?.get === 'function'
      ? headers.get('Authorization')
      : (headers as Record<string, unknown> | undefined)?.['Authorization'];
  return typeof value === 'string' ? value : undefined;
}

/** Replies to Symbl token requests with token-1, token-2, … */
export function issueSequentialTokens(mock: MockAdapter, expiresIn = 3600, url = SYMBL_TOKEN_URL): () => number {
  let issued = 0;
  mock.onPost(url).reply(() => {
    issued++;
    return [200, { accessToken: `token-${issued}`, expiresIn }];
  });
  return () => issued;
}

/**
 * Under fake timers: advances the clock in steps until `promise` settles, and returns its
 * outcome. Steps are small so the times code reads from Date.now() stay close to when it ran.
 */
export async function settleWithFakeTimers<T>(
  promise: Promise<T>,
  { stepMs = 10, maxMs = 120_000 } = {},
): Promise<PromiseSettledResult<T>> {
  let outcome: PromiseSettledResult<T> | undefined;
  promise.then(
    (value) => (outcome = { status: 'fulfilled', value }),
    (reason: unknown) => (outcome = { status: 'rejected', reason }),
  );
  for (let elapsed = 0; outcome === undefined; elapsed += stepMs) {
    if (elapsed > maxMs) throw new Error(`promise did not settle within ${maxMs} ms of fake time`);
    await flush(2);
    await jest.advanceTimersByTimeAsync(stepMs);
  }
  return outcome;
}

/**
 * Under fake timers: what `promise` resolves to (or throws what it rejects with), the clock
 * advanced in `stepMs` steps (1 ms unless given) until it settles.
 */
export async function settled<T>(promise: Promise<T>, { stepMs = 1, maxMs = 120_000 } = {}): Promise<T> {
  const outcome = await settleWithFakeTimers(promise, { stepMs, maxMs });
  if (outcome.status === 'rejected') throw outcome.reason;
  return outcome.value;
}
