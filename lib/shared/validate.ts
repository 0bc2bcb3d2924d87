import { invalidOption } from './errors.js';
import { tooLong } from './token-check.js';

/** Describes what was received without ever quoting it (it may be a secret). */
export function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'string') return value === '' ? 'an empty string' : 'a string';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const type = typeof value;
  return `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

export function expectOptions(value: unknown, context: string): Record<string, unknown> {
  if (!isPlainObject(value)) {
    throw invalidOption(`${context}: expected an options object, got ${describe(value)}`, 'ERR_INVALID_ARG_TYPE');
  }
  return value;
}

/** Unknown options are a type error for TypeScript users; JavaScript users get this at run time. */
export function expectKnownKeys(options: Record<string, unknown>, allowed: readonly string[], context: string): void {
  for (const key of Object.keys(options)) {
    if (allowed.includes(key)) continue;
    const near = allowed.find((candidate) => candidate.toLowerCase() === key.toLowerCase());
    const hint =
      near === undefined
        ? ` (known options: ${allowed.map((k) => `\`${k}\``).join(', ')})`
        : ` (did you mean \`${near}\`?)`;
    throw invalidOption(`${context}: unknown option \`${key}\`${hint}`);
  }
}

export function expectString(value: unknown, path: string, context: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw invalidOption(
      `${context}: expected \`${path}\` to be a non-empty string, got ${describe(value)}`,
      typeof value === 'string' ? 'ERR_INVALID_ARG_VALUE' : 'ERR_INVALID_ARG_TYPE',
    );
  }
  return value;
}

/** RFC 6749 Appendix A.17: a refresh token is one or more visible ASCII characters or spaces. */
const REFRESH_TOKEN = /^[\x20-\x7E]+$/;

/** Whether `value` may be a refresh token (RFC 6749 Appendix A.17): wherever one is read, given or stored. */
export function isRefreshToken(value: unknown): value is string {
  return typeof value === 'string' && REFRESH_TOKEN.test(value);
}

/** A refresh token given by the application (`refreshToken` of `context`), never quoted in the error. */
export function expectRefreshToken(value: unknown, context: string): string {
  const given = expectString(value, 'refreshToken', context);
  const length = tooLong(given);
  if (length !== undefined) throw invalidOption(`${context}: \`refreshToken\` ${length}`);
  if (!isRefreshToken(given)) {
    throw invalidOption(`${context}: expected \`refreshToken\` to hold only visible ASCII characters`);
  }
  return given;
}

export function optionalString(value: unknown, path: string, context: string): string | undefined {
  return value === undefined ? undefined : expectString(value, path, context);
}

export function expectBoolean(value: unknown, path: string, context: string): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  throw invalidOption(
    `${context}: expected \`${path}\` to be a boolean, got ${describe(value)}`,
    'ERR_INVALID_ARG_TYPE',
  );
}

export function expectNumber(
  value: unknown,
  path: string,
  context: string,
  { min = 0, integer = false }: { min?: number; integer?: boolean } = {},
): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    const what = integer ? 'an integer' : 'a finite number';
    const received = typeof value === 'number' ? String(value) : describe(value);
    throw invalidOption(
      `${context}: expected \`${path}\` to be ${what} >= ${min}, got ${received}`,
      typeof value === 'number' ? 'ERR_INVALID_ARG_VALUE' : 'ERR_INVALID_ARG_TYPE',
    );
  }
  return value;
}

export function checkFunction(value: unknown, path: string, context: string): void {
  if (value !== undefined && typeof value !== 'function') {
    throw invalidOption(
      `${context}: expected \`${path}\` to be a function, got ${describe(value)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
}
