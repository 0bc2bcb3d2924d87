import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { clientCredentials, MemoryTokenStore } from '../../lib/index.js';
import type { TokenStore } from '../../lib/stores/store.js';
import { TRANSPORTS, type NeutralHandle, type Transport } from '../helpers/transports.js';
import { headerOf } from './helpers/dpop-send.js';
import { startScriptedServer } from './helpers/scripted-server.js';

/**
 * `issuer` without `dpop.alg`: the proof's algorithm comes from the server's metadata, and tokens
 * are cached per key thumbprint, yet attaching a handle makes no request; the first token()
 * makes one metadata request and one token request.
 */

type Scripted = Awaited<ReturnType<typeof startScriptedServer>>;
let server: Scripted;

beforeEach(async () => {
  server = await startScriptedServer();
  server.answer((path) => {
    if (path === '/.well-known/oauth-authorization-server') {
      return {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          issuer: server.origin,
          token_endpoint: `${server.origin}/token`,
          dpop_signing_alg_values_supported: ['EdDSA', 'PS256'],
        }),
      };
    }
    if (path === '/token') {
      return {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ access_token: 'dpop-token-0123456789', token_type: 'DPoP', expires_in: 300 }),
      };
    }
    return { status: 404 };
  });
});

const handles: NeutralHandle[] = [];
afterEach(async () => {
  for (const handle of handles.splice(0)) handle.close();
  await server.close();
});

/** A store that tells of changes (as Redis and browser stores do), so the handle follows it. */
function followedStore(): TokenStore {
  return Object.assign(new MemoryTokenStore(), { subscribe: () => () => undefined });
}

describe.each(TRANSPORTS)('issuer without dpop.alg, over %s', (_name, transport: Transport) => {
  test.each([
    ['the default store', undefined],
    ['a store that tells of changes', followedStore],
  ])(
    'with %s, attaching makes no request; the first token() makes one metadata request and one token request, signed with the server’s algorithm',
    async (_store, makeStore) => {
      const handle = transport({
        providers: clientCredentials({
          issuer: server.origin,
          clientId: 'c',
          clientSecret: 's',
          dpop: true,
          origins: ['https://api.example.test'],
        }),
        ...(makeStore === undefined ? {} : { store: makeStore() }),
      });
      handles.push(handle);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(server.paths).toEqual([]);
      expect((await handle.token()).accessToken).toBe('dpop-token-0123456789');
      expect(server.paths).toEqual(['/.well-known/oauth-authorization-server', '/token']);
      // The first algorithm of ES256, EdDSA, RS256, PS256 that the server lists.
      expect(headerOf(String(server.headers[1]?.['dpop']))['alg']).toBe('EdDSA');
      await handle.token();
      expect(server.paths).toHaveLength(2);
    },
  );
});
