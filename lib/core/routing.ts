import { invalidOption } from '../shared/errors.js';
import { redactUrl } from '../shared/redact.js';

/** The pieces of an axios request config that decide where it goes. */
export interface RequestTarget {
  url?: string | undefined;
  baseURL?: string | undefined;
  allowAbsoluteUrls?: boolean | undefined;
}

// axios's own test for "absolute": a scheme followed by //, or a protocol-relative //.
const ABSOLUTE_URL = /^([a-z][a-z\d+\-.]*:)?\/\//i;
const MAX_CACHED_ORIGINS = 256;

function pageOrigin(): string | undefined {
  const location = (globalThis as { location?: { origin?: unknown } }).location;
  return typeof location?.origin === 'string' && location.origin !== 'null' ? location.origin : undefined;
}

/** Finds the origin of a request; `cachedUrls()` says how many parsed URLs it holds (at most 256). */
export type OriginResolver = ((target: RequestTarget) => string | undefined) & { cachedUrls(): number };

/**
 * Finds the origin a request will really go to, the way axios's `buildFullPath` does: an absolute
 * or protocol-relative `url` wins over `baseURL` (unless `allowAbsoluteUrls: false`), otherwise
 * `url` is appended to `baseURL`. Appending never changes the base's origin, so the common case of
 * a relative URL is a cached lookup of the base, with no URL parsing per request.
 */
export function createOriginResolver(): OriginResolver {
  const cache = new Map<string, string | null>();

  function originOf(url: string): string | undefined {
    const cached = cache.get(url);
    if (cached !== undefined) return cached ?? undefined;
    let origin: string | null = null;
    // A protocol-relative URL resolves against the page; in Node there is none, and it does not parse.
    const parsed = URL.canParse(url, pageOrigin()) ? new URL(url, pageOrigin()) : undefined;
    if (parsed?.protocol === 'https:' || parsed?.protocol === 'http:') origin = parsed.origin;
    if (cache.size >= MAX_CACHED_ORIGINS) cache.clear();
    cache.set(url, origin);
    return origin ?? undefined;
  }

  const resolve = (target: RequestTarget): string | undefined => {
    const { url = '', baseURL } = target;
    if (typeof url !== 'string') return undefined;
    const hasBase = typeof baseURL === 'string' && baseURL !== '';
    if (isAbsolute(url) && !(hasBase && target.allowAbsoluteUrls === false)) return originOf(url);
    // A relative URL goes to its base's origin; a relative base (or none) to the page's own origin
    // in a browser, and nowhere in Node. A relative base is cached as having no origin.
    return (hasBase ? originOf(baseURL) : undefined) ?? pageOrigin();
  };
  return Object.assign(resolve, { cachedUrls: () => cache.size });
}

/** axios's test for an absolute URL, without a regex for the usual `/path`. */
function isAbsolute(url: string): boolean {
  if (url.charCodeAt(0) === 47 /* '/' */) return url.charCodeAt(1) === 47;
  return ABSOLUTE_URL.test(url);
}

/**
 * Origin and path of a request, joined as axios joins them, for events and errors: never the user
 * info, the query or the fragment ({@link redactUrl}).
 */
export function displayTarget(target: RequestTarget): string {
  const { url = '', baseURL } = target;
  const joined =
    typeof baseURL === 'string' && baseURL !== '' && (!isAbsolute(url) || target.allowAbsoluteUrls === false);
  const full = !joined ? url : url === '' ? baseURL : `${baseURL.replace(/\/+$/, '')}/${url.replace(/^\/+/, '')}`;
  return redactUrl(full);
}

/** What a router needs of each provider: its name and the origins it serves. */
export interface Routable {
  readonly name: string;
  readonly origins: readonly string[];
}

/** The `request-unrouted` report: a request whose origin no provider serves. */
export interface UnroutedRequest {
  /** The origin the request went to, or `null` when its URL has no http(s) origin. */
  readonly origin: string | null;
  /** Origin and path of the first such request, without user info or query string. */
  readonly url: string;
  /** Every origin the attached providers serve. */
  readonly servedOrigins: readonly string[];
}

export interface Router<T extends Routable> {
  /**
   * The provider whose token this request gets, from the URL it is sent to: `requested` (the
   * request's `tokenAuth.provider`) when given and it serves that origin, else the first provider
   * that lists the origin, else none. Naming a provider that is not attached, or that does not
   * serve the origin, is an `InvalidOptionError`.
   */
  readonly route: (target: RequestTarget, requested: string | undefined) => T | undefined;
  /** The origin a request is sent to, as `route` saw it. */
  readonly originOf: (target: RequestTarget) => string | undefined;
}

/** Requests to this many distinct unserved origins are reported; past it the memory is started afresh. */
const MAX_REPORTED_ORIGINS = 256;

/**
 * Routes requests to providers by origin, in O(1) per request. Reports each origin that no
 * provider serves once (a typo in a baseURL, `localhost` for `127.0.0.1`), so a request never goes
 * out without its token silently.
 */
export function createRouter<T extends Routable>(
  providers: readonly T[],
  onUnrouted: (report: UnroutedRequest) => void,
): Router<T> {
  const byName = new Map<string, T>();
  const byOrigin = new Map<string, T[]>();
  for (const provider of providers) {
    byName.set(provider.name, provider);
    for (const origin of provider.origins) {
      const list = byOrigin.get(origin) ?? [];
      list.push(provider);
      byOrigin.set(origin, list);
    }
  }
  const servedOrigins = [...byOrigin.keys()];
  const resolveOrigin = createOriginResolver();
  const reported = new Set<string | null>();

  function report(origin: string | undefined, target: RequestTarget): void {
    const key = origin ?? null;
    if (reported.has(key)) return;
    if (reported.size >= MAX_REPORTED_ORIGINS) reported.clear();
    reported.add(key);
    onUnrouted({ origin: key, url: displayTarget(target), servedOrigins });
  }

  function route(target: RequestTarget, requested: string | undefined): T | undefined {
    const origin = resolveOrigin(target);
    const candidates = origin === undefined ? undefined : byOrigin.get(origin);
    if (requested === undefined) {
      if (candidates === undefined) report(origin, target);
      return candidates?.[0];
    }
    const provider = byName.get(requested);
    if (provider === undefined) {
      throw invalidOption(
        `tokenAuth.provider: no provider named "${requested}" is attached (attached: ${[...byName.keys()].join(', ')})`,
      );
    }
    if (candidates?.includes(provider) !== true) {
      throw invalidOption(
        `tokenAuth.provider: provider "${requested}" does not serve ${origin ?? 'this URL'} (its origins: ${provider.origins.join(', ')})`,
      );
    }
    return provider;
  }

  return { route, originOf: resolveOrigin };
}
