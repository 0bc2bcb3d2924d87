// Mutation testing of the token request (lib/providers/token-request/**) over the suites that test
// it directly: `npx stryker run stryker/token-request.config.mjs`. See docs/development.md.
import base from '../stryker.config.mjs';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
const config = {
  ...base,
  jest: {
    ...base.jest,
    // Every test of the token manager and the send boundary also makes token requests, so the
    // base config runs hundreds of them for each mutant here. These suites are the ones about
    // token requests themselves (the request on its own, rule 6, the vendors' shapes, the
    // failure bounds, and the refresh-token grant, the other caller of requestToken), and they
    // must kill each mutant on their own.
    config: {
      ...base.jest.config,
      testMatch: [
        '**/__tests__/providers/token-request.test.ts',
        '**/__tests__/rules/rule-6-token-endpoint-failures.test.ts',
        '**/__tests__/providers/providers.test.ts',
        '**/__tests__/failure-bounds.test.ts',
        '**/__tests__/providers/refresh-token.test.ts',
      ],
    },
  },
  mutate: ['lib/providers/token-request/**/*.ts'],
  concurrency: 1,
  incrementalFile: 'stryker/incremental-token-request.json',
};
export default config;
