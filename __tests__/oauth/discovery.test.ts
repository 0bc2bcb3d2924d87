import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import type { HttpClient } from '../../lib/core/http.js';
import { TokenRequestError } from '../../lib/shared/errors.js';
import { DISCOVERY_DEFAULTS, createDiscovery } from '../../lib/oauth/discovery.js';
import { metadataUrls, parseMetadata, readIssuer } from '../../lib/oauth/metadata.js';
import { fetchHttpClient } from './helpers/fetch-http.js';
import { startScriptedServer, type ScriptedAnswer } from './helpers/scripted-server.js';

describe('readIssuer', () => {
  test.each([
    'https://as.example.com',
    'https://as.example.com/tenant/',
    'http://127.0.0.1:8080/realms/a',
    'http://localhost',
  ])('%s is an issuer', (issuer) => {
    expect(readIssuer(issuer, 'test()', false)).toBe(issuer);
  });

  test('plain http to another host is an issuer only with allowInsecureHttp', () => {
    expect(() => readIssuer('http://as.example.com', 'test()', false)).toThrow(/refusing plain http for `issuer`/);
    expect(readIssuer('http://as.example.com', 'test()', true)).toBe('http://as.example.com');
  });

  test.each([
    ['https://as.example.com?tenant=a', /`issuer` to be a URL without query or fragment/],
    ['https://as.example.com/#a', /without query or fragment/],
    ['https://as.example.com/?', /without query or fragment/],
    ['https://as.example.com/#', /without query or fragment/],
    ['https://user:pass@as.example.com', /must not carry user info/],
    ['as.example.com', /`issuer` to be an absolute http\(s\) URL/],
    [42, /`issuer` to be an absolute http\(s\) URL, got a number/],
  ])('%j is refused', (issuer, message) => {
    expect(() => readIssuer(issuer, 'test()', false)).toThrow(
      expect.objectContaining({ name: 'TypeError', message: expect.stringMatching(message) }),
    );
  });
});

test.each([
  [
    'https://as.example.com',
    'https://as.example.com/.well-known/oauth-authorization-server',
    'https://as.example.com/.well-known/openid-configuration',
  ],
  [
    'https://as.example.com/',
    'https://as.example.com/.well-known/oauth-authorization-server',
    'https://as.example.com/.well-known/openid-configuration',
  ],
  [
    'https://as.example.com/tenant',
    'https://as.example.com/.well-known/oauth-authorization-server/tenant',
    'https://as.example.com/tenant/.well-known/openid-configuration',
  ],
  [
    'https://as.example.com:8443/realms/a/',
    'https://as.example.com:8443/.well-known/oauth-authorization-server/realms/a',
    'https://as.example.com:8443/realms/a/.well-known/openid-configuration',
  ],
])('the metadata of %s is looked for at %s, then %s', (issuer, rfc8414, openid) => {
  expect(metadataUrls(issuer)).toEqual([rfc8414, openid]);
});

describe('parseMetadata', () => {
  const issuer = 'https://as.example.com';
  const body = (fields: Record<string, unknown>): string =>
    JSON.stringify({ issuer, token_endpoint: `${issuer}/token`, ...fields });

  test('the metadata tokenflight uses is read, and it offers no origin', () => {
    const metadata = parseMetadata(
      body({
        dpop_signing_alg_values_supported: ['ES256', 'EdDSA'],
        token_endpoint_auth_methods_supported: ['private_key_jwt'],
        token_endpoint_auth_signing_alg_values_supported: ['PS256'],
        jwks_uri: `${issuer}/jwks`,
      }),
      issuer,
      false,
    );
    expect(metadata).toEqual({
      issuer,
      tokenEndpoint: `${issuer}/token`,
      dpopSigningAlgValues: ['ES256', 'EdDSA'],
      tokenEndpointAuthMethods: ['private_key_jwt'],
      tokenEndpointAuthSigningAlgValues: ['PS256'],
    });
    expect(Object.isFrozen(metadata)).toBe(true);
    expect(Object.isFrozen((metadata as { dpopSigningAlgValues: unknown }).dpopSigningAlgValues)).toBe(true);
    expect(parseMetadata(body({}), issuer, false)).toMatchObject({
      dpopSigningAlgValues: undefined,
      tokenEndpointAuthMethods: undefined,
    });
  });

  test.each([
    ['not JSON', 'html', /not JSON/],
    ['an array', '[]', /not a JSON object/],
    ['null', 'null', /not a JSON object/],
    ['another issuer', body({ issuer: 'https://as.example.com/' }), /`issuer` is not the configured issuer/],
    ['no issuer', body({ issuer: undefined }), /`issuer` is not the configured issuer/],
    ['no token endpoint', body({ token_endpoint: undefined }), /no `token_endpoint` URL/],
    ['a token endpoint that is not a URL', body({ token_endpoint: '/token' }), /no `token_endpoint` URL/],
    ['a token endpoint over plain http', body({ token_endpoint: 'http://as.example.com/token' }), /not https/],
    ['a token endpoint of another scheme', body({ token_endpoint: 'ftp://as.example.com/token' }), /not https/],
    [
      'a token endpoint with user info',
      body({ token_endpoint: 'https://u:p@as.example.com/token' }),
      /user info or a fragment/,
    ],
    [
      'a token endpoint with only a user',
      body({ token_endpoint: 'https://u@as.example.com/token' }),
      /user info or a fragment/,
    ],
    [
      'a token endpoint with only a password',
      body({ token_endpoint: 'https://:p@as.example.com/token' }),
      /user info or a fragment/,
    ],
    [
      'a token endpoint with a fragment',
      body({ token_endpoint: 'https://as.example.com/token#x' }),
      /user info or a fragment/,
    ],
    [
      'a DPoP list that is not a list',
      body({ dpop_signing_alg_values_supported: 'ES256' }),
      /`dpop_signing_alg_values_supported` is not a list of strings/,
    ],
    [
      'a DPoP list with a number',
      body({ dpop_signing_alg_values_supported: ['ES256', 256] }),
      /`dpop_signing_alg_values_supported` is not a list/,
    ],
    [
      'an auth methods list that is not a list',
      body({ token_endpoint_auth_methods_supported: {} }),
      /`token_endpoint_auth_methods_supported`/,
    ],
    [
      'an auth algs list that is not a list',
      body({ token_endpoint_auth_signing_alg_values_supported: [null] }),
      /`token_endpoint_auth_signing_alg_values_supported`/,
    ],
  ])('metadata with %s is unusable', (_name, text, problem) => {
    expect(parseMetadata(text, issuer, false)).toEqual({ problem: expect.stringMatching(problem) });
  });

  test('a plain http token endpoint is accepted on loopback, or with allowInsecureHttp', () => {
    const local = 'http://127.0.0.1:9000';
    expect(
      parseMetadata(JSON.stringify({ issuer: local, token_endpoint: `${local}/token` }), local, false),
    ).toMatchObject({ tokenEndpoint: `${local}/token` });
    expect(parseMetadata(body({ token_endpoint: 'http://as.example.com/token' }), issuer, true)).toMatchObject({
      tokenEndpoint: 'http://as.example.com/token',
    });
  });
});

describe('createDiscovery', () => {
  let server: Awaited<ReturnType<typeof startScriptedServer>>;
  let issuer: string;
  let clock: number;
  const metadata = (fields: Record<string, unknown> = {}): ScriptedAnswer => ({
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ issuer, token_endpoint: `${issuer}/token`, ...fields }),
  });
  const discover = (http: HttpClient = fetchHttpClient(), settings = {}) =>
    createDiscovery({ issuer, provider: 'as', http, now: () => clock, allowInsecureHttp: false, settings });
  const failure = async (promise: Promise<unknown>): Promise<Record<string, unknown>> => {
    const error = await promise.then(
      () => {
        throw new Error('expected a failure');
      },
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(TokenRequestError);
    return (error as TokenRequestError).toJSON();
  };

  beforeAll(async () => {
    server = await startScriptedServer();
    issuer = `${server.origin}/tenant`;
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.paths.length = 0;
    clock = 1_000_000;
  });

  test('concurrent callers share one metadata request', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    server.answer(async () => {
      await released;
      return metadata();
    });
    const discovery = discover();
    const all = Array.from({ length: 100 }, () => discovery.metadata());
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    const results = await Promise.all(all);
    expect(new Set(results).size).toBe(1);
    expect(server.paths).toEqual(['/.well-known/oauth-authorization-server/tenant']);
  });

  test('a failed request is not kept: the next caller asks again', async () => {
    let calls = 0;
    server.answer(() => (++calls === 1 ? { status: 503 } : metadata()));
    const discovery = discover();
    expect(await failure(discovery.metadata())).toMatchObject({
      code: 'ERR_TOKEN_UNAVAILABLE',
      status: 503,
      attempts: 1,
      provider: 'as',
    });
    expect((await discovery.metadata()).tokenEndpoint).toBe(`${issuer}/token`);
    expect(server.paths).toHaveLength(2);
  });

  test('OpenID discovery is asked only when RFC 8414’s URL answers 404', async () => {
    server.answer((path) =>
      path.startsWith('/tenant/.well-known/openid-configuration') ? metadata() : { status: 404 },
    );
    expect((await discover().metadata()).issuer).toBe(issuer);
    expect(server.paths).toEqual([
      '/.well-known/oauth-authorization-server/tenant',
      '/tenant/.well-known/openid-configuration',
    ]);
  });

  test('404 at both URLs is ERR_TOKEN_DISCOVERY after two requests', async () => {
    server.answer(() => ({ status: 404 }));
    expect(await failure(discover().metadata())).toMatchObject({
      code: 'ERR_TOKEN_DISCOVERY',
      status: 404,
      attempts: 2,
      url: `${issuer}/.well-known/openid-configuration`,
    });
  });

  test.each([
    [400, 'ERR_TOKEN_DISCOVERY'],
    [403, 'ERR_TOKEN_DISCOVERY'],
    [204, 'ERR_TOKEN_DISCOVERY'],
    [201, 'ERR_TOKEN_DISCOVERY'],
    [301, 'ERR_TOKEN_REDIRECT'],
    [307, 'ERR_TOKEN_REDIRECT'],
    [399, 'ERR_TOKEN_REDIRECT'],
    [408, 'ERR_TOKEN_UNAVAILABLE'],
    [429, 'ERR_TOKEN_RATE_LIMITED'],
    [499, 'ERR_TOKEN_DISCOVERY'],
    [500, 'ERR_TOKEN_UNAVAILABLE'],
    [503, 'ERR_TOKEN_UNAVAILABLE'],
  ])('an answer %i from RFC 8414’s URL is %s, and OpenID’s URL is not asked', async (status, code) => {
    server.answer(() => ({
      status,
      headers: { location: 'https://elsewhere.example/' },
      body: status === 204 ? undefined : '{}',
    }));
    expect(await failure(discover().metadata())).toMatchObject({
      code,
      status,
      attempts: 1,
      url: `${server.origin}/.well-known/oauth-authorization-server/tenant`,
    });
    expect(server.paths).toHaveLength(1);
  });

  test('a browser’s opaque redirect (status 0) is a redirect', async () => {
    const opaque: HttpClient = { send: () => Promise.resolve({ status: 0, headers: {}, body: '' }) };
    expect(await failure(discover(opaque).metadata())).toMatchObject({ code: 'ERR_TOKEN_REDIRECT', status: 0 });
  });

  test('metadata naming another issuer is ERR_TOKEN_DISCOVERY, with nothing kept', async () => {
    server.answer(() => metadata({ issuer: `${issuer}/` }));
    const discovery = discover();
    const error = await failure(discovery.metadata());
    expect(error).toMatchObject({ code: 'ERR_TOKEN_DISCOVERY', status: 200, attempts: 1 });
    expect(error['message']).toMatch(
      /^as: discovery of the authorization server failed: the metadata is unusable: its `issuer` is not the configured issuer/,
    );
    await failure(discovery.metadata());
    expect(server.paths).toHaveLength(2);
  });

  test('a token endpoint over plain http to another host is ERR_TOKEN_DISCOVERY', async () => {
    server.answer(() => metadata({ token_endpoint: 'http://as.example.com/token' }));
    expect(await failure(discover().metadata())).toMatchObject({ code: 'ERR_TOKEN_DISCOVERY' });
  });

  test('metadata larger than its limit is ERR_TOKEN_TOO_LARGE, even through a client that ignores the limit', async () => {
    server.answer(() => metadata({ padding: 'x'.repeat(2_000) }));
    expect(await failure(discover(fetchHttpClient(), { maxBodyBytes: 1_000 }).metadata())).toMatchObject({
      code: 'ERR_TOKEN_TOO_LARGE',
    });
    const lax = fetchHttpClient();
    const laxClient: HttpClient = { send: (request) => lax.send({ ...request, maxBodyBytes: Infinity }) };
    expect(await failure(discover(laxClient, { maxBodyBytes: 1_000 }).metadata())).toMatchObject({
      code: 'ERR_TOKEN_TOO_LARGE',
      attempts: 1,
    });
    const exact = JSON.stringify({ issuer, token_endpoint: `${issuer}/token` }).length;
    server.answer(() => metadata());
    expect((await discover(laxClient, { maxBodyBytes: exact }).metadata()).issuer).toBe(issuer);
  });

  test('metadata requests ask for JSON, within the time and size limits', async () => {
    server.answer(() => metadata());
    const http = fetchHttpClient();
    await discover(http).metadata();
    expect(http.sent[0]).toMatchObject({
      method: 'GET',
      headers: { accept: 'application/json' },
      timeoutMs: DISCOVERY_DEFAULTS.timeoutMs,
      maxBodyBytes: DISCOVERY_DEFAULTS.maxBodyBytes,
    });
    expect(http.sent[0]?.body).toBeUndefined();
  });

  test.each([
    ['timeout', 'ERR_TOKEN_TIMEOUT'],
    ['network', 'ERR_TOKEN_UNAVAILABLE'],
    ['too-large', 'ERR_TOKEN_TOO_LARGE'],
  ] as const)('a transport failure (%s) is %s', async (reason, code) => {
    const { HttpClientError } = await import('../../lib/core/http.js');
    const failing: HttpClient = { send: () => Promise.reject(new HttpClientError(reason, 'failed')) };
    expect(await failure(discover(failing).metadata())).toMatchObject({ code, attempts: 1, status: undefined });
  });

  test('an answer that never comes ends within timeoutMs, and an unknown transport error is ERR_TOKEN_UNAVAILABLE', async () => {
    server.answer(() => 'hang');
    expect(await failure(discover(fetchHttpClient(), { timeoutMs: 100 }).metadata())).toMatchObject({
      code: 'ERR_TOKEN_TIMEOUT',
    });
    const broken: HttpClient = { send: () => Promise.reject(new Error('boom')) };
    expect(await failure(discover(broken).metadata())).toMatchObject({ code: 'ERR_TOKEN_UNAVAILABLE' });
  });

  test('metadata is kept fresh for refreshAfterMs, then refreshed in the background while the old one serves', async () => {
    let endpoint = `${issuer}/token`;
    server.answer(() => metadata({ token_endpoint: endpoint }));
    const discovery = discover(fetchHttpClient(), { refreshAfterMs: 1_000, maxStaleMs: 5_000 });
    const first = await discovery.metadata();
    clock += 999;
    expect(await discovery.metadata()).toBe(first);
    expect(server.paths).toHaveLength(1);
    endpoint = `${issuer}/token2`;
    clock += 1;
    expect(await discovery.metadata()).toBe(first);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.paths).toHaveLength(2);
    expect((await discovery.metadata()).tokenEndpoint).toBe(`${issuer}/token2`);
  });

  test('a failed background refresh leaves the old metadata in use until maxStaleMs, then callers wait and fail', async () => {
    let calls = 0;
    server.answer(() => (++calls === 1 ? metadata() : { status: 500 }));
    const discovery = discover(fetchHttpClient(), { refreshAfterMs: 1_000, maxStaleMs: 5_000 });
    const first = await discovery.metadata();
    clock += 4_999;
    expect(await discovery.metadata()).toBe(first);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(calls).toBe(2);
    clock += 1;
    expect(await failure(discovery.metadata())).toMatchObject({ code: 'ERR_TOKEN_UNAVAILABLE' });
  });

  test('a clock that went back makes the metadata stale, not fresh forever', async () => {
    server.answer(() => metadata());
    const discovery = discover();
    const first = await discovery.metadata();
    clock -= 1;
    const second = await discovery.metadata();
    expect(second).not.toBe(first);
    expect(server.paths).toHaveLength(2);
  });

  test('by default metadata is fresh for an hour and served stale for a day', async () => {
    let calls = 0;
    server.answer(() => (++calls === 1 ? metadata() : { status: 500 }));
    const discovery = discover();
    const first = await discovery.metadata();
    clock += DISCOVERY_DEFAULTS.refreshAfterMs - 1;
    await discovery.metadata();
    expect(calls).toBe(1);
    clock = 1_000_000 + DISCOVERY_DEFAULTS.maxStaleMs - 1;
    expect(await discovery.metadata()).toBe(first);
    await new Promise((resolve) => setTimeout(resolve, 100));
    clock += 1;
    await failure(discovery.metadata());
  });

  test('a caller’s abort ends only its own wait', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    server.answer(async () => {
      await released;
      return metadata();
    });
    const discovery = discover();
    const controller = new AbortController();
    const leaving = discovery.metadata({ signal: controller.signal });
    const staying = discovery.metadata();
    const reason = new Error('caller left');
    controller.abort(reason);
    await expect(leaving).rejects.toBe(reason);
    release();
    expect((await staying).issuer).toBe(issuer);
    expect(server.paths).toHaveLength(1);
    const gone = new AbortController();
    gone.abort(reason);
    await expect(discovery.metadata({ signal: gone.signal })).resolves.toBe(await staying);
  });

  test('a transport that ignores its signal and never answers is given up after timeoutMs, its signal aborted', async () => {
    const signals: AbortSignal[] = [];
    const deaf: HttpClient = {
      send: (request) => {
        signals.push(request.signal);
        return new Promise(() => undefined);
      },
    };
    expect(await failure(discover(deaf, { timeoutMs: 50 }).metadata())).toMatchObject({
      code: 'ERR_TOKEN_TIMEOUT',
      attempts: 1,
    });
    expect(signals.map((signal) => signal.aborted)).toEqual([true]);
  });

  test('close() ends a request whose transport ignores its signal, at once', async () => {
    const signals: AbortSignal[] = [];
    const deaf: HttpClient = {
      send: (request) => {
        signals.push(request.signal);
        return new Promise(() => undefined);
      },
    };
    const discovery = discover(deaf, { timeoutMs: 60_000 });
    const pending = discovery.metadata();
    discovery.close();
    expect(await failure(pending)).toMatchObject({ code: 'ERR_TOKEN_ABORTED' });
    expect(signals.map((signal) => signal.aborted)).toEqual([true]);
  });

  test('close() ends the request in flight and every later call with ERR_TOKEN_ABORTED', async () => {
    server.answer(() => 'hang');
    const discovery = discover();
    const pending = discovery.metadata();
    await new Promise((resolve) => setTimeout(resolve, 50));
    discovery.close();
    expect(await failure(pending)).toMatchObject({ code: 'ERR_TOKEN_ABORTED' });
    const asked = server.paths.length;
    expect(await failure(discovery.metadata())).toMatchObject({ code: 'ERR_TOKEN_ABORTED' });
    expect(server.paths).toHaveLength(asked);
  });
});
