import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import axios from 'axios';
import { attachTokenAuth, clientCredentials } from '../../lib/index.js';
import { createClientAssertion, clientAssertionFields } from '../../lib/oauth/client-assertion.js';
import { createDiscovery } from '../../lib/oauth/discovery.js';
import { createDpopKeySource, readDpopOption, type DpopKey } from '../../lib/oauth/dpop-key.js';
import { createNonceStore } from '../../lib/oauth/dpop-nonce.js';
import { accessTokenHash, createDpopProof } from '../../lib/oauth/dpop-proof.js';
import type { AuthorizationServerMetadata } from '../../lib/oauth/metadata.js';
import { readPrivateKey, secretSigningKey, type SigningKey } from '../../lib/oauth/private-key.js';
import { cryptoRandomBytes } from '../../lib/oauth/random.js';
import { startDpopApi, thumbprintOf, type DpopApi } from './helpers/dpop-api.js';
import { claimsOf, headerOf, sendWithDpop } from './helpers/dpop-send.js';
import { fetchHttpClient } from './helpers/fetch-http.js';
import { startOidcProvider, type OidcProviderServer } from './helpers/oidc-provider-server.js';

const clock = { now: Date.now, randomBytes: cryptoRandomBytes };
const FORM = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };

let server: OidcProviderServer;
let metadata: AuthorizationServerMetadata;

beforeAll(async () => {
  server = await startOidcProvider();
  const discovery = createDiscovery({
    issuer: server.issuer,
    provider: 'oidc',
    http: fetchHttpClient(),
    now: Date.now,
    allowInsecureHttp: false,
  });
  metadata = await discovery.metadata();
}, 30_000);

afterAll(async () => {
  await server.close();
});

async function postForm(form: Record<string, string>, headers: Record<string, string> = {}) {
  return fetchHttpClient().send({
    method: 'POST',
    url: metadata.tokenEndpoint,
    headers: { ...FORM, ...headers },
    body: new URLSearchParams(form).toString(),
    signal: new AbortController().signal,
    timeoutMs: 10_000,
    maxBodyBytes: 1_048_576,
  });
}

async function assertionForm(clientId: string, key: SigningKey, audience = metadata.issuer) {
  return { grant_type: 'client_credentials', ...(await clientAssertionFields({ clientId, audience, key }, clock)) };
}

describe('discovery of oidc-provider', () => {
  test('RFC 8414 metadata is read from the well-known URL inserted before the issuer path, in one request', async () => {
    const http = fetchHttpClient();
    const discovery = createDiscovery({
      issuer: server.issuer,
      provider: 'oidc',
      http,
      now: Date.now,
      allowInsecureHttp: false,
    });
    const found = await discovery.metadata();
    expect(http.sent.map((request) => request.url)).toEqual([
      `${server.issuer}/.well-known/oauth-authorization-server`,
    ]);
    expect(found).toMatchObject({ issuer: server.issuer, tokenEndpoint: `${server.issuer}/token` });
    expect(found.dpopSigningAlgValues).toEqual(expect.arrayContaining(['ES256', 'EdDSA', 'RS256', 'PS256']));
    expect(found.tokenEndpointAuthMethods).toEqual(expect.arrayContaining(['private_key_jwt', 'client_secret_jwt']));
    expect(Object.keys(found)).not.toContain('origin');
  });

  test('an issuer with a path whose RFC 8414 URL answers 404 is found through OpenID discovery', async () => {
    const http = fetchHttpClient();
    const issuer = `${server.issuer}/tenant`;
    const discovery = createDiscovery({ issuer, provider: 'oidc', http, now: Date.now, allowInsecureHttp: false });
    const found = await discovery.metadata();
    expect(http.sent.map((request) => request.url)).toEqual([
      `${server.issuer}/.well-known/oauth-authorization-server/tenant`,
      `${server.issuer}/tenant/.well-known/openid-configuration`,
    ]);
    expect(found).toMatchObject({ issuer, tokenEndpoint: `${issuer}/token` });
  });
});

describe('private_key_jwt against oidc-provider', () => {
  const cases: [string, () => SigningKey][] = [
    ['an RSA PKCS#8 PEM (RS256)', () => readPrivateKey({ privateKey: server.keys.rsa.pem, keyId: 'rsa' }, 'test')],
    [
      'an RSA PKCS#8 PEM with alg PS256',
      () => readPrivateKey({ privateKey: server.keys.rsa.pem, keyId: 'rsa', alg: 'PS256' }, 'test'),
    ],
    [
      'an EC private JWK (ES256)',
      () => readPrivateKey({ privateKey: { ...server.keys.ec.privateJwk, kid: 'ec' } }, 'test'),
    ],
    ['an Ed25519 PEM (EdDSA)', () => readPrivateKey({ privateKey: server.keys.ed.pem, keyId: 'ed' }, 'test')],
  ];

  test.each(cases)('an assertion signed with %s is accepted', async (_name, key) => {
    const answer = await postForm(await assertionForm(server.clients.keyJwt.clientId, key()));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String) });
  });

  test('an assertion for a CryptoKey the application imported is accepted', async () => {
    const cryptoKey = await crypto.subtle.importKey(
      'jwk',
      server.keys.ec.privateJwk,
      { name: 'ECDSA', namedCurve: 'P-256' },
      false,
      ['sign'],
    );
    const key = readPrivateKey({ privateKey: cryptoKey, keyId: 'ec' }, 'test');
    expect((await postForm(await assertionForm(server.clients.keyJwt.clientId, key))).status).toBe(200);
  });

  test('the token endpoint URL is accepted as the audience when the issuer is not known', async () => {
    const key = readPrivateKey({ privateKey: server.keys.ec.pem, keyId: 'ec' }, 'test');
    const answer = await postForm(await assertionForm(server.clients.keyJwt.clientId, key, metadata.tokenEndpoint));
    expect(answer.status).toBe(200);
  });

  test('an assertion sent twice is refused the second time, and a new one is accepted', async () => {
    const key = readPrivateKey({ privateKey: server.keys.rsa.pem, keyId: 'rsa' }, 'test');
    const form = await assertionForm(server.clients.keyJwt.clientId, key);
    expect((await postForm(form)).status).toBe(200);
    const replayed = await postForm(form);
    expect(replayed.status).toBe(401);
    expect(JSON.parse(replayed.body)).toMatchObject({ error: 'invalid_client' });
    expect((await postForm(await assertionForm(server.clients.keyJwt.clientId, key))).status).toBe(200);
  });

  test('an assertion signed with a key the client did not register is refused', async () => {
    const other = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    const key = readPrivateKey({ privateKey: other.privateKey }, 'test');
    const answer = await postForm(await assertionForm(server.clients.keyJwt.clientId, key));
    expect(answer.status).toBe(401);
  });
});

test('today’s clientCredentials with client_secret_basic gets a token from the same server', async () => {
  const { clientId, clientSecret } = server.clients.basic;
  const auth = attachTokenAuth(axios.create(), {
    providers: clientCredentials({
      tokenUrl: metadata.tokenEndpoint,
      clientId,
      clientSecret,
      origins: ['https://api.example.test'],
    }),
  });
  try {
    const token = await auth.token();
    expect(token.tokenType).toBe('Bearer');
    expect(claimsOf(token.accessToken)).toMatchObject({ aud: server.resource, client_id: clientId });
  } finally {
    auth.eject();
  }
});

describe('client_secret_jwt against oidc-provider', () => {
  test('an HS256 assertion with the client secret is accepted', async () => {
    const { clientId, clientSecret } = server.clients.secretJwt;
    const answer = await postForm(await assertionForm(clientId, secretSigningKey(clientSecret)));
    expect(answer.status).toBe(200);
  });

  test('an HS256 assertion with another secret is refused', async () => {
    const answer = await postForm(
      await assertionForm(server.clients.secretJwt.clientId, secretSigningKey('not-the-secret-of-this-client-at-all')),
    );
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'invalid_client' });
  });
});

describe('DPoP against oidc-provider and a protected API', () => {
  let api: DpopApi;
  let key: DpopKey;
  const assertionKey = (): SigningKey => readPrivateKey({ privateKey: server.keys.ec.pem, keyId: 'ec' }, 'test');

  beforeAll(async () => {
    api = await startDpopApi({ issuer: server.issuer, resource: server.resource });
    key = await createDpopKeySource(readDpopOption(true, 'test')!, 'test').key(metadata.dpopSigningAlgValues);
  });
  afterAll(async () => {
    await api.close();
  });

  async function dpopToken(nonces = createNonceStore(), dpopKey = key) {
    const before = (await server.requests()).length;
    const answer = await sendWithDpop(fetchHttpClient(), nonces, dpopKey, {
      method: 'POST',
      url: metadata.tokenEndpoint,
      headers: FORM,
      body: async () =>
        new URLSearchParams(await assertionForm(server.clients.dpop.clientId, assertionKey())).toString(),
      at: 'token',
    });
    const requests = (await server.requests()).slice(before);
    return { answer, requests, json: JSON.parse(answer.body) as Record<string, string> };
  }

  test('a token request without a nonce is answered use_dpop_nonce, then sent once more with the nonce and a new proof', async () => {
    const { answer, requests, json } = await dpopToken();
    expect(answer.status).toBe(200);
    expect(answer.sends).toBe(2);
    expect(requests.map((request) => [request.status, request.error])).toEqual([
      [400, 'use_dpop_nonce'],
      [200, undefined],
    ]);
    const proofs = requests.map((request) => claimsOf(request.dpop ?? ''));
    expect(proofs[0]?.['jti']).not.toBe(proofs[1]?.['jti']);
    expect(proofs[0]?.['nonce']).toBeUndefined();
    expect(proofs[1]?.['nonce']).toEqual(expect.any(String));
    expect(requests[0]?.clientAssertion).not.toBe(requests[1]?.clientAssertion);
    expect(json['token_type']).toBe('DPoP');
    expect(claimsOf(json['access_token'] ?? '')['cnf']).toEqual({ jkt: key.thumbprint });
  });

  test('the proof header names the key exactly: typ, alg and the public JWK whose thumbprint is cnf.jkt', async () => {
    const { requests } = await dpopToken();
    const header = headerOf(requests[0]?.dpop ?? '');
    expect(header).toEqual({
      typ: 'dpop+jwt',
      alg: 'ES256',
      jwk: { kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String) },
    });
    expect(thumbprintOf(header['jwk'] as Record<string, unknown>)).toBe(key.thumbprint);
  });

  test('once a nonce is known, a token request is one POST', async () => {
    const nonces = createNonceStore();
    await dpopToken(nonces);
    const { answer, requests } = await dpopToken(nonces);
    expect(answer.status).toBe(200);
    expect(requests.map((request) => request.status)).toEqual([200]);
  });

  test.each(['EdDSA', 'RS256', 'PS256'] as const)(
    'a %s key pair is accepted by oidc-provider and bound to the token',
    async (alg) => {
      const own = await createDpopKeySource(readDpopOption({ alg }, 'test')!, 'test').key(
        metadata.dpopSigningAlgValues,
      );
      const { answer, json } = await dpopToken(createNonceStore(), own);
      expect(answer.status).toBe(200);
      expect(claimsOf(json['access_token'] ?? '')['cnf']).toEqual({ jkt: own.thumbprint });
    },
  );

  test('a rotated refresh token is issued for a DPoP refresh-token request authenticated with an assertion', async () => {
    const refreshToken = await server.mintRefreshToken(server.clients.dpop.clientId);
    const answer = await sendWithDpop(fetchHttpClient(), createNonceStore(), key, {
      method: 'POST',
      url: metadata.tokenEndpoint,
      headers: FORM,
      body: async () =>
        new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: refreshToken,
          ...(await clientAssertionFields(
            { clientId: server.clients.dpop.clientId, audience: metadata.issuer, key: assertionKey() },
            clock,
          )),
        }).toString(),
      at: 'token',
    });
    const json = JSON.parse(answer.body) as Record<string, string>;
    expect([answer.status, json['token_type']]).toEqual([200, 'DPoP']);
    expect(json['refresh_token']).toEqual(expect.any(String));
    expect(json['refresh_token']).not.toBe(refreshToken);
  });

  describe('at the API', () => {
    let accessToken: string;
    let ath: string;
    beforeAll(async () => {
      accessToken = (await dpopToken()).json['access_token'] ?? '';
      ath = await accessTokenHash(accessToken);
    });

    const call = (path: string, nonces = createNonceStore()) =>
      sendWithDpop(fetchHttpClient(), nonces, key, {
        method: 'GET',
        url: `${api.url}${path}?q=1#f`,
        accessToken,
        ath,
        at: 'resource',
      });

    async function sendProof(proof: string, path = '/v1/items') {
      return fetchHttpClient().send({
        method: 'GET',
        url: `${api.url}${path}`,
        headers: { authorization: `DPoP ${accessToken}`, dpop: proof },
        signal: new AbortController().signal,
        timeoutMs: 10_000,
        maxBodyBytes: 65_536,
      });
    }

    test('a request with a valid proof and the DPoP-bound token is served', async () => {
      const answer = await call('/v1/items');
      expect([answer.status, answer.sends]).toEqual([200, 1]);
      expect(api.seen.at(-1)).toMatchObject({ method: 'GET', path: '/v1/items', status: 200, refused: undefined });
    });

    test("a proof whose ath is another token's is refused", async () => {
      const proof = await createDpopProof(
        key,
        { method: 'GET', url: `${api.url}/v1/items`, ath: await accessTokenHash('another-token') },
        clock,
      );
      expect((await sendProof(proof)).status).toBe(401);
      expect(api.seen.at(-1)?.refused).toBe('ath');
    });

    test('a proof made for another URL is refused', async () => {
      const proof = await createDpopProof(key, { method: 'GET', url: `${api.url}/v1/other`, ath }, clock);
      expect((await sendProof(proof)).status).toBe(401);
      expect(api.seen.at(-1)?.refused).toBe('htu');
    });

    test('a proof sent twice is refused the second time', async () => {
      const proof = await createDpopProof(key, { method: 'GET', url: `${api.url}/v1/items`, ath }, clock);
      expect((await sendProof(proof)).status).toBe(200);
      expect((await sendProof(proof)).status).toBe(401);
      expect(api.seen.at(-1)?.refused).toBe('jti replayed');
    });

    test('a proof signed by another key than the token is bound to is refused', async () => {
      const other = await createDpopKeySource(readDpopOption(true, 'test')!, 'test').key();
      const proof = await createDpopProof(other, { method: 'GET', url: `${api.url}/v1/items`, ath }, clock);
      expect((await sendProof(proof)).status).toBe(401);
      expect(api.seen.at(-1)?.refused).toBe('cnf.jkt does not match the proof key');
    });

    test('an API nonce challenge is answered once with the nonce and a new proof, with no token request', async () => {
      api.demandNonce(true);
      const tokenRequests = (await server.requests()).length;
      const nonces = createNonceStore();
      const first = await call('/v1/items', nonces);
      const [challenged, served] = api.seen.slice(-2);
      expect([first.status, first.sends]).toEqual([200, 2]);
      expect([challenged?.status, served?.status]).toEqual([401, 200]);
      expect(challenged?.jti).not.toBe(served?.jti);
      const second = await call('/v1/items', nonces);
      expect([second.status, second.sends]).toEqual([200, 1]);
      expect((await server.requests()).length).toBe(tokenRequests);
      api.demandNonce(false);
    });

    test('a nonce rotated under concurrent load costs each request one re-send and no token request', async () => {
      api.demandNonce(true);
      const nonces = createNonceStore();
      await call('/v1/items', nonces);
      const tokenRequests = (await server.requests()).length;
      api.rotateNonce();
      const from = api.seen.length;
      const answers = await Promise.all(Array.from({ length: 20 }, () => call('/v1/items', nonces)));
      expect(answers.every((answer) => answer.status === 200 && answer.sends <= 2)).toBe(true);
      const seen = api.seen.slice(from);
      expect(new Set(seen.map((request) => request.jti)).size).toBe(seen.length);
      expect(seen.filter((request) => request.status === 200)).toHaveLength(20);
      expect((await server.requests()).length).toBe(tokenRequests);
      api.demandNonce(false);
    });

    test('a second nonce challenge to one send reaches the caller', async () => {
      api.demandNonce(true);
      const nonces = createNonceStore();
      const sends: string[] = [];
      // Every answer rotates the nonce first: the re-send's nonce is stale too.
      const rotating = fetchHttpClient();
      const send = rotating.send.bind(rotating);
      rotating.send = (request) => {
        sends.push(request.url);
        api.rotateNonce();
        return send(request);
      };
      const answer = await sendWithDpop(rotating, nonces, key, {
        method: 'GET',
        url: `${api.url}/v1/items`,
        accessToken,
        ath,
        at: 'resource',
      });
      expect([answer.status, answer.sends, sends.length]).toEqual([401, 2, 2]);
      api.demandNonce(false);
    });
  });
});

test('assertions made one after another carry different jtis', async () => {
  const key = secretSigningKey('a-client-secret-of-more-than-thirty-two-bytes');
  const [a, b] = await Promise.all([
    createClientAssertion({ clientId: 'c', audience: 'a', key }, clock),
    createClientAssertion({ clientId: 'c', audience: 'a', key }, clock),
  ]);
  expect(claimsOf(a)['jti']).not.toBe(claimsOf(b)['jti']);
});
