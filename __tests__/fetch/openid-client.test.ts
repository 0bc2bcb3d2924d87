import { afterAll, beforeAll, beforeEach, describe, expect, jest, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { listenOnLoopback } from '../../lib/testing/listen.js';

// auth.fetch as openid-client 6's `customFetch`, against an authorization server on a loopback
// origin. openid-client is ESM only, so it runs in a child process (helpers/openid-client-main.mjs)
// with tokenflight/fetch from dist/ (run `npm run build` first). Two deployments:
// - the authorization server sits behind a gateway that wants a bearer token of its own, which
//   tokenflight supplies: discovery and token requests carry it, and a revoked one is replaced
//   once with openid-client's form body replayed byte for byte;
// - the authorization server is not one of tokenflight's origins: openid-client's requests go
//   out untouched (its own `client_secret_basic` header included), with no token.

jest.setTimeout(30_000);

interface Seen {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const seen: Seen[] = [];
const gatewayTokens = new Set<string>();
let issued = 0;
let origin = '';
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const path = req.url ?? '/';
    const body = Buffer.concat(chunks);
    seen.push({ path, headers: req.headers, body });
    const json = (status: number, value: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(value));
    };
    if (path === '/gateway/token') {
      const token = `gw-${++issued}`;
      gatewayTokens.add(token);
      json(200, { access_token: token, token_type: 'Bearer', expires_in: 3600 });
      return;
    }
    if (path === '/_test/revoke') {
      gatewayTokens.clear();
      json(200, {});
      return;
    }
    // /gated/… wants the gateway's token; /open/… is the authorization server as it is.
    const [, zone, ...rest] = path.split('/');
    if (zone === 'gated') {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (token === undefined || !gatewayTokens.has(token)) {
        json(401, { error: 'gateway' }, { 'www-authenticate': 'Bearer error="invalid_token"' });
        return;
      }
    }
    const issuer = `${origin}/${zone}/as`;
    const endpoint = `/${rest.join('/')}`;
    if (endpoint === '/as/.well-known/openid-configuration') {
      json(200, {
        issuer,
        token_endpoint: `${issuer}/token`,
        token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
      });
      return;
    }
    if (endpoint === '/as/token') {
      json(200, { access_token: `as-${seen.length}`, token_type: 'Bearer', expires_in: 300 });
      return;
    }
    json(404, { error: 'not_found' });
  });
});

beforeAll(async () => {
  if (!existsSync(join(process.cwd(), 'dist/fetch.js'))) throw new Error('dist/ is missing: run `npm run build`');
  origin = `http://127.0.0.1:${await listenOnLoopback(server)}`;
});
afterAll(
  () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
);
beforeEach(() => {
  seen.length = 0;
});

interface Outcome {
  tokens?: string[];
  error?: string;
  events: string[];
}

/** Runs one scenario of helpers/openid-client-main.mjs and reads what it printed. */
async function run(scenario: Record<string, unknown>): Promise<Outcome> {
  const child = spawn(process.execPath, [join(__dirname, 'helpers/openid-client-main.mjs')], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(JSON.stringify(scenario));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`openid-client-main.mjs exited with ${code}:\n${stderr}`);
  return JSON.parse(stdout) as Outcome;
}

const paths = (): string[] => seen.map((request) => request.path);

describe('openid-client 6, given auth.fetch as customFetch', () => {
  test('behind a gateway: discovery and both grants carry the gateway token; a revoked one is replaced once and the form replayed byte for byte', async () => {
    const outcome = await run({
      scenario: 'gateway',
      issuer: `${origin}/gated/as`,
      gatewayTokenUrl: `${origin}/gateway/token`,
      servedOrigin: origin,
      revokeUrl: `${origin}/_test/revoke`,
    });
    expect(outcome.error).toBeUndefined();
    expect(outcome.tokens).toHaveLength(2);
    expect(paths()).toEqual([
      '/gateway/token',
      '/gated/as/.well-known/openid-configuration',
      '/gated/as/token',
      '/_test/revoke',
      '/gated/as/token',
      '/gateway/token',
      '/gated/as/token',
    ]);
    const grants = seen.filter((request) => request.path === '/gated/as/token');
    expect(grants.map((request) => request.headers.authorization)).toEqual([
      'Bearer gw-1',
      'Bearer gw-1',
      'Bearer gw-2',
    ]);
    const form = new URLSearchParams(grants[0]?.body.toString('utf8'));
    expect(Object.fromEntries(form)).toMatchObject({
      grant_type: 'client_credentials',
      client_id: 'app',
      client_secret: 'app-secret',
      scope: 'api:read',
    });
    expect(grants[2]?.body.equals(grants[1]?.body ?? Buffer.alloc(0))).toBe(true);
    expect(grants[2]?.headers['content-type']).toBe(grants[1]?.headers['content-type']);
    expect(outcome.events).toContain('request-replayed');
  });

  test("an authorization server tokenflight does not serve: openid-client's requests go out untouched, without a token", async () => {
    const outcome = await run({
      scenario: 'open',
      issuer: `${origin}/open/as`,
      gatewayTokenUrl: `${origin}/gateway/token`,
      servedOrigin: 'https://api.example.test',
    });
    expect(outcome.error).toBeUndefined();
    expect(outcome.tokens).toHaveLength(2);
    expect(paths()).toEqual(['/open/as/.well-known/openid-configuration', '/open/as/token', '/open/as/token']);
    // RFC 6749 §2.3.1: openid-client form-encodes the id and secret before joining them ('-' is %2D).
    const basic = `Basic ${Buffer.from('app:app%2Dsecret').toString('base64')}`;
    expect(seen.map((request) => request.headers.authorization)).toEqual([undefined, basic, basic]);
    expect(outcome.events.filter((type) => type === 'request-unrouted')).toEqual(['request-unrouted']);
  });
});
