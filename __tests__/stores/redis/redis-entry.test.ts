import { describe, expect, test } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { decodeEntry, encodeEntry, readEncryption } from '../../../lib/stores/redis/entry.js';
import type { StoredToken } from '../../../lib/stores/store.js';

// The Redis store's entry codec and encryption are pure: tested here without a Redis server.

const TOKEN: StoredToken = { accessToken: 'tok.en-1', tokenType: 'Bearer', expiresAt: 2_000, obtainedAt: 1_000 };
const k1 = randomBytes(32);
const k2 = randomBytes(32);

describe('Redis entry codec', () => {
  test('an entry in clear reads back as the token it was written from', () => {
    const raw = encodeEntry('key', TOKEN, undefined);
    expect(JSON.parse(raw)).toMatchObject({ v: 1, accessToken: 'tok.en-1', expiresAt: 2_000, obtainedAt: 1_000 });
    expect(decodeEntry('key', raw, undefined)).toEqual(TOKEN);
  });

  test('an encrypted entry holds no token, reads back with its key, and not under another store key', () => {
    const cipher = readEncryption({ keys: { k1 }, currentKeyId: 'k1' });
    const raw = encodeEntry('key', TOKEN, cipher);
    expect(raw).not.toContain('tok.en-1');
    expect(JSON.parse(raw)).toMatchObject({ kid: 'k1', expiresAt: 2_000 });
    expect(decodeEntry('key', raw, cipher)).toEqual(TOKEN);
    expect(decodeEntry('other-key', raw, cipher)).toEqual({ reason: 'decryption-failed', keyId: 'k1' });
  });

  test('a key id it was not given, a different key under the same id, or altered metadata read as unreadable', () => {
    const raw = encodeEntry('key', TOKEN, readEncryption({ keys: { k1 }, currentKeyId: 'k1' }));
    expect(decodeEntry('key', raw, readEncryption({ keys: { k2 }, currentKeyId: 'k2' }))).toEqual({
      reason: 'unknown-key-id',
      keyId: 'k1',
    });
    expect(decodeEntry('key', raw, readEncryption({ keys: { k1: k2 }, currentKeyId: 'k1' }))).toEqual({
      reason: 'decryption-failed',
      keyId: 'k1',
    });
    const stretched = JSON.stringify({ ...JSON.parse(raw), expiresAt: 9_999_999 });
    expect(decodeEntry('key', stretched, readEncryption({ keys: { k1 }, currentKeyId: 'k1' }))).toEqual({
      reason: 'decryption-failed',
      keyId: 'k1',
    });
  });

  test('a store that encrypts refuses a token in clear; anything else is malformed', () => {
    const cipher = readEncryption({ keys: { k1 }, currentKeyId: 'k1' });
    expect(decodeEntry('key', encodeEntry('key', TOKEN, undefined), cipher)).toEqual({
      reason: 'not-encrypted',
      keyId: undefined,
    });
    for (const raw of [
      'not json',
      '[]',
      '{"v":2}',
      '{"v":1,"tokenType":"Bearer","fp":"x","obtainedAt":1,"expiresAt":null}',
    ]) {
      expect(decodeEntry('key', raw, undefined)).toEqual({ reason: 'malformed', keyId: undefined });
    }
  });

  test('encryption options are checked, and a key is never quoted', () => {
    const short = randomBytes(16).toString('base64');
    expect(() => readEncryption({ keys: { k1: short }, currentKeyId: 'k1' })).toThrow('got 16 bytes');
    expect(() => readEncryption({ keys: { 'bad id': k1 }, currentKeyId: 'bad id' })).toThrow('key ids');
    expect(() => readEncryption({ keys: { k1 }, currentKeyId: 'k9' })).toThrow('got "k9"');
    expect(() => readEncryption({ keys: {}, currentKeyId: 'k1' })).toThrow('an object of keys by key id');
  });
});
