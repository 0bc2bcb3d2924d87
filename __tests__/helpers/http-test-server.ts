import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback } from '../../lib/testing/listen.js';

/** What one request to the test server looked like. */
export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Route = (request: SeenRequest, res: ServerResponse) => void;

/**
 * A loopback HTTP server for the HttpClient suites: each path answers one way (a status, a
 * redirect, a large or stalled body, repeated headers, an echo). Records every request.
 */
export async function startHttpTestServer() {
  const seen: SeenRequest[] = [];
  const routes: Record<string, Route> = {
    '/echo': (request, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(request));
    },
    '/redirect': (_request, res) => {
      res.writeHead(307, { location: '/echo' });
      res.end('moved');
    },
    '/repeated': (_request, res) => {
      res.setHeader('X-Multi', ['one', 'two']);
      res.setHeader('Content-Type', 'text/plain');
      res.writeHead(200);
      res.end('ok');
    },
    '/utf8': (_request, res) => {
      // "é€😀" split in the middle of each character, chunk by chunk.
      const bytes = Buffer.from('é€😀', 'utf8');
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      for (const byte of bytes) res.write(Buffer.from([byte]));
      res.end();
    },
    '/big': (_request, res) => {
      // No content-length: the size shows only while reading.
      res.writeHead(200, { 'content-type': 'text/plain' });
      for (let i = 0; i < 64; i++) res.write('x'.repeat(1_024));
      res.end();
    },
    '/big-declared': (_request, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(65_536) });
      res.end('y'.repeat(65_536));
    },
    '/hang': () => undefined,
    '/stall-body': (_request, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial');
    },
    '/empty': (_request, res) => {
      res.writeHead(204);
      res.end();
    },
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const request: SeenRequest = {
        method: req.method ?? '',
        path: url.pathname,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      seen.push(request);
      const status = /^\/status\/(\d{3})$/.exec(url.pathname);
      if (status !== null) {
        res.writeHead(Number(status[1]), { 'content-type': 'text/plain', 'retry-after': '3' });
        res.end(`status ${status[1]}`);
        return;
      }
      (routes[url.pathname] ?? ((_r: SeenRequest, out: ServerResponse) => out.writeHead(404).end()))(request, res);
    });
  });
  const port = await listenOnLoopback(server);
  return {
    origin: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port that nothing listens on (a server was started there and closed). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  const port = await listenOnLoopback(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
