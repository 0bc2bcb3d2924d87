import axios, { type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import {
  attachTokenAuth,
  refreshTokenGrant,
  type TokenAuth,
  type TokenAuthEvent,
  type TokenStore,
} from '../../lib/index.js';
import type { AuthorizationServer } from '../../lib/testing/index.js';
import { countingTokenClient, outcomeCode, REQUEST_ID_HEADER, type Figures } from './load.js';

// Pages signed in with a rotating refresh token against the testing kit's authorization server,
// each with its own tokenflight handle and store, counted together as one scenario of the
// fault-injection table: requests and their outcomes, attempts per request (at the transport,
// where replays go too), token requests in flight (on one shared token client), and the server's
// own counts.

/** One page: its handle, and how it sends a counted request. */
export interface SessionPage {
  readonly auth: TokenAuth;
  send(): Promise<AxiosResponse>;
}

export interface SessionLoad {
  readonly events: TokenAuthEvent[];
  /**
   * Opens a page signed in with `refreshToken` (the option its app passes), its store `store`;
   * `options` adds an `onRefreshToken`, a token request time limit and the client
   * (default `public-client`).
   */
  open(
    store: TokenStore,
    refreshToken: string,
    options?: {
      onRefreshToken?: (refreshToken: string) => unknown;
      timeoutMs?: number;
      retries?: number;
      clientId?: string;
    },
  ): SessionPage;
  /** Waits for every request sent so far to settle. */
  settle(): Promise<void>;
  /** Every request's outcome code (`OK`, or what a caller would switch on), in the order sent. */
  codes(): string[];
  figures(scenario: string, setup: string): Figures;
  eject(): void;
}

export function sessionLoad(server: AuthorizationServer): SessionLoad {
  const tokens = countingTokenClient();
  const events: TokenAuthEvent[] = [];
  const attempts = new Map<string, number>();
  const tracked: Array<{ startedAt: number; settledAt?: number; result?: PromiseSettledResult<unknown> }> = [];
  const done: Array<Promise<unknown>> = [];
  const handles: TokenAuth[] = [];
  const http = axios.getAdapter('http');
  const counting = (config: InternalAxiosRequestConfig): Promise<AxiosResponse> => {
    const id = String(config.headers.get(REQUEST_ID_HEADER));
    attempts.set(id, (attempts.get(id) ?? 0) + 1);
    return http(config);
  };
  return {
    events,
    open(store, refreshToken, options = {}) {
      const api = axios.create({ baseURL: server.url, adapter: counting });
      const { onRefreshToken, timeoutMs, retries } = options;
      const auth = attachTokenAuth(api, {
        providers: refreshTokenGrant({
          tokenUrl: server.tokenUrl,
          clientId: options.clientId ?? 'public-client',
          refreshToken,
          ...(onRefreshToken === undefined ? {} : { onRefreshToken }),
        }),
        store,
        tokenClient: tokens.client,
        tokenRequest: {
          ...(timeoutMs === undefined ? {} : { timeoutMs }),
          ...(retries === undefined ? {} : { retries }),
        },
        onEvent: (event) => events.push(event),
      });
      handles.push(auth);
      return {
        auth,
        send() {
          const entry: (typeof tracked)[number] = { startedAt: performance.now() };
          tracked.push(entry);
          const promise = api.get(`/api/requests/${tracked.length}`, {
            headers: { [REQUEST_ID_HEADER]: String(tracked.length) },
          });
          done.push(
            promise.then(
              (value) => Object.assign(entry, { settledAt: performance.now(), result: { status: 'fulfilled', value } }),
              (reason: unknown) =>
                Object.assign(entry, { settledAt: performance.now(), result: { status: 'rejected', reason } }),
            ),
          );
          return promise;
        },
      };
    },
    settle: async () => {
      await Promise.all(done);
    },
    codes: () => tracked.map((entry) => (entry.result === undefined ? 'PENDING' : outcomeCode(entry.result))),
    figures(scenario, setup) {
      const failed: Record<string, number> = {};
      for (const entry of tracked) {
        const code = entry.result === undefined ? 'PENDING' : outcomeCode(entry.result);
        if (code !== 'OK') failed[code] = (failed[code] ?? 0) + 1;
      }
      const settled = tracked.filter((entry) => entry.result !== undefined);
      return {
        scenario,
        setup,
        sent: tracked.length,
        settled: settled.length,
        succeeded: settled.filter((entry) => entry.result?.status === 'fulfilled').length,
        failed,
        tokenRequests: server.stats.refreshRequests,
        tokensIssued: server.stats.rotations,
        replays: events.filter((event) => event.type === 'request-replayed').length,
        unauthorized: server.stats.apiUnauthorized,
        apiRequests: server.stats.apiRequests,
        maxAttemptsPerRequest: Math.max(0, ...attempts.values()),
        maxTokenRequestsInFlight: tokens.maxInFlight(),
        slowestMs: Math.round(Math.max(0, ...settled.map((entry) => (entry.settledAt ?? 0) - entry.startedAt))),
      };
    },
    eject: () => handles.splice(0).forEach((auth) => auth.eject()),
  };
}
