import { withDeadline } from '../../shared/async.js';
import { TokenflightError } from '../../shared/errors.js';
import { redactedError } from '../../shared/redact.js';
import type { TokenAuthEvent } from '../../shared/events.js';
import type { StoredToken, TokenStore, TokenStoreLock } from '../../stores/store.js';
import { checkStoredToken } from '../../shared/token-check.js';

type StoreOperation = 'get' | 'set' | 'delete' | 'lock' | 'release';

/**
 * The store as the token manager uses it: every call bounded and never fatal (on error or
 * timeout, carry on as if the store had nothing, with a `store-failed` event), and every entry
 * read validated like a token response (rule 10).
 */
export type StoreAccess = ReturnType<typeof createStoreAccess>;

/** What the store access takes from its token manager's options. */
export interface StoreAccessOptions {
  /** Its name, for events; a `rotation` makes its lock one that guards a rotating refresh token. */
  source: { readonly name: string; readonly rotation?: unknown };
  store: TokenStore;
  now: () => number;
  storeTimeoutMs: number;
  /** How long the store lock is held at most, and waited for at most. */
  lockTtlMs: number;
  emit: (event: TokenAuthEvent) => void;
}

export function createStoreAccess(
  options: StoreAccessOptions,
  context: { signal: AbortSignal; knownTokens: () => string[] },
) {
  const { store, source, emit, storeTimeoutMs, lockTtlMs } = options;

  async function call<T, F>(
    operation: StoreOperation,
    run: () => Promise<T>,
    fallback: F,
    {
      timeoutMs = storeTimeoutMs,
      tokens = [] as readonly string[],
      onError,
    }: { timeoutMs?: number; tokens?: readonly string[]; onError?: (error: Error) => void } = {},
  ): Promise<T | F> {
    try {
      return await withDeadline(
        run(),
        timeoutMs,
        () => new Error(`token store ${operation} took longer than ${timeoutMs} ms`),
      );
    } catch (error) {
      const redacted = redactedError(error, [...tokens, ...context.knownTokens()]);
      emit({ type: 'store-failed', provider: source.name, operation, error: redacted });
      onError?.(redacted);
      return fallback;
    }
  }

  /** Reports an entry that is not what tokenflight wrote (`ERR_STORE_ENTRY_INVALID`). */
  function invalid(detail: string, operation: 'get' | 'set'): void {
    const error = new TokenflightError(`The token store held an entry that is not a valid token: ${detail}`, {
      code: 'ERR_STORE_ENTRY_INVALID',
      provider: source.name,
    });
    emit({ type: 'store-failed', provider: source.name, operation, error });
  }

  /** `found` if it is a valid token; otherwise it is reported, dropped from the store, and treated as missing. */
  async function checked(key: string, found: unknown, operation: 'get' | 'set'): Promise<StoredToken | undefined> {
    if (found === undefined) return undefined;
    const result = checkStoredToken(found, options.now());
    if (typeof result !== 'string') return result;
    invalid(result, operation);
    const { accessToken } = found as { accessToken?: unknown };
    if (typeof accessToken === 'string') {
      await call('delete', () => store.delete(key, accessToken), undefined, { tokens: [accessToken] });
    }
    return undefined;
  }

  return {
    call,
    checked,
    invalid,
    /** The entry for `key`, if there is one and it is a valid token. */
    async read(key: string): Promise<StoredToken | undefined> {
      return checked(key, await call('get', () => store.get(key), undefined), 'get');
    },
    /** The token this store keeps after offering it `token` (the newer of the two wins). */
    async write(key: string, token: StoredToken): Promise<StoredToken> {
      const held = await call('set', () => store.set(key, token), token, { tokens: [token.accessToken] });
      return held === token ? token : ((await checked(key, held, 'set')) ?? token);
    },
    /** The lock; `none` when the store has no lock, `failed` when it failed, `timeout` when another holder kept it past the wait. */
    async lock(key: string): Promise<TokenStoreLock | 'none' | 'failed' | 'timeout'> {
      if (store.lock === undefined) return 'none';
      const takeLock = store.lock.bind(store);
      const rotating = source.rotation !== undefined;
      const lockOptions = { ttlMs: lockTtlMs, waitMs: lockTtlMs, signal: context.signal, rotating };
      const lock = await call('lock', () => takeLock(key, lockOptions), 'failed' as const, {
        timeoutMs: lockTtlMs + storeTimeoutMs,
      });
      return lock ?? 'timeout';
    },
  };
}
