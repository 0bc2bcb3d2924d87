import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import axios, { type AxiosResponse } from 'axios';
import { startAuthorizationServer, type AuthorizationServer } from '../../lib/testing/index.js';

// The testing kit's authorization server, driven with plain axios: what a refresh-token client
// will meet at Auth0, Okta or Keycloak (rotation, reuse detection), on loopback.

interface TokenAnswer {
  access_token?: string;
  refresh_token?: string;
  token_type?: string;
  expires_in?: number;
  error?: string;
}

let server: AuthorizationServer;
const http = axios.create({ validateStatus: () => true });

beforeEach(async () => {
  server = await startAuthorizationServer({ accessTokenLifetimeSeconds: 60 });
});
afterEach(async () => {
  await server.close();
});

const confidential = (): { clientId: string; clientSecret: string } => {
  const client = server.clients.find((candidate) => candidate.clientSecret !== undefined);
  if (client?.clientSecret === undefined) throw new Error('no confidential client');
  return { clientId: client.clientId, clientSecret: client.clientSecret };
};

/** A refresh as a confidential client over client_secret_basic. */
function refresh(refreshToken: string, secret = confidential().clientSecret): Promise<AxiosResponse<TokenAnswer>> {
  return http.post<TokenAnswer>(
    server.tokenUrl,
    new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
    { auth: { username: confidential().clientId, password: secret } },
  );
}

function api(accessToken: string | undefined): Promise<AxiosResponse<{ ok?: boolean; clientId?: string }>> {
  return http.get(`${server.url}/api/me`, {
    headers: accessToken === undefined ? {} : { Authorization: `Bearer ${accessToken}` },
  });
}

describe('refresh-token rotation', () => {
  test('every refresh answers a new refresh token and an access token the API accepts', async () => {
    const first = server.issueRefreshToken();
    const one = await refresh(first);
    expect(one.status).toBe(200);
    expect(one.headers['cache-control']).toBe('no-store');
    expect(one.data).toMatchObject({ token_type: 'Bearer', expires_in: 60 });
    const second = one.data.refresh_token as string;
    expect(second).toEqual(expect.any(String));
    expect(second).not.toBe(first);

    const two = await refresh(second);
    expect(two.status).toBe(200);
    expect(two.data.refresh_token).not.toBe(second);
    expect((await api(two.data.access_token)).data).toMatchObject({ ok: true, clientId: confidential().clientId });
    // The older access token is not revoked by a rotation: it lives out its lifetime.
    expect((await api(one.data.access_token)).status).toBe(200);

    expect(server.familyOf(first)).toMatchObject({
      revoked: false,
      rotations: 2,
      currentRefreshToken: two.data.refresh_token,
    });
    expect(server.stats).toMatchObject({ refreshRequests: 2, rotations: 2, reuseDetections: 0, revokedFamilies: 0 });
  });

  test('client_secret_post works like client_secret_basic', async () => {
    const { clientId, clientSecret } = confidential();
    const answer = await http.post<TokenAnswer>(
      server.tokenUrl,
      new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: server.issueRefreshToken(),
        client_id: clientId,
        client_secret: clientSecret,
      }),
    );
    expect(answer.status).toBe(200);
    expect(answer.data.refresh_token).toEqual(expect.any(String));
  });

  test('a public client refreshes with its client_id alone', async () => {
    const refreshToken = server.issueRefreshToken({ clientId: 'public-client' });
    const answer = await http.post<TokenAnswer>(
      server.tokenUrl,
      new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'public-client' }),
    );
    expect(answer.status).toBe(200);
    expect((await api(answer.data.access_token)).data).toMatchObject({ ok: true, clientId: 'public-client' });
  });

  test('a confidential client that sends no secret, or a refresh token of another client, is refused', async () => {
    const { clientId } = confidential();
    const noSecret = await http.post<TokenAnswer>(
      server.tokenUrl,
      new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: server.issueRefreshToken(),
        client_id: clientId,
      }),
    );
    expect(noSecret.status).toBe(400);
    expect(noSecret.data.error).toBe('invalid_client');

    const publicToken = server.issueRefreshToken({ clientId: 'public-client' });
    const otherClient = await refresh(publicToken);
    expect(otherClient.status).toBe(400);
    expect(otherClient.data.error).toBe('invalid_grant');
    // Refused requests use nothing up.
    expect(server.familyOf(publicToken)).toMatchObject({ revoked: false, rotations: 0 });
    expect(server.stats.rotations).toBe(0);
  });

  test('a wrong client secret is invalid_client: 401 with a Basic challenge over client_secret_basic, 400 over client_secret_post', async () => {
    const refreshToken = server.issueRefreshToken();
    const basic = await refresh(refreshToken, 'not-the-secret');
    expect(basic.status).toBe(401);
    expect(basic.data.error).toBe('invalid_client');
    expect(basic.headers['www-authenticate']).toMatch(/^Basic /);

    const post = await http.post<TokenAnswer>(
      server.tokenUrl,
      new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: confidential().clientId,
        client_secret: 'not-the-secret',
      }),
    );
    expect(post.status).toBe(400);
    expect(post.data.error).toBe('invalid_client');
    // The refresh token was not used up by the refused requests.
    expect((await refresh(refreshToken)).status).toBe(200);
  });

  test('an unknown refresh token is invalid_grant, and revokes nothing', async () => {
    const answer = await refresh('never-issued');
    expect(answer.status).toBe(400);
    expect(answer.data.error).toBe('invalid_grant');
    expect(server.stats).toMatchObject({ reuseDetections: 0, revokedFamilies: 0 });
  });
});

describe('reuse detection', () => {
  test('a second use of a refresh token revokes the family: the newest refresh token and its access token stop working', async () => {
    const first = server.issueRefreshToken();
    const one = await refresh(first);
    const two = await refresh(one.data.refresh_token as string);
    const other = server.issueRefreshToken();

    const reused = await refresh(first);
    expect(reused.status).toBe(400);
    expect(reused.data.error).toBe('invalid_grant');

    expect((await api(one.data.access_token)).status).toBe(401);
    expect((await api(two.data.access_token)).status).toBe(401);
    const newest = await refresh(two.data.refresh_token as string);
    expect(newest.status).toBe(400);
    expect(newest.data.error).toBe('invalid_grant');
    expect(server.familyOf(first)).toMatchObject({ revoked: true });
    // Another family (another session) is untouched.
    expect((await refresh(other)).status).toBe(200);
    expect(server.stats).toMatchObject({ rotations: 3, reuseDetections: 1, revokedFamilies: 1 });
  });

  test('two simultaneous uses of one refresh token: exactly one succeeds, and the family is revoked', async () => {
    // A latency before handling lines both requests up at the server, as two processes refreshing at once.
    server.setTokenLatency(50);
    const refreshToken = server.issueRefreshToken();
    const answers = await Promise.all([refresh(refreshToken), refresh(refreshToken)]);

    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 400]);
    const winner = answers.find((answer) => answer.status === 200) as AxiosResponse<TokenAnswer>;
    const loser = answers.find((answer) => answer.status === 400) as AxiosResponse<TokenAnswer>;
    expect(loser.data.error).toBe('invalid_grant');
    // What the winner got was revoked with the family.
    expect((await api(winner.data.access_token)).status).toBe(401);
    expect((await refresh(winner.data.refresh_token as string)).data.error).toBe('invalid_grant');
    expect(server.stats).toMatchObject({ rotations: 1, reuseDetections: 1, revokedFamilies: 1 });
  });

  test('ten simultaneous uses of one refresh token: one rotation, nine reuses, one revoked family', async () => {
    const refreshToken = server.issueRefreshToken({ clientId: 'public-client' });
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        http.post<TokenAnswer>(
          server.tokenUrl,
          new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'public-client' }),
        ),
      ),
    );
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
    expect(answers.filter((answer) => answer.data.error === 'invalid_grant')).toHaveLength(9);
    expect(server.stats).toMatchObject({ refreshRequests: 10, rotations: 1, reuseDetections: 9, revokedFamilies: 1 });
  });

  test('revokeFamily() ends a session without a reuse', async () => {
    const refreshToken = server.issueRefreshToken();
    const { data } = await refresh(refreshToken);
    server.revokeFamily(refreshToken);
    expect((await api(data.access_token)).status).toBe(401);
    expect((await refresh(data.refresh_token as string)).data.error).toBe('invalid_grant');
    expect(server.stats).toMatchObject({ reuseDetections: 0, revokedFamilies: 1 });
  });
});

describe('lost answers and latency', () => {
  test('a dropped answer cuts the connection after the refresh token was used up', async () => {
    const refreshToken = server.issueRefreshToken();
    server.dropNextTokenAnswer();
    await expect(refresh(refreshToken)).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(server.stats).toMatchObject({ rotations: 1, droppedAnswers: 1 });
    expect(server.familyOf(refreshToken)).toMatchObject({ rotations: 1, revoked: false });

    // The client never saw the new token; trying again with the old one is a reuse.
    const retried = await refresh(refreshToken);
    expect(retried.data.error).toBe('invalid_grant');
    expect(server.stats).toMatchObject({ reuseDetections: 1, revokedFamilies: 1 });
  });

  test('the answer delay keeps the client waiting after the token is used up', async () => {
    server.setTokenAnswerDelay(300);
    const refreshToken = server.issueRefreshToken();
    const pending = refresh(refreshToken);
    const deadline = Date.now() + 5_000;
    while (server.stats.rotations === 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 5));
    expect(server.familyOf(refreshToken)).toMatchObject({ rotations: 1 });
    expect((await pending).status).toBe(200);
  });

  test('a request abandoned during the token latency is not handled, and its refresh token stays valid', async () => {
    server.setTokenLatency(400);
    const refreshToken = server.issueRefreshToken();
    const controller = new AbortController();
    const abandoned = http.post(
      server.tokenUrl,
      new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'public-client' }),
      { signal: controller.signal },
    );
    const deadline = Date.now() + 5_000;
    while (server.stats.refreshRequests === 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    await expect(abandoned).rejects.toMatchObject({ code: 'ERR_CANCELED' });
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(server.stats).toMatchObject({ refreshRequests: 1, rotations: 0 });

    server.setTokenLatency(0);
    expect((await refresh(refreshToken)).status).toBe(200);
  });
});

describe('the protected API', () => {
  test('answers 401 with a Bearer challenge to a missing, unknown, expired or revoked access token', async () => {
    const missing = await api(undefined);
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="Service"');

    const unknown = await api('not-a-token');
    expect(unknown.status).toBe(401);
    expect(unknown.headers['www-authenticate']).toBe('Bearer realm="Service",error="invalid_token"');

    server.setAccessTokenLifetime(0.3);
    const shortLived = await refresh(server.issueRefreshToken());
    expect(shortLived.data.expires_in).toBe(0.3);
    expect((await api(shortLived.data.access_token)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 450));
    const expired = await api(shortLived.data.access_token);
    expect(expired.status).toBe(401);
    expect(expired.headers['www-authenticate']).toContain('error="invalid_token"');

    server.setAccessTokenLifetime(60);
    const refreshToken = server.issueRefreshToken();
    const live = await refresh(refreshToken);
    server.revokeAccessTokens();
    expect((await api(live.data.access_token)).status).toBe(401);
    // Access tokens only: the family's refresh token still works.
    const after = await refresh(live.data.refresh_token as string);
    expect(after.status).toBe(200);
    expect((await api(after.data.access_token)).status).toBe(200);

    expect(server.stats).toMatchObject({ apiRequests: 6, apiSucceeded: 2, apiUnauthorized: 4, revokedFamilies: 0 });
  });
});

describe('without rotation', () => {
  test('with rotateRefreshTokens: false a refresh answers no refresh_token, and the old one keeps working', async () => {
    const plain = await startAuthorizationServer({ rotateRefreshTokens: false });
    try {
      const refreshToken = plain.issueRefreshToken({ clientId: 'public-client' });
      const body = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: 'public-client',
      });
      const answers = [
        await http.post<TokenAnswer>(plain.tokenUrl, body),
        await http.post<TokenAnswer>(plain.tokenUrl, body),
      ];
      expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
      expect(answers.map((answer) => answer.data.refresh_token)).toEqual([undefined, undefined]);
      expect(answers[0]?.data.access_token).not.toBe(answers[1]?.data.access_token);
      expect(plain.familyOf(refreshToken)).toMatchObject({
        revoked: false,
        rotations: 0,
        currentRefreshToken: refreshToken,
      });
      expect(plain.stats).toMatchObject({ refreshRequests: 2, rotations: 0, reuseDetections: 0 });
    } finally {
      await plain.close();
    }
  });
});

describe('options and controls', () => {
  test('issueRefreshToken() refuses an unknown client, and the options are checked', async () => {
    expect(() => server.issueRefreshToken({ clientId: 'nobody' })).toThrow('no client `nobody` is registered');
    await expect(startAuthorizationServer({ accessTokenLifetimeSeconds: 0 })).rejects.toThrow(
      'expected `accessTokenLifetimeSeconds` to be a positive number, got 0',
    );
    await expect(startAuthorizationServer({ clients: [] })).rejects.toThrow('`clients` must hold at least one client');
  });

  test('families() lists every session and resetStats() zeroes the counters', async () => {
    const a = server.issueRefreshToken();
    server.issueRefreshToken({ clientId: 'public-client', scope: 'read write' });
    await refresh(a);
    expect(server.families().map((family) => [family.clientId, family.rotations])).toEqual([
      [confidential().clientId, 1],
      ['public-client', 0],
    ]);
    server.resetStats();
    expect(Object.values(server.stats)).toEqual(Object.values(server.stats).map(() => 0));
  });
});
