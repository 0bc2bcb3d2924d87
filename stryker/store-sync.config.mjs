// Mutation testing of the store-change rule (lib/core/manager/store-sync.ts: a sibling tab's or process's write
// or removal) over the suites that test it directly: `npx stryker run stryker/store-sync.config.mjs`.
// See docs/development.md.
import base from '../stryker.config.mjs';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
const config = {
  ...base,
  jest: {
    ...base.jest,
    config: {
      ...base.jest.config,
      testMatch: [
        '**/__tests__/core/manager/store-sync.test.ts',
        '**/__tests__/stores/browser/browser-store.test.ts',
        '**/__tests__/core/manager/token-manager.test.ts',
      ],
    },
  },
  mutate: ['lib/core/manager/store-sync.ts'],
  incrementalFile: 'stryker/incremental-store-sync.json',
};
export default config;
