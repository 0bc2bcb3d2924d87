import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { AxiosError, AxiosHeaders, type InternalAxiosRequestConfig } from 'axios';
import { TokenRequestError } from '../../lib/shared/errors.js';
import {
  errorFacts,
  maskToken,
  REDACTED,
  redactCode,
  redactedError,
  redactText,
  redactUrl,
} from '../../lib/shared/redact.js';
import { shown } from '../helpers/secret-shown.js';

// lib/shared/redact.ts on its own: the one function every error, event and logger line
// is scrubbed with. The end-to-end property is in redaction-properties.test.ts.

const METACHARACTERS = ['.', '*', '+', '?', '^', '$', '{', '}', '(', ')', '|', '[', ']', '\\', '/', '-'];
const secretArb = fc.oneof(
  fc.string({ minLength: 1, maxLength: 3 }),
  fc.array(fc.constantFrom(...METACHARACTERS, 'x', 'Q'), { minLength: 1, maxLength: 8 }).map((chars) => chars.join('')),
  fc.string({ minLength: 4, maxLength: 24 }),
);

describe('redactText', () => {
  test('redactText leaves no secret showing, for secrets that overlap, nest and contain metacharacters', () => {
    fc.assert(
      fc.property(
        fc.array(secretArb, { minLength: 1, maxLength: 4 }),
        fc.array(fc.oneof(fc.string({ maxLength: 6 }), fc.nat(3)), { maxLength: 12 }),
        (secrets, parts) => {
          const text = parts
            .map((part) => (typeof part === 'number' ? (secrets[part % secrets.length] ?? '') : part))
            .join('');
          const redacted = redactText(text, secrets);
          for (const secret of secrets) {
            if (!REDACTED.includes(secret)) expect(shown(redacted, secret)).toBe(false);
          }
          // What is not a secret stays: text that shows no secret comes back unchanged.
          if (secrets.every((secret) => !shown(text, secret))) expect(redacted).toBe(text);
        },
      ),
      { numRuns: 500 },
    );
  });

  test('redactText marks each run of secrets once and keeps the text around it', () => {
    expect(redactText('a=s3cr3t&b=t0k3n', ['s3cr3t', 't0k3n'])).toBe(`a=${REDACTED}&b=${REDACTED}`);
    expect(redactText('xx abc-abc yy', ['abc'])).toBe(`xx ${REDACTED}-${REDACTED} yy`);
    // Short secrets glued to letters or digits, even to themselves, cut words: left alone (redact.ts, rule 3).
    expect(redactText('xx abcabc yy', ['abc'])).toBe('xx abcabc yy');
    expect(redactText('key: ab.c+d', ['ab.c+d', 'b.c'])).toBe(`key: ${REDACTED}`);
    expect(redactText('start s3 end', ['s3', ''])).toBe(`start ${REDACTED} end`);
    expect(redactText('nothing here', [undefined, 'absent'])).toBe('nothing here');
    // A secret that would show across the edge of a marker blanks the whole text.
    expect(redactText('ab x', ['ab', '] x'])).toBe(REDACTED);
  });

  test('a short secret is scrubbed where it stands alone, never from inside a word', () => {
    expect(redactText('invalid_grant', ['a', 'gr', 'in', 'nt'])).toBe('invalid_grant');
    expect(redactText('inv[a]lid a_b a-b', ['a'])).toBe(`inv[${REDACTED}]lid a_b ${REDACTED}-b`);
    expect(redactText('secret=gr&x="gr" (gr)', ['gr'])).toBe(`secret=${REDACTED}&x="${REDACTED}" (${REDACTED})`);
    // A secret whose edge is punctuation does not need a boundary on that side.
    expect(redactText('a-x', ['-x'])).toBe(`a${REDACTED}`);
    expect(redactText('é1 1é', ['1'])).toBe('é1 1é');
    // Eight characters or more: scrubbed wherever they occur, even inside a word.
    expect(redactText('prefixs3cr3t-v4luesuffix', ['s3cr3t-v4lue'])).toBe(`prefix${REDACTED}suffix`);
    expect(redactText('abcdefgh abcdefg', ['abcdefg'])).toBe(`abcdefgh ${REDACTED}`);
  });

  test('text made of words that hold short secrets inside them comes back unchanged', () => {
    const wordArb = fc.stringMatching(/^[a-z0-9_]{2,14}$/);
    fc.assert(
      fc.property(
        fc.array(wordArb, { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
        (words, picks) => {
          // Secrets cut from inside the words, shorter than the word and than 8 characters.
          const secrets = picks.map((pick, index) => {
            const word = words[index % words.length] ?? '';
            const length = 1 + (pick % Math.min(7, word.length - 1));
            const at = pick % (word.length - length + 1);
            return word.slice(at, at + length);
          });
          fc.pre(secrets.every((secret) => !words.includes(secret)));
          const text = words.join(' ');
          expect(redactText(text, secrets)).toBe(text);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('redactCode', () => {
  test('a code is returned as received, or withheld whole when it shows a secret', () => {
    expect(redactCode('invalid_grant', ['a', 'gr', 'invalid', 'grant_'])).toBe('invalid_grant');
    expect(redactCode('NJSCFE001', ['001', 'NJS'])).toBe('NJSCFE001');
    expect(redactCode(401, ['40'])).toBe('401');
    expect(redactCode('invalid_client', ['invalid_client'])).toBeUndefined();
    expect(redactCode('bad key sk', ['sk'])).toBeUndefined();
    expect(redactCode('err-s3cr3t-v4lue', ['s3cr3t-v4lue'])).toBeUndefined();
    // Only what reads as a code: visible ASCII and spaces, 1 to 128 of them.
    expect(redactCode('RED', ['RED'])).toBeUndefined();
    expect(redactCode('line\nbreak', [])).toBeUndefined();
    expect(redactCode('x'.repeat(129), [])).toBeUndefined();
    expect(redactCode('   ', [])).toBeUndefined();
    expect(redactCode({ error: 'x' }, [])).toBeUndefined();
  });

  test('for any code and secrets, the code comes back untouched unless a secret shows in it', () => {
    const codeArb = fc.oneof(
      fc.constantFrom('invalid_grant', 'invalid_client', 'invalid_request', 'unauthorized_client', 'NJSCFE001'),
      fc.stringMatching(/^[\x21-\x7E]{1,20}$/),
    );
    fc.assert(
      fc.property(
        codeArb,
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.string({ maxLength: 10 })), { maxLength: 4 }),
        (code, cuts) => {
          const secrets = cuts.map(([a, b, free]) =>
            b % 3 === 0 ? free : code.slice(a % code.length, (a % code.length) + 1 + (b % 9)),
          );
          const reported = redactCode(code, secrets);
          const showing = secrets.some((secret) => shown(code, secret));
          expect(reported).toBe(showing ? undefined : code);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('errorFacts and redactedError', () => {
  test('an unknown error keeps its name, message and code, scrubbed, and nothing else', () => {
    const raw = Object.assign(new Error('SET key tok-123 failed'), {
      name: 'ReplyError',
      code: 'EXECABORT',
      command: { args: ['tok-123'] },
    });
    expect(errorFacts(raw, ['tok-123'])).toEqual({
      name: 'ReplyError',
      message: `SET key ${REDACTED} failed`,
      code: 'EXECABORT',
    });
    const copy = redactedError(raw, ['tok-123']);
    expect(copy).not.toBe(raw);
    expect({ name: copy.name, message: copy.message, code: (copy as { code?: unknown }).code }).toEqual({
      name: 'ReplyError',
      message: `SET key ${REDACTED} failed`,
      code: 'EXECABORT',
    });
    expect(Object.keys(copy).sort()).toEqual(['code', 'name']);
    expect(errorFacts(Object.assign(new Error('x'), { code: 7 }), [])).toEqual({
      name: 'Error',
      message: 'x',
      code: 7,
    });
    // No code, no `code` key (not even an undefined one); an object code is not kept.
    expect(Object.keys(errorFacts(new Error('x'), []))).toEqual(['name', 'message']);
    expect(Object.keys(errorFacts(Object.assign(new Error('x'), { code: { args: [] } }), []))).toEqual([
      'name',
      'message',
    ]);
    expect(Object.keys(redactedError(new Error('x'), []))).toEqual(['name']);
    expect(errorFacts({ message: 42, name: 9 }, [])).toEqual({ name: 'Error', message: '' });
    expect(errorFacts('a string', [])).toEqual({ name: 'string' });
    // A code that shows a secret is left out whole, never partly scrubbed.
    expect(errorFacts(Object.assign(new Error('x'), { code: 'tok-123' }), ['tok-123'])).toEqual({
      name: 'Error',
      message: 'x',
    });
    expect(errorFacts(Object.assign(new Error('x'), { code: 'ECONNRESET' }), ['CO', 'RESET'])).toMatchObject({
      code: 'ECONNRESET',
    });
    expect(errorFacts(null, [])).toEqual({ name: 'object' });
  });

  test('tokenflight errors are reported as they are unless their message holds a secret', () => {
    const error = new TokenRequestError('refused for tok-9', {
      code: 'ERR_TOKEN_CREDENTIALS',
      provider: 'p',
      url: 'https://x/token',
      attempts: 1,
    });
    expect(redactedError(error, ['other'])).toBe(error);
    const scrubbed = redactedError(error, ['tok-9']);
    expect(scrubbed).not.toBe(error);
    expect(scrubbed.message).toBe(`refused for ${REDACTED}`);
    expect(errorFacts(error, ['tok-9'])).toMatchObject({
      code: 'ERR_TOKEN_CREDENTIALS',
      message: `refused for ${REDACTED}`,
    });
  });
});

describe('maskToken', () => {
  test('the token is masked in the headers, the raw request head, the header table and the redirect options', () => {
    const headers = new AxiosHeaders({ Authorization: 'Bearer tok-1', Accept: 'application/json' });
    const config = { headers } as InternalAxiosRequestConfig;
    const kOutHeaders = Symbol('kOutHeaders');
    const kOther = Symbol('kOther');
    const request = {
      _header: 'GET / HTTP/1.1\r\nAuthorization: Bearer tok-1\r\n',
      [kOutHeaders]: {
        authorization: ['Authorization', 'Bearer tok-1'],
        accept: ['Accept', 'x'],
        odd: { 1: 'Bearer tok-1' },
      },
      // Only Node's header table is tokenflight's business.
      [kOther]: { authorization: ['Authorization', 'Bearer tok-1'] },
      _redirectable: { _options: { headers: { Authorization: 'Bearer tok-1' } } },
      _currentRequest: { _header: 'Authorization: Bearer tok-1' },
    };
    const error = new AxiosError('Request failed with status code 401', 'ERR_BAD_REQUEST', config, request, {
      status: 401,
      statusText: 'Unauthorized',
      headers: {},
      config,
      data: {},
      request,
    });
    maskToken(error, 'tok-1');
    expect(headers.get('Authorization')).toBe(`Bearer ${REDACTED}`);
    expect(headers.get('Accept')).toBe('application/json');
    expect(request._header).toContain(`Authorization: Bearer ${REDACTED}`);
    expect(request[kOutHeaders].authorization[1]).toBe(`Bearer ${REDACTED}`);
    expect(request[kOutHeaders].accept[1]).toBe('x');
    expect(request[kOutHeaders].odd[1]).toBe('Bearer tok-1');
    expect(request[kOther].authorization[1]).toBe('Bearer tok-1');
    expect(request._redirectable._options.headers.Authorization).toBe(`Bearer ${REDACTED}`);
    expect(request._currentRequest._header).toBe(`Authorization: Bearer ${REDACTED}`);
    // The request objects are kept, but out of JSON and plain inspection.
    expect(Object.keys(error)).not.toContain('request');
    expect(error.request).toBe(request);
    expect(Object.keys(error.response ?? {})).not.toContain('request');
    // Still the user's to change or drop.
    error.request = undefined;
    expect(error.request).toBeUndefined();
    expect(Reflect.deleteProperty(error.response ?? {}, 'request')).toBe(true);
  });

  test('an error without a request or a response is masked without throwing', () => {
    const headers = new AxiosHeaders({ Authorization: 'Bearer tok-1' });
    const error = new AxiosError('Network Error', 'ERR_NETWORK', { headers } as InternalAxiosRequestConfig, null);
    expect(() => maskToken(error, 'tok-1')).not.toThrow();
    expect(headers.get('Authorization')).toBe(`Bearer ${REDACTED}`);
  });

  test('a header holding another token is left alone', () => {
    const headers = new AxiosHeaders({ Authorization: 'Bearer other' });
    const config = { headers } as InternalAxiosRequestConfig;
    maskToken(new AxiosError('x', 'ERR_BAD_REQUEST', config), 'tok-1');
    expect(headers.get('Authorization')).toBe('Bearer other');
  });
});

describe('redactUrl', () => {
  test.each([
    ['https://user:pass@api.example.com/x?k=v#f', 'https://api.example.com/x'],
    ['https://user:p@ss@api.example.com/x', 'https://api.example.com/x'],
    ['https://api.example.com@evil.example/x', 'https://evil.example/x'],
    ['https://u:p@api.example.com\\x', 'https://api.example.com/x'],
    ['https:user:SECRET@api.example.com/x', 'https://api.example.com/x'],
    ['https:\\\\user:SECRET@api.example.com/x', 'https://api.example.com/x'],
    ['https://\\:SECRET@/', 'https://\\/'],
    ['https://?email=me@example.com&key=SECRET', 'https://'],
    ['https://api.example.com/https://user:SECRET@other.example/x', 'https://api.example.com/https://other.example/x'],
    ['ftp://user:SECRET@files.example.com/x', 'ftp://files.example.com/x'],
    ['https://user:PW?SECRET@api.example.com/x', 'https://'],
    ['https://user:PW#SECRET@api.example.com/x', 'https://'],
    ['//user:SECRET@api.example.com/x', '//api.example.com/x'],
    ['https://api.example.com/x?next=a@evil.example', 'https://api.example.com/x'],
    ['https://api.example.com?@evil.example/x', 'https://api.example.com'],
    ['https://user:SECRET@api.example.com?@evil.example/x', 'https://api.example.com/'],
    ['https://api.example.com/users/@me', 'https://api.example.com/users/@me'],
    ['https://api.example.com/x?a=1\nSECRET', 'https://api.example.com/x'],
    ['/relative/path?token=SECRET', '/relative/path'],
    ['', ''],
  ])('%j is shown as %j', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });

  test('no password or query value ever shows, whatever the URL', () => {
    const secret = 'S3CR3T';
    const text = (units: string[]) => fc.string({ unit: fc.constantFrom(...units), maxLength: 10 });
    const inAuthority = text(['a', '.', ':', '?', '#', '@', ' ', '\t']);
    const anywhere = text(['a', '.', ':', '?', '#', '@', '/', '\\', ' ']);
    const schemes = fc.constantFrom(
      'https://',
      'http://',
      'https:',
      'https:/',
      'https:\\\\',
      'HTTPS://',
      '//',
      ' https://',
    );
    fc.assert(
      fc.property(schemes, inAuthority, inAuthority, anywhere, anywhere, (scheme, user, password, host, path) => {
        for (const url of [
          `${scheme}${user}:${secret}${password}@${host}/${path}`,
          `${scheme}${user}:${password}${secret}@${host}`,
          `${scheme}${host}/${path}?${user}=${secret}`,
          `${scheme}${host}/${path}#${secret}`,
        ])
          expect({ url, shown: redactUrl(url) }).toEqual({ url, shown: expect.not.stringContaining(secret) });
      }),
      { numRuns: 500 },
    );
  });
});
