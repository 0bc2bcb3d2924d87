/**
 * The fetch boundary (`tokenflight/fetch`), measured in-process against one loopback server:
 *
 * - hot path: `auth.fetch` with a cached token against bare `fetch` sending the same static
 *   `Authorization` header to the same server, in interleaved rounds (median of per-request times);
 * - 1,000 concurrent calls after a revocation: token requests, failures and wall time, for
 *   `auth.fetch` and for a hand-written fetch wrapper with a shared refresh promise (the usual
 *   middleware: one refresh at a time, a 401 refreshes unless a refresh is running).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { clientCredentials, createTokenFetch } from '../lib/fetch.js';

interface Server {
  origin: string;
  tokenRequests: () => number;
  revoke: () => void;
  close: () => Promise<void>;
}

async function startServer(tokenDelayMs: number): Promise<Server> {
  const valid = new Set<string>(['static-token']);
  let issued = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/token') {
        const token = `tok-${++issued}`;
        valid.add(token);
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 3600 }));
        }, tokenDelayMs);
        return;
      }
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const ok = token !== undefined && valid.has(token);
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
      res.end(ok ? '{"ok":true}' : '{"error":"invalid_token"}');
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    tokenRequests: () => issued,
    revoke: () => {
      valid.clear();
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};

export interface FetchHotPath {
  rounds: number;
  requestsPerRound: number;
  /** Median µs per request. */
  bareUs: number;
  tokenflightUs: number;
  ratio: number;
}

export interface FetchConcurrent {
  concurrency: number;
  tokenRequests: number;
  failures: number;
  wallMs: number;
}

export interface FetchResult {
  hot: FetchHotPath;
  tokenflight: FetchConcurrent;
  handWritten: FetchConcurrent;
}

async function hotPath(rounds: number, requestsPerRound: number): Promise<FetchHotPath> {
  const server = await startServer(0);
  const url = `${server.origin}/api/items`;
  const auth = createTokenFetch({
    providers: clientCredentials({
      tokenUrl: `${server.origin}/token`,
      clientId: 'c',
      clientSecret: 's',
      origins: [server.origin],
    }),
  });
  const { accessToken } = await auth.token();
  const header = { authorization: `Bearer ${accessToken}` };
  const contenders: Record<'bare' | 'tokenflight', () => Promise<Response>> = {
    bare: () => fetch(url, { headers: header }),
    tokenflight: () => auth.fetch(url),
  };
  const times: Record<'bare' | 'tokenflight', number[]> = { bare: [], tokenflight: [] };
  const round = async (name: 'bare' | 'tokenflight'): Promise<void> => {
    const started = performance.now();
    for (let i = 0; i < requestsPerRound; i++) await (await contenders[name]()).arrayBuffer();
    times[name].push(((performance.now() - started) * 1000) / requestsPerRound);
  };
  for (let warm = 0; warm < 3; warm++) {
    await round('bare');
    await round('tokenflight');
  }
  times.bare.length = 0;
  times.tokenflight.length = 0;
  for (let i = 0; i < rounds; i++) {
    // Interleaved, in alternating order, so that drift in the machine's load hits both alike.
    const order: ('bare' | 'tokenflight')[] = i % 2 === 0 ? ['bare', 'tokenflight'] : ['tokenflight', 'bare'];
    for (const name of order) await round(name);
  }
  auth.close();
  await server.close();
  const bareUs = median(times.bare);
  const tokenflightUs = median(times.tokenflight);
  return { rounds, requestsPerRound, bareUs, tokenflightUs, ratio: tokenflightUs / bareUs };
}

/** The usual hand-written middleware: a shared refresh promise, a 401 refreshes unless one is running. */
function handWrittenFetch(origin: string): (url: string) => Promise<Response> {
  let token: string | undefined;
  let refreshing: Promise<string> | undefined;
  const refresh = (): Promise<string> =>
    (refreshing ??= fetch(`${origin}/token`, { method: 'POST', body: 'grant_type=client_credentials' })
      .then((response) => response.json() as Promise<{ access_token: string }>)
      .then((body) => (token = body.access_token))
      .finally(() => (refreshing = undefined)));
  return async (url) => {
    const send = async (): Promise<Response> =>
      fetch(url, { headers: { authorization: `Bearer ${token ?? (await refresh())}` } });
    const first = await send();
    if (first.status !== 401) return first;
    await first.body?.cancel();
    await refresh();
    return send();
  };
}

async function concurrent(
  concurrency: number,
  make: (server: Server) => Promise<{ call: (url: string) => Promise<Response>; close: () => void }>,
): Promise<FetchConcurrent> {
  const server = await startServer(50);
  const { call, close } = await make(server);
  await (await call(`${server.origin}/api/warm`)).arrayBuffer();
  server.revoke();
  const before = server.tokenRequests();
  const started = performance.now();
  const statuses = await Promise.all(
    Array.from({ length: concurrency }, (_, i) =>
      call(`${server.origin}/api/${i}`).then(
        async (response) => {
          await response.arrayBuffer();
          return response.status;
        },
        () => 0,
      ),
    ),
  );
  const wallMs = performance.now() - started;
  const result = {
    concurrency,
    tokenRequests: server.tokenRequests() - before,
    failures: statuses.filter((status) => status !== 200).length,
    wallMs,
  };
  close();
  await server.close();
  return result;
}

export async function runFetch(options: {
  rounds: number;
  requestsPerRound: number;
  concurrency: number;
}): Promise<FetchResult> {
  const hot = await hotPath(options.rounds, options.requestsPerRound);
  const tokenflight = await concurrent(options.concurrency, async (server) => {
    const auth = createTokenFetch({
      providers: clientCredentials({
        tokenUrl: `${server.origin}/token`,
        clientId: 'c',
        clientSecret: 's',
        origins: [server.origin],
      }),
    });
    return { call: (url) => auth.fetch(url), close: () => auth.close() };
  });
  const handWritten = await concurrent(options.concurrency, (server) =>
    Promise.resolve({ call: handWrittenFetch(server.origin), close: () => undefined }),
  );
  return { hot, tokenflight, handWritten };
}
