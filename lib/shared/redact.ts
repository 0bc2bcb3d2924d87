import type { AxiosError } from 'axios';
import { isTokenflightError } from './errors.js';

/**
 * The one place tokenflight scrubs secrets and tokens. Vendor messages in token errors, store
 * failures in events, Redis errors, the axios error a caller gets and every logger line pass
 * through here. The rules, in order:
 *
 * 1. Only secrets are scrubbed: client secrets, API keys, refresh and access tokens, assertions,
 *    private keys, Authorization header values. Public identifiers (a client ID, RFC 6749 §2.2;
 *    an app, user or merchant ID; a provider's name) are not secrets: callers never pass them.
 * 2. A secret of {@link SHORT_SECRET_LENGTH} characters or more is scrubbed wherever it occurs,
 *    even inside a word: such a value does not turn up inside other text by chance.
 * 3. A shorter secret is scrubbed only where it does not cut a word in two: where it starts with a
 *    letter, digit or `_`, the character before it is none of those, and likewise after its end.
 *    A secret `gr` is scrubbed from `secret=gr&x` and `"gr"`, never from `invalid_grant`, so a
 *    short value cannot corrupt text; text never shows it as a value of its own. The price: a
 *    short secret glued to letters or digits (`grgr`, `xgr`) is left. A value that short is weak
 *    as a secret anyway, and one standing as a value (quoted, after `=` or `:`) is always caught.
 * 4. Codes (an OAuth `error`, a vendor's code, tokenflight's `code`) are never altered: a code
 *    that holds a secret under rules 2 and 3 is withheld whole ({@link redactCode}), never
 *    partly scrubbed, and what a code means is decided on the code as received, before any of this.
 * 5. If a secret would still show across the edge of a marker, the whole text is replaced.
 *
 * Matching is literal (no regular expressions built from secrets).
 */

/** What stands where a secret or a token was. */
export const REDACTED = '[REDACTED]';

/** Secrets at least this long are scrubbed wherever they occur; shorter ones only where they stand alone. */
export const SHORT_SECRET_LENGTH = 8;

/** Secrets worth looking for, each once. */
function secretList(secrets: Iterable<string | undefined>): string[] {
  const list = new Set<string>();
  for (const secret of secrets) if (typeof secret === 'string' && secret !== '') list.add(secret);
  return [...list];
}

const WORD = /^[\p{L}\p{N}_]$/u;
const isWord = (character: string): boolean => WORD.test(character);

/** Rules 2 and 3: whether the occurrence of `secret` at `at` in `text` is one to scrub. */
function counts(text: string, secret: string, at: number): boolean {
  if (secret.length >= SHORT_SECRET_LENGTH) return true;
  const end = at + secret.length;
  if (isWord(secret.charAt(0)) && at > 0 && isWord(text.charAt(at - 1))) return false;
  return !(isWord(secret.charAt(secret.length - 1)) && end < text.length && isWord(text.charAt(end)));
}

/** Where `secret` occurs in `text` in a way rules 2 and 3 scrub. */
function occurrences(text: string, secret: string): number[] {
  const found: number[] = [];
  for (let at = text.indexOf(secret); at !== -1; at = text.indexOf(secret, at + 1)) {
    if (counts(text, secret, at)) found.push(at);
  }
  return found;
}

/**
 * Whether `text` shows one of `secrets` (rules 2 and 3). A secret that the marker itself contains
 * is not looked for: it cannot be told apart from the marker.
 */
export function showsSecret(text: string, secrets: Iterable<string | undefined>): boolean {
  return secretList(secrets).some((secret) => !REDACTED.includes(secret) && occurrences(text, secret).length > 0);
}

/** Like {@link showsSecret}, for text no marker was put in: every secret counts. */
function holdsSecret(text: string, secrets: Iterable<string | undefined>): boolean {
  return secretList(secrets).some((secret) => occurrences(text, secret).length > 0);
}

/**
 * `text` with every occurrence of every secret that rules 2 and 3 scrub replaced by
 * {@link REDACTED}. Occurrences that overlap (secrets that are substrings of each other, or share
 * an edge) become one marker. If a secret would still show across the edge of a marker, the whole
 * text is replaced.
 */
export function redactText(text: string, secrets: Iterable<string | undefined>): string {
  const all = secretList(secrets);
  const covered = new Uint8Array(text.length);
  let found = false;
  for (const secret of all) {
    for (const at of occurrences(text, secret)) {
      covered.fill(1, at, at + secret.length);
      found = true;
    }
  }
  if (!found) return text;
  let out = '';
  for (let index = 0; index < text.length; index++) {
    if (covered[index] === 0) out += text.charAt(index);
    else if (index === 0 || covered[index - 1] === 0) out += REDACTED;
  }
  return showsSecret(out, all) ? REDACTED : out;
}

/**
 * Rule 4: a vendor's code as it was received, or `undefined` when it shows a secret (withheld
 * whole, never partly scrubbed). Only text that reads as a code is one: a string or number of
 * 1 to 128 visible ASCII characters or spaces (RFC 6749 §5.2 allows fewer); anything else is
 * withheld too, and belongs in a message, through {@link redactText}.
 */
export function redactCode(code: unknown, secrets: Iterable<string | undefined>): string | undefined {
  if (typeof code !== 'string' && typeof code !== 'number') return undefined;
  const text = String(code);
  if (!/^[\x20-\x7E]{1,128}$/.test(text) || text.trim() === '') return undefined;
  return holdsSecret(text, secrets) ? undefined : text;
}

/**
 * What can safely be reported of any error: tokenflight's own JSON, or an unknown error's name,
 * code and message with `secrets` scrubbed. Nothing else of it (a store's error may hold the
 * command it ran, and with it the token being written).
 */
export function errorFacts(error: unknown, secrets: Iterable<string | undefined>): Record<string, unknown> {
  if (isTokenflightError(error)) {
    const facts = error.toJSON();
    return { ...facts, message: redactText(error.message, secrets) };
  }
  if (typeof error !== 'object' || error === null) return { name: typeof error };
  const { name, message, code } = error as Record<string, unknown>;
  const list = [...secrets];
  // A code is kept as it is, or left out whole when it shows a secret (rule 4).
  const kept = typeof code === 'number' ? code : redactCode(code, list);
  return {
    name: typeof name === 'string' ? redactText(name, list) : 'Error',
    message: redactText(typeof message === 'string' ? message : '', list),
    ...(kept === undefined ? {} : { code: kept }),
  };
}

/**
 * A plain `Error` that carries only what {@link errorFacts} keeps of `error`: for `store-failed`
 * events, whose listeners may log the error whole.
 */
export function redactedError(error: unknown, secrets: Iterable<string | undefined>): Error {
  const list = [...secrets];
  if (isTokenflightError(error) && redactText(error.message, list) === error.message) return error;
  const facts = errorFacts(error, list);
  const failure = new Error(typeof facts['message'] === 'string' ? facts['message'] : String(error));
  if (typeof facts['name'] === 'string') failure.name = facts['name'];
  return facts['code'] === undefined ? failure : Object.assign(failure, { code: facts['code'] });
}

function scrubString(holder: object, key: string, secret: string): void {
  const value = (holder as Record<string, unknown>)[key];
  if (typeof value === 'string' && value.includes(secret)) {
    (holder as Record<string, unknown>)[key] = redactText(value, [secret]);
  }
}

function scrubHeaderObject(headers: unknown, secret: string): void {
  if (typeof headers !== 'object' || headers === null) return;
  for (const key of Object.keys(headers)) scrubString(headers, key, secret);
}

/** Node keeps outgoing headers under a symbol as `[name, value]` pairs. */
function scrubOutgoingHeaders(request: object, secret: string): void {
  for (const symbol of Object.getOwnPropertySymbols(request)) {
    if (symbol.description !== 'kOutHeaders') continue;
    const headers = (request as Record<symbol, unknown>)[symbol];
    if (typeof headers !== 'object' || headers === null) continue;
    for (const entry of Object.values(headers)) {
      if (Array.isArray(entry)) scrubString(entry, '1', secret);
    }
  }
}

/**
 * Node's ClientRequest keeps the raw request head (`_header`) and its header table; axios's
 * follow-redirects wrapper keeps the request options. All three hold the Authorization value.
 */
function scrubRequest(request: unknown, secret: string): void {
  if (typeof request !== 'object' || request === null) return;
  const node = request as Record<string, unknown>;
  for (const candidate of [node, node['_currentRequest'], node['_redirectable']]) {
    if (typeof candidate !== 'object' || candidate === null) continue;
    const part = candidate as Record<string, unknown>;
    scrubString(part, '_header', secret);
    scrubOutgoingHeaders(part, secret);
    scrubHeaderObject((part['_options'] as { headers?: unknown } | undefined)?.headers, secret);
  }
}

function hide(holder: object | undefined, key: string): void {
  if (holder === undefined || !Object.prototype.hasOwnProperty.call(holder, key)) return;
  const value = (holder as Record<string, unknown>)[key];
  Object.defineProperty(holder, key, { value, enumerable: false, writable: true, configurable: true });
}

/**
 * Masks the token tokenflight attached to a request, and its DPoP proof, in the axios error that reaches the caller:
 * in `config.headers`, in the raw request head Node keeps, and in follow-redirects' copy. The
 * request objects are made non-enumerable, so logging the error does not dump a socket either.
 * A replay through the same instance attaches the current token again.
 */
export function maskToken(error: AxiosError, accessToken: string): void {
  const configs = new Set([error.config, error.response?.config]);
  const proofs = new Set<string>();
  for (const config of configs) {
    const headers = config?.headers;
    if (typeof headers?.get !== 'function') continue;
    const value = headers.get('Authorization');
    if (typeof value === 'string' && value.includes(accessToken)) {
      headers.set('Authorization', redactText(value, [accessToken]));
    }
    // A DPoP proof (RFC 9449) is a credential of its own, sent beside the token: never shown.
    const proof = headers.get('DPoP');
    if (typeof proof === 'string' && proof !== '') {
      proofs.add(proof);
      headers.set('DPoP', '[redacted]');
    }
  }
  for (const request of new Set([error.request, error.response?.request])) {
    scrubRequest(request, accessToken);
    for (const proof of proofs) scrubRequest(request, proof);
  }
  hide(error, 'request');
  hide(error.response, 'request');
}

/** The start of a URL (scheme and slashes) and the text up to the last `@` before its path. */
const URL_USER_INFO = /^(\s*(?:[a-z][a-z\d+.-]*:)?[\s/\\]*)([^/\\]*@)?/i;

/**
 * A URL as events, errors and logs may show it: without user info, query or fragment, nor the user
 * info of a URL inside its path.
 *
 * A URL a parser accepts loses the user info the parser finds, whatever way it was written
 * (`https:u:p@host`, backslashes, a tab), and an `@` in its query is no user info. In other text,
 * everything up to the last `@` before the path goes; when a `?` or `#` comes before that `@` (a
 * password holding one, or a query holding an `@`: no parser says which), only the scheme is shown.
 */
export function redactUrl(url: string): string {
  let shown: string;
  if (URL.canParse(url)) {
    const parsed = new URL(url);
    const hasUserInfo = parsed.username !== '' || parsed.password !== '';
    shown = hasUserInfo ? `${parsed.protocol}//${parsed.host}${parsed.pathname}` : url.replace(/[?#].*$/s, '');
  } else {
    const [whole = '', start = '', userInfo = ''] = URL_USER_INFO.exec(url) ?? [];
    if (/[?#]/.test(userInfo)) return start;
    shown = (start + url.slice(whole.length)).replace(/[?#].*$/s, '');
  }
  return shown.replace(/\/\/[^/\\]*@/g, '//');
}
