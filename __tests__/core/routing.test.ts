import { afterEach, describe, expect, test } from '@jest/globals';
import { createOriginResolver, createRouter, displayTarget, type UnroutedRequest } from '../../lib/core/routing.js';

// The pure parts of rule 1: which origin a request goes to, what events and errors show of its
// URL, and which provider serves it. The wiring to axios is tested through real requests in
// rule-1-routing.test.ts and rule-9-interceptor-order.test.ts.

const withPage = (origin: string | undefined): void => {
  Object.defineProperty(globalThis, 'location', {
    value: origin === undefined ? undefined : { origin },
    configurable: true,
  });
};

afterEach(() => {
  Reflect.deleteProperty(globalThis, 'location');
});

describe('the origin a request goes to', () => {
  const resolve = createOriginResolver();

  test.each([
    ['a relative URL goes to its base', { baseURL: 'https://api.symbl.ai/v1', url: '/x' }, 'https://api.symbl.ai'],
    [
      'an absolute URL wins over the base',
      { baseURL: 'https://api.symbl.ai', url: 'https://other.example/x' },
      'https://other.example',
    ],
    ['an absolute URL in any case', { url: 'HTTPS://API.SYMBL.AI/x' }, 'https://api.symbl.ai'],
    [
      'a scheme with digits, plus, dot or dash is absolute',
      { baseURL: 'https://api.symbl.ai', url: 'web+x.y-z://h/x' },
      undefined,
    ],
    [
      '`allowAbsoluteUrls: false` appends to the base',
      { baseURL: 'https://api.symbl.ai', url: 'https://other.example/x', allowAbsoluteUrls: false },
      'https://api.symbl.ai',
    ],
    [
      '`allowAbsoluteUrls: false` without a base keeps the absolute URL',
      { url: 'https://other.example/x', allowAbsoluteUrls: false },
      'https://other.example',
    ],
    ['the default port is dropped', { url: 'https://api.symbl.ai:443/x' }, 'https://api.symbl.ai'],
    ['another port is kept', { url: 'http://127.0.0.1:3000/x' }, 'http://127.0.0.1:3000'],
    ['a URL that is not http(s) has no origin', { url: 'ws://api.symbl.ai/x' }, undefined],
    ['a base that is not http(s) has no origin', { baseURL: 'ftp://api.symbl.ai', url: '/x' }, undefined],
    ['a base with a typo in the scheme has no origin', { baseURL: 'htps://api.symbl.ai', url: '/x' }, undefined],
    ['a base that does not parse has no origin', { baseURL: 'https://', url: '/x' }, undefined],
    ['a relative base has no origin in Node', { baseURL: '/api', url: '/x' }, undefined],
    ['no base and a relative URL: no origin in Node', { url: '/x' }, undefined],
    ['an empty base is no base', { baseURL: '', url: 'https://api.symbl.ai/x' }, 'https://api.symbl.ai'],
    [
      'an empty base is no base, even with `allowAbsoluteUrls: false`',
      { baseURL: '', url: 'https://api.symbl.ai/x', allowAbsoluteUrls: false },
      'https://api.symbl.ai',
    ],
    [
      'a protocol-relative URL has no origin in Node',
      { baseURL: 'https://api.symbl.ai', url: '//api.symbl.ai/x' },
      undefined,
    ],
    ['a non-string url has no origin', { url: 42 as unknown as string }, undefined],
  ] as const)('%s', (_what, target, origin) => {
    expect(resolve(target)).toBe(origin);
    expect(resolve(target)).toBe(origin); // and the same from the cache
  });

  test('in a browser page, protocol-relative and base-less URLs go to the page’s origin', () => {
    withPage('https://app.example');
    const inPage = createOriginResolver();
    expect(inPage({ url: '//api.symbl.ai/x' })).toBe('https://api.symbl.ai');
    expect(inPage({ url: '/x' })).toBe('https://app.example');
    expect(inPage({ baseURL: '/api', url: '/x' })).toBe('https://app.example');
    expect(inPage({ baseURL: 'https://api.symbl.ai', url: '//other.example/x' })).toBe('https://other.example');
  });

  test('an opaque page origin ("null", a sandboxed frame or a file) counts as none', () => {
    withPage('null');
    const inPage = createOriginResolver();
    expect(inPage({ url: '/x' })).toBeUndefined();
    expect(inPage({ url: '//api.symbl.ai/x' })).toBeUndefined();
  });

  test('the cache of parsed URLs holds at most 256, then starts afresh, and a URL seen before still resolves', () => {
    const bounded = createOriginResolver();
    for (let i = 0; i < 256; i++) bounded({ url: `https://host-${i}.example/x` });
    expect(bounded.cachedUrls()).toBe(256);
    bounded({ url: 'https://host-0.example/x' });
    expect(bounded.cachedUrls()).toBe(256);
    expect(bounded({ url: 'https://host-256.example/x' })).toBe('https://host-256.example');
    expect(bounded.cachedUrls()).toBe(1);
    expect(bounded({ url: 'https://host-0.example/x' })).toBe('https://host-0.example');
    expect(bounded.cachedUrls()).toBe(2);
  });
});

describe('what events and errors show of a URL', () => {
  test.each([
    ['user info is dropped', { url: 'https://user:pass@api.symbl.ai/x' }, 'https://api.symbl.ai/x'],
    ['a query string is dropped', { url: 'https://api.symbl.ai/x?api_key=SECRET&b=2' }, 'https://api.symbl.ai/x'],
    ['a fragment is dropped', { url: 'https://api.symbl.ai/x#token=SECRET' }, 'https://api.symbl.ai/x'],
    ['a multi-line query is dropped whole', { url: 'https://api.symbl.ai/x?a=1\nSECRET' }, 'https://api.symbl.ai/x'],
    [
      'base and url are joined with one slash',
      { baseURL: 'https://api.symbl.ai/v1//', url: '/x' },
      'https://api.symbl.ai/v1/x',
    ],
    [
      'user info with an @ in the password is dropped whole',
      { url: 'https://user:p@ss@api.symbl.ai/x' },
      'https://api.symbl.ai/x',
    ],
    [
      'base and url without slashes are joined with one',
      { baseURL: 'https://api.symbl.ai/v1', url: 'x' },
      'https://api.symbl.ai/v1/x',
    ],
    [
      'an absolute url is shown alone',
      { baseURL: 'https://api.symbl.ai', url: 'https://other.example/x?q=1' },
      'https://other.example/x',
    ],
    [
      '`allowAbsoluteUrls: false` shows what is sent',
      { baseURL: 'https://api.symbl.ai', url: 'https://other.example/x', allowAbsoluteUrls: false },
      'https://api.symbl.ai/https://other.example/x',
    ],
    [
      'user info in the base is dropped',
      { baseURL: 'https://u:p@api.symbl.ai', url: '/x?k=SECRET' },
      'https://api.symbl.ai/x',
    ],
    ['no url at all shows the base', { baseURL: 'https://api.symbl.ai/v1' }, 'https://api.symbl.ai/v1'],
    [
      '`allowAbsoluteUrls: false` joins a protocol-relative url with one slash',
      { baseURL: 'https://api.symbl.ai/v1', url: '//x', allowAbsoluteUrls: false },
      'https://api.symbl.ai/v1/x',
    ],
    ['an @ in the path is not user info', { url: 'https://api.symbl.ai/users/@me' }, 'https://api.symbl.ai/users/@me'],
    [
      'a password holding ? (text no URL parser accepts): nothing after the scheme is shown',
      { url: 'https://user:PW?SECRET@api.symbl.ai/x' },
      'https://',
    ],
    [
      'a password holding # (text no URL parser accepts): nothing after the scheme is shown',
      { url: 'https://user:PW#SECRET@api.symbl.ai/x' },
      'https://',
    ],
    [
      'user info written without slashes, as URL parsers accept it, is dropped',
      { url: 'https:user:SECRET@api.symbl.ai/x' },
      'https://api.symbl.ai/x',
    ],
    [
      'an @ in the query is not user info: the host requested is shown',
      { url: 'https://evil.example/x?next=a@api.symbl.ai' },
      'https://evil.example/x',
    ],
    [
      'an @ after a ? with no path is not user info either',
      { url: 'https://evil.example?@api.symbl.ai/x' },
      'https://evil.example',
    ],
  ] as const)('%s', (_what, target, shown) => {
    expect(displayTarget(target)).toBe(shown);
  });
});

describe('which provider serves a request', () => {
  const a = { name: 'a', origins: ['https://api.symbl.ai', 'https://eu.symbl.ai'] };
  const b = { name: 'b', origins: ['https://api.symbl.ai'] };
  const c = { name: 'c', origins: ['https://other.example'] };

  function router(): { route: ReturnType<typeof createRouter<typeof a>>['route']; reports: UnroutedRequest[] } {
    const reports: UnroutedRequest[] = [];
    return { route: createRouter([a, b, c], (report) => reports.push(report)).route, reports };
  }

  test('the first provider that lists the origin, or the one the request names', () => {
    const { route, reports } = router();
    expect(route({ url: 'https://api.symbl.ai/x' }, undefined)).toBe(a);
    expect(route({ url: 'https://eu.symbl.ai/x' }, undefined)).toBe(a);
    expect(route({ url: 'https://api.symbl.ai/x' }, 'b')).toBe(b);
    expect(route({ url: 'https://other.example/x' }, undefined)).toBe(c);
    expect(reports).toEqual([]);
  });

  test('a provider named by the request must exist and serve the origin', () => {
    const { route } = router();
    const error = (call: () => unknown): unknown => {
      try {
        call();
      } catch (caught) {
        return caught;
      }
      return undefined;
    };
    const unknown = error(() => route({ url: 'https://api.symbl.ai/x' }, 'zz'));
    expect(unknown instanceof TypeError && unknown.message).toBe(
      'tokenAuth.provider: no provider named "zz" is attached (attached: a, b, c)',
    );
    const elsewhere = error(() => route({ url: 'https://other.example/x?k=SECRET' }, 'b'));
    expect(elsewhere instanceof TypeError && elsewhere.message).toBe(
      'tokenAuth.provider: provider "b" does not serve https://other.example (its origins: https://api.symbl.ai)',
    );
    const nowhere = error(() => route({ url: '/relative' }, 'b'));
    expect(nowhere instanceof TypeError && nowhere.message).toBe(
      'tokenAuth.provider: provider "b" does not serve this URL (its origins: https://api.symbl.ai)',
    );
  });

  test('a request no provider serves is reported once per origin, with what the providers serve', () => {
    const { route, reports } = router();
    for (let i = 0; i < 3; i++) {
      expect(route({ url: `http://localhost:3000/x?i=${i}` }, undefined)).toBeUndefined();
      expect(route({ baseURL: 'htps://typo.example', url: '/y' }, undefined)).toBeUndefined();
    }
    expect(reports).toEqual([
      {
        origin: 'http://localhost:3000',
        url: 'http://localhost:3000/x',
        servedOrigins: ['https://api.symbl.ai', 'https://eu.symbl.ai', 'https://other.example'],
      },
      {
        origin: null,
        url: 'htps://typo.example/y',
        servedOrigins: ['https://api.symbl.ai', 'https://eu.symbl.ai', 'https://other.example'],
      },
    ]);
  });

  test('the memory of reported origins is bounded: past 256 it starts afresh and reports again', () => {
    const { route, reports } = router();
    for (let i = 0; i < 256; i++) route({ url: `https://unserved-${i}.example/x` }, undefined);
    route({ url: 'https://unserved-0.example/x' }, undefined);
    expect(reports).toHaveLength(256);
    route({ url: 'https://unserved-256.example/x' }, undefined);
    route({ url: 'https://unserved-0.example/x' }, undefined);
    expect(reports.map((report) => report.origin).slice(-2)).toEqual([
      'https://unserved-256.example',
      'https://unserved-0.example',
    ]);
    expect(reports).toHaveLength(258);
  });
});
