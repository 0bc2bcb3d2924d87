import { describe, expect, test } from '@jest/globals';
import axios, { AxiosHeaders, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { Readable } from 'node:stream';
import type { RejectionContext } from '../../lib/index.js';
import {
  challengeAllowsRefresh,
  isReplayable,
  isTokenRejection,
  type RejectionPolicy,
} from '../../lib/axios/unauthorized.js';

// The pure parts of rule 5 (what a 401 means) and rule 8 (what can be sent twice). The wiring is
// tested through real requests in rule-5-unauthorized.test.ts and rule-8-replay-safety.test.ts.

const API = 'https://api.symbl.ai';

function response(
  status: number,
  headers: Record<string, string> = {},
  extra: { data?: unknown; request?: unknown; config?: Partial<InternalAxiosRequestConfig> } = {},
): AxiosResponse {
  const config = { ...axios.defaults, headers: new AxiosHeaders(), ...extra.config } as InternalAxiosRequestConfig;
  return {
    status,
    statusText: '',
    headers: new AxiosHeaders(headers),
    data: extra.data ?? '',
    config,
    request: extra.request,
  };
}

const policy = (over: Partial<RejectionPolicy> = {}): RejectionPolicy => ({
  unauthorizedStatuses: new Set([401]),
  isTokenRejected: undefined,
  ...over,
});

describe('does a WWW-Authenticate challenge leave room for a new token?', () => {
  test.each([
    [undefined, true],
    ['', true],
    ['   ', true],
    ['Bearer', true],
    ['Bearer realm="api"', true],
    ['bearer realm="api"', true],
    ['Bearer error="invalid_token"', true],
    ['Bearer realm="api", error="invalid_token", error_description="expired"', true],
    ['Bearer error=invalid_token', true],
    ['Basic realm="x", Bearer realm="api"', true],
    ['Bearer error="insufficient_scope"', false],
    ['Bearer realm="api", error="invalid_request"', false],
    ['Bearer error=insufficient_scope', false],
    ['Bearer error = "insufficient_scope"', false],
    ['Bearer errors="insufficient_scope"', true],
    ['Bearer\terror="insufficient_scope"', false],
    ['Basic realm="x"', false],
    ['DPoP realm="x"', false],
    ['DPoP error="invalid_token"', true],
    ['DPoP algs="ES256 EdDSA", error="invalid_token", error_description="expired"', true],
    ['dpop error=invalid_token', true],
    ['DPoP error="use_dpop_nonce"', false],
    ['DPoP algs="ES256", error="invalid_dpop_proof"', false],
    ['Basic realm="x", DPoP error="invalid_token"', true],
    ['Bearerish realm="x"', false],
    ['Newbearer realm="x"', false],
  ])('%j → %s', (challenge, allowed) => {
    expect(challengeAllowsRefresh(challenge)).toBe(allowed);
  });
});

describe('is this response the API rejecting our token?', () => {
  test('a 401 with no challenge from the origin the token went to: yes', () => {
    expect(isTokenRejection(response(401), API, 'symbl', policy())).toBe(true);
  });

  test('a status outside `unauthorizedStatuses`: no, whatever the challenge', () => {
    expect(isTokenRejection(response(403), API, 'symbl', policy())).toBe(false);
    expect(isTokenRejection(response(419), API, 'symbl', policy({ unauthorizedStatuses: new Set([401, 419]) }))).toBe(
      true,
    );
  });

  test('a challenge that says a new token will not help: no', () => {
    const scoped = response(401, { 'WWW-Authenticate': 'Bearer error="insufficient_scope"' });
    expect(isTokenRejection(scoped, API, 'symbl', policy())).toBe(false);
  });

  test.each([
    ['Node (follow-redirects)', (url: string) => ({ res: { responseUrl: url } })],
    ['a browser (XMLHttpRequest)', (url: string) => ({ responseURL: url })],
  ])('after a redirect to another origin, seen as %s: no; to the same origin: yes', (_where, request) => {
    const moved = response(401, {}, { request: request('https://other.example/x') });
    expect(isTokenRejection(moved, API, 'symbl', policy())).toBe(false);
    const same = response(401, {}, { request: request(`${API}/elsewhere`) });
    expect(isTokenRejection(same, API, 'symbl', policy())).toBe(true);
  });

  test('a final URL that is empty or does not parse says nothing', () => {
    for (const url of ['', 'not a url', 42]) {
      expect(isTokenRejection(response(401, {}, { request: { responseURL: url } }), API, 'symbl', policy())).toBe(true);
    }
  });

  test('`isTokenRejected` decides instead, seeing the body as the caller would (JSON parsed)', () => {
    const asked: RejectionContext[] = [];
    const decide = (context: RejectionContext): boolean => {
      asked.push(context);
      return (context.data as { code?: string }).code === 'TOKEN_EXPIRED';
    };
    const expired = response(401, { 'www-authenticate': 'Custom x' }, { data: '{"code":"TOKEN_EXPIRED"}' });
    expect(isTokenRejection(expired, API, 'symbl', policy({ isTokenRejected: decide }))).toBe(true);
    const other = response(401, {}, { data: '{"code":"LOCKED"}' });
    expect(isTokenRejection(other, API, 'symbl', policy({ isTokenRejected: decide }))).toBe(false);
    expect(asked[0]).toEqual({
      provider: 'symbl',
      status: 401,
      challenge: 'Custom x',
      data: { code: 'TOKEN_EXPIRED' },
    });
    expect(expired.data).toBe('{"code":"TOKEN_EXPIRED"}'); // axios still transforms the original, once
  });

  test('`isTokenRejected` gets the raw body when a transform throws, or there is no config', () => {
    const bodies: unknown[] = [];
    const decide = (context: RejectionContext): boolean => bodies.push(context.data) > 0;
    const throwing = response(
      401,
      {},
      {
        data: 'raw',
        config: {
          transformResponse: [
            () => {
              throw new Error('bad');
            },
          ],
        },
      },
    );
    isTokenRejection(throwing, API, 'symbl', policy({ isTokenRejected: decide }));
    const single = response(
      401,
      {},
      { data: 'raw', config: { transformResponse: (data: unknown) => `t(${String(data)})` } },
    );
    isTokenRejection(single, API, 'symbl', policy({ isTokenRejected: decide }));
    const none = { ...response(401, {}, { data: 'raw' }), config: undefined } as unknown as AxiosResponse;
    isTokenRejection(none, API, 'symbl', policy({ isTokenRejected: decide }));
    const second = response(
      401,
      {},
      {
        data: 'raw',
        config: {
          transformResponse: [
            (data: unknown) => `t(${String(data)})`,
            () => {
              throw new Error('bad');
            },
          ],
        },
      },
    );
    isTokenRejection(second, API, 'symbl', policy({ isTokenRejected: decide }));
    const empty = response(
      401,
      {},
      { data: 'raw', config: { transformResponse: undefined } as unknown as Partial<InternalAxiosRequestConfig> },
    );
    isTokenRejection(empty, API, 'symbl', policy({ isTokenRejected: decide }));
    expect(bodies).toEqual(['raw', 't(raw)', 'raw', 'raw', 'raw']);
  });
});

describe('can this body be sent twice?', () => {
  test.each([
    ['nothing', undefined, true],
    ['null', null, true],
    ['a string', '{"a":1}', true],
    ['a number', 42, true],
    ['a plain object', { a: 1 }, true],
    ['a Buffer', Buffer.from('x'), true],
    ['a Uint8Array', new Uint8Array([1]), true],
    ['an ArrayBuffer', new ArrayBuffer(2), true],
    ['URLSearchParams', new URLSearchParams('a=1'), true],
    ['FormData', new FormData(), true],
    ['a Node stream', Readable.from(['x']), false],
    ['anything with pipe()', { pipe: () => undefined }, false],
    ['a web ReadableStream', new ReadableStream(), false],
    ['an async iterable', { [Symbol.asyncIterator]: () => undefined }, false],
  ])('%s: %s', (_what, data, replayable) => {
    expect(isReplayable(data)).toBe(replayable);
  });
});
