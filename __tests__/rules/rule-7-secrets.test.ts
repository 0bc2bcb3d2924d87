import { describe, expect, test } from '@jest/globals';
import { inspect } from 'node:util';
import axios from 'axios';
import {
  clientCredentials,
  jsonProvider,
  marsview,
  refreshTokenGrant,
  singleView,
  symbl,
  type TokenAuthEvent,
  type TokenProvider,
} from '../../lib/index.js';
import { simulatedProvider } from '../../lib/testing/index.js';
import { useSimulation } from '../helpers/simulation.js';
import { harness } from '../helpers/index.js';

/** Everything a user might log about an error; `showHidden` for the errors tokenflight builds itself. */
function renderings(error: unknown, { showHidden = true } = {}): string {
  const cause = (error as { cause?: unknown }).cause;
  return [
    String(error),
    (error as Error).stack ?? '',
    JSON.stringify(error),
    inspect(error, { depth: 8 }),
    inspect(error, { depth: 8, showHidden }),
    String(cause),
    inspect(cause, { depth: 8, showHidden }),
    JSON.stringify(cause ?? null),
  ].join('\n');
}

function expectNoneOf(text: string, secrets: readonly string[]): void {
  for (const secret of secrets) expect(text).not.toContain(secret);
}

const SECRET = 'S3cr3t-Value-That-Must-Not-Leak';
/** `publicIds`: identifiers that are not secrets (a client ID, RFC 6749 §2.2): kept in what the vendor said. */
const cases: {
  name: string;
  provider: () => TokenProvider;
  tokenUrl: string;
  secrets: string[];
  publicIds: string[];
}[] = [
  {
    name: 'symbl',
    provider: () => symbl({ appId: 'symbl-app-id-007', appSecret: SECRET }),
    tokenUrl: 'https://api.symbl.ai/oauth2/token:generate',
    secrets: [SECRET],
    publicIds: ['symbl-app-id-007'],
  },
  {
    name: 'marsview',
    provider: () => marsview({ userId: 'mv-user-007', apiKey: 'mv-api-key-007', apiSecret: SECRET }),
    tokenUrl: 'https://api.marsview.ai/cb/v1/auth/create_access_token',
    secrets: ['mv-api-key-007', SECRET],
    publicIds: ['mv-user-007'],
  },
  {
    name: 'singleView',
    provider: () =>
      singleView({
        clientId: 'sv-client-007',
        clientCode: SECRET,
        merchantId: 'sv-merchant-007',
        baseURL: 'https://sv.example.com',
      }),
    tokenUrl: 'https://sv.example.com/v1/api/observice/token',
    secrets: [SECRET],
    publicIds: ['sv-client-007', 'sv-merchant-007'],
  },
  {
    name: 'clientCredentials (basic)',
    provider: () =>
      clientCredentials({
        tokenUrl: 'https://auth.example.com/token',
        clientId: 'oauth-client-007',
        clientSecret: SECRET,
      }),
    tokenUrl: 'https://auth.example.com/token',
    secrets: [SECRET, Buffer.from(`oauth-client-007:${SECRET}`).toString('base64')],
    publicIds: ['oauth-client-007'],
  },
  {
    name: 'clientCredentials (post)',
    provider: () =>
      clientCredentials({
        tokenUrl: 'https://auth.example.com/token',
        clientId: 'oauth-client-007',
        clientSecret: SECRET,
        authMethod: 'post',
      }),
    tokenUrl: 'https://auth.example.com/token',
    secrets: [SECRET],
    publicIds: ['oauth-client-007'],
  },
  {
    name: 'refreshTokenGrant',
    provider: () =>
      refreshTokenGrant({
        tokenUrl: 'https://auth.example.com/token',
        clientId: 'oauth-client-007',
        clientSecret: SECRET,
        refreshToken: 'refresh-token-007-must-not-leak',
      }),
    tokenUrl: 'https://auth.example.com/token',
    secrets: [
      'refresh-token-007-must-not-leak',
      SECRET,
      Buffer.from(`oauth-client-007:${SECRET}`).toString('base64'),
      Buffer.from('refresh-token-007-must-not-leak').toString('base64'),
    ],
    publicIds: ['oauth-client-007'],
  },
  {
    name: 'jsonProvider',
    provider: () =>
      jsonProvider({
        name: 'acme',
        tokenUrl: 'https://auth.acme.example/token',
        body: { key: SECRET },
        headers: { 'X-Api-Key': 'acme-key-007' },
        token: 'token',
      }),
    tokenUrl: 'https://auth.acme.example/token',
    secrets: ['acme-key-007', SECRET],
    publicIds: ['acme'],
  },
];

describe('rule 7: credentials never appear in errors', () => {
  test.each(cases)(
    '$name: a refusal that echoes the secret, a malformed answer and a network error leak nothing',
    async ({ provider, tokenUrl, secrets, publicIds }) => {
      const h = harness({ providers: provider(), tokenRequest: { retries: 0, cooldownMs: 0 } });
      const echo = `invalid credentials: ${secrets.at(-1) ?? ''} / ${secrets[0] ?? ''} for ${publicIds.join(' ')}`;
      h.tokenMock
        .onPost(tokenUrl)
        .replyOnce(401, { message: echo, error: echo, error_description: echo, errorCode: echo });
      h.tokenMock.onPost(tokenUrl).replyOnce(200, `not json ${SECRET}`);
      h.tokenMock.onPost(tokenUrl).networkErrorOnce();
      h.tokenMock.onPost(tokenUrl).timeoutOnce();
      const errors: unknown[] = [];
      for (let i = 0; i < 4; i++) errors.push(await h.auth.token().catch((e: unknown) => e));
      expect(errors.map((e) => (e as { code?: string }).code)).toEqual([
        'ERR_TOKEN_CREDENTIALS',
        'ERR_TOKEN_MALFORMED',
        'ERR_TOKEN_UNAVAILABLE',
        'ERR_TOKEN_TIMEOUT',
      ]);
      for (const error of errors) expectNoneOf(renderings(error), secrets);
      // The vendor's words are kept, with the secrets scrubbed out and the public identifiers left.
      expect((errors[0] as Error).message).toContain(
        `invalid credentials: [REDACTED] / [REDACTED] for ${publicIds.join(' ')}`,
      );
      expectNoneOf(
        JSON.stringify(h.events, (_key, value: unknown) => (value instanceof Error ? renderings(value) : value)),
        secrets,
      );
      h.auth.eject();
    },
  );

  test.each(cases)('$name: printing or serialising the provider shows no credentials', ({ provider, secrets }) => {
    const p = provider();
    expectNoneOf(`${JSON.stringify(p)}\n${inspect(p, { depth: 8 })}\n${p.tokenUrl}`, secrets);
  });

  test('option errors name the option and the kind of value, never the value', () => {
    const attempts = [
      () => symbl({ appId: 'id', appSecret: 12345 as unknown as string }),
      () => symbl({ appId: 'id', appSecret: SECRET, appsecret: SECRET } as unknown as Parameters<typeof symbl>[0]),
      () =>
        clientCredentials({
          tokenUrl: `https://user:${SECRET}@auth.example.com/token`,
          clientId: 'c',
          clientSecret: SECRET,
        }),
      () =>
        clientCredentials({
          tokenUrl: `http://auth.example.com/token?secret=${SECRET}`,
          clientId: 'c',
          clientSecret: SECRET,
        }),
      () => marsview({ userId: 'u', apiKey: SECRET, apiSecret: '' }),
    ];
    for (const attempt of attempts) {
      let thrown: unknown;
      try {
        attempt();
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(TypeError);
      expectNoneOf(renderings(thrown), [SECRET, '12345']);
    }
  });
});

describe('rule 7: the token never appears in the API errors tokenflight lets through', () => {
  const env = useSimulation();

  test.each([
    ['a 401 after its replay', '/api/x', true],
    ['a 500', '/api/status/500', false],
    ['a 403', '/api/status/403', false],
  ])('%s: message, JSON, inspect and the raw request head are masked', async (_what, path, alwaysUnauthorized) => {
    const events: TokenAuthEvent[] = [];
    const api = axios.create({ baseURL: env.sim.symbl.url });
    const auth = env.attach(api, { providers: simulatedProvider(env.sim.symbl), onEvent: (e) => events.push(e) });
    const { accessToken } = await auth.token();
    env.sim.symbl.setApiAlwaysUnauthorized(alwaysUnauthorized);
    const error = await api.post(path, { hello: 'world' }).catch((e: unknown) => e);
    expect(axios.isAxiosError(error)).toBe(true);
    const tokens = env.sim.symbl.tokens.map((t) => t.accessToken);
    expect(tokens).toContain(accessToken);
    expectNoneOf(renderings(error, { showHidden: false }), tokens);
    // The raw request head, Node's header table and follow-redirects' options are scrubbed too.
    const request = (error as { request?: unknown }).request;
    expectNoneOf(inspect(request, { depth: 2, showHidden: true }), tokens);
    expectNoneOf(
      inspect((request as { _redirectable?: unknown })._redirectable, { depth: 2, showHidden: true }),
      tokens,
    );
    expect(String(axios.isAxiosError(error) && error.config?.headers.get('Authorization'))).toBe('Bearer [REDACTED]');
    expectNoneOf(
      JSON.stringify(events, (_key, value: unknown) => (value instanceof Error ? renderings(value) : value)),
      [...tokens, ...Object.values(env.sim.symbl.credentials)],
    );
  });
});
