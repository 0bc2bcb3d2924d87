import { describe, expect, test } from '@jest/globals';
import axios, { type AxiosInstance } from 'axios';
import { attachTokenAuth, refreshTokenGrant, symbl, type TokenAuth } from '../../lib/index.js';
import { startAuthorizationServer, startProviderServer } from '../../lib/testing/index.js';

// The testing kit's protected APIs answer at the paths of the real API a client calls (any path but
// the token endpoint's, or under `apiPath`), with the same 401 and challenge as before.

/** A client class as an application writes one, calling Symbl's real paths. */
class SymblClient {
  readonly #http: AxiosInstance;
  readonly #auth: TokenAuth;

  constructor(options: { appId: string; appSecret: string; baseURL: string }) {
    this.#http = axios.create({ baseURL: options.baseURL });
    this.#auth = attachTokenAuth(this.#http, { providers: symbl(options) });
  }

  async conversations(): Promise<{ path: string }> {
    return (await this.#http.get<{ path: string }>('/v1/conversations')).data;
  }

  close(): void {
    this.#auth.eject();
  }
}

const http = axios.create({ validateStatus: () => true });

describe('the simulated provider’s API', () => {
  test('answers a client at its real API’s paths, and replays after a revocation with one token request', async () => {
    const server = await startProviderServer('symbl');
    try {
      const client = new SymblClient({
        appId: server.credentials['appId']!,
        appSecret: server.credentials['appSecret']!,
        baseURL: server.url,
      });
      expect(await client.conversations()).toMatchObject({ ok: true, path: '/v1/conversations' });
      server.revokeAll();
      expect(await client.conversations()).toMatchObject({ path: '/v1/conversations' });
      expect(server.stats).toMatchObject({ tokenRequests: 2, apiUnauthorized: 1, apiSucceeded: 2 });
      client.close();
    } finally {
      await server.close();
    }
  });

  test('answers 401 with a Bearer challenge at any path, and 404 to a GET of the token path', async () => {
    const server = await startProviderServer('marsview');
    try {
      const root = await http.get(`${server.url}/`);
      expect(root.status).toBe(401);
      expect(root.headers['www-authenticate']).toBe('Bearer realm="simulation"');
      const deep = await http.get(`${server.url}/v2/deep/path`, { headers: { Authorization: 'Bearer unknown' } });
      expect(deep.status).toBe(401);
      expect(deep.headers['www-authenticate']).toBe('Bearer realm="simulation", error="invalid_token"');
      expect((await http.get(`${server.url}/cb/v1/auth/create_access_token`)).status).toBe(404);
      expect(server.stats).toMatchObject({ apiRequests: 2, apiUnauthorized: 2, tokenRequests: 0 });
    } finally {
      await server.close();
    }
  });

  test('with `apiPath`, answers only under that prefix', async () => {
    const server = await startProviderServer('symbl', { apiPath: '/v1' });
    try {
      expect((await http.get(`${server.url}/v1/conversations`)).status).toBe(401);
      expect((await http.get(`${server.url}/v1`)).status).toBe(401);
      expect((await http.get(`${server.url}/v1x`)).status).toBe(404);
      expect((await http.get(`${server.url}/other`)).status).toBe(404);
      expect(server.stats.apiRequests).toBe(2);
    } finally {
      await server.close();
    }
  });

  test('refuses an `apiPath` that is not a path prefix', async () => {
    await expect(startProviderServer('symbl', { apiPath: 'v1' })).rejects.toThrow(
      'startProviderServer(): expected `apiPath` to be a path prefix',
    );
    await expect(startAuthorizationServer({ apiPath: '/v1?x' })).rejects.toThrow(
      'startAuthorizationServer(): expected `apiPath` to be a path prefix',
    );
  });
});

describe('the authorization server’s API', () => {
  test('answers a refresh-token client at its real API’s paths, and 404 under another `apiPath`', async () => {
    const server = await startAuthorizationServer();
    const scoped = await startAuthorizationServer({ apiPath: '/api' });
    try {
      const api = axios.create({ baseURL: server.url });
      const auth = attachTokenAuth(api, {
        providers: refreshTokenGrant({
          tokenUrl: server.tokenUrl,
          clientId: 'public-client',
          refreshToken: server.issueRefreshToken({ clientId: 'public-client' }),
        }),
      });
      const { data } = await api.get<{ path: string; clientId: string }>('/v1/me');
      expect(data).toMatchObject({ ok: true, path: '/v1/me', clientId: 'public-client' });
      expect((await http.get(`${server.url}/v1/me`)).status).toBe(401);
      expect((await http.get(`${scoped.url}/v1/me`)).status).toBe(404);
      expect((await http.get(`${scoped.url}/api/me`)).status).toBe(401);
      auth.eject();
    } finally {
      await Promise.all([server.close(), scoped.close()]);
    }
  });
});
