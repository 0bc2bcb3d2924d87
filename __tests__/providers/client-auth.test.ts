import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { inspect } from 'node:util';
import axios from 'axios';
import { attachTokenAuth, clientCredentials, MemoryTokenStore, refreshTokenGrant } from '../../lib/index.js';
import { createTokenFetch } from '../../lib/fetch.js';
import { listenOnLoopback } from '../../lib/testing/listen.js';

// Key-based client authentication and discovery on the OAuth grants: what the factories refuse,
// what never shows, and what a retry, a shared store, a hostile token endpoint or metadata
// document, a hanging one, do to it. Real HTTP servers on 127.0.0.1.

jest.setTimeout(20_000);

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ecPem = ec.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const ecJwk = ec.privateKey.export({ format: 'jwk' });
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const otherPem = other.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
/** The base64 of the PEM, which must never show anywhere. */
const pemBody = ecPem.split('\n')[1]!;
const SECRET = 'a-client-secret-that-must-never-show-up-anywhere';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

/** A loopback server whose answers each test scripts; records every request's path and body. */
let handler: Handler = (_req, _body, res) => res.writeHead(404).end();
const seen: { path: string; body: string; authorization: string | undefined }[] = [];
let origin = '';
const http = createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
  req.on('end', () => {
    seen.push({ path: req.url ?? '', body, authorization: req.headers.authorization });
    handler(req, body, res);
  });
});

beforeAll(async () => {
  origin = `http://127.0.0.1:${await listenOnLoopback(http)}`;
});
afterEach(() => {
  seen.length = 0;
});
afterAll(
  () =>
    new Promise<void>((resolve) => {
      http.closeAllConnections();
      http.close(() => resolve());
    }),
);

const json = (res: ServerResponse, status: number, value: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
};
const tokenAnswer = (res: ServerResponse, token = `t-${seen.length}`): void =>
  json(res, 200, { access_token: token, token_type: 'Bearer', expires_in: 3600 });
const tokenRequests = () => seen.filter((request) => request.path === '/token');
const assertionOf = (body: string) => new URLSearchParams(body).get('client_assertion') ?? '';
const claimsOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
const fastRetries = { minDelayMs: 1, maxDelayMs: 2 };

function keyJwt(extra: Record<string, unknown> = {}) {
  return clientCredentials({
    tokenUrl: `${origin}/token`,
    clientId: 'client-1',
    authMethod: 'private_key_jwt',
    privateKey: ecPem,
    origins: [origin],
    ...extra,
  });
}

/** What an error shows anywhere: message, JSON, util.inspect. */
const shown = (value: unknown): string =>
  `${String(value)} ${JSON.stringify(value)} ${inspect(value, { showHidden: true, depth: Infinity })}`;

function refusal(make: () => unknown): { code: string; message: string } {
  try {
    make();
  } catch (error) {
    expect(error).toBeInstanceOf(TypeError);
    expect(shown(error)).not.toContain(pemBody);
    expect(shown(error)).not.toContain(ecJwk.d);
    expect(shown(error)).not.toContain(SECRET);
    return error as { code: string; message: string };
  }
  throw new Error('expected the factory to throw');
}

describe('the factories refuse, naming the option, with no key material', () => {
  const publicPem = ec.publicKey.export({ type: 'spki', format: 'pem' }) as string;
  const publicJwk = { ...ecJwk, d: undefined };
  test.each([
    ['a public JWK', { privateKey: publicJwk }, /privateKey.*public JWK/],
    ['a public PEM', { privateKey: publicPem }, /privateKey.*public key PEM/],
    [
      'garbage PEM',
      { privateKey: '-----BEGIN PRIVATE KEY-----\nnot base64 at all!!\n-----END PRIVATE KEY-----' },
      /expected `privateKey` to be a PKCS#8 PEM/,
    ],
    ['a wrong algorithm for the key', { alg: 'RS256' }, /`alg` "RS256" does not fit `privateKey`/],
    [
      'no privateKey',
      { privateKey: undefined },
      /expected `privateKey` to be a CryptoKey, a private JWK or a PKCS#8 PEM/,
    ],
    [
      'a clientSecret beside private_key_jwt',
      { clientSecret: SECRET },
      /`clientSecret` is not used with `authMethod` 'private_key_jwt'/,
    ],
    ['both issuer and tokenUrl', { issuer: origin }, /exactly one of `tokenUrl` and `issuer`.*both/],
    ['neither issuer nor tokenUrl', { tokenUrl: undefined }, /exactly one of `tokenUrl` and `issuer`.*neither/],
  ])('%s', (_name, extra, message) => {
    expect(refusal(() => keyJwt(extra)).message).toMatch(message);
  });

  test('a public CryptoKey', async () => {
    const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    expect(refusal(() => keyJwt({ privateKey: pair.publicKey })).message).toMatch(
      /private key, got a public CryptoKey/,
    );
  });

  test('an issuer with a query, a privateKey with client_secret_basic, client_secret_jwt without a secret', () => {
    const base = { clientId: 'c', origins: [origin] };
    expect(
      refusal(() => clientCredentials({ ...base, issuer: `${origin}/?tenant=1`, clientSecret: SECRET })).message,
    ).toMatch(/`issuer` to be a URL without query/);
    expect(
      refusal(() =>
        clientCredentials({ ...base, tokenUrl: `${origin}/token`, clientSecret: SECRET, privateKey: ecPem }),
      ).message,
    ).toMatch(/`privateKey` is not used with `authMethod` 'client_secret_basic'/);
    expect(
      refusal(() =>
        refreshTokenGrant({ ...base, tokenUrl: `${origin}/token`, refreshToken: 'r', authMethod: 'client_secret_jwt' }),
      ).message,
    ).toMatch(/'client_secret_jwt' needs `clientSecret`/);
    expect(
      refusal(() =>
        refreshTokenGrant({
          ...base,
          issuer: origin,
          tokenUrl: `${origin}/token`,
          refreshToken: 'r',
          clientSecret: SECRET,
        }),
      ).message,
    ).toMatch(/exactly one of/);
  });

  test('the provider object shows no key (even util.inspect with hidden members) and no secret (JSON.stringify, util.inspect)', () => {
    for (const provider of [
      keyJwt(),
      keyJwt({ privateKey: ecJwk }),
      clientCredentials({
        tokenUrl: `${origin}/token`,
        clientId: 'c',
        clientSecret: SECRET,
        authMethod: 'client_secret_jwt',
      }),
      refreshTokenGrant({
        issuer: origin,
        clientId: 'c',
        refreshToken: 'r',
        authMethod: 'private_key_jwt',
        privateKey: ecJwk,
        origins: [origin],
      }),
    ]) {
      const text = shown(provider);
      expect(text).not.toContain(pemBody);
      expect(text).not.toContain(ecJwk.d);
      expect(`${JSON.stringify(provider)} ${inspect(provider, { depth: Infinity })}`).not.toContain(SECRET);
    }
  });
});

describe('assertions per attempt', () => {
  test('a retried token request (503, then 200) carries two different assertions, each short-lived', async () => {
    handler = (_req, _body, res) => (tokenRequests().length === 1 ? json(res, 503, {}) : tokenAnswer(res));
    const auth = createTokenFetch({ providers: keyJwt(), tokenRequest: fastRetries });
    try {
      await auth.token();
      const assertions = tokenRequests().map((request) => assertionOf(request.body));
      expect(assertions).toHaveLength(2);
      const [first, second] = assertions.map(claimsOf);
      expect(first!['jti']).not.toBe(second!['jti']);
      for (const claims of [first!, second!]) {
        expect(claims).toMatchObject({ iss: 'client-1', sub: 'client-1', aud: `${origin}/token` });
        expect((claims['exp'] as number) - (claims['iat'] as number)).toBeLessThanOrEqual(300);
      }
      expect(new URLSearchParams(tokenRequests()[0]!.body).get('client_assertion_type')).toBe(
        'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      );
    } finally {
      auth.close();
    }
  });

  test('a token endpoint that echoes the assertion and the client_id in its error: the error shows neither', async () => {
    handler = (_req, body, res) =>
      json(res, 401, { error: 'invalid_client', error_description: `bad assertion ${assertionOf(body)}` });
    const auth = createTokenFetch({ providers: keyJwt(), tokenRequest: fastRetries });
    try {
      const error = await auth.token().catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'ERR_TOKEN_CREDENTIALS' });
      const assertion = assertionOf(tokenRequests()[0]!.body);
      expect(shown(error)).not.toContain(assertion);
      expect(shown(error)).not.toContain(assertion.split('.')[2]);
    } finally {
      auth.close();
    }
  });

  test('a key WebCrypto will not import fails at first use: InvalidOptionError naming privateKey, nothing sent, no key shown', async () => {
    const broken = { ...ecJwk, x: ecJwk.y, y: ecJwk.x }; // well-formed members, not a point of the curve
    const auth = createTokenFetch({ providers: keyJwt({ privateKey: broken }) });
    try {
      const error = await auth.token().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toMatch(/`privateKey` could not be imported/);
      expect(shown(error)).not.toContain(ecJwk.d);
      expect(tokenRequests()).toHaveLength(0);
    } finally {
      auth.close();
    }
  });
});

describe('the cache key tells keys apart', () => {
  test('two handles sharing a store: another key gets its own token, the same key (as PEM) reuses it', async () => {
    handler = (_req, _body, res) => tokenAnswer(res);
    const store = new MemoryTokenStore();
    const handles = [keyJwt(), keyJwt({ privateKey: otherPem }), keyJwt()].map((provider) =>
      createTokenFetch({ providers: provider, store }),
    );
    try {
      const tokens = [];
      for (const handle of handles) tokens.push((await handle.token()).accessToken);
      expect(tokenRequests()).toHaveLength(2);
      expect(tokens[0]).not.toBe(tokens[1]);
      expect(tokens[2]).toBe(tokens[0]);
    } finally {
      for (const handle of handles) handle.close();
    }
  });

  test('two client_secret_jwt secrets get two tokens', async () => {
    handler = (_req, _body, res) => tokenAnswer(res);
    const store = new MemoryTokenStore();
    const make = (clientSecret: string) =>
      createTokenFetch({
        providers: clientCredentials({
          tokenUrl: `${origin}/token`,
          clientId: 'c',
          clientSecret,
          authMethod: 'client_secret_jwt',
          origins: [origin],
        }),
        store,
      });
    const [a, b] = [make(SECRET), make(`${SECRET}-rotated`)];
    try {
      expect((await a.token()).accessToken).not.toBe((await b.token()).accessToken);
      expect(tokenRequests()).toHaveLength(2);
    } finally {
      a.close();
      b.close();
    }
  });
});

describe('discovery, hostile', () => {
  const metadata = (fields: Record<string, unknown>) => (req: IncomingMessage, _body: string, res: ServerResponse) => {
    if (req.url === '/.well-known/oauth-authorization-server') {
      json(res, 200, { issuer: origin, ...fields });
      return;
    }
    if (req.url === '/token') {
      tokenAnswer(res);
      return;
    }
    json(res, 404, {});
  };

  test('a token_endpoint on plain http to another host is ERR_TOKEN_DISCOVERY and no token request', async () => {
    handler = metadata({ token_endpoint: 'http://auth.example.com/token' });
    const auth = createTokenFetch({ providers: keyJwt({ tokenUrl: undefined, issuer: origin }) });
    try {
      await expect(auth.token()).rejects.toMatchObject({ code: 'ERR_TOKEN_DISCOVERY' });
      expect(seen.map((request) => request.path)).toEqual(['/.well-known/oauth-authorization-server']);
    } finally {
      auth.close();
    }
  });

  test('with issuer, a retried token request re-signs but reads the metadata once; 20 cold callers make 1 metadata and 2 token requests', async () => {
    let failed = false;
    handler = (req, body, res) => {
      if (req.url === '/token' && !failed) {
        failed = true;
        json(res, 503, {});
        return;
      }
      metadata({ token_endpoint: `${origin}/token` })(req, body, res);
    };
    const auth = createTokenFetch({
      providers: keyJwt({ tokenUrl: undefined, issuer: origin }),
      tokenRequest: fastRetries,
    });
    try {
      const tokens = await Promise.all(Array.from({ length: 20 }, () => auth.token()));
      expect(new Set(tokens.map((token) => token.accessToken)).size).toBe(1);
      expect(seen.map((request) => request.path)).toEqual([
        '/.well-known/oauth-authorization-server',
        '/token',
        '/token',
      ]);
      const [first, second] = tokenRequests().map((request) => claimsOf(assertionOf(request.body)));
      expect(first!['jti']).not.toBe(second!['jti']);
      expect([first!['aud'], second!['aud']]).toEqual([origin, origin]);
    } finally {
      auth.close();
    }
  });

  test('a metadata URL that never answers: close() ends the wait at once', async () => {
    handler = () => undefined;
    const auth = createTokenFetch({ providers: keyJwt({ tokenUrl: undefined, issuer: origin }) });
    const pending = auth.token().catch((caught: unknown) => caught);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    auth.close();
    const error = await pending;
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(error).toMatchObject({ name: expect.stringMatching(/Error$/) });
    expect(tokenRequests()).toHaveLength(0);
  });

  test('issuer without origins: createTokenFetch and an instance without baseURL refuse it; with a baseURL, that origin alone is served', async () => {
    const provider = () => clientCredentials({ issuer: origin, clientId: 'c', clientSecret: SECRET });
    expect(provider().origins).toEqual([]);
    expect(() => createTokenFetch({ providers: provider() })).toThrow(/needs `origins`/);
    expect(() => attachTokenAuth(axios.create(), { providers: provider() })).toThrow(/needs `origins`/);
    handler = metadata({ token_endpoint: `${origin}/token` });
    const instance = axios.create({ baseURL: 'http://localhost:1' });
    const auth = attachTokenAuth(instance, { providers: provider() });
    try {
      // The issuer's own origin gets no token.
      await instance.get(`${origin}/api`, { validateStatus: () => true });
      expect(seen.find((request) => request.path === '/api')?.authorization).toBeUndefined();
      expect(tokenRequests()).toHaveLength(0);
    } finally {
      auth.eject();
    }
  });
});
