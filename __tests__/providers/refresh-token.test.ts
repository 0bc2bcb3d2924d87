import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals';
import axios from 'axios';
import {
  attachTokenAuth,
  isTokenRequestError,
  MemoryTokenStore,
  refreshTokenGrant,
  type TokenAuthEvent,
  type TokenStore,
} from '../../lib/index.js';
import { startAuthorizationServer, type AuthorizationServer } from '../../lib/testing/index.js';
import { mockOf } from '../helpers/index.js';

// refreshTokenGrant() against the testing kit's authorization server: rotation, reuse detection
// that revokes the family, public and confidential clients; counts taken at the server.

// The 200-request tests take about a second alone, and several times that instrumented by Stryker
// on a busy machine.
jest.setTimeout(20_000);

let server: AuthorizationServer;
beforeEach(async () => {
  server = await startAuthorizationServer({ accessTokenLifetimeSeconds: 60 });
});
afterEach(async () => {
  await server.close();
});

const noReuse = (): void => {
  expect(server.stats.reuseDetections).toBe(0);
  expect(server.stats.revokedFamilies).toBe(0);
};

function setUp(
  options: {
    clientId?: string;
    store?: TokenStore;
    onRefreshToken?: (token: string) => unknown;
    timeoutMs?: number;
    refreshWindowMs?: number;
  } = {},
) {
  const clientId = options.clientId ?? 'public-client';
  const client = server.clients.find((candidate) => candidate.clientId === clientId);
  const events: TokenAuthEvent[] = [];
  const api = axios.create({ baseURL: server.url });
  const refreshToken = server.issueRefreshToken({ clientId });
  const auth = attachTokenAuth(api, {
    providers: refreshTokenGrant({
      tokenUrl: server.tokenUrl,
      clientId,
      ...(client?.clientSecret === undefined ? {} : { clientSecret: client.clientSecret }),
      refreshToken,
      ...(options.onRefreshToken === undefined ? {} : { onRefreshToken: options.onRefreshToken }),
    }),
    ...(options.store === undefined ? {} : { store: options.store }),
    ...(options.refreshWindowMs === undefined ? {} : { refreshWindowMs: options.refreshWindowMs }),
    tokenRequest: {
      retries: 1,
      minDelayMs: 1,
      maxDelayMs: 5,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    },
    onEvent: (event) => events.push(event),
  });
  return { api, auth, events, refreshToken };
}

describe('refreshTokenGrant', () => {
  test('200 concurrent cold requests present the refresh token once and all succeed', async () => {
    const { api } = setUp();
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => api.get(`/api/item/${i}`)));
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    expect(server.stats).toMatchObject({ refreshRequests: 1, refreshTokenUses: 1, rotations: 1, apiSucceeded: 200 });
    noReuse();
  });

  test('a confidential client authenticates and rotates the same way', async () => {
    const { api, auth } = setUp({ clientId: 'confidential-client' });
    await Promise.all(Array.from({ length: 50 }, () => api.get('/api/me')));
    const first = (await auth.token()).accessToken;
    server.revokeAccessTokens();
    await Promise.all(Array.from({ length: 50 }, () => api.get('/api/me')));
    expect((await auth.token()).accessToken).not.toBe(first);
    expect(server.stats).toMatchObject({ refreshRequests: 2, rotations: 2 });
    noReuse();
  });

  test('access tokens revoked mid-load: one rotation per revocation, no request fails, no refresh token reused', async () => {
    const { api } = setUp();
    await api.get('/api/warm');
    let [sent, failed, done] = [0, 0, false];
    const inFlight = new Set<number>();
    const load = async (): Promise<void> => {
      while (!done) {
        const startedAt = performance.now();
        inFlight.add(startedAt);
        sent++;
        await api.get('/api/load').catch(() => failed++);
        inFlight.delete(startedAt);
      }
    };
    // Each revocation waits until the previous one's rotation is done and every request sent before it
    // has settled: a request is replayed once (rule 5), so a second revocation during its replay
    // would rightly reach its caller.
    const revocations = (async () => {
      for (let i = 0; i < 5; i++) {
        const rotations = server.stats.rotations;
        server.revokeAccessTokens();
        while (server.stats.rotations === rotations) await new Promise((resolve) => setTimeout(resolve, 5));
        const rotatedAt = performance.now();
        while ([...inFlight].some((startedAt) => startedAt <= rotatedAt)) {
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }
      done = true;
    })();
    await Promise.all([...Array.from({ length: 20 }, load), revocations]);
    expect(sent).toBeGreaterThan(20);
    expect(failed).toBe(0);
    expect(server.stats.rotations).toBe(server.stats.refreshRequests);
    expect(server.stats.rotations).toBe(6);
    noReuse();
  });

  test('the rotated refresh token reaches onRefreshToken before its access token is sent', async () => {
    const order: string[] = [];
    const { api, refreshToken } = setUp({
      onRefreshToken: (token) => {
        order.push(`saved ${server.familyOf(token)?.currentRefreshToken === token ? 'current' : 'stale'}`);
      },
    });
    api.interceptors.response.use((response) => {
      order.push('api answered');
      return response;
    });
    await api.get('/api/me');
    expect(order).toEqual(['saved current', 'api answered']);
    expect(server.familyOf(refreshToken)?.currentRefreshToken).not.toBe(refreshToken);
  });

  test('an answer without refresh_token keeps the old one, which is presented again', async () => {
    const plain = await startAuthorizationServer({ rotateRefreshTokens: false });
    try {
      const saved: string[] = [];
      const refreshToken = plain.issueRefreshToken({ clientId: 'public-client' });
      const api = axios.create({ baseURL: plain.url });
      attachTokenAuth(api, {
        providers: refreshTokenGrant({
          tokenUrl: plain.tokenUrl,
          clientId: 'public-client',
          refreshToken,
          onRefreshToken: (next) => saved.push(next),
        }),
      });
      for (let round = 0; round < 3; round++) {
        if (round > 0) plain.revokeAccessTokens();
        expect((await api.get('/api/me')).status).toBe(200);
      }
      expect(plain.stats).toMatchObject({ refreshRequests: 3, reuseDetections: 0, revokedFamilies: 0 });
      expect(saved).toEqual([]);
      expect(plain.familyOf(refreshToken)?.currentRefreshToken).toBe(refreshToken);
    } finally {
      await plain.close();
    }
  });

  test('invalid_grant ends the session for every waiter, once; later calls fail fast until resumeSession', async () => {
    const { api, auth, events, refreshToken } = setUp();
    server.revokeFamily(refreshToken);
    const outcomes = await Promise.all(Array.from({ length: 30 }, () => api.get('/api/me').catch((e: unknown) => e)));
    expect(outcomes.every((e) => isTokenRequestError(e) && e.code === 'ERR_TOKEN_SESSION_ENDED')).toBe(true);
    expect(server.stats.refreshRequests).toBe(1);
    expect(events.filter((event) => event.type === 'session-ended')).toHaveLength(1);

    const later = await api.get('/api/me').catch((e: unknown) => e);
    expect(isTokenRequestError(later) && later.code === 'ERR_TOKEN_SESSION_ENDED' && later.attempts).toBe(0);
    expect(server.stats.refreshRequests).toBe(1);

    await auth.resumeSession(server.issueRefreshToken({ clientId: 'public-client' }));
    expect((await api.get('/api/me')).status).toBe(200);
    expect(server.stats.refreshRequests).toBe(2);
  });

  test('an answer lost after the server used the refresh token is not retried with it', async () => {
    const { api } = setUp();
    server.dropNextTokenAnswer();
    const lost = await api.get('/api/me').catch((e: unknown) => e);
    expect(isTokenRequestError(lost) && lost.code).toBe('ERR_TOKEN_UNAVAILABLE');
    expect(server.stats).toMatchObject({ refreshRequests: 1, rotations: 1, droppedAnswers: 1 });
    // The documented outcome on a strict server: the next use is a reuse, and the session ends.
    const next = await api.get('/api/me').catch((e: unknown) => e);
    expect(isTokenRequestError(next) && next.code).toBe('ERR_TOKEN_SESSION_ENDED');
  });

  test('a store whose lock cannot be had never leads to presenting the refresh token', async () => {
    const memory = new MemoryTokenStore();
    const timingOut: TokenStore = {
      get: (key) => memory.get(key),
      set: (key, token) => memory.set(key, token),
      delete: (key, token) => memory.delete(key, token),
      lock: () => Promise.resolve(undefined),
    };
    const { api } = setUp({ store: timingOut });
    const error = await api.get('/api/me').catch((e: unknown) => e);
    expect(isTokenRequestError(error) && error.code).toBe('ERR_TOKEN_STORE_UNAVAILABLE');
    expect(server.stats.refreshRequests).toBe(0);
  });

  test('a store whose lock fails never leads to presenting the refresh token', async () => {
    const memory = new MemoryTokenStore();
    const failing: TokenStore = {
      get: (key) => memory.get(key),
      set: (key, token) => memory.set(key, token),
      delete: (key, token) => memory.delete(key, token),
      lock: () => Promise.reject(new Error('connection lost')),
    };
    const { api, events } = setUp({ store: failing });
    const error = await api.get('/api/me').catch((e: unknown) => e);
    expect(isTokenRequestError(error) && error.code).toBe('ERR_TOKEN_STORE_UNAVAILABLE');
    expect(server.stats.refreshRequests).toBe(0);
    expect(events.some((event) => event.type === 'store-failed' && event.operation === 'lock')).toBe(true);
  });

  test('retries only what cannot have reached the server: a 429 and a refused connection, never a 5xx or a timeout', async () => {
    const tokenClient = axios.create();
    const mock = mockOf(tokenClient);
    const tokenUrl = 'http://127.0.0.1:9/oauth2/token';
    const api = axios.create({ baseURL: 'http://127.0.0.1:9' });
    const auth = attachTokenAuth(api, {
      providers: refreshTokenGrant({ tokenUrl, clientId: 'c', refreshToken: 'r0' }),
      tokenClient,
      tokenRequest: { retries: 2, minDelayMs: 1, maxDelayMs: 2, cooldownMs: 0, timeoutMs: 200 },
    });
    const attemptsOf = async (): Promise<[string | undefined, number]> => {
      const error = await auth.token().catch((e: unknown) => e);
      return isTokenRequestError(error) ? [error.code, error.attempts] : [undefined, 0];
    };
    mock.onPost(tokenUrl).replyOnce(503, {}).onPost(tokenUrl).replyOnce(200, { access_token: 'a1' });
    expect(await attemptsOf()).toEqual(['ERR_TOKEN_UNAVAILABLE', 1]);
    mock.reset();
    mock.onPost(tokenUrl).timeout();
    expect(await attemptsOf()).toEqual(['ERR_TOKEN_TIMEOUT', 1]);
    mock.reset();
    mock.onPost(tokenUrl).reply(429, {});
    expect(await attemptsOf()).toEqual(['ERR_TOKEN_RATE_LIMITED', 3]);
    mock.reset();
    mock
      .onPost(tokenUrl)
      .reply(() => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })));
    expect(await attemptsOf()).toEqual(['ERR_TOKEN_UNAVAILABLE', 3]);
    mock.reset();
    mock.onPost(tokenUrl).replyOnce(200, { access_token: 'a1', refresh_token: 'r1' });
    expect((await auth.token()).accessToken).toBe('a1');
    expect(mock.history['post'][0]?.data).toBe('grant_type=refresh_token&client_id=c&refresh_token=r0');
    auth.eject();
  });

  test('refuses a store without a lock, and options are checked at construction', () => {
    const lockless: TokenStore = {
      get: () => Promise.resolve(undefined),
      set: (_, t) => Promise.resolve(t),
      delete: () => Promise.resolve(false),
    };
    const provider = refreshTokenGrant({
      tokenUrl: 'https://auth.example.com/token',
      clientId: 'c',
      refreshToken: 'r',
    });
    expect(() => attachTokenAuth(axios.create(), { providers: provider, store: lockless })).toThrow(
      'the `store` has no `lock` method',
    );
    expect(() =>
      refreshTokenGrant({ tokenUrl: 'https://auth.example.com/token', clientId: 'c', refreshToken: '' }),
    ).toThrow('expected `refreshToken` to be a non-empty string');
    expect(() =>
      refreshTokenGrant({
        tokenUrl: 'https://auth.example.com/token',
        clientId: 'c',
        refreshToken: 'r',
        authMethod: 'x' as never,
      }),
    ).toThrow('expected `authMethod`');
    expect(provider).toMatchObject({ name: 'oauth2-refresh', origins: ['https://auth.example.com'] });
    expect(JSON.stringify(provider)).not.toContain('"r"');
    const auth = attachTokenAuth(axios.create(), { providers: provider });
    return expect(auth.resumeSession('')).rejects.toThrow('expected `refreshToken` to be a non-empty string');
  });

  test('a refresh token with a character outside visible ASCII is an InvalidOptionError naming `refreshToken`, never quoting it', async () => {
    const options = { tokenUrl: 'https://auth.example.com/token', clientId: 'c' };
    const thrown = (run: () => unknown): unknown => {
      try {
        run();
      } catch (error) {
        return error;
      }
      return undefined;
    };
    for (const refreshToken of ['secret-rt\nX-Injected: 1', 'secret-rt\u00e9', 'secret-rt\u0000']) {
      const error = thrown(() => refreshTokenGrant({ ...options, refreshToken }));
      expect(error).toBeInstanceOf(TypeError);
      expect(error).toMatchObject({
        code: 'ERR_INVALID_ARG_VALUE',
        message: 'refreshTokenGrant(): expected `refreshToken` to hold only visible ASCII characters',
      });
      expect(JSON.stringify(error) + String(error)).not.toContain('secret-rt');
    }
    const auth = attachTokenAuth(axios.create(), { providers: refreshTokenGrant({ ...options, refreshToken: 'r' }) });
    await expect(auth.resumeSession('secret-rt\r\n')).rejects.toMatchObject({
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_VALUE',
      message: 'resumeSession(): expected `refreshToken` to hold only visible ASCII characters',
    });
    // Spaces and every visible ASCII character are a refresh token (RFC 6749 Appendix A.17).
    const printable = Array.from({ length: 0x7e - 0x20 + 1 }, (_, i) => String.fromCharCode(0x20 + i)).join('');
    expect(refreshTokenGrant({ ...options, refreshToken: printable })).toMatchObject({ name: 'oauth2-refresh' });
    auth.eject();
  });

  test('a rotated refresh token the store will not take is written again under the lock; if it never takes it, this process presents its own copy', async () => {
    const memory = new MemoryTokenStore();
    let refusals = 0;
    const flaky: TokenStore = {
      get: (key) => memory.get(key),
      // The rotated token's entry is refused; its rotation mark (written before presenting) is not.
      set: (key, token) =>
        key.endsWith(':refresh') && token.tokenType === 'Refresh' && refusals-- > 0
          ? Promise.reject(new Error('busy'))
          : memory.set(key, token),
      delete: (key, token) => memory.delete(key, token),
      lock: (key, options) => memory.lock(key, options),
    };
    // A 5 s lock (two 2 s attempts and a second): the write is retried until the mark's end (the
    // lease and one time limit later).
    const { api, events } = setUp({ store: flaky, timeoutMs: 2_000 });
    refusals = 2;
    await api.get('/api/me');
    const rotated = events.filter((event) => event.type === 'refresh-token-rotated');
    expect(rotated).toMatchObject([{ stored: true }]);
    expect(events.filter((event) => event.type === 'store-failed')).toHaveLength(2);

    refusals = 100;
    server.revokeAccessTokens();
    await api.get('/api/me');
    expect(events.filter((event) => event.type === 'refresh-token-rotated').at(-1)).toMatchObject({ stored: false });
    refusals = 0;
    server.revokeAccessTokens();
    expect((await api.get('/api/me')).status).toBe(200);
    expect(server.stats).toMatchObject({ rotations: 3, refreshTokenUses: 3 });
    noReuse();
  }, 30_000);

  test('a rotation mark the store will not take: nothing is presented, ERR_TOKEN_STORE_UNAVAILABLE', async () => {
    const memory = new MemoryTokenStore();
    const refusing: TokenStore = {
      get: (key) => memory.get(key),
      set: (key, token) =>
        token.tokenType === 'Rotating' ? Promise.reject(new Error('busy')) : memory.set(key, token),
      delete: (key, token) => memory.delete(key, token),
      lock: (key, options) => memory.lock(key, options),
    };
    const { api } = setUp({ store: refusing, timeoutMs: 500 });
    const failure = await api.get('/api/me').catch((error: unknown) => error);
    expect(isTokenRequestError(failure) && failure.code).toBe('ERR_TOKEN_STORE_UNAVAILABLE');
    expect(server.stats.refreshRequests).toBe(0);
  });

  /** A store that remembers the key of the refresh-token entry, and writes another holder's mark there. */
  function markingStore() {
    const memory = new MemoryTokenStore();
    let refreshKey = '';
    let locks = 0;
    const store: TokenStore = {
      get: (key) => memory.get(key),
      set: (key, token) => {
        if (key.endsWith(':refresh')) refreshKey = key;
        return memory.set(key, token);
      },
      delete: (key, token) => memory.delete(key, token),
      lock: (key, options) => {
        locks++;
        return memory.lock(key, options);
      },
    };
    /** Writes a mark of the stored refresh token, standing until `until`; resolves to that token. */
    const markUntil = async (until: number): Promise<string> => {
      const entry = await memory.get(refreshKey);
      if (entry === undefined) throw new Error('no refresh-token entry');
      const mark = {
        ...entry,
        accessToken: `${until}.${entry.accessToken}`,
        tokenType: 'Rotating',
        obtainedAt: entry.obtainedAt + 1,
      };
      await memory.set(refreshKey, mark);
      return atob(entry.accessToken);
    };
    return { store, markUntil, entry: () => memory.get(refreshKey), locks: () => locks };
  }

  test("another holder's mark: nothing is presented until it ends, then the token is (its outcome unknown)", async () => {
    const marking = markingStore();
    const { api } = setUp({ store: marking.store, timeoutMs: 500 });
    await api.get('/api/me');
    const marked = await marking.markUntil(Date.now() + 700);
    server.revokeAccessTokens();
    const started = Date.now();
    const presentedBefore = server.stats.refreshRequests;
    const pending = api.get('/api/me');
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(server.stats.refreshRequests).toBe(presentedBefore);
    expect((await pending).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(650);
    expect(server.stats).toMatchObject({ rotations: 2, refreshTokenUses: 2 });
    // The mark gave way to the rotated token.
    const entry = await marking.entry();
    expect(entry?.tokenType).toBe('Refresh');
    expect(atob(entry?.accessToken ?? '')).not.toBe(marked);
    noReuse();
  });

  test('a mark that claims to stand for a day is waited for at most the lease and one time limit', async () => {
    const marking = markingStore();
    // retries 1, 500 ms: a lease of 2 × 500 + 5 + 1,000 ms, and 500 ms more.
    const { api } = setUp({ store: marking.store, timeoutMs: 500 });
    await api.get('/api/me');
    await marking.markUntil(Date.now() + 86_400_000);
    server.revokeAccessTokens();
    const started = Date.now();
    expect((await api.get('/api/me')).status).toBe(200);
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(2_400);
    expect(waited).toBeLessThan(6_000);
    expect(server.stats).toMatchObject({ rotations: 2, refreshTokenUses: 2 });
    noReuse();
  }, 15_000);

  test('an exchange that brings back no rotated token leaves the same token in the entry, unmarked', async () => {
    const marking = markingStore();
    const { api } = setUp({ store: marking.store, timeoutMs: 300 });
    await api.get('/api/me');
    const before = await marking.entry();
    server.revokeAccessTokens();
    server.setTokenLatency(1_500);
    const failure = await api.get('/api/me').catch((error: unknown) => error);
    expect(isTokenRequestError(failure) && failure.code).toBe('ERR_TOKEN_TIMEOUT');
    const after = await marking.entry();
    expect(after).toMatchObject({ tokenType: 'Refresh', accessToken: before?.accessToken });
    expect(after?.obtainedAt).toBeGreaterThan(before?.obtainedAt ?? Infinity);
    server.setTokenLatency(0);
  });

  test("inside the refresh window, another holder's mark holds background refreshes back until it ends", async () => {
    await server.close();
    // 4 s tokens: their refresh window (at most half their life) opens 1.6 to 2 s after they arrive.
    server = await startAuthorizationServer({ accessTokenLifetimeSeconds: 4 });
    const marking = markingStore();
    const { api } = setUp({ store: marking.store, timeoutMs: 500, refreshWindowMs: 60_000 });
    await api.get('/api/me');
    const markEnds = Date.now() + 3_000;
    await marking.markUntil(markEnds);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const before = marking.locks();
    // Up to 20 requests, all while the mark stands (on a loaded machine 20 may take longer than it does).
    let sent = 0;
    while (sent < 20 && Date.now() < markEnds - 200) {
      expect((await api.get('/api/me')).status).toBe(200);
      sent++;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(sent).toBeGreaterThan(0);
    // One background flight found the mark; none tried again while it stood.
    expect(marking.locks() - before).toBe(1);
    expect(server.stats).toMatchObject({ rotations: 1, refreshTokenUses: 1 });
  });
});
