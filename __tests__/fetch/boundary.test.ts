import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals';
import {
  clientCredentials,
  createTokenFetch,
  customProvider,
  isTokenflightError,
  type TokenAuthEvent,
  type TokenFetch,
  type TokenFetchOptions,
} from '../../lib/fetch.js';
import { startFetchApiServer, type FetchApiServer } from '../helpers/fetch-api-server.js';

// createTokenFetch against real loopback servers: rules 1, 5 and 8, redirects, signals and close().

jest.setTimeout(30_000);

let api: FetchApiServer;
let other: FetchApiServer;
beforeAll(async () => {
  [api, other] = await Promise.all([startFetchApiServer(), startFetchApiServer()]);
});
afterAll(() => Promise.all([api.close(), other.close()]));

let auth: TokenFetch | undefined;
afterEach(() => auth?.close());

function make(options: Partial<TokenFetchOptions> = {}): { auth: TokenFetch; events: TokenAuthEvent[] } {
  const events: TokenAuthEvent[] = [];
  auth = createTokenFetch({
    providers: clientCredentials({
      tokenUrl: api.tokenUrl,
      clientId: 'client-1',
      clientSecret: 'secret-1',
      origins: [api.origin],
    }),
    onEvent: (event) => events.push(event),
    ...options,
  });
  return { auth, events };
}

const lastApiRequest = (server: FetchApiServer = api) => server.apiRequests().at(-1);

describe('rule 1: routing from the URL actually requested', () => {
  test("a provider's origin gets its token; another origin, absolute or in a Request, never does", async () => {
    const { auth, events } = make();
    const mine = await auth.fetch(`${api.origin}/api/items`);
    expect(await mine.json()).toMatchObject({ token: api.latest(), path: '/api/items' });
    await (await auth.fetch(`${other.origin}/open`)).text();
    await (await auth.fetch(new Request(`${other.origin}/open?x=1`))).text();
    await (await auth.fetch(new URL(`${other.origin}/open`))).text();
    expect(other.seen.map((request) => request.headers.authorization)).toEqual([undefined, undefined, undefined]);
    expect(events.filter((event) => event.type === 'request-unrouted')).toEqual([
      expect.objectContaining({ origin: other.origin, url: `${other.origin}/open` }),
    ]);
  });

  test('a Request is routed by its own URL, keeps its method, headers and body, and gets the token', async () => {
    const { auth } = make();
    const request = new Request(`${api.origin}/api/req`, {
      method: 'PUT',
      headers: { 'x-trace': 't-1', 'content-type': 'text/plain' },
      body: 'request body',
    });
    const answer = (await (await auth.fetch(request)).json()) as Record<string, unknown>;
    expect(answer).toMatchObject({
      method: 'PUT',
      token: api.latest(),
      body: 'request body',
      contentType: 'text/plain',
    });
    expect(lastApiRequest()?.headers['x-trace']).toBe('t-1');
  });

  test("the token is written last: the caller's own Authorization header is replaced", async () => {
    const { auth } = make();
    const answer = await auth.fetch(`${api.origin}/api/x`, { headers: { Authorization: 'Bearer forged' } });
    expect(await answer.json()).toMatchObject({ token: api.latest() });
    expect(lastApiRequest()?.headers.authorization).toBe(`Bearer ${api.latest()}`);
  });

  test('tokenAuth: false sends no token, and fetch underneath never sees the option', async () => {
    const inits: (RequestInit | undefined)[] = [];
    const { auth } = make({
      fetch: (input, init) => {
        inits.push(init);
        return fetch(input, init);
      },
    });
    const answer = await auth.fetch(`${api.origin}/open`, { tokenAuth: false });
    expect(await answer.text()).toBe('open none');
    expect(inits).toHaveLength(1);
    expect(inits[0]).not.toHaveProperty('tokenAuth');
  });

  test('an OAuth grant without origins is refused at construction, naming `origins`', () => {
    expect(() =>
      createTokenFetch({ providers: clientCredentials({ tokenUrl: api.tokenUrl, clientId: 'c', clientSecret: 's' }) }),
    ).toThrow(/needs `origins`/);
  });

  test('bad options and a bad tokenAuth are typed errors naming what is wrong', async () => {
    expect(() => make({ fetch: 'fetch' as unknown as typeof fetch })).toThrow(
      /expected `fetch` to be a fetch function/,
    );
    expect(() => make({ tokenFetch: 42 as unknown as typeof fetch })).toThrow(/expected `tokenFetch`/);
    expect(() => make({ tokenClient: {} } as unknown as TokenFetchOptions)).toThrow(/unknown option `tokenClient`/);
    const { auth } = make();
    await expect(
      auth.fetch(`${api.origin}/api/x`, { tokenAuth: { provider: 7 } as unknown as { provider: string } }),
    ).rejects.toThrow(/expected `tokenAuth` to be false or/);
    await expect(auth.fetch(`${api.origin}/api/x`, { tokenAuth: { provider: 'nope' } })).rejects.toThrow(
      /no provider named "nope"/,
    );
  });

  test('token requests go through tokenFetch (or fetch), never through auth.fetch', async () => {
    const calls = { fetch: [] as string[], token: [] as string[] };
    const record =
      (into: string[]) =>
      (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
        into.push(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
        return fetch(input, init);
      };
    const { auth } = make({ fetch: record(calls.fetch), tokenFetch: record(calls.token) });
    await (await auth.fetch(`${api.origin}/api/a`)).text();
    expect(calls.token).toEqual([api.tokenUrl]);
    expect(calls.fetch).toEqual([`${api.origin}/api/a`]);
  });
});

/** Each body kind, and the bytes it must arrive as, both times. */
const bodies: [string, () => BodyInit][] = [
  ['a string', () => '{"a":1}'],
  ['URLSearchParams', () => new URLSearchParams({ q: 'a b', r: 'é' })],
  ['a Blob', () => new Blob(['blob bytes'], { type: 'application/octet-stream' })],
  ['an ArrayBuffer', () => new TextEncoder().encode('array buffer').buffer],
  ['a Uint8Array', () => new Uint8Array([0, 1, 2, 250, 255])],
  [
    'FormData',
    () => {
      const form = new FormData();
      form.append('field', 'value');
      form.append('file', new Blob(['file bytes'], { type: 'text/plain' }), 'a.txt');
      return form;
    },
  ],
];

describe('rule 5 and rule 8: one replay after a 401, the body byte for byte', () => {
  test.each(bodies)('%s is replayed with the same bytes and headers, after one token request', async (_kind, body) => {
    const { auth, events } = make();
    await (await auth.fetch(`${api.origin}/api/warm`)).text();
    api.revoke();
    const before = api.seen.length;
    const answer = await auth.fetch(`${api.origin}/api/upload`, { method: 'POST', body: body() });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ token: api.latest() });
    const sends = api.seen.slice(before);
    expect(sends.map((request) => request.path)).toEqual(['/api/upload', '/token', '/api/upload']);
    const [first, , replay] = sends;
    expect(replay?.body.equals(first?.body ?? Buffer.alloc(0))).toBe(true);
    expect(replay?.body.length).toBeGreaterThan(0);
    expect(replay?.headers['content-type']).toBe(first?.headers['content-type']);
    expect(events.filter((event) => event.type === 'request-replayed')).toEqual([
      expect.objectContaining({ provider: 'oauth2', method: 'POST', url: `${api.origin}/api/upload`, stale: false }),
    ]);
  });

  test('a Request with a body is cloned before the first send and replayed whole', async () => {
    const { auth } = make();
    await (await auth.fetch(`${api.origin}/api/warm`)).text();
    api.revoke();
    const before = api.seen.length;
    const request = new Request(`${api.origin}/api/req`, { method: 'POST', body: 'request bytes' });
    const answer = await auth.fetch(request);
    expect(await answer.json()).toMatchObject({ token: api.latest(), body: 'request bytes' });
    const sent = api.seen.slice(before).filter((seen) => seen.path === '/api/req');
    expect(sent.map((seen) => seen.body.toString())).toEqual(['request bytes', 'request bytes']);
  });

  test('replayed at most once: a second 401 reaches the caller as a Response whose body it reads', async () => {
    const tokens = ['bad-1', 'bad-2', 'bad-3'];
    const { auth } = make({
      providers: customProvider({ name: 'c', origins: [api.origin], getToken: () => tokens.shift() ?? 'bad-x' }),
    });
    const answer = await auth.fetch(`${api.origin}/api/x`);
    expect(answer.status).toBe(401);
    expect(await answer.text()).toBe('token rejected');
    expect(
      api
        .apiRequests()
        .slice(-2)
        .map((seen) => seen.headers.authorization),
    ).toEqual(['Bearer bad-1', 'Bearer bad-2']);
  });

  test('a 401 whose challenge is not about the token (insufficient_scope) is returned as it is', async () => {
    const { auth } = make();
    await (await auth.fetch(`${api.origin}/api/warm`)).text();
    const before = api.tokenRequests();
    const answer = await auth.fetch(`${api.origin}/challenge?error=insufficient_scope`);
    expect(answer.status).toBe(401);
    expect(await answer.text()).toBe('challenged');
    expect(api.tokenRequests()).toBe(before);
  });

  test('isTokenRejected sees the body as text, and the caller still reads it', async () => {
    const seen: unknown[] = [];
    const { auth } = make({
      isTokenRejected: (context) => {
        seen.push(context);
        return false;
      },
    });
    const answer = await auth.fetch(`${api.origin}/challenge?error=invalid_token`);
    expect(await answer.text()).toBe('challenged');
    expect(seen).toEqual([
      { provider: 'oauth2', status: 401, challenge: 'Bearer error="invalid_token"', data: 'challenged' },
    ]);
  });

  test('a stream body answered 401: ERR_BODY_NOT_REPLAYABLE, sent once, never empty; the next request has a new token', async () => {
    const { auth } = make();
    await (await auth.fetch(`${api.origin}/api/warm`)).text();
    api.revoke();
    const before = api.seen.length;
    const stream = new Blob(['streamed']).stream();
    const error: unknown = await auth
      .fetch(`${api.origin}/api/up`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit)
      .catch((thrown: unknown) => thrown);
    expect(isTokenflightError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'ERR_BODY_NOT_REPLAYABLE', provider: 'oauth2' });
    const sent = api.seen.slice(before).filter((request) => request.path === '/api/up');
    expect(sent.map((request) => request.body.toString())).toEqual(['streamed']);
    expect(await (await auth.fetch(`${api.origin}/api/next`)).json()).toMatchObject({ token: api.latest() });
  });

  test('with tokenAuth.replayBody, a stream body is replayed with the body it makes', async () => {
    const { auth } = make();
    await (await auth.fetch(`${api.origin}/api/warm`)).text();
    api.revoke();
    const answer = await auth.fetch(`${api.origin}/api/up`, {
      method: 'POST',
      body: new Blob(['first']).stream(),
      duplex: 'half',
      tokenAuth: { replayBody: () => new Blob(['again']).stream() },
    } as RequestInit);
    expect(await answer.json()).toMatchObject({ token: api.latest(), body: 'again' });
  });
});

describe('redirects: followed by auth.fetch, the token never to another origin', () => {
  const redirect = (to: string, status = 302): string =>
    `${api.origin}/redirect?status=${status}&to=${encodeURIComponent(to)}`;

  test('a same-origin redirect keeps the token; a cross-origin one drops it, and it never comes back', async () => {
    const { auth } = make();
    expect(await (await auth.fetch(redirect('/api/landed'))).json()).toMatchObject({ token: api.latest() });
    const answer = await auth.fetch(
      redirect(`${other.origin}/redirect?to=${encodeURIComponent(`${api.origin}/open`)}`),
    );
    expect(await answer.text()).toBe('open none');
    expect(answer.redirected).toBe(true);
    expect(other.seen.every((request) => request.headers.authorization === undefined)).toBe(true);
  });

  test('303 becomes a GET without body; 307 and 308 keep the method and the same bytes', async () => {
    const { auth } = make();
    const see = await auth.fetch(redirect('/api/after', 303), { method: 'POST', body: 'payload' });
    expect(await see.json()).toMatchObject({ method: 'GET', body: '', contentType: null });
    for (const status of [307, 308]) {
      const kept = await auth.fetch(redirect('/api/after', status), { method: 'PUT', body: 'payload' });
      expect(await kept.json()).toMatchObject({ method: 'PUT', body: 'payload' });
    }
    const form = new FormData();
    form.append('k', 'v');
    const before = api.seen.length;
    await (await auth.fetch(redirect('/api/form', 307), { method: 'POST', body: form })).text();
    const [hop, landed] = api.seen.slice(before);
    expect(landed?.body.equals(hop?.body ?? Buffer.alloc(0))).toBe(true);
  });

  test("the caller's redirect mode: manual returns the redirect, error rejects, and more than 20 hops reject", async () => {
    const { auth } = make();
    const manual = await auth.fetch(redirect('/api/x', 301), { redirect: 'manual' });
    expect(manual.status).toBe(301);
    expect(manual.headers.get('location')).toBe('/api/x');
    await expect(auth.fetch(redirect('/api/x'), { redirect: 'error' })).rejects.toThrow(TypeError);
    let loop = '/api/end';
    for (let i = 0; i < 21; i++) loop = `/redirect?to=${encodeURIComponent(loop)}`;
    await expect(auth.fetch(`${api.origin}${loop}`)).rejects.toThrow(/more than 20 redirects/);
  });

  test('a fetch underneath that would follow redirects itself is asked not to', async () => {
    const modes: (RequestRedirect | undefined)[] = [];
    const { auth } = make({
      fetch: (input, init) => {
        modes.push(init?.redirect);
        return fetch(input, init);
      },
    });
    await (await auth.fetch(redirect(`${other.origin}/open`))).text();
    // The token request, the first send and the hop: none followed by the fetch underneath.
    expect(modes).toEqual(['manual', 'manual', 'manual']);
    expect(other.seen.at(-1)?.headers.authorization).toBeUndefined();
  });
});

describe("signals: the caller's abort ends only its own wait", () => {
  test('an abort while waiting for the token rejects with signal.reason; the shared token request goes on', async () => {
    const { auth } = make();
    api.setTokenDelay(300);
    const before = api.tokenRequests();
    try {
      const controller = new AbortController();
      const reason = new Error('caller gave up');
      const waiting = auth.fetch(`${api.origin}/api/a`, { signal: controller.signal });
      const patient = auth.fetch(`${api.origin}/api/b`);
      setTimeout(() => controller.abort(reason), 50);
      await expect(waiting).rejects.toBe(reason);
      expect(await (await patient).json()).toMatchObject({ token: api.latest() });
      expect(api.tokenRequests() - before).toBe(1);
      await expect(auth.fetch(`${api.origin}/api/c`, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    } finally {
      api.setTokenDelay(0);
    }
  });
});

describe('close()', () => {
  test('synchronous: fetch, token and resumeSession reject with ERR_HANDLE_CLOSED, also a call waiting for its token', async () => {
    const { auth } = make();
    api.setTokenDelay(300);
    try {
      const waiting = auth.fetch(`${api.origin}/api/a`);
      await new Promise((resolve) => setTimeout(resolve, 30));
      auth.close();
      await expect(waiting).rejects.toMatchObject({ code: 'ERR_HANDLE_CLOSED' });
      await expect(auth.fetch(`${api.origin}/api/a`)).rejects.toMatchObject({ code: 'ERR_HANDLE_CLOSED' });
      await expect(auth.fetch(`${api.origin}/open`, { tokenAuth: false })).rejects.toMatchObject({
        code: 'ERR_HANDLE_CLOSED',
      });
      await expect(auth.token()).rejects.toMatchObject({ code: 'ERR_HANDLE_CLOSED' });
      await expect(auth.resumeSession('rt')).rejects.toMatchObject({ code: 'ERR_HANDLE_CLOSED' });
      expect(() => auth.close()).not.toThrow();
    } finally {
      api.setTokenDelay(0);
    }
  });
});

describe('a hostile deployment or caller', () => {
  test('a 401 from another origin after a redirect is that origin’s business: returned, no token request', async () => {
    const { auth } = make();
    await (await auth.fetch(`${api.origin}/api/warm`)).text();
    const before = api.tokenRequests();
    const to = encodeURIComponent(`${other.origin}/api/theirs`);
    const answer = await auth.fetch(`${api.origin}/redirect?status=307&to=${to}`);
    expect(answer.status).toBe(401);
    expect(await answer.text()).toBe('token rejected');
    expect(api.tokenRequests()).toBe(before);
    expect(other.seen.at(-1)?.headers.authorization).toBeUndefined();
  });

  test('a redirect to a scheme that is not http(s) rejects as fetch does, with the token sent nowhere', async () => {
    const { auth } = make();
    const to = encodeURIComponent('file:///etc/passwd');
    await expect(auth.fetch(`${api.origin}/redirect?to=${to}`)).rejects.toThrow(TypeError);
  });

  test('a token endpoint that redirects: ERR_TOKEN_REDIRECT, and the credentials never reach the other origin', async () => {
    const to = encodeURIComponent(`${other.origin}/token`);
    const { auth } = make({
      providers: clientCredentials({
        tokenUrl: `${api.origin}/redirect?status=307&to=${to}`,
        clientId: 'client-1',
        clientSecret: 'secret-1',
        origins: [api.origin],
      }),
      tokenRequest: { retries: 0 },
    });
    const before = other.seen.length;
    await expect(auth.fetch(`${api.origin}/api/x`)).rejects.toMatchObject({ code: 'ERR_TOKEN_REDIRECT' });
    expect(other.seen.length).toBe(before);
  });

  test('replayBody or isTokenRejected that throws: the call rejects with that error, nothing hangs', async () => {
    const { auth } = make();
    await (await auth.fetch(`${api.origin}/api/warm`)).text();
    api.revoke();
    const thrown = new Error('no second stream');
    await expect(
      auth.fetch(`${api.origin}/api/up`, {
        method: 'POST',
        body: new Blob(['s']).stream(),
        duplex: 'half',
        tokenAuth: {
          replayBody: () => {
            throw thrown;
          },
        },
      } as RequestInit),
    ).rejects.toBe(thrown);
    auth.close();
    const verdict = new Error('verdict failed');
    const second = make({
      isTokenRejected: () => {
        throw verdict;
      },
    });
    await expect(second.auth.fetch(`${api.origin}/challenge?error=invalid_token`)).rejects.toBe(verdict);
  });

  test('a 401 whose body never ends holds isTokenRejected at most tokenRequest.timeoutMs; it then sees no body', async () => {
    const seen: unknown[] = [];
    const { auth } = make({
      tokenRequest: { timeoutMs: 200 },
      isTokenRejected: ({ data }) => {
        seen.push(data);
        return false;
      },
    });
    const startedAt = performance.now();
    const answer = await auth.fetch(`${api.origin}/endless-401`);
    expect(answer.status).toBe(401);
    expect(seen).toEqual([undefined]);
    expect(performance.now() - startedAt).toBeLessThan(5_000);
    await answer.body?.cancel();
  });

  test('close() while a replay waits for its new token: ERR_HANDLE_CLOSED', async () => {
    const { auth } = make();
    await (await auth.fetch(`${api.origin}/api/warm`)).text();
    api.revoke();
    api.setTokenDelay(300);
    try {
      const pending = auth.fetch(`${api.origin}/api/x`);
      await new Promise((resolve) => setTimeout(resolve, 80));
      auth.close();
      await expect(pending).rejects.toMatchObject({ code: 'ERR_HANDLE_CLOSED' });
    } finally {
      api.setTokenDelay(0);
    }
  });
});

describe('in a browser (a document), where fetch hides redirects', () => {
  test("the caller's redirect mode goes to fetch as it is; a 401 from the origin the browser ended on is not the token's", async () => {
    const scope = globalThis as { document?: unknown };
    scope.document = {};
    const modes: (RequestRedirect | undefined)[] = [];
    let created: ReturnType<typeof make>;
    try {
      created = make({
        fetch: (input, init) => {
          modes.push(init?.redirect);
          // Node's fetch follows as a browser does, dropping Authorization across origins.
          return fetch(input, init);
        },
      });
    } finally {
      delete scope.document;
    }
    const { auth } = created;
    await (await auth.fetch(`${api.origin}/api/warm`)).text();
    const before = api.tokenRequests();
    const to = encodeURIComponent(`${other.origin}/api/theirs`);
    const answer = await auth.fetch(`${api.origin}/redirect?status=302&to=${to}`);
    expect(answer.status).toBe(401);
    expect(api.tokenRequests()).toBe(before);
    expect(modes.slice(-1)).toEqual(['follow']);
    expect(other.seen.at(-1)?.headers.authorization).toBeUndefined();
    const manual = await auth.fetch(`${api.origin}/api/m`, { redirect: 'manual' });
    expect(await manual.json()).toMatchObject({ token: api.latest() });
    expect(modes.slice(-1)).toEqual(['manual']);
  });
});
