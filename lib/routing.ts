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

/**
 * Finds the origin a request will really go to, the way axios's `buildFullPath` does: an absolute
 * or protocol-relative `url` wins over `baseURL` (unless `allowAbsoluteUrls: false`), otherwise
 * `url` is appended to `baseURL`. Appending never changes the base's origin, so the common case of
 * a relative URL is a cached lookup of the base, with no URL parsing per request.
 */
export function createOriginResolver(): (target: RequestTarget) => string | undefined {
  const cache = new Map<string, string | null>();

  function originOf(url: string): string | undefined {
    const cached = cache.get(url);
    if (cached !== undefined) return cached ?? undefined;
    let origin: string | null = null;
    try {
      const page = url.startsWith('//') ? pageOrigin() : undefined;
      if (!url.startsWith('//') || page !== undefined) {
        const parsed = new URL(url, page);
        if (parsed.protocol === 'https:' || parsed.protocol === 'http:') origin = parsed.origin;
      }
    } catch {
      origin = null;
    }
    if (cache.size >= MAX_CACHED_ORIGINS) cache.clear();
    cache.set(url, origin);
    return origin ?? undefined;
  }

  return (target) => {
    const { url = '', baseURL } = target;
    if (typeof url !== 'string') return undefined;
    const hasBase = typeof baseURL === 'string' && baseURL !== '';
    if (isAbsolute(url) && !(hasBase && target.allowAbsoluteUrls === false)) return originOf(url);
    // A relative URL goes to its base's origin; a relative base (or none) to the page's own origin
    // in a browser, and nowhere in Node. A relative base is cached as having no origin.
    return (hasBase ? originOf(baseURL) : undefined) ?? pageOrigin();
  };
}

/** axios's test for an absolute URL, without a regex for the usual `/path`. */
function isAbsolute(url: string): boolean {
  if (url.charCodeAt(0) === 47 /* '/' */) return url.charCodeAt(1) === 47;
  return ABSOLUTE_URL.test(url);
}

/** Origin and path of a request, for events: never the query string. */
export function displayTarget(target: RequestTarget): string {
  const { url = '', baseURL } = target;
  const full =
    typeof baseURL === 'string' && baseURL !== '' && (!ABSOLUTE_URL.test(url) || target.allowAbsoluteUrls === false)
      ? `${baseURL.replace(/\/+$/, '')}/${url.replace(/^\/+/, '')}`
      : url;
  return full.replace(/[?#].*$/s, '').replace(/\/\/[^/@]*@/, '//');
}
