// The customProvider() recipes of docs/providers/custom.md, type-checked by `npm run typecheck`
// against the real packages' types (google-auth-library and @azure/identity are devDependencies
// for this file only). Nothing here runs in the tests: each function only builds a provider.
import { createHmac, randomUUID } from 'node:crypto';
import type { TokenCredential } from '@azure/identity';
import axios from 'axios';
import type { GoogleAuth } from 'google-auth-library';
import { customProvider, type TokenProvider } from '../../lib/index.js';

/** Google Cloud: google-auth-library refreshes its own credentials; tokenflight shares and attaches them. */
export function googleProvider(auth: GoogleAuth): TokenProvider {
  return customProvider({
    name: 'google',
    origins: ['https://storage.googleapis.com'],
    getToken: async () => {
      const client = await auth.getClient();
      const { token } = await client.getAccessToken();
      if (token == null) throw new Error('google-auth-library returned no access token');
      const expiry = client.credentials.expiry_date;
      return expiry == null ? token : { accessToken: token, expiresAt: expiry };
    },
  });
}

/** Azure: any `TokenCredential` (DefaultAzureCredential, ClientSecretCredential…); its `abortSignal` is ours. */
export function azureProvider(credential: TokenCredential, scopes: string | string[]): TokenProvider {
  return customProvider({
    name: 'azure',
    origins: ['https://management.azure.com'],
    getToken: async ({ signal }) => {
      const token = await credential.getToken(scopes, { abortSignal: signal });
      if (token === null) throw new Error('the Azure credential returned no token');
      return { accessToken: token.token, expiresAt: token.expiresOnTimestamp };
    },
  });
}

/** A vendor that issues tokens to an HMAC-signed request (timestamp and nonce in the signature). */
export function signedRequestProvider(options: {
  tokenUrl: string;
  keyId: string;
  secret: string;
  origin: string;
}): TokenProvider {
  const http = axios.create();
  return customProvider({
    name: 'signed',
    origins: [options.origin],
    cacheKey: options.keyId,
    getToken: async ({ signal }) => {
      const timestamp = String(Math.floor(Date.now() / 1000));
      const nonce = randomUUID();
      const signature = createHmac('sha256', options.secret)
        .update(`${options.keyId}\n${timestamp}\n${nonce}`)
        .digest('hex');
      const { data } = await http.post<{ token: string; expires_in: number }>(
        options.tokenUrl,
        { keyId: options.keyId, timestamp, nonce },
        { headers: { 'X-Signature': signature }, signal },
      );
      return { accessToken: data.token, expiresIn: data.expires_in };
    },
  });
}
