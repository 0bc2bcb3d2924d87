import { describe, expect, test } from '@jest/globals';
import {
  NONCE_DEFAULTS,
  createNonceStore,
  isResourceNonceChallenge,
  isTokenEndpointNonceChallenge,
  nonceForResend,
  readNonce,
} from '../../lib/oauth/dpop-nonce.js';

describe('readNonce', () => {
  test('a DPoP-Nonce of visible ASCII characters is read', () => {
    expect(readNonce({ 'dpop-nonce': 'eyJ7S_zG.~!#$[]' })).toBe('eyJ7S_zG.~!#$[]');
  });

  test.each([
    ['no header', {}],
    ['an empty value', { 'dpop-nonce': '' }],
    ['a space', { 'dpop-nonce': 'a b' }],
    ['a double quote', { 'dpop-nonce': 'a"b' }],
    ['a backslash', { 'dpop-nonce': 'a\\b' }],
    ['a character outside ASCII', { 'dpop-nonce': 'né' }],
    ['a control character', { 'dpop-nonce': 'a\u007fb' }],
  ])('%s is no nonce', (_name, headers: Record<string, string>) => {
    expect(readNonce(headers)).toBeUndefined();
  });

  test('a nonce of the longest length is read, one character longer is not', () => {
    const longest = 'n'.repeat(NONCE_DEFAULTS.maxNonceLength);
    expect(readNonce({ 'dpop-nonce': longest })).toBe(longest);
    expect(readNonce({ 'dpop-nonce': `${longest}n` })).toBeUndefined();
  });
});

describe('the nonce store', () => {
  test('a nonce is kept per origin and served to every path of that origin', () => {
    const nonces = createNonceStore();
    nonces.remember('https://as.example.com/token', { 'dpop-nonce': 'as-1' });
    nonces.remember(new URL('https://api.example.com/v1/a?x=1'), { 'dpop-nonce': 'api-1' });
    expect(nonces.get('https://as.example.com/other')).toBe('as-1');
    expect(nonces.get(new URL('https://api.example.com/v2'))).toBe('api-1');
    expect(nonces.get('https://api.example.com:8443/v2')).toBeUndefined();
    expect(nonces.size).toBe(2);
  });

  test('the latest nonce replaces the previous one; an answer without a valid nonce changes nothing', () => {
    const nonces = createNonceStore();
    nonces.remember('https://api.example.com/a', { 'dpop-nonce': 'one' });
    nonces.remember('https://api.example.com/b', { 'dpop-nonce': 'two' });
    nonces.remember('https://api.example.com/c', {});
    nonces.remember('https://api.example.com/d', { 'dpop-nonce': 'not valid' });
    expect(nonces.get('https://api.example.com/')).toBe('two');
    expect(nonces.size).toBe(1);
  });

  test('past its limit the least recently used origin is forgotten', () => {
    const nonces = createNonceStore({ maxOrigins: 2 });
    nonces.remember('https://a.example', { 'dpop-nonce': 'a' });
    nonces.remember('https://b.example', { 'dpop-nonce': 'b' });
    expect(nonces.get('https://a.example')).toBe('a');
    nonces.remember('https://c.example', { 'dpop-nonce': 'c' });
    expect([nonces.get('https://a.example'), nonces.get('https://b.example'), nonces.get('https://c.example')]).toEqual(
      ['a', undefined, 'c'],
    );
    nonces.remember('https://a.example', { 'dpop-nonce': 'a2' });
    nonces.remember('https://d.example', { 'dpop-nonce': 'd' });
    expect([nonces.get('https://a.example'), nonces.get('https://c.example'), nonces.size]).toEqual([
      'a2',
      undefined,
      2,
    ]);
  });

  test('by default it holds the nonces of a bounded number of origins', () => {
    const nonces = createNonceStore();
    for (let index = 0; index <= NONCE_DEFAULTS.maxOrigins; index++) {
      nonces.remember(`https://host-${index}.example`, { 'dpop-nonce': `n${index}` });
    }
    expect(nonces.size).toBe(NONCE_DEFAULTS.maxOrigins);
    expect(nonces.get('https://host-0.example')).toBeUndefined();
    expect(nonces.get(`https://host-${NONCE_DEFAULTS.maxOrigins}.example`)).toBe(`n${NONCE_DEFAULTS.maxOrigins}`);
  });
});

describe('nonce challenges', () => {
  const json = (body: unknown): string => JSON.stringify(body);

  test.each([
    [400, json({ error: 'use_dpop_nonce', error_description: 'nonce required' }), true],
    [401, json({ error: 'use_dpop_nonce' }), false],
    [400, json({ error: 'invalid_dpop_proof' }), false],
    [400, 'use_dpop_nonce', false],
    [400, json('use_dpop_nonce'), false],
    [400, json(null), false],
    [400, json(['use_dpop_nonce']), false],
    [400, undefined, false],
  ])('a token endpoint answer %i %s is a nonce challenge: %s', (status, body, expected) => {
    expect(isTokenEndpointNonceChallenge({ status, headers: {}, body })).toBe(expected);
  });

  test.each([
    [401, 'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"', true],
    [401, 'Bearer realm="api", DPoP algs="ES256", error="use_dpop_nonce"', true],
    [401, 'dpop error=use_dpop_nonce', true],
    [401, 'Bearer error="use_dpop_nonce"', false],
    [401, 'DPoP error="invalid_token"', false],
    [401, 'DPoP error="USE_DPOP_NONCE"', false],
    [401, 'DPoP algs="ES256"', false],
    [403, 'DPoP error="use_dpop_nonce"', false],
    [400, 'DPoP error="use_dpop_nonce"', false],
  ])('an API answer %i with WWW-Authenticate %s is a nonce challenge: %s', (status, header, expected) => {
    expect(isResourceNonceChallenge({ status, headers: { 'www-authenticate': header } })).toBe(expected);
  });

  test('an API 401 without WWW-Authenticate is no nonce challenge', () => {
    expect(isResourceNonceChallenge({ status: 401, headers: {} })).toBe(false);
  });
});

describe('nonceForResend', () => {
  test.each([
    [
      'a first challenge is re-sent with the nonce it brought',
      { challenge: true, resends: 0, answerNonce: 'new', knownNonce: 'old' },
      'new',
    ],
    [
      'a first challenge without a nonce is re-sent with the origin’s latest',
      { challenge: true, resends: 0, answerNonce: undefined, knownNonce: 'known' },
      'known',
    ],
    [
      'a challenge with no nonce to use stands',
      { challenge: true, resends: 0, answerNonce: undefined, knownNonce: undefined },
      undefined,
    ],
    [
      'a second challenge to one send stands',
      { challenge: true, resends: 1, answerNonce: 'new', knownNonce: 'new' },
      undefined,
    ],
    [
      'an answer that is no challenge stands, whatever nonce it brought',
      { challenge: false, resends: 0, answerNonce: 'new', knownNonce: 'new' },
      undefined,
    ],
  ])('%s', (_name, question, expected) => {
    expect(nonceForResend(question)).toBe(expected);
  });
});
