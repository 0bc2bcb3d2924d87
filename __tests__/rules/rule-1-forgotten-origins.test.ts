import { describe, expect, test } from '@jest/globals';
import axios from 'axios';
import {
  attachTokenAuth,
  clientCredentials,
  customProvider,
  jsonProvider,
  marsview,
  refreshTokenGrant,
  singleView,
  symbl,
  type TokenAuthEvent,
  type TokenAuthLogFields,
  type TokenProvider,
} from '../../lib/index.js';
import { originsWithoutBase } from '../../lib/core/provider-origins.js';
import { CREDS, authOf, mockOf, until } from '../helpers/index.js';

// Rule 1, "forgetting `origins` is not a silent trap": an OAuth grant given no `origins` serves the
// origin of the axios instance's baseURL; without one it keeps its token endpoint's origin, and the
// first request no provider serves is reported (an event, and a warning through `logger`).

const TOKEN_URL = 'https://auth.example.com/oauth2/token';
const API = 'https://api.example.com';

const grant = (extra: Record<string, unknown> = {}): TokenProvider =>
  clientCredentials({ tokenUrl: TOKEN_URL, clientId: 'client', clientSecret: 'secret-SECRET', ...extra });
const refreshGrant = (extra: Record<string, unknown> = {}): TokenProvider =>
  refreshTokenGrant({ tokenUrl: TOKEN_URL, clientId: 'public', refreshToken: 'refresh-1', ...extra });

function setup(provider: TokenProvider | TokenProvider[], baseURL: string | undefined, logged?: [string, string][]) {
  const api = axios.create(baseURL === undefined ? {} : { baseURL });
  const seen: { url: string; authorization: string | undefined }[] = [];
  mockOf(api)
    .onAny()
    .reply((config) => {
      seen.push({ url: `${config.baseURL ?? ''}|${config.url ?? ''}`, authorization: authOf(config) });
      return [200, {}];
    });
  const tokenClient = axios.create();
  let issued = 0;
  mockOf(tokenClient)
    .onPost(TOKEN_URL)
    .reply(() => [200, { access_token: `token-${++issued}`, token_type: 'Bearer', expires_in: 3600 }]);
  const events: TokenAuthEvent[] = [];
  const logger =
    logged === undefined
      ? {}
      : {
          logger: {
            warn: (fields: TokenAuthLogFields, message: string) => logged.push([fields.type, message]),
          },
        };
  const auth = attachTokenAuth(api, {
    providers: provider,
    tokenClient,
    onEvent: (event) => events.push(event),
    ...logger,
  });
  return { api, seen, events, auth, issued: () => issued };
}

describe('rule 1: an OAuth grant given no origins', () => {
  test.each([
    ['clientCredentials', grant],
    ['refreshTokenGrant', refreshGrant],
  ])('%s serves the origin of the instance’s baseURL, not its token endpoint’s', async (_name, make) => {
    const { api, seen, auth } = setup(make(), `${API}/v2`);
    await api.get('/orders');
    await api.get('https://auth.example.com/userinfo');
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer token-1', undefined]);
    auth.eject();
  });

  test('without a baseURL it keeps its token endpoint’s origin, and the first unserved request is reported once', async () => {
    const { api, seen, events, auth } = setup(grant(), undefined);
    await api.get(`${API}/orders`);
    await api.get(`${API}/invoices`);
    await api.get('https://auth.example.com/userinfo');
    expect(seen.map((s) => s.authorization)).toEqual([undefined, undefined, 'Bearer token-1']);
    const unrouted = events.filter((event) => event.type === 'request-unrouted');
    expect(unrouted).toEqual([
      {
        type: 'request-unrouted',
        provider: null,
        origin: API,
        url: `${API}/orders`,
        servedOrigins: ['https://auth.example.com'],
      },
    ]);
    auth.eject();
  });

  test('the first request no provider serves is a warning through the logger, naming the origin and `origins`', async () => {
    const logged: [string, string][] = [];
    const { api, auth } = setup(grant(), undefined, logged);
    await api.get(`${API}/orders`);
    await api.get(`${API}/again`);
    await until(() => logged.length > 0);
    expect(logged).toEqual([['request-unrouted', expect.stringContaining(`no provider serves ${API}`)]]);
    expect(logged[0]?.[1]).toContain('`origins`');
    auth.eject();
  });

  test('origins given as an option win over the baseURL', async () => {
    const { api, seen, auth } = setup(grant({ origins: ['https://other.example.com'] }), API);
    await api.get('/orders');
    await api.get('https://other.example.com/orders');
    expect(seen.map((s) => s.authorization)).toEqual([undefined, 'Bearer token-1']);
    auth.eject();
  });

  test('the baseURL is read when attachTokenAuth runs: a baseURL changed later is not served, and is reported', async () => {
    const { api, seen, events, auth } = setup(grant(), API);
    api.defaults.baseURL = 'https://moved.example.com';
    await api.get('/orders');
    await api.get('/orders', { baseURL: API });
    expect(seen.map((s) => s.authorization)).toEqual([undefined, 'Bearer token-1']);
    expect(events.filter((event) => event.type === 'request-unrouted').map((event) => event.origin)).toEqual([
      'https://moved.example.com',
    ]);
    auth.eject();
  });

  test('two grants given no origins both serve the baseURL: the first by default, the other by name', async () => {
    const { api, seen, auth } = setup([grant({ name: 'first' }), grant({ name: 'second', scope: 'b' })], API);
    await api.get('/a');
    await api.get('/b', { tokenAuth: { provider: 'second' } });
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer token-1', 'Bearer token-2']);
    auth.eject();
  });

  test('a relative baseURL (no origin in Node) keeps the token endpoint’s origin', async () => {
    const { api, seen, auth } = setup(grant(), '/api');
    await api.get('https://auth.example.com/userinfo');
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer token-1']);
    auth.eject();
  });

  test('a plain-http baseURL to another machine is refused at attach time, naming `origins`; loopback and allowInsecureHttp are accepted', () => {
    const api = axios.create({ baseURL: 'http://api.example.com' });
    expect(() => attachTokenAuth(api, { providers: grant() })).toThrow(/no `origins`.*plain http/);
    const withUserInfo = axios.create({ baseURL: 'http://user:pass-SECRET@api.example.com/v1' });
    let refused: unknown;
    try {
      attachTokenAuth(withUserInfo, { providers: grant() });
    } catch (error) {
      refused = error;
    }
    expect((refused as Error).message).toContain('(http://api.example.com)');
    expect((refused as Error).message).not.toContain('SECRET');
    const insecure = attachTokenAuth(axios.create({ baseURL: 'http://api.example.com' }), {
      providers: clientCredentials({
        tokenUrl: TOKEN_URL,
        clientId: 'client',
        clientSecret: 'secret',
        allowInsecureHttp: true,
      }),
    });
    insecure.eject();
    attachTokenAuth(axios.create({ baseURL: 'http://127.0.0.1:8080' }), { providers: grant() }).eject();
  });

  test('a refused attachment leaves a previous one in place', async () => {
    const { api, seen } = setup(grant(), API);
    api.defaults.baseURL = 'http://api.example.com';
    expect(() => attachTokenAuth(api, { providers: grant() })).toThrow('`origins`');
    api.defaults.baseURL = API;
    await api.get('/still');
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer token-1']);
  });
});

describe('rule 1: providers whose origins are not decided by the instance', () => {
  test('a vendor provider keeps the origin of its own base URL whatever the instance’s baseURL', async () => {
    const api = axios.create({ baseURL: 'https://elsewhere.example' });
    const seen: (string | undefined)[] = [];
    mockOf(api)
      .onAny()
      .reply((config) => {
        seen.push(authOf(config));
        return [200, {}];
      });
    const tokenClient = axios.create();
    mockOf(tokenClient).onPost().reply(200, { accessToken: 'token-1', expiresIn: 3600 });
    const auth = attachTokenAuth(api, { providers: symbl(CREDS), tokenClient });
    await api.get('/v1/conversations');
    await api.get('https://api.symbl.ai/v1/conversations');
    expect(seen).toEqual([undefined, 'Bearer token-1']);
    auth.eject();
  });

  test('each provider says where its origins came from', () => {
    const json = { tokenUrl: TOKEN_URL, body: {}, token: 'token' } as const;
    const custom = { name: 'c', origins: [API], getToken: () => 'token' };
    expect({
      clientCredentials: grant().originsFrom,
      clientCredentialsGiven: grant({ origins: [API] }).originsFrom,
      refreshTokenGrant: refreshGrant().originsFrom,
      symbl: symbl(CREDS).originsFrom,
      symblGiven: symbl({ ...CREDS, origins: [API] }).originsFrom,
      marsview: marsview({ userId: 'u', apiKey: 'k', apiSecret: 's' }).originsFrom,
      singleView: singleView({ clientId: 'c', clientCode: 'd', merchantId: 'm', baseURL: API }).originsFrom,
      jsonProvider: jsonProvider({ name: 'j', ...json }).originsFrom,
      customProvider: customProvider(custom).originsFrom,
    }).toEqual({
      clientCredentials: 'instance',
      clientCredentialsGiven: 'option',
      refreshTokenGrant: 'instance',
      symbl: 'endpoint',
      symblGiven: 'option',
      marsview: 'endpoint',
      singleView: 'endpoint',
      jsonProvider: 'endpoint',
      customProvider: 'option',
    });
    expect(grant().origins).toEqual(['https://auth.example.com']);
  });
});

describe('a boundary without a baseURL (the fetch boundary)', () => {
  test('refuses an OAuth grant given no origins with an error naming `origins`, and never the secret', () => {
    for (const provider of [grant(), refreshGrant()]) {
      let error: unknown;
      try {
        originsWithoutBase(provider, 'createTokenFetch()');
      } catch (caught) {
        error = caught;
      }
      expect(error).toMatchObject({ name: 'TypeError', message: expect.stringContaining('needs `origins`') });
      expect((error as Error).message).toContain(`provider "${provider.name}"`);
      expect((error as Error).message).not.toContain('secret-SECRET');
    }
  });

  test('accepts an OAuth grant given origins, and a vendor with its default', () => {
    expect(originsWithoutBase(grant({ origins: [API] }), 'createTokenFetch()')).toEqual([API]);
    expect(originsWithoutBase(symbl(CREDS), 'createTokenFetch()')).toEqual(['https://api.symbl.ai']);
  });
});
