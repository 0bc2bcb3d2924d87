import { invalidOption } from '../errors.js';
import { displayUrl, expectHttpUrl, expectOrigin } from '../url.js';
import { describe, expectBoolean, expectKnownKeys, expectOptions, expectString } from '../validate.js';
import { kEndpoint, type ResponseShape, type TokenEndpoint, type TokenProvider } from './endpoint.js';

/** Options every provider factory takes. */
export interface ProviderOptions {
  /**
   * The provider's name, to pick it in `auth.token(name)` and `tokenAuth: { provider }`; needed
   * only to tell apart two providers of one kind on one instance.
   */
  name?: string;
  /**
   * The origins its tokens may be sent to, such as `['https://api.example.com']`. A request gets
   * the token only if its final URL has one of these origins.
   * @default the origin of the provider's base URL or token URL
   */
  origins?: readonly string[];
  /**
   * Allow plain `http:` URLs to hosts other than this machine. Tokens and secrets then travel
   * unencrypted: for test rigs only.
   * @default false
   */
  allowInsecureHttp?: boolean;
}

export const PROVIDER_OPTION_KEYS = ['name', 'origins', 'allowInsecureHttp'] as const;

export interface ProviderInput {
  context: string;
  options: Record<string, unknown>;
  defaultName: string;
  endpoint: Omit<TokenEndpoint, 'url' | 'response'> & {
    url: URL;
    response: Partial<ResponseShape> & Pick<ResponseShape, 'token'>;
  };
}

/** Reads a factory's options object and checks its keys; `keys` are the factory's own options. */
export function readOptions(value: unknown, context: string, keys: readonly string[]): Record<string, unknown> {
  const options = expectOptions(value, context);
  expectKnownKeys(options, [...keys, ...PROVIDER_OPTION_KEYS], context);
  return options;
}

export function insecureAllowed(options: Record<string, unknown>, context: string): boolean {
  return expectBoolean(options['allowInsecureHttp'], 'allowInsecureHttp', context) ?? false;
}

/** Resolves a vendor's path against a base URL option (default or given). */
export function endpointUrl(
  options: Record<string, unknown>,
  context: string,
  base: { key: string; fallback?: string },
  path: string,
): URL {
  const given = options[base.key];
  const baseUrl = expectHttpUrl(
    given === undefined ? base.fallback : given,
    base.key,
    context,
    insecureAllowed(options, context),
  );
  const prefix = baseUrl.href.replace(/\/+$/, '');
  return new URL(`${prefix}${path}`);
}

/** Builds the frozen provider object; its credentials sit behind a non-enumerable symbol. */
export function defineProvider(input: ProviderInput): TokenProvider {
  const { context, options } = input;
  const allowInsecureHttp = insecureAllowed(options, context);
  const name = options['name'] === undefined ? input.defaultName : expectString(options['name'], 'name', context);
  if (/\s/.test(name))
    throw invalidOption(`${context}: expected \`name\` to have no spaces, got ${JSON.stringify(name)}`);

  const url = input.endpoint.url;
  expectHttpUrl(url.href, 'tokenUrl', context, allowInsecureHttp);
  let origins = [url.origin];
  const givenOrigins = options['origins'];
  if (givenOrigins !== undefined) {
    if (!Array.isArray(givenOrigins) || givenOrigins.length === 0) {
      throw invalidOption(
        `${context}: expected \`origins\` to be a non-empty array of origins, got ${describe(givenOrigins)}`,
        'ERR_INVALID_ARG_TYPE',
      );
    }
    origins = [
      ...new Set(
        givenOrigins.map((origin: unknown, index) =>
          expectOrigin(origin, `origins[${index}]`, context, allowInsecureHttp),
        ),
      ),
    ];
  }

  const endpoint: TokenEndpoint = {
    ...input.endpoint,
    response: {
      expiresIn: undefined,
      expiresInUnit: 'seconds',
      tokenType: undefined,
      success: undefined,
      errorCode: [],
      errorMessage: [],
      ...input.endpoint.response,
    },
  };
  const provider = { name, origins: Object.freeze(origins), tokenUrl: displayUrl(url) };
  Object.defineProperty(provider, kEndpoint, { value: endpoint, enumerable: false });
  return Object.freeze(provider) as TokenProvider;
}

export const path = (dotted: string): readonly string[] => dotted.split('.');
