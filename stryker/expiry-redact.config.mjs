// Mutation testing of expiry (lib/core/manager/expiry.ts) and redaction (lib/shared/redact.ts) over the base config's
// suites: `npx stryker run stryker/expiry-redact.config.mjs`. See docs/development.md.
import base from '../stryker.config.mjs';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
const config = {
  ...base,
  mutate: ['lib/core/manager/expiry.ts', 'lib/shared/redact.ts'],
  incrementalFile: 'stryker/incremental-expiry-redact.json',
};
export default config;
