/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS consumer, as users write it */
// The flow a fetch-only application runs, loaded by esm.mjs (import) and cjs.cjs (require) with
// axios not installed: a token endpoint and an API on a loopback port, createTokenFetch,
// one request that must arrive with the token.
const { createServer } = require('node:http');

exports.run = async function run({ createTokenFetch, clientCredentials }, label) {
  const server = createServer((req, res) => {
    if (req.url === '/token') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: 'fetch-only-token', token_type: 'Bearer', expires_in: 3600 }));
      return;
    }
    const ok = req.headers.authorization === 'Bearer fetch-only-token';
    res.writeHead(ok ? 200 : 401, { 'content-type': 'text/plain' });
    res.end(ok ? 'items' : 'no token');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  const auth = createTokenFetch({
    providers: clientCredentials({ tokenUrl: `${origin}/token`, clientId: 'c', clientSecret: 's', origins: [origin] }),
  });
  try {
    const response = await auth.fetch(`${origin}/v1/items`);
    const body = await response.text();
    if (response.status !== 200 || body !== 'items')
      throw new Error(`${label}: the API answered ${response.status} ${body}`);
    console.log(`${label}: the API answered 200 to a request carrying the token`);
  } finally {
    auth.close();
    server.close();
  }
};
