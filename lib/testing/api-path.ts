// Which paths a simulated protected API answers: every path under its `apiPath` prefix (all of them
// by default) but the token endpoint, so a client can be tested at the real API's paths.

/** Checks the `apiPath` option: `/` (every path, the default) or a path prefix such as `/v1`. */
export function readApiPath(value: unknown, context: string): string {
  if (value === undefined) return '/';
  if (typeof value !== 'string' || !value.startsWith('/') || /[?#\s]/.test(value)) {
    throw new TypeError(
      `${context}: expected \`apiPath\` to be a path prefix such as "/v1" (or "/" for every path), got ${typeof value === 'string' ? JSON.stringify(value) : typeof value}`,
    );
  }
  return value;
}

/** True when `pathname` is `apiPath` or below it (`/v1` covers `/v1` and `/v1/…`, not `/v1x`). */
export function isUnderApiPath(pathname: string, apiPath: string): boolean {
  const prefix = apiPath.replace(/\/+$/, '');
  return prefix === '' || pathname === prefix || pathname.startsWith(`${prefix}/`);
}
