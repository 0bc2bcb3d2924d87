import { describe, expect, test } from '@jest/globals';
import { guardRedirects } from '../../lib/axios/redirect-guard.js';

// Rule 1 for redirects, on its own: the hook axios's Node transport calls before each hop. The
// real 307 across origins is tested in rule-1-routing.test.ts.

type Hook = (redirect: Record<string, unknown>, response?: unknown, request?: { url?: string }) => void;

function hop(config: { beforeRedirect?: unknown }, href: unknown, from: string | undefined): Record<string, unknown> {
  const headers = { Authorization: 'Bearer T', authorization: 'Bearer t', Accept: 'application/json' };
  const redirect: Record<string, unknown> = { href, headers };
  (config.beforeRedirect as Hook)(redirect, {}, from === undefined ? undefined : { url: from });
  return redirect['headers'] as Record<string, unknown>;
}

describe('the redirect guard', () => {
  test('strips the token, in any case, on a change of origin, and keeps other headers', () => {
    const config: { beforeRedirect?: unknown } = {};
    guardRedirects(config);
    expect(hop(config, 'https://other.example/x', 'https://api.symbl.ai/a')).toEqual({ Accept: 'application/json' });
    expect(hop(config, 'http://api.symbl.ai/x', 'https://api.symbl.ai/a')).toEqual({ Accept: 'application/json' });
    expect(hop(config, 'https://api.symbl.ai:8443/x', 'https://api.symbl.ai/a')).toEqual({
      Accept: 'application/json',
    });
  });

  test('keeps the token on a redirect within the origin', () => {
    const config: { beforeRedirect?: unknown } = {};
    guardRedirects(config);
    expect(Object.keys(hop(config, 'https://api.symbl.ai/b', 'https://api.symbl.ai/a'))).toEqual([
      'Authorization',
      'authorization',
      'Accept',
    ]);
  });

  test('strips when either URL is missing or does not parse', () => {
    const config: { beforeRedirect?: unknown } = {};
    guardRedirects(config);
    expect(hop(config, 'not a url', 'https://api.symbl.ai/a')).toEqual({ Accept: 'application/json' });
    expect(hop(config, 'https://api.symbl.ai/b', 'not a url')).toEqual({ Accept: 'application/json' });
    expect(hop(config, 'https://api.symbl.ai/b', undefined)).toEqual({ Accept: 'application/json' });
    expect(hop(config, undefined, 'https://api.symbl.ai/a')).toEqual({ Accept: 'application/json' });
  });

  test('leaves a redirect without headers alone', () => {
    const config: { beforeRedirect?: unknown } = {};
    guardRedirects(config);
    const redirect: Record<string, unknown> = { href: 'https://other.example/' };
    expect(() => (config.beforeRedirect as Hook)(redirect, {}, { url: 'https://api.symbl.ai/' })).not.toThrow();
    expect(redirect).toEqual({ href: 'https://other.example/' });
  });

  test('runs before the caller’s own hook, which sees the stripped headers; chained once however often it is applied', () => {
    const seen: unknown[] = [];
    const own: Hook = (redirect) => seen.push({ ...(redirect['headers'] as object) });
    const config: { beforeRedirect?: unknown } = { beforeRedirect: own };
    guardRedirects(config);
    const chained = config.beforeRedirect;
    guardRedirects(config);
    guardRedirects(config);
    expect(config.beforeRedirect).toBe(chained);
    expect(chained).not.toBe(own);
    hop(config, 'https://other.example/x', 'https://api.symbl.ai/a');
    expect(seen).toEqual([{ Accept: 'application/json' }]);
  });

  test('a null hook is replaced by the guard, and the guard itself is not wrapped again', () => {
    const config: { beforeRedirect?: unknown } = { beforeRedirect: null };
    guardRedirects(config);
    const guard = config.beforeRedirect;
    expect(typeof guard).toBe('function');
    guardRedirects(config);
    expect(config.beforeRedirect).toBe(guard);
    const other: { beforeRedirect?: unknown } = {};
    guardRedirects(other);
    expect(other.beforeRedirect).toBe(guard);
  });

  test('a hook that is not a function is left as it is', () => {
    const config: { beforeRedirect?: unknown } = { beforeRedirect: 'not a function' };
    guardRedirects(config);
    expect(config.beforeRedirect).toBe('not a function');
  });
});
