import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { clientCredentials, createTokenFetch, type TokenFetch } from '../../lib/fetch.js';
import { startFetchApiServer, type FetchApiServer } from '../helpers/fetch-api-server.js';

// createTokenFetch under load, against a real loopback server. A suite of its own: it takes
// seconds, and the mutation run of the fetch boundary (stryker/fetch.config.mjs) leaves it out.

let api: FetchApiServer;
let auth: TokenFetch | undefined;
beforeAll(async () => {
  api = await startFetchApiServer();
});
afterAll(async () => {
  auth?.close();
  await api.close();
});

function make(): { auth: TokenFetch } {
  auth = createTokenFetch({
    providers: clientCredentials({
      tokenUrl: api.tokenUrl,
      clientId: 'client-1',
      clientSecret: 'secret-1',
      origins: [api.origin],
    }),
  });
  return { auth };
}

describe('concurrency', () => {
  test('1,000 concurrent calls after a revocation: 1 token request, 0 failures', async () => {
    const { auth } = make();
    await (await auth.fetch(`${api.origin}/api/warm`)).text();
    api.revoke();
    const before = api.tokenRequests();
    const answers = await Promise.all(
      Array.from({ length: 1_000 }, (_, i) =>
        auth.fetch(`${api.origin}/api/n${i}`).then(async (response) => ({
          status: response.status,
          body: (await response.json()) as { token: string },
        })),
      ),
    );
    expect(api.tokenRequests() - before).toBe(1);
    expect(answers.filter((answer) => answer.status !== 200)).toEqual([]);
    expect(new Set(answers.map((answer) => answer.body.token))).toEqual(new Set([api.latest()]));
  }, 120_000);
});
