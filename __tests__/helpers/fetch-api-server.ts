import { createServer, type IncomingHttpHeaders } from 'node:http';
import { listenOnLoopback } from '../../lib/testing/listen.js';

/** One request as the server received it: raw body bytes included, to compare sends byte for byte. */
export interface ApiRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/**
 * A protected API and its token endpoint on one loopback origin, for the fetch boundary suites:
 * `POST /token` issues `tok-1`, `tok-2`… (form or JSON bodies, any credentials); `/api/...`
 * answers 200 with what it received to a valid token and 401 (`WWW-Authenticate: Bearer
 * error="invalid_token"`) otherwise; `/redirect?to=&status=` redirects; `/challenge?error=`
 * answers 401 with that Bearer error. `revoke()` makes every issued token invalid.
 */
export async function startFetchApiServer() {
  const seen: ApiRequest[] = [];
  const valid = new Set<string>();
  let issued = 0;
  let tokenDelayMs = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const request: ApiRequest = {
        method: req.method ?? '',
        path: url.pathname + url.search,
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      seen.push(request);
      if (url.pathname === '/token') {
        const token = `tok-${++issued}`;
        valid.add(token);
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 3600 }));
        }, tokenDelayMs);
        return;
      }
      if (url.pathname === '/redirect') {
        res.writeHead(Number(url.searchParams.get('status') ?? 302), { location: url.searchParams.get('to') ?? '/' });
        res.end('redirecting');
        return;
      }
      if (url.pathname === '/challenge') {
        res.writeHead(401, { 'www-authenticate': `Bearer error="${url.searchParams.get('error') ?? ''}"` });
        res.end('challenged');
        return;
      }
      if (url.pathname === '/endless-401') {
        // A 401 whose body starts and never ends.
        res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' });
        res.write('partial');
        return;
      }
      if (url.pathname === '/open') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`open ${req.headers.authorization ?? 'none'}`);
        return;
      }
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (token === undefined || !valid.has(token)) {
        res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"', 'content-type': 'text/plain' });
        res.end('token rejected');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          method: request.method,
          path: request.path,
          token,
          contentType: req.headers['content-type'] ?? null,
          body: request.body.toString('utf8'),
        }),
      );
    });
  });
  const port = await listenOnLoopback(server);
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    tokenUrl: `${origin}/token`,
    seen,
    /** Requests to the token endpoint so far. */
    tokenRequests: () => seen.filter((request) => request.path === '/token').length,
    /** Requests to the API (anything but the token endpoint). */
    apiRequests: () => seen.filter((request) => request.path !== '/token'),
    /** The token issued last. */
    latest: () => `tok-${issued}`,
    revoke: () => valid.clear(),
    setTokenDelay: (ms: number) => {
      tokenDelayMs = ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type FetchApiServer = Awaited<ReturnType<typeof startFetchApiServer>>;
