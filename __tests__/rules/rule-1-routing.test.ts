import { afterEach, describe, expect, test } from '@jest/globals';
import axios, { type AxiosRequestConfig } from 'axios';
import { jsonProvider, symbl } from '../../lib/index.js';
import { simulatedProvider } from '../../lib/testing/index.js';
import { useSimulation } from '../helpers/simulation.js';
import { CREDS, SYMBL_TOKEN_URL, authOf, harness, issueSequentialTokens, type Harness } from '../helpers/index.js';

describe('rule 1: a token goes only to its provider’s origins', () => {
  let h: Harness;
  const seen: { url: string | undefined; authorization: string | undefined }[] = [];

  afterEach(() => {
    h.auth.eject();
    seen.length = 0;
  });

  function setup(baseURL = 'https://api.symbl.ai'): void {
    h = harness({}, baseURL);
    issueSequentialTokens(h.tokenMock);
    h.apiMock.onAny().reply((config) => {
      seen.push({ url: config.url, authorization: authOf(config) });
      return [200, { ok: true }];
    });
  }

  test('a relative URL on the provider’s baseURL carries the token', async () => {
    setup();
    await h.api.get('/v1/conversations');
    expect(seen).toEqual([{ url: '/v1/conversations', authorization: 'Bearer token-1' }]);
  });

  test.each([
    ['an absolute URL to another host', 'https://evil.example/steal'],
    ['a protocol-relative URL to another host', '//evil.example/steal'],
    ['a lookalike host that ends with the provider’s host', 'https://api.symbl.ai.evil.example/x'],
    ['user info that hides another host', 'https://api.symbl.ai@evil.example/x'],
    ['the provider’s host on another port', 'https://api.symbl.ai:8443/x'],
    ['the provider’s host over plain http', 'http://api.symbl.ai/x'],
  ])('%s carries no token, even with the provider’s baseURL', async (_what, url) => {
    setup();
    await h.api.get(url);
    expect(seen).toEqual([{ url, authorization: undefined }]);
    expect(h.tokenCalls()).toBe(0);
  });

  test('an absolute URL on the provider’s origin carries the token whatever the baseURL', async () => {
    setup('https://elsewhere.example');
    await h.api.get('https://api.symbl.ai/v1/x');
    await h.api.get('/not-symbl');
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer token-1', undefined]);
  });

  test('allowAbsoluteUrls: false resolves as axios does: the URL is appended to the baseURL', async () => {
    setup();
    await h.api.get('https://evil.example/x', { allowAbsoluteUrls: false });
    expect(seen[0]?.authorization).toBe('Bearer token-1');
  });

  test('a relative URL without a baseURL carries no token (in Node it has no origin)', async () => {
    h = harness({}, '');
    h.apiMock.onAny().reply((config) => [200, { authorization: authOf(config) ?? null }]);
    const { data } = await h.api.get('/v1/x');
    expect(data).toEqual({ authorization: null });
    expect(h.tokenCalls()).toBe(0);
  });

  test.each([
    ['written with slashes', 'https://user:SECRET@evil.example/x', 'https://evil.example'],
    // Not absolute for axios (no `//`): without a page, it has no origin.
    ['written without slashes, as URL parsers accept it', 'https:user:SECRET@evil.example/x', null],
  ])('the event of a request no provider serves never shows its user info, %s', async (_what, url, origin) => {
    h = harness({}, '');
    h.apiMock.onAny().reply(200);
    await h.api.get(url);
    const unrouted = h.events.filter((event) => event.type === 'request-unrouted');
    expect(unrouted).toEqual([expect.objectContaining({ origin, url: 'https://evil.example/x' })]);
    expect(JSON.stringify(h.events)).not.toContain('SECRET');
  });

  test('tokenAuth: false sends the request without a token and fetches none', async () => {
    setup();
    await h.api.get('/health', { tokenAuth: false });
    expect(seen).toEqual([{ url: '/health', authorization: undefined }]);
    expect(h.tokenCalls()).toBe(0);
  });

  test('extra origins listed by a provider carry its token', async () => {
    h = harness({ providers: symbl({ ...CREDS, origins: ['https://api.symbl.ai', 'https://eu.symbl.ai'] }) });
    issueSequentialTokens(h.tokenMock);
    h.apiMock.onAny().reply((config) => [200, { authorization: authOf(config) ?? null }]);
    const { data } = await h.api.get('https://eu.symbl.ai/v1/x');
    expect(data).toEqual({ authorization: 'Bearer token-1' });
  });
});

describe('rule 1: several providers on one instance', () => {
  const acmeToken = 'https://auth.acme.example/token';
  let h: Harness;
  afterEach(() => h.auth.eject());

  function twoProviders(acmeOrigins = ['https://api.acme.example']): void {
    h = harness({
      providers: [
        symbl(CREDS),
        jsonProvider({
          name: 'acme',
          tokenUrl: acmeToken,
          body: { key: 'k-123456' },
          token: 'token',
          origins: acmeOrigins,
        }),
      ],
    });
    issueSequentialTokens(h.tokenMock);
    h.tokenMock.onPost(acmeToken).reply(200, { token: 'acme-token' });
    h.apiMock.onAny().reply((config) => [200, { authorization: authOf(config) ?? null }]);
  }

  test('each request gets the token of the provider that serves its origin', async () => {
    twoProviders();
    const [a, b] = await Promise.all([h.api.get('https://api.symbl.ai/x'), h.api.get('https://api.acme.example/y')]);
    expect(a.data).toEqual({ authorization: 'Bearer token-1' });
    expect(b.data).toEqual({ authorization: 'Bearer acme-token' });
  });

  test('when two providers serve one origin, the first is the default and tokenAuth.provider picks the other', async () => {
    twoProviders(['https://api.symbl.ai']);
    const plain = await h.api.get('/x');
    const picked = await h.api.get('/x', { tokenAuth: { provider: 'acme' } });
    expect(plain.data).toEqual({ authorization: 'Bearer token-1' });
    expect(picked.data).toEqual({ authorization: 'Bearer acme-token' });
  });

  test('asking for a provider that does not serve the origin is refused before anything is sent', async () => {
    twoProviders();
    await expect(h.api.get('/x', { tokenAuth: { provider: 'acme' } })).rejects.toThrow(
      'provider "acme" does not serve https://api.symbl.ai',
    );
    await expect(h.api.get('/x', { tokenAuth: { provider: 'nope' } })).rejects.toThrow(
      'no provider named "nope" is attached',
    );
    expect(h.apiMock.history).toHaveLength(0);
    expect(h.tokenMock.history).toHaveLength(0);
  });
});

describe('rule 1: redirects never carry the token to another origin', () => {
  const env = useSimulation();

  test('a 307 to another origin arrives there without the token, and its 401 does not refresh ours', async () => {
    const api = axios.create({ baseURL: env.sim.symbl.url });
    env.attach(api, { providers: simulatedProvider(env.sim.symbl) });
    const target = `${env.sim.marsview.url}/api/echo`;
    const error: unknown = await api.get(`/api/redirect?to=${encodeURIComponent(target)}`).catch((e: unknown) => e);
    expect(axios.isAxiosError(error) && error.response?.status).toBe(401);
    const atTarget = env.sim.marsview.requests.filter((request) => request.path === '/api/echo');
    expect(atTarget).toHaveLength(1);
    expect(atTarget[0]?.authorization).toBeUndefined();
    // The other origin's 401 is not a verdict on the symbl token: no refresh, no replay.
    expect(env.sim.symbl.stats.tokenRequests).toBe(1);
    expect(env.sim.marsview.requests).toHaveLength(1);
  });

  test('a redirect within the same origin keeps the token', async () => {
    const api = axios.create({ baseURL: env.sim.symbl.url });
    env.attach(api, { providers: simulatedProvider(env.sim.symbl) });
    const { data } = await api.get(`/api/redirect?to=${encodeURIComponent('/api/landed')}`);
    expect(data).toMatchObject({ ok: true, path: '/api/landed' });
    const landed = env.sim.symbl.requests.find((request) => request.path === '/api/landed');
    expect(landed?.authorization).toMatch(/^Bearer /);
  });

  test('the redirect guard strips the token on any change of origin (subdomain, scheme, port) and keeps the user’s hook', async () => {
    const h = harness();
    issueSequentialTokens(h.tokenMock);
    const userHookCalls: string[] = [];
    let config: AxiosRequestConfig | undefined;
    h.apiMock.onAny().reply((c) => {
      config = c;
      return [200, {}];
    });
    await h.api.get('/x', { beforeRedirect: (options) => void userHookCalls.push(String(options['href'])) });
    const guard = config?.beforeRedirect as unknown as (o: Record<string, unknown>, r: unknown, q: unknown) => void;
    const hop = (href: string) => {
      const options = { href, headers: { Authorization: 'Bearer token-1', Accept: '*/*' } };
      guard(options, { headers: {}, statusCode: 302 }, { url: 'https://api.symbl.ai/x' });
      return options.headers;
    };
    expect(hop('https://api.symbl.ai/y')).toHaveProperty('Authorization', 'Bearer token-1');
    for (const href of [
      'https://sub.api.symbl.ai/y',
      'http://api.symbl.ai/y',
      'https://api.symbl.ai:444/y',
      'https://evil.example/',
    ]) {
      expect(hop(href)).toEqual({ Accept: '*/*' });
    }
    expect(userHookCalls).toHaveLength(5);
    expect(h.tokenMock.history[0]?.url).toBe(SYMBL_TOKEN_URL);
    h.auth.eject();
  });
});

describe('rule 1: the Authorization header', () => {
  test('replaces an Authorization header set in any case, so it is never sent twice', async () => {
    const h = harness();
    issueSequentialTokens(h.tokenMock);
    h.api.defaults.headers.common['authorization'] = 'Basic stale';
    let sent: Record<string, unknown> = {};
    h.apiMock.onGet('/x').reply((config) => {
      sent = (config.headers as { toJSON(): Record<string, unknown> }).toJSON();
      return [200, {}];
    });
    await h.api.get('/x', { headers: { AUTHORIZATION: 'Basic also-stale' } });
    const names = Object.keys(sent).filter((name) => name.toLowerCase() === 'authorization');
    expect(names).toHaveLength(1);
    expect(sent[names[0]!]).toBe('Bearer token-1');
    h.auth.eject();
  });
});
