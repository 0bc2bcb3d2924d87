import axios, { type AxiosInstance } from 'axios';
import { BASE_OPTION_KEYS, readBaseOptions, type BaseSettings, type TokenAuthBaseOptions } from '../core/options.js';
import { invalidOption } from '../shared/errors.js';
import { describe } from '../shared/validate.js';

export type { RejectionContext, TokenAuthBaseOptions, TokenRequestOptions } from '../core/options.js';

/**
 * Options of {@link attachTokenAuth}: those of {@link TokenAuthBaseOptions}, and `tokenClient`.
 * Only `providers` is required; every default is in {@link DEFAULTS}.
 *
 * @example
 * ```ts
 * attachTokenAuth(api, {
 *   providers: [symbl({ appId, appSecret }), marsview({ userId, apiKey, apiSecret })],
 *   store: new MemoryTokenStore(),
 *   refreshWindowMs: 120_000,
 *   tokenRequest: { timeoutMs: 5_000 },
 *   logger: pino(),
 * });
 * ```
 */
export interface TokenAuthOptions extends TokenAuthBaseOptions {
  /**
   * The axios instance token requests go through. It must not be the instance tokenflight is
   * attached to. Give one to set a proxy or an agent, or to mock the token endpoint in tests.
   * @default axios.create()
   */
  tokenClient?: AxiosInstance;
}

/** attachTokenAuth's options, read and checked once, with every default filled in. */
export interface AttachSettings extends BaseSettings {
  readonly tokenClient: AxiosInstance;
}

const CONTEXT = 'attachTokenAuth()';
/** Every option `attachTokenAuth` takes (a key not listed is refused). */
export const TOKEN_AUTH_KEYS: readonly (keyof TokenAuthOptions)[] = [...BASE_OPTION_KEYS, 'tokenClient'];

/**
 * Reads and validates attachTokenAuth's options into one settings object; every mistake is an
 * `InvalidOptionError` that names the option, thrown before any request is sent.
 */
export function readAttachOptions(instance: unknown, options: TokenAuthOptions): AttachSettings {
  if (!isAxiosInstance(instance)) {
    throw invalidOption(`${CONTEXT}: expected an axios instance, got ${describe(instance)}`, 'ERR_INVALID_ARG_TYPE');
  }
  const settings = readBaseOptions(options, CONTEXT, TOKEN_AUTH_KEYS);
  return { ...settings, tokenClient: readTokenClient(options.tokenClient, instance) };
}

function readTokenClient(value: unknown, instance: AxiosInstance): AxiosInstance {
  if (value !== undefined && !isAxiosInstance(value)) {
    throw invalidOption(
      `${CONTEXT}: expected \`tokenClient\` to be an axios instance, got ${describe(value)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  if (value === instance) {
    throw invalidOption(
      `${CONTEXT}: \`tokenClient\` must not be the instance tokenflight is attached to: its token requests would go through tokenflight`,
    );
  }
  return value ?? axios.create();
}

export function isAxiosInstance(value: unknown): value is AxiosInstance {
  const interceptors = (value as { interceptors?: { request?: { use?: unknown } } } | null | undefined)?.interceptors;
  return typeof value === 'function' && typeof interceptors?.request?.use === 'function';
}
