import { describe, expect, test } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { inspect } from 'node:util';
import {
  clientCredentials,
  customProvider,
  jsonProvider,
  marsview,
  refreshTokenGrant,
  singleView,
  symbl,
  type ClientAuthMethod,
  type TokenProvider,
} from '../../lib/index.js';

// Rule 7 on the provider object itself: whatever a user (or a logger, or a crash reporter) does to
// print, serialise, clone or reflect on a provider, no credential comes out. Every factory, every
// `authMethod`: util.inspect with hidden members, JSON.stringify, structuredClone and
// Object.getOwnPropertyDescriptors.

const SECRET = 'a-client-secret-that-must-never-show-0193';
const REFRESH = 'a-refresh-token-that-must-never-show-7781';
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = ec.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const jwk = ec.privateKey.export({ format: 'jwk' });
const pemBody = pem.split('\n')[1]!;
const basic = (id: string, secret: string): string => btoa(`${id}:${secret}`);

interface Case {
  name: string;
  provider: () => TokenProvider;
  secrets: string[];
}

const SECRET_METHODS: ClientAuthMethod[] = [
  'client_secret_basic',
  'client_secret_post',
  'basic',
  'post',
  'client_secret_jwt',
];

const oauthCases = (grant: 'clientCredentials' | 'refreshTokenGrant'): Case[] => {
  const make = (options: Record<string, unknown>): TokenProvider =>
    grant === 'clientCredentials'
      ? clientCredentials({ tokenUrl: 'https://auth.example.com/token', clientId: 'c', ...options })
      : refreshTokenGrant({
          tokenUrl: 'https://auth.example.com/token',
          clientId: 'c',
          refreshToken: REFRESH,
          ...options,
        });
  const extra = grant === 'refreshTokenGrant' ? [REFRESH] : [];
  return [
    ...SECRET_METHODS.map((authMethod) => ({
      name: `${grant} ${authMethod}`,
      provider: () => make({ clientSecret: SECRET, authMethod }),
      secrets: [SECRET, basic('c', SECRET), ...extra],
    })),
    {
      name: `${grant} (authMethod left out)`,
      provider: () => make({ clientSecret: SECRET }),
      secrets: [SECRET, basic('c', SECRET), ...extra],
    },
    {
      name: `${grant} private_key_jwt (PEM)`,
      provider: () => make({ authMethod: 'private_key_jwt', privateKey: pem }),
      secrets: [pemBody, jwk.d!, ...extra],
    },
    {
      name: `${grant} private_key_jwt (JWK)`,
      provider: () => make({ authMethod: 'private_key_jwt', privateKey: jwk }),
      secrets: [pemBody, jwk.d!, ...extra],
    },
  ];
};

const cases: Case[] = [
  { name: 'symbl', provider: () => symbl({ appId: 'app', appSecret: SECRET }), secrets: [SECRET] },
  {
    name: 'marsview',
    provider: () => marsview({ userId: 'u', apiKey: 'k-0042-never-show', apiSecret: SECRET }),
    secrets: [SECRET, 'k-0042-never-show'],
  },
  {
    name: 'singleView',
    provider: () =>
      singleView({ clientId: 'c', clientCode: SECRET, merchantId: 'm', baseURL: 'https://sv.example.com' }),
    secrets: [SECRET],
  },
  {
    name: 'jsonProvider',
    provider: () =>
      jsonProvider({
        name: 'acme',
        tokenUrl: 'https://auth.acme.example/token',
        body: { key: SECRET },
        headers: { 'X-Api-Key': 'acme-key-never-show' },
        token: 'token',
      }),
    secrets: [SECRET, 'acme-key-never-show'],
  },
  {
    name: 'customProvider',
    provider: () => customProvider({ name: 'c', origins: ['https://api.example.com'], getToken: () => SECRET }),
    secrets: [SECRET],
  },
  ...oauthCases('clientCredentials'),
  ...oauthCases('refreshTokenGrant'),
];

const expectNoneOf = (text: string, secrets: readonly string[]): void => {
  for (const secret of secrets) expect(text).not.toContain(secret);
};

describe('a provider object shows no credential, however it is looked at', () => {
  test.each(cases)('$name: util.inspect, even with hidden members and no depth limit', ({ provider, secrets }) => {
    const p = provider();
    expectNoneOf(inspect(p, { showHidden: true, depth: Infinity }), secrets);
    expectNoneOf(inspect(p, { showHidden: true, depth: Infinity, customInspect: false }), secrets);
  });

  test.each(cases)('$name: JSON.stringify', ({ provider, secrets }) => {
    expectNoneOf(JSON.stringify(provider()), secrets);
  });

  test.each(cases)('$name: structuredClone copies no credential (or refuses)', ({ provider, secrets }) => {
    let clone: unknown;
    try {
      clone = structuredClone(provider());
    } catch (error) {
      expect((error as Error).name).toBe('DataCloneError');
      return;
    }
    expectNoneOf(inspect(clone, { showHidden: true, depth: Infinity }), secrets);
  });

  test.each(cases)('$name: Object.getOwnPropertyDescriptors', ({ provider, secrets }) => {
    const descriptors = Object.getOwnPropertyDescriptors(provider());
    expectNoneOf(inspect(descriptors, { showHidden: true, depth: Infinity, customInspect: false }), secrets);
    for (const key of Reflect.ownKeys(descriptors)) {
      const { value } = descriptors[key as keyof typeof descriptors] as PropertyDescriptor;
      expectNoneOf(inspect(value, { showHidden: true, depth: Infinity, customInspect: false }), secrets);
    }
  });
});
