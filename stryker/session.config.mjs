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
    // through the token manager, and these must kill each mutant on their own.
    config: {
      ...base.jest.config,
      testMatch: [
        // rotation.ts on its own, on a fake clock: a second or so, and first to fail for most mutants.
        '**/__tests__/core/manager/rotation.test.ts',
        '**/__tests__/session.test.ts',
        '**/__tests__/session-order.test.ts',
        '**/__tests__/refresh-token.test.ts',
      ],
    },
  },
  mutate: ['lib/core/manager/rotation.ts', 'lib/core/manager/refresh-entry.ts', 'lib/core/manager/session.ts'],
  concurrency: 1,
  timeoutMS: 10_000,
  incrementalFile: 'stryker/incremental-session.json',
};
export default config;
