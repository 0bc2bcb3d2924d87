import { TokenflightError, type RedisTokenStoreErrorCode } from '../../shared/errors.js';

/** A Redis operation of the store, as named in its events and errors. */
export type RedisStoreOperation = 'get' | 'set' | 'delete' | 'lock' | 'renew' | 'release' | 'config';

/**
 * What a {@link RedisTokenStore} operation rejects with: a {@link TokenflightError} (so
 * `isTokenflightError()` is true for it) whose `code` is a {@link RedisTokenStoreErrorCode}.
 * tokenflight reports it in a `store-failed` event and carries on without the store. Its message
 * never holds a token, a key or a value; the underlying ioredis error (which may list the
 * command's arguments) is not attached.
 */
export class RedisTokenStoreError extends TokenflightError {
  /** @ignore */
  static override readonly errorName: string = 'RedisTokenStoreError';

  override name = 'RedisTokenStoreError';
  declare readonly code: RedisTokenStoreErrorCode;
  /** The Redis operation that failed. */
  readonly operation: RedisStoreOperation;

  /** @ignore */
  constructor(message: string, code: RedisTokenStoreErrorCode, operation: RedisStoreOperation) {
    super(message, { code });
    this.operation = operation;
  }

  /** A plain object with the facts of the error. */
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), operation: this.operation };
  }
}
