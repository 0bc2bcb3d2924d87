// Mutation testing of the session and rotation code (lib/core/manager/rotation.ts, refresh-entry.ts,
// session.ts: ordering sessions by generation, keeping a rotated refresh token, the refresh entry)
// over the suites that test it directly, at concurrency 1:
// `nice -n 10 timeout 80m npx stryker run stryker/session.config.mjs`. See docs/development.md.
import base from '../stryker.config.mjs';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
const config = {
  ...base,
  jest: {
    ...base.jest,
    // The suites about sessions and rotation themselves: every test of the base list also goes
    // through the token manager, and these must kill each mutant on their own. Not the
    // refresh-token suite (a loopback authorization server; its tests wait seconds for leases and
    // marks on purpose and go through all of rotation.ts: 22.7 s of the dry run's 31.4 s of
    // tests with it): core/manager/rotation tests rotation.ts directly on a fake clock instead.
    config: {
      ...base.jest.config,
      testMatch: [
        '**/__tests__/core/manager/rotation.test.ts',
        '**/__tests__/core/manager/session.test.ts',
        '**/__tests__/core/manager/session-order.test.ts',
      ],
    },
  },
  mutate: ['lib/core/manager/rotation.ts', 'lib/core/manager/refresh-entry.ts', 'lib/core/manager/session.ts'],
  // The checker over these modules only: see the file.
  tsconfigFile: 'stryker/session.tsconfig.json',
  concurrency: 1,
  timeoutMS: 10_000,
  incrementalFile: 'stryker/incremental-session.json',
};
export default config;
