import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { clientCredentials, customProvider, type TokenAuthEvent } from '../../lib/index.js';
import type { TokenAuthBaseOptions } from '../../lib/core/options.js';
import { startFetchApiServer, type FetchApiServer } from '../helpers/fetch-api-server.js';
import { TRANSPORTS, type NeutralHandle } from '../helpers/transports.js';

// Rules 1, 2, 5 and 8 where they do not depend on the HTTP client: the same cases over
// attachTokenAuth (axios) and createTokenFetch (fetch), against real loopback servers.

jest.setTimeout(30_000);

let api: FetchApiServer;
let other: FetchApiServer;
beforeAll(async () => {
  [api, other] = await Promise.all([startFetchApiServer(), startFetchApiServer()]);
});
afterAll(() => Promise.all([api.close(), other.close()]));

describe.each(TRANSPORTS)('over %s', (_name, transport) => {
  let handle: NeutralHandle | undefined;
  afterEach(() => handle?.close());
  const events: TokenAuthEvent[] = [];
  const open = (options: Partial<TokenAuthBaseOptions> = {}): NeutralHandle => {
    events.length = 0;
    handle = transport({
      providers: clientCredentials({ tokenUrl: api.tokenUrl, clientId: 'c', clientSecret: 's', origins: [api.origin] }),
      onEvent: (event) => events.push(event),
      ...options,
    });
    return handle;
  };

  test('rule 1: the token goes to the origins its provider lists, nowhere else; an unserved origin is reported once', async () => {
    const auth = open();
    expect(JSON.parse((await auth.send({ url: `${api.origin}/api/a` })).body)).toMatchObject({ token: api.latest() });
    const before = other.seen.length;
    await auth.send({ url: `${other.origin}/open` });
    await auth.send({ url: `${other.origin}/open?again=1` });
    expect(other.seen.slice(before).map((request) => request.headers.authorization)).toEqual([undefined, undefined]);
    expect(events.filter((event) => event.type === 'request-unrouted')).toHaveLength(1);
  });

  test('rule 2: 50 concurrent first requests share one token request; an aborted caller leaves it to the others', async () => {
    const auth = open();
    api.setTokenDelay(100);
    try {
      const before = api.tokenRequests();
      const controller = new AbortController();
      const aborted = auth.send({ url: `${api.origin}/api/x`, signal: controller.signal });
      const rest = Array.from({ length: 50 }, (_, i) => auth.send({ url: `${api.origin}/api/${i}` }));
      controller.abort();
      await expect(aborted).rejects.toBeDefined();
      const answers = await Promise.all(rest);
      expect(answers.map((answer) => answer.status)).toEqual(Array.from({ length: 50 }, () => 200));
      expect(api.tokenRequests() - before).toBe(1);
    } finally {
      api.setTokenDelay(0);
    }
  });

  test('rule 5: a revoked token is replaced once for everyone and each request replayed once; a second 401 reaches the caller', async () => {
    const auth = open();
    await auth.send({ url: `${api.origin}/api/warm` });
    api.revoke();
    const before = api.tokenRequests();
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => auth.send({ url: `${api.origin}/api/${i}` })),
    );
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    expect(api.tokenRequests() - before).toBe(1);
    auth.close();
    const rejecting = open({
      providers: customProvider({
        name: 'bad',
        origins: [api.origin],
        getToken: () => `bad-${Math.random()}`.replace('.', ''),
      }),
    });
    const sends = api.apiRequests().length;
    expect(await rejecting.send({ url: `${api.origin}/api/r` })).toEqual({ status: 401, body: 'token rejected' });
    expect(api.apiRequests().length - sends).toBe(2);
  });

  test('rule 5: a 401 whose challenge is about scope is not a rejected token', async () => {
    const auth = open();
    await auth.send({ url: `${api.origin}/api/warm` });
    const before = api.tokenRequests();
    expect((await auth.send({ url: `${api.origin}/challenge?error=insufficient_scope` })).status).toBe(401);
    expect(api.tokenRequests()).toBe(before);
  });

  test('rule 8: a body is replayed byte for byte; a stream is never replayed empty (ERR_BODY_NOT_REPLAYABLE)', async () => {
    const auth = open();
    await auth.send({ url: `${api.origin}/api/warm` });
    api.revoke();
    let before = api.seen.length;
    const answer = await auth.send({ url: `${api.origin}/api/up`, method: 'POST', body: '{"a":"é"}' });
    expect(JSON.parse(answer.body)).toMatchObject({ body: '{"a":"é"}', token: api.latest() });
    const sent = api.seen.slice(before).filter((request) => request.path === '/api/up');
    expect(sent).toHaveLength(2);
    expect(sent[1]?.body.equals(sent[0]?.body ?? Buffer.alloc(0))).toBe(true);
    api.revoke();
    before = api.seen.length;
    await expect(
      auth.send({ url: `${api.origin}/api/up`, method: 'PUT', body: { stream: 'once' } }),
    ).rejects.toMatchObject({ code: 'ERR_BODY_NOT_REPLAYABLE' });
    expect(
      api.seen
        .slice(before)
        .filter((request) => request.path === '/api/up')
        .map((r) => r.body.toString()),
    ).toEqual(['once']);
  });
});
