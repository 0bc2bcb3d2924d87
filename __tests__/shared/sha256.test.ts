import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { fingerprint, sha256Hex } from '../../lib/shared/sha256.js';

const nodeSha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** Strings of any code points (lone surrogates included), long enough to span several 64-byte blocks. */
const anyText = fc.string({ unit: 'binary', maxLength: 300 });

describe('sha256Hex with WebCrypto', () => {
  test('gives the digest node:crypto gives, for any text', async () => {
    await fc.assert(fc.asyncProperty(anyText, async (text) => expect(await sha256Hex(text)).toBe(nodeSha256(text))));
  });
});

describe('sha256Hex where crypto.subtle is missing (a page that is not a secure context)', () => {
  const original = Object.getOwnPropertyDescriptor(globalThis, 'crypto');

  beforeEach(() => {
    // What such a page has: `crypto` with getRandomValues, and no `subtle`.
    Object.defineProperty(globalThis, 'crypto', { value: { getRandomValues: () => undefined }, configurable: true });
  });
  afterEach(() => {
    if (original !== undefined) Object.defineProperty(globalThis, 'crypto', original);
  });

  test('the test really runs without crypto.subtle', () => {
    expect(globalThis.crypto.subtle).toBeUndefined();
  });

  test('gives the digest node:crypto gives, byte for byte, for any text (unicode, multi-block)', async () => {
    await fc.assert(fc.asyncProperty(anyText, async (text) => expect(await sha256Hex(text)).toBe(nodeSha256(text))));
  });

  test('gives the known digests of the empty string, "abc" and a two-block message', async () => {
    expect(await sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(await sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(await sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
  });

  test('also works where there is no `crypto` global at all', async () => {
    Object.defineProperty(globalThis, 'crypto', { value: undefined, configurable: true });
    expect(await sha256Hex('tokenflight')).toBe(nodeSha256('tokenflight'));
  });

  test('fingerprints are the first 8 hex digits of the same digest', async () => {
    expect(await fingerprint('a.token')).toBe(nodeSha256('a.token').slice(0, 8));
  });
});
