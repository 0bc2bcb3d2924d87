/**
 * A token store on Redis (ioredis, an optional peer dependency), shared by every process of a
 * fleet: one token and one token request per rotation for all of them. See {@link RedisTokenStore}.
 *
 * @module tokenflight/redis
 */
export { RedisTokenStoreError } from './stores/redis/errors.js';
export { RedisTokenStore } from './stores/redis/store.js';
export { REDIS_STORE_DEFAULTS } from './stores/redis/types.js';
export type {
  RedisEvictionCheck,
  RedisStoreOperation,
  RedisTokenStoreEncryption,
  RedisTokenStoreErrorCode,
  RedisTokenStoreEvent,
  RedisTokenStoreOptions,
  UnreadableEntryReason,
} from './stores/redis/types.js';
