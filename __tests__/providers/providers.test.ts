import { describe, expect, test } from '@jest/globals';
import { clientCredentials, jsonProvider, marsview, singleView, symbl, type TokenProvider } from '../../lib/index.js';
import { harness, type Harness } from '../helpers/index.js';

/** What the provider sent to its token endpoint, and the token it read from `reply`. */
async function exchange(provider: TokenProvider, reply: [number, unknown]) {
  const h: Harness = harness({ providers: provider }, provider.origins[0]);
  let request: { url?: string | undefined; headers: Record<string, unknown>; data: unknown } | undefined;
  h.tokenMock.onAny().reply((config) => {
    const headers = Object.fromEntries(
      Object.entries((config.headers as { toJSON(): Record<string, unknown> }).toJSON()),
    );
    request = { url: config.url, headers, data: config.data };
    return reply;
  });
  try {
    const token = await h.auth.token();
    return { request: request!, token };
  } finally {
    h.auth.eject();
  }
}

describe('providers speak their vendors’ token APIs', () => {
  test('symbl: POST {baseURL}/oauth2/token:generate with {"type":"application","appId","appSecret"}', async () => {
    const { request, token } = await exchange(symbl({ appId: 'my-app', appSecret: 'my-secret' }), [
      200,
      { accessToken: 'sym', expiresIn: 86400 },
    ]);
    expect(request.url).toBe('https://api.symbl.ai/oauth2/token:generate');
    expect(JSON.parse(String(request.data))).toEqual({ type: 'application', appId: 'my-app', appSecret: 'my-secret' });
    expect(request.headers['Content-Type']).toBe('application/json');
    expect(token).toMatchObject({ accessToken: 'sym', tokenType: 'Bearer' });
  });

  test('marsview: POST {baseURL}/cb/v1/auth/create_access_token, token under data', async () => {
    const { request, token } = await exchange(marsview({ userId: 'u1', apiKey: 'k1', apiSecret: 's1' }), [
      200,
      { status: true, data: { accessToken: 'mv', expiresIn: 3600, tokenType: 'Bearer' } },
    ]);
    expect(request.url).toBe('https://api.marsview.ai/cb/v1/auth/create_access_token');
    expect(JSON.parse(String(request.data))).toEqual({ userId: 'u1', apiKey: 'k1', apiSecret: 's1' });
    expect(token.accessToken).toBe('mv');
  });

  test('singleView: POST {baseURL}/v1/api/observice/token with grantType client_Credentials, token under payload', async () => {
    const provider = singleView({
      clientId: 'c1',
      clientCode: 'cc1',
      merchantId: 'm1',
      baseURL: 'https://sandbox.sv.example/',
    });
    const { request, token } = await exchange(provider, [
      200,
      { success: true, payload: { access_token: 'sv', token_type: 'bearer', expires_in: 3600 } },
    ]);
    expect(request.url).toBe('https://sandbox.sv.example/v1/api/observice/token');
    expect(JSON.parse(String(request.data))).toEqual({
      clientId: 'c1',
      clientCode: 'cc1',
      merchantId: 'm1',
      grantType: 'client_Credentials',
    });
    expect(token).toMatchObject({ accessToken: 'sv', tokenType: 'Bearer' });
  });

  test('clientCredentials: form-encoded grant, client_secret_basic by default, scope and audience', async () => {
    const provider = clientCredentials({
      tokenUrl: 'https://auth.example.com/oauth2/token',
      clientId: 'client id',
      clientSecret: 'p@ss:word',
      scope: ['read', 'write'],
      audience: 'https://api.example.com',
    });
    const { request, token } = await exchange(provider, [
      200,
      { access_token: 'oa', token_type: 'Bearer', expires_in: 60 },
    ]);
    expect(request.url).toBe('https://auth.example.com/oauth2/token');
    expect(request.headers['Content-Type']).toBe('application/x-www-form-urlencoded');
    // RFC 6749 §2.3.1: id and secret are form-encoded, then base64'd.
    expect(request.headers['Authorization']).toBe(`Basic ${Buffer.from('client+id:p%40ss%3Aword').toString('base64')}`);
    expect(Object.fromEntries(new URLSearchParams(String(request.data)))).toEqual({
      grant_type: 'client_credentials',
      scope: 'read write',
      audience: 'https://api.example.com',
    });
    expect(token.accessToken).toBe('oa');
  });

  test('clientCredentials: client_secret_post puts the credentials in the body, and extra params are sent', async () => {
    const provider = clientCredentials({
      tokenUrl: 'https://auth.example.com/token',
      clientId: 'cid',
      clientSecret: 'csecret',
      authMethod: 'post',
      params: { resource: 'https://api.example.com' },
    });
    const { request } = await exchange(provider, [200, { access_token: 'oa', token_type: 'bearer' }]);
    expect(request.headers['Authorization']).toBeUndefined();
    expect(Object.fromEntries(new URLSearchParams(String(request.data)))).toEqual({
      grant_type: 'client_credentials',
      client_id: 'cid',
      client_secret: 'csecret',
      resource: 'https://api.example.com',
    });
  });

  test('clientCredentials: an RFC 6749 §5.2 error body gives the OAuth error as providerCode', async () => {
    // Every credential is scrubbed from vendor text however short, so these are credential-like.
    const h = harness({
      providers: clientCredentials({
        tokenUrl: 'https://auth.example.com/token',
        clientId: 'client-7',
        clientSecret: 'secret-7',
      }),
    });
    h.tokenMock
      .onPost('https://auth.example.com/token')
      .reply(400, { error: 'invalid_scope', error_description: 'scope "x" is unknown' });
    const error = await h.auth.token().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_TOKEN_CREDENTIALS', providerCode: 'invalid_scope', status: 400 });
    expect((error as Error).message).toContain('invalid_scope scope "x" is unknown');
    h.auth.eject();
  });

  test('jsonProvider: any JSON endpoint, declared by where things are', async () => {
    const provider = jsonProvider({
      name: 'acme',
      tokenUrl: 'https://auth.acme.example/v2/session',
      body: { key: 'k', secret: 's', options: { long: true } },
      headers: { 'X-Client': 'tokenflight-test' },
      token: 'result.session.token',
      expiresIn: 'result.session.ttlMs',
      expiresInUnit: 'milliseconds',
      tokenType: 'result.session.kind',
      success: 'ok',
      origins: ['https://api.acme.example'],
    });
    const before = Date.now();
    const { request, token } = await exchange(provider, [
      200,
      { ok: true, result: { session: { token: 'acme-1', ttlMs: 90_000, kind: 'bearer' } } },
    ]);
    expect(request.url).toBe('https://auth.acme.example/v2/session');
    expect(request.headers['X-Client']).toBe('tokenflight-test');
    expect(JSON.parse(String(request.data))).toEqual({ key: 'k', secret: 's', options: { long: true } });
    expect(token.accessToken).toBe('acme-1');
    expect(token.expiresAt! - before).toBeGreaterThanOrEqual(90_000);
    expect(token.expiresAt! - before).toBeLessThan(91_000);
  });

  test('names default per kind and can be overridden; origins default to the base or token URL origin', () => {
    expect(symbl({ appId: 'a', appSecret: 'b' })).toMatchObject({ name: 'symbl', origins: ['https://api.symbl.ai'] });
    expect(marsview({ userId: 'a', apiKey: 'b', apiSecret: 'c' })).toMatchObject({
      name: 'marsview',
      origins: ['https://api.marsview.ai'],
    });
    expect(
      singleView({ clientId: 'a', clientCode: 'b', merchantId: 'c', baseURL: 'https://sv.example/' }),
    ).toMatchObject({
      name: 'singleview',
      origins: ['https://sv.example'],
    });
    expect(clientCredentials({ tokenUrl: 'https://auth.example/t', clientId: 'a', clientSecret: 'b' })).toMatchObject({
      name: 'oauth2',
      origins: ['https://auth.example'],
    });
    expect(symbl({ appId: 'a', appSecret: 'b', name: 'symbl-eu', baseURL: 'https://eu.symbl.example' })).toMatchObject({
      name: 'symbl-eu',
      origins: ['https://eu.symbl.example'],
      tokenUrl: 'https://eu.symbl.example/oauth2/token:generate',
    });
  });
});

describe('providers check their options when they are made', () => {
  const fails = (
    make: () => unknown,
    message: string | RegExp,
    code = expect.stringMatching(/^ERR_INVALID_ARG_(TYPE|VALUE)$/),
  ) => {
    let thrown: unknown;
    try {
      make();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect(thrown).toMatchObject({ code });
    expect((thrown as Error).message).toMatch(message);
  };

  test.each<[string, () => unknown, string | RegExp]>([
    [
      'missing appSecret',
      () => symbl({ appId: 'a' } as never),
      'symbl(): expected `appSecret` to be a non-empty string, got undefined',
    ],
    [
      'empty apiKey',
      () => marsview({ userId: 'u', apiKey: '', apiSecret: 's' }),
      'marsview(): expected `apiKey` to be a non-empty string, got an empty string',
    ],
    [
      'a number as clientCode',
      () => singleView({ clientId: 'a', clientCode: 7 as never, merchantId: 'm', baseURL: 'https://x.example' }),
      'got a number',
    ],
    [
      'SingleView without baseURL',
      () => singleView({ clientId: 'a', clientCode: 'b', merchantId: 'm' } as never),
      'expected `baseURL` to be an absolute http(s) URL, got undefined',
    ],
    [
      'a misspelt option',
      () => symbl({ appId: 'a', appSecret: 'b', appsecret: 'c' } as never),
      'unknown option `appsecret` (did you mean `appSecret`?)',
    ],
    [
      'an unknown option',
      () => symbl({ appId: 'a', appSecret: 'b', retries: 3 } as never),
      /unknown option `retries` \(known options: /,
    ],
    [
      'plain http to a remote host',
      () => symbl({ appId: 'a', appSecret: 'b', baseURL: 'http://api.example.com' }),
      /refusing plain http for `baseURL`/,
    ],
    [
      'an unparseable token URL whose password holds a ?, never shown',
      () =>
        clientCredentials({
          tokenUrl: 'https://id:PW?SECRET@auth.example.com/token',
          clientId: 'a',
          clientSecret: 'b',
        }),
      'expected `tokenUrl` to be an absolute http(s) URL, got "https://"',
    ],
    [
      'a relative token URL',
      () => clientCredentials({ tokenUrl: '/token', clientId: 'a', clientSecret: 'b' }),
      'expected `tokenUrl` to be an absolute http(s) URL, got "/token"',
    ],
    [
      'an origin with a path',
      () => symbl({ appId: 'a', appSecret: 'b', origins: ['https://api.example.com/v1'] }),
      /expected `origins\[0\]` to be an origin/,
    ],
    [
      'an empty origins list',
      () => symbl({ appId: 'a', appSecret: 'b', origins: [] }),
      'expected `origins` to be a non-empty array of origins, got an array',
    ],
    [
      'a bad auth method',
      () =>
        clientCredentials({
          tokenUrl: 'https://a.example/t',
          clientId: 'a',
          clientSecret: 'b',
          authMethod: 'jwt' as never,
        }),
      "clientCredentials(): expected `authMethod` to be one of 'client_secret_basic', 'client_secret_post', 'basic', 'post', 'private_key_jwt', 'client_secret_jwt', got \"jwt\"",
    ],
    [
      'a base URL with a query string',
      () => symbl({ appId: 'a', appSecret: 'b', baseURL: 'https://gw.example/symbl?key=k-0001' }),
      'symbl(): expected `baseURL` to have no query string or fragment (a query string given): the token path "/oauth2/token:generate" is appended to its path',
    ],
    [
      'a base URL with a fragment',
      () => marsview({ userId: 'u', apiKey: 'k', apiSecret: 's', baseURL: 'https://gw.example/mv#x' }),
      /expected `baseURL` to have no query string or fragment \(a fragment given\)/,
    ],
    [
      'jsonProvider without a token path',
      () => jsonProvider({ name: 'x', tokenUrl: 'https://a.example/t' } as never),
      'expected `token` to be a non-empty string',
    ],
    [
      'jsonProvider with a GET body',
      () => jsonProvider({ name: 'x', tokenUrl: 'https://a.example/t', method: 'GET', body: { a: 'b' }, token: 't' }),
      /a body with GET/,
    ],
    [
      'options that are not an object',
      () => symbl('secret' as never),
      'symbl(): expected an options object, got a string',
    ],
  ])('%s is a clear TypeError', (_what, make, message) => {
    fails(make, message);
  });

  test('a base URL with a path keeps it, and the token path goes after it, whatever trailing slashes', () => {
    for (const baseURL of ['https://gw.example/symbl', 'https://gw.example/symbl/', 'https://gw.example/symbl//']) {
      expect(symbl({ appId: 'a', appSecret: 'b', baseURL }).tokenUrl).toBe(
        'https://gw.example/symbl/oauth2/token:generate',
      );
    }
  });

  test('plain http is allowed to loopback hosts, and elsewhere only when asked for explicitly', () => {
    for (const baseURL of ['http://127.0.0.1:8080', 'http://localhost:3000', 'http://[::1]:9000']) {
      expect(symbl({ appId: 'a', appSecret: 'b', baseURL }).tokenUrl).toMatch(/^http:\/\//);
    }
    expect(
      symbl({ appId: 'a', appSecret: 'b', baseURL: 'http://api.internal', allowInsecureHttp: true }).origins,
    ).toEqual(['http://api.internal']);
  });
});
