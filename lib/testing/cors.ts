import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Which web pages may call a testing server from a browser (CORS): `true` for any origin (the
 * request's `Origin` is echoed back), or the page origins allowed, such as
 * `['http://127.0.0.1:5173']`. `false` or absent: no CORS headers, as a server that expects no
 * browsers.
 */
export type CorsOption = boolean | readonly string[];

/**
 * Adds the CORS headers for an allowed `Origin`, and answers its preflight (`OPTIONS` with
 * `Access-Control-Request-Method`, sent before a request with an `Authorization` header or a JSON
 * body) itself. True when it answered, so the request is neither counted nor logged.
 */
export function answerCors(cors: CorsOption | undefined, request: IncomingMessage, response: ServerResponse): boolean {
  const origin = request.headers.origin;
  if (cors === undefined || cors === false || origin === undefined) return false;
  if (cors !== true && !cors.includes(origin)) return false;
  response.setHeader('Access-Control-Allow-Origin', origin);
  response.setHeader('Vary', 'Origin');
  // The headers tokenflight reads from a 401 or a 429.
  response.setHeader('Access-Control-Expose-Headers', 'WWW-Authenticate, Retry-After');
  if (request.method !== 'OPTIONS' || request.headers['access-control-request-method'] === undefined) return false;
  response.writeHead(204, {
    'Access-Control-Allow-Methods': 'GET, HEAD, POST, PUT, PATCH, DELETE',
    'Access-Control-Allow-Headers': request.headers['access-control-request-headers'] ?? 'Authorization, Content-Type',
    'Access-Control-Max-Age': '600',
  });
  response.end();
  return true;
}
