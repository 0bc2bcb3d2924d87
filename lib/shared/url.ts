import { invalidOption } from './errors.js';
import { redactUrl } from './redact.js';
import { describe } from './validate.js';

/** Hosts to which a token may travel over plain http: only this machine. */
export function isLoopbackHost(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname.endsWith('.localhost') ||
    hostname === '[::1]' ||
    /^127(?:\.\d{1,3}){3}$/.test(hostname)
  );
}

/** A URL fit for an error message: no user info, no query string, no fragment. */
export function displayUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

function showUrl(value: string): string {
  try {
    return JSON.stringify(displayUrl(new URL(value)));
  } catch {
    return JSON.stringify(redactUrl(value));
  }
}

/**
 * Parses an absolute http(s) URL from options. Plain http is refused except to loopback hosts,
 * unless `allowInsecureHttp` says otherwise: a bearer token or a secret sent in the clear is a
 * secret given away.
 */
export function expectHttpUrl(value: unknown, path: string, context: string, allowInsecureHttp: boolean): URL {
  if (typeof value !== 'string' || value.trim() === '') {
    throw invalidOption(
      `${context}: expected \`${path}\` to be an absolute http(s) URL, got ${describe(value)}`,
      typeof value === 'string' ? 'ERR_INVALID_ARG_VALUE' : 'ERR_INVALID_ARG_TYPE',
    );
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidOption(`${context}: expected \`${path}\` to be an absolute http(s) URL, got ${showUrl(value)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw invalidOption(`${context}: expected \`${path}\` to be an absolute http(s) URL, got ${showUrl(value)}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw invalidOption(`${context}: \`${path}\` must not carry user info; pass credentials as options`);
  }
  if (url.protocol === 'http:' && !allowInsecureHttp && !isLoopbackHost(url.hostname)) {
    throw invalidOption(
      `${context}: refusing plain http for \`${path}\` (${showUrl(value)}): tokens and secrets would travel unencrypted. ` +
        'Use https, or pass `allowInsecureHttp: true` if you really mean it',
    );
  }
  return url;
}

/** Parses an origin such as `https://api.example.com` (a trailing slash is tolerated, a path is not). */
export function expectOrigin(value: unknown, path: string, context: string, allowInsecureHttp: boolean): string {
  const url = expectHttpUrl(value, path, context, allowInsecureHttp);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    throw invalidOption(
      `${context}: expected \`${path}\` to be an origin such as "https://api.example.com", got ${showUrl(String(value))}`,
    );
  }
  return url.origin;
}
