// An ES-module Jest project (node --experimental-vm-modules) using the packed tarball.
import { expect, test } from '@jest/globals';
import axios from 'axios';
import { attachTokenAuth, refreshTokenGrant } from 'tokenflight';
import { startAuthorizationServer } from 'tokenflight/testing';

test('the testing kit’s authorization server serves refreshTokenGrant under ES-module Jest', async () => {
  const server = await startAuthorizationServer();
  try {
    const api = axios.create({ baseURL: server.url });
    const auth = attachTokenAuth(api, {
      providers: refreshTokenGrant({
        tokenUrl: server.tokenUrl,
        clientId: 'public-client',
        refreshToken: server.issueRefreshToken({ clientId: 'public-client' }),
      }),
    });
    const { data } = await api.get('/v1/me');
    expect(data).toMatchObject({ ok: true, clientId: 'public-client', path: '/v1/me' });
    expect(server.stats).toMatchObject({ rotations: 1, reuseDetections: 0 });
    auth.eject();
  } finally {
    await server.close();
  }
});
