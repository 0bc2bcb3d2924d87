// The origin the test pages load from: a node:http server on 127.0.0.1 serving the page, its
// script (page.ts bundled with esbuild, tokenflight taken from the built dist/), and a
// backend-for-frontend token endpoint that holds the app secret and asks the simulated provider.
import { build, type Plugin } from 'esbuild';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { startProviderServer, type ProviderServer } from '../../../lib/testing/index.js';
import { listenOnLoopback } from '../../../lib/testing/listen.js';

const root = process.cwd();

/** Points the page's imports of lib/index.js and lib/browser.js at the built ES modules. */
const useDist: Plugin = {
  name: 'tokenflight-dist',
  setup(builder) {
    builder.onResolve({ filter: /\/lib\/(index|browser)\.js$/ }, (args) => ({
      path: join(root, 'dist', args.path.endsWith('browser.js') ? 'browser.js' : 'index.js'),
    }));
  },
};

/** page.ts (or another page script of this folder, such as key-page.ts) as one browser script. */
export async function bundlePage(entry = 'page.ts'): Promise<string> {
  if (!existsSync(join(root, 'dist/index.js')) || !existsSync(join(root, 'dist/browser.js'))) {
    throw new Error('dist/ is missing: run `npm run build` (npm test does it)');
  }
  const result = await build({
    entryPoints: [join(root, '__tests__/browser/helpers', entry)],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    plugins: [useDist],
  });
  const [output] = result.outputFiles;
  if (output === undefined) throw new Error('esbuild produced no page script');
  return output.text;
}

const HTML =
  '<!doctype html><meta charset="utf-8"><title>tokenflight</title><script type="module" src="/page.js"></script>';

/** Where the BFF gets its tokens: the simulated provider's token endpoint and the JSON body it wants. */
export interface BffTarget {
  tokenUrl: string;
  body: Record<string, string>;
}

export interface PageServer {
  readonly port: number;
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Token requests the BFF received from pages. */
  readonly bffRequests: number;
  close(): Promise<void>;
}

async function relay(response: ServerResponse, target: BffTarget): Promise<void> {
  const answer = await fetch(target.tokenUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(target.body),
  });
  const text = await answer.text();
  response.writeHead(answer.status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  response.end(text);
}

/** Starts the page origin on 127.0.0.1 (any Host: it also serves a hostname mapped there). */
export async function startPageServer(script: string, target: BffTarget): Promise<PageServer> {
  let bffRequests = 0;
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url ?? '/', 'http://page').pathname;
    if (path === '/bff/token' && request.method === 'POST') {
      bffRequests++;
      request.resume();
      relay(response, target).catch(() => {
        response.writeHead(502);
        response.end();
      });
      return;
    }
    const [type, body] =
      path === '/page.js' ? ['text/javascript', script] : path === '/' ? ['text/html', HTML] : ['text/plain', ''];
    response.writeHead(body === '' ? 404 : 200, {
      'Content-Type': `${type}; charset=utf-8`,
      'Cache-Control': 'no-store',
    });
    response.end(body);
  });
  const port = await listenOnLoopback(server);
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    get bffRequests() {
      return bffRequests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The simulated Symbl provider (CORS on) and a page server whose BFF asks it for tokens. */
export async function startSymblSite(): Promise<{ symbl: ProviderServer; site: PageServer }> {
  const symbl = await startProviderServer('symbl', { cors: true });
  const { appId = '', appSecret = '' } = symbl.credentials;
  const site = await startPageServer(await bundlePage(), {
    tokenUrl: `${symbl.url}/oauth2/token:generate`,
    body: { type: 'application', appId, appSecret },
  });
  return { symbl, site };
}
