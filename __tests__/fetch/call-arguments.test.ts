import { describe, expect, test } from '@jest/globals';
import type { TokenAuthEvent, TokenFetch } from '../../lib/fetch.js';
import { tokenFetchHarness } from './helpers/token-fetch-harness.js';

// How auth.fetch reads its two arguments: a Request given with a RequestInit is the Request that
// init makes, a request it does not handle reaches the fetch underneath untouched, and a wrong
// `tokenAuth` is a typed error before anything is sent.

const harness = tokenFetchHarness();
const make = harness.make;

describe("auth.fetch's arguments", () => {
  test("a Request with a RequestInit: the init's method, headers and body win, as fetch's own Request(input, init)", async () => {
    const fetchWithToken = make();
    const request = new Request(`${harness.api.origin}/api/req`, { method: 'PUT', headers: { 'x-from': 'request' } });
    const answer = await fetchWithToken.fetch(request, {
      method: 'POST',
      headers: { 'x-from': 'init' },
      body: 'from init',
    });
    expect(await answer.json()).toMatchObject({ method: 'POST', token: harness.api.latest(), body: 'from init' });
    expect(harness.api.apiRequests().at(-1)?.headers['x-from']).toBe('init');
  });

  test('a request to an origin no provider serves reaches the fetch underneath with the very arguments given', async () => {
    const received: unknown[][] = [];
    const fetchWithToken = make({
      fetch: (...args) => {
        received.push(args);
        return fetch(...args);
      },
    });
    const url = `${harness.other.origin}/open`;
    const init: RequestInit = { method: 'GET', headers: { 'x-mine': '1' } };
    expect(await (await fetchWithToken.fetch(url, init)).text()).toBe('open none');
    expect(received).toHaveLength(1);
    expect(received[0]?.[0]).toBe(url);
    expect(received[0]?.[1]).toBe(init);
  });

  test.each<[string, unknown]>([
    ['true', true],
    ['null', null],
    ['a string', 'oauth2'],
    ['a replayBody that is not a function', { replayBody: 'again' }],
  ])('tokenAuth %s: ERR_INVALID_ARG_TYPE, and nothing is sent', async (_kind, tokenAuth) => {
    const fetchWithToken = make();
    const before = harness.api.seen.length;
    const error: unknown = await fetchWithToken
      .fetch(`${harness.api.origin}/api/x`, { tokenAuth } as unknown as RequestInit)
      .catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect((error as Error).message).toMatch(/expected `tokenAuth` to be false or/);
    expect(harness.api.seen.length).toBe(before);
  });

  test('a GET replayed after a 401 is reported with its method', async () => {
    const events: TokenAuthEvent[] = [];
    const fetchWithToken = make({ onEvent: (event) => events.push(event) });
    await (await fetchWithToken.fetch(`${harness.api.origin}/api/warm`)).text();
    harness.api.revoke();
    expect((await fetchWithToken.fetch(`${harness.api.origin}/api/again`)).status).toBe(200);
    expect(events.filter((event) => event.type === 'request-replayed')).toEqual([
      expect.objectContaining({ method: 'GET', url: `${harness.api.origin}/api/again` }),
    ]);
  });
});

describe('in a web worker (importScripts, no document), where fetch hides redirects', () => {
  test("the caller's redirect mode goes to the fetch underneath as it is", async () => {
    const scope = globalThis as { importScripts?: unknown };
    scope.importScripts = () => undefined;
    const modes: (RequestRedirect | undefined)[] = [];
    let auth: TokenFetch;
    try {
      auth = make({
        fetch: (input, init) => {
          modes.push(init?.redirect);
          return fetch(input, init);
        },
      });
    } finally {
      delete scope.importScripts;
    }
    await (await auth.fetch(`${harness.api.origin}/api/a`)).text();
    await (await auth.fetch(`${harness.api.origin}/api/b`, { redirect: 'error' })).text();
    expect(modes).toEqual(['follow', 'error']);
  });
});

describe("the handle's other members while it is open", () => {
  test('token() resolves with the token auth.fetch sends; token() of an unknown provider rejects with its own error', async () => {
    const auth = make();
    const token = await auth.token();
    expect(token).toMatchObject({ accessToken: harness.api.latest(), tokenType: 'Bearer' });
    const error: unknown = await auth.token('nope').catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/nope/);
  });
});
