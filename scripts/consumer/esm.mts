// A strict TypeScript consumer of the packed tarball, compiled as an ES module (NodeNext). It is
// type-checked, not run, by scripts/check-package.ts; every line is something a user writes.
import axios, { type AxiosError } from 'axios';
import {
  attachTokenAuth,
  clientCredentials,
  customProvider,
  DEFAULTS,
  isTokenRequestError,
  jsonProvider,
  marsview,
  MemoryTokenStore,
  refreshTokenGrant,
  singleView,
  symbl,
  TokenRequestError,
  type Token,
  type TokenAuth,
  type TokenAuthEvent,
  type OriginsSource,
  type TokenAuthLogger,
  type TokenProvider,
  type TokenRequestErrorCode,
} from 'tokenflight';
import { BrowserTokenStore, type BrowserStorage, type BrowserTokenStoreOptions } from 'tokenflight/browser';
import { RedisTokenStore, type RedisTokenStoreOptions } from 'tokenflight/redis';
import { simulatedProvider, startProviderServer, startSimulation, type ProviderServer } from 'tokenflight/testing';
import { Redis } from 'ioredis';

const providers: TokenProvider[] = [
  symbl({ appId: 'id', appSecret: 'secret' }),
  marsview({ userId: 'u', apiKey: 'k', apiSecret: 's', name: 'mv' }),
  singleView({ clientId: 'c', clientCode: 'cc', merchantId: 'm', baseURL: 'https://sv.example.com' }),
  clientCredentials({
    tokenUrl: 'https://auth.example.com/oauth2/token',
    clientId: 'c',
    clientSecret: 's',
    scope: ['read', 'write'],
    audience: 'https://api.example.com',
    authMethod: 'client_secret_post',
    origins: ['https://api.example.com'],
  }),
  jsonProvider({
    name: 'acme',
    tokenUrl: 'https://auth.acme.com/session',
    token: 'result.token',
    expiresIn: 'result.ttl',
  }),
  customProvider({
    name: 'vault',
    origins: ['https://api.example.com'],
    cacheKey: 'tenant-1',
    getToken: async ({ signal, reason }) => {
      const response = await axios.get<{ token: string; ttl: number }>('https://vault.example.com/token', { signal });
      return reason === 'rejected'
        ? response.data.token
        : { accessToken: response.data.token, expiresIn: response.data.ttl };
    },
  }),
  refreshTokenGrant({
    tokenUrl: 'https://auth.example.com/oauth2/token',
    clientId: 'public-app',
    refreshToken: 'stored-refresh-token',
    onRefreshToken: async (next: string) => {
      await Promise.resolve(next);
    },
    origins: ['https://api.example.com'],
  }),
];

// Where each provider's origins came from (an OAuth grant without `origins` follows the instance).
const originsFrom: OriginsSource[] = providers.map((provider) => provider.originsFrom);
void originsFrom;

// @ts-expect-error customProvider needs its origins
customProvider({ name: 'x', getToken: () => 't' });

// @ts-expect-error unknown provider options are a type error
symbl({ appId: 'id', appSecret: 'secret', appSecrett: 'typo' });

const logger: TokenAuthLogger = console;
const api = axios.create({ baseURL: 'https://api.symbl.ai' });
const auth: TokenAuth = attachTokenAuth(api, {
  providers,
  store: new MemoryTokenStore(),
  refreshWindowMs: DEFAULTS.refreshWindowMs,
  tokenRequest: { retries: 1 },
  onEvent: (event: TokenAuthEvent) => {
    if (event.type === 'token-fetched') console.log(event.fingerprint, event.durationMs);
  },
  logger,
});
await auth.resumeSession('new-refresh-token', 'oauth2-refresh');

// docs/observability.md's onEvent sample, verbatim inside the callback.
const metrics = {
  histogram: (_name: string, _value: number, _tags: Record<string, string>): void => undefined,
  increment: (_name: string, _tags: Record<string, string>): void => undefined,
};
attachTokenAuth(axios.create(), {
  providers,
  onEvent: (event: TokenAuthEvent) => {
    switch (event.type) {
      case 'token-fetched':
        metrics.histogram('token_request_ms', event.durationMs, { provider: event.provider });
        break;
      case 'token-failed': {
        // A TokenRequestError in practice; the guard narrows it to read `code`.
        const code = isTokenRequestError(event.error) ? event.error.code : event.error.name;
        if (!event.background) metrics.increment('token_failures', { provider: event.provider, code });
        break;
      }
      case 'request-replayed':
        metrics.increment('replays', { provider: event.provider, stale: String(event.stale) });
        break;
      case 'request-unrouted':
        metrics.increment('unrouted', { origin: event.origin ?? 'none' });
        break;
    }
  },
}).eject();

// The `tokenAuth` request option reaches axios's config type through module augmentation.
await api.get('/health', { tokenAuth: false });
await api.post('/v1/things', { a: 1 }, { tokenAuth: { provider: 'symbl' } });
// @ts-expect-error `tokenAuth` is `false` or an options object
await api.get('/health', { tokenAuth: true });

try {
  const token: Token = await auth.token('mv');
  const expiresAt: number | null = token.expiresAt;
  console.log(token.accessToken, token.tokenType, expiresAt);
} catch (error) {
  if (error instanceof TokenRequestError) {
    const code: TokenRequestErrorCode = error.code;
    const status: number | undefined = error.status;
    console.log(code, status, error.providerCode, error.provider);
  } else if (isTokenRequestError(error)) {
    console.log(error.code);
  } else {
    const axiosError = error as AxiosError;
    console.log(axiosError.response?.status);
  }
}
await auth.invalidate();
auth.eject();

const redisOptions: RedisTokenStoreOptions = { prefix: 'app:tokens:', commandTimeoutMs: 200 };
const redis = new Redis({ lazyConnect: true });
attachTokenAuth(axios.create(), { providers: providers[0]!, store: new RedisTokenStore(redis, redisOptions) });

// Compiled without the DOM library: the browser store's types stand on their own.
const entries = new Map<string, string>();
const storage: BrowserStorage = {
  get length() {
    return entries.size;
  },
  key: (index) => [...entries.keys()][index] ?? null,
  getItem: (key) => entries.get(key) ?? null,
  setItem: (key, value) => void entries.set(key, value),
  removeItem: (key) => void entries.delete(key),
};
const browserOptions: BrowserTokenStoreOptions = { storage, prefix: 'app:', locks: false, storageEvents: false };
attachTokenAuth(axios.create(), { providers: providers[0]!, store: new BrowserTokenStore(browserOptions) });
redis.disconnect();

const server: ProviderServer = await startProviderServer('symbl', { tokenLifetimeSeconds: 2 });
const sim = await startSimulation({ symbl: { tokenLatencyMs: 10 } });
attachTokenAuth(axios.create({ baseURL: server.url }), { providers: simulatedProvider(server) });
sim.marsview.queueTokenFaults({ status: 503 }, { hang: true });
console.log(sim.marsview.stats.tokenRequests);
await Promise.all([server.close(), sim.close()]);
