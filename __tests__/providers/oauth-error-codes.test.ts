import { describe, expect, test } from '@jest/globals';
import axios from 'axios';
import {
  attachTokenAuth,
  clientCredentials,
  isTokenRequestError,
  refreshTokenGrant,
  type TokenAuthEvent,
} from '../../lib/index.js';
import { mockOf } from '../helpers/index.js';

// What the token endpoint's error answer means: the OAuth `error` compared exactly (RFC 6749 §5.2),
// `invalid_grant` ending a session only on a refusal (400, or the 401/403 some servers use), never
// on a 5xx; and codes reported as received, whatever the credentials (a client ID is public).

const TOKEN_URL = 'https://auth.example.com/oauth/token';

function refreshSetUp(clientId = 'my-app', clientSecret?: string) {
  const api = axios.create({ baseURL: 'https://api.example.com' });
  const tokenClient = axios.create();
  const tokenMock = mockOf(tokenClient);
  const events: TokenAuthEvent[] = [];
  const auth = attachTokenAuth(api, {
    providers: refreshTokenGrant({
      tokenUrl: TOKEN_URL,
      clientId,
      ...(clientSecret === undefined ? {} : { clientSecret }),
      refreshToken: 'rt-first-0001',
    }),
    tokenClient,
    tokenRequest: { retries: 2, minDelayMs: 1, maxDelayMs: 2, cooldownMs: 0 },
    onEvent: (event) => events.push(event),
  });
  const presented = (): string[] =>
    tokenMock.history['post'].map((request) => new URLSearchParams(String(request.data)).get('refresh_token') ?? '');
  return { auth, tokenMock, events, presented };
}

describe('invalid_grant', () => {
  test("with `clientId: 'a'`, invalid_grant ends the session and is reported as received", async () => {
    const { auth, tokenMock, events } = refreshSetUp('a', 'gr');
    tokenMock.onPost(TOKEN_URL).reply(400, { error: 'invalid_grant', error_description: 'grant revoked for a' });
    const error = await auth.token().catch((e: unknown) => e);
    expect(isTokenRequestError(error) && error.code).toBe('ERR_TOKEN_SESSION_ENDED');
    expect(isTokenRequestError(error) && error.providerCode).toBe('invalid_grant');
    expect((error as Error).message).toContain('invalid_grant grant revoked for a');
    expect(events.filter((event) => event.type === 'session-ended')).toHaveLength(1);
    // The revoked refresh token is not presented again.
    const again = await auth.token().catch((e: unknown) => e);
    expect(isTokenRequestError(again) && again.code).toBe('ERR_TOKEN_SESSION_ENDED');
    expect(tokenMock.history['post']).toHaveLength(1);
    auth.eject();
  });

  test.each([400, 401, 403])('a %i with invalid_grant ends the session', async (status) => {
    const { auth, tokenMock } = refreshSetUp();
    tokenMock.onPost(TOKEN_URL).reply(status, { error: 'invalid_grant' });
    const error = await auth.token().catch((e: unknown) => e);
    expect(isTokenRequestError(error) && [error.code, error.status]).toEqual(['ERR_TOKEN_SESSION_ENDED', status]);
    auth.eject();
  });

  test.each([500, 502, 503])(
    'a %i with invalid_grant is the server failing: the session goes on with the same refresh token',
    async (status) => {
      const { auth, tokenMock, events, presented } = refreshSetUp();
      tokenMock
        .onPost(TOKEN_URL)
        .replyOnce(status, { error: 'invalid_grant' })
        .onPost(TOKEN_URL)
        .replyOnce(200, { access_token: 'at-after-outage', expires_in: 3600, refresh_token: 'rt-second-0002' });
      const error = await auth.token().catch((e: unknown) => e);
      expect(isTokenRequestError(error) && [error.code, error.status, error.providerCode]).toEqual([
        'ERR_TOKEN_UNAVAILABLE',
        status,
        'invalid_grant',
      ]);
      expect(events.some((event) => event.type === 'session-ended')).toBe(false);
      await expect(auth.token()).resolves.toMatchObject({ accessToken: 'at-after-outage' });
      expect(presented()).toEqual(['rt-first-0001', 'rt-first-0001']);
      auth.eject();
    },
  );

  test.each([
    'Invalid_Grant',
    'INVALID_GRANT',
    ' invalid_grant',
    'invalid_grant ',
    'invalid_grant\n',
    'invalid_grants',
  ])('the error %j is not invalid_grant (compared exactly): a refusal, and the session goes on', async (code) => {
    const { auth, tokenMock, events } = refreshSetUp();
    tokenMock.onPost(TOKEN_URL).reply(400, { error: code });
    const error = await auth.token().catch((e: unknown) => e);
    expect(isTokenRequestError(error) && error.code).toBe('ERR_TOKEN_CREDENTIALS');
    expect(events.some((event) => event.type === 'session-ended')).toBe(false);
    auth.eject();
  });

  test('invalid_grant from the client-credentials grant is a refusal of the credentials, not a session', async () => {
    const api = axios.create({ baseURL: 'https://api.example.com' });
    const tokenClient = axios.create();
    const tokenMock = mockOf(tokenClient);
    const auth = attachTokenAuth(api, {
      providers: clientCredentials({ tokenUrl: TOKEN_URL, clientId: 'a', clientSecret: 'client-secret-0001' }),
      tokenClient,
      tokenRequest: { cooldownMs: 0 },
    });
    tokenMock.onPost(TOKEN_URL).reply(400, { error: 'invalid_grant' });
    const error = await auth.token().catch((e: unknown) => e);
    expect(isTokenRequestError(error) && [error.code, error.providerCode]).toEqual([
      'ERR_TOKEN_CREDENTIALS',
      'invalid_grant',
    ]);
    auth.eject();
  });
});

describe('codes are reported as received', () => {
  test.each([
    ['a client ID of one letter', 'a', 'client-secret-0001'],
    ['a short secret inside the code', 'my-app', 'lid'],
    ['a short secret that is the start of the code', 'my-app', 'in'],
  ])('%s: invalid_client stays invalid_client', async (_what, clientId, clientSecret) => {
    const api = axios.create({ baseURL: 'https://api.example.com' });
    const tokenClient = axios.create();
    const tokenMock = mockOf(tokenClient);
    const auth = attachTokenAuth(api, {
      providers: clientCredentials({ tokenUrl: TOKEN_URL, clientId, clientSecret }),
      tokenClient,
      tokenRequest: { cooldownMs: 0 },
    });
    tokenMock
      .onPost(TOKEN_URL)
      .reply(401, { error: 'invalid_client', error_description: `bad secret "${clientSecret}"` });
    const error = await auth.token().catch((e: unknown) => e);
    expect(isTokenRequestError(error) && error.providerCode).toBe('invalid_client');
    expect((error as Error).message).toContain(`invalid_client bad secret "[REDACTED]"`);
    expect(JSON.stringify(error)).not.toContain(`"${clientSecret}"`);
    auth.eject();
  });

  test('a code that is a secret is withheld whole, and the message scrubs it', async () => {
    const api = axios.create({ baseURL: 'https://api.example.com' });
    const tokenClient = axios.create();
    const tokenMock = mockOf(tokenClient);
    const auth = attachTokenAuth(api, {
      providers: clientCredentials({ tokenUrl: TOKEN_URL, clientId: 'my-app', clientSecret: 'client-secret-0001' }),
      tokenClient,
      tokenRequest: { cooldownMs: 0 },
    });
    tokenMock.onPost(TOKEN_URL).reply(401, { error: 'client-secret-0001' });
    const error = await auth.token().catch((e: unknown) => e);
    expect(isTokenRequestError(error) && [error.code, error.providerCode]).toEqual([
      'ERR_TOKEN_CREDENTIALS',
      undefined,
    ]);
    expect((error as Error).message).toContain('(HTTP 401: [REDACTED])');
    auth.eject();
  });
});
