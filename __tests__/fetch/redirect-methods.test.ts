import { describe, expect, test } from '@jest/globals';
import type { ApiRequest } from '../helpers/fetch-api-server.js';
import { tokenFetchHarness } from './helpers/token-fetch-harness.js';

// auth.fetch follows redirects itself (outside browsers): each hop changes the method, the body
// and the body's headers exactly as fetch does (the Fetch standard's "HTTP-redirect fetch"), and
// lets go of the body of every redirect it follows.

const harness = tokenFetchHarness();
const make = harness.make;

const redirect = (status: number, to = '/api/after'): string =>
  `${harness.api.origin}/redirect?status=${status}&to=${encodeURIComponent(to)}`;

/** What the API saw for a request redirected once: the redirect's request and the landed one. */
async function hops(send: () => Promise<Response>): Promise<{ answer: Response; landed: ApiRequest }> {
  const before = harness.api.seen.length;
  const answer = await send();
  await answer.arrayBuffer();
  const sent = harness.api.seen.slice(before).filter((request) => request.path !== '/token');
  expect(sent.map((request) => request.path)).toEqual([expect.stringMatching(/^\/redirect\?/), '/api/after']);
  return { answer, landed: sent[1] as ApiRequest };
}

describe('the method and body of each hop, as fetch would send them', () => {
  test.each([301, 302])('a POST answered %i lands as a GET without body or body headers', async (status) => {
    const fetchWithToken = make();
    const { answer, landed } = await hops(() =>
      fetchWithToken.fetch(redirect(status), {
        method: 'POST',
        body: 'payload',
        headers: { 'content-type': 'text/plain', 'content-language': 'fr' },
      }),
    );
    expect(landed).toMatchObject({ method: 'GET', body: Buffer.alloc(0) });
    expect(landed.headers['content-type']).toBeUndefined();
    expect(landed.headers['content-language']).toBeUndefined();
    expect(landed.headers.authorization).toBe(`Bearer ${harness.api.latest()}`);
    expect(answer.redirected).toBe(true);
  });

  test('a method written in lower case is compared as fetch compares it: "post" answered 302 lands as a GET', async () => {
    const fetchWithToken = make();
    const { landed } = await hops(() => fetchWithToken.fetch(redirect(302), { method: 'post', body: 'payload' }));
    expect(landed).toMatchObject({ method: 'GET', body: Buffer.alloc(0) });
  });

  test('a PUT answered 302 keeps its method and body', async () => {
    const fetchWithToken = make();
    const { landed } = await hops(() => fetchWithToken.fetch(redirect(302), { method: 'PUT', body: 'payload' }));
    expect(landed.method).toBe('PUT');
    expect(landed.body.toString()).toBe('payload');
  });

  test('a 303 keeps a HEAD a HEAD, and leaves the headers of a GET as they were', async () => {
    const fetchWithToken = make();
    const head = await hops(() => fetchWithToken.fetch(redirect(303), { method: 'HEAD' }));
    expect(head.landed.method).toBe('HEAD');
    const get = await hops(() => fetchWithToken.fetch(redirect(303), { headers: { 'content-language': 'fr' } }));
    expect(get.landed.method).toBe('GET');
    expect(get.landed.headers['content-language']).toBe('fr');
  });

  test('a stream body answered 307 rejects with a TypeError, as fetch does: the stream was sent once, never again', async () => {
    const fetchWithToken = make();
    const before = harness.api.seen.length;
    const error: unknown = await fetchWithToken
      .fetch(redirect(307), {
        method: 'POST',
        body: new Blob(['streamed']).stream(),
        duplex: 'half',
      } as RequestInit)
      .catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/stream, which cannot be sent twice/);
    const sent = harness.api.seen.slice(before).filter((request) => request.path !== '/token');
    expect(sent.map((request) => request.body.toString())).toEqual(['streamed']);
  });

  test('an answer that was not redirected says so: redirected is false', async () => {
    const answer = await make().fetch(`${harness.api.origin}/api/direct`);
    expect(answer.redirected).toBe(false);
    expect(await answer.json()).toMatchObject({ path: '/api/direct' });
  });
});

describe('the fetch underneath, seen from a test double', () => {
  /** A fetch that answers the API's origin with `answer` (the token endpoint through the real one), recording each send. */
  function underneath(answer: (url: string) => Response) {
    const sends: { url: string; authorization: string | null }[] = [];
    const fake = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      sends.push({ url, authorization: new Headers(init?.headers).get('authorization') });
      return Promise.resolve(answer(url));
    };
    return { sends, fake };
  }

  test('a redirect to https is followed, without the token (another origin)', async () => {
    const { sends, fake } = underneath((url) =>
      url.startsWith('https://harness.api.example/')
        ? new Response('landed')
        : new Response(null, { status: 302, headers: { location: 'https://harness.api.example/landed' } }),
    );
    const fetchWithToken = make({ fetch: fake });
    const answer = await fetchWithToken.fetch(`${harness.api.origin}/api/start`);
    expect(await answer.text()).toBe('landed');
    expect(sends).toEqual([
      { url: `${harness.api.origin}/api/start`, authorization: `Bearer ${harness.api.latest()}` },
      { url: 'https://harness.api.example/landed', authorization: null },
    ]);
  });

  test('the body of each redirect followed is cancelled, so its connection is freed', async () => {
    let cancelled = 0;
    const unread = (): ReadableStream<Uint8Array> =>
      new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('redirecting'));
        },
        cancel() {
          cancelled++;
        },
      });
    const { sends, fake } = underneath((url) =>
      url.endsWith('/api/landed')
        ? new Response('landed')
        : new Response(unread(), { status: 307, headers: { location: '/api/landed' } }),
    );
    const fetchWithToken = make({ fetch: fake });
    expect(await (await fetchWithToken.fetch(`${harness.api.origin}/api/start`)).text()).toBe('landed');
    expect(sends).toHaveLength(2);
    expect(cancelled).toBe(1);
  });
});
