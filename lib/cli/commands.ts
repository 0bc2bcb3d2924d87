import { invalidOption } from '../shared/errors.js';
import { clientCredentials, type ClientAuthMethod } from '../providers/client-credentials.js';
import type { TokenProvider } from '../providers/endpoint.js';
import { marsview } from '../providers/marsview.js';
import { singleView } from '../providers/single-view.js';
import { symbl } from '../providers/symbl.js';

// The command line's providers: for each, its flags and environment variables, and how its
// factory is called with them. lib/cli/main.ts reads the command line and runs one of them.

/** One value the CLI reads from a flag or an environment variable. */
export interface Input {
  /** The factory option it becomes. */
  key: string;
  flag: string;
  env: string;
  /** What it is, for help and errors. */
  label: string;
  required: boolean;
  /** Shown in help when the value is optional. */
  fallback?: string;
}

export interface ProviderCommand {
  summary: string;
  endpoint: string;
  inputs: readonly Input[];
  create(values: Record<string, string>, allowInsecureHttp: boolean): TokenProvider;
}

const input = (key: string, flag: string, env: string, label: string, required = true, fallback?: string): Input => ({
  key,
  flag,
  env,
  label,
  required,
  ...(fallback === undefined ? {} : { fallback }),
});

export const PROVIDERS: Readonly<Record<string, ProviderCommand>> = {
  symbl: {
    summary: 'Symbl.ai',
    endpoint: 'POST {base URL}/oauth2/token:generate',
    inputs: [
      input('appId', 'app-id', 'SYMBL_APP_ID', 'Symbl App ID'),
      input('appSecret', 'app-secret', 'SYMBL_APP_SECRET', 'Symbl App Secret'),
      input('baseURL', 'base-url', 'SYMBL_BASE_URL', 'base URL', false, 'https://api.symbl.ai'),
    ],
    create: (v, allowInsecureHttp) =>
      symbl({ appId: v['appId'] ?? '', appSecret: v['appSecret'] ?? '', allowInsecureHttp, ...baseURL(v) }),
  },
  marsview: {
    summary: 'Marsview',
    endpoint: 'POST {base URL}/cb/v1/auth/create_access_token',
    inputs: [
      input('userId', 'user-id', 'MARSVIEW_USER_ID', 'Marsview user ID'),
      input('apiKey', 'api-key', 'MARSVIEW_API_KEY', 'Marsview API key'),
      input('apiSecret', 'api-secret', 'MARSVIEW_API_SECRET', 'Marsview API secret'),
      input('baseURL', 'base-url', 'MARSVIEW_BASE_URL', 'base URL', false, 'https://api.marsview.ai'),
    ],
    create: (v, allowInsecureHttp) =>
      marsview({
        userId: v['userId'] ?? '',
        apiKey: v['apiKey'] ?? '',
        apiSecret: v['apiSecret'] ?? '',
        allowInsecureHttp,
        ...baseURL(v),
      }),
  },
  singleview: {
    summary: 'SingleView',
    endpoint: 'POST {base URL}/v1/api/observice/token',
    inputs: [
      input('clientId', 'client-id', 'SINGLEVIEW_CLIENT_ID', 'SingleView client ID'),
      input('clientCode', 'client-code', 'SINGLEVIEW_CLIENT_CODE', 'SingleView client code'),
      input('merchantId', 'merchant-id', 'SINGLEVIEW_MERCHANT_ID', 'SingleView merchant ID'),
      input('baseURL', 'base-url', 'SINGLEVIEW_BASE_URL', 'SingleView base URL'),
    ],
    create: (v, allowInsecureHttp) =>
      singleView({
        clientId: v['clientId'] ?? '',
        clientCode: v['clientCode'] ?? '',
        merchantId: v['merchantId'] ?? '',
        baseURL: v['baseURL'] ?? '',
        allowInsecureHttp,
      }),
  },
  oauth2: {
    summary: 'OAuth 2.0 client credentials (RFC 6749 §4.4)',
    endpoint: 'POST {token URL}, form-encoded grant_type=client_credentials',
    inputs: [
      input('tokenUrl', 'token-url', 'OAUTH_TOKEN_URL', 'token endpoint URL'),
      input('clientId', 'client-id', 'OAUTH_CLIENT_ID', 'client ID'),
      input('clientSecret', 'client-secret', 'OAUTH_CLIENT_SECRET', 'client secret'),
      input('scope', 'scope', 'OAUTH_SCOPE', 'space-separated scopes', false, 'none'),
      input('audience', 'audience', 'OAUTH_AUDIENCE', 'audience', false, 'none'),
      input(
        'authMethod',
        'auth-method',
        'OAUTH_AUTH_METHOD',
        'client_secret_basic (basic) or client_secret_post (post)',
        false,
        'basic',
      ),
    ],
    create: (v, allowInsecureHttp) =>
      clientCredentials({
        tokenUrl: v['tokenUrl'] ?? '',
        clientId: v['clientId'] ?? '',
        clientSecret: v['clientSecret'] ?? '',
        allowInsecureHttp,
        ...(v['scope'] === undefined ? {} : { scope: v['scope'] }),
        ...(v['audience'] === undefined ? {} : { audience: v['audience'] }),
        ...(v['authMethod'] === undefined ? {} : { authMethod: secretMethod(v['authMethod']) }),
      }),
  },
};

/** The CLI takes a client secret, never a key: the methods that sign with a key are not offered. */
const SECRET_METHODS: readonly string[] = ['client_secret_basic', 'client_secret_post', 'basic', 'post'];

function secretMethod(method: string): ClientAuthMethod {
  if (SECRET_METHODS.includes(method)) return method as ClientAuthMethod;
  const got = /^[a-z_]{1,32}$/i.test(method) ? JSON.stringify(method) : 'another value';
  throw invalidOption(
    `clientCredentials(): expected \`authMethod\` to be one of ${SECRET_METHODS.map((name) => `'${name}'`).join(', ')}, got ${got}`,
  );
}

function baseURL(values: Record<string, string>): { baseURL?: string } {
  return values['baseURL'] === undefined ? {} : { baseURL: values['baseURL'] };
}
