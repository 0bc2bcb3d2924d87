import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { inspect } from 'node:util';
import axios from 'axios';
import { attachTokenAuth, clientCredentials, refreshTokenGrant } from '../../lib/index.js';
import { createTokenFetch } from '../../lib/fetch.js';
import { listenOnLoopback } from '../../lib/testing/listen.js';
import { claimsOf, headerOf } from './helpers/dpop-send.js';
import { startOidcProvider, type OidcProviderServer } from './helpers/oidc-provider-server.js';

// Key-based client authentication and discovery, wired into the OAuth grants, against a real
// authorization server (oidc-provider in a child process) and a loopback API that records what
// it was sent, over both boundaries.

jest.setTimeout(30_000);

let server: OidcProviderServer;
let api: { origin: string; seen: IncomingHttpHeaders[]; close: () => Promise<void> };

async function startApi() {
  const seen: IncomingHttpHeaders[] = [];
  const http = createServer((req, res) => {
    seen.push(req.headers);
    res.setHeader('content-type', 'application/json');
    res.end('{"ok":true}');
  });
  const port = await listenOnLoopback(http);
  return {
    origin: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

beforeAll(async () => {
  [server, api] = await Promise.all([startOidcProvider(), startApi()]);
}, 30_000);

afterAll(async () => {
  await Promise.all([server.close(), api.close()]);
});

/** The bearer token the API received last. */
function lastBearer(): string {
  const header = api.seen.at(-1)?.authorization ?? '';
  expect(header).toMatch(/^Bearer /);
  return header.slice('Bearer '.length);
}

/** The assertions of the token requests recorded since `before`. */
async function assertionsSince(before: number): Promise<string[]> {
  return (await server.requests()).slice(before).map((request) => request.clientAssertion ?? '');
}

const keyCases = () =>
  [
    ['an EC P-256 PKCS#8 PEM (ES256)', { privateKey: server.keys.ec.pem, keyId: 'ec' }, 'ES256'],
    ['an RSA private JWK (RS256)', { privateKey: server.keys.rsa.privateJwk, keyId: 'rsa' }, 'RS256'],
    ['an RSA PEM with alg PS256', { privateKey: server.keys.rsa.pem, keyId: 'rsa', alg: 'PS256' as const }, 'PS256'],
    ['an Ed25519 private JWK (EdDSA)', { privateKey: server.keys.ed.privateJwk, keyId: 'ed' }, 'EdDSA'],
  ] as const;

describe('clientCredentials with private_key_jwt over attachTokenAuth', () => {
  const names = [
    'an EC P-256 PEM (ES256)',
    'an RSA JWK (RS256)',
    'an RSA PEM with alg PS256',
    'an Ed25519 JWK (EdDSA)',
  ];
  test.each(names.map((name, index) => [name, index] as const))(
    '%s gets a token and the API call carries it',
    async (_name, index) => {
      const [, keyOptions, alg] = keyCases()[index]!;
      const before = (await server.requests()).length;
      const instance = axios.create({ baseURL: api.origin });
      const auth = attachTokenAuth(instance, {
        providers: clientCredentials({
          tokenUrl: server.tokenEndpoint,
          clientId: server.clients.keyJwt.clientId,
          authMethod: 'private_key_jwt',
          ...keyOptions,
        }),
      });
      try {
        await instance.get('/items');
        expect(claimsOf(lastBearer())).toMatchObject({ client_id: server.clients.keyJwt.clientId });
        const [assertion] = await assertionsSince(before);
        expect(headerOf(assertion!)).toEqual({ alg, kid: keyOptions.keyId });
        const claims = claimsOf(assertion!);
        // With a token URL (no discovery), the audience is the token endpoint (RFC 7523 §3, OIDC Core §9).
        expect(claims).toMatchObject({
          iss: server.clients.keyJwt.clientId,
          sub: server.clients.keyJwt.clientId,
          aud: server.tokenEndpoint,
        });
        expect((claims['exp'] as number) - (claims['iat'] as number)).toBeLessThanOrEqual(300);
      } finally {
        auth.eject();
      }
    },
  );

  test('a CryptoKey the application imported (not extractable) gets a token', async () => {
    const cryptoKey = await crypto.subtle.importKey(
      'jwk',
      server.keys.ec.privateJwk,
      { name: 'ECDSA', namedCurve: 'P-256' },
      false,
      ['sign'],
    );
    const instance = axios.create({ baseURL: api.origin });
    const auth = attachTokenAuth(instance, {
      providers: clientCredentials({
        tokenUrl: server.tokenEndpoint,
        clientId: server.clients.keyJwt.clientId,
        authMethod: 'private_key_jwt',
        privateKey: cryptoKey,
        keyId: 'ec',
      }),
    });
    try {
      await instance.get('/items');
      expect(claimsOf(lastBearer())).toMatchObject({ client_id: server.clients.keyJwt.clientId });
    } finally {
      auth.eject();
    }
  });

  test('a key the client did not register is refused: ERR_TOKEN_CREDENTIALS, no key material in the error', async () => {
    const other = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const jwk = await crypto.subtle.exportKey('jwk', other.privateKey);
    const auth = attachTokenAuth(axios.create({ baseURL: api.origin }), {
      providers: clientCredentials({
        tokenUrl: server.tokenEndpoint,
        clientId: server.clients.keyJwt.clientId,
        authMethod: 'private_key_jwt',
        privateKey: jwk,
      }),
    });
    try {
      const error = await auth.token().catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'ERR_TOKEN_CREDENTIALS', providerCode: 'invalid_client' });
      const shown = `${String(error)} ${JSON.stringify(error)} ${inspect(error)}`;
      expect(shown).not.toContain(jwk.d!);
    } finally {
      auth.eject();
    }
  });
});

describe('client_secret_jwt', () => {
  test('clientCredentials signs an HS256 assertion with the secret, which never travels', async () => {
    const { clientId, clientSecret } = server.clients.secretJwt;
    const before = (await server.requests()).length;
    const instance = axios.create({ baseURL: api.origin });
    const auth = attachTokenAuth(instance, {
      providers: clientCredentials({
        tokenUrl: server.tokenEndpoint,
        clientId,
        clientSecret,
        authMethod: 'client_secret_jwt',
      }),
    });
    try {
      await instance.get('/items');
      expect(claimsOf(lastBearer())).toMatchObject({ client_id: clientId });
      const [recorded] = (await server.requests()).slice(before);
      expect(recorded?.status).toBe(200);
      expect(recorded?.authorization).toBeUndefined();
      expect(headerOf(recorded!.clientAssertion!)).toEqual({ alg: 'HS256' });
    } finally {
      auth.eject();
    }
  });
});

describe('discovery from issuer', () => {
  test('over createTokenFetch: one metadata request for concurrent callers, the issuer as audience, the API call carries the token', async () => {
    const tokenRequests: string[] = [];
    const tokenFetch: typeof fetch = (input, init) => {
      tokenRequests.push(String(input instanceof Request ? input.url : input));
      return fetch(input, init);
    };
    const before = (await server.requests()).length;
    const auth = createTokenFetch({
      providers: clientCredentials({
        issuer: server.issuer,
        clientId: server.clients.keyJwt.clientId,
        authMethod: 'private_key_jwt',
        privateKey: server.keys.ed.pem,
        keyId: 'ed',
        origins: [api.origin],
      }),
      tokenFetch,
    });
    try {
      const answers = await Promise.all(Array.from({ length: 5 }, () => auth.fetch(`${api.origin}/items`)));
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
      expect(claimsOf(lastBearer())).toMatchObject({ client_id: server.clients.keyJwt.clientId });
      expect(tokenRequests).toEqual([`${server.issuer}/.well-known/oauth-authorization-server`, server.tokenEndpoint]);
      const [assertion] = await assertionsSince(before);
      expect(claimsOf(assertion!)['aud']).toBe(server.issuer);
      // The issuer's origin is not one the token goes to.
      const toIssuer = await auth.fetch(`${server.issuer}/.well-known/openid-configuration`);
      expect(toIssuer.status).toBe(200);
      expect(tokenRequests.length).toBe(2);
    } finally {
      auth.close();
    }
  });

  test('over attachTokenAuth without origins: the baseURL origin is served, the metadata is read once across refreshes', async () => {
    const urls: string[] = [];
    const tokenClient = axios.create();
    tokenClient.interceptors.request.use((config) => {
      urls.push(config.url ?? '');
      return config;
    });
    const instance = axios.create({ baseURL: api.origin });
    const auth = attachTokenAuth(instance, {
      providers: clientCredentials({
        issuer: server.issuer,
        clientId: server.clients.secretJwt.clientId,
        clientSecret: server.clients.secretJwt.clientSecret,
        authMethod: 'client_secret_jwt',
      }),
      tokenClient,
    });
    try {
      await instance.get('/items');
      const first = lastBearer();
      await auth.invalidate();
      await instance.get('/items');
      expect(lastBearer()).not.toBe(first);
      expect(urls).toEqual([
        `${server.issuer}/.well-known/oauth-authorization-server`,
        server.tokenEndpoint,
        server.tokenEndpoint,
      ]);
    } finally {
      auth.eject();
    }
  });

  test('an issuer with a path is found through OpenID discovery and its tokens are issued', async () => {
    const auth = createTokenFetch({
      providers: clientCredentials({
        issuer: `${server.issuer}/tenant`,
        clientId: server.clients.keyJwt.clientId,
        authMethod: 'private_key_jwt',
        privateKey: server.keys.rsa.pem,
        keyId: 'rsa',
        origins: [api.origin],
      }),
    });
    try {
      expect((await auth.fetch(`${api.origin}/items`)).status).toBe(200);
      expect(claimsOf(lastBearer())).toMatchObject({ iss: `${server.issuer}/tenant` });
    } finally {
      auth.close();
    }
  });

  test('an issuer the metadata does not name exactly (a trailing slash) is ERR_TOKEN_DISCOVERY with no token request', async () => {
    const before = (await server.requests()).length;
    const auth = createTokenFetch({
      providers: clientCredentials({
        issuer: `${server.issuer}/`,
        clientId: server.clients.keyJwt.clientId,
        authMethod: 'private_key_jwt',
        privateKey: server.keys.ec.pem,
        origins: [api.origin],
      }),
    });
    try {
      await expect(auth.token()).rejects.toMatchObject({ name: 'TokenRequestError', code: 'ERR_TOKEN_DISCOVERY' });
      expect((await server.requests()).length).toBe(before);
    } finally {
      auth.close();
    }
  });
});

describe('refreshTokenGrant with private_key_jwt and discovery', () => {
  test('the refresh token is exchanged with an assertion, rotated, and the API call carries the access token', async () => {
    const { clientId } = server.clients.keyJwtRefresh;
    const refreshToken = await server.mintRefreshToken(clientId);
    const rotated: string[] = [];
    const before = (await server.requests()).length;
    const instance = axios.create({ baseURL: api.origin });
    const auth = attachTokenAuth(instance, {
      providers: refreshTokenGrant({
        issuer: server.issuer,
        clientId,
        authMethod: 'private_key_jwt',
        privateKey: server.keys.ec.privateJwk,
        keyId: 'ec',
        refreshToken,
        onRefreshToken: (next) => rotated.push(next),
      }),
    });
    try {
      await instance.get('/items');
      expect(claimsOf(lastBearer())).toMatchObject({ client_id: clientId });
      expect(rotated).toHaveLength(1);
      expect(rotated[0]).not.toBe(refreshToken);
      const [recorded] = (await server.requests()).slice(before);
      expect(recorded).toMatchObject({ grantType: 'refresh_token', status: 200 });
      expect(claimsOf(recorded!.clientAssertion!)).toMatchObject({ iss: clientId, aud: server.issuer });
    } finally {
      auth.eject();
    }
  });
});
