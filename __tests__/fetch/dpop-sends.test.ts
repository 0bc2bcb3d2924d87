import { afterEach, describe, expect, jest, test } from '@jest/globals';
import { clientCredentials, createTokenFetch, type TokenFetch } from '../../lib/fetch.js';

// What auth.fetch sends with a DPoP-bound token, seen by a fetch double (no network): a fresh proof
// with each send, one re-send at once when the API asks for a nonce (with that nonce), and a body
// that cannot be sent twice refused rather than re-sent empty. Proof verification itself is the
// DPoP boundary suite's (__tests__/oauth/dpop-boundaries.test.ts, against oidc-provider).

jest.setTimeout(30_000);

const API = 'https://api.example';
const TOKEN_URL = 'https://as.example/token';

interface Send {
  readonly url: string;
  readonly method: string;
  readonly authorization: string | null;
  readonly proof: string | null;
  readonly body: string;
}

const claimsOf = (jwt: string | null): Record<string, unknown> =>
  JSON.parse(Buffer.from((jwt ?? '..').split('.')[1] ?? '', 'base64url').toString('utf8') || '{}') as Record<
    string,
    unknown
  >;

let auth: TokenFetch | undefined;
afterEach(() => auth?.close());

/** A handle whose API answers come from `answer` (given the send number), its token a DPoP one. */
function make(answer: (index: number, send: Send) => Response): { auth: TokenFetch; sends: Send[] } {
  const sends: Send[] = [];
  const tokenFetch = (): Promise<Response> =>
    Promise.resolve(
      Response.json(
        { access_token: 'at-1', token_type: 'DPoP', expires_in: 3600 },
        { headers: { 'cache-control': 'no-store' } },
      ),
    );
  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const send: Send = {
      url: request.url,
      method: request.method,
      authorization: request.headers.get('authorization'),
      proof: request.headers.get('dpop'),
      body: await request.text(),
    };
    sends.push(send);
    return answer(sends.length - 1, send);
  };
  auth = createTokenFetch({
    providers: clientCredentials({ tokenUrl: TOKEN_URL, clientId: 'c', clientSecret: 's', dpop: true, origins: [API] }),
    fetch,
    tokenFetch,
  });
  return { auth, sends };
}

const askNonce = (nonce: string): Response =>
  new Response('nonce needed', {
    status: 401,
    headers: { 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'dpop-nonce': nonce },
  });

describe('auth.fetch with a DPoP-bound token', () => {
  test('each send carries the token as DPoP and a proof for its method and URL', async () => {
    const { auth, sends } = make(() => new Response('ok'));
    expect(await (await auth.fetch(`${API}/items?page=2`, { method: 'POST', body: 'a' })).text()).toBe('ok');
    expect(await (await auth.fetch(`${API}/other`)).text()).toBe('ok');
    expect(sends.map((send) => send.authorization)).toEqual(['DPoP at-1', 'DPoP at-1']);
    const [first, second] = sends.map((send) => claimsOf(send.proof));
    expect(first).toMatchObject({ htm: 'POST', htu: `${API}/items` });
    expect(second).toMatchObject({ htm: 'GET', htu: `${API}/other` });
    expect(first?.['jti']).not.toBe(second?.['jti']);
  });

  test('a use_dpop_nonce answer is sent once more at once, with the nonce, the same body and a new proof', async () => {
    const { auth, sends } = make((index) => (index === 0 ? askNonce('n-1') : new Response('ok')));
    const answer = await auth.fetch(`${API}/items`, { method: 'PUT', body: 'payload' });
    expect(await answer.text()).toBe('ok');
    expect(sends.map((send) => [send.method, send.body])).toEqual([
      ['PUT', 'payload'],
      ['PUT', 'payload'],
    ]);
    expect(claimsOf(sends[0]?.proof ?? null)['nonce']).toBeUndefined();
    expect(claimsOf(sends[1]?.proof ?? null)['nonce']).toBe('n-1');
  });

  test('an API that keeps asking for a nonce gets the request twice, and the caller its answer', async () => {
    let nonce = 0;
    const { auth, sends } = make(() => askNonce(`n-${++nonce}`));
    const answer = await auth.fetch(`${API}/items`);
    expect(answer.status).toBe(401);
    expect(sends.map((send) => send.url)).toHaveLength(2);
  });

  test('a stream body asked for a nonce: ERR_BODY_NOT_REPLAYABLE, sent once; with replayBody, re-sent with the body it makes', async () => {
    const stream = () => new Blob(['streamed']).stream();
    const first = make((index) => (index % 2 === 0 ? askNonce(`n-${index}`) : new Response('ok')));
    const error: unknown = await first.auth
      .fetch(`${API}/up`, { method: 'POST', body: stream(), duplex: 'half' } as RequestInit)
      .catch((thrown: unknown) => thrown);
    expect(error).toMatchObject({ code: 'ERR_BODY_NOT_REPLAYABLE', provider: 'oauth2' });
    expect(first.sends.map((send) => send.body)).toEqual(['streamed']);
    first.auth.close();
    const second = make((index) => (index === 0 ? askNonce('n-0') : new Response('ok')));
    const answer = await second.auth.fetch(`${API}/up`, {
      method: 'POST',
      body: stream(),
      duplex: 'half',
      tokenAuth: { replayBody: () => new Blob(['again']).stream() },
    } as RequestInit);
    expect(await answer.text()).toBe('ok');
    expect(second.sends.map((send) => send.body)).toEqual(['streamed', 'again']);
  });

  test('a nonce asked for by another origin after a redirect is not answered: the token and proof stayed behind', async () => {
    const { auth, sends } = make((index) =>
      index === 0
        ? new Response(null, { status: 307, headers: { location: 'https://elsewhere.example/x' } })
        : askNonce('theirs'),
    );
    const answer = await auth.fetch(`${API}/items`);
    expect(answer.status).toBe(401);
    expect(sends.map((send) => [send.url, send.authorization, send.proof === null])).toEqual([
      [`${API}/items`, 'DPoP at-1', false],
      ['https://elsewhere.example/x', null, true],
    ]);
  });
});
