// Mutation testing of the token logic over the unit suites: `npm run mutation`. See docs/development.md.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
const config = {
  packageManager: 'npm',
  testRunner: 'jest',
  jest: {
    configFile: 'jest.config.ts',
    enableFindRelatedTests: false,
    // Merged over jest.config.ts: the unit suites only. No redis-server, no fleet of processes, no
    // packed tarball, no CLI, and none of the loopback-server suites that take seconds per test.
    config: {
      globalSetup: null,
      globalTeardown: null,
      testPathIgnorePatterns: [
        '/node_modules/',
        '/__tests__/(.+/)?helpers/',
        '/__tests__/redis/',
        '/__tests__/cli\\.test\\.ts$',
        '/__tests__/package\\.test\\.ts$',
        '/__tests__/integration\\.test\\.ts$',
        '/__tests__/fault-injection\\.test\\.ts$',
        '/__tests__/failure-bounds-heap\\.test\\.ts$',
        // Seconds per run, and covering every mutant: the example-based suites must kill them.
        '/__tests__/properties\\.test\\.ts$',
      ],
    },
  },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  coverageAnalysis: 'perTest',
  mutate: [
    'lib/token-manager.ts',
    'lib/expiry.ts',
    'lib/redact.ts',
    'lib/providers/token-request/**/*.ts',
    'lib/routing.ts',
  ],
  // The machine has two cores, shared with other work: two processes at most.
  concurrency: 2,
  timeoutMS: 10_000,
  // Committed, so that a rerun on a clean clone tests only the mutants whose code or tests changed.
  incremental: true,
  incrementalFile: 'stryker/incremental.json',
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
export default config;
