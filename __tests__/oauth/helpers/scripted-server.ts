import { createServer, type IncomingHttpHeaders } from 'node:http';
import { listenOnLoopback } from '../../../lib/testing/listen.js';

/** What the scripted server answers. */
export interface ScriptedAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string | undefined;
}

/**
 * A loopback server whose answers the test writes: `answer` is called for each request (it may
 * return a promise the test settles later, or `'hang'` to never answer). Records the paths asked,
 * and each request's headers.
 */
export async function startScriptedServer() {
  const paths: string[] = [];
  const headers: IncomingHttpHeaders[] = [];
  let answer: (path: string) => ScriptedAnswer | Promise<ScriptedAnswer> | 'hang' = () => ({ status: 404 });
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    paths.push(path);
    headers.push(req.headers);
    void Promise.resolve(answer(path)).then((reply) => {
      if (reply === 'hang') return;
      res.writeHead(reply.status, reply.headers);
      res.end(reply.body ?? '');
    });
  });
  const port = await listenOnLoopback(server);
  return {
    origin: `http://127.0.0.1:${port}`,
    paths,
    headers,
    answer(script: typeof answer) {
      answer = script;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
