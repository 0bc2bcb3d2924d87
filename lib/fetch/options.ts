import { BASE_OPTION_KEYS, readBaseOptions, type BaseSettings, type TokenAuthBaseOptions } from '../core/options.js';
import { invalidOption } from '../shared/errors.js';
import { describe } from '../shared/validate.js';
import type { FetchFunction } from './http-client.js';

/**
 * Options of {@link createTokenFetch}: those of {@link TokenAuthBaseOptions}, and the `fetch`
 * underneath. Only `providers` is required; every default is in {@link DEFAULTS}. An OAuth grant
 * (`clientCredentials`, `refreshTokenGrant`) must be given `origins` here: there is no base URL
 * to take them from.
 *
 * @example
 * ```ts
 * createTokenFetch({
 *   providers: clientCredentials({ tokenUrl, clientId, clientSecret, origins: ['https://api.example.com'] }),
 *   refreshWindowMs: 120_000,
 *   tokenRequest: { timeoutMs: 5_000 },
 * });
 * ```
 */
export interface TokenFetchOptions extends TokenAuthBaseOptions {
  /**
   * The fetch that API requests (and, unless `tokenFetch` is given, token requests) go through:
   * the global one, or one with a proxy or a mock. Never `auth.fetch` itself.
   * @default globalThis.fetch
   */
  fetch?: FetchFunction;
  /**
   * A separate fetch for token requests only (a proxy to the authorization server, a mock of
   * the token endpoint in tests). Never `auth.fetch` itself.
   * @default the fetch option
   */
  tokenFetch?: FetchFunction;
}

/** createTokenFetch's options, read and checked once, with every default filled in. */
export interface FetchSettings extends BaseSettings {
  readonly fetch: FetchFunction;
  readonly tokenFetch: FetchFunction;
}

export const CONTEXT = 'createTokenFetch()';
/** Every option `createTokenFetch` takes (a key not listed is refused). */
export const TOKEN_FETCH_KEYS: readonly (keyof TokenFetchOptions)[] = [...BASE_OPTION_KEYS, 'fetch', 'tokenFetch'];

/** Reads and validates createTokenFetch's options; every mistake is an `InvalidOptionError` naming the option. */
export function readFetchOptions(options: TokenFetchOptions): FetchSettings {
  const settings = readBaseOptions(options, CONTEXT, TOKEN_FETCH_KEYS);
  const fetch = readFetch(options.fetch, 'fetch', globalThis.fetch);
  return { ...settings, fetch, tokenFetch: readFetch(options.tokenFetch, 'tokenFetch', fetch) };
}

function readFetch(value: unknown, key: string, fallback: FetchFunction | undefined): FetchFunction {
  if (value !== undefined && typeof value !== 'function') {
    throw invalidOption(
      `${CONTEXT}: expected \`${key}\` to be a fetch function, got ${describe(value)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  const chosen = (value as FetchFunction | undefined) ?? fallback;
  if (chosen === undefined) {
    throw invalidOption(`${CONTEXT}: this runtime has no global \`fetch\`; pass the \`${key}\` option`);
  }
  return chosen;
}
