// Mutation testing of the token manager (lib/core/manager/token-manager.ts and its parts, the cool-down and the
// store access) over the unit suites: `npx stryker run` (this file). It is also the base of every
// config under stryker/ (one module group each, each with its own incremental file), which replace
// `mutate` and `incrementalFile`. `npm run mutation` runs them all in turn. See docs/development.md.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
const config = {
  packageManager: 'npm',
  testRunner: 'jest',
  jest: {
    configFile: 'jest.config.ts',
    enableFindRelatedTests: false,
    // Merged over jest.config.ts: the unit suites that test these modules most directly, with
    // axios-mock-adapter and fake time. Not the Redis, fleet, CLI and packaging suites, nor the
    // loopback, fault-injection and property suites, nor the other rule suites: every one of
    // their tests goes through the token manager and the token request, so each mutant would run
    // hundreds of slow tests, and these suites must kill it on their own.
    config: {
      globalSetup: null,
      globalTeardown: null,
      testMatch: [
        '**/__tests__/core/manager/token-manager.test.ts',
        '**/__tests__/core/manager/expiry.test.ts',
        '**/__tests__/providers/token-request.test.ts',
        '**/__tests__/shared/redact.test.ts',
        '**/__tests__/providers/providers.test.ts',
        '**/__tests__/rules/rule-1-routing.test.ts',
        '**/__tests__/rules/rule-3-expiry.test.ts',
        '**/__tests__/rules/rule-5-unauthorized.test.ts',
        '**/__tests__/core/routing.test.ts',
        '**/__tests__/axios/unauthorized.test.ts',
        '**/__tests__/axios/boundary.test.ts',
        '**/__tests__/axios/redirect-guard.test.ts',
        '**/__tests__/axios/attach.test.ts',
        '**/__tests__/rules/rule-2-single-flight.test.ts',
        '**/__tests__/rules/rule-8-replay-safety.test.ts',
        '**/__tests__/rules/rule-9-interceptor-order.test.ts',
        // The token manager's following of a store changed elsewhere (another tab, another process).
        '**/__tests__/core/manager/store-sync.test.ts',
        '**/__tests__/stores/browser/browser-store.test.ts',
      ],
    },
  },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  coverageAnalysis: 'perTest',
  mutate: ['lib/core/manager/token-manager.ts', 'lib/core/manager/cooldown.ts', 'lib/core/manager/store-access.ts'],
  // Messages and names are not behaviour: tests assert codes, statuses and what reached the
  // server, not wording. Module-level constants would need every test for each mutant.
  mutator: { excludedMutations: ['StringLiteral'] },
  ignoreStatic: true,
  // The machine has two cores, shared with other work: two processes at most.
  concurrency: 2,
  timeoutMS: 5_000,
  // Committed, so that a rerun on a clean clone tests only the mutants whose code or tests changed.
  // One file per config: __tests__/stryker-configs.test.ts checks that none is shared, missing or
  // left without a config.
  incremental: true,
  incrementalFile: 'stryker/incremental-token-manager.json',
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
export default config;
