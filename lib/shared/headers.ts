/**
 * A response header as text, from axios's `AxiosHeaders` or a plain object (mock adapters), the
 * name matched without regard to case; a repeated header is joined with `, `.
 */
export function headerText(headers: unknown, name: string): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  const get = (headers as { get?: unknown }).get;
  const value: unknown =
    typeof get === 'function'
      ? (get as (name: string) => unknown).call(headers, name)
      : Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
  if (Array.isArray(value)) return value.join(', ');
  return typeof value === 'string' ? value : undefined;
}

/** The statuses whose `Location` a client follows (RFC 9110 §15.4), on both boundaries. */
export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
