import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import axios, { isAxiosError } from 'axios';
import { inspect } from 'node:util';
import { attachTokenAuth, clientCredentials, MemoryTokenStore, refreshTokenGrant } from '../../lib/index.js';
import type { TokenAuthEvent } from '../../lib/shared/events.js';
import { listenOnLoopback } from '../../lib/testing/listen.js';
import { TRANSPORTS, type NeutralHandle, type Transport } from '../helpers/transports.js';
import { startDpopApi, thumbprintOf, type DpopApi } from './helpers/dpop-api.js';
import { claimsOf, headerOf } from './helpers/dpop-send.js';
import { startOidcProvider, type OidcProviderServer } from './helpers/oidc-provider-server.js';

/**
 * DPoP through both boundaries against oidc-provider (nonces required at its token endpoint) and a
 * loopback API that verifies every proof claim with Node's crypto and can demand and rotate its own
 * nonce; hostile servers written here.
 */

let server: OidcProviderServer;
let api: DpopApi;

beforeAll(async () => {
  server = await startOidcProvider();
  api = await startDpopApi({ issuer: server.issuer, resource: server.resource });
}, 30_000);

afterAll(async () => {
  await api.close();
  await server.close();
});

const handles: NeutralHandle[] = [];
afterEach(() => {
  for (const handle of handles.splice(0)) handle.close();
  api.demandNonce(false);
});

/** A clientCredentials provider of oidc-provider's DPoP client, tokens for the API's origin. */
function dpopProvider(dpop: Parameters<typeof clientCredentials>[0]['dpop'] = true, name?: string) {
  return clientCredentials({
    issuer: server.issuer,
    clientId: server.clients.dpop.clientId,
    authMethod: 'private_key_jwt',
    privateKey: server.keys.ec.pem,
    keyId: 'ec',
    dpop,
    origins: [api.url],
    ...(name === undefined ? {} : { name }),
  });
}

async function tokenRequestsSince(count: number) {
  return (await server.requests()).slice(count);
}

describe.each(TRANSPORTS)('DPoP over %s', (_name, transport: Transport) => {
  const open = (options: Parameters<Transport>[0]): NeutralHandle => {
    const handle = transport(options);
    handles.push(handle);
    return handle;
  };

  test('a cold start of 200 concurrent calls with nonces required at both ends makes 1 token request and 200 distinct proofs that the API verifies', async () => {
    api.demandNonce(true);
    const before = (await server.requests()).length;
    const seenBefore = api.seen.length;
    const auth = open({ providers: dpopProvider() });
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, index) => auth.send({ url: `${api.url}/v1/items/${index}?page=2` })),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(200).fill(200));
    const tokenRequests = await tokenRequestsSince(before);
    // One token request: its first POST answered use_dpop_nonce, sent once more with the nonce.
    expect(tokenRequests.map((request) => [request.status, request.error])).toEqual([
      [400, 'use_dpop_nonce'],
      [200, undefined],
    ]);
    const seen = api.seen.slice(seenBefore);
    const served = seen.filter((request) => request.status === 200);
    expect(served).toHaveLength(200);
    expect(new Set(served.map((request) => request.jti)).size).toBe(200);
    // Every proof the API saw was new (the API refuses a jti it has seen), and none was refused
    // for anything but the nonce it demanded.
    expect(new Set(seen.map((request) => request.jti)).size).toBe(seen.length);
    expect(seen.filter((request) => request.status === 401).map((request) => request.refused)).toEqual(
      Array(seen.length - 200).fill('the API demands its nonce'),
    );
    // Each call sent at most twice: first, and once with the nonce.
    const perPath = new Map<string, number>();
    for (const request of seen) perPath.set(request.path, (perPath.get(request.path) ?? 0) + 1);
    expect(Math.max(...perPath.values())).toBeLessThanOrEqual(2);
  }, 60_000);

  test('a nonce rotation at the API mid-load makes no token request', async () => {
    api.demandNonce(true);
    const auth = open({ providers: dpopProvider() });
    expect((await auth.send({ url: `${api.url}/warm` })).status).toBe(200);
    const before = (await server.requests()).length;
    const seenBefore = api.seen.length;
    const first = Array.from({ length: 50 }, (_, index) => auth.send({ url: `${api.url}/a/${index}` }));
    api.rotateNonce();
    const second = Array.from({ length: 50 }, (_, index) => auth.send({ url: `${api.url}/b/${index}` }));
    const answers = await Promise.all([...first, ...second]);
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    expect(await tokenRequestsSince(before)).toEqual([]);
    const seen = api.seen.slice(seenBefore);
    expect(seen.filter((request) => request.status === 200)).toHaveLength(100);
    expect(seen.length).toBeLessThanOrEqual(200);
  }, 60_000);

  test('the token is sent as DPoP, bound to the key whose public JWK every proof carries', async () => {
    const auth = open({ providers: dpopProvider() });
    const { accessToken } = await auth.token();
    const proofs = (await server.requests()).slice(-1).map((request) => request.dpop ?? '');
    const jwk = headerOf(proofs[0] ?? '')['jwk'] as Record<string, unknown>;
    expect(claimsOf(accessToken)['cnf']).toEqual({ jkt: thumbprintOf(jwk) });
    expect((await auth.send({ url: `${api.url}/v1/me` })).status).toBe(200);
  }, 30_000);

  test('handles with different keys sharing one store never use each other’s token; handles given one key pair share one', async () => {
    // Two key pairs given apart: a MemoryTokenStore keeps one pair per provider identity for the
    // handles that let it make theirs (dpop: true), so those would share a key, hence a token.
    const store = new MemoryTokenStore();
    const before = (await server.requests()).length;
    const makePair = () => crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    const a = open({ providers: dpopProvider({ keyPair: await makePair() }), store });
    const b = open({ providers: dpopProvider({ keyPair: await makePair() }), store });
    const [tokenA, tokenB] = [await a.token(), await b.token()];
    expect(tokenA.accessToken).not.toBe(tokenB.accessToken);
    expect(claimsOf(tokenA.accessToken)['cnf']).not.toEqual(claimsOf(tokenB.accessToken)['cnf']);
    expect((await a.send({ url: `${api.url}/a` })).status).toBe(200);
    expect((await b.send({ url: `${api.url}/b` })).status).toBe(200);
    const succeeded = (await tokenRequestsSince(before)).filter((request) => request.status === 200);
    expect(succeeded).toHaveLength(2);

    const keyPair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    const shared = new MemoryTokenStore();
    const c = open({ providers: dpopProvider({ keyPair }), store: shared });
    const d = open({ providers: dpopProvider({ keyPair }), store: shared });
    const tokenC = await c.token();
    const middle = (await server.requests()).length;
    expect((await d.token()).accessToken).toBe(tokenC.accessToken);
    expect(await tokenRequestsSince(middle)).toEqual([]);
    expect((await d.send({ url: `${api.url}/d` })).status).toBe(200);

    // dpop: true on both, one MemoryTokenStore: the store's one pair, so one token.
    const common = new MemoryTokenStore();
    const e = open({ providers: dpopProvider(), store: common });
    const f = open({ providers: dpopProvider(), store: common });
    const tokenE = await e.token();
    const beforeF = (await server.requests()).length;
    expect((await f.token()).accessToken).toBe(tokenE.accessToken);
    expect(await tokenRequestsSince(beforeF)).toEqual([]);
  }, 30_000);

  test('a store with keyPair(id, create) keeps one pair per provider identity, so handles sharing it share one token', async () => {
    const store = new MemoryTokenStore();
    const pairs = new Map<string, Promise<CryptoKeyPair>>();
    const ids: string[] = [];
    Object.assign(store, {
      keyPair(id: string, create: () => Promise<CryptoKeyPair>) {
        ids.push(id);
        if (!pairs.has(id)) pairs.set(id, create());
        return pairs.get(id);
      },
    });
    const e = open({ providers: dpopProvider(), store });
    const f = open({ providers: dpopProvider(), store });
    const tokenE = await e.token();
    expect((await f.token()).accessToken).toBe(tokenE.accessToken);
    expect(pairs.size).toBe(1);
    expect(ids[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(ids[0]).not.toContain(server.clients.dpop.clientId);
    expect((await f.send({ url: `${api.url}/f` })).status).toBe(200);
  }, 30_000);
  test('refreshTokenGrant with dpop: the rotated session is served DPoP-bound tokens the API accepts', async () => {
    api.demandNonce(true);
    const refreshToken = await server.mintRefreshToken(server.clients.dpop.clientId);
    const auth = open({
      providers: refreshTokenGrant({
        issuer: server.issuer,
        clientId: server.clients.dpop.clientId,
        authMethod: 'private_key_jwt',
        privateKey: server.keys.ec.pem,
        keyId: 'ec',
        refreshToken,
        dpop: { required: true },
        origins: [api.url],
      }),
    });
    expect((await auth.send({ url: `${api.url}/v1/session` })).status).toBe(200);
    expect(claimsOf((await auth.token()).accessToken)['cnf']).toEqual({ jkt: expect.any(String) });
  }, 30_000);
});

/** A loopback server whose answers the test writes, recording each request's headers. */
async function startServer(answer: (req: IncomingMessage, res: ServerResponse, body: string) => void) {
  const requests: { path: string; headers: IncomingMessage['headers'] }[] = [];
  const http = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      requests.push({ path: req.url ?? '/', headers: req.headers });
      answer(req, res, body);
    });
  });
  const port = await listenOnLoopback(http);
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

type Loopback = Awaited<ReturnType<typeof startServer>>;

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

/** A token endpoint: `issue(n)` answers the n-th request (from 1). */
function tokenEndpoint(issue: (n: number, req: IncomingMessage, res: ServerResponse) => void) {
  let n = 0;
  return startServer((req, res) => issue(++n, req, res));
}

const tokenOf = (n: number): string => `token-${n}-${'x'.repeat(16)}`;

describe.each(TRANSPORTS)('DPoP with hostile or unusual servers, over %s', (_name, transport: Transport) => {
  const servers: Loopback[] = [];
  const open = (options: Parameters<Transport>[0]): NeutralHandle => {
    const handle = transport(options);
    handles.push(handle);
    return handle;
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((loopback) => loopback.close()));
  });
  const start = async (loopback: Promise<Loopback>): Promise<Loopback> => {
    const started = await loopback;
    servers.push(started);
    return started;
  };
  const provider = (tokenUrl: string, apiUrl: string, dpop: Parameters<typeof clientCredentials>[0]['dpop'] = true) =>
    clientCredentials({ tokenUrl, clientId: 'c', clientSecret: 's', dpop, origins: [apiUrl] });

  test('a token issued as Bearer is sent as a bearer token without a proof', async () => {
    const tokens = await start(
      tokenEndpoint((n, _req, res) =>
        json(res, 200, { access_token: tokenOf(n), token_type: 'Bearer', expires_in: 300 }),
      ),
    );
    const resource = await start(startServer((_req, res) => json(res, 200, { ok: true })));
    const auth = open({ providers: provider(`${tokens.url}/token`, resource.url) });
    expect((await auth.send({ url: `${resource.url}/v1` })).status).toBe(200);
    expect(tokens.requests[0]?.headers['dpop']).toEqual(expect.any(String));
    expect(resource.requests[0]?.headers['authorization']).toBe(`Bearer ${tokenOf(1)}`);
    expect(resource.requests[0]?.headers['dpop']).toBeUndefined();
  });

  test('with dpop.required, a token issued as Bearer is refused with ERR_TOKEN_NOT_DPOP_BOUND and nothing is cached', async () => {
    const tokens = await start(
      tokenEndpoint((n, _req, res) =>
        json(res, 200, { access_token: tokenOf(n), token_type: 'Bearer', expires_in: 300 }),
      ),
    );
    const resource = await start(startServer((_req, res) => json(res, 200, { ok: true })));
    const auth = open({ providers: provider(`${tokens.url}/token`, resource.url, { required: true }) });
    await expect(auth.token()).rejects.toMatchObject({ code: 'ERR_TOKEN_NOT_DPOP_BOUND', status: 200 });
    await expect(auth.send({ url: `${resource.url}/v1` })).rejects.toMatchObject({ code: 'ERR_TOKEN_NOT_DPOP_BOUND' });
    expect(tokens.requests).toHaveLength(2);
    expect(resource.requests).toHaveLength(0);
  });

  test('a use_dpop_nonce 400 is sent once more at once and counts as no failure: no retry event, no cool-down', async () => {
    const events: TokenAuthEvent[] = [];
    let nonce = 0;
    // Changes its nonce on every answer: each token request is challenged once, then served.
    const tokens = await start(
      tokenEndpoint((n, req, res) => {
        const sent = claimsOf(String(req.headers['dpop']))['nonce'];
        const expected = `nonce-${nonce}`;
        nonce++;
        if (sent !== expected) {
          json(res, 400, { error: 'use_dpop_nonce' }, { 'DPoP-Nonce': `nonce-${nonce}` });
          return;
        }
        json(
          res,
          200,
          { access_token: tokenOf(n), token_type: 'DPoP', expires_in: 300 },
          { 'DPoP-Nonce': `nonce-${nonce}` },
        );
      }),
    );
    const resource = await start(startServer((_req, res) => json(res, 200, { ok: true })));
    const auth = open({
      providers: provider(`${tokens.url}/token`, resource.url),
      onEvent: (event) => events.push(event),
    });
    const started = Date.now();
    for (let round = 0; round < 4; round++) {
      await auth.invalidate();
      expect((await auth.token()).accessToken).toMatch(/^token-/);
    }
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(events.filter((event) => event.type === 'token-retry' || event.type === 'token-failed')).toEqual([]);
    expect(events.filter((event) => event.type === 'token-fetched')).toHaveLength(4);
  });

  test('a token endpoint that always answers use_dpop_nonce gets each attempt at most twice, never a loop', async () => {
    let nonce = 0;
    const tokens = await start(
      tokenEndpoint((_n, _req, res) => json(res, 400, { error: 'use_dpop_nonce' }, { 'DPoP-Nonce': `n${++nonce}` })),
    );
    const auth = open({ providers: provider(`${tokens.url}/token`, 'https://api.example.test') });
    await expect(auth.token()).rejects.toMatchObject({ code: 'ERR_TOKEN_CREDENTIALS', providerCode: 'use_dpop_nonce' });
    expect(tokens.requests).toHaveLength(2);
    const nonces = tokens.requests.map((request) => claimsOf(String(request.headers['dpop']))['nonce']);
    expect(nonces).toEqual([undefined, 'n1']);
  });

  test('an API that always answers use_dpop_nonce gets each request at most twice, and the caller its 401', async () => {
    const tokens = await start(
      tokenEndpoint((n, _req, res) =>
        json(res, 200, { access_token: tokenOf(n), token_type: 'DPoP', expires_in: 300 }),
      ),
    );
    let nonce = 0;
    const resource = await start(
      startServer((_req, res) => {
        res.writeHead(401, { 'WWW-Authenticate': 'DPoP error="use_dpop_nonce"', 'DPoP-Nonce': `api-${++nonce}` });
        res.end();
      }),
    );
    const auth = open({ providers: provider(`${tokens.url}/token`, resource.url) });
    const answers = await Promise.all([1, 2, 3].map((index) => auth.send({ url: `${resource.url}/r/${index}` })));
    expect(answers.map((answer) => answer.status)).toEqual([401, 401, 401]);
    expect(resource.requests).toHaveLength(6);
    for (const index of [1, 2, 3])
      expect(resource.requests.filter((request) => request.path === `/r/${index}`)).toHaveLength(2);
    expect(tokens.requests).toHaveLength(1);
    const jtis = resource.requests.map((request) => claimsOf(String(request.headers['dpop']))['jti']);
    expect(new Set(jtis).size).toBe(6);
  });

  test('a DPoP-Nonce that is too long or has characters a nonce cannot have is ignored: no re-send, no nonce sent', async () => {
    const tokens = await start(
      tokenEndpoint((n, _req, res) =>
        json(res, 200, { access_token: tokenOf(n), token_type: 'DPoP', expires_in: 300 }),
      ),
    );
    const junk = ['x'.repeat(5_000), 'has space', 'quote"d', 'back\\slash'];
    let n = 0;
    const resource = await start(
      startServer((_req, res) => {
        res.writeHead(401, {
          'WWW-Authenticate': 'DPoP error="use_dpop_nonce"',
          'DPoP-Nonce': junk[n++ % junk.length] ?? '',
        });
        res.end();
      }),
    );
    const auth = open({ providers: provider(`${tokens.url}/token`, resource.url) });
    for (const index of junk.keys()) expect((await auth.send({ url: `${resource.url}/j/${index}` })).status).toBe(401);
    expect(resource.requests).toHaveLength(junk.length);
    for (const request of resource.requests) expect(claimsOf(String(request.headers['dpop']))['nonce']).toBeUndefined();
  });

  test('a DPoP invalid_token answer refreshes the token once and replays; a nonce asked for after that is answered too (three sends at most)', async () => {
    const tokens = await start(
      tokenEndpoint((n, _req, res) =>
        json(res, 200, { access_token: tokenOf(n), token_type: 'DPoP', expires_in: 300 }),
      ),
    );
    let sends = 0;
    const resource = await start(
      startServer((req, res) => {
        sends++;
        const nonce = claimsOf(String(req.headers['dpop']))['nonce'];
        if (req.headers['authorization'] === `DPoP ${tokenOf(1)}`) {
          res.writeHead(401, { 'WWW-Authenticate': 'DPoP error="invalid_token"' });
          res.end();
        } else if (nonce !== 'fresh') {
          res.writeHead(401, { 'WWW-Authenticate': 'DPoP error="use_dpop_nonce"', 'DPoP-Nonce': 'fresh' });
          res.end();
        } else json(res, 200, { ok: true });
      }),
    );
    const auth = open({ providers: provider(`${tokens.url}/token`, resource.url) });
    expect((await auth.send({ url: `${resource.url}/x`, method: 'POST', body: 'payload' })).status).toBe(200);
    expect(sends).toBe(3);
    expect(tokens.requests).toHaveLength(2);
    expect(resource.requests.map((request) => request.headers['authorization'])).toEqual([
      `DPoP ${tokenOf(1)}`,
      `DPoP ${tokenOf(2)}`,
      `DPoP ${tokenOf(2)}`,
    ]);
  });

  test('a nonce re-send racing a token refresh: every call succeeds in three sends, with one token request for all', async () => {
    const tokens = await start(
      tokenEndpoint((n, _req, res) =>
        setTimeout(() => json(res, 200, { access_token: tokenOf(n), token_type: 'DPoP', expires_in: 300 }), 20),
      ),
    );
    let nonce = 'a';
    let revoked = 'none yet';
    const perPath = new Map<string, number>();
    const resource = await start(
      startServer((req, res) => {
        perPath.set(req.url ?? '', (perPath.get(req.url ?? '') ?? 0) + 1);
        const sent = claimsOf(String(req.headers['dpop']))['nonce'];
        if (sent !== nonce) {
          res.writeHead(401, { 'WWW-Authenticate': 'DPoP error="use_dpop_nonce"', 'DPoP-Nonce': nonce });
          res.end();
        } else if (req.headers['authorization'] === `DPoP ${revoked}`) {
          res.writeHead(401, { 'WWW-Authenticate': 'DPoP error="invalid_token"', 'DPoP-Nonce': nonce });
          res.end();
        } else json(res, 200, { ok: true }, { 'DPoP-Nonce': nonce });
      }),
    );
    const auth = open({ providers: provider(`${tokens.url}/token`, resource.url) });
    expect((await auth.send({ url: `${resource.url}/warm` })).status).toBe(200);
    revoked = tokenOf(1);
    nonce = 'b';
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => auth.send({ url: `${resource.url}/c/${i}` })),
    );
    // Each call: the old nonce (challenged), the new nonce with the revoked token (rejected), the
    // new token: three sends, and one token request for all of them.
    expect(answers.map((answer) => answer.status)).toEqual(Array(30).fill(200));
    expect(tokens.requests).toHaveLength(2);
    const counts = [...perPath.entries()].filter(([path]) => path.startsWith('/c/')).map(([, count]) => count);
    expect(counts).toEqual(Array(30).fill(3));
  });

  test('a stream body answered use_dpop_nonce is not sent again: ERR_BODY_NOT_REPLAYABLE, and the next request carries the nonce', async () => {
    const tokens = await start(
      tokenEndpoint((n, _req, res) =>
        json(res, 200, { access_token: tokenOf(n), token_type: 'DPoP', expires_in: 300 }),
      ),
    );
    const resource = await start(
      startServer((req, res) => {
        if (claimsOf(String(req.headers['dpop']))['nonce'] === 'api-nonce') json(res, 200, { ok: true });
        else {
          res.writeHead(401, { 'WWW-Authenticate': 'DPoP error="use_dpop_nonce"', 'DPoP-Nonce': 'api-nonce' });
          res.end();
        }
      }),
    );
    const auth = open({ providers: provider(`${tokens.url}/token`, resource.url) });
    await expect(
      auth.send({ url: `${resource.url}/upload`, method: 'PUT', body: { stream: 'bytes' } }),
    ).rejects.toMatchObject({ code: 'ERR_BODY_NOT_REPLAYABLE' });
    expect((await auth.send({ url: `${resource.url}/next`, method: 'PUT', body: 'text' })).status).toBe(200);
    expect(resource.requests.map((request) => request.path)).toEqual(['/upload', '/next']);
  });

  test('proofs and tokens never appear in what reaches the caller when the API fails', async () => {
    const tokens = await start(
      tokenEndpoint((n, _req, res) =>
        json(res, 200, { access_token: tokenOf(n), token_type: 'DPoP', expires_in: 300 }),
      ),
    );
    const resource = await start(
      startServer((_req, res) => {
        res.writeHead(500);
        res.end('boom');
      }),
    );
    const auth = open({ providers: provider(`${tokens.url}/token`, resource.url) });
    const answer = await auth.send({ url: `${resource.url}/fail` });
    expect(answer.status).toBe(500);
    const proof = String(resource.requests[0]?.headers['dpop']);
    expect(JSON.stringify(answer)).not.toContain(proof);
  });
});

describe('DPoP option and axios errors', () => {
  test.each([
    ['yes', /expected `dpop` to be a boolean or an object, got/],
    [{ alg: 'HS256' }, /`dpop\.alg`/],
    [{ keyPair: {} }, /`dpop\.keyPair\.privateKey`/],
    [{ required: 'no' }, /`dpop\.required`/],
    [{ keypair: true }, /keypair/],
  ])('clientCredentials refuses dpop: %j at construction, naming the option', (dpop, message) => {
    expect(() =>
      clientCredentials({
        tokenUrl: 'https://auth.example.test/token',
        clientId: 'c',
        clientSecret: 's',
        // @ts-expect-error: a wrong value, as JavaScript callers may pass
        dpop,
      }),
    ).toThrow(message);
  });

  test('an axios error from a DPoP request shows neither the token nor the proof', async () => {
    const tokens = await tokenEndpoint((n, _req, res) =>
      json(res, 200, { access_token: tokenOf(n), token_type: 'DPoP', expires_in: 300 }),
    );
    const resource = await startServer((_req, res) => {
      res.writeHead(500);
      res.end('boom');
    });
    try {
      const instance = axios.create({ baseURL: resource.url });
      const auth = attachTokenAuth(instance, {
        providers: clientCredentials({ tokenUrl: `${tokens.url}/t`, clientId: 'c', clientSecret: 's', dpop: true }),
      });
      const error: unknown = await instance.get('/boom').catch((caught: unknown) => caught);
      auth.eject();
      expect(isAxiosError(error)).toBe(true);
      const proof = String(resource.requests[0]?.headers['dpop']);
      expect(proof.split('.')).toHaveLength(3);
      for (const shown of [JSON.stringify(error), inspect(error, { depth: 6 }), String((error as Error).stack)]) {
        expect(shown).not.toContain(proof);
        expect(shown).not.toContain(tokenOf(1));
      }
      expect(isAxiosError(error) && error.config?.headers.get('DPoP')).toBe('[redacted]');
    } finally {
      await tokens.close();
      await resource.close();
    }
  });
});
