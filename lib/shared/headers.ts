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

/**
 * Writes a header tokenflight owns (`Authorization`, `DPoP`) into an axios request's headers.
 * `AxiosHeaders.set()` validates and normalises on every call, which costs more than the rest of
 * tokenflight's hot path together; the value here is already known to be safe (a validated scheme
 * and a token of RFC 6750 b64token characters, or a proof in base64url), so the slot is written
 * directly, reusing an existing key of that name in whatever case it was given so the header is
 * never sent twice.
 */
export function writeHeader(headers: Record<string, unknown>, name: string, value: string): void {
  const lower = name.toLowerCase();
  let slot = name;
  for (const key in headers) {
    if (key.toLowerCase() === lower) {
      slot = key;
      break;
    }
  }
  headers[slot] = value;
}
