import axios, { isAxiosError, isCancel, type AxiosInstance, type AxiosRequestConfig, type AxiosResponse } from 'axios';
import {
  attachTokenAuth,
  isTokenflightError,
  type TokenAuth,
  type TokenAuthEvent,
  type TokenAuthOptions,
} from '../../lib/index.js';
import { simulatedProvider, type ProviderServer } from '../../lib/testing/index.js';
import { until } from './index.js';

/** The header that names each request, so attempts can be counted per request at the server. */
export const REQUEST_ID_HEADER = 'x-test-request-id';

/** What one scenario measured: at the server, at the client, and in tokenflight's events. */
export interface Figures {
  scenario: string;
  /** What was injected, in words (inputs, not measurements). */
  setup: string;
  sent: number;
  settled: number;
  succeeded: number;
  /** Failed requests by how they failed: a TokenRequestError code, `HTTP 401`, `ERR_CANCELED`, `ECONNABORTED`… */
  failed: Record<string, number>;
  /** Token requests that reached the token endpoint. */
  tokenRequests: number;
  tokensIssued: number;
  /** `request-replayed` events. */
  replays: number;
  /** API requests the server answered 401. */
  unauthorized: number;
  /** API requests that reached the server, replays included. */
  apiRequests: number;
  /** The most API requests the server saw for any one request (2 = one replay). */
  maxAttemptsPerRequest: number;
  /** The most token requests in flight at once, seen on the token client. */
  maxTokenRequestsInFlight: number;
  /** The longest time a request took to settle, in ms. */
  slowestMs: number;
}

interface Tracked {
  readonly id: number;
  readonly startedAt: number;
  /** Resolves when the request settles, however it settles. */
  done: Promise<void>;
  settledAt?: number;
  result?: PromiseSettledResult<AxiosResponse>;
}

/** How a settled request ended: `OK` for a response, else the code callers would switch on. */
export function outcomeCode(result: PromiseSettledResult<unknown>): string {
  if (result.status === 'fulfilled') return 'OK';
  const reason: unknown = result.reason;
  if (isTokenflightError(reason)) return reason.code;
  if (isCancel(reason)) return 'ERR_CANCELED';
  if (isAxiosError(reason)) {
    if (reason.response !== undefined) return `HTTP ${reason.response.status}`;
    if (reason.code !== undefined) return reason.code;
  }
  const name = reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
  return `UNEXPECTED ${name}`;
}

/** Token requests counted on the token client: how many are in flight, and the most at once. */
export function countingTokenClient(): { client: AxiosInstance; inFlight: () => number; maxInFlight: () => number } {
  const client = axios.create();
  let inFlight = 0;
  let maxInFlight = 0;
  client.interceptors.request.use((config) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    return config;
  });
  client.interceptors.response.use(
    (response) => {
      inFlight--;
      return response;
    },
    (error: unknown) => {
      inFlight--;
      return Promise.reject(error);
    },
  );
  return { client, inFlight: () => inFlight, maxInFlight: () => maxInFlight };
}

/** A tokenflight-equipped client of one simulated provider that keeps account of every request it sends. */
export interface Load {
  readonly server: ProviderServer;
  readonly api: AxiosInstance;
  readonly auth: TokenAuth;
  readonly events: TokenAuthEvent[];
  /** Sends one request, named by a fresh id, and keeps track of how it ends. */
  send(config?: AxiosRequestConfig): Promise<AxiosResponse>;
  /** Sends `count` requests at once. */
  sendMany(count: number, config?: (index: number) => AxiosRequestConfig): Promise<AxiosResponse>[];
  /** How many requests have been sent so far. */
  sentCount(): number;
  /** How many requests have settled so far. */
  settledCount(): number;
  /** Every request sent so far with its outcome, in order. */
  outcomes(): { id: number; code: string; response: AxiosResponse | undefined }[];
  /**
   * Waits for every request sent so far to settle. The watchdog: if any is still pending after
   * `boundMs`, this throws, saying how many.
   */
  settle(boundMs: number): Promise<void>;
  /** Waits until every token request that reached the server belongs to a finished flight. */
  quiet(timeoutMs?: number): Promise<void>;
  /** Token requests that tokenflight's flights say they made (events), for comparison with the server's count. */
  tokenAttemptsReported(): number;
  figures(scenario: string, setup: string): Figures;
}

/** Attaches tokenflight to a fresh axios instance for `server`'s API, with a counting token client. */
export function loadOn(server: ProviderServer, options: Partial<TokenAuthOptions> = {}): Load {
  const api = axios.create({ baseURL: server.url });
  const tokens = countingTokenClient();
  const events: TokenAuthEvent[] = [];
  const auth = attachTokenAuth(api, {
    providers: simulatedProvider(server),
    tokenClient: tokens.client,
    onEvent: (event) => events.push(event),
    ...options,
  });
  const tracked: Tracked[] = [];
  let settledCount = 0;

  function send(config: AxiosRequestConfig = {}): Promise<AxiosResponse> {
    const entry: Tracked = { id: tracked.length + 1, startedAt: performance.now(), done: Promise.resolve() };
    tracked.push(entry);
    const promise = api.request({
      url: `/api/requests/${entry.id}`,
      ...config,
      headers: { ...(config.headers as Record<string, string> | undefined), [REQUEST_ID_HEADER]: String(entry.id) },
    });
    entry.done = promise.then(
      (value) => {
        entry.settledAt = performance.now();
        entry.result = { status: 'fulfilled', value };
        settledCount++;
      },
      (reason: unknown) => {
        entry.settledAt = performance.now();
        entry.result = { status: 'rejected', reason };
        settledCount++;
      },
    );
    return promise;
  }

  const pending = (): number => tracked.filter((entry) => entry.result === undefined).length;

  function attemptsPerRequest(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const request of server.requests) {
      if (request.kind !== 'api') continue;
      const id = request.headers[REQUEST_ID_HEADER];
      const key = typeof id === 'string' ? id : '(none)';
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
  }

  function tokenAttemptsReported(): number {
    let attempts = 0;
    for (const event of events) {
      if (event.type === 'token-fetched') attempts += event.attempts;
      if (event.type === 'token-failed') attempts += (event.error as { attempts?: number }).attempts ?? 0;
    }
    return attempts;
  }

  return {
    server,
    api,
    auth,
    events,
    send,
    sendMany: (count, config) => Array.from({ length: count }, (_, index) => send(config?.(index))),
    sentCount: () => tracked.length,
    settledCount: () => settledCount,
    outcomes: () =>
      tracked.map((entry) => ({
        id: entry.id,
        code: entry.result === undefined ? 'PENDING' : outcomeCode(entry.result),
        response: entry.result?.status === 'fulfilled' ? entry.result.value : undefined,
      })),
    async settle(boundMs) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const watchdog = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), boundMs)));
      // Requests sent while waiting (replays are not: they belong to their request) are waited for too.
      let seen = -1;
      while (seen !== tracked.length) {
        seen = tracked.length;
        const all = Promise.all(tracked.map((entry) => entry.done));
        if ((await Promise.race([all, watchdog])) === 'late') break;
      }
      clearTimeout(timer);
      if (pending() > 0)
        throw new Error(`${pending()} of ${tracked.length} requests were still pending after ${boundMs} ms`);
    },
    async quiet(timeoutMs = 5_000) {
      await until(() => tokens.inFlight() === 0 && tokenAttemptsReported() === server.stats.tokenRequests, timeoutMs);
    },
    tokenAttemptsReported,
    figures(scenario, setup) {
      const failed: Record<string, number> = {};
      let succeeded = 0;
      let slowestMs = 0;
      for (const entry of tracked) {
        if (entry.result === undefined) continue;
        slowestMs = Math.max(slowestMs, (entry.settledAt ?? entry.startedAt) - entry.startedAt);
        const code = outcomeCode(entry.result);
        if (code === 'OK') succeeded++;
        else failed[code] = (failed[code] ?? 0) + 1;
      }
      const attempts = attemptsPerRequest();
      return {
        scenario,
        setup,
        sent: tracked.length,
        settled: tracked.length - pending(),
        succeeded,
        failed,
        tokenRequests: server.stats.tokenRequests,
        tokensIssued: server.stats.tokensIssued,
        replays: events.filter((event) => event.type === 'request-replayed').length,
        unauthorized: server.stats.apiUnauthorized,
        apiRequests: server.stats.apiRequests,
        maxAttemptsPerRequest: Math.max(0, ...attempts.values()),
        maxTokenRequestsInFlight: tokens.maxInFlight(),
        slowestMs: Math.round(slowestMs),
      };
    },
  };
}
