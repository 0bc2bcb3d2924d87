type BeforeRedirect = (redirect: Record<string, unknown>, response?: unknown, request?: { url?: string }) => void;

/**
 * Rule 1 for redirects: whatever the transport does, the token never follows a change of origin
 * (scheme, host or port). axios's Node transport calls `beforeRedirect` with the options of the
 * next hop; the browser's transports never expose redirects, and there the browser itself drops
 * `Authorization` across origins.
 */
const stripOnCrossOrigin: BeforeRedirect = (redirect, _response, request) => {
  const headers = redirect['headers'];
  if (isSameOrigin(redirect['href'], request?.url) || typeof headers !== 'object' || headers === null) return;
  for (const key of Object.keys(headers)) {
    // A DPoP proof goes with its token: it is for this URL only (RFC 9449 §4.2).
    const name = key.toLowerCase();
    if (name === 'authorization' || name === 'dpop') Reflect.deleteProperty(headers, key);
  }
};

const guards = new WeakSet<object>([stripOnCrossOrigin]);

/** Makes `config.beforeRedirect` strip the token on a change of origin, before any hook of the user's. Idempotent. */
export function guardRedirects(config: { beforeRedirect?: unknown }): void {
  const existing = config.beforeRedirect;
  if (existing === undefined || existing === null) {
    config.beforeRedirect = stripOnCrossOrigin;
  } else if (typeof existing === 'function' && !guards.has(existing)) {
    const chained: BeforeRedirect = (redirect, response, request) => {
      stripOnCrossOrigin(redirect, response, request);
      (existing as BeforeRedirect)(redirect, response, request);
    };
    guards.add(chained);
    config.beforeRedirect = chained;
  }
}

function isSameOrigin(next: unknown, previous: string | undefined): boolean {
  if (typeof next !== 'string' || previous === undefined) return false;
  try {
    return new URL(next).origin === new URL(previous).origin;
  } catch {
    return false;
  }
}
