// Mutation testing of the DPoP nonce and proof logic (lib/oauth/: nonces and their challenges, the
// WWW-Authenticate parser, proofs and their JWS signing; lib/core/dpop.ts, what both boundaries and the
// token request do with them) over their unit suites:
// `nice -n 10 npx stryker run stryker/oauth-dpop.config.mjs`. See docs/development.md.
import base from '../stryker.config.mjs';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
const config = {
  ...base,
  jest: {
    ...base.jest,
    // The unit suites only: the oidc-provider suite starts a server per run and must not be what
    // kills a mutant of these pure functions.
    config: {
      ...base.jest.config,
      testMatch: [
        '**/__tests__/oauth/dpop-nonce.test.ts',
        '**/__tests__/oauth/www-authenticate.test.ts',
        '**/__tests__/oauth/dpop-proof.test.ts',
        '**/__tests__/core/dpop.test.ts',
        '**/__tests__/oauth/base64url.test.ts',
        '**/__tests__/oauth/random.test.ts',
      ],
    },
  },
  mutate: [
    'lib/oauth/dpop-nonce.ts',
    'lib/oauth/www-authenticate.ts',
    'lib/oauth/dpop-proof.ts',
    'lib/oauth/jws.ts',
    'lib/oauth/base64url.ts',
    'lib/oauth/random.ts',
    'lib/core/dpop.ts',
    'lib/providers/token-request/dpop.ts',
  ],
  // The checker over these modules only: see the file.
  tsconfigFile: 'stryker/oauth-dpop.tsconfig.json',
  concurrency: 1,
  incrementalFile: 'stryker/incremental-oauth-dpop.json',
};
export default config;
