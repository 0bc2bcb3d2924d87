import { createHash } from 'node:crypto';
import { describe, expect, jest, test } from '@jest/globals';
import {
  createDpopBinding,
  dpopKeyId,
  isDpopBound,
  keptUnlessFailed,
  keyWithThumbprint,
  proofForSend,
  shouldResendWithNonce,
  type DpopBinding,
  type DpopBindingOptions,
} from '../../lib/core/dpop.js';
import { createDpopKeySource, readDpopOption } from '../../lib/oauth/dpop-key.js';
import { createNonceStore } from '../../lib/oauth/dpop-nonce.js';
import { thumbprintOf } from '../oauth/helpers/dpop-api.js';
import { dpopOutcome } from '../../lib/providers/token-request/dpop.js';
import type { Failure, Issued } from '../../lib/providers/token-request/types.js';

const NOW = 1_700_000_000_987;
const claimsOf = (jws: string, index = 1): Record<string, unknown> =>
  JSON.parse(Buffer.from(jws.split('.')[index] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
const sha256 = (text: string): string => createHash('sha256').update(text).digest('base64url');
const hex = (text: string): string => createHash('sha256').update(text).digest('hex');

function binding(over: Partial<DpopBindingOptions> = {}): DpopBinding {
  const settings = readDpopOption(true, 'test()')!;
  return createDpopBinding({
    settings,
    context: 'test()',
    shared: createDpopKeySource(settings, 'test()'),
    store: {},
    id: Promise.resolve('provider-id'),
    nonces: createNonceStore(),
    serverAlgs: () => Promise.resolve(undefined),
    now: () => NOW,
    ...over,
  });
}

const answer = (status: number, headers: Record<string, string>) => ({
  status,
  header: (name: string) => headers[name],
});

describe('createDpopBinding', () => {
  test('a token proof claims htm, htu without query or fragment, iat in seconds, the origin nonce, and no ath', async () => {
    const dpop = binding();
    dpop.nonces.remember('https://as.example.test/x', { 'dpop-nonce': 'n-1' });
    const proof = await dpop.tokenProof('POST', 'https://as.example.test/token?a=1#f');
    const claims = claimsOf(proof);
    expect(claims).toEqual({
      jti: expect.any(String),
      htm: 'POST',
      htu: 'https://as.example.test/token',
      iat: Math.floor(NOW / 1000),
      nonce: 'n-1',
    });
    const header = claimsOf(proof, 0);
    expect(header['typ']).toBe('dpop+jwt');
    expect(header['alg']).toBe('ES256');
    expect(thumbprintOf(header['jwk'] as Record<string, unknown>)).toBe((await dpop.key()).thumbprint);
  });

  test('a resource proof carries ath, the SHA-256 of the token, and a new jti for every send', async () => {
    const dpop = binding();
    const first = claimsOf(await dpop.resourceProof('get', 'https://api.example.test/v1?q', 'tok-1'));
    const second = claimsOf(await dpop.resourceProof('GET', 'https://api.example.test/v1', 'tok-1'));
    const third = claimsOf(await dpop.resourceProof('GET', 'https://api.example.test/v1', 'tok-2'));
    expect(first['ath']).toBe(sha256('tok-1'));
    expect(second['ath']).toBe(sha256('tok-1'));
    expect(third['ath']).toBe(sha256('tok-2'));
    expect(first['htm']).toBe('GET');
    expect(first['nonce']).toBeUndefined();
    expect(new Set([first['jti'], second['jti'], third['jti']]).size).toBe(3);
  });

  test('the key is made once and shared by every proof; its algorithm may come from the server', async () => {
    const serverAlgs = jest.fn(() => Promise.resolve(['EdDSA'] as readonly string[]));
    const dpop = binding({ serverAlgs });
    const [a, b] = await Promise.all([dpop.key(), dpop.key()]);
    expect(a).toBe(b);
    expect(a.alg).toBe('EdDSA');
    expect(claimsOf(await dpop.tokenProof('POST', 'https://as.example.test/t'), 0)['alg']).toBe('EdDSA');
  });

  test('required comes from the settings', () => {
    expect(binding().required).toBe(false);
    const settings = readDpopOption({ required: true }, 'test()')!;
    expect(binding({ settings, shared: createDpopKeySource(settings, 'test()') }).required).toBe(true);
  });

  test("a store with keyPair keeps the pair under the provider's id; without one, the provider's own key is used", async () => {
    const settings = readDpopOption(true, 'test()')!;
    const shared = createDpopKeySource(settings, 'test()');
    const made: CryptoKeyPair[] = [];
    const keyPair = jest.fn(async (_id: string, create: () => Promise<CryptoKeyPair>) => {
      made.push(await create());
      return made[0]!;
    });
    const viaStore = binding({ settings, shared, store: { keyPair } });
    const own = binding({ settings, shared });
    const [storeKey, ownKey, again] = await Promise.all([
      viaStore.key(),
      own.key(),
      binding({ settings, shared }).key(),
    ]);
    expect(keyPair).toHaveBeenCalledWith('provider-id', expect.any(Function));
    expect(made[0]?.privateKey.extractable).toBe(false);
    expect(storeKey.thumbprint).not.toBe(ownKey.thumbprint);
    expect(again).toBe(ownKey);
  });

  test("a given keyPair wins over the store's", async () => {
    const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    const settings = readDpopOption({ keyPair: pair }, 'test()')!;
    const keyPair = jest.fn();
    const dpop = binding({ settings, shared: createDpopKeySource(settings, 'test()'), store: { keyPair } as never });
    const key = await dpop.key();
    expect(keyPair).not.toHaveBeenCalled();
    expect(key.thumbprint).toBe(
      thumbprintOf((await crypto.subtle.exportKey('jwk', pair.publicKey)) as Record<string, unknown>),
    );
  });

  test("a store's pair that is not a key pair is refused with an error naming it", async () => {
    const dpop = binding({ store: { keyPair: () => Promise.resolve({ privateKey: {}, publicKey: {} }) } });
    await expect(dpop.key()).rejects.toThrow("the store's DPoP key pair");
  });
});

describe('dpopKeyId and keyWithThumbprint', () => {
  test('the key id is a hash of the token URL and the client ID', async () => {
    const id = await dpopKeyId('https://as.example.test/token', 'client-1');
    expect(id).toBe(hex(JSON.stringify(['tokenflight/dpop-key/v1', 'https://as.example.test/token', 'client-1'])));
    expect(await dpopKeyId('https://as.example.test/token', 'client-2')).not.toBe(id);
  });

  test('the cache key binds the base key to the thumbprint', async () => {
    const dpop = binding();
    const { thumbprint } = await dpop.key();
    const key = await keyWithThumbprint(Promise.resolve('base'), dpop);
    expect(key).toBe(hex(JSON.stringify(['base', { jkt: thumbprint }])));
    expect(await keyWithThumbprint(Promise.resolve('base'), binding())).not.toBe(key);
  });
});

describe('keptUnlessFailed', () => {
  test('makes once and keeps the promise', async () => {
    const make = jest.fn(() => Promise.resolve(1));
    const get = keptUnlessFailed(make);
    expect(get()).toBe(get());
    await get();
    expect(make).toHaveBeenCalledTimes(1);
  });

  test('a failure is not kept: the next call makes it again', async () => {
    let calls = 0;
    const get = keptUnlessFailed(() => (++calls === 1 ? Promise.reject(new Error('no')) : Promise.resolve(calls)));
    await expect(get()).rejects.toThrow('no');
    await expect(get()).resolves.toBe(2);
    await expect(get()).resolves.toBe(2);
  });
});

describe('proofForSend', () => {
  test('a proof only for a DPoP-bound token of a provider with DPoP', async () => {
    const dpop = binding();
    expect(proofForSend(undefined, { tokenType: 'DPoP', accessToken: 't' }, 'GET', 'https://a.test/')).toBeUndefined();
    expect(proofForSend(dpop, { tokenType: 'Bearer', accessToken: 't' }, 'GET', 'https://a.test/')).toBeUndefined();
    const proof = await proofForSend(dpop, { tokenType: 'DPoP', accessToken: 't' }, 'GET', 'https://a.test/x');
    expect(claimsOf(proof ?? '')['ath']).toBe(sha256('t'));
    expect(isDpopBound({ tokenType: 'DPoP' })).toBe(true);
    expect(isDpopBound({ tokenType: 'dpop' })).toBe(false);
  });

  test("the binding's proofForSend is the boundaries' way to it: a proof for a DPoP-bound token, none for a Bearer one", async () => {
    const dpop = binding();
    expect(dpop.proofForSend({ tokenType: 'Bearer', accessToken: 't' }, 'GET', 'https://a.test/')).toBeUndefined();
    const proof = await dpop.proofForSend({ tokenType: 'DPoP', accessToken: 't' }, 'PUT', 'https://a.test/x?q=1');
    expect(claimsOf(proof ?? '')).toMatchObject({ htm: 'PUT', htu: 'https://a.test/x', ath: sha256('t') });
  });
});

describe('shouldResendWithNonce', () => {
  const url = 'https://api.example.test/v1/items';
  const challenge = { 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'dpop-nonce': 'n-2' };

  test('every answer’s nonce is remembered for its origin, whatever its status', () => {
    const dpop = binding();
    expect(shouldResendWithNonce(dpop, url, answer(200, { 'dpop-nonce': 'n-1' }), 0)).toBe(false);
    expect(dpop.nonces.get('https://api.example.test/other')).toBe('n-1');
    expect(shouldResendWithNonce(dpop, url, answer(500, { 'dpop-nonce': 'n-5' }), 0)).toBe(false);
    expect(dpop.nonces.get(url)).toBe('n-5');
  });

  test('a nonce challenge with a nonce is sent once more, once', () => {
    const dpop = binding();
    expect(shouldResendWithNonce(dpop, url, answer(401, challenge), 0)).toBe(true);
    expect(dpop.nonces.get(url)).toBe('n-2');
    expect(shouldResendWithNonce(dpop, url, answer(401, challenge), 1)).toBe(false);
  });

  test('a challenge without a usable nonce, another error, or no DPoP is not re-sent', () => {
    const dpop = binding();
    expect(
      shouldResendWithNonce(dpop, url, answer(401, { 'www-authenticate': 'DPoP error="use_dpop_nonce"' }), 0),
    ).toBe(false);
    expect(
      shouldResendWithNonce(
        dpop,
        url,
        answer(401, { 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'dpop-nonce': 'bad nonce' }),
        0,
      ),
    ).toBe(false);
    expect(
      shouldResendWithNonce(
        dpop,
        url,
        answer(401, { 'www-authenticate': 'DPoP error="invalid_token"', 'dpop-nonce': 'n' }),
        0,
      ),
    ).toBe(false);
    expect(shouldResendWithNonce(dpop, url, answer(400, challenge), 0)).toBe(false);
    expect(shouldResendWithNonce(undefined, url, answer(401, challenge), 0)).toBe(false);
  });

  test('a challenge without its own nonce is re-sent with the origin’s known one', () => {
    const dpop = binding();
    dpop.nonces.remember(url, { 'dpop-nonce': 'known' });
    expect(
      shouldResendWithNonce(dpop, url, answer(401, { 'www-authenticate': 'DPoP error="use_dpop_nonce"' }), 0),
    ).toBe(true);
  });
});

describe('dpopOutcome: a token endpoint answer under DPoP', () => {
  const issued = (tokenType: string, refreshToken?: string): Issued => ({
    token: { accessToken: 'a', tokenType, expiresAt: null, obtainedAt: 1 },
    refreshToken,
  });
  const refused: Failure = { code: 'ERR_TOKEN_CREDENTIALS', detail: 'refused', retryable: false, status: 400 };
  const response = (status: number, body: string) => ({ status, headers: {}, body });
  const required = (): DpopBinding => {
    const settings = readDpopOption({ required: true }, 'test()')!;
    return binding({ settings, shared: createDpopKeySource(settings, 'test()') });
  };

  test('a 400 use_dpop_nonce is a nonce challenge; another refusal is not', () => {
    expect(dpopOutcome(refused, response(400, '{"error":"use_dpop_nonce"}'), binding())).toEqual({
      ...refused,
      nonceChallenge: true,
    });
    expect(dpopOutcome(refused, response(400, '{"error":"invalid_client"}'), binding())).toBe(refused);
  });

  test('a DPoP token in any case is written DPoP', () => {
    const outcome = dpopOutcome(issued('dpop'), response(200, '{}'), binding()) as Issued;
    expect(outcome.token.tokenType).toBe('DPoP');
  });

  test('a Bearer token is kept as it is, unless required: then refused, keeping a rotated refresh token', () => {
    const bearer = issued('Bearer');
    expect(dpopOutcome(bearer, response(200, '{}'), binding())).toBe(bearer);
    expect(dpopOutcome(bearer, response(200, '{}'), required())).not.toHaveProperty('refreshToken');
    expect(dpopOutcome(bearer, response(200, '{}'), required())).toEqual({
      code: 'ERR_TOKEN_NOT_DPOP_BOUND',
      detail: expect.stringContaining('issued a Bearer token, not a DPoP-bound one') as unknown,
      retryable: false,
      status: 200,
    });
    expect(dpopOutcome(issued('Bearer', 'rt-2'), response(200, '{}'), required())).toMatchObject({
      code: 'ERR_TOKEN_NOT_DPOP_BOUND',
      refreshToken: 'rt-2',
    });
  });
});
