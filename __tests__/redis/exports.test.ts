import { expect, test } from '@jest/globals';
import * as redisEntry from '../../lib/redis.js';

test('tokenflight/redis exports exactly the Redis store, its error and its defaults', () => {
  expect(Object.keys(redisEntry).sort()).toEqual(['REDIS_STORE_DEFAULTS', 'RedisTokenStore', 'RedisTokenStoreError']);
});

test('the Redis store defaults keep a store operation shorter than tokenflight’s store time-out', async () => {
  const { DEFAULTS } = await import('../../lib/shared/defaults.js');
  expect(redisEntry.REDIS_STORE_DEFAULTS.commandTimeoutMs).toBeLessThan(DEFAULTS.storeTimeoutMs);
});
