// Mutation testing of the session and rotation code (lib/rotation.ts, lib/refresh-entry.ts,
// lib/session.ts) over the suites that test them: `nice -n 10 npx stryker run stryker/sessions.config.mjs`.
// See docs/development.md.
import base from '../stryker.config.mjs';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
const config = {
  ...base,
  jest: {
    ...base.jest,
    // The session order's unit suite, the sessions suite (a scripted token endpoint on 127.0.0.1) and the refresh-token suite
    // (the testing kit's authorization server); not the Redis suites (no redis-server under
    // Stryker: its global setup is off).
    config: {
      ...base.jest.config,
      testMatch: [
        '**/__tests__/session.test.ts',
        '**/__tests__/session-order.test.ts',
        '**/__tests__/refresh-token.test.ts',
      ],
    },
  },
  mutate: ['lib/rotation.ts', 'lib/refresh-entry.ts', 'lib/session.ts'],
  concurrency: 1,
  timeoutMS: 10_000,
  incrementalFile: 'stryker/incremental-sessions.json',
};
export default config;
