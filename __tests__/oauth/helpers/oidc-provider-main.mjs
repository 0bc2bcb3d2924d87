// An oidc-provider authorization server on 127.0.0.1 and a free port, run in a child process
// (oidc-provider is ESM-only; the jest suites are compiled to CommonJS). Started by
// oidc-provider-server.ts, which passes the clients as JSON on stdin and reads one JSON line back:
// { issuer, resource }. Every request to the token endpoint is recorded; GET /_test/requests
// returns them, POST /_test/refresh-token?client_id=… mints a refresh token.
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { generateKeyPair, exportJWK } from 'jose';
import Provider from 'oidc-provider';

const RESOURCE = 'urn:tokenflight:test-api';

async function readStdin() {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return JSON.parse(text);
}

async function signingKeys() {
  const keys = [];
  for (const [alg, options] of [
    ['RS256', { modulusLength: 2048 }],
    ['ES256', {}],
  ]) {
    const { privateKey } = await generateKeyPair(alg, { ...options, extractable: true });
    keys.push({ ...(await exportJWK(privateKey)), alg, use: 'sig', kid: `server-${alg}` });
  }
  return keys;
}

const { clients } = await readStdin();
const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;
const requests = [];

const configuration = async () => ({
  clients,
  jwks: { keys: await signingKeys() },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'api:read',
        audience: RESOURCE,
        accessTokenFormat: 'jwt',
        accessTokenTTL: 300,
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
  enabledJWA: { dPoPSigningAlgValues: ['ES256', 'EdDSA', 'RS256', 'PS256'] },
  rotateRefreshToken: () => true,
  scopes: ['openid', 'offline_access', 'api:read'],
});
const provider = new Provider(issuer, await configuration());
// A second issuer with a path, mounted under it: its RFC 8414 URL (the well-known segment
// inserted before the path) is not served, as with many servers; its OpenID URL is.
const tenant = new Provider(`${issuer}/tenant`, await configuration());

// What reached the token endpoint, in order, with the answer's status and error.
provider.use(async (ctx, next) => {
  await next();
  if (ctx.path !== '/token') return;
  const body = ctx.oidc?.body ?? {};
  requests.push({
    method: ctx.method,
    status: ctx.status,
    error: typeof ctx.body === 'object' && ctx.body !== null ? ctx.body.error : undefined,
    errorDescription: typeof ctx.body === 'object' && ctx.body !== null ? ctx.body.error_description : undefined,
    dpop: ctx.get('DPoP') || undefined,
    authorization: ctx.get('Authorization') ? ctx.get('Authorization').split(' ')[0] : undefined,
    grantType: body.grant_type,
    clientAssertion: body.client_assertion,
  });
});

async function mintRefreshToken(clientId) {
  const client = await provider.Client.find(clientId);
  const grant = new provider.Grant({ clientId, accountId: 'user-1' });
  grant.addOIDCScope('openid offline_access');
  grant.addResourceScope(RESOURCE, 'api:read');
  const grantId = await grant.save();
  const token = new provider.RefreshToken({
    client,
    accountId: 'user-1',
    grantId,
    gty: 'authorization_code',
    scope: 'openid offline_access',
    resource: RESOURCE,
  });
  return token.save();
}

const callback = provider.callback();
const tenantCallback = tenant.callback();
server.on('request', (req, res) => {
  if (req.url?.startsWith('/tenant/')) {
    req.originalUrl = req.url;
    req.url = req.url.slice('/tenant'.length);
    tenantCallback(req, res);
    return;
  }
  if (req.url === '/_test/requests') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(requests));
    return;
  }
  if (req.method === 'POST' && req.url?.startsWith('/_test/refresh-token?')) {
    const clientId = new URL(req.url, issuer).searchParams.get('client_id');
    mintRefreshToken(clientId).then(
      (refreshToken) => res.end(JSON.stringify({ refreshToken })),
      (error) => {
        res.statusCode = 500;
        res.end(JSON.stringify({ error: String(error) }));
      },
    );
    return;
  }
  // The RFC 8414 URL of the tenant (well-known segment before the path): not served.
  if (req.url?.startsWith('/.well-known/oauth-authorization-server/')) {
    res.statusCode = 404;
    res.end();
    return;
  }
  callback(req, res);
});

process.stdout.write(`${JSON.stringify({ issuer, resource: RESOURCE })}\n`);
