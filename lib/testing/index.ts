/**
 * The testing kit: a loopback simulation of the Symbl, Marsview, SingleView and OAuth 2.0 token
 * endpoints, each with a protected API, so API clients that use tokenflight can be tested without
 * the network. Start with {@link startSimulation} or {@link startProviderServer}; for rotating
 * refresh tokens, {@link startAuthorizationServer} runs a real OAuth 2.0 authorization server
 * (an optional peer dependency, @node-oauth/oauth2-server, must be installed for it).
 *
 * @module tokenflight/testing
 */
import { clientCredentials, type ClientCredentialsOptions } from '../providers/client-credentials.js';
import type { TokenProvider } from '../providers/endpoint.js';
import { marsview } from '../providers/marsview.js';
import { singleView } from '../providers/single-view.js';
import { symbl } from '../providers/symbl.js';
import { startProviderServer, type ProviderServer, type ProviderServerOptions } from './provider-server.js';
import type { SimulatedKind } from './vendors.js';

export { startAuthorizationServer } from './authorization-server.js';
export type {
  AuthorizationServer,
  AuthorizationServerClient,
  AuthorizationServerOptions,
  AuthorizationServerStats,
  IssueRefreshTokenOptions,
  RefreshTokenFamily,
} from './authorization-server.js';
export type { CorsOption } from './cors.js';
export { startProviderServer } from './provider-server.js';
export type {
  IssuedToken,
  ProviderServer,
  ProviderServerOptions,
  SeenRequest,
  SimulationStats,
  TokenFault,
} from './provider-server.js';
export type { SimulatedCredentials, SimulatedKind } from './vendors.js';

/** Options of {@link startSimulation}: the same for every provider, or per provider. */
export interface SimulationOptions extends ProviderServerOptions {
  /** Options for the Symbl simulation only, over the common ones. */
  symbl?: ProviderServerOptions;
  /** Options for the Marsview simulation only, over the common ones. */
  marsview?: ProviderServerOptions;
  /** Options for the SingleView simulation only, over the common ones. */
  singleview?: ProviderServerOptions;
  /** Options for the OAuth 2.0 simulation only, over the common ones. */
  oauth2?: ProviderServerOptions;
}

/** The four simulated providers, each on its own loopback origin. */
export interface Simulation {
  /** Symbl: `POST /oauth2/token:generate` and the API at every other path. */
  readonly symbl: ProviderServer;
  /** Marsview: `POST /cb/v1/auth/create_access_token` and the API at every other path. */
  readonly marsview: ProviderServer;
  /** SingleView: `POST /v1/api/observice/token` (JWT tokens, `expires_in: 0`) and the API at every other path. */
  readonly singleview: ProviderServer;
  /** OAuth 2.0 client credentials: `POST /oauth2/token` and the API at every other path. */
  readonly oauth2: ProviderServer;
  /** All four, for loops. */
  readonly servers: readonly ProviderServer[];
  /** Stops the four servers (hanging token requests are cut). */
  close(): Promise<void>;
}

const KINDS: readonly SimulatedKind[] = ['symbl', 'marsview', 'singleview', 'oauth2'];

/**
 * Starts the Symbl, Marsview, SingleView and OAuth 2.0 client-credentials simulations on
 * `127.0.0.1`, each with a protected API, so API clients that use tokenflight can be tested
 * without the network.
 *
 * @example
 * ```ts
 * const sim = await startSimulation({ tokenLifetimeSeconds: 2 });
 * const api = axios.create({ baseURL: sim.symbl.url });
 * attachTokenAuth(api, { providers: simulatedProvider(sim.symbl) });
 * await api.get('/api/conversations');
 * sim.symbl.revokeAll();                 // the next request gets a 401, refreshes and replays
 * console.log(sim.symbl.stats.tokenRequests);
 * await sim.close();
 * ```
 */
export async function startSimulation(options: SimulationOptions = {}): Promise<Simulation> {
  const { symbl: a, marsview: b, singleview: c, oauth2: d, ...common } = options;
  const perKind: Record<SimulatedKind, ProviderServerOptions | undefined> = {
    symbl: a,
    marsview: b,
    singleview: c,
    oauth2: d,
  };
  const servers = await Promise.all(KINDS.map((kind) => startProviderServer(kind, { ...common, ...perKind[kind] })));
  const [symblServer, marsviewServer, singleviewServer, oauth2Server] = servers as [
    ProviderServer,
    ProviderServer,
    ProviderServer,
    ProviderServer,
  ];
  return {
    symbl: symblServer,
    marsview: marsviewServer,
    singleview: singleviewServer,
    oauth2: oauth2Server,
    servers,
    close: async () => {
      await Promise.all(servers.map((server) => server.close()));
    },
  };
}

/** Options of {@link simulatedProvider}. */
export interface SimulatedProviderOptions {
  /** Which tenant's credentials to use. @default 0 */
  tenant?: number;
  /** The provider's name. @default the factory's default */
  name?: string;
  /** For the OAuth 2.0 simulation: the scopes to ask for. */
  scope?: ClientCredentialsOptions['scope'];
  /** For the OAuth 2.0 simulation: how the client authenticates. @default 'client_secret_basic' */
  authMethod?: ClientCredentialsOptions['authMethod'];
}

/**
 * The tokenflight provider for a simulated one, with valid credentials and its base URL.
 *
 * @example
 * ```ts
 * const server = await startProviderServer('marsview');
 * const api = axios.create({ baseURL: server.url });
 * attachTokenAuth(api, { providers: simulatedProvider(server) });
 * ```
 */
export function simulatedProvider(server: ProviderServer, options: SimulatedProviderOptions = {}): TokenProvider {
  const credentials = server.tenants[options.tenant ?? 0];
  if (credentials === undefined)
    throw new TypeError(`simulatedProvider(): the simulation has no tenant ${options.tenant}`);
  const text = (key: string): string => credentials[key] ?? '';
  const name = options.name === undefined ? {} : { name: options.name };
  switch (server.kind) {
    case 'symbl':
      return symbl({ appId: text('appId'), appSecret: text('appSecret'), baseURL: server.url, ...name });
    case 'marsview':
      return marsview({
        userId: text('userId'),
        apiKey: text('apiKey'),
        apiSecret: text('apiSecret'),
        baseURL: server.url,
        ...name,
      });
    case 'singleview':
      return singleView({
        clientId: text('clientId'),
        clientCode: text('clientCode'),
        merchantId: text('merchantId'),
        baseURL: server.url,
        ...name,
      });
    case 'oauth2':
      return clientCredentials({
        tokenUrl: `${server.url}/oauth2/token`,
        clientId: text('clientId'),
        clientSecret: text('clientSecret'),
        origins: [server.url],
        ...name,
        ...(options.scope === undefined ? {} : { scope: options.scope }),
        ...(options.authMethod === undefined ? {} : { authMethod: options.authMethod }),
      });
  }
}
