// Mutation testing of the redaction rules (lib/redact.ts: which secrets are scrubbed where, codes
// kept or withheld whole) over the suites that test them directly:
// `nice -n 10 npx stryker run stryker/redact.config.mjs`. See docs/development.md.
import base from '../stryker.config.mjs';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
const config = {
  ...base,
  jest: {
    ...base.jest,
    config: {
      ...base.jest.config,
      // The unit suite and the codes of token errors end to end (axios-mock-adapter only); not the
      // property suite over every rendering, which takes seconds per mutant.
      testMatch: ['**/__tests__/redact.test.ts', '**/__tests__/oauth-error-codes.test.ts'],
    },
  },
  mutate: ['lib/redact.ts'],
  concurrency: 1,
  incrementalFile: 'stryker/incremental-redact.json',
};
export default config;
