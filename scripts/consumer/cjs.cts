// The same consumer compiled as CommonJS (NodeNext, a .cts file): it resolves the `require`
// condition, so it checks the .d.cts declarations and that the module augmentation reaches axios's
// CommonJS types too.
import axios = require('axios');
import tokenflight = require('tokenflight');
import testing = require('tokenflight/testing');
import redis = require('tokenflight/redis');
import browser = require('tokenflight/browser');
import IORedis = require('ioredis');
import type { Token, TokenAuthEvent, TokenRequestErrorCode } from 'tokenflight';

const { attachTokenAuth, clientCredentials, isTokenRequestError, jsonProvider, marsview, singleView, symbl } =
  tokenflight;

async function main(): Promise<void> {
  const api = axios.create({ baseURL: 'https://api.symbl.ai' });
  const auth = attachTokenAuth(api, {
    providers: [
      symbl({ appId: 'id', appSecret: 'secret' }),
      marsview({ userId: 'u', apiKey: 'k', apiSecret: 's' }),
      singleView({ clientId: 'c', clientCode: 'cc', merchantId: 'm', baseURL: 'https://sv.example.com' }),
      clientCredentials({ tokenUrl: 'https://auth.example.com/token', clientId: 'c', clientSecret: 's' }),
      jsonProvider({ name: 'acme', tokenUrl: 'https://auth.acme.com/session', token: 'token' }),
    ],
    onEvent: (event: TokenAuthEvent) => console.log(event.type, event.provider),
    logger: { info: (fields: object, message: string) => console.log(fields, message) },
  });

  // @ts-expect-error unknown provider options are a type error
  marsview({ userId: 'u', apiKey: 'k', apiSecret: 's', baseUrl: 'https://typo.example.com' });

  await api.get('/health', { tokenAuth: false });
  await api.get('/v1/conversations', { tokenAuth: { provider: 'symbl' } });
  // @ts-expect-error `tokenAuth.provider` is a string
  await api.get('/v1/conversations', { tokenAuth: { provider: 1 } });

  try {
    const token: Token = await auth.token();
    console.log(token.expiresAt);
  } catch (error) {
    if (isTokenRequestError(error)) {
      const code: TokenRequestErrorCode = error.code;
      console.log(code, error.status, error.providerCode);
    }
    if (error instanceof tokenflight.TokenRequestError) console.log(error.url, error.attempts);
  }
  auth.eject();

  const client = new IORedis.Redis({ lazyConnect: true });
  attachTokenAuth(axios.create(), {
    providers: symbl({ appId: 'id', appSecret: 'secret' }),
    store: new redis.RedisTokenStore(client, { prefix: 'app:tokens:' }),
  });
  client.disconnect();

  const sessionLike: browser.BrowserStorage = {
    length: 0,
    key: () => null,
    getItem: () => null,
    setItem: () => undefined,
    removeItem: () => undefined,
  };
  attachTokenAuth(axios.create(), {
    providers: symbl({ appId: 'id', appSecret: 'secret' }),
    store: new browser.BrowserTokenStore({ storage: sessionLike, locks: false, storageEvents: false }),
  });

  const sim = await testing.startSimulation();
  attachTokenAuth(axios.create({ baseURL: sim.oauth2.url }), { providers: testing.simulatedProvider(sim.oauth2) });
  await sim.close();
}

void main();
