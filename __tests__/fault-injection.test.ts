import { afterAll, afterEach, describe, expect, test } from '@jest/globals';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import {
  DEFAULTS,
  isTokenflightError,
  isTokenRequestError,
  MemoryTokenStore,
  type TokenAuthOptions,
  type TokenStore,
} from '../lib/index.js';
import {
  startProviderServer,
  type ProviderServer,
  type ProviderServerOptions,
  type SimulatedKind,
  type TokenFault,
} from '../lib/testing/index.js';
import { BrowserTokenStore, type BrowserTokenStoreOptions } from '../lib/browser.js';
import { startAuthorizationServer, type AuthorizationServer } from '../lib/testing/index.js';
import {
  createChannels,
  createIndexedDB,
  createLockManager,
  createOrigin,
  createTabStorage,
  type FakeTabStorage,
} from './browser/helpers/fakes.js';
import { until } from './helpers/index.js';
import { RedisTokenStore } from '../lib/redis.js';
import { EVICTION_RECHECK_MS } from '../lib/stores/redis/eviction.js';
import { createClients } from './redis/helpers/env.js';
import { findRedisServer, startRedisServer, type RedisServer } from './redis/helpers/redis-server.js';
import { loadOn, type Figures, type Load } from './helpers/load.js';
import { writeFigures } from './helpers/reliability-report.js';
import { sessionLoad, type SessionLoad } from './helpers/session-load.js';

// Fault injection on the loopback provider simulation: real axios instances, real HTTP, faults
// played by the token endpoint. Each scenario counts at the server (token requests, API requests,
// 401s) and at the client (outcome of every request, replays, token requests in flight), and a
// watchdog fails it if any request is still pending after a generous bound.
// `RELIABILITY_REPORT=1 npx jest __tests__/fault-injection.test.ts` writes the figures of the run
// into docs/reliability.md.

const REPORT_FILE = resolve(__dirname, '../docs/reliability.md');
const BOUND_MS = 15_000;
const SCENARIO_TIMEOUT_MS = 30_000;

const pause = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

describe('fault injection on the loopback provider simulation', () => {
  const recorded: Figures[] = [];
  const servers: ProviderServer[] = [];
  const loads: Load[] = [];

  afterEach(async () => {
    loads.splice(0).forEach((load) => load.auth.eject());
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  afterAll(() => {
    if (process.env['RELIABILITY_REPORT'] === '1') writeFigures(REPORT_FILE, recorded);
  });

  async function serve(kind: SimulatedKind, options: ProviderServerOptions = {}): Promise<ProviderServer> {
    const server = await startProviderServer(kind, options);
    servers.push(server);
    return server;
  }

  function attach(server: ProviderServer, options: Partial<TokenAuthOptions> = {}): Load {
    const load = loadOn(server, options);
    loads.push(load);
    return load;
  }

  /**
   * Waits for every request to settle (the watchdog), then for every token request to be
   * accounted for, and checks what must hold in every scenario.
   */
  async function measure(load: Load, scenario: string, setup: string, boundMs = BOUND_MS): Promise<Figures> {
    await load.settle(boundMs);
    await load.quiet();
    const figures = load.figures(scenario, setup);
    expect(figures.settled).toBe(figures.sent);
    expect(Object.keys(figures.failed).filter((code) => code.startsWith('UNEXPECTED'))).toEqual([]);
    // At most one replay per request, counted at the server by request id.
    expect(figures.maxAttemptsPerRequest).toBeLessThanOrEqual(2);
    // One token request at a time, and every one that reached the server belongs to a flight's attempts.
    expect(figures.maxTokenRequestsInFlight).toBeLessThanOrEqual(1);
    expect(load.tokenAttemptsReported()).toBe(figures.tokenRequests);
    return figures;
  }

  const codes = (load: Load, from = 0): string[] =>
    load
      .outcomes()
      .slice(from)
      .map((outcome) => outcome.code);
  const all = (count: number, code: string): string[] => Array<string>(count).fill(code);

  test(
    'a slow token endpoint: 200 requests on a cold cache, then 100 after a revocation, each wait for one token request and all succeed',
    async () => {
      const server = await serve('symbl', { tokenLatencyMs: 500, apiLatencyMs: 5 });
      const load = attach(server);
      load.sendMany(200);
      await load.settle(BOUND_MS);
      expect(server.stats.tokenRequests).toBe(1);
      server.revokeAll();
      load.sendMany(100, (i) => ({ method: 'POST', data: { job: i } }));
      const figures = await measure(
        load,
        'Slow token endpoint',
        'token answers take 500 ms (API 5 ms); 200 concurrent requests on a cold cache, then a revocation and 100 more',
      );
      expect(figures.succeeded).toBe(300);
      expect(figures.tokenRequests).toBe(2);
      expect(figures.unauthorized).toBe(100);
      expect(figures.replays).toBe(100);
      expect(figures.apiRequests).toBe(400);
      const replayed = load.outcomes().slice(200);
      expect(replayed.map((outcome) => JSON.parse(String(outcome.response?.data.body)))).toEqual(
        Array.from({ length: 100 }, (_, job) => ({ job })),
      );
      recorded.push(figures);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    'a hung token endpoint: every waiting request fails at the attempt deadline, none hangs, and the next flight works',
    async () => {
      const server = await serve('symbl');
      server.setTokenFault({ hang: true });
      const load = attach(server, { tokenRequest: { timeoutMs: 200, retries: 1, minDelayMs: 10 } });
      load.sendMany(50);
      await load.settle(BOUND_MS);
      expect(codes(load)).toEqual(all(50, 'ERR_TOKEN_TIMEOUT'));
      expect(server.stats.tokenRequests).toBe(2);

      server.setTokenFault(undefined);
      load.sendMany(50);
      await load.settle(BOUND_MS);
      expect(codes(load, 50)).toEqual(all(50, 'OK'));

      // The refresh after a revocation hangs too: the 401'd requests fail at the deadline, not later.
      server.revokeAll();
      server.setTokenFault({ hang: true });
      load.sendMany(50);
      const figures = await measure(
        load,
        'Hung token endpoint',
        'token endpoint never answers (attempt deadline 200 ms, 1 retry): 50 requests cold, 50 after it recovers, 50 after a revocation with it hung again',
      );
      expect(codes(load, 100)).toEqual(all(50, 'ERR_TOKEN_TIMEOUT'));
      expect(figures.tokenRequests).toBe(5);
      expect(figures.unauthorized).toBe(50);
      expect(figures.replays).toBe(0);
      expect(figures.apiRequests).toBe(100);
      recorded.push(figures);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    'a flapping token endpoint: 5xx answers between successes are retried inside one flight and no request fails',
    async () => {
      const server = await serve('symbl', { apiLatencyMs: 2 });
      const load = attach(server, { tokenRequest: { minDelayMs: 10, maxDelayMs: 50 } });
      server.queueTokenFaults({ status: 503 }, { status: 502, body: 'Bad Gateway' }, { status: 500, body: {} });
      load.sendMany(100);
      await load.settle(BOUND_MS);
      expect(server.stats.tokenRequests).toBe(4);
      for (let round = 0; round < 6; round++) {
        if (round % 2 === 0) server.queueTokenFaults({ status: 503, body: { message: 'try again' } });
        server.revokeAll();
        load.sendMany(30, (i) => ({ method: 'POST', data: { round, i } }));
        await load.settle(BOUND_MS);
      }
      const figures = await measure(
        load,
        'Flapping 5xx',
        '503, 502, 500, then success on a cold cache (100 requests); then 6 revocations of 30 requests each, every other refresh answered 503 first',
      );
      expect(figures.succeeded).toBe(280);
      expect(figures.tokenRequests).toBe(4 + 6 + 3);
      expect(figures.replays).toBe(180);
      expect(figures.unauthorized).toBe(180);
      expect(load.events.filter((event) => event.type === 'token-retry')).toHaveLength(6);
      recorded.push(figures);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    'a 5xx outage: every waiter gets ERR_TOKEN_UNAVAILABLE after the bounded retries, nothing is cached, and recovery is immediate',
    async () => {
      const server = await serve('oauth2');
      server.setTokenFault({ status: 503, body: { error: 'temporarily_unavailable' } });
      const load = attach(server, { tokenRequest: { retries: 2, minDelayMs: 10 } });
      load.sendMany(50);
      await load.settle(BOUND_MS);
      expect(codes(load)).toEqual(all(50, 'ERR_TOKEN_UNAVAILABLE'));
      expect(server.stats.tokenRequests).toBe(3);
      server.setTokenFault(undefined);
      load.sendMany(50);
      const figures = await measure(
        load,
        '5xx outage, then recovery',
        'every token attempt answered 503 (2 retries): 50 concurrent requests; then the endpoint recovers: 50 more',
      );
      expect(codes(load, 50)).toEqual(all(50, 'OK'));
      expect(figures.tokenRequests).toBe(4);
      expect(figures.apiRequests).toBe(50);
      recorded.push(figures);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    'a 429 storm with Retry-After: the retry waits as told, every waiter fails, one failure is not remembered, the second cools down, and recovery follows',
    async () => {
      const server = await serve('symbl');
      server.setTokenFault({
        status: 429,
        headers: { 'Retry-After': '1' },
        body: { message: 'maximum number of concurrent jobs' },
      });
      const load = attach(server, { tokenRequest: { retries: 1, cooldownMs: 1_500 } });
      load.sendMany(100);
      await load.settle(BOUND_MS);
      expect(codes(load)).toEqual(all(100, 'ERR_TOKEN_RATE_LIMITED'));
      expect(server.stats.tokenRequests).toBe(2);
      expect(load.events.filter((event) => event.type === 'token-retry')).toMatchObject([
        { delayMs: 1_000, status: 429, code: 'ERR_TOKEN_RATE_LIMITED' },
      ]);

      // One failed flight is not remembered: the next requests ask again.
      load.sendMany(50);
      await load.settle(BOUND_MS);
      const failedAt = Date.now();
      expect(codes(load, 100)).toEqual(all(50, 'ERR_TOKEN_RATE_LIMITED'));
      expect(server.stats.tokenRequests).toBe(4);

      // After the second refusal in a row, for the Retry-After window (within cooldownMs), requests fail at once.
      const fast = await Promise.allSettled(load.sendMany(50));
      expect(
        fast.every((o) => o.status === 'rejected' && isTokenRequestError(o.reason) && o.reason.attempts === 0),
      ).toBe(true);
      expect(server.stats.tokenRequests).toBe(4);

      server.setTokenFault(undefined);
      await pause(Math.max(0, failedAt + 1_050 - Date.now()));
      load.sendMany(50);
      const figures = await measure(
        load,
        '429 storm with Retry-After',
        'every token attempt answered 429 with Retry-After: 1 (1 retry, cooldownMs 1500): 100 requests; 50 more; 50 inside the cool-down; 50 after it',
      );
      expect(codes(load, 150)).toEqual([...all(50, 'ERR_TOKEN_RATE_LIMITED'), ...all(50, 'OK')]);
      expect(figures.tokenRequests).toBe(5);
      recorded.push(figures);
    },
    SCENARIO_TIMEOUT_MS,
  );

  const malformed: [string, TokenFault, string][] = [
    [
      'an HTML error page',
      { raw: '<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>', contentType: 'text/html' },
      'ERR_TOKEN_MALFORMED',
    ],
    ['truncated JSON', { raw: '{"accessToken":"abc.def","expiresIn":36' }, 'ERR_TOKEN_MALFORMED'],
    ['a literal 0000 (SingleView’s sample)', { raw: '{"accessToken":"abc","expiresIn": 0000}' }, 'ERR_TOKEN_MALFORMED'],
    ['a JSON array', { raw: '[{"accessToken":"abc","expiresIn":3600}]' }, 'ERR_TOKEN_MALFORMED'],
    ['JSON null', { raw: 'null' }, 'ERR_TOKEN_MALFORMED'],
    ['an empty body', { raw: '' }, 'ERR_TOKEN_MALFORMED'],
    [
      'binary garbage',
      { raw: '\u0000\u0001\u0002\ufffd\u00ff\u001b[0m', contentType: 'application/octet-stream' },
      'ERR_TOKEN_MALFORMED',
    ],
    ['no token', { status: 200, body: { expiresIn: 3600 } }, 'ERR_TOKEN_MALFORMED'],
    ['a numeric token', { status: 200, body: { accessToken: 12345, expiresIn: 3600 } }, 'ERR_TOKEN_MALFORMED'],
    [
      'a token that would inject a header',
      { status: 200, body: { accessToken: 'abc\r\nX-Injected: 1', expiresIn: 3600 } },
      'ERR_TOKEN_MALFORMED',
    ],
    [
      'a lifetime that is not a number',
      { status: 200, body: { accessToken: 'abc', expiresIn: 'tomorrow' } },
      'ERR_TOKEN_MALFORMED',
    ],
    [
      'a body over 1 MiB',
      { raw: JSON.stringify({ accessToken: 'a'.repeat(DEFAULTS.tokenRequest.maxBodyBytes), expiresIn: 3600 }) },
      'ERR_TOKEN_TOO_LARGE',
    ],
    [
      'a failure flag (status: false)',
      { status: 200, body: { status: false, message: 'app disabled' } },
      'ERR_TOKEN_CREDENTIALS',
    ],
  ];

  test.each(malformed)(
    'a 200 with %s: every waiter fails with one typed error after one token request, and nothing is cached',
    async (what, fault, code) => {
      const server = await serve('symbl');
      server.queueTokenFaults(fault);
      // The default cool-down: one bad answer is not remembered.
      const load = attach(server);
      load.sendMany(20);
      await load.settle(BOUND_MS);
      expect(codes(load)).toEqual(all(20, code));
      expect(server.stats.tokenRequests).toBe(1);
      load.sendMany(20);
      const figures = await measure(
        load,
        `Malformed: ${what}`,
        'first token answer is a 200 with this body: 20 concurrent requests, then 20 more',
      );
      expect(codes(load, 20)).toEqual(all(20, 'OK'));
      expect(figures.tokenRequests).toBe(2);
      expect(figures.apiRequests).toBe(20);
      const issued = `Bearer ${server.tokens[0]?.accessToken}`;
      expect(server.requests.filter((r) => r.kind === 'api').every((r) => r.authorization === issued)).toBe(true);
      recorded.push(figures);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    'connection resets: resets are retried within one flight, and when every attempt is reset all waiters fail, then recover',
    async () => {
      const server = await serve('marsview');
      const load = attach(server, { tokenRequest: { retries: 2, minDelayMs: 10 } });
      server.queueTokenFaults({ reset: true }, { reset: true });
      load.sendMany(100);
      await load.settle(BOUND_MS);
      expect(codes(load)).toEqual(all(100, 'OK'));
      expect(server.stats.tokenRequests).toBe(3);

      server.revokeAll();
      server.setTokenFault({ reset: true });
      load.sendMany(50);
      await load.settle(BOUND_MS);
      expect(codes(load, 100)).toEqual(all(50, 'ERR_TOKEN_UNAVAILABLE'));

      server.setTokenFault(undefined);
      load.sendMany(50);
      const figures = await measure(
        load,
        'Connection resets',
        'two resets then success (100 requests, cold); after a revocation every attempt reset (50 requests); then recovery (50)',
      );
      expect(codes(load, 150)).toEqual(all(50, 'OK'));
      expect(figures.tokenRequests).toBe(3 + 3 + 1);
      expect(figures.unauthorized).toBe(50);
      recorded.push(figures);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    'revocation under load: tokens revoked again and again while 100 requests are in flight; each settles with at most one replay and one token request per revocation',
    async () => {
      const server = await serve('marsview', { apiLatencyMs: 20, tokenLatencyMs: 5 });
      const load = attach(server);
      await load.auth.token();
      const total = 300;
      const feed = async (): Promise<void> => {
        while (load.sentCount() < total) {
          await until(() => load.sentCount() - load.settledCount() < 100, BOUND_MS);
          load.sendMany(10, () => ({ method: 'POST', data: { n: load.sentCount() + 1 } }));
        }
      };
      // Revoke every issued token each time the API has accepted 25 more requests, so the
      // revocations land among requests in flight however fast this machine is.
      let revocations = 0;
      const revoke = async (): Promise<void> => {
        for (let k = 1; k <= 9; k++) {
          const done = (): boolean => load.sentCount() === total && load.settledCount() === total;
          await until(() => server.stats.apiSucceeded >= 25 * k || done(), BOUND_MS);
          if (server.stats.apiSucceeded < 25 * k) return;
          server.revokeAll();
          revocations++;
        }
      };
      await Promise.all([feed(), revoke()]);
      const figures = await measure(
        load,
        `Revocation under load (${revocations} revocations)`,
        '300 POSTs, 100 in flight at all times (API 20 ms, token 5 ms); every issued token revoked each time the API had accepted 25 more (up to 9 times)',
      );
      const failedWith401 = figures.failed['HTTP 401'] ?? 0;
      expect(figures.succeeded + failedWith401).toBe(total);
      expect(failedWith401).toBeLessThanOrEqual(figures.replays);
      // Each 401 either led to one replay or, on a replay, reached its caller; every replay reached the API.
      expect(figures.unauthorized).toBe(figures.replays + failedWith401);
      expect(figures.apiRequests).toBe(figures.sent + figures.replays);
      expect(revocations).toBeGreaterThanOrEqual(1);
      expect(figures.tokenRequests).toBeGreaterThanOrEqual(2);
      expect(figures.tokenRequests).toBeLessThanOrEqual(revocations + 1);
      expect(figures.tokensIssued).toBe(figures.tokenRequests);
      for (const { id, response } of load.outcomes()) {
        if (response !== undefined) expect(JSON.parse(String(response.data.body))).toEqual({ n: id });
      }
      recorded.push(figures);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    'expiry under load: one-second tokens rotate under 10 concurrent workers for 3 s and every request succeeds',
    async () => {
      const server = await serve('singleview', { tokenLifetimeSeconds: 1, apiLatencyMs: 2 });
      const load = attach(server);
      const end = performance.now() + 3_000;
      const worker = async (): Promise<void> => {
        while (performance.now() < end) {
          await load.send().catch(() => undefined);
          await pause(20);
        }
      };
      await Promise.all(Array.from({ length: 10 }, worker));
      const figures = await measure(
        load,
        'Expiry under load',
        'SingleView JWTs living 1 s (expiry only in the JWT); 10 workers sending back to back for 3 s',
      );
      expect(figures.succeeded).toBe(figures.sent);
      expect(figures.unauthorized).toBe(figures.replays);
      expect(figures.tokenRequests).toBeGreaterThanOrEqual(3);
      expect(figures.tokensIssued).toBe(figures.tokenRequests);
      recorded.push(figures);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    'the token endpoint down while the cached token is valid: requests keep succeeding with it, then fail without hanging once it expires, then recover',
    async () => {
      const server = await serve('symbl', { tokenLifetimeSeconds: 4 });
      const load = attach(server, { backgroundRetryMs: 100, tokenRequest: { retries: 1, minDelayMs: 10 } });
      const first = await load.auth.token();
      const expiresAt = first.expiresAt!;
      server.setTokenFault({ status: 503, body: { message: 'maintenance' } });

      // Until shortly before it expires (its margin is 10% of 4 s), the cached token keeps being sent.
      const stopAt = expiresAt - 800;
      const worker = async (): Promise<void> => {
        while (Date.now() < stopAt) {
          await load.send().catch(() => undefined);
          await pause(20);
        }
      };
      await Promise.all(Array.from({ length: 5 }, worker));
      await load.settle(BOUND_MS);
      const whileValid = load.outcomes().length;
      expect(codes(load)).toEqual(all(whileValid, 'OK'));
      const sentWith = new Set(server.requests.filter((r) => r.kind === 'api').map((r) => r.authorization));
      expect([...sentWith]).toEqual([`Bearer ${first.accessToken}`]);
      const background = load.events.filter((event) => event.type === 'token-failed' && event.background);
      expect(background.length).toBeGreaterThan(0);

      await pause(Math.max(0, expiresAt - 400 + 20 - Date.now()));
      load.sendMany(20);
      await load.settle(BOUND_MS);
      expect(codes(load, whileValid)).toEqual(all(20, 'ERR_TOKEN_UNAVAILABLE'));

      server.setTokenFault(undefined);
      load.sendMany(20);
      const figures = await measure(
        load,
        'Token endpoint down, cached token valid',
        '4 s tokens; endpoint answers 503 from the first refresh on: 5 workers until shortly before expiry, 20 requests after it, 20 after recovery',
      );
      expect(codes(load, whileValid + 20)).toEqual(all(20, 'OK'));
      expect(figures.apiRequests).toBe(whileValid + 20);
      expect(figures.unauthorized).toBe(0);
      recorded.push(figures);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    'callers abort or time out while the first token is fetched: only their own waits end, one token request serves the rest',
    async () => {
      const server = await serve('symbl', { tokenLatencyMs: 300 });
      const load = attach(server);
      const controllers: AbortController[] = [];
      load.sendMany(90, (i) => {
        if (i % 3 === 1) return { timeout: 100 };
        if (i % 3 === 2) return {};
        const controller = new AbortController();
        controllers.push(controller);
        return { signal: controller.signal };
      });
      await pause(50);
      controllers.forEach((controller) => controller.abort());
      const figures = await measure(
        load,
        'Callers abort or time out during the first token request',
        'token answers take 300 ms; of 90 concurrent requests, 30 aborted after 50 ms and 30 with a 100 ms timeout',
      );
      expect(codes(load)).toEqual(
        Array.from({ length: 90 }, (_, i) => ['ERR_CANCELED', 'ECONNABORTED', 'OK'][i % 3] ?? ''),
      );
      expect(figures.tokenRequests).toBe(1);
      expect(figures.apiRequests).toBe(30);
      recorded.push(figures);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    'callers abort while a 401 refresh is under way: they end at once, the others are replayed with the new token',
    async () => {
      const server = await serve('oauth2');
      const load = attach(server);
      await load.auth.token();
      server.revokeAll();
      server.setTokenLatency(300);
      const controllers: AbortController[] = [];
      load.sendMany(60, (i) => {
        if (i % 2 === 1) return {};
        const controller = new AbortController();
        controllers.push(controller);
        return { signal: controller.signal };
      });
      await until(() => server.stats.apiUnauthorized === 60);
      controllers.forEach((controller) => controller.abort());
      const figures = await measure(
        load,
        'Callers abort during a 401 refresh',
        'token answers take 300 ms; 60 requests after a revocation, 30 of them aborted once all 60 were answered 401',
      );
      expect(codes(load)).toEqual(Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? 'ERR_CANCELED' : 'OK')));
      expect(figures.tokenRequests).toBe(2);
      expect(figures.replays).toBe(30);
      expect(figures.unauthorized).toBe(60);
      expect(figures.apiRequests).toBe(90);
      recorded.push(figures);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    'chaos: revocations, 5xx, resets, 429s, hangs, garbage, latency and 401 storms under continuous load; every request settles, then all succeed again',
    async () => {
      const server = await serve('symbl', { apiLatencyMs: 3 });
      const load = attach(server, {
        tokenRequest: { timeoutMs: 300, retries: 2, minDelayMs: 5, maxDelayMs: 20, cooldownMs: 0 },
      });
      const actions: (() => void)[] = [
        () => server.queueTokenFaults({ status: 503 }),
        () => server.queueTokenFaults({ reset: true }, { status: 500 }),
        () => server.setTokenLatency(100),
        () => server.queueTokenFaults({ status: 429, headers: { 'Retry-After': '0' } }),
        () => server.queueTokenFaults({ hang: true }),
        () => server.setTokenLatency(0),
        () => server.queueTokenFaults({ raw: '<html>' }),
        () => server.setApiAlwaysUnauthorized(true),
        () => server.setApiAlwaysUnauthorized(false),
        () => server.queueTokenFaults({ delayMs: 150 }),
        () => server.queueTokenFaults({ status: 503 }, { status: 503 }, { status: 503 }),
        () => server.setApiLatency(30),
        () => server.queueTokenFaults({ status: 200, body: { accessToken: 42 } }),
        () => server.setApiLatency(3),
      ];
      let running = true;
      const worker = async (): Promise<void> => {
        for (let n = 0; running; n++) {
          await (n % 2 === 0 ? load.send({ method: 'POST', data: { n } }) : load.send()).catch(() => undefined);
          await pause(5);
        }
      };
      const workers = Array.from({ length: 4 }, worker);
      // Each time 25 more requests have settled: revoke every token, then the next action.
      for (const action of actions) {
        const target = load.settledCount() + 25;
        await until(() => load.settledCount() >= target, BOUND_MS);
        server.revokeAll();
        action();
      }
      running = false;
      await Promise.all(workers);
      await load.settle(BOUND_MS);
      const before = load.outcomes().length;
      load.sendMany(20);
      const figures = await measure(
        load,
        'Chaos',
        '4 workers sending back to back; every 25 settled requests, all tokens revoked and one more fault: 503; reset+500; token latency 100 ms; 429; hang; latency 0; garbage; API 401 on/off; slow answer; 3×503; API latency 30 ms; numeric token; latency 3 ms; then 20 requests with no fault',
      );
      const allowed = /^(OK|HTTP 401|ERR_TOKEN_(UNAVAILABLE|MALFORMED|RATE_LIMITED|TIMEOUT))$/;
      expect(Object.keys(figures.failed).filter((code) => !allowed.test(code))).toEqual([]);
      expect(figures.unauthorized).toBeGreaterThanOrEqual(figures.replays);
      expect(figures.apiRequests).toBeLessThanOrEqual(figures.sent + figures.replays);
      expect(codes(load, before)).toEqual(all(20, 'OK'));
      recorded.push(figures);
    },
    SCENARIO_TIMEOUT_MS,
  );

  // Failure bounds: one answer, lifetime or store entry that must not hurt more than its own request.

  test(
    'one malformed 200 does not block the next requests, with the default cool-down',
    async () => {
      const server = await serve('symbl');
      server.queueTokenFaults({ raw: '<html><body>502 Bad Gateway</body></html>', contentType: 'text/html' });
      const load = attach(server);
      load.sendMany(20);
      await load.settle(BOUND_MS);
      load.sendMany(20);
      const figures = await measure(
        load,
        'One malformed 200 not remembered',
        'first token answer a 200 HTML page, default cooldownMs (5 s): 20 concurrent requests, then 20 more at once',
      );
      expect(codes(load)).toEqual([...all(20, 'ERR_TOKEN_MALFORMED'), ...all(20, 'OK')]);
      expect(figures.tokenRequests).toBe(2);
      recorded.push(figures);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    'a Retry-After of a year cools down for cooldownMs at most',
    async () => {
      const server = await serve('symbl');
      server.setTokenFault({ status: 429, headers: { 'Retry-After': '31536000' }, body: { message: 'busy' } });
      const load = attach(server, { tokenRequest: { retries: 0, maxRetryAfterMs: 500, cooldownMs: 200 } });
      await Promise.allSettled(load.sendMany(20));
      await Promise.allSettled(load.sendMany(20));
      const cooling = await Promise.allSettled(load.sendMany(20));
      expect(cooling.every((o) => o.status === 'rejected' && (o.reason as { attempts?: number }).attempts === 0)).toBe(
        true,
      );
      server.setTokenFault(undefined);
      await pause(250);
      load.sendMany(20);
      const figures = await measure(
        load,
        'Retry-After of a year',
        'every token answer 429 with Retry-After: 31536000 (no retry, maxRetryAfterMs 500, cooldownMs 200): 20 requests, 20 more, 20 more at once; the endpoint recovers; 20 more 250 ms later',
      );
      expect(codes(load, 60)).toEqual(all(20, 'OK'));
      expect(figures.tokenRequests).toBe(3);
      recorded.push(figures);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    'expiresIn 1e308 gives a finite expiresAt',
    async () => {
      const server = await serve('symbl', { tokenLifetimeSeconds: 1e308 });
      const load = attach(server);
      load.sendMany(50);
      const figures = await measure(
        load,
        'expiresIn 1e308',
        'token answers with expiresIn: 1e308: 50 concurrent requests',
      );
      expect(codes(load)).toEqual(all(50, 'OK'));
      const { expiresAt } = await load.auth.token();
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + DEFAULTS.maxTokenLifetimeMs);
      recorded.push(figures);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    'a token expired on arrival is never sent; asked again, then ERR_TOKEN_EXPIRED',
    async () => {
      const server = await serve('symbl', { tokenLatencyMs: 500, tokenLifetimeSeconds: 0.3 });
      const load = attach(server, { tokenRequest: { retries: 1, minDelayMs: 20, maxDelayMs: 20 } });
      load.sendMany(20);
      await load.settle(BOUND_MS);
      expect(codes(load)).toEqual(all(20, 'ERR_TOKEN_EXPIRED'));
      expect(server.stats.apiRequests).toBe(0);
      server.setTokenLifetime(60);
      load.sendMany(20);
      const figures = await measure(
        load,
        'Token expired on arrival',
        'token answers take 500 ms with expiresIn: 0.3 (1 retry): 20 requests; then 60 s tokens: 20 more',
      );
      expect(codes(load, 20)).toEqual(all(20, 'OK'));
      expect(figures.tokenRequests).toBe(3);
      recorded.push(figures);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    'the memory store drops expired tokens after the handle is ejected',
    async () => {
      const server = await serve('singleview', { tokenLifetimeSeconds: 1 });
      const store = new MemoryTokenStore({ sweepIntervalMs: 250 });
      const load = attach(server, { store });
      load.sendMany(30);
      const figures = await measure(
        load,
        'Memory store sweep',
        '1 s tokens in a MemoryTokenStore sweeping every 250 ms: 30 concurrent requests, then the handle ejected',
      );
      expect(codes(load)).toEqual(all(30, 'OK'));
      load.auth.eject();
      expect(store.size).toBe(1);
      await until(() => store.size === 0, 3_000);
      recorded.push(figures);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    'a forged store entry is dropped and never sent',
    async () => {
      const server = await serve('marsview');
      const memory = new MemoryTokenStore();
      let forged = 1;
      const store: TokenStore = {
        get: (key) =>
          forged-- > 0
            ? Promise.resolve({
                accessToken: 'forged\r\nX-Injected: 1',
                tokenType: 'Bearer',
                expiresAt: Date.now() + 60_000,
                obtainedAt: Date.now(),
              })
            : memory.get(key),
        set: (key, token) => memory.set(key, token),
        delete: (key, token) => memory.delete(key, token),
      };
      const load = attach(server, { store });
      load.sendMany(20);
      const figures = await measure(
        load,
        'Forged store entry',
        'the store hands back one entry with CR/LF in its token: 20 concurrent requests',
      );
      expect(codes(load)).toEqual(all(20, 'OK'));
      const invalid = load.events.filter((e) => e.type === 'store-failed' && isTokenflightError(e.error));
      expect(invalid).toMatchObject([{ error: { code: 'ERR_STORE_ENTRY_INVALID' } }]);
      expect(server.requests.some((r) => r.authorization?.includes('forged') === true)).toBe(false);
      recorded.push(figures);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    'a vendor that echoes the secret in its error never gets it printed',
    async () => {
      const server = await serve('symbl');
      const secret = server.credentials['appSecret'] ?? '';
      server.queueTokenFaults({ status: 401, body: { message: `invalid appSecret ${secret}` } });
      const load = attach(server);
      const failures = await Promise.allSettled(load.sendMany(20));
      load.sendMany(20);
      const figures = await measure(
        load,
        'Vendor echoes the secret',
        'first token answer a 401 whose message quotes the appSecret: 20 concurrent requests, then 20 more',
      );
      expect(codes(load)).toEqual([...all(20, 'ERR_TOKEN_CREDENTIALS'), ...all(20, 'OK')]);
      const printed = failures.map((o) =>
        o.status === 'rejected' ? `${String(o.reason)} ${JSON.stringify(o.reason)}` : '',
      );
      printed.push(JSON.stringify(load.events));
      expect(secret.length).toBeGreaterThan(0);
      expect(printed.some((text) => text.includes(secret))).toBe(false);
      expect(printed[0]).toContain('invalid appSecret [REDACTED]');
      recorded.push(figures);
    },
    SCENARIO_TIMEOUT_MS,
  );
  // The browser store, over the in-memory doubles of Web Storage, Web Locks, IndexedDB
  // and BroadcastChannel (the Chromium suites run the same cases in a real browser).

  const authServers: AuthorizationServer[] = [];
  const sessions: SessionLoad[] = [];
  afterEach(async () => {
    sessions.splice(0).forEach((session) => session.eject());
    await Promise.all(authServers.splice(0).map((server) => server.close()));
  });
  async function signInServer(): Promise<{ server: AuthorizationServer; session: SessionLoad }> {
    const server = await startAuthorizationServer();
    authServers.push(server);
    const session = sessionLoad(server);
    sessions.push(session);
    return { server, session };
  }
  /** Checks what must hold in every session scenario (the watchdog, one replay, one token request at a time). */
  async function measureSession(session: SessionLoad, scenario: string, setup: string): Promise<Figures> {
    await session.settle();
    const figures = session.figures(scenario, setup);
    expect(figures.settled).toBe(figures.sent);
    expect(figures.maxAttemptsPerRequest).toBeLessThanOrEqual(2);
    expect(figures.maxTokenRequestsInFlight).toBeLessThanOrEqual(1);
    return figures;
  }
  /** A sessionStorage store of one tab, in a page of its own of the origin. */
  function tabStore(
    browser: { locks: ReturnType<typeof createLockManager>; channels: ReturnType<typeof createChannels> },
    tab: FakeTabStorage,
    options: BrowserTokenStoreOptions = {},
  ): BrowserTokenStore {
    return new BrowserTokenStore({
      storage: tab.storage,
      sharedBy: 'tab',
      locks: browser.locks.page(),
      broadcastChannel: browser.channels.page().open,
      storageEvents: false,
      pageEvents: false,
      ...options,
    });
  }

  test(
    'the browser store touches only its own keys, and another tenant’s entry copied under its key is never sent',
    async () => {
      const server = await serve('symbl');
      const tab = createOrigin().openTab();
      const appKeys: Array<[string, string]> = [
        ['myapp:token:user-settings', '{"theme":"dark"}'],
        ['myapp:lock:ui', '{"owner":"editor","until":1}'],
        ['token:abc', '{"accessToken":"abc","tokenType":"Bearer","expiresAt":1,"obtainedAt":0}'],
        ['lock:editor', '{"owner":"x","until":1}'],
      ];
      for (const [key, value] of appKeys) tab.storage.setItem(key, value);
      expect(() => new BrowserTokenStore({ storage: tab.storage, prefix: '' })).toThrow('`prefix`');
      const store = new BrowserTokenStore({
        storage: tab.storage,
        prefix: 'myapp:',
        locks: createLockManager(),
        storageEvents: false,
        sweepIntervalMs: 0,
      });
      const load = attach(server, { store });
      await Promise.allSettled(load.sendMany(20));
      const ours = Array.from({ length: tab.storage.length }, (_, index) => tab.storage.key(index) ?? '').find(
        (key) => key.startsWith('myapp:token:') && key !== 'myapp:token:user-settings',
      );
      const now = Date.now();
      tab.storage.setItem(
        ours ?? '',
        JSON.stringify({
          format: 'tokenflight/1',
          key: 'another-tenant',
          accessToken: 'token-of-another-tenant',
          tokenType: 'Bearer',
          expiresAt: now + 7_200_000,
          obtainedAt: now,
        }),
      );
      server.revokeAll();
      load.sendMany(20);
      const figures = await measure(
        load,
        'Browser store: its own keys only',
        "prefix 'myapp:' over a storage holding the app's own keys (myapp:token:user-settings, myapp:lock:ui, token:abc, lock:editor), sweep on every write; prefix '' refused; 20 requests; another tenant's entry copied under the provider's key, the token revoked: 20 more",
      );
      expect(codes(load)).toEqual(all(40, 'OK'));
      for (const [key, value] of appKeys) expect(tab.storage.getItem(key)).toBe(value);
      expect(server.requests.some((request) => request.authorization?.includes('another-tenant') === true)).toBe(false);
      recorded.push(figures);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    'a tab opened from a signed-in sessionStorage tab never presents the refresh token it copied',
    async () => {
      const { server, session } = await signInServer();
      const browser = { locks: createLockManager(), channels: createChannels() };
      const grant = server.issueRefreshToken({ clientId: 'public-client' });
      const tab = createTabStorage();
      const original = session.open(tabStore(browser, tab), grant);
      await Promise.allSettled(Array.from({ length: 10 }, () => original.send()));
      // window.open: the copy starts with the opener's sessionStorage, and its app passes the same grant.
      const copy = session.open(tabStore(browser, tab.copy()), grant);
      for (let round = 0; round < 3; round++) {
        server.revokeAccessTokens();
        await Promise.allSettled(Array.from({ length: 10 }, () => original.send()));
        await Promise.allSettled(Array.from({ length: 10 }, () => copy.send()));
      }
      const figures = await measureSession(
        session,
        'Browser store: duplicated sessionStorage tab',
        'a signed-in tab (rotating refresh token) and a copy of its sessionStorage (window.open) whose app passes the same grant: 10 requests, then 3 rounds of access tokens revoked, 10 requests in each tab',
      );
      expect(session.codes()).toEqual([
        ...all(10, 'OK'),
        ...Array.from({ length: 3 }, () => [...all(10, 'OK'), ...all(10, 'ERR_TOKEN_STORE_UNAVAILABLE')]).flat(),
      ]);
      expect(server.stats).toMatchObject({ rotations: 4, reuseDetections: 0, revokedFamilies: 0 });
      recorded.push(figures);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    'sessionStorage tabs signed in on their own never wait for each other',
    async () => {
      const { server, session } = await signInServer();
      const browser = { locks: createLockManager(), channels: createChannels() };
      const indexedDB = createIndexedDB();
      const tabs = [0, 1].map(() =>
        session.open(
          tabStore(browser, createTabStorage(), { indexedDB }),
          server.issueRefreshToken({ clientId: 'public-client' }),
        ),
      );
      for (let round = 0; round < 5; round++) {
        server.revokeAccessTokens();
        for (const tab of tabs) await Promise.allSettled(Array.from({ length: 5 }, () => tab.send()));
      }
      const figures = await measureSession(
        session,
        'Browser store: sessionStorage tabs apart',
        'two tabs on sessionStorage, each signed in on its own (rotating refresh tokens), sharing the Web Locks and IndexedDB of the origin (handoffWaitMs 1 s): 5 rounds of access tokens revoked, 5 requests in each tab in turn',
      );
      expect(session.codes()).toEqual(all(50, 'OK'));
      // No refresh waited for the other tab's hand-off count (handoffWaitMs, 1 s).
      expect(figures.slowestMs).toBeLessThan(1_000);
      expect(server.stats).toMatchObject({ rotations: 10, reuseDetections: 0 });
      recorded.push(figures);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    'in the lease fallback, a tab closed while it refreshes releases its lease on pagehide',
    async () => {
      const { server, session } = await signInServer();
      const origin = createOrigin();
      const grant = server.issueRefreshToken({ clientId: 'public-client' });
      const closing = new EventTarget();
      const leaseStore = (tab: ReturnType<typeof origin.openTab>, pageEvents: EventTarget | false) =>
        new BrowserTokenStore({
          storage: tab.storage,
          locks: false,
          storageEvents: tab.window as never,
          pageEvents: pageEvents as never,
        });
      const holder = session.open(leaseStore(origin.openTab(), closing), grant);
      const other = session.open(leaseStore(origin.openTab(), false), grant);
      server.setTokenLatency(2_000);
      void holder.send().catch(() => undefined);
      await until(() => server.stats.refreshRequests === 1, 5_000);
      server.setTokenLatency(0);
      const waiting = Array.from({ length: 20 }, () => other.send());
      await pause(200);
      // The holder's tab closes mid-request: pagehide, then its page (and handle) are gone.
      closing.dispatchEvent(new Event('pagehide'));
      holder.auth.eject();
      await Promise.allSettled(waiting);
      const figures = await measureSession(
        session,
        'Browser store: lease released on pagehide',
        'lease fallback (no Web Locks), two tabs, rotating refresh token: a tab holds the lease while its refresh waits 2 s at the server; another tab sends 20 requests; 200 ms later the holder’s page is hidden and closed',
      );
      expect(session.codes()).toEqual(['ERR_TOKEN_ABORTED', ...all(20, 'OK')]);
      expect(figures.slowestMs).toBeLessThan(5_000);
      expect(server.stats).toMatchObject({ rotations: 1, reuseDetections: 0 });
      recorded.push(figures);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    '1,000 valid-looking entries written into the browser store’s key never reach a request',
    async () => {
      const server = await serve('symbl');
      const origin = createOrigin();
      const [tab, writer] = [origin.openTab(), origin.openTab()];
      const store = new BrowserTokenStore({
        storage: tab.storage,
        locks: createLockManager(),
        storageEvents: tab.window as never,
      });
      const load = attach(server, { store });
      await Promise.allSettled(load.sendMany(10));
      const [name = ''] = Array.from({ length: tab.storage.length }, (_, index) => tab.storage.key(index) ?? '');
      for (let index = 0; index < 1_000; index++) {
        const now = Date.now();
        const forged = {
          accessToken: `forged-${index}`,
          tokenType: 'Bearer',
          expiresAt: now + 7_200_000,
          obtainedAt: now,
        };
        writer.storage.setItem(
          name,
          JSON.stringify(index % 2 === 0 ? forged : { format: 'tokenflight/1', key: 'another-tenant', ...forged }),
        );
        if (index === 500) server.revokeAll();
        if (index % 20 === 19) await Promise.allSettled(load.sendMany(2));
      }
      const figures = await measure(
        load,
        'Browser store: foreign writes',
        'another tab’s script writes 1,000 valid-looking entries (tokenflight 0.2’s format, or bound to another key) into the store’s key, the token revoked halfway: 10 requests, then 2 every 20 writes',
      );
      expect(codes(load)).toEqual(all(110, 'OK'));
      expect(server.requests.some((request) => request.authorization?.includes('forged') === true)).toBe(false);
      recorded.push(figures);
    },
    SCENARIO_TIMEOUT_MS,
  );

  // A session is an owned thing, and every wait is bounded (memory store).

  test(
    'a new sign-in during a rotation of the old session: every later request carries the new session',
    async () => {
      const { server, session } = await signInServer();
      const old = server.issueRefreshToken({ clientId: 'public-client' });
      const page = session.open(new MemoryTokenStore(), old);
      server.setTokenAnswerDelay(800);
      const early = Array.from({ length: 10 }, () => page.send());
      await until(() => server.stats.refreshRequests === 1, 5_000);
      const fresh = server.issueRefreshToken({ clientId: 'public-client' });
      await page.auth.resumeSession(fresh);
      server.setTokenAnswerDelay(0);
      await Promise.allSettled([...early, ...Array.from({ length: 10 }, () => page.send())]);
      server.revokeAccessTokens();
      await Promise.allSettled(Array.from({ length: 10 }, () => page.send()));
      const figures = await measureSession(
        session,
        'resumeSession() during a rotation',
        "the old session's refresh answered after 800 ms; 10 requests wait for it; resumeSession() with a new user's refresh token meanwhile; 10 requests after it; access tokens revoked, 10 more",
      );
      expect(session.codes()).toEqual(all(30, 'OK'));
      // The new session's refresh token and its successor were presented; the old session's
      // rotated one never was.
      expect(server.familyOf(fresh)).toMatchObject({ rotations: 2, revoked: false });
      expect(server.familyOf(old)).toMatchObject({ rotations: 1, revoked: false });
      expect(server.stats).toMatchObject({ reuseDetections: 0, revokedFamilies: 0 });
      recorded.push(figures);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    'a rotated refresh token the store cannot take for the whole lease: no other handle presents the used one',
    async () => {
      const { server, session } = await signInServer();
      const grant = server.issueRefreshToken({ clientId: 'public-client' });
      // Two "processes" sharing one store; the holder's writes of a rotated refresh token fail
      // while `cut` is on (its rotation mark, written before it presents, goes through).
      const shared = new MemoryTokenStore();
      let cut = false;
      const cutOff: TokenStore = {
        get: (key) => shared.get(key),
        set: (key, token) =>
          cut && key.endsWith(':refresh') && token.tokenType === 'Refresh'
            ? Promise.reject(new Error('connection lost'))
            : shared.set(key, token),
        delete: (key, token) => shared.delete(key, token),
        lock: (key, options) => shared.lock(key, options),
      };
      // 2 s token requests without retries: a lease of 3 s, a mark that stands 2 s longer.
      const holder = session.open(cutOff, grant, { timeoutMs: 2_000, retries: 0 });
      const other = session.open(shared, grant, { timeoutMs: 2_000, retries: 0 });
      await Promise.allSettled(Array.from({ length: 10 }, () => holder.send()));
      server.revokeAccessTokens();
      cut = true;
      const rotating = Array.from({ length: 10 }, () => holder.send());
      await until(() => server.stats.refreshRequests === 2, 5_000);
      const asking = Array.from({ length: 10 }, () => other.send());
      await new Promise((resolve) => setTimeout(resolve, 3_200));
      cut = false;
      await Promise.allSettled([...rotating, ...asking]);
      server.revokeAccessTokens();
      await Promise.allSettled(Array.from({ length: 10 }, () => other.send()));
      const figures = await measureSession(
        session,
        'Rotated refresh token not stored for a whole lease',
        "two handles share a store; the holder's write of the rotated refresh token fails from its presentation until 3.2 s later (its lease 3 s, its mark 5 s); 10 requests on the holder, 10 on the other meanwhile, then access tokens revoked and 10 more on the other",
      );
      expect(session.codes()).toEqual(all(40, 'OK'));
      expect(server.stats).toMatchObject({ rotations: 3, refreshTokenUses: 3, reuseDetections: 0, revokedFamilies: 0 });
      recorded.push(figures);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    'an onRefreshToken that never settles holds no request past the time limit, and eject() releases every wait',
    async () => {
      const { server, session } = await signInServer();
      const grant = server.issueRefreshToken({ clientId: 'public-client' });
      const page = session.open(new MemoryTokenStore(), grant, {
        onRefreshToken: () => new Promise(() => undefined),
        timeoutMs: 300,
      });
      await Promise.allSettled(Array.from({ length: 20 }, () => page.send()));
      server.revokeAccessTokens();
      await Promise.allSettled(Array.from({ length: 20 }, () => page.send()));
      server.revokeAccessTokens();
      server.setTokenAnswerDelay(2_000);
      const waiting = Array.from({ length: 10 }, () => page.send());
      await until(() => server.stats.refreshRequests === 3, 5_000);
      page.auth.eject();
      await Promise.allSettled(waiting);
      const figures = await measureSession(
        session,
        'A callback that never settles',
        'onRefreshToken never settles (tokenRequest.timeoutMs 300): 20 requests cold, 20 after a revocation; then 10 waiting on a refresh answered after 2 s when the handle is ejected',
      );
      expect(session.codes()).toEqual([...all(40, 'OK'), ...all(10, 'ERR_TOKEN_ABORTED')]);
      expect(figures.slowestMs).toBeLessThan(1_500);
      expect(server.stats).toMatchObject({ refreshRequests: 3, reuseDetections: 0 });
      recorded.push(figures);
    },
    SCENARIO_TIMEOUT_MS,
  );

  // A Redis that may evict the lock of a rotating refresh token, a one-letter client ID with
  // invalid_grant, and a validateStatus that accepts 401.

  const redisServers: RedisServer[] = [];
  const redisClients = createClients();
  afterAll(async () => {
    redisClients.closeAll();
    await Promise.all(redisServers.splice(0).map((redis) => redis.stop()));
  });

  (findRedisServer() === undefined ? test.skip : test)(
    'a Redis that may evict the lock never sees a rotating refresh token presented, until it is set to noeviction',
    async () => {
      const redis = await startRedisServer({ args: ['--maxmemory', '64mb', '--maxmemory-policy', 'volatile-ttl'] });
      redisServers.push(redis);
      const { server, session } = await signInServer();
      const clock = { offsetMs: 0 };
      const store = new RedisTokenStore(redisClients.open(redis.port), {
        prefix: 'fault-injection:',
        now: () => Date.now() + clock.offsetMs,
      });
      const page = session.open(store, server.issueRefreshToken({ clientId: 'public-client' }));
      await Promise.allSettled(Array.from({ length: 20 }, () => page.send()));
      // The operator sets noeviction; the store reads the policy again after EVICTION_RECHECK_MS.
      await redisClients.open(redis.port).config('SET', 'maxmemory-policy', 'noeviction');
      clock.offsetMs = EVICTION_RECHECK_MS;
      await Promise.allSettled(Array.from({ length: 20 }, () => page.send()));
      const figures = await measureSession(
        session,
        'Redis that may evict the lock',
        'RedisTokenStore on a redis-server with maxmemory 64mb and maxmemory-policy volatile-ttl, rotating refresh token: 20 requests; the policy set to noeviction and the store’s clock moved past its one-minute re-check: 20 more',
      );
      expect(session.codes()).toEqual([...all(20, 'ERR_TOKEN_STORE_UNAVAILABLE'), ...all(20, 'OK')]);
      expect(server.stats).toMatchObject({ refreshRequests: 1, rotations: 1, reuseDetections: 0 });
      recorded.push(figures);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    "with clientId 'a', invalid_grant ends the session and the revoked refresh token is not presented again",
    async () => {
      const server = await startAuthorizationServer({ clients: [{ clientId: 'a' }] });
      authServers.push(server);
      const session = sessionLoad(server);
      sessions.push(session);
      const refreshToken = server.issueRefreshToken({ clientId: 'a' });
      server.revokeFamily(refreshToken);
      const page = session.open(new MemoryTokenStore(), refreshToken, { clientId: 'a' });
      const first = await Promise.allSettled(Array.from({ length: 20 }, () => page.send()));
      await Promise.allSettled(Array.from({ length: 20 }, () => page.send()));
      const figures = await measureSession(
        session,
        'One-letter client ID and invalid_grant',
        "refreshTokenGrant with clientId 'a', its refresh token revoked at the server (which answers 400 invalid_grant): 20 concurrent requests, then 20 more",
      );
      expect(session.codes()).toEqual(all(40, 'ERR_TOKEN_SESSION_ENDED'));
      expect(server.stats.refreshRequests).toBe(1);
      const [rejected] = first;
      expect(
        rejected?.status === 'rejected' && isTokenRequestError(rejected.reason) && rejected.reason.providerCode,
      ).toBe('invalid_grant');
      recorded.push(figures);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    'with validateStatus (s) => s < 500, a 401 is still refreshed and replayed',
    async () => {
      const server = await serve('symbl');
      const load = attach(server);
      load.api.defaults.validateStatus = (status) => status < 500;
      await Promise.allSettled(load.sendMany(20));
      server.revokeAll();
      for (let i = 0; i < 5; i++) await Promise.allSettled(load.sendMany(4));
      const figures = await measure(
        load,
        'validateStatus that accepts 401',
        'axios instance with validateStatus (s) => s < 500: 20 concurrent requests; every token revoked; 5 rounds of 4 concurrent requests',
      );
      expect(load.outcomes().map((outcome) => outcome.response?.status)).toEqual(Array<number>(40).fill(200));
      expect(figures).toMatchObject({ tokenRequests: 2, replays: 4, unauthorized: 4 });
      recorded.push(figures);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    'a token over DEFAULTS.maxTokenLength is refused without quoting it, and the next caller asks again',
    async () => {
      const server = await serve('symbl');
      server.queueTokenFaults({ status: 200, body: { accessToken: 'L'.repeat(100_000), expiresIn: 3600 } });
      const load = attach(server, { tokenRequest: { cooldownMs: 0 } });
      const failures = await Promise.allSettled(load.sendMany(20));
      load.sendMany(20);
      const figures = await measure(
        load,
        'Token longer than 16 KiB',
        'first token answer a 200 whose token is 100,000 characters (DEFAULTS.maxTokenLength 16,384): 20 concurrent requests, then 20 more',
      );
      expect(codes(load)).toEqual([...all(20, 'ERR_TOKEN_TOO_LARGE'), ...all(20, 'OK')]);
      expect(failures.some((o) => o.status === 'rejected' && JSON.stringify(o.reason).includes('LLLLLLLL'))).toBe(
        false,
      );
      recorded.push(figures);
    },
    SCENARIO_TIMEOUT_MS,
  );

  /**
   * A loopback front of the authorization server: `answer` handles each token request with the
   * request's body and a way to forward it to the server (whose answer it may change); a session
   * load whose token URL is the front's.
   */
  async function frontOf(
    server: AuthorizationServer,
    answer: (forward: () => Promise<{ status: number; body: string }>) => Promise<{ status: number; body: string }>,
  ): Promise<{ fronted: SessionLoad; close: () => Promise<void> }> {
    const front = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const headers = { 'content-type': String(request.headers['content-type']) };
        const forward = async (): Promise<{ status: number; body: string }> => {
          const forwarded = await fetch(server.tokenUrl, { method: 'POST', headers, body: Buffer.concat(chunks) });
          return { status: forwarded.status, body: await forwarded.text() };
        };
        void answer(forward).then(({ status, body }) => {
          response.writeHead(status, { 'Content-Type': 'application/json' }).end(body);
        });
      });
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    const port = (front.address() as AddressInfo).port;
    const fronted = sessionLoad(
      Object.assign(Object.create(server) as AuthorizationServer, {
        tokenUrl: `http://127.0.0.1:${port}/oauth2/token`,
      }),
    );
    sessions.push(fronted);
    return { fronted, close: () => new Promise((resolve) => front.close(() => resolve())) };
  }

  test(
    'a 500 whose body says invalid_grant is the server failing: the session goes on with the same refresh token',
    async () => {
      const { server } = await signInServer();
      // The front answers the first refresh itself.
      let failNext = 1;
      const { fronted, close } = await frontOf(server, (forward) =>
        failNext-- > 0 ? Promise.resolve({ status: 500, body: '{"error":"invalid_grant"}' }) : forward(),
      );
      try {
        const page = fronted.open(new MemoryTokenStore(), server.issueRefreshToken({ clientId: 'public-client' }));
        await Promise.allSettled(Array.from({ length: 20 }, () => page.send()));
        await Promise.allSettled(Array.from({ length: 20 }, () => page.send()));
        const figures = await measureSession(
          fronted,
          '5xx with invalid_grant',
          'a front of the authorization server answers the first refresh 500 {"error":"invalid_grant"} itself (not counted below): 20 concurrent requests, then 20 more',
        );
        expect(fronted.codes()).toEqual([...all(20, 'ERR_TOKEN_UNAVAILABLE'), ...all(20, 'OK')]);
        expect(fronted.events.some((event) => event.type === 'session-ended')).toBe(false);
        expect(server.stats).toMatchObject({ refreshRequests: 1, rotations: 1, reuseDetections: 0 });
        recorded.push(figures);
      } finally {
        await close();
      }
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    'a rotated refresh token in an answer without an access token is kept: the next refresh presents it, no reuse',
    async () => {
      const { server } = await signInServer();
      // The front takes the access token out of the server's first answer (the rotation stands).
      let stripNext = 1;
      const { fronted, close } = await frontOf(server, async (forward) => {
        const answer = await forward();
        if (stripNext-- <= 0 || answer.status !== 200) return answer;
        const parsed = JSON.parse(answer.body) as Record<string, unknown>;
        delete parsed['access_token'];
        return { status: 200, body: JSON.stringify(parsed) };
      });
      try {
        const rotated: string[] = [];
        const page = fronted.open(new MemoryTokenStore(), server.issueRefreshToken({ clientId: 'public-client' }), {
          onRefreshToken: (next: string) => void rotated.push(next),
        });
        await Promise.allSettled(Array.from({ length: 20 }, () => page.send()));
        await Promise.allSettled(Array.from({ length: 20 }, () => page.send()));
        const figures = await measureSession(
          fronted,
          'Rotated refresh token without an access token',
          'the first refresh answer (rotated at the server) reaches the client without its access_token: 20 concurrent requests, then 20 more',
        );
        expect(fronted.codes()).toEqual([...all(20, 'ERR_TOKEN_MALFORMED'), ...all(20, 'OK')]);
        expect(server.stats).toMatchObject({ refreshRequests: 2, rotations: 2, reuseDetections: 0 });
        expect(rotated).toHaveLength(2);
        recorded.push(figures);
      } finally {
        await close();
      }
    },
    SCENARIO_TIMEOUT_MS,
  );
});
