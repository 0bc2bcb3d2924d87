import { describe, expect, test } from '@jest/globals';
import axios from 'axios';
import { readJwtTimes } from '../lib/shared/jwt.js';
import { simulatedProvider, type ProviderServer } from '../lib/testing/index.js';
import { useSimulation } from './helpers/simulation.js';

describe('integration: the simulated Symbl, Marsview, SingleView and OAuth 2.0 providers, counted at the server', () => {
  const env = useSimulation();

  function client(server: ProviderServer) {
    const api = axios.create({ baseURL: server.url });
    const auth = env.attach(api, { providers: simulatedProvider(server) });
    return { api, auth };
  }

  const kinds = ['symbl', 'marsview', 'singleview', 'oauth2'] as const;

  test.each(kinds)('%s: 200 concurrent requests make one token request', async (kind) => {
    const server = env.sim[kind];
    const { api } = client(server);
    const responses = await Promise.all(Array.from({ length: 200 }, (_, i) => api.get(`/api/items/${i}`)));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(server.stats.tokenRequests).toBe(1);
    expect(server.stats.apiSucceeded).toBe(200);
    expect(server.stats.apiUnauthorized).toBe(0);
  });

  test.each(kinds)(
    '%s: 100 concurrent 401s after a revocation make one token request; every request succeeds with its body',
    async (kind) => {
      const server = env.sim[kind];
      const { api, auth } = client(server);
      await auth.token();
      server.revokeAll();
      const responses = await Promise.all(
        Array.from({ length: 100 }, (_, i) => api.post('/api/jobs', { job: i, text: `payload ${i}` })),
      );
      expect(responses.map((r) => JSON.parse(r.data.body))).toEqual(
        Array.from({ length: 100 }, (_, i) => ({ job: i, text: `payload ${i}` })),
      );
      expect(server.stats.tokenRequests).toBe(2);
      expect(server.stats.apiUnauthorized).toBe(100);
      expect(server.stats.apiSucceeded).toBe(100);
    },
  );

  test('an API that always answers 401: each request is replayed once, then the caller gets the 401', async () => {
    const { api, auth } = client(env.sim.symbl);
    await auth.token();
    env.sim.symbl.setApiAlwaysUnauthorized(true);
    const outcomes = await Promise.allSettled(Array.from({ length: 25 }, () => api.get('/api/x')));
    expect(
      outcomes.every(
        (o) => o.status === 'rejected' && axios.isAxiosError(o.reason) && o.reason.response?.status === 401,
      ),
    ).toBe(true);
    expect(env.sim.symbl.stats.apiRequests).toBe(50);
    expect(env.sim.symbl.stats.tokenRequests).toBe(2);
  });

  test('a token for provider A never reaches another origin', async () => {
    const api = axios.create();
    env.attach(api, { providers: [simulatedProvider(env.sim.symbl), simulatedProvider(env.sim.marsview)] });
    const targets = env.sim.servers.map((server) => server.url);
    await Promise.allSettled(
      targets.flatMap((origin) => [
        api.get(`${origin}/api/a`),
        api.get(`/api/b`, { baseURL: origin }),
        api.get(`${origin.replace('http:', '')}/api/c`),
        api.get(`/api/redirect?to=${encodeURIComponent(`${targets.find((t) => t !== origin)}/api/d`)}`, {
          baseURL: origin,
        }),
      ]),
    );
    for (const server of env.sim.servers) {
      const own = new Set(server.tokens.map((t) => `Bearer ${t.accessToken}`));
      const received = server.requests.filter((r) => r.kind === 'api' && r.authorization !== undefined);
      for (const request of received) expect(own.has(request.authorization!)).toBe(true);
    }
    // Only the two attached providers were asked for tokens, and both were used.
    expect(env.sim.symbl.stats.tokenRequests).toBe(1);
    expect(env.sim.marsview.stats.tokenRequests).toBe(1);
    expect(env.sim.singleview.stats.tokenRequests + env.sim.oauth2.stats.tokenRequests).toBe(0);
    expect(env.sim.singleview.requests.some((r) => r.authorization !== undefined)).toBe(false);
  });

  test('the SingleView expiry comes from the JWT (its expires_in is 0)', async () => {
    env.sim.singleview.setTokenLifetime(1234);
    const { auth } = client(env.sim.singleview);
    const token = await auth.token();
    const issued = env.sim.singleview.tokens.at(-1)!;
    expect(issued.accessToken).toBe(token.accessToken);
    expect(readJwtTimes(token.accessToken)?.exp).toBeCloseTo(issued.expiresAt / 1000, 3);
    expect(token.expiresAt).toBeCloseTo(issued.expiresAt, -1);
  });

  test('short-lived tokens rotate in real time with no request ever answered 401', async () => {
    // 2 s tokens: the expiry margin (10% of the lifetime) stays well above event-loop lag on a busy CI machine.
    env.sim.marsview.setTokenLifetime(2);
    const { api } = client(env.sim.marsview);
    const deadline = Date.now() + 5_000;
    let sent = 0;
    while (Date.now() < deadline) {
      await Promise.all(Array.from({ length: 5 }, () => api.get('/api/tick')));
      sent += 5;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(env.sim.marsview.stats.apiUnauthorized).toBe(0);
    expect(env.sim.marsview.stats.apiSucceeded).toBe(sent);
    expect(env.sim.marsview.stats.tokenRequests).toBeGreaterThanOrEqual(3);
    expect(env.sim.marsview.stats.tokenRequests).toBeLessThanOrEqual(11);
  }, 15_000);
});
