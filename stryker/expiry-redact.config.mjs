// Mutation testing of expiry (lib/expiry.ts) and redaction (lib/redact.ts) over the base config's
// suites: `npx stryker run stryker/expiry-redact.config.mjs`. See docs/development.md.
import base from '../stryker.config.mjs';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
const config = {
  ...base,
  mutate: ['lib/expiry.ts', 'lib/redact.ts'],
  incrementalFile: 'stryker/incremental-expiry-redact.json',
};
export default config;
