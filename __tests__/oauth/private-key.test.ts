import { generateKeyPairSync } from 'node:crypto';
import { inspect } from 'node:util';
import { runInNewContext } from 'node:vm';
import { describe, expect, jest, test } from '@jest/globals';
import { jwkThumbprint } from '../../lib/oauth/jwk-thumbprint.js';
import { readPrivateKey, secretSigningKey, type SigningKey } from '../../lib/oauth/private-key.js';
import { makeClientKeys } from './helpers/client-keys.js';

const keys = makeClientKeys();
const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 });
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const x25519 = generateKeyPairSync('x25519');
const pem = (key: { export(options: object): string | Buffer }, options: object): string =>
  key.export(options).toString();

/** Pieces of key material that must never show: the PEM's base64 lines and the JWKs' private members. */
const material = [
  ...[keys.rsa, keys.ec, keys.ed].flatMap((key) =>
    key.pem.split('\n').filter((line) => line.length > 20 && !line.startsWith('-----')),
  ),
  ...[keys.rsa, keys.ec, keys.ed].map((key) => key.privateJwk.d as string),
];
function expectNoMaterial(text: string): void {
  for (const piece of material) expect(text).not.toContain(piece.slice(0, 16));
}

function refusal(run: () => unknown): { code: unknown; message: string; name: string } {
  try {
    run();
  } catch (error) {
    const { code, message, name } = error as { code: unknown; message: string; name: string };
    expectNoMaterial(`${message} ${inspect(error)} ${JSON.stringify(error)}`);
    return { code, message, name };
  }
  throw new Error('expected a refusal');
}

describe('privateKey as a PKCS#8 PEM', () => {
  test.each([
    ['an RSA key', () => keys.rsa.pem, undefined, 'RS256'],
    ['an RSA key with alg PS256', () => keys.rsa.pem, 'PS256', 'PS256'],
    ['an EC P-256 key', () => keys.ec.pem, undefined, 'ES256'],
    ['an Ed25519 key', () => keys.ed.pem, undefined, 'EdDSA'],
    ['a key with text around its block', () => `subject=client\n${keys.ec.pem}\n`, undefined, 'ES256'],
  ])('%s is read when the factory runs, with its algorithm', async (_name, privateKey, alg, expected) => {
    const key = readPrivateKey({ privateKey: privateKey(), alg }, 'test()');
    expect(key.alg).toBe(expected);
    const cryptoKey = await key.cryptoKey();
    expect([cryptoKey.type, cryptoKey.extractable, cryptoKey.usages]).toEqual(['private', false, ['sign']]);
  });

  test.each([
    [
      'a PKCS#1 PEM',
      () => pem(keys.rsa.keyObject, { type: 'pkcs1', format: 'pem' }),
      /PKCS#1, SEC1 or OpenSSH PEM, not PKCS#8/,
    ],
    [
      'a SEC1 PEM',
      () => pem(keys.ec.keyObject, { type: 'sec1', format: 'pem' }),
      /PKCS#1, SEC1 or OpenSSH PEM, not PKCS#8/,
    ],
    [
      'a public key PEM',
      () => pem(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, { type: 'spki', format: 'pem' }),
      /a public key PEM/,
    ],
    [
      'an encrypted PEM',
      () => pem(keys.ec.keyObject, { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pass' }),
      /encrypted PKCS#8 PEM/,
    ],
    ['a certificate', () => '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----', /a certificate PEM/],
    ['text that is no PEM', () => 'not a key', /not a PEM/],
    [
      'a PEM whose body is not base64',
      () => '-----BEGIN PRIVATE KEY-----\nnot*base64!\n-----END PRIVATE KEY-----',
      /body is not base64/,
    ],
    ['an empty PEM', () => '-----BEGIN PRIVATE KEY-----\n\n-----END PRIVATE KEY-----', /body is not base64/],
    ['two PEM blocks', () => `${keys.ec.pem}${keys.ed.pem}`, /more than one PEM block/],
    [
      'base64 that is no DER key',
      () => '-----BEGIN PRIVATE KEY-----\nAAECAwQFBgcICQ==\n-----END PRIVATE KEY-----',
      /not a DER PrivateKeyInfo/,
    ],
    ['an EC key on P-384', () => pem(p384.privateKey, { type: 'pkcs8', format: 'pem' }), /curve other than P-256/],
    ['an X25519 key', () => pem(x25519.privateKey, { type: 'pkcs8', format: 'pem' }), /does not sign with/],
    [
      'an EC key with alg RS256',
      () => keys.ec.pem,
      /`alg` "RS256" does not fit `privateKey` \(an EC P-256 key: ES256\)/,
    ],
  ])('%s is refused when the factory runs, without quoting it', (name, privateKey, message) => {
    const alg = name.endsWith('RS256') ? 'RS256' : undefined;
    const error = refusal(() => readPrivateKey({ privateKey: privateKey(), alg }, 'test()'));
    expect(error).toEqual({
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_VALUE',
      message: expect.stringMatching(message),
    });
    expect(error.message).toMatch(/^test\(\): .*`(privateKey|alg)`/);
  });

  test('DER with a truncated element is refused', () => {
    const der = Buffer.from(keys.ec.pem.replace(/-----[^-]+-----|\s/g, ''), 'base64').subarray(0, 40);
    const truncated = `-----BEGIN PRIVATE KEY-----\n${der.toString('base64')}\n-----END PRIVATE KEY-----`;
    expect(refusal(() => readPrivateKey({ privateKey: truncated }, 'test()')).message).toMatch(
      /not a DER PrivateKeyInfo/,
    );
  });

  test('an RSA PEM shorter than 2048 bits is refused at first use, with the same kind of error', async () => {
    const key = readPrivateKey({ privateKey: pem(rsa1024.privateKey, { type: 'pkcs8', format: 'pem' }) }, 'test()');
    await expect(key.cryptoKey()).rejects.toEqual(
      expect.objectContaining({
        name: 'TypeError',
        code: 'ERR_INVALID_ARG_VALUE',
        message: expect.stringMatching(/`privateKey` is an RSA key shorter than 2048 bits/),
      }),
    );
  });
});

describe('privateKey as a JWK', () => {
  test('an EC JWK is read with its kid; keyId overrides it', () => {
    expect(readPrivateKey({ privateKey: { ...keys.ec.privateJwk, kid: 'k1' } }, 'test()')).toMatchObject({
      alg: 'ES256',
      keyId: 'k1',
    });
    expect(readPrivateKey({ privateKey: { ...keys.ec.privateJwk, kid: 'k1' }, keyId: 'k2' }, 'test()').keyId).toBe(
      'k2',
    );
  });

  test.each([
    [{ alg: 'PS256' }, undefined, 'PS256'],
    [{ alg: 'RS256' }, 'RS256', 'RS256'],
    [{ use: 'sig', key_ops: ['sign'] }, undefined, 'RS256'],
  ])('an RSA JWK with %j and alg %s signs %s', async (extra, alg, expected) => {
    const key = readPrivateKey({ privateKey: { ...keys.rsa.privateJwk, ...extra }, alg }, 'test()');
    expect(key.alg).toBe(expected);
    expect((await key.cryptoKey()).extractable).toBe(false);
  });

  test('a JWK made in another realm is read as a JWK', () => {
    const foreign = runInNewContext(`(${JSON.stringify(keys.ec.privateJwk)})`) as Record<string, unknown>;
    expect(Object.getPrototypeOf(foreign)).not.toBe(Object.prototype);
    expect(readPrivateKey({ privateKey: foreign }, 'test()').alg).toBe('ES256');
    expect(
      readPrivateKey({ privateKey: Object.assign(Object.create(null) as object, keys.ed.privateJwk) }, 'test()').alg,
    ).toBe('EdDSA');
    expect(() =>
      readPrivateKey(
        {
          privateKey: new (class Jwk {
            kty = 'EC';
          })(),
        },
        'test()',
      ),
    ).toThrow(/got an object/);
  });

  test('an RSA JWK with only n, e and d is read', () => {
    const { n, e, d } = keys.rsa.privateJwk;
    expect(readPrivateKey({ privateKey: { kty: 'RSA', n, e, d } }, 'test()').alg).toBe('RS256');
  });

  test.each([
    ['a public JWK', () => keys.ec.publicJwk, /got a public JWK \(it has no `d`\)/],
    [
      'a symmetric JWK',
      () => ({ kty: 'oct', k: 'c2VjcmV0', d: 'x' }),
      /symmetric JWK; for a shared secret use `client_secret_jwt`/,
    ],
    [
      'an EC P-384 JWK',
      () => p384.privateKey.export({ format: 'jwk' }),
      /JWK of a type tokenflight does not sign with/,
    ],
    [
      'an OKP X25519 JWK',
      () => x25519.privateKey.export({ format: 'jwk' }),
      /JWK of a type tokenflight does not sign with/,
    ],
    ['a JWK without kty', () => ({ d: 'AAAA' }), /JWK of a type tokenflight does not sign with/],
    [
      'an RSA JWK shorter than 2048 bits',
      () => rsa1024.privateKey.export({ format: 'jwk' }),
      /RSA key shorter than 2048 bits/,
    ],
    ['a JWK for encryption', () => ({ ...keys.ec.privateJwk, use: 'enc' }), /`use` is not "sig"/],
    ['a JWK whose key_ops lack sign', () => ({ ...keys.ec.privateJwk, key_ops: ['verify'] }), /`key_ops` lack "sign"/],
    ['a JWK whose key_ops are not a list', () => ({ ...keys.ec.privateJwk, key_ops: 'sign' }), /`key_ops` lack "sign"/],
    [
      'a JWK whose alg is not ours',
      () => ({ ...keys.ec.privateJwk, alg: 'ES384' }),
      /`alg` tokenflight does not sign with/,
    ],
    [
      'a JWK whose alg does not fit its type',
      () => ({ ...keys.rsa.privateJwk, alg: 'ES256' }),
      /`alg` "ES256" does not fit `privateKey` \(an RSA key: RS256 or PS256\)/,
    ],
    ['a JWK whose member is not a string', () => ({ ...keys.ec.privateJwk, x: 42 }), /`x` is not a base64url string/],
    [
      'a JWK whose member is not base64url',
      () => ({ ...keys.ec.privateJwk, y: 'a+b/' }),
      /`y` is not a base64url string/,
    ],
    [
      'a JWK without a required member',
      () => ({ ...keys.ed.privateJwk, x: undefined }),
      /`x` is not a base64url string/,
    ],
    [
      'a JWK with one member of the CRT left empty',
      () => ({ ...keys.rsa.privateJwk, dp: '' }),
      /`dp` is not a base64url string/,
    ],
  ])('%s is refused when the factory runs, without quoting it', (_name, privateKey, message) => {
    expect(refusal(() => readPrivateKey({ privateKey: privateKey() }, 'test()'))).toEqual({
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_VALUE',
      message: expect.stringMatching(message),
    });
  });

  test('alg differing from the JWK’s own alg is refused', () => {
    expect(
      refusal(() => readPrivateKey({ privateKey: { ...keys.rsa.privateJwk, alg: 'RS256' }, alg: 'PS256' }, 'test()'))
        .message,
    ).toMatch(/`alg` "PS256" differs from the JWK's own `alg`/);
  });

  test('a JWK whose numbers are no key is refused at first use, every time, without quoting it', async () => {
    const importKey = jest.spyOn(globalThis.crypto.subtle, 'importKey');
    try {
      const key = readPrivateKey(
        { privateKey: { kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA', d: 'AAAA' } },
        'test()',
      );
      const expected = expect.objectContaining({
        name: 'TypeError',
        code: 'ERR_INVALID_ARG_VALUE',
        message: expect.stringMatching(
          /^test\(\): `privateKey` could not be imported as an ES256 signing key by WebCrypto \(\w+\)$/,
        ),
      });
      await expect(key.cryptoKey()).rejects.toEqual(expected);
      await expect(key.cryptoKey()).rejects.toEqual(expected);
      expect(importKey).toHaveBeenCalledTimes(2);
    } finally {
      importKey.mockRestore();
    }
  });

  test('a key is imported once, however often it is used', async () => {
    const importKey = jest.spyOn(globalThis.crypto.subtle, 'importKey');
    try {
      const key = readPrivateKey({ privateKey: keys.ed.privateJwk }, 'test()');
      const [a, b] = await Promise.all([key.cryptoKey(), key.cryptoKey()]);
      expect(a).toBe(b);
      expect(await key.cryptoKey()).toBe(a);
      expect(importKey).toHaveBeenCalledTimes(1);
    } finally {
      importKey.mockRestore();
    }
  });
});

describe('privateKey as a CryptoKey', () => {
  const rsaParams = (name: string, hash = 'SHA-256', modulusLength = 2048) => ({
    name,
    hash,
    modulusLength,
    publicExponent: new Uint8Array([1, 0, 1]),
  });

  test.each([
    ['ECDSA P-256', { name: 'ECDSA', namedCurve: 'P-256' }, 'ES256'],
    ['Ed25519', { name: 'Ed25519' }, 'EdDSA'],
    ['RSASSA-PKCS1-v1_5', rsaParams('RSASSA-PKCS1-v1_5'), 'RS256'],
    ['RSA-PSS', rsaParams('RSA-PSS'), 'PS256'],
  ])('a %s key signs with its algorithm, used as it is', async (_name, params, alg) => {
    const pair = (await crypto.subtle.generateKey(params, false, ['sign', 'verify'])) as CryptoKeyPair;
    const key = readPrivateKey({ privateKey: pair.privateKey }, 'test()');
    expect(key.alg).toBe(alg);
    expect(await key.cryptoKey()).toBe(pair.privateKey);
  });

  test('every wrong CryptoKey is refused when the factory runs', async () => {
    const ec = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    const ecdh = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
    const hmac = await crypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const p384Key = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, false, ['sign']);
    const sha384 = await crypto.subtle.generateKey(rsaParams('RSASSA-PKCS1-v1_5', 'SHA-384'), false, ['sign']);
    const short = await crypto.subtle.generateKey(rsaParams('RSA-PSS', 'SHA-256', 1024), false, ['sign']);
    const rs = await crypto.subtle.generateKey(rsaParams('RSASSA-PKCS1-v1_5'), false, ['sign']);
    const aes = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 128 }, false, ['encrypt']);
    const cases: [CryptoKey, string | undefined, RegExp][] = [
      [ec.publicKey, undefined, /to be a private key, got a public CryptoKey/],
      [hmac, undefined, /to be a private key, got a secret CryptoKey/],
      [aes, undefined, /to be a private key, got a secret CryptoKey/],
      [ecdh.privateKey, undefined, /usable to sign/],
      [p384Key.privateKey, undefined, /an ECDSA key on a curve other than P-256/],
      [sha384.privateKey, undefined, /an RSA key for a hash other than SHA-256/],
      [short.privateKey, undefined, /an RSA key shorter than 2048 bits/],
      [rs.privateKey, 'PS256', /`alg` "PS256" does not fit `privateKey` \(a CryptoKey bound to: RS256\)/],
    ];
    for (const [privateKey, alg, message] of cases) {
      expect(refusal(() => readPrivateKey({ privateKey, alg }, 'test()'))).toEqual({
        name: 'TypeError',
        code: 'ERR_INVALID_ARG_VALUE',
        message: expect.stringMatching(message),
      });
    }
  });
});

describe('the other options', () => {
  test.each([
    [undefined, 'ERR_INVALID_ARG_TYPE', /got undefined/],
    ['', 'ERR_INVALID_ARG_TYPE', /got an empty string/],
    ['   ', 'ERR_INVALID_ARG_TYPE', /got a string/],
    [42, 'ERR_INVALID_ARG_TYPE', /got a number/],
    [[keys.ec.privateJwk], 'ERR_INVALID_ARG_TYPE', /got an array/],
  ])('privateKey %j is refused by type', (privateKey, code, message) => {
    expect(refusal(() => readPrivateKey({ privateKey }, 'test()'))).toEqual({
      name: 'TypeError',
      code,
      message: expect.stringMatching(
        new RegExp(
          `expected \`privateKey\` to be a CryptoKey, a private JWK or a PKCS#8 PEM string, ${message.source}`,
        ),
      ),
    });
  });

  test.each([
    ['HS256', /expected `alg` to be one of 'ES256', 'EdDSA', 'RS256', 'PS256', got "HS256"/],
    [256, /got a number/],
  ])('alg %j is refused', (alg, message) => {
    expect(refusal(() => readPrivateKey({ privateKey: keys.ec.pem, alg }, 'test()')).message).toMatch(message);
  });

  test('a keyId that is not a string is refused, naming it', () => {
    expect(refusal(() => readPrivateKey({ privateKey: keys.ec.pem, keyId: 7 }, 'test()')).message).toMatch(/`keyId`/);
  });
});

describe('what a key object shows', () => {
  const shown = (key: SigningKey): string =>
    `${JSON.stringify(key)} ${inspect(key, { showHidden: true, depth: 10 })} ${String(Object.values(key))}`;

  test.each([
    [
      'a PEM',
      () => readPrivateKey({ privateKey: keys.rsa.pem, keyId: 'rsa' }, 'test()'),
      { alg: 'RS256', keyId: 'rsa' },
    ],
    ['a JWK', () => readPrivateKey({ privateKey: keys.ec.privateJwk }, 'test()'), { alg: 'ES256' }],
  ])('a key read from %s shows its algorithm and key ID only, before and after use', async (_name, make, facts) => {
    const key = make();
    expectNoMaterial(shown(key));
    await key.cryptoKey();
    expectNoMaterial(shown(key));
    expect(JSON.parse(JSON.stringify(key))).toEqual(facts);
    expect(Object.keys(key)).toEqual(['alg', 'keyId']);
  });

  test('the client_secret_jwt key shows neither the secret nor the key', async () => {
    const secret = 'a-client-secret-of-more-than-thirty-two-bytes';
    const key = secretSigningKey(secret);
    const cryptoKey = await key.cryptoKey();
    expect([key.alg, cryptoKey.extractable, cryptoKey.algorithm.name]).toEqual(['HS256', false, 'HMAC']);
    expect(await key.cryptoKey()).toBe(cryptoKey);
    expect(shown(key)).not.toContain(secret);
    expect(inspect(key)).toBe('SigningKey {"alg":"HS256"}');
  });
});

describe('jwkThumbprint', () => {
  test('the thumbprint of RFC 7638’s example key is the one in the RFC', async () => {
    const jwk = {
      kty: 'RSA',
      n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
      e: 'AQAB',
      alg: 'RS256',
      kid: '2011-04-29',
    };
    expect(await jwkThumbprint(jwk)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });

  test('a private JWK and its public half have one thumbprint; a key without public members has none', async () => {
    expect(await jwkThumbprint(keys.ec.privateJwk)).toBe(await jwkThumbprint(keys.ec.publicJwk));
    expect(await jwkThumbprint(keys.ed.privateJwk)).toBe(await jwkThumbprint(keys.ed.publicJwk));
    await expect(jwkThumbprint({ kty: 'oct', k: 'AAAA' })).rejects.toThrow(TypeError);
    await expect(jwkThumbprint({ kty: 'EC', crv: 'P-256', x: 'AAAA' })).rejects.toThrow(/no `y`/);
  });
});
