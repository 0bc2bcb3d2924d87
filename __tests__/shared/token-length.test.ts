import { describe, expect, test } from '@jest/globals';
import axios from 'axios';
import {
  attachTokenAuth,
  customProvider,
  DEFAULTS,
  isTokenRequestError,
  MemoryTokenStore,
  refreshTokenGrant,
  type TokenAuthEvent,
  type TokenStore,
} from '../../lib/index.js';
import { harness, mockOf, SYMBL_TOKEN_URL } from '../helpers/index.js';

// One documented maximum token length (DEFAULTS.maxTokenLength, 16 KiB) for every token reader:
// token responses, customProvider's getToken, the refresh-token option and resumeSession, store
// entries. A longer token is refused with an error naming the limit, never quoting the token.

const LIMIT = DEFAULTS.maxTokenLength;
const tokenOf = (length: number, fill = 'a'): string => fill.repeat(length);

describe('the maximum token length', () => {
  test('is 16 KiB', () => {
    expect(LIMIT).toBe(16_384);
  });

  test('a token response one character over it is ERR_TOKEN_TOO_LARGE, naming the limit and not the token', async () => {
    const h = harness({ tokenRequest: { cooldownMs: 0 } });
    const long = tokenOf(LIMIT + 1, 'L');
    h.tokenMock.onPost(SYMBL_TOKEN_URL).replyOnce(200, { accessToken: long, expiresIn: 3600 });
    const error = await h.auth.token().catch((e: unknown) => e);
    expect(isTokenRequestError(error) && error.code).toBe('ERR_TOKEN_TOO_LARGE');
    expect((error as Error).message).toContain(`is longer than ${LIMIT} characters (DEFAULTS.maxTokenLength)`);
    expect(JSON.stringify(error)).not.toContain('LLLLLLLL');
    // Not retried; the next call asks again, and a token of exactly the limit is taken.
    expect(h.tokenCalls()).toBe(1);
    h.tokenMock.onPost(SYMBL_TOKEN_URL).replyOnce(200, { accessToken: tokenOf(LIMIT), expiresIn: 3600 });
    await expect(h.auth.token()).resolves.toMatchObject({ accessToken: tokenOf(LIMIT) });
    h.auth.eject();
  });

  test.each([
    ['a string', (token: string) => token],
    ['an object', (token: string) => ({ accessToken: token, expiresIn: 60 })],
  ])("customProvider's getToken resolving to %s of 100,000 characters is ERR_TOKEN_TOO_LARGE", async (_what, shape) => {
    const auth = attachTokenAuth(axios.create(), {
      providers: customProvider({
        name: 'vault',
        origins: ['https://api.example.com'],
        getToken: () => shape(tokenOf(100_000, 'V')),
      }),
      tokenRequest: { cooldownMs: 0 },
    });
    const error = await auth.token().catch((e: unknown) => e);
    expect(isTokenRequestError(error) && error.code).toBe('ERR_TOKEN_TOO_LARGE');
    expect((error as Error).message).toContain(`longer than ${LIMIT} characters`);
    expect(JSON.stringify(error)).not.toContain('VVVVVVVV');
    auth.eject();
  });

  test('a store entry over the limit is reported as invalid and dropped, and a fresh token is fetched', async () => {
    const now = Date.now();
    const oversized = {
      accessToken: tokenOf(LIMIT + 1, 'S'),
      tokenType: 'Bearer',
      expiresAt: now + 3_600_000,
      obtainedAt: now,
    };
    const deleted: string[] = [];
    const store: TokenStore = {
      get: () => Promise.resolve(oversized),
      set: (_key, token) => Promise.resolve(token),
      delete: (_key, token) => {
        deleted.push(token);
        return Promise.resolve(true);
      },
    };
    const events: TokenAuthEvent[] = [];
    const h = harness({ store, onEvent: (event) => events.push(event) });
    h.tokenMock.onPost(SYMBL_TOKEN_URL).replyOnce(200, { accessToken: 'fresh-token', expiresIn: 3600 });
    await expect(h.auth.token()).resolves.toMatchObject({ accessToken: 'fresh-token' });
    const failed = events.find((event) => event.type === 'store-failed');
    expect(failed).toMatchObject({ operation: 'get', error: { code: 'ERR_STORE_ENTRY_INVALID' } });
    expect((failed as { error: Error }).error.message).toContain(`its token is longer than ${LIMIT} characters`);
    expect(JSON.stringify(events)).not.toContain('SSSSSSSS');
    expect(deleted).toEqual([oversized.accessToken]);
    h.auth.eject();
  });
});

describe('refresh tokens and the maximum length', () => {
  const TOKEN_URL = 'https://auth.example.com/token';

  function setUp(refreshToken: string) {
    const tokenClient = axios.create();
    const tokenMock = mockOf(tokenClient);
    const auth = attachTokenAuth(axios.create({ baseURL: 'https://api.example.com' }), {
      providers: refreshTokenGrant({ tokenUrl: TOKEN_URL, clientId: 'app', refreshToken }),
      tokenClient,
      store: new MemoryTokenStore(),
    });
    return { auth, tokenMock };
  }

  test('the refreshToken option and resumeSession refuse a refresh token over the limit, without quoting it', async () => {
    expect(() =>
      refreshTokenGrant({ tokenUrl: TOKEN_URL, clientId: 'app', refreshToken: tokenOf(LIMIT + 1, 'R') }),
    ).toThrow(`refreshTokenGrant(): \`refreshToken\` is longer than ${LIMIT} characters (DEFAULTS.maxTokenLength)`);
    const { auth } = setUp('rt-1');
    const error = await auth.resumeSession(tokenOf(LIMIT + 1, 'R')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe(
      `resumeSession(): \`refreshToken\` is longer than ${LIMIT} characters (DEFAULTS.maxTokenLength)`,
    );
    auth.eject();
  });

  test('a rotated refresh token of exactly the limit is stored and presented next time', async () => {
    const { auth, tokenMock } = setUp('rt-1');
    const longest = tokenOf(LIMIT, 'r');
    tokenMock
      .onPost(TOKEN_URL)
      .replyOnce(200, { access_token: 'at-1', expires_in: 3600, refresh_token: longest })
      .onPost(TOKEN_URL)
      .replyOnce(200, { access_token: 'at-2', expires_in: 3600 });
    await auth.token();
    await auth.invalidate();
    await expect(auth.token()).resolves.toMatchObject({ accessToken: 'at-2' });
    const presented = tokenMock.history['post'].map((request) =>
      new URLSearchParams(String(request.data)).get('refresh_token'),
    );
    expect(presented).toEqual(['rt-1', longest]);
    auth.eject();
  });

  test('a rotated refresh token over the limit is ERR_TOKEN_TOO_LARGE', async () => {
    const { auth, tokenMock } = setUp('rt-1');
    tokenMock
      .onPost(TOKEN_URL)
      .replyOnce(200, { access_token: 'at-1', expires_in: 3600, refresh_token: tokenOf(LIMIT + 1, 'R') });
    const error = await auth.token().catch((e: unknown) => e);
    expect(isTokenRequestError(error) && error.code).toBe('ERR_TOKEN_TOO_LARGE');
    expect((error as Error).message).toContain(
      `the refresh token at \`refresh_token\` is longer than ${LIMIT} characters`,
    );
    auth.eject();
  });
});
