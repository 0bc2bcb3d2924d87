import { randomBytes } from 'node:crypto';
import { describe, expect, test } from '@jest/globals';
import { base64url, base64urlText, decodeBase64 } from '../../lib/oauth/base64url.js';
import { cryptoRandomBytes, newJti, RANDOM_POOL_BYTES } from '../../lib/oauth/random.js';

describe('base64url', () => {
  test('every length from 0 to 100 bytes encodes as Node.js encodes it, without padding', () => {
    for (let length = 0; length <= 100; length++) {
      for (const bytes of [randomBytes(length), Buffer.alloc(length, 0xff), Buffer.alloc(length, 0)]) {
        expect(base64url(new Uint8Array(bytes))).toBe(bytes.toString('base64url'));
      }
    }
  });

  test('every byte value, and the characters that differ from base64 (- and _)', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(base64url(all)).toBe(Buffer.from(all).toString('base64url'));
    expect(base64url(Uint8Array.of(0xfb, 0xff, 0xbf))).toBe('-_-_');
    expect(base64urlText('{"a":"é"}')).toBe(Buffer.from('{"a":"é"}', 'utf8').toString('base64url'));
  });
});

describe('cryptoRandomBytes', () => {
  test('small requests across several pool refills: the right lengths, never the same bytes twice', () => {
    const seen = new Set<string>();
    const calls = Math.ceil((3 * RANDOM_POOL_BYTES) / 16) + 5;
    for (let i = 0; i < calls; i++) {
      const bytes = cryptoRandomBytes(16);
      expect(bytes).toBeInstanceOf(Uint8Array);
      expect(bytes.length).toBe(16);
      seen.add(Buffer.from(bytes).toString('hex'));
    }
    expect(seen.size).toBe(calls);
    expect(cryptoRandomBytes(7).length).toBe(7);
    expect(cryptoRandomBytes(0).length).toBe(0);
  });

  test('each result is its own copy: changing one changes no other', () => {
    const first = cryptoRandomBytes(16);
    const copy = Uint8Array.from(first);
    const second = cryptoRandomBytes(16);
    second.fill(0);
    expect(first).toEqual(copy);
  });

  test('a large request is drawn on its own', () => {
    const large = cryptoRandomBytes(RANDOM_POOL_BYTES);
    expect(large.length).toBe(RANDOM_POOL_BYTES);
    expect(new Set(large).size).toBeGreaterThan(200);
  });

  test('a jti is 22 base64url characters (128 bits), new each time', () => {
    const jtis = new Set(Array.from({ length: 1_000 }, () => newJti(cryptoRandomBytes)));
    expect(jtis.size).toBe(1_000);
    for (const jti of jtis) expect(jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});

describe('decodeBase64 (PEM bodies)', () => {
  test('padded, unpadded and wrapped base64 decode to their bytes', () => {
    for (const bytes of [[], [1], [1, 2], [1, 2, 3], [251, 255, 191, 0, 62]]) {
      const text = Buffer.from(bytes).toString('base64');
      expect(Array.from(decodeBase64(text) ?? [])).toEqual(bytes);
      expect(Array.from(decodeBase64(`${text.slice(0, 2)}\n ${text.slice(2)}\r\n`) ?? [])).toEqual(bytes);
    }
    expect(Array.from(decodeBase64('+/+/') ?? [])).toEqual([251, 255, 191]);
  });

  test('anything else is not base64: undefined', () => {
    for (const text of ['A', 'AB', 'ABC', 'AB=', 'A===', 'AB==C', 'AB=C', '-_-_', 'AB!=', 'ABCD=', '=ABC', 'AB*=']) {
      expect(decodeBase64(text)).toBeUndefined();
    }
  });
});
