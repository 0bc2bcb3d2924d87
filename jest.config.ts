/** @jest-config-loader esbuild-register */
import type { Config } from 'jest';
const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  // Helpers (servers, fleet workers) live beside the suites but are not suites.
  testPathIgnorePatterns: ['/node_modules/', '/__tests__/(.+/)?helpers/'],
  setupFilesAfterEnv: ['<rootDir>/__tests__/setup/no-unhandled-rejections.ts'],
  // One redis-server for the Redis suites (skipped with a printed notice when it is missing, fatal under CI=true).
  globalSetup: '<rootDir>/__tests__/redis/helpers/redis-server.ts',
  globalTeardown: '<rootDir>/__tests__/redis/helpers/global-teardown.ts',
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.[tj]s$': [
      'ts-jest',
      {
        tsconfig: {
          module: 'commonjs',
          moduleResolution: 'node10',
          verbatimModuleSyntax: false,
          allowJs: true,
          isolatedModules: true,
        },
      },
    ],
  },
  // ky (ESM only) and ofetch's ESM dependencies are transformed too, for the fetch client suites.
  transformIgnorePatterns: ['/node_modules/(?!(ky|ofetch|destr|ufo|node-fetch-native)/)'],
};
export default config;
