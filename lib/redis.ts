export { REDIS_STORE_DEFAULTS, RedisTokenStore, RedisTokenStoreError } from './stores/redis.js';
export type {
  RedisStoreOperation,
  RedisTokenStoreEncryption,
  RedisTokenStoreErrorCode,
  RedisTokenStoreEvent,
  RedisTokenStoreOptions,
  UnreadableEntryReason,
} from './stores/redis.js';
