// The Redis store in five parts: the Lua scripts (scripts.ts), the entry codec and encryption
// (entry.ts, pure), the circuit breaker (breaker.ts) and the bounded command runner behind it
// (runner.ts), the lock (lock.ts), and the store that puts them together (store.ts).
export { RedisTokenStoreError } from './errors.js';
export { RedisTokenStore } from './store.js';
export { REDIS_STORE_DEFAULTS } from './types.js';
export type {
  RedisStoreOperation,
  RedisTokenStoreEncryption,
  RedisTokenStoreErrorCode,
  RedisTokenStoreEvent,
  RedisTokenStoreOptions,
  UnreadableEntryReason,
} from './types.js';
