import { defineConfig, type Options } from 'tsup';

const entry = {
  index: 'lib/index.ts',
  fetch: 'lib/fetch.ts',
  testing: 'lib/testing/index.ts',
  redis: 'lib/redis.ts',
  browser: 'lib/browser.ts',
};

const shared: Options = {
  entry,
  outDir: 'dist',
  target: 'node20',
  platform: 'neutral',
  sourcemap: true,
  dts: true,
  clean: false,
  // Optional peers, loaded only by the features that need them.
  external: ['axios', 'ioredis', '@node-oauth/oauth2-server', /^node:/],
};

export default defineConfig([
  // The `tokenflight` bin (dist/cli.js, shebang kept from the source) is built here only, with no declarations.
  {
    ...shared,
    entry: { ...entry, cli: 'lib/cli/main.ts' },
    dts: { entry },
    format: 'esm',
    splitting: true,
    clean: true,
  },
  // CJS: `import()`s of optional peers (@node-oauth/oauth2-server) become `require()`: a native
  // `import()` in CommonJS fails under Jest's vm ("A dynamic import callback was invoked without
  // --experimental-vm-modules"), so the testing kit would not run in a CommonJS Jest project.
  {
    ...shared,
    format: 'cjs',
    splitting: false,
    esbuildOptions(options) {
      options.supported = { ...options.supported, 'dynamic-import': false };
    },
  },
]);
