// node:test (`node --test`) using the packed tarball.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import axios from 'axios';
import { attachTokenAuth, refreshTokenGrant } from 'tokenflight';
import { startAuthorizationServer } from 'tokenflight/testing';

test('the testing kit’s authorization server serves refreshTokenGrant under node:test', async () => {
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
    assert.equal(data.ok, true);
    assert.equal(data.clientId, 'public-client');
    assert.equal(data.path, '/v1/me');
    assert.equal(server.stats.rotations, 1);
    assert.equal(server.stats.reuseDetections, 0);
    auth.eject();
  } finally {
    await server.close();
  }
});
