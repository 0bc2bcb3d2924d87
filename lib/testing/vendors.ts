/** The token APIs the simulation plays, as their vendors document them. */
export type SimulatedKind = 'symbl' | 'marsview' | 'singleview' | 'oauth2';

/** Valid credentials of one tenant of a simulated provider. */
export type SimulatedCredentials = Readonly<Record<string, string>>;

/** An HTTP answer the simulation sends. */
export interface SimulatedReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface IncomingTokenRequest {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export type CheckResult = { tenant: number; scope?: string | undefined } | { reply: SimulatedReply };

export interface Vendor {
  readonly tokenPath: string;
  /** Whether its access tokens are JWTs (SingleView's are). */
  readonly jwt: boolean;
  readonly defaultCredentials: readonly SimulatedCredentials[];
  /** Validates the request format and credentials; says which tenant it is. */
  check(request: IncomingTokenRequest, tenants: readonly SimulatedCredentials[]): CheckResult;
  /** The success answer for a token with `lifetimeSeconds` left. */
  issued(accessToken: string, lifetimeSeconds: number): SimulatedReply;
  /** The body of a 401 from the protected API. */
  apiUnauthorized: unknown;
}

function parseJson(body: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function contentType(request: IncomingTokenRequest): string {
  const value = request.headers['content-type'];
  const text = (Array.isArray(value) ? value[0] : value) ?? '';
  return text.split(';')[0]?.trim().toLowerCase() ?? '';
}

function findTenant(
  tenants: readonly SimulatedCredentials[],
  given: Record<string, unknown>,
  keys: readonly string[],
): number {
  return tenants.findIndex((tenant) => keys.every((key) => given[key] === tenant[key]));
}

const symbl: Vendor = {
  tokenPath: '/oauth2/token:generate',
  jwt: false,
  defaultCredentials: [{ appId: 'sim-symbl-app-id', appSecret: 'sim-symbl-app-secret-0123456789' }],
  check(request, tenants) {
    const body = contentType(request) === 'application/json' ? parseJson(request.body) : undefined;
    if (
      body === undefined ||
      body['type'] !== 'application' ||
      typeof body['appId'] !== 'string' ||
      typeof body['appSecret'] !== 'string'
    ) {
      return {
        reply: { status: 400, body: { message: 'Bad Request: expected {"type":"application","appId","appSecret"}' } },
      };
    }
    const tenant = findTenant(tenants, body, ['appId', 'appSecret']);
    return tenant === -1
      ? { reply: { status: 401, body: { message: 'Unauthorized: invalid appId or appSecret' } } }
      : { tenant };
  },
  issued: (accessToken, lifetimeSeconds) => ({ status: 200, body: { accessToken, expiresIn: lifetimeSeconds } }),
  apiUnauthorized: { message: 'Token expired or invalid' },
};

const marsview: Vendor = {
  tokenPath: '/cb/v1/auth/create_access_token',
  jwt: false,
  defaultCredentials: [
    { userId: 'sim-marsview-user', apiKey: 'sim-marsview-key', apiSecret: 'sim-marsview-secret-0123456789' },
  ],
  check(request, tenants) {
    const body = contentType(request) === 'application/json' ? parseJson(request.body) : undefined;
    if (body === undefined || !['userId', 'apiKey', 'apiSecret'].every((key) => typeof body[key] === 'string')) {
      return {
        reply: {
          status: 400,
          body: { status: false, error: 'NJSCFE002', message: 'userId, apiKey and apiSecret are required' },
        },
      };
    }
    const tenant = findTenant(tenants, body, ['userId', 'apiKey', 'apiSecret']);
    return tenant === -1
      ? { reply: { status: 401, body: { status: false, error: 'NJSCFE001', message: 'Invalid credentials' } } }
      : { tenant };
  },
  issued: (accessToken, lifetimeSeconds) => ({
    status: 200,
    body: { status: true, data: { accessToken, expiresIn: lifetimeSeconds, tokenType: 'Bearer' } },
  }),
  apiUnauthorized: { status: false, error: 'NJSCFE003', message: 'Access token expired or invalid' },
};

const singleview: Vendor = {
  tokenPath: '/v1/api/observice/token',
  jwt: true,
  defaultCredentials: [
    { clientId: 'sim-singleview-client', clientCode: 'sim-singleview-code-0123456789', merchantId: 'sim-merchant-1' },
  ],
  check(request, tenants) {
    const body = contentType(request) === 'application/json' ? parseJson(request.body) : undefined;
    const shaped =
      body !== undefined && ['clientId', 'clientCode', 'merchantId'].every((key) => typeof body[key] === 'string');
    if (!shaped || body['grantType'] !== 'client_Credentials') {
      return { reply: { status: 400, body: { success: false, errorCode: 'MW-400', message: 'Bad request' } } };
    }
    const tenant = findTenant(tenants, body, ['clientId', 'clientCode', 'merchantId']);
    return tenant === -1
      ? { reply: { status: 401, body: { success: false, errorCode: 'MW-401', message: 'Invalid client credentials' } } }
      : { tenant };
  },
  // As in the vendor's sample: `expires_in` 0, the lifetime is only in the JWT.
  issued: (accessToken) => ({
    status: 200,
    body: { success: true, payload: { access_token: accessToken, token_type: 'Bearer', expires_in: 0 } },
  }),
  apiUnauthorized: { success: false, errorCode: 'MW-401', message: 'Invalid or expired access token' },
};

function basicCredentials(header: string | string[] | undefined): { id: string; secret: string } | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const match = /^Basic\s+(\S+)$/i.exec(value ?? '');
  if (match?.[1] === undefined) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  const decode = (part: string): string => decodeURIComponent(part.replace(/\+/g, ' '));
  return { id: decode(decoded.slice(0, colon)), secret: decode(decoded.slice(colon + 1)) };
}

const oauthError = (status: number, error: string, description: string): { reply: SimulatedReply } => ({
  reply: {
    status,
    body: { error, error_description: description },
    headers: status === 401 ? { 'WWW-Authenticate': 'Basic realm="simulation"' } : {},
  },
});

const oauth2: Vendor = {
  tokenPath: '/oauth2/token',
  jwt: false,
  defaultCredentials: [{ clientId: 'sim-oauth-client', clientSecret: 'sim-oauth-secret-0123456789' }],
  check(request, tenants) {
    if (contentType(request) !== 'application/x-www-form-urlencoded') {
      return oauthError(400, 'invalid_request', 'expected a form-encoded body');
    }
    const form = new URLSearchParams(request.body);
    if (form.get('grant_type') !== 'client_credentials')
      return oauthError(400, 'unsupported_grant_type', 'only client_credentials');
    const basic = basicCredentials(request.headers['authorization']);
    const posted = form.has('client_id')
      ? { id: form.get('client_id') ?? '', secret: form.get('client_secret') ?? '' }
      : undefined;
    const client = basic ?? posted;
    if (client === undefined || (basic !== undefined && posted !== undefined))
      return oauthError(400, 'invalid_request', 'use exactly one client authentication method');
    const tenant = tenants.findIndex((t) => t['clientId'] === client.id && t['clientSecret'] === client.secret);
    if (tenant === -1) return oauthError(401, 'invalid_client', 'client authentication failed');
    const scope = form.get('scope') ?? undefined;
    if (scope?.split(' ').includes('forbidden') === true)
      return oauthError(400, 'invalid_scope', 'scope "forbidden" is not allowed');
    return { tenant, scope };
  },
  issued: (accessToken, lifetimeSeconds) => ({
    status: 200,
    body: { access_token: accessToken, token_type: 'bearer', expires_in: lifetimeSeconds },
    headers: { 'Cache-Control': 'no-store' },
  }),
  apiUnauthorized: { error: 'invalid_token', error_description: 'The access token expired or was revoked' },
};

export const VENDORS: Readonly<Record<SimulatedKind, Vendor>> = { symbl, marsview, singleview, oauth2 };
