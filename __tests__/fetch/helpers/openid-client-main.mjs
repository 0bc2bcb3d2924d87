// openid-client 6 (ESM only; the jest suites are compiled to CommonJS) run in a child process by
// __tests__/fetch/openid-client.test.ts, with tokenflight/fetch from the built dist/fetch.js.
// Reads one JSON scenario on stdin, prints one JSON line of what it got.
import * as client from 'openid-client';
import { clientCredentials, createTokenFetch } from '../../../dist/fetch.js';

async function readStdin() {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return JSON.parse(text);
}

const { scenario, issuer, gatewayTokenUrl, servedOrigin, revokeUrl } = await readStdin();
const events = [];
const auth = createTokenFetch({
  providers: clientCredentials({
    tokenUrl: gatewayTokenUrl,
    clientId: 'gateway-client',
    clientSecret: 'gateway-secret',
    origins: [servedOrigin],
  }),
  onEvent: (event) => events.push(event.type),
});
try {
  const clientAuth =
    scenario === 'gateway' ? client.ClientSecretPost('app-secret') : client.ClientSecretBasic('app-secret');
  const config = await client.discovery(new URL(issuer), 'app', undefined, clientAuth, {
    execute: [client.allowInsecureRequests],
    [client.customFetch]: auth.fetch,
  });
  const first = await client.clientCredentialsGrant(config, { scope: 'api:read' });
  if (revokeUrl !== undefined) await fetch(revokeUrl, { method: 'POST' });
  const second = await client.clientCredentialsGrant(config, { scope: 'api:read' });
  console.log(JSON.stringify({ tokens: [first.access_token, second.access_token], events }));
} catch (error) {
  console.log(JSON.stringify({ error: `${error?.name}: ${error?.message}`, code: error?.code, events }));
} finally {
  auth.close();
}
