import axios, { type AxiosInstance } from 'axios';
import type MockAdapter from 'axios-mock-adapter';
import { symbl, type TokenAuthEvent, type TokenAuthOptions } from '../../lib/index.js';
import { createTokenFetch, type FetchFunction } from '../../lib/fetch.js';
import { CREDS, harness, mockOf, SYMBL_URL } from './index.js';

/**
 * The rule suites' harness (helpers/index.ts `harness`) over either boundary: the same
 * axios-mock-adapter scripts answer the API and the token endpoint, whether tokenflight sits on an
 * axios instance (`attachTokenAuth`) or is a fetch (`createTokenFetch`, whose `fetch` and
 * `tokenFetch` are fetch functions answered by those mocks). A rule written once with it runs over
 * both with `describe.each(MOCKED_TRANSPORTS)`.
 */
export interface MockedHarness {
  /** Sends a GET to `path` on the API's origin; an answer of 400 or more rejects, as axios does. */
  api: { get(path: string): Promise<{ status: number; data: unknown }> };
  apiMock: MockAdapter;
  tokenMock: MockAdapter;
  auth: { token(name?: string): Promise<{ accessToken: string; expiresAt: number | null }>; eject(): void };
  events: TokenAuthEvent[];
  /** Token requests that reached the mocked token endpoint. */
  tokenCalls: () => number;
}

export type MakeHarness = (options?: Partial<TokenAuthOptions>, baseURL?: string) => MockedHarness;

const NULL_BODY = new Set([101, 204, 205, 304]);

/**
 * A fetch function answered by an axios instance (and so by the axios-mock-adapter on it); a URL
 * under the instance's `baseURL` is given to it relative, as the scripts name it (`onGet('/x')`).
 */
export function fetchThrough(instance: AxiosInstance): FetchFunction {
  const base = instance.defaults.baseURL;
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const sent: Record<string, string> = {};
    new Headers(init?.headers).forEach((value, name) => {
      sent[name] = value;
    });
    const answer = await instance.request<unknown>({
      url: base !== undefined && url.startsWith(`${base}/`) ? url.slice(base.length) : url,
      method: init?.method ?? 'GET',
      headers: sent,
      data: typeof init?.body === 'string' ? init.body : undefined,
      validateStatus: () => true,
      transformResponse: [],
      ...(init?.signal && { signal: init.signal }),
    });
    const headers = new Headers();
    for (const [name, value] of Object.entries(answer.headers as Record<string, unknown>)) {
      if (typeof value === 'string' || typeof value === 'number') headers.set(name, String(value));
    }
    const { data } = answer;
    const body = NULL_BODY.has(answer.status) ? null : typeof data === 'string' ? data : JSON.stringify(data ?? '');
    return new Response(body, { status: answer.status, headers });
  };
}

/** What an answer's text was, read as axios would with its default transform: JSON when it parses. */
function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The fetch boundary's harness: `createTokenFetch` on the Symbl provider, both mocked. */
export const fetchHarness: MakeHarness = (options = {}, baseURL = SYMBL_URL) => {
  const api = axios.create({ baseURL });
  const apiMock = mockOf(api);
  const tokenClient = axios.create();
  const tokenMock = mockOf(tokenClient);
  const events: TokenAuthEvent[] = [];
  // `tokenClient` is attachTokenAuth's own option; createTokenFetch takes `tokenFetch` instead.
  const rest: Partial<TokenAuthOptions> = { ...options };
  delete rest.tokenClient;
  const auth = createTokenFetch({
    providers: symbl(CREDS),
    fetch: fetchThrough(api),
    tokenFetch: fetchThrough(tokenClient),
    onEvent: (event) => events.push(event),
    ...rest,
  });
  return {
    api: {
      async get(path) {
        const response = await auth.fetch(new URL(path, baseURL).href);
        const data = parse(await response.text());
        if (response.status >= 400) {
          throw Object.assign(new Error(`Request failed with status code ${response.status}`), {
            response: { status: response.status, data },
          });
        }
        return { status: response.status, data };
      },
    },
    apiMock,
    tokenMock,
    auth: { token: auth.token, eject: auth.close },
    events,
    tokenCalls: () => tokenMock.history.length,
  };
};

/** Both boundaries, for `describe.each` in the rule suites that script their servers with axios-mock-adapter. */
export const MOCKED_TRANSPORTS: readonly (readonly [string, MakeHarness])[] = [
  ['axios', harness],
  ['fetch', fetchHarness],
];
