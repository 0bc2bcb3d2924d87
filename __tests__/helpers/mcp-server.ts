import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import { listenOnLoopback } from '../../lib/testing/listen.js';

/** One request to `/mcp` as the server received it, raw body included. */
export interface McpRequest {
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/**
 * An MCP server (the SDK's own, Streamable HTTP, stateless, JSON answers) behind a bearer check,
 * and its token endpoint, on one loopback origin. `POST /token` issues `mcp-1`, `mcp-2`…; `/mcp`
 * answers 401 (`WWW-Authenticate: Bearer error="invalid_token"`) without a valid token, and serves
 * one tool, `echo`, that answers with its `text` and the token it was called with.
 */
export async function startMcpServer() {
  const seen: McpRequest[] = [];
  const valid = new Set<string>();
  let issued = 0;
  let tokenRequests = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url === '/token') {
        tokenRequests++;
        const token = `mcp-${++issued}`;
        valid.add(token);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 3600 }));
        return;
      }
      seen.push({ method: req.method ?? '', headers: req.headers, body });
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (token === undefined || !valid.has(token)) {
        res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"', 'content-type': 'text/plain' });
        res.end('token rejected');
        return;
      }
      // Stateless (no sessionIdGenerator): a server and a transport for each request, as the SDK documents.
      const mcp = new McpServer({ name: 'tokenflight-test', version: '1.0.0' });
      mcp.registerTool('echo', { inputSchema: { text: z.string() } }, ({ text }) => ({
        content: [{ type: 'text', text: `${text} (${token})` }],
      }));
      const transport = new StreamableHTTPServerTransport({ enableJsonResponse: true });
      res.on('close', () => {
        void transport.close();
        void mcp.close();
      });
      const parsed: unknown = body.length === 0 ? undefined : JSON.parse(body.toString('utf8'));
      mcp
        .connect(transport)
        .then(() => transport.handleRequest(req, res, parsed))
        .catch(() => {
          if (!res.headersSent) res.writeHead(500);
          res.end();
        });
    });
  });
  const port = await listenOnLoopback(server);
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    url: `${origin}/mcp`,
    tokenUrl: `${origin}/token`,
    seen,
    tokenRequests: () => tokenRequests,
    latest: () => `mcp-${issued}`,
    revoke: () => valid.clear(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type McpTestServer = Awaited<ReturnType<typeof startMcpServer>>;
