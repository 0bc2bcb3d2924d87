import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import axios from 'axios';
import { Readable } from 'node:stream';
import { attachTokenAuth, clientCredentials } from '../../lib/index.js';
import { listenOnLoopback } from '../../lib/testing/listen.js';
import { TRANSPORTS, type NeutralHandle, type Transport } from '../helpers/transports.js';
import { startDpopApi, type DpopApi } from './helpers/dpop-api.js';
import { startOidcProvider, type OidcProviderServer } from './helpers/oidc-provider-server.js';

/**
 * RFC 9449 §4.3: every request carries a proof of its own method and URL, redirect hops included.
 * A DPoP request that meets a same-origin redirect is sent to the next URL with the token and a
 * new proof (new `jti`, that hop's `htm` and `htu`, the token's `ath`, the origin's latest nonce),
 * which the loopback API verifies hop by hop; across origins, neither token nor proof goes.
 */

let server: OidcProviderServer;
let api: DpopApi;
let elsewhere: { url: string; seen: IncomingHttpHeaders[]; close: () => Promise<void> };

beforeAll(async () => {
  server = await startOidcProvider();
  api = await startDpopApi({ issuer: server.issuer, resource: server.resource });
  const seen: IncomingHttpHeaders[] = [];
  const http = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('elsewhere');
  });
  const port = await listenOnLoopback(http);
  elsewhere = {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}, 30_000);

afterAll(async () => {
  await elsewhere.close();
  await api.close();
  await server.close();
});

const handles: NeutralHandle[] = [];
afterEach(() => {
  for (const handle of handles.splice(0)) handle.close();
  api.demandNonce(false);
});

describe.each(TRANSPORTS)('DPoP redirects over %s', (_name, transport: Transport) => {
  const open = (): NeutralHandle => {
    const handle = transport({
      providers: clientCredentials({
        issuer: server.issuer,
        clientId: server.clients.dpop.clientId,
        authMethod: 'private_key_jwt',
        privateKey: server.keys.ec.pem,
        keyId: 'ec',
        dpop: true,
        origins: [api.url],
      }),
    });
    handles.push(handle);
    return handle;
  };
  /** What the API saw from `from` on: method, path and status of each send. */
  const hops = (from: number) => api.seen.slice(from).map(({ method, path, status }) => ({ method, path, status }));

  test.each([307, 308])(
    'a same-origin %i is sent to the next URL with the token and a new proof for that hop, verified claim by claim',
    async (status) => {
      const auth = open();
      await auth.token();
      const from = api.seen.length;
      const answer = await auth.send({
        url: `${api.url}/redirect/${status}/v1/target?page=2`,
        method: 'POST',
        body: 'payload',
      });
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toEqual({ ok: true, path: '/v1/target' });
      expect(hops(from)).toEqual([
        { method: 'POST', path: `/redirect/${status}/v1/target`, status },
        { method: 'POST', path: '/v1/target', status: 200 },
      ]);
      const jtis = api.seen.slice(from).map((request) => request.jti);
      expect(new Set(jtis).size).toBe(2);
    },
    30_000,
  );

  test.each([
    [303, 'POST', 'GET'],
    [302, 'POST', 'GET'],
    [301, 'GET', 'GET'],
    [303, 'PUT', 'GET'],
  ] as const)(
    'a same-origin %i after a %s goes on as a %s whose proof names that method and URL',
    async (status, method, next) => {
      const auth = open();
      await auth.token();
      const from = api.seen.length;
      const answer = await auth.send({
        url: `${api.url}/redirect/${status}/v1/after`,
        method,
        ...(method === 'GET' ? {} : { body: 'payload' }),
      });
      expect(answer.status).toBe(200);
      expect(hops(from)).toEqual([
        { method, path: `/redirect/${status}/v1/after`, status },
        { method: next, path: '/v1/after', status: 200 },
      ]);
    },
    30_000,
  );

  test('a chain of same-origin redirects gets a new proof at every hop', async () => {
    const auth = open();
    await auth.token();
    const from = api.seen.length;
    const answer = await auth.send({ url: `${api.url}/redirect/302/redirect/307/redirect/308/end` });
    expect(answer.status).toBe(200);
    expect(hops(from)).toEqual([
      { method: 'GET', path: '/redirect/302/redirect/307/redirect/308/end', status: 302 },
      { method: 'GET', path: '/redirect/307/redirect/308/end', status: 307 },
      { method: 'GET', path: '/redirect/308/end', status: 308 },
      { method: 'GET', path: '/end', status: 200 },
    ]);
    expect(new Set(api.seen.slice(from).map((request) => request.jti)).size).toBe(4);
  }, 30_000);

  test('a nonce challenge on the second hop sends that hop once more with the nonce: no token request, the first hop sent once', async () => {
    api.demandNonce(true);
    const auth = open();
    expect((await auth.send({ url: `${api.url}/warm` })).status).toBe(200);
    const before = (await server.requests()).length;
    const from = api.seen.length;
    const answer = await auth.send({
      url: `${api.url}/redirect/307/v1/moved?rotate=1`,
      method: 'POST',
      body: 'payload',
    });
    expect(answer.status).toBe(200);
    expect(
      api.seen.slice(from).map(({ method, path, status, refused }) => ({ method, path, status, refused })),
    ).toEqual([
      { method: 'POST', path: '/redirect/307/v1/moved', status: 307, refused: undefined },
      { method: 'POST', path: '/v1/moved', status: 401, refused: 'the API demands its nonce' },
      { method: 'POST', path: '/v1/moved', status: 200, refused: undefined },
    ]);
    expect((await server.requests()).slice(before)).toEqual([]);
  }, 30_000);

  test('a redirect to another origin carries neither the token nor a proof', async () => {
    const auth = open();
    await auth.token();
    const from = api.seen.length;
    const seenBefore = elsewhere.seen.length;
    const to = encodeURIComponent(`${elsewhere.url}/landing`);
    const answer = await auth.send({ url: `${api.url}/redirect/302/x?to=${to}` });
    expect(answer).toEqual({ status: 200, body: 'elsewhere' });
    expect(hops(from)).toEqual([{ method: 'GET', path: '/redirect/302/x', status: 302 }]);
    const arrived = elsewhere.seen.slice(seenBefore);
    expect(arrived).toHaveLength(1);
    expect(arrived[0]?.['authorization']).toBeUndefined();
    expect(arrived[0]?.['dpop']).toBeUndefined();
  }, 30_000);
});

describe('DPoP redirects followed by tokenflight over axios', () => {
  const attach = () => {
    const instance = axios.create();
    const auth = attachTokenAuth(instance, {
      providers: clientCredentials({
        issuer: server.issuer,
        clientId: server.clients.dpop.clientId,
        authMethod: 'private_key_jwt',
        privateKey: server.keys.ec.pem,
        keyId: 'ec',
        dpop: true,
        origins: [api.url],
      }),
    });
    handles.push({ close: () => auth.eject() } as NeutralHandle);
    return instance;
  };

  test('the request’s maxRedirects is kept: past it, ERR_FR_TOO_MANY_REDIRECTS as follow-redirects rejects', async () => {
    const instance = attach();
    const from = api.seen.length;
    await expect(instance.get(`${api.url}/redirect/302/redirect/307/end`, { maxRedirects: 1 })).rejects.toMatchObject({
      code: 'ERR_FR_TOO_MANY_REDIRECTS',
    });
    expect(api.seen.slice(from).map((request) => request.status)).toEqual([302, 307]);
    const answer = await instance.get(`${api.url}/redirect/307/end`, { maxRedirects: 0, validateStatus: () => true });
    expect(answer.status).toBe(307);
  }, 30_000);

  test('a stream body on a 307 is not sent twice: ERR_BODY_NOT_REPLAYABLE, or replayBody’s body', async () => {
    const instance = attach();
    const stream = () => Readable.from([Buffer.from('bytes')]);
    await expect(
      instance.post(`${api.url}/redirect/307/upload`, stream(), { headers: { 'content-type': 'text/plain' } }),
    ).rejects.toMatchObject({ code: 'ERR_BODY_NOT_REPLAYABLE' });
    const answer = await instance.post(`${api.url}/redirect/307/upload`, stream(), {
      headers: { 'content-type': 'text/plain' },
      tokenAuth: { replayBody: stream },
    });
    expect(answer.status).toBe(200);
  }, 30_000);
});
