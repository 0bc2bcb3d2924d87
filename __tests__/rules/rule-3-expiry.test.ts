import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals';
import { clientCredentials, DEFAULTS, singleView } from '../../lib/index.js';
import { CLOCK_SKEW_THRESHOLD_MS } from '../../lib/shared/defaults.js';
import { SYMBL_TOKEN_URL, authOf, jwt, useFakeClock } from '../helpers/index.js';
import { MOCKED_TRANSPORTS, type MockedHarness } from '../helpers/mocked-transports.js';

const NOW = Date.UTC(2026, 0, 1);
const SV_URL = 'https://sv.example.com';
const SV_TOKEN_URL = `${SV_URL}/v1/api/observice/token`;
const SV = { clientId: 'client-1', clientCode: 'code-SECRET-1', merchantId: 'merchant-1', baseURL: SV_URL };

// Transport-neutral: the same cases over attachTokenAuth (axios) and createTokenFetch (fetch).
describe.each(MOCKED_TRANSPORTS)('rule 3: when a token expires, over %s', (_name, harness) => {
  let h: MockedHarness;
  beforeEach(() => useFakeClock(NOW));
  afterEach(() => {
    h.auth.eject();
    jest.useRealTimers();
  });

  test('expiresIn is counted from when the token request was sent, not when it was answered', async () => {
    h = harness();
    h.tokenMock.onPost(SYMBL_TOKEN_URL).reply(async () => {
      jest.setSystemTime(NOW + 5_000); // the endpoint takes 5 s
      return [200, { accessToken: 'slow', expiresIn: 60 }];
    });
    await expect(h.auth.token()).resolves.toEqual({
      accessToken: 'slow',
      tokenType: 'Bearer',
      expiresAt: NOW + 60_000,
    });
  });

  test('a numeric string expiresIn is read as seconds', async () => {
    h = harness();
    h.tokenMock.onPost(SYMBL_TOKEN_URL).reply(200, { accessToken: 'str', expiresIn: '120' });
    await expect(h.auth.token()).resolves.toMatchObject({ expiresAt: NOW + 120_000 });
  });

  test('without expiresIn, the expiry comes from the JWT exp claim', async () => {
    h = harness();
    const exp = NOW / 1000 + 900;
    h.tokenMock.onPost(SYMBL_TOKEN_URL).reply(200, { accessToken: jwt({ exp, iat: NOW / 1000 }) });
    await expect(h.auth.token()).resolves.toMatchObject({ expiresAt: exp * 1000 });
  });

  test('SingleView’s expires_in of 0 falls back to the JWT exp claim', async () => {
    h = harness({ providers: singleView(SV) }, SV_URL);
    const exp = NOW / 1000 + 3600;
    h.tokenMock.onPost(SV_TOKEN_URL).reply(200, {
      success: true,
      payload: { access_token: jwt({ iat: NOW / 1000, exp }), token_type: 'Bearer', expires_in: 0 },
    });
    await expect(h.auth.token()).resolves.toMatchObject({ expiresAt: exp * 1000 });
  });

  test('with neither, the provider’s documented lifetime applies (Symbl: 86400 s)', async () => {
    h = harness();
    h.tokenMock.onPost(SYMBL_TOKEN_URL).reply(200, { accessToken: 'opaque' });
    await expect(h.auth.token()).resolves.toMatchObject({ expiresAt: NOW + 86_400_000 });
  });

  test('with no way to know, expiresAt is null and the token is refreshed on 401 only', async () => {
    const tokenUrl = 'https://auth.example.com/oauth2/token';
    h = harness({
      providers: clientCredentials({
        tokenUrl,
        clientId: 'c',
        clientSecret: 's-123456',
        origins: ['https://api.symbl.ai'],
      }),
    });
    let issued = 0;
    h.tokenMock.onPost(tokenUrl).reply(() => [200, { access_token: `opaque-${++issued}`, token_type: 'bearer' }]);
    let revoked = false;
    h.apiMock.onGet('/x').reply((config) => {
      const sent = authOf(config);
      return sent === 'Bearer opaque-1' && revoked ? [401, ''] : [200, sent];
    });
    await expect(h.auth.token()).resolves.toMatchObject({ expiresAt: null });
    jest.setSystemTime(NOW + 365 * 86_400_000);
    expect((await h.api.get('/x')).data).toBe('Bearer opaque-1');
    expect(issued).toBe(1);
    revoked = true;
    expect((await h.api.get('/x')).data).toBe('Bearer opaque-2');
    expect(issued).toBe(2);
  });

  test('a JWT exp is corrected when the server’s clock is minutes ahead of ours (Date header)', async () => {
    h = harness();
    const serverNow = NOW + 10 * 60_000;
    const exp = serverNow / 1000 + 3600;
    h.tokenMock
      .onPost(SYMBL_TOKEN_URL)
      .reply(200, { accessToken: jwt({ exp }) }, { date: new Date(serverNow).toUTCString() });
    // Not "50 minutes left" (exp read on our clock): 60 minutes from our now.
    await expect(h.auth.token()).resolves.toMatchObject({ expiresAt: NOW + 3_600_000 });
  });

  test('a small clock difference is left alone (below the skew threshold)', async () => {
    h = harness();
    const serverNow = NOW + CLOCK_SKEW_THRESHOLD_MS - 60_000;
    const exp = NOW / 1000 + 3600;
    h.tokenMock
      .onPost(SYMBL_TOKEN_URL)
      .reply(200, { accessToken: jwt({ exp }) }, { date: new Date(serverNow).toUTCString() });
    await expect(h.auth.token()).resolves.toMatchObject({ expiresAt: exp * 1000 });
  });

  test('with refreshWindowMs: 0 a token is not sent inside its expiry margin either', async () => {
    h = harness({ refreshWindowMs: 0 });
    let issued = 0;
    h.tokenMock.onPost(SYMBL_TOKEN_URL).reply(() => [200, { accessToken: `t${++issued}`, expiresIn: 3 }]);
    h.apiMock.onGet('/x').reply((config) => [200, authOf(config)]);
    expect((await h.api.get('/x')).data).toBe('Bearer t1');
    // 3 s token: its margin is 300 ms (10% of the lifetime), so at 2.75 s it is no longer sent.
    jest.setSystemTime(NOW + 2_750);
    expect((await h.api.get('/x')).data).toBe('Bearer t2');
  });

  test('an expired token is never sent: the request waits for a new one', async () => {
    h = harness();
    let issued = 0;
    h.tokenMock.onPost(SYMBL_TOKEN_URL).reply(() => [200, { accessToken: `t${++issued}`, expiresIn: 60 }]);
    h.apiMock.onGet('/x').reply((config) => [200, authOf(config)]);
    expect((await h.api.get('/x')).data).toBe('Bearer t1');
    jest.setSystemTime(NOW + 60_000);
    expect((await h.api.get('/x')).data).toBe('Bearer t2');
  });

  test('a 2-second token works: used for most of its life, refreshed ahead, never sent expired', async () => {
    h = harness();
    let issued = 0;
    h.tokenMock.onPost(SYMBL_TOKEN_URL).reply(() => [200, { accessToken: `t${++issued}`, expiresIn: 2 }]);
    const sent: { at: number; token: string | undefined }[] = [];
    h.apiMock.onGet('/x').reply((config) => {
      sent.push({ at: Date.now() - NOW, token: authOf(config) });
      return [200, 'ok'];
    });
    for (let at = 0; at <= 6_000; at += 100) {
      jest.setSystemTime(NOW + at);
      await h.api.get('/x');
    }
    // Each token lives 2 s from when it was requested; none may be sent at or past its expiry.
    const issuedAt = new Map<string, number>();
    for (const { at, token } of sent) {
      if (token !== undefined && !issuedAt.has(token)) issuedAt.set(token, at);
      expect(at).toBeLessThan((issuedAt.get(token!) ?? 0) + 2_000);
    }
    // The fixed margins (5 s, 60 s) exceed the whole lifetime; scaled, each token still serves
    // half of it (the refresh window is at most half the lifetime): 6 s of traffic, about 6 tokens.
    expect(DEFAULTS.expiryMarginMs).toBeGreaterThan(2_000);
    expect(issued).toBeGreaterThanOrEqual(3);
    expect(issued).toBeLessThanOrEqual(7);
  });
});
