import { createHash, createPublicKey, constants, verify, type JsonWebKey as NodeJwk } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, jest, test } from '@jest/globals';
import { chooseDpopAlgorithm, createDpopKeySource, readDpopOption, type DpopKey } from '../../lib/oauth/dpop-key.js';
import { accessTokenHash, createAthCache, createDpopProof, proofMethod, proofUrl } from '../../lib/oauth/dpop-proof.js';
import type { AsymmetricAlgorithm } from '../../lib/oauth/jws.js';
import { thumbprintOf } from './helpers/dpop-api.js';

const NOW = 1_700_000_000_987;
const segment = (jws: string, index: number): Record<string, unknown> =>
  JSON.parse(Buffer.from(jws.split('.')[index] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;

/** Counting bytes: each call fills its array with the next value, so jtis are known in advance. */
function countingBytes() {
  let next = 0;
  return (length: number): Uint8Array => new Uint8Array(length).fill(next++);
}
const context = { now: () => NOW, randomBytes: countingBytes() };

function verifies(jws: string, jwk: Record<string, unknown>, alg: string): boolean {
  const [header, payload, signature] = jws.split('.') as [string, string, string];
  const key = createPublicKey({ key: jwk as NodeJwk, format: 'jwk' });
  const data = Buffer.from(`${header}.${payload}`);
  const sig = Buffer.from(signature, 'base64url');
  if (alg === 'EdDSA') return verify(null, data, key, sig);
  if (alg === 'ES256') return verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, sig);
  if (alg === 'PS256')
    return verify('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig);
  return verify('sha256', data, key, sig);
}

const keys = new Map<AsymmetricAlgorithm, Promise<DpopKey>>();
const keyFor = (alg: AsymmetricAlgorithm): Promise<DpopKey> => {
  if (!keys.has(alg)) keys.set(alg, createDpopKeySource(readDpopOption({ alg }, 'test')!, 'test').key());
  return keys.get(alg)!;
};

describe('createDpopProof', () => {
  test('a proof names typ, alg and the public key, and claims jti, htm, htu and iat, and nothing else', async () => {
    const key = await keyFor('ES256');
    const proof = await createDpopProof(
      key,
      { method: 'post', url: 'https://AS.example.com:443/token?x=1#y' },
      { now: () => NOW, randomBytes: countingBytes() },
    );
    expect(segment(proof, 0)).toEqual({
      typ: 'dpop+jwt',
      alg: 'ES256',
      jwk: { kty: 'EC', crv: 'P-256', x: key.jwk['x'], y: key.jwk['y'] },
    });
    expect(segment(proof, 1)).toEqual({
      jti: Buffer.alloc(16, 0).toString('base64url'),
      htm: 'POST',
      htu: 'https://as.example.com/token',
      iat: Math.floor(NOW / 1000),
    });
  });

  test('a proof carries the nonce and ath it was given', async () => {
    const proof = await createDpopProof(
      await keyFor('ES256'),
      { method: 'GET', url: 'https://api.example.com/v1', nonce: 'n-1', ath: 'hash' },
      context,
    );
    expect(segment(proof, 1)).toMatchObject({ nonce: 'n-1', ath: 'hash' });
  });

  test('every proof has a new jti of 128 random bits', async () => {
    const key = await keyFor('ES256');
    const random = jest.fn(countingBytes());
    const request = { method: 'GET', url: 'https://api.example.com/v1' };
    const [first, second] = await Promise.all([
      createDpopProof(key, request, { now: () => NOW, randomBytes: random }),
      createDpopProof(key, request, { now: () => NOW, randomBytes: random }),
    ]);
    expect(random.mock.calls).toEqual([[16], [16]]);
    expect(segment(first, 1)['jti']).not.toBe(segment(second, 1)['jti']);
  });

  test.each(['ES256', 'EdDSA', 'RS256', 'PS256'] as const)(
    'a %s proof verifies with the public key it carries',
    async (alg) => {
      const key = await keyFor(alg);
      const proof = await createDpopProof(key, { method: 'GET', url: 'https://api.example.com/v1' }, context);
      const header = segment(proof, 0);
      expect(header['alg']).toBe(alg);
      expect(verifies(proof, header['jwk'] as Record<string, unknown>, alg)).toBe(true);
      expect(Object.keys(header['jwk'] as object).sort()).toEqual(
        alg === 'ES256' ? ['crv', 'kty', 'x', 'y'] : alg === 'EdDSA' ? ['crv', 'kty', 'x'] : ['e', 'kty', 'n'],
      );
    },
  );
});

describe('the proof header, encoded once per key', () => {
  test('proofs of two keys, made in turn, each carry their own key and alg, and verify with it', async () => {
    const [es, ed] = await Promise.all([keyFor('ES256'), keyFor('EdDSA')]);
    const request = { method: 'GET', url: 'https://api.example.com/v1' };
    for (let round = 0; round < 2; round++) {
      for (const [key, alg] of [
        [es, 'ES256'],
        [ed, 'EdDSA'],
      ] as const) {
        const proof = await createDpopProof(key, request, context);
        expect(segment(proof, 0)).toEqual({ typ: 'dpop+jwt', alg, jwk: key.jwk });
        expect(verifies(proof, key.jwk, alg)).toBe(true);
      }
    }
  });
});

describe('htu and htm', () => {
  test.each([
    ['https://API.Example.COM:443/a/b?x=1#y', 'https://api.example.com/a/b'],
    ['http://127.0.0.1:80', 'http://127.0.0.1/'],
    ['https://user:pass@api.example.com/p', 'https://api.example.com/p'],
    ['https://api.example.com:8443/p/', 'https://api.example.com:8443/p/'],
    ['https://api.example.com/a%2fb/c d', 'https://api.example.com/a%2fb/c%20d'],
    ['https://api.example.com/a/../b/./c', 'https://api.example.com/b/c'],
    ['https://api.example.com?only=query', 'https://api.example.com/'],
  ])('the htu of %s is %s', (url, htu) => {
    expect(proofUrl(url)).toBe(htu);
    expect(proofUrl(new URL(url))).toBe(htu);
  });

  test.each([
    ['get', 'GET'],
    ['Post', 'POST'],
    ['put', 'PUT'],
    ['delete', 'DELETE'],
    ['head', 'HEAD'],
    ['options', 'OPTIONS'],
    ['PATCH', 'PATCH'],
    ['patch', 'patch'],
    ['PROPFIND', 'PROPFIND'],
  ])('the htm of %s is %s, as fetch sends it', (method, htm) => {
    expect(proofMethod(method)).toBe(htm);
  });
});

describe('ath', () => {
  test('ath is the base64url SHA-256 of the token (RFC 9449 §7.1)', async () => {
    const token = 'Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU';
    expect(await accessTokenHash(token)).toBe('fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo');
    expect(await accessTokenHash('another')).toBe(createHash('sha256').update('another').digest('base64url'));
  });

  test('the ath of a token is computed once for all its requests, and again for a new token', async () => {
    const digest = jest.spyOn(globalThis.crypto.subtle, 'digest');
    try {
      const athOf = createAthCache();
      const first = athOf('token-1');
      expect(athOf('token-1')).toBe(first);
      expect(digest).toHaveBeenCalledTimes(1);
      expect(await athOf('token-2')).toBe(await accessTokenHash('token-2'));
      expect(await athOf('token-1')).toBe(await first);
      // token-1, token-2 (and its check), token-1 again: one entry is remembered, the last.
      expect(digest).toHaveBeenCalledTimes(4);
    } finally {
      digest.mockRestore();
    }
  });

  test('known gives the hash of the last token without a wait once it is done, and nothing for any other token', async () => {
    const digest = jest.spyOn(globalThis.crypto.subtle, 'digest');
    try {
      const athOf = createAthCache();
      expect(athOf.known('token-1')).toBeUndefined();
      const pending = athOf('token-1');
      expect(athOf.known('token-1')).toBeUndefined();
      const ath = await pending;
      expect(athOf.known('token-1')).toBe(ath);
      expect(athOf.known('token-2')).toBeUndefined();
      expect(digest).toHaveBeenCalledTimes(1);
      await athOf('token-2');
      expect(athOf.known('token-1')).toBeUndefined();
      expect(athOf.known('token-2')).toBe(await accessTokenHash('token-2'));
    } finally {
      digest.mockRestore();
    }
  });

  test('a hash that fails is not known, and reaches whoever awaits it', async () => {
    const digest = jest.spyOn(globalThis.crypto.subtle, 'digest').mockRejectedValueOnce(new Error('no digest'));
    try {
      const athOf = createAthCache();
      await expect(athOf('token-1')).rejects.toThrow('no digest');
      expect(athOf.known('token-1')).toBeUndefined();
    } finally {
      digest.mockRestore();
    }
  });
});

describe('the dpop option', () => {
  test.each([
    [undefined, undefined],
    [false, undefined],
    [true, { keyPair: undefined, alg: undefined, required: false }],
    [{}, { keyPair: undefined, alg: undefined, required: false }],
    [
      { alg: 'EdDSA', required: true },
      { keyPair: undefined, alg: 'EdDSA', required: true },
    ],
  ])('%j is read as %j', (value, expected) => {
    expect(readDpopOption(value, 'test()')).toEqual(expected);
  });

  test.each([
    ['a string', 'yes', 'ERR_INVALID_ARG_TYPE', /`dpop` to be a boolean or an object, got a string/],
    ['a class instance', new Date(), 'ERR_INVALID_ARG_TYPE', /`dpop`/],
    ['an unknown member', { algs: ['ES256'] }, 'ERR_INVALID_ARG_VALUE', /unknown option `algs`/],
    ['an algorithm tokenflight does not sign with', { alg: 'HS256' }, 'ERR_INVALID_ARG_VALUE', /`dpop.alg`.*"HS256"/],
    ['an algorithm that is not a string', { alg: 256 }, 'ERR_INVALID_ARG_VALUE', /`dpop.alg`.*a number/],
    ['a required that is not a boolean', { required: 'yes' }, 'ERR_INVALID_ARG_TYPE', /`dpop.required`/],
    [
      'a keyPair that is not an object',
      { keyPair: 'pem' },
      'ERR_INVALID_ARG_TYPE',
      /`dpop.keyPair` to be a CryptoKeyPair/,
    ],
  ])('%s is refused when the factory runs', (_name, value, code, message) => {
    expect(() => readDpopOption(value, 'test()')).toThrow(
      expect.objectContaining({ name: 'TypeError', code, message: expect.stringMatching(message) }),
    );
  });

  const ecPair = () => crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  const edPair = () => crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);

  test('a key pair takes its algorithm from its keys', async () => {
    const pair = await edPair();
    expect(readDpopOption({ keyPair: pair }, 'test()')).toEqual({ keyPair: pair, alg: 'EdDSA', required: false });
  });

  test('every wrong key pair is refused when the factory runs', async () => {
    const ec = await ecPair();
    const ed = await edPair();
    const p384 = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, false, ['sign', 'verify']);
    const verifyOnly = await crypto.subtle.importKey(
      'jwk',
      await crypto.subtle.exportKey('jwk', ec.publicKey),
      { name: 'ECDSA', namedCurve: 'P-256' },
      false,
      ['verify'],
    );
    const ecdh = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
    const privateNoSign = ecdh.privateKey;
    const publicNoVerify = await crypto.subtle.importKey(
      'jwk',
      await crypto.subtle.exportKey('jwk', ec.publicKey),
      { name: 'ECDSA', namedCurve: 'P-256' },
      true,
      [],
    );
    const cases: [unknown, RegExp][] = [
      [{ privateKey: ec.publicKey, publicKey: ec.publicKey }, /privateKey` to be a private CryptoKey/],
      [{ privateKey: privateNoSign, publicKey: ec.publicKey }, /privateKey` to be a private CryptoKey usable to sign/],
      [{ privateKey: 'pem', publicKey: ec.publicKey }, /privateKey` to be a private CryptoKey/],
      [{ privateKey: ec.privateKey, publicKey: ec.privateKey }, /publicKey` to be an extractable public CryptoKey/],
      [{ privateKey: ec.privateKey, publicKey: verifyOnly }, /publicKey` to be an extractable public CryptoKey/],
      [
        { privateKey: ec.privateKey, publicKey: publicNoVerify },
        /publicKey` to be an extractable public CryptoKey usable to verify/,
      ],
      [{ privateKey: ec.privateKey }, /publicKey`/],
      [{ privateKey: ec.privateKey, publicKey: ed.publicKey }, /different algorithms/],
      [{ privateKey: p384.privateKey, publicKey: p384.publicKey }, /curve other than P-256/],
    ];
    for (const [keyPair, message] of cases) {
      expect(() => readDpopOption({ keyPair }, 'test()')).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', message: expect.stringMatching(message) }),
      );
    }
    expect(() => readDpopOption({ keyPair: ec, alg: 'EdDSA' }, 'test()')).toThrow(
      /`dpop.alg` "EdDSA" does not fit `dpop.keyPair` \(ES256\)/,
    );
  });

  test.each([
    [undefined, undefined, 'ES256'],
    [undefined, ['RS256', 'EdDSA'], 'EdDSA'],
    [undefined, ['Ed25519', 'PS256'], 'PS256'],
    [undefined, ['PS256', 'RS256'], 'RS256'],
    [undefined, ['HS256'], undefined],
    [undefined, [], undefined],
    ['PS256', undefined, 'PS256'],
    ['PS256', ['ES256', 'PS256'], 'PS256'],
    ['PS256', ['ES256'], undefined],
  ] as const)('configured %s, a server listing %j: the proofs use %s', (alg, serverAlgs, expected) => {
    expect(chooseDpopAlgorithm({ alg }, serverAlgs)).toBe(expected);
  });
});

describe('the DPoP key of a provider', () => {
  test('a key pair is made once, not extractable, whatever the number of callers', async () => {
    const generate = jest.spyOn(globalThis.crypto.subtle, 'generateKey');
    try {
      const source = createDpopKeySource(readDpopOption(true, 'test()')!, 'test()');
      const all = await Promise.all(Array.from({ length: 10 }, () => source.key()));
      expect(new Set(all).size).toBe(1);
      expect(await source.key()).toBe(all[0]);
      expect(generate).toHaveBeenCalledTimes(1);
      const key = all[0]!;
      expect([key.alg, key.privateKey.extractable, key.privateKey.type]).toEqual(['ES256', false, 'private']);
      expect(key.thumbprint).toBe(thumbprintOf(key.jwk));
    } finally {
      generate.mockRestore();
    }
  });

  test('the algorithm follows the server’s list, and a list with none of ours fails at first use, not for good', async () => {
    const source = createDpopKeySource(readDpopOption(true, 'test()')!, 'test()');
    await expect(source.key(['HS256'])).rejects.toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARG_VALUE',
        message: expect.stringMatching(/lists none of ES256, EdDSA, RS256, PS256/),
      }),
    );
    expect((await source.key(['EdDSA'])).alg).toBe('EdDSA');
  });

  test('a configured algorithm the server does not list fails at first use', async () => {
    const source = createDpopKeySource(readDpopOption({ alg: 'PS256' }, 'test()')!, 'test()');
    await expect(source.key(['ES256'])).rejects.toThrow(/lists none of PS256/);
  });

  test('a given key pair is used as it is once its halves are shown to match', async () => {
    const pair = await crypto.subtle.generateKey(
      { name: 'RSA-PSS', hash: 'SHA-256', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
      false,
      ['sign', 'verify'],
    );
    const key = await createDpopKeySource(readDpopOption({ keyPair: pair }, 'test()')!, 'test()').key();
    expect(key.privateKey).toBe(pair.privateKey);
    expect(key.alg).toBe('PS256');
    expect(key.thumbprint).toBe(thumbprintOf(key.jwk));
  });

  test.each([
    ['ECDSA', { name: 'ECDSA', namedCurve: 'P-256' }],
    ['Ed25519', { name: 'Ed25519' }],
    [
      'RSASSA-PKCS1-v1_5',
      { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
    ],
  ])('a %s key pair whose halves do not belong together is refused at first use', async (_name, params) => {
    const one = (await crypto.subtle.generateKey(params, false, ['sign', 'verify'])) as CryptoKeyPair;
    const two = (await crypto.subtle.generateKey(params, false, ['sign', 'verify'])) as CryptoKeyPair;
    const source = createDpopKeySource(
      readDpopOption({ keyPair: { privateKey: one.privateKey, publicKey: two.publicKey } }, 'test()')!,
      'test()',
    );
    await expect(source.key()).rejects.toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARG_VALUE',
        message: expect.stringMatching(/not the private key's/),
      }),
    );
  });

  test('the read option and the key made from a given pair show no private key material', async () => {
    const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const { d } = await crypto.subtle.exportKey('jwk', pair.privateKey);
    const settings = readDpopOption({ keyPair: pair }, 'test()')!;
    const key = await createDpopKeySource(settings, 'test()').key();
    for (const holder of [settings, key]) {
      expect(`${JSON.stringify(holder)} ${inspect(holder, { showHidden: true, depth: 10 })}`).not.toContain(d);
    }
  });

  test('the key object shows its algorithm, public key and thumbprint, never the private key', async () => {
    const key = await keyFor('ES256');
    const shown = `${JSON.stringify(key)} ${inspect(key, { showHidden: true, depth: 5 })}`;
    expect(JSON.parse(JSON.stringify(key))).toEqual({ alg: 'ES256', jwk: key.jwk, thumbprint: key.thumbprint });
    expect(shown).not.toMatch(/privateKey|CryptoKey/);
    expect(Object.keys(key)).toEqual(['alg', 'jwk', 'thumbprint']);
  });
});
