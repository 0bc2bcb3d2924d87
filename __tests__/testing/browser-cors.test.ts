import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { request } from 'node:http';
import {
  startAuthorizationServer,
  startProviderServer,
  type AuthorizationServer,
  type ProviderServer,
} from '../../lib/testing/index.js';

// The testing servers' `cors` option, which the Chromium suites use to call the simulated APIs
// from a page on another origin. Checked here with plain HTTP, as a browser's preflight looks.

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
}

function send(url: string, method: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method, headers }, (incoming) => {
      incoming.resume();
      incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers }));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

const PAGE = 'http://127.0.0.1:5173';
const preflight = {
  Origin: PAGE,
  'Access-Control-Request-Method': 'GET',
  'Access-Control-Request-Headers': 'authorization',
};

describe('the testing servers’ `cors` option', () => {
  let open: ProviderServer;
  let listed: ProviderServer;
  let closed: ProviderServer;
  let auth: AuthorizationServer;

  beforeAll(async () => {
    [open, listed, closed, auth] = await Promise.all([
      startProviderServer('symbl', { cors: true }),
      startProviderServer('symbl', { cors: ['http://elsewhere.test'] }),
      startProviderServer('symbl'),
      startAuthorizationServer({ cors: [PAGE] }),
    ]);
  });
  afterAll(() => Promise.all([open.close(), listed.close(), closed.close(), auth.close()]));

  test('answers the preflight of a request with an Authorization header, without counting or logging it', async () => {
    const answer = await send(`${open.url}/api/data`, 'OPTIONS', preflight);
    expect(answer.status).toBe(204);
    expect(answer.headers).toMatchObject({
      'access-control-allow-origin': PAGE,
      'access-control-allow-headers': 'authorization',
    });
    expect(open.stats.apiRequests).toBe(0);
    expect(open.requests).toEqual([]);
  });

  test('lets the page read the answer and its WWW-Authenticate header', async () => {
    const answer = await send(`${open.url}/api/data`, 'GET', { Origin: PAGE });
    expect(answer.status).toBe(401);
    expect(answer.headers['access-control-allow-origin']).toBe(PAGE);
    expect(answer.headers['access-control-expose-headers']).toContain('WWW-Authenticate');
  });

  test('sends no CORS headers to an origin not listed, nor without the option', async () => {
    for (const server of [listed, closed]) {
      const answer = await send(`${server.url}/api/data`, 'OPTIONS', preflight);
      expect(answer.headers['access-control-allow-origin']).toBeUndefined();
    }
  });

  test('the authorization server answers preflights of its token endpoint and API alike', async () => {
    for (const path of ['/oauth2/token', '/api/me']) {
      const answer = await send(`${auth.url}${path}`, 'OPTIONS', {
        ...preflight,
        'Access-Control-Request-Method': 'POST',
      });
      expect(answer).toMatchObject({ status: 204, headers: { 'access-control-allow-origin': PAGE } });
    }
    expect(auth.stats).toMatchObject({ refreshRequests: 0, apiRequests: 0 });
  });
});
