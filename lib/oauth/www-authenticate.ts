/**
 * `WWW-Authenticate` as RFC 9110 §11.6.1 writes it: a list of challenges, each a scheme followed
 * by a token68 or by `name=value` parameters (a token or a quoted string), commas between both.
 * A header may hold several schemes (`Bearer realm="api", DPoP algs="ES256", error="use_dpop_nonce"`),
 * so a parameter belongs to the challenge whose scheme precedes it.
 */

/** One challenge: its scheme in lower case, and its parameters by lower-case name. */
export interface Challenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
  readonly token68?: string;
}

const TOKEN = /[!#$%&'*+\-.^_`|~0-9A-Za-z]+/y;
const TOKEN68 = /[A-Za-z0-9\-._~+/]+=*/y;
const QUOTED = /"((?:[^"\\]|\\[\s\S])*)"/y;
const WHITESPACE = /[ \t]*/y;

/** Headers longer than this are not parsed past it: a challenge is a few hundred characters. */
export const MAX_CHALLENGE_LENGTH = 8_192;

class Scanner {
  at = 0;
  constructor(readonly text: string) {}
  match(pattern: RegExp): string | undefined {
    pattern.lastIndex = this.at;
    const found = pattern.exec(this.text);
    if (found === null) return undefined;
    this.at = pattern.lastIndex;
    return found[0];
  }
  skipWhitespace(): void {
    this.match(WHITESPACE);
  }
  peek(): string {
    return this.text.charAt(this.at);
  }
  /** A quoted-string's value, its backslash escapes resolved; `undefined` if there is none, closed. */
  quoted(): string | undefined {
    return this.match(QUOTED)
      ?.slice(1, -1)
      .replace(/\\([\s\S])/g, '$1');
  }
  /** Ends the scan: nothing after a syntax error is read. */
  stop(): void {
    this.at = this.text.length;
  }
}

/** A token68 that ends its challenge (at the end or before a comma), else nothing read. */
function token68(scanner: Scanner): string | undefined {
  const start = scanner.at;
  const value = scanner.match(TOKEN68);
  scanner.skipWhitespace();
  if (scanner.peek() === '' || scanner.peek() === ',') return value;
  scanner.at = start;
  return undefined;
}

/**
 * The parameters after a scheme, up to the next challenge's scheme. A syntax error (a value that
 * is neither a token nor a closed quoted string, a missing comma) ends the scan.
 */
function readParams(scanner: Scanner, params: Record<string, string>): void {
  for (;;) {
    scanner.skipWhitespace();
    const start = scanner.at;
    const name = scanner.match(TOKEN);
    if (name === undefined) return;
    scanner.skipWhitespace();
    if (scanner.peek() !== '=') {
      scanner.at = start; // a scheme: the next challenge begins here
      return;
    }
    scanner.at++;
    scanner.skipWhitespace();
    const value = scanner.peek() === '"' ? scanner.quoted() : scanner.match(TOKEN);
    if (value === undefined) {
      scanner.stop();
      return;
    }
    const key = name.toLowerCase();
    // RFC 9110: a parameter name occurs once per challenge; a repeat does not replace the first.
    if (!(key in params)) params[key] = value;
    scanner.skipWhitespace();
    if (scanner.peek() !== ',') {
      scanner.stop();
      return;
    }
    scanner.at++;
  }
}

/**
 * The challenges of a `WWW-Authenticate` header value, in order. Parsing stops at the first syntax
 * error, keeping the challenges read before it.
 *
 * @example
 * ```ts
 * parseChallenges('Bearer realm="api", DPoP algs="ES256", error="use_dpop_nonce"');
 * // [{ scheme: 'bearer', params: { realm: 'api' } }, { scheme: 'dpop', params: { algs: 'ES256', error: 'use_dpop_nonce' } }]
 * ```
 */
export function parseChallenges(header: string): Challenge[] {
  const scanner = new Scanner(header.slice(0, MAX_CHALLENGE_LENGTH));
  const challenges: Challenge[] = [];
  for (;;) {
    while (/[ \t,]/.test(scanner.peek())) scanner.at++;
    const scheme = scanner.match(TOKEN);
    if (scheme === undefined) return challenges;
    const params: Record<string, string> = Object.create(null) as Record<string, string>;
    // A token68 or parameters follow the scheme after a space (RFC 9110 §11.6.1: 1*SP).
    const spaced = /[ \t]/.test(scanner.peek());
    scanner.skipWhitespace();
    const token = spaced ? token68(scanner) : undefined;
    if (token === undefined) readParams(scanner, params);
    challenges.push(
      token === undefined
        ? { scheme: scheme.toLowerCase(), params }
        : { scheme: scheme.toLowerCase(), params, token68: token },
    );
  }
}
