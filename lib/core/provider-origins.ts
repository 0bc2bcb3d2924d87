import { invalidOption } from '../shared/errors.js';
import { kInsecureHttp, type TokenProvider } from '../providers/endpoint.js';
import { createOriginResolver } from './routing.js';
import { isLoopbackHost } from '../shared/url.js';

// Where a provider's tokens may go on a given boundary. A vendor's origins (token endpoint and API
// on one origin) and origins given as an option are the same everywhere. An OAuth grant given no
// `origins` (`originsFrom: 'instance'`) has a token endpoint that is an authorization server, rarely
// the API: an axios instance's `baseURL` names the API, so its origin is served *instead of* the
// token endpoint's (an access token's audience is the API; the authorization server need not see
// it). A boundary with no base URL (fetch) cannot guess, so it refuses such a provider.

/**
 * The origins `provider` serves on an axios instance whose `baseURL` (its defaults, when
 * `attachTokenAuth` runs) is `baseURL`: the `baseURL`'s origin for an OAuth grant given no
 * `origins`, its own `origins` otherwise, or when the instance has no `baseURL` with an origin (none,
 * or a relative one outside a browser). A plain-http `baseURL` to another host than this machine is
 * refused unless the provider allows insecure http, as it would be in `origins`.
 */
export function originsOnInstance(provider: TokenProvider, baseURL: unknown, context: string): readonly string[] {
  if (provider.originsFrom !== 'instance') return provider.origins;
  const origin =
    typeof baseURL === 'string' && baseURL !== '' ? createOriginResolver()({ baseURL, url: '' }) : undefined;
  if (origin === undefined) return withoutBase(provider, context);
  const { protocol, hostname } = new URL(origin);
  if (protocol === 'http:' && !provider[kInsecureHttp] && !isLoopbackHost(hostname)) {
    throw invalidOption(
      `${context}: provider "${provider.name}" was given no \`origins\`, so it would serve the instance's \`baseURL\` (${origin}) over plain http: ` +
        'its tokens would travel unencrypted. Use https, or give the provider `origins` and `allowInsecureHttp: true` if you really mean it',
    );
  }
  return [origin];
}

/**
 * The origins `provider` serves on a boundary that has no base URL (`createTokenFetch`): its own,
 * unless it is an OAuth grant given no `origins`, which is refused (an `InvalidOptionError` naming
 * `origins`): its token endpoint's origin is rarely the API's.
 */
export function originsWithoutBase(provider: TokenProvider, context: string): readonly string[] {
  if (provider.originsFrom !== 'instance') return provider.origins;
  return needsOrigins(provider, context);
}

/**
 * An OAuth grant given no `origins` on an axios instance without a base URL: its token URL's origin
 * (the rule of 0.1 and 0.2), or, when its token endpoint is discovered from an issuer, a refusal
 * naming `origins` (the issuer's origin is never served).
 */
function withoutBase(provider: TokenProvider, context: string): readonly string[] {
  return provider.origins.length > 0 ? provider.origins : needsOrigins(provider, context);
}

function needsOrigins(provider: TokenProvider, context: string): never {
  throw invalidOption(
    `${context}: provider "${provider.name}" needs \`origins\`: the origins of the API its tokens are for, such as ['https://api.example.com'] ` +
      `(an OAuth grant's token endpoint, ${provider.tokenUrl}, is rarely the API, and here there is no baseURL to take it from)`,
  );
}
