import { invalidOption } from '../shared/errors.js';
import { expectHttpUrl } from '../shared/url.js';
import { describe, expectNumber, expectString, isPlainObject, optionalString } from '../shared/validate.js';
import type { TokenProvider } from './endpoint.js';
import { defineProvider, insecureAllowed, path, readOptions, type ProviderOptions } from './define.js';

/** A JSON value, for request bodies. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** Options of {@link jsonProvider}. Paths are dotted property names from the root of the JSON answer. */
export interface JsonProviderOptions extends ProviderOptions {
  /** Required: there is no default name for a custom provider. */
  name: string;
  /** The token endpoint. */
  tokenUrl: string;
  /** @default 'POST' */
  method?: 'POST' | 'GET';
  /** The JSON request body (POST only). Every string in it is treated as a secret. */
  body?: Readonly<Record<string, JsonValue>>;
  /** Extra request headers, such as an API key. Their values are treated as secrets. */
  headers?: Readonly<Record<string, string>>;
  /** Where the token is, e.g. `'data.accessToken'`. */
  token: string;
  /** Where its lifetime is, e.g. `'data.expiresIn'`. */
  expiresIn?: string;
  /** @default 'seconds' */
  expiresInUnit?: 'seconds' | 'milliseconds';
  /** Where the token type is; `Bearer` when absent. */
  tokenType?: string;
  /** A flag that must be `true` in a successful answer, e.g. `'status'` or `'success'`. */
  success?: string;
  /** Where the vendor's error code is. @default ['error', 'code', 'errorCode'] */
  errorCode?: string | readonly string[];
  /** Where the vendor's error message is. @default ['message', 'error_description', 'errorMessage'] */
  errorMessage?: string | readonly string[];
  /** Lifetime to assume when the answer has none and the token is not a JWT with `exp`. */
  defaultLifetimeMs?: number;
}

function stringsIn(value: unknown, into: string[]): string[] {
  if (typeof value === 'string') into.push(value);
  else if (Array.isArray(value)) for (const item of value) stringsIn(item, into);
  else if (isPlainObject(value)) for (const item of Object.values(value)) stringsIn(item, into);
  return into;
}

function paths(value: unknown, key: string, context: string, fallback: readonly string[]): (readonly string[])[] {
  if (value === undefined) return fallback.map(path);
  const list: unknown[] = Array.isArray(value) ? value : [value];
  return list.map((item, index) => path(expectString(item, Array.isArray(value) ? `${key}[${index}]` : key, context)));
}

/**
 * Any other JSON token endpoint, declared in a few lines: what to send, and where the token and
 * its lifetime are in the answer. tokenflight makes the HTTP call, retries, validates and caches.
 *
 * @example
 * ```ts
 * const acme = jsonProvider({
 *   name: 'acme',
 *   tokenUrl: 'https://auth.acme.com/v2/session',
 *   body: { key: process.env.ACME_KEY!, secret: process.env.ACME_SECRET! },
 *   token: 'result.session_token',
 *   expiresIn: 'result.ttl',
 *   success: 'ok',
 *   errorCode: 'error.code',
 *   origins: ['https://api.acme.com'],
 * });
 * ```
 */
export function jsonProvider(options: JsonProviderOptions): TokenProvider {
  const context = 'jsonProvider()';
  const keys = [
    'tokenUrl',
    'method',
    'body',
    'headers',
    'token',
    'expiresIn',
    'expiresInUnit',
    'tokenType',
    'success',
    'errorCode',
    'errorMessage',
    'defaultLifetimeMs',
  ];
  const given = readOptions(options, context, keys);
  expectString(given['name'], 'name', context);
  const url = expectHttpUrl(given['tokenUrl'], 'tokenUrl', context, insecureAllowed(given, context));

  const method = given['method'] ?? 'POST';
  if (method !== 'POST' && method !== 'GET') {
    throw invalidOption(
      `${context}: expected \`method\` to be 'POST' or 'GET', got ${typeof method === 'string' ? JSON.stringify(method) : describe(method)}`,
    );
  }
  const body = given['body'];
  if (body !== undefined && (!isPlainObject(body) || method === 'GET')) {
    throw invalidOption(
      `${context}: expected \`body\` to be a JSON object for a POST request, got ${method === 'GET' ? 'a body with GET' : describe(body)}`,
    );
  }
  const headers = given['headers'];
  if (headers !== undefined && !isPlainObject(headers)) {
    throw invalidOption(
      `${context}: expected \`headers\` to be an object of strings, got ${describe(headers)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  const headerValues: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers ?? {}))
    headerValues[key] = expectString(value, `headers.${key}`, context);

  const unit = given['expiresInUnit'] ?? 'seconds';
  if (unit !== 'seconds' && unit !== 'milliseconds') {
    throw invalidOption(
      `${context}: expected \`expiresInUnit\` to be 'seconds' or 'milliseconds', got ${typeof unit === 'string' ? JSON.stringify(unit) : describe(unit)}`,
    );
  }
  const optionalPath = (key: string): readonly string[] | undefined => {
    const value = optionalString(given[key], key, context);
    return value === undefined ? undefined : path(value);
  };

  return defineProvider({
    context,
    options: given,
    defaultName: 'json',
    endpoint: {
      kind: 'json',
      url,
      method,
      encoding: 'json',
      body: body === undefined ? (method === 'POST' ? {} : undefined) : body,
      headers: headerValues,
      secrets: [...stringsIn(body, []), ...Object.values(headerValues)],
      response: {
        token: path(expectString(given['token'], 'token', context)),
        expiresIn: optionalPath('expiresIn'),
        expiresInUnit: unit,
        tokenType: optionalPath('tokenType'),
        success: optionalPath('success'),
        errorCode: paths(given['errorCode'], 'errorCode', context, ['error', 'code', 'errorCode']),
        errorMessage: paths(given['errorMessage'], 'errorMessage', context, [
          'message',
          'error_description',
          'errorMessage',
        ]),
      },
      defaultLifetimeMs: expectNumber(given['defaultLifetimeMs'], 'defaultLifetimeMs', context, { min: 1 }),
    },
  });
}
