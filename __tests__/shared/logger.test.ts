import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals';
import axios, { type AxiosAdapter, type AxiosInstance } from 'axios';
import { Console } from 'node:console';
import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import {
  attachTokenAuth,
  MemoryTokenStore,
  refreshTokenGrant,
  symbl,
  type TokenAuth,
  type TokenAuthEvent,
  type TokenAuthLogFields,
  type TokenAuthLogger,
  type TokenAuthLogLevel,
  type TokenAuthOptions,
} from '../../lib/index.js';
import {
  simulatedProvider,
  startAuthorizationServer,
  startProviderServer,
  type ProviderServer,
} from '../../lib/testing/index.js';
import { settleWithFakeTimers, until, useFakeClock } from '../helpers/index.js';

interface LogCall {
  level: TokenAuthLogLevel;
  args: unknown[];
}

/** A pino-shaped logger, `(object, message)`, that records every call. */
function recordingLogger(levels: readonly TokenAuthLogLevel[] = ['debug', 'info', 'warn', 'error']): {
  logger: TokenAuthLogger;
  calls: LogCall[];
} {
  const calls: LogCall[] = [];
  const logger: Record<string, (fields: TokenAuthLogFields, message: string) => void> = {};
  for (const level of levels) logger[level] = (...args: unknown[]) => void calls.push({ level, args });
  return { logger, calls };
}

const fieldsOf = (call: LogCall): Record<string, unknown> => call.args[0] as Record<string, unknown>;
const messageOf = (call: LogCall): string => call.args[1] as string;

let server: ProviderServer;
let api: AxiosInstance;
let auth: TokenAuth | undefined;

/** Every credential and every token the simulation issued: none may appear in anything logged. */
function secrets(): string[] {
  return [...Object.values(server.credentials), ...server.tokens.map((token) => token.accessToken)];
}

function expectNothingSecret(text: string): void {
  expect(server.tokens.length).toBeGreaterThan(0);
  for (const secret of secrets()) expect(text).not.toContain(secret);
}

function attach(options: Partial<TokenAuthOptions>): void {
  auth = attachTokenAuth(api, { providers: simulatedProvider(server), ...options });
}

beforeEach(async () => {
  server = await startProviderServer('symbl');
  api = axios.create({ baseURL: server.url });
});

afterEach(async () => {
  jest.useRealTimers();
  auth?.eject();
  auth = undefined;
  await server.close();
});

describe('a pino-like logger', () => {
  test('gets one info line per new token, with provider, timing and fingerprint as fields and in the message', async () => {
    const { logger, calls } = recordingLogger();
    attach({ logger });
    await Promise.all([api.get('/api/a'), api.get('/api/b'), api.get('/api/c')]);

    expect(calls).toHaveLength(1);
    const [call] = calls as [LogCall];
    const fields = fieldsOf(call);
    expect(call.level).toBe('info');
    expect(fields).toMatchObject({ type: 'token-fetched', provider: 'symbl', reason: 'missing', attempts: 1 });
    expect(fields['fingerprint']).toMatch(/^[0-9a-f]{8}$/);
    expect(typeof fields['durationMs']).toBe('number');
    expect(messageOf(call)).toBe(
      `symbl: new token ${String(fields['fingerprint'])} in ${String(fields['durationMs'])} ms (1 request; no token yet; expires ${new Date(fields['expiresAt'] as number).toISOString()})`,
    );
    expectNothingSecret(JSON.stringify(calls));
  });

  test('after a revocation: the rejected token at info, the new token, and each replay at info', async () => {
    const { logger, calls } = recordingLogger();
    attach({ logger });
    await api.get('/api/warm-up');
    server.revokeAll();
    await Promise.all([api.get('/api/x'), api.get('/api/y')]);

    const types = calls.map((call) => `${call.level} ${String(fieldsOf(call)['type'])}`);
    expect(types).toEqual([
      'info token-fetched',
      'info token-invalidated',
      'info token-fetched',
      'info request-replayed',
      'info request-replayed',
    ]);
    const [, dropped, renewed, replay] = calls as [LogCall, LogCall, LogCall, LogCall];
    expect(messageOf(dropped)).toMatch(/^symbl: token [0-9a-f]{8} rejected by the API; dropped$/);
    expect(messageOf(renewed)).toContain('the API rejected the previous one');
    expect(messageOf(replay)).toMatch(
      new RegExp(`^symbl: replayed GET ${server.url}/api/[xy] with token ${String(fieldsOf(renewed)['fingerprint'])}$`),
    );
    expectNothingSecret(JSON.stringify(calls));
  });

  test('a refused token request is logged at error with the error as secret-free JSON, not an Error object', async () => {
    const { logger, calls } = recordingLogger();
    const appSecret = 'definitely-not-the-right-secret-4711';
    attach({ logger, providers: symbl({ appId: 'sim-symbl-app-id', appSecret, baseURL: server.url }) });
    await expect(api.get('/api/x')).rejects.toMatchObject({ code: 'ERR_TOKEN_CREDENTIALS' });

    expect(calls).toHaveLength(1);
    const [call] = calls as [LogCall];
    expect(call.level).toBe('error');
    const error = fieldsOf(call)['error'];
    expect(error).not.toBeInstanceOf(Error);
    expect(error).toEqual({
      name: 'TokenRequestError',
      message: expect.stringContaining('refused the credentials') as unknown,
      code: 'ERR_TOKEN_CREDENTIALS',
      provider: 'symbl',
      status: 401,
      providerCode: undefined,
      url: `${server.url}/oauth2/token:generate`,
      attempts: 1,
      retryAfterMs: undefined,
    });
    expect(messageOf(call)).toBe(
      'symbl: could not get a token (ERR_TOKEN_CREDENTIALS, HTTP 401); requests that need one fail',
    );
    const logged = JSON.stringify(calls);
    expect(logged).not.toContain(appSecret);
    expect(logged).not.toContain('sim-symbl-app-id');
  });

  test('a retried token request is logged at warn with the attempt, the cause and the delay', async () => {
    const { logger, calls } = recordingLogger();
    server.queueTokenFaults({ status: 503, body: { message: 'busy' } });
    attach({ logger, tokenRequest: { minDelayMs: 10, maxDelayMs: 10 } });
    // The retry's delay passes on fake time; the loopback server's sockets do not use timers.
    useFakeClock(Date.now());
    const answered = await settleWithFakeTimers(api.get('/api/x'), { stepMs: 1 });
    expect(answered.status).toBe('fulfilled');

    expect(calls.map((call) => call.level)).toEqual(['warn', 'info']);
    const [retry, fetched] = calls as [LogCall, LogCall];
    expect(fieldsOf(retry)).toMatchObject({
      type: 'token-retry',
      attempt: 1,
      code: 'ERR_TOKEN_UNAVAILABLE',
      status: 503,
    });
    expect(messageOf(retry)).toMatch(
      /^symbl: token request attempt 1 failed \(ERR_TOKEN_UNAVAILABLE, HTTP 503\); retrying in \d+ ms$/,
    );
    expect(fieldsOf(fetched)).toMatchObject({ type: 'token-fetched', attempts: 2 });
    expectNothingSecret(JSON.stringify(calls));
  });

  test('a failed background refresh is a warning: the current token stays in use', async () => {
    await server.close();
    server = await startProviderServer('symbl', { tokenLifetimeSeconds: 1.2 });
    api = axios.create({ baseURL: server.url });
    // The handle's clock and the simulation's are both Date.now(): fake time moves them together.
    useFakeClock(Date.now());
    const { logger, calls } = recordingLogger();
    attach({ logger, tokenRequest: { retries: 0 } });
    await api.get('/api/first');
    server.setTokenFault({ status: 500, body: { message: 'down' } });
    // Inside the refresh window (half of a short lifetime), the next request starts a background refresh.
    await jest.advanceTimersByTimeAsync(700);
    await api.get('/api/second');
    await until(() => calls.length >= 2);

    const failure = calls[1]!;
    expect(failure.level).toBe('warn');
    expect(fieldsOf(failure)).toMatchObject({
      type: 'token-failed',
      background: true,
      reason: 'refresh-window',
      error: { code: 'ERR_TOKEN_UNAVAILABLE', status: 500 },
    });
    expect(messageOf(failure)).toBe(
      'symbl: background token refresh failed (ERR_TOKEN_UNAVAILABLE, HTTP 500); the current token stays in use',
    );
    expectNothingSecret(JSON.stringify(calls));
  });

  test('a failing token store is a warning naming the operation, and requests go on without it', async () => {
    const { logger, calls } = recordingLogger();
    const memory = new MemoryTokenStore();
    const store = {
      get: () => Promise.reject(Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' })),
      set: memory.set.bind(memory),
      delete: memory.delete.bind(memory),
    };
    attach({ logger, store });
    await expect(api.get('/api/x')).resolves.toMatchObject({ status: 200 });

    const storeFailure = calls.find((call) => fieldsOf(call)['type'] === 'store-failed');
    expect(storeFailure?.level).toBe('warn');
    expect(fieldsOf(storeFailure!)).toMatchObject({
      operation: 'get',
      error: { name: 'Error', message: 'connection refused', code: 'ECONNREFUSED' },
    });
    expect(messageOf(storeFailure!)).toBe('symbl: token store get failed (ECONNREFUSED); carrying on without it');
  });

  test('levels the logger lacks are skipped; the others are logged', async () => {
    const { logger, calls } = recordingLogger(['warn', 'error']);
    server.queueTokenFaults({ status: 503 });
    attach({ logger, tokenRequest: { minDelayMs: 1, maxDelayMs: 1 } });
    await api.get('/api/x');
    await auth!.invalidate();

    expect(calls.map((call) => `${call.level} ${String(fieldsOf(call)['type'])}`)).toEqual(['warn token-retry']);
  });

  test('manual invalidation and adopting a token from a shared store are debug lines', async () => {
    const { logger, calls } = recordingLogger();
    const store = new MemoryTokenStore();
    const other = axios.create({ baseURL: server.url });
    const otherAuth = attachTokenAuth(other, { providers: simulatedProvider(server), store });
    attach({ logger, store });
    await other.get('/api/x');
    await api.get('/api/y');
    await auth!.invalidate();
    otherAuth.eject();

    expect(calls.map((call) => `${call.level} ${String(fieldsOf(call)['type'])}`)).toEqual([
      'debug token-adopted',
      'debug token-invalidated',
    ]);
    expect(messageOf(calls[0]!)).toMatch(/^symbl: token [0-9a-f]{8} taken from the shared store \(no token yet; /);
    expect(messageOf(calls[1]!)).toMatch(/^symbl: token [0-9a-f]{8} invalidated$/);
  });
});

describe('a rotating refresh token', () => {
  test('a rotation is an info line (warn when onRefreshToken fails), the end of the session an error line; no refresh token is logged', async () => {
    const authorization = await startAuthorizationServer();
    const { logger, calls } = recordingLogger();
    const refreshToken = authorization.issueRefreshToken({ clientId: 'public-client' });
    const rest = axios.create({ baseURL: authorization.url });
    const rotated: string[] = [];
    const handle = attachTokenAuth(rest, {
      providers: refreshTokenGrant({
        tokenUrl: authorization.tokenUrl,
        clientId: 'public-client',
        refreshToken,
        onRefreshToken: (next) => {
          rotated.push(next);
          if (rotated.length === 2) throw new Error(`database down while saving ${next}`);
        },
      }),
      logger,
    });
    try {
      await rest.get('/api/me');
      authorization.revokeAccessTokens();
      await rest.get('/api/me');
      authorization.revokeFamily(refreshToken);
      authorization.revokeAccessTokens();
      await rest.get('/api/me').catch(() => undefined);
    } finally {
      handle.eject();
      await authorization.close();
    }
    const lines = calls.filter((call) =>
      ['refresh-token-rotated', 'session-ended'].includes(String(fieldsOf(call)['type'])),
    );
    expect(lines.map((call) => `${call.level} ${String(fieldsOf(call)['type'])}`)).toEqual([
      'info refresh-token-rotated',
      'warn refresh-token-rotated',
      'error session-ended',
    ]);
    expect(messageOf(lines[0]!)).toMatch(/^oauth2-refresh: refresh token rotated to [0-9a-f]{8}$/);
    expect(messageOf(lines[1]!)).toMatch(/, but onRefreshToken failed$/);
    expect(fieldsOf(lines[1]!)['callbackError']).toMatchObject({
      name: 'Error',
      message: expect.stringContaining('[REDACTED]'),
    });
    expect(messageOf(lines[2]!)).toMatch(
      /^oauth2-refresh: session ended \(refresh token [0-9a-f]{8}: ERR_TOKEN_SESSION_ENDED, HTTP 400\)/,
    );
    const logged = JSON.stringify(calls.map((call) => call.args));
    for (const secret of [refreshToken, ...rotated]) expect(logged).not.toContain(secret);
  });
});

describe('real loggers', () => {
  test('pino writes one JSON line per event, with the level, the fields and the message', async () => {
    const lines: string[] = [];
    attach({ logger: pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) }) });
    await api.get('/api/a');
    server.revokeAll();
    await api.get('/api/b');

    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.map((record) => [record['level'], record['type']])).toEqual([
      [30, 'token-fetched'],
      [30, 'token-invalidated'],
      [30, 'token-fetched'],
      [30, 'request-replayed'],
    ]);
    expect(records[0]).toMatchObject({ provider: 'symbl', msg: expect.stringMatching(/^symbl: new token/) as unknown });
    expectNothingSecret(lines.join('\n'));
  });

  test('a console writes the fields and the message; warnings and errors go to its error stream', async () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out: string[] = [];
    const err: string[] = [];
    stdout.on('data', (chunk: Buffer) => out.push(chunk.toString()));
    stderr.on('data', (chunk: Buffer) => err.push(chunk.toString()));
    server.queueTokenFaults({ status: 503 });
    attach({ logger: new Console({ stdout, stderr }), tokenRequest: { minDelayMs: 1, maxDelayMs: 1 } });
    await api.get('/api/a');
    await new Promise((resolve) => setImmediate(resolve));

    expect(err.join('')).toMatch(/type: 'token-retry'[\s\S]*symbl: token request attempt 1 failed/);
    expect(out.join('')).toMatch(/type: 'token-fetched'[\s\S]*symbl: new token [0-9a-f]{8} in \d+ ms/);
    expectNothingSecret(out.join('') + err.join(''));
  });
});

describe('the logger option', () => {
  test('works alongside onEvent: both receive every event', async () => {
    const { logger, calls } = recordingLogger();
    const events: TokenAuthEvent[] = [];
    attach({ logger, onEvent: (event) => events.push(event) });
    await api.get('/api/a');

    expect(events.map((event) => event.type)).toEqual(['token-fetched']);
    expect(calls).toHaveLength(1);
  });

  test('events of the first moments, before the messages have loaded, are written once they load, in order', async () => {
    const { logger, calls } = recordingLogger();
    const events: TokenAuthEvent[] = [];
    attach({ logger, onEvent: (event) => events.push(event) });
    // Unrouted requests are reported by the synchronous request interceptor, within this turn.
    const answer: AxiosAdapter = (config) =>
      Promise.resolve({ data: 'ok', status: 200, statusText: 'OK', headers: {}, config });
    const sent = ['http://first.invalid/a', 'http://second.invalid/b'].map((url) => api.get(url, { adapter: answer }));
    expect(events.map((event) => event.type)).toEqual(['request-unrouted', 'request-unrouted']);
    await Promise.all(sent);
    await until(() => calls.length === 2);

    expect(calls.map((call) => [call.level, fieldsOf(call)['origin']])).toEqual([
      ['warn', 'http://first.invalid'],
      ['warn', 'http://second.invalid'],
    ]);
    expect(messageOf(calls[0]!)).toContain('no token for http://first.invalid/a: no provider serves');
  });

  test('a logger that throws never breaks a request', async () => {
    const explode = (): never => {
      throw new Error('logger down');
    };
    attach({ logger: { debug: explode, info: explode, warn: explode, error: explode } });
    await expect(api.get('/api/a')).resolves.toMatchObject({ status: 200 });
  });

  test.each([
    ['an empty object', {}],
    ['an object whose info is not a function', { info: 'loud' }],
    ['a string', 'console'],
  ])('%s is refused at attach time with ERR_INVALID_ARG_TYPE', (_what, logger) => {
    expect(() =>
      attachTokenAuth(api, { providers: simulatedProvider(server), logger: logger as TokenAuthLogger }),
    ).toThrow(
      expect.objectContaining({
        name: 'TypeError',
        code: 'ERR_INVALID_ARG_TYPE',
        message: expect.stringContaining(
          'expected `logger` to be an object with debug, info, warn or error methods',
        ) as unknown,
      }),
    );
  });
});
