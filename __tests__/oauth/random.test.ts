import { afterEach, describe, expect, jest, test } from '@jest/globals';

// lib/oauth/random.ts keeps its pool in the module: each test loads a fresh copy, so that what it
// counts starts from an empty pool.
async function freshRandom(): Promise<typeof import('../../lib/oauth/random.js')> {
  jest.resetModules();
  return import('../../lib/oauth/random.js');
}

describe('cryptoRandomBytes draws from WebCrypto a pool at a time', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  test('small requests share one draw of the pool until it is used up, then one more', async () => {
    const { cryptoRandomBytes, RANDOM_POOL_BYTES } = await freshRandom();
    const draw = jest.spyOn(globalThis.crypto, 'getRandomValues');
    const perPool = RANDOM_POOL_BYTES / 16;
    for (let i = 0; i < perPool; i++) expect(cryptoRandomBytes(16)).toHaveLength(16);
    expect(draw).toHaveBeenCalledTimes(1);
    expect((draw.mock.calls[0]?.[0] as Uint8Array).length).toBe(RANDOM_POOL_BYTES);
    cryptoRandomBytes(16);
    expect(draw).toHaveBeenCalledTimes(2);
  });

  test('a request of up to 1/16 of the pool comes from the pool; a larger one is drawn on its own, at its size', async () => {
    const { cryptoRandomBytes, RANDOM_POOL_BYTES } = await freshRandom();
    const draw = jest.spyOn(globalThis.crypto, 'getRandomValues');
    const largest = RANDOM_POOL_BYTES / 16;
    expect(cryptoRandomBytes(largest)).toHaveLength(largest);
    expect((draw.mock.calls[0]?.[0] as Uint8Array).length).toBe(RANDOM_POOL_BYTES);
    expect(cryptoRandomBytes(largest + 1)).toHaveLength(largest + 1);
    expect(draw).toHaveBeenCalledTimes(2);
    expect((draw.mock.calls[1]?.[0] as Uint8Array).length).toBe(largest + 1);
  });
});
