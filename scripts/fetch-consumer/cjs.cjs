/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS consumer, as users write it */
const tokenflight = require('tokenflight/fetch');

require('./flow.cjs')
  .run(tokenflight, 'require')
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
