// Mutation testing of the send boundary (routing, the 401 decision, the adapter wrapper, the
// redirect guard) over the base config's suites, at concurrency 1:
// `npx stryker run stryker/boundary.config.mjs`. See docs/development.md.
import base from '../stryker.config.mjs';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
const config = {
  ...base,
  mutate: ['lib/core/routing.ts', 'lib/axios/boundary.ts', 'lib/axios/unauthorized.ts', 'lib/axios/redirect-guard.ts'],
  concurrency: 1,
  incrementalFile: 'stryker/incremental-boundary.json',
};
export default config;
