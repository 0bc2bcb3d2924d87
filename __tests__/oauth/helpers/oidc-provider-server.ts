import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { makeClientKeys, type ClientKey } from './client-keys.js';

/** What reached oidc-provider's token endpoint (recorded by the server). */
export interface RecordedTokenRequest {
  method: string;
  status: number;
  error: string | undefined;
  errorDescription: string | undefined;
  dpop: string | undefined;
  authorization: string | undefined;
  grantType: string | undefined;
  clientAssertion: string | undefined;
}

/** A running oidc-provider and its registered clients. */
export interface OidcProviderServer {
  issuer: string;
  tokenEndpoint: string;
  resource: string;
  keys: { rsa: ClientKey; ec: ClientKey; ed: ClientKey };
  clients: {
    /** `private_key_jwt`, with the RSA, EC and Ed25519 keys in its JWKS. */
    keyJwt: { clientId: string };
    /** `client_secret_jwt` (HS256). */
    secretJwt: { clientId: string; clientSecret: string };
    /** `client_secret_basic`. */
    basic: { clientId: string; clientSecret: string };
    /** `private_key_jwt` and `dpop_bound_access_tokens`. */
    dpop: { clientId: string };
    /** `private_key_jwt` with the refresh-token grant, bearer tokens. */
    keyJwtRefresh: { clientId: string };
  };
  requests(): Promise<RecordedTokenRequest[]>;
  mintRefreshToken(clientId: string): Promise<string>;
  close(): Promise<void>;
}

const SCRIPT = join(__dirname, 'oidc-provider-main.mjs');

/**
 * Starts oidc-provider (with DPoP nonces required, client credentials, resource indicators issuing
 * JWT access tokens, refresh-token rotation) in a child process on 127.0.0.1 and a free port.
 */
export async function startOidcProvider(): Promise<OidcProviderServer> {
  const keys = makeClientKeys();
  const jwks = { keys: [keys.rsa.publicJwk, keys.ec.publicJwk, keys.ed.publicJwk] };
  const machine = { grant_types: ['client_credentials'], response_types: [], redirect_uris: [] };
  const secretJwt = { clientId: 'secret-jwt-client', clientSecret: 'a-client-secret-of-more-than-thirty-two-bytes' };
  const basic = { clientId: 'basic-client', clientSecret: 'basic-client-secret' };
  const clients = [
    { ...machine, client_id: 'key-jwt-client', token_endpoint_auth_method: 'private_key_jwt', jwks },
    {
      ...machine,
      client_id: secretJwt.clientId,
      client_secret: secretJwt.clientSecret,
      token_endpoint_auth_method: 'client_secret_jwt',
      token_endpoint_auth_signing_alg: 'HS256',
    },
    {
      ...machine,
      client_id: basic.clientId,
      client_secret: basic.clientSecret,
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: 'dpop-client',
      token_endpoint_auth_method: 'private_key_jwt',
      jwks,
      dpop_bound_access_tokens: true,
      grant_types: ['client_credentials', 'refresh_token', 'authorization_code'],
      response_types: ['code'],
      redirect_uris: ['https://app.example.test/callback'],
    },
    {
      client_id: 'key-jwt-refresh-client',
      token_endpoint_auth_method: 'private_key_jwt',
      jwks,
      grant_types: ['refresh_token', 'authorization_code'],
      response_types: ['code'],
      redirect_uris: ['https://app.example.test/callback'],
    },
  ];
  const child = spawn(process.execPath, [SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(JSON.stringify({ clients }));
  const ready = await new Promise<{ issuer: string; resource: string }>((resolve, reject) => {
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const line = stdout.split('\n')[0];
      if (stdout.includes('\n') && line !== undefined)
        resolve(JSON.parse(line) as { issuer: string; resource: string });
    });
    child.once('exit', (code) => reject(new Error(`oidc-provider exited (${code}) before it was ready:\n${stderr}`)));
  });
  const { issuer, resource } = ready;
  return {
    issuer,
    tokenEndpoint: `${issuer}/token`,
    resource,
    keys,
    clients: {
      keyJwt: { clientId: 'key-jwt-client' },
      secretJwt,
      basic,
      dpop: { clientId: 'dpop-client' },
      keyJwtRefresh: { clientId: 'key-jwt-refresh-client' },
    },
    async requests() {
      return (await (await fetch(`${issuer}/_test/requests`)).json()) as RecordedTokenRequest[];
    },
    async mintRefreshToken(clientId) {
      const answer = await fetch(`${issuer}/_test/refresh-token?client_id=${encodeURIComponent(clientId)}`, {
        method: 'POST',
      });
      const json = (await answer.json()) as { refreshToken?: string; error?: string };
      if (json.refreshToken === undefined) throw new Error(`minting a refresh token failed: ${json.error}`);
      return json.refreshToken;
    },
    async close() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}
