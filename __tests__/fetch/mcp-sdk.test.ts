import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { clientCredentials, createTokenFetch, type TokenFetch } from '../../lib/fetch.js';
import { startMcpServer, type McpTestServer } from '../helpers/mcp-server.js';

// auth.fetch handed as is to the MCP TypeScript SDK's Streamable HTTP client transport (its
// `fetch` option), against the SDK's own server on a loopback origin behind a bearer check: every
// message carries the token, and a revoked token becomes one token request and one replay of the
// same JSON-RPC message, which the SDK never sees fail.

jest.setTimeout(30_000);

let server: McpTestServer;
beforeAll(async () => {
  server = await startMcpServer();
});
afterAll(() => server.close());

let auth: TokenFetch | undefined;
let client: Client | undefined;
afterEach(async () => {
  await client?.close();
  auth?.close();
});

async function connect(): Promise<Client> {
  auth = createTokenFetch({
    providers: clientCredentials({
      tokenUrl: server.tokenUrl,
      clientId: 'mcp',
      clientSecret: 's',
      origins: [server.origin],
    }),
  });
  client = new Client({ name: 'tokenflight-test-client', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(server.url), { fetch: auth.fetch }));
  return client;
}

const echoed = (result: Awaited<ReturnType<Client['callTool']>>): unknown =>
  (result.content as Array<{ type: string; text?: string }>)[0]?.text;

describe('the MCP SDK, given auth.fetch', () => {
  test('connects and calls a tool with the token on every message, after one token request', async () => {
    const before = { tokens: server.tokenRequests(), seen: server.seen.length };
    const mcp = await connect();
    const result = await mcp.callTool({ name: 'echo', arguments: { text: 'hello' } });
    expect(echoed(result)).toBe(`hello (${server.latest()})`);
    expect(server.tokenRequests() - before.tokens).toBe(1);
    const sent = server.seen.slice(before.seen);
    expect(sent.length).toBeGreaterThanOrEqual(3);
    expect(new Set(sent.map((request) => request.headers.authorization))).toEqual(
      new Set([`Bearer ${server.latest()}`]),
    );
  });

  test('a revoked token: one token request, the same message replayed byte for byte, and the tool call succeeds', async () => {
    const mcp = await connect();
    await mcp.callTool({ name: 'echo', arguments: { text: 'first' } });
    const rejected = server.latest();
    server.revoke();
    const before = { tokens: server.tokenRequests(), seen: server.seen.length };
    const result = await mcp.callTool({ name: 'echo', arguments: { text: 'ü after revocation' } });
    expect(echoed(result)).toBe(`ü after revocation (${server.latest()})`);
    expect(server.tokenRequests() - before.tokens).toBe(1);
    const [first, replayed, ...more] = server.seen.slice(before.seen);
    expect(more).toEqual([]);
    expect(first?.headers.authorization).toBe(`Bearer ${rejected}`);
    expect(replayed?.headers.authorization).toBe(`Bearer ${server.latest()}`);
    expect(first?.body.toString('utf8')).toContain('"tools/call"');
    expect(replayed?.body.equals(first?.body ?? Buffer.alloc(0))).toBe(true);
    expect(replayed?.headers['content-type']).toBe(first?.headers['content-type']);
  });
});
