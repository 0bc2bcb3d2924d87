import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the token endpoint answers to one refresh token. */
export interface RefreshAnswer {
  /** The JSON body of a 200; `access_token` and `refresh_token` as given. */
  readonly body: Record<string, unknown>;
  /** How long the answer takes. */
  readonly delayMs?: number;
}

/**
 * A scripted OAuth token endpoint and a protected API on 127.0.0.1: each refresh token has its
 * answer; the server records every refresh token presented and every `Authorization` the API saw.
 * A refresh token presented twice, or one it has no answer for, gets `invalid_grant`.
 */
export interface RefreshServer {
  readonly url: string;
  readonly tokenUrl: string;
  /** Refresh tokens presented, in order of arrival. */
  readonly presented: string[];
  /** `Authorization` headers the API saw, in order. */
  readonly apiAuthorizations: string[];
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (text += chunk));
    request.on('end', () => resolve(text));
    request.on('error', reject);
  });
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

export async function startRefreshServer(answers: Record<string, RefreshAnswer>): Promise<RefreshServer> {
  const presented: string[] = [];
  const apiAuthorizations: string[] = [];
  const used = new Set<string>();
  const server = createServer((request, response) => {
    if (request.url === '/token') {
      void readBody(request).then(async (text) => {
        const token = new URLSearchParams(text).get('refresh_token') ?? '';
        presented.push(token);
        const answer = answers[token];
        if (answer === undefined || used.has(token)) {
          json(response, 400, { error: 'invalid_grant' });
          return;
        }
        used.add(token);
        if (answer.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
        json(response, 200, answer.body);
      });
      return;
    }
    apiAuthorizations.push(request.headers.authorization ?? '');
    json(response, 200, { ok: true });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    tokenUrl: `${url}/token`,
    presented,
    apiAuthorizations,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A 200 with an access token (60 s) and, if given, a rotated refresh token. */
export const issued = (accessToken: string, next?: string, delayMs?: number): RefreshAnswer => ({
  body: {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: 60,
    ...(next === undefined ? {} : { refresh_token: next }),
  },
  ...(delayMs === undefined ? {} : { delayMs }),
});
