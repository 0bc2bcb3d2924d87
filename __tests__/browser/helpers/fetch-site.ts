// Two loopback origins for the fetch-entry Chromium suite. The site serves the test page (its
// script: fetch-page.ts bundled with esbuild, tokenflight/fetch taken from the built dist/fetch.js),
// a token endpoint and a protected API; `elsewhere` is another origin the site's redirects point
// to, which records what reached it (CORS open, `Authorization` allowed, so that a token the
// browser kept would arrive and be seen).
import { build, type Plugin } from 'esbuild';
import { existsSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { listenOnLoopback } from '../../../lib/testing/listen.js';

const root = process.cwd();

/** Points the page's import of lib/fetch.js at the built ES module. */
const useDist: Plugin = {
  name: 'tokenflight-fetch-dist',
  setup(builder) {
    builder.onResolve({ filter: /\/lib\/fetch\.js$/ }, () => ({ path: join(root, 'dist', 'fetch.js') }));
  },
};

/** The page script, and every file esbuild put into it (relative to the working directory). */
export async function bundleFetchPage(): Promise<{ script: string; inputs: string[] }> {
  if (!existsSync(join(root, 'dist/fetch.js'))) {
    throw new Error('dist/ is missing: run `npm run build` (npm test does it)');
  }
  const result = await build({
    entryPoints: [join(root, '__tests__/browser/helpers/fetch-page.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [useDist],
  });
  const [output] = result.outputFiles;
  if (output === undefined) throw new Error('esbuild produced no page script');
  return { script: output.text, inputs: Object.keys(result.metafile.inputs) };
}

/** One request as a server received it. */
export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

interface Recorder {
  readonly port: number;
  readonly url: string;
  readonly seen: SeenRequest[];
  close(): Promise<void>;
}

async function recordingServer(answer: (request: SeenRequest, response: ServerResponse) => void): Promise<Recorder> {
  const seen: SeenRequest[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const request = {
        method: req.method ?? '',
        path: url.pathname + url.search,
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      seen.push(request);
      answer(request, res);
    });
  });
  const port = await listenOnLoopback(server);
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const HTML =
  '<!doctype html><meta charset="utf-8"><title>tokenflight/fetch</title><script type="module" src="/page.js"></script>';

export interface FetchSite extends Recorder {
  readonly tokenUrl: string;
  /** Requests to the token endpoint so far. */
  tokenRequests(): number;
  /** Requests to `/api/...` so far. */
  apiRequests(): SeenRequest[];
  /** The token issued last. */
  latest(): string;
  /** Makes every token issued so far invalid. */
  revoke(): void;
  setTokenDelay(ms: number): void;
}

interface Answer {
  status: number;
  type: string;
  body: string;
  headers?: Record<string, string>;
}

function answer(res: ServerResponse, { status, type, body, headers = {} }: Answer): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
  res.end(body);
}

/** What the site answers to anything but the token endpoint. */
function siteAnswer(request: SeenRequest, url: URL, script: string, valid: ReadonlySet<string>): Answer {
  if (url.pathname === '/') return { status: 200, type: 'text/html; charset=utf-8', body: HTML };
  if (url.pathname === '/page.js') return { status: 200, type: 'text/javascript; charset=utf-8', body: script };
  if (url.pathname === '/redirect') {
    const location = url.searchParams.get('to') ?? '/';
    const status = Number(url.searchParams.get('status') ?? 302);
    return { status, type: 'text/plain', body: 'redirecting', headers: { location } };
  }
  if (!url.pathname.startsWith('/api/')) return { status: 404, type: 'text/plain', body: '' };
  const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
  if (token === undefined || !valid.has(token)) {
    const headers = { 'www-authenticate': 'Bearer error="invalid_token"' };
    return { status: 401, type: 'text/plain', body: 'token rejected', headers };
  }
  const body = JSON.stringify({ method: request.method, token, length: request.body.length });
  return { status: 200, type: 'application/json', body };
}

/**
 * The page's origin: `/` and `/page.js`; `POST /token` issues `tok-1`, `tok-2`… (after the
 * delay set); `/api/...` answers 200 with what it received to a valid token, else 401 with
 * `WWW-Authenticate: Bearer error="invalid_token"`; `/redirect?to=&status=` redirects.
 */
export async function startFetchSite(script: string): Promise<FetchSite> {
  const valid = new Set<string>();
  let issued = 0;
  let tokenDelayMs = 0;
  const site = await recordingServer((request, res) => {
    const url = new URL(request.path, 'http://127.0.0.1');
    if (url.pathname === '/token') {
      const token = `tok-${++issued}`;
      valid.add(token);
      const body = JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 3600 });
      setTimeout(() => {
        answer(res, { status: 200, type: 'application/json', body });
      }, tokenDelayMs);
      return;
    }
    answer(res, siteAnswer(request, url, script, valid));
  });
  return {
    ...site,
    tokenUrl: `${site.url}/token`,
    tokenRequests: () => site.seen.filter((request) => request.path === '/token').length,
    apiRequests: () => site.seen.filter((request) => request.path.startsWith('/api/')),
    latest: () => `tok-${issued}`,
    revoke: () => valid.clear(),
    setTokenDelay: (ms) => {
      tokenDelayMs = ms;
    },
  };
}

/**
 * Another origin, open to cross-origin requests (`Authorization` allowed, so a browser that kept
 * the token would send it): `/open` answers 200 with the `Authorization` it got (or `none`),
 * `/reject` answers 401 with an `invalid_token` challenge, as an API that refuses a token would.
 */
export async function startElsewhere(): Promise<Recorder> {
  return recordingServer((request, res) => {
    const cors = {
      'access-control-allow-origin': '*',
      'access-control-allow-headers': 'authorization, content-type',
      'access-control-allow-methods': 'GET, POST, PUT',
    };
    if (request.method === 'OPTIONS') {
      res.writeHead(204, cors);
      res.end();
      return;
    }
    const path = new URL(request.path, 'http://127.0.0.1').pathname;
    const status = path === '/reject' ? 401 : 200;
    res.writeHead(status, {
      ...cors,
      'content-type': 'text/plain',
      ...(status === 401 && { 'www-authenticate': 'Bearer error="invalid_token"' }),
    });
    res.end(`elsewhere ${request.headers.authorization ?? 'none'}`);
  });
}
