import { expect, test } from '@jest/globals';
import { MAX_CHALLENGE_LENGTH, parseChallenges } from '../../lib/oauth/www-authenticate.js';

test.each([
  ['', []],
  ['Bearer', [{ scheme: 'bearer', params: {} }]],
  ['Bearer realm="api"', [{ scheme: 'bearer', params: { realm: 'api' } }]],
  [
    'Bearer realm="api", DPoP algs="ES256 PS256", error="use_dpop_nonce"',
    [
      { scheme: 'bearer', params: { realm: 'api' } },
      { scheme: 'dpop', params: { algs: 'ES256 PS256', error: 'use_dpop_nonce' } },
    ],
  ],
  [
    'DPoP error="use_dpop_nonce", error_description="a \\"quoted\\" \\\\ word" , Bearer error=invalid_token',
    [
      { scheme: 'dpop', params: { error: 'use_dpop_nonce', error_description: 'a "quoted" \\ word' } },
      { scheme: 'bearer', params: { error: 'invalid_token' } },
    ],
  ],
  [
    'Basic abc==, Bearer',
    [
      { scheme: 'basic', params: {}, token68: 'abc==' },
      { scheme: 'bearer', params: {} },
    ],
  ],
  ['Negotiate a+b/c=', [{ scheme: 'negotiate', params: {}, token68: 'a+b/c=' }]],
  [
    'Bearer,DPoP',
    [
      { scheme: 'bearer', params: {} },
      { scheme: 'dpop', params: {} },
    ],
  ],
  [' ,, DPoP \t ERROR = "use_dpop_nonce" ', [{ scheme: 'dpop', params: { error: 'use_dpop_nonce' } }]],
  ['DPoP error="first", error="second"', [{ scheme: 'dpop', params: { error: 'first' } }]],
  ['Bearer error="unclosed', [{ scheme: 'bearer', params: {} }]],
  [
    'Bearer error="closed, DPoP error="use_dpop_nonce"',
    [{ scheme: 'bearer', params: { error: 'closed, DPoP error=' } }],
  ],
  [
    'Bearer error=, DPoP',
    [
      { scheme: 'bearer', params: {}, token68: 'error=' },
      { scheme: 'dpop', params: {} },
    ],
  ],
  ['Bearer error="x", =y', [{ scheme: 'bearer', params: { error: 'x' } }]],
  ['Bearer realm="a" DPoP error="use_dpop_nonce"', [{ scheme: 'bearer', params: { realm: 'a' } }]],
  ['"quoted"', []],
  ['Basic\tabc==', [{ scheme: 'basic', params: {}, token68: 'abc==' }]],
  ['DPoP error_description="a\\ b\\\tc"', [{ scheme: 'dpop', params: { error_description: 'a b\tc' } }]],
  ['Bearer/abc, DPoP', [{ scheme: 'bearer', params: {} }]],
  ['Bearer a=b, c=,DPoP error="use_dpop_nonce"', [{ scheme: 'bearer', params: { a: 'b' } }]],
  ['Bearer a=b, c="unclosed\\", DPoP', [{ scheme: 'bearer', params: { a: 'b' } }]],
  [
    'Bearer realm="" , DPoP',
    [
      { scheme: 'bearer', params: { realm: '' } },
      { scheme: 'dpop', params: {} },
    ],
  ],
])('%j is read as its challenges', (header, expected) => {
  expect(parseChallenges(header)).toEqual(expected);
});

test('a parameter named like an object member is an ordinary parameter', () => {
  const [challenge] = parseChallenges('DPoP constructor="x", toString="y"');
  expect(challenge?.params).toEqual({ constructor: 'x', tostring: 'y' });
  expect(parseChallenges('DPoP realm="x"')[0]?.params['constructor']).toBeUndefined();
});

test('a header is read up to its length limit', () => {
  const padding = `Bearer realm="${'x'.repeat(MAX_CHALLENGE_LENGTH)}"`;
  expect(parseChallenges(`${padding}, DPoP error="use_dpop_nonce"`)).toEqual([{ scheme: 'bearer', params: {} }]);
  const fits = `Bearer realm="${'x'.repeat(MAX_CHALLENGE_LENGTH - 50)}", DPoP error="use_dpop_nonce"`;
  expect(parseChallenges(fits).map((challenge) => challenge.scheme)).toEqual(['bearer', 'dpop']);
});
