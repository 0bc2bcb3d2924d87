// Mutation testing of the fetch boundary (lib/fetch/*.ts) and of the axios boundary's HttpClient
// (lib/axios/http-client.ts) over the suites that test them directly, at concurrency 1:
// `timeout 60m npx stryker run stryker/fetch.config.mjs`. See docs/development.md.
import base from '../stryker.config.mjs';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
const config = {
  ...base,
  jest: {
    ...base.jest,
    // The fetch boundary's own suite and its client suite, both HttpClient implementations, and
    // the rules run over both boundaries: loopback servers, no Redis, no packaging. Not the load
    // suite (__tests__/fetch/concurrency.test.ts): its 1,000 calls take seconds for each mutant.
    config: {
      ...base.jest.config,
      testMatch: [
        '**/__tests__/fetch/boundary.test.ts',
        '**/__tests__/fetch/clients.test.ts',
        '**/__tests__/core/http-client.test.ts',
        '**/__tests__/rules/rules-both-boundaries.test.ts',
        // Tests written against mutants that survived the suites above (see docs/development.md).
        '**/__tests__/core/token-client-interceptor-headers.test.ts',
        '**/__tests__/fetch/runtime-without-fetch.test.ts',
        '**/__tests__/fetch/redirect-methods.test.ts',
        '**/__tests__/fetch/rejected-body-view.test.ts',
        '**/__tests__/fetch/body-handed-on.test.ts',
        '**/__tests__/fetch/call-arguments.test.ts',
        '**/__tests__/fetch/dpop-sends.test.ts',
      ],
    },
  },
  mutate: ['lib/fetch/*.ts', 'lib/axios/http-client.ts'],
  concurrency: 1,
  timeoutMS: 10_000,
  incrementalFile: 'stryker/incremental-fetch.json',
};
export default config;
