// A CommonJS Jest project (Jest's default: babel-jest, no flags) using the packed tarball.
const axios = require('axios');
const { attachTokenAuth, refreshTokenGrant } = require('tokenflight');
const { startAuthorizationServer } = require('tokenflight/testing');

test('the testing kit’s authorization server serves refreshTokenGrant under CommonJS Jest', async () => {
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
