import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import axios, { type InternalAxiosRequestConfig } from 'axios';
import { axiosHttpClient } from '../../lib/axios/http-client.js';
import { HttpClientError, isHttpClientError, type HttpClient, type HttpRequest } from '../../lib/core/http.js';
import { fetchHttpClient, type FetchFunction } from '../../lib/fetch/http-client.js';
import { mockOf } from '../helpers/index.js';
import { closedPort, startHttpTestServer } from '../helpers/http-test-server.js';

// The contract of lib/core/http.ts, held by both implementations against a real loopback server.

// Real sockets on a loaded machine: each case gets room.
jest.setTimeout(20_000);

let server: Awaited<ReturnType<typeof startHttpTestServer>>;
beforeAll(async () => {
  server = await startHttpTestServer();
});
afterAll(() => server.close());

const clients: [string, () => HttpClient][] = [
  ['axios', () => axiosHttpClient(axios.create())],
  ['fetch', () => fetchHttpClient(globalThis.fetch)],
];

const request = (path: string, extra: Partial<HttpRequest> = {}): HttpRequest => ({
  method: 'GET',
  url: `${server.origin}${path}`,
  headers: { accept: 'application/json' },
  signal: new AbortController().signal,
  timeoutMs: 5_000,
  maxBodyBytes: 1_048_576,
  ...extra,
});

async function failureOf(pending: Promise<unknown>): Promise<HttpClientError> {
  const error = await pending.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(isHttpClientError(error)).toBe(true);
  return error as HttpClientError;
}

describe.each(clients)('%s HttpClient', (_name, make) => {
  test('every status resolves, with its body as text and its headers in lower case', async () => {
    const http = make();
    for (const status of [200, 401, 404, 429, 503]) {
      const answer = await http.send(request(`/status/${status}`));
      expect(answer).toMatchObject({ status, body: `status ${status}` });
      expect(answer.headers).toMatchObject({ 'retry-after': '3', 'content-type': 'text/plain' });
      expect(Object.keys(answer.headers).every((name) => name === name.toLowerCase())).toBe(true);
    }
    expect((await http.send(request('/empty'))).body).toBe('');
  });

  test('sends the method, headers and body given, and no cookie or XSRF header', async () => {
    const answer = await make().send(
      request('/echo', {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: 'grant_type=client_credentials&scope=a+b',
      }),
    );
    const seen = JSON.parse(answer.body) as { method: string; headers: Record<string, string>; body: string };
    expect(seen).toMatchObject({ method: 'POST', body: 'grant_type=client_credentials&scope=a+b' });
    expect(seen.headers).toMatchObject({
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    });
    expect(seen.headers).not.toHaveProperty('cookie');
    expect(Object.keys(seen.headers).some((name) => name.includes('xsrf'))).toBe(false);
  });

  test('a redirect is returned, never followed', async () => {
    const before = server.seen.length;
    const answer = await make().send(request('/redirect', { method: 'POST', body: 'secret=1' }));
    expect(answer).toMatchObject({ status: 307, body: 'moved' });
    expect(answer.headers['location']).toBe('/echo');
    expect(server.seen.slice(before).map((seen) => seen.path)).toEqual(['/redirect']);
  });

  test('a repeated header is joined with ", "; UTF-8 split across chunks is decoded whole', async () => {
    const http = make();
    expect((await http.send(request('/repeated'))).headers['x-multi']).toBe('one, two');
    expect((await http.send(request('/utf8'))).body).toBe('é€😀');
  });

  test('a body over maxBodyBytes rejects with reason too-large, declared or not; at the limit it is read', async () => {
    const http = make();
    expect((await failureOf(http.send(request('/big', { maxBodyBytes: 10_000 })))).reason).toBe('too-large');
    expect((await failureOf(http.send(request('/big-declared', { maxBodyBytes: 65_535 })))).reason).toBe('too-large');
    expect((await http.send(request('/big', { maxBodyBytes: 65_536 }))).body).toHaveLength(65_536);
  });

  test('no answer, or a body that stalls, within timeoutMs: reason timeout, on time', async () => {
    const http = make();
    for (const path of ['/hang', '/stall-body']) {
      const startedAt = performance.now();
      const error = await failureOf(http.send(request(path, { timeoutMs: 150 })));
      expect(error.reason).toBe('timeout');
      expect(performance.now() - startedAt).toBeLessThan(3_000);
    }
  });

  test('the signal ends the request: reason aborted, also when aborted before sending', async () => {
    const http = make();
    const controller = new AbortController();
    const pending = http.send(request('/hang', { signal: controller.signal }));
    setTimeout(() => controller.abort(new Error('closed')), 50);
    expect((await failureOf(pending)).reason).toBe('aborted');
    const before = server.seen.length;
    expect((await failureOf(http.send(request('/echo', { signal: AbortSignal.abort() })))).reason).toBe('aborted');
    expect(server.seen.length).toBe(before);
  });

  test('a refused connection: reason network, the transport error as cause, no URL in the message', async () => {
    const port = await closedPort();
    const error = await failureOf(make().send(request('/echo', { url: `http://127.0.0.1:${port}/token?secret=s1` })));
    expect(error.reason).toBe('network');
    expect(error.message).not.toContain('127.0.0.1');
    expect(error.message).not.toContain('secret');
    expect(error.cause).toMatchObject({ code: 'ECONNREFUSED' });
  });
});

describe('fetchHttpClient, beyond the contract suite', () => {
  test('asks fetch not to follow redirects and not to send credentials', async () => {
    let init: RequestInit | undefined;
    const fake: FetchFunction = (_input, given) => {
      init = given;
      return Promise.resolve(new Response('{}', { status: 200 }));
    };
    await fetchHttpClient(fake).send(request('/echo'));
    expect(init).toMatchObject({ method: 'GET', redirect: 'manual', credentials: 'omit' });
    expect(init?.signal).toBeInstanceOf(AbortSignal);
  });

  test("a browser's opaque redirect resolves with status 0", async () => {
    const opaque = { type: 'opaqueredirect', status: 0, headers: new Headers(), body: null } as unknown as Response;
    const answer = await fetchHttpClient(() => Promise.resolve(opaque)).send(request('/redirect'));
    expect(answer).toEqual({ status: 0, headers: {}, body: '' });
  });

  test('a fetch that ignores its signal still ends on time and on abort', async () => {
    const never: FetchFunction = () => new Promise<Response>(() => undefined);
    const http = fetchHttpClient(never);
    expect((await failureOf(http.send(request('/x', { timeoutMs: 50 })))).reason).toBe('timeout');
    const controller = new AbortController();
    const pending = http.send(request('/x', { signal: controller.signal }));
    controller.abort();
    expect((await failureOf(pending)).reason).toBe('aborted');
  });

  test('a fetch that throws synchronously or rejects with a non-error is a network failure', async () => {
    const throwing: FetchFunction = () => {
      throw new TypeError('bad');
    };
    expect((await failureOf(fetchHttpClient(throwing).send(request('/x')))).reason).toBe('network');
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a hostile fetch rejects with anything
    const rejecting: FetchFunction = () => Promise.reject('nope');
    const error = await failureOf(fetchHttpClient(rejecting).send(request('/x')));
    expect(error).toMatchObject({ reason: 'network', cause: 'nope' });
  });
  test('an answer typed opaqueredirect is status 0, whatever status it carries', async () => {
    const odd = { type: 'opaqueredirect', status: 302, headers: new Headers(), body: null } as unknown as Response;
    const answer = await fetchHttpClient(() => Promise.resolve(odd)).send(request('/redirect'));
    expect(answer.status).toBe(0);
  });

  test('a declared Content-Length over maxBodyBytes rejects before the body is read; at the limit it is read', async () => {
    let pulled = false;
    const body = (): ReadableStream<Uint8Array> =>
      new ReadableStream(
        {
          pull(controller) {
            pulled = true;
            controller.enqueue(new TextEncoder().encode('abcd'));
            controller.close();
          },
        },
        { highWaterMark: 0 },
      );
    const declaring =
      (length: number): FetchFunction =>
      () =>
        Promise.resolve(new Response(body(), { status: 200, headers: { 'content-length': String(length) } }));
    const error = await failureOf(fetchHttpClient(declaring(5)).send(request('/x', { maxBodyBytes: 4 })));
    expect(error.reason).toBe('too-large');
    expect(pulled).toBe(false);
    const answer = await fetchHttpClient(declaring(4)).send(request('/x', { maxBodyBytes: 4 }));
    expect(answer.body).toBe('abcd');
  });

  test('a character split across two chunks of the body is decoded whole', async () => {
    const bytes = new TextEncoder().encode('é!');
    const split: FetchFunction = () =>
      Promise.resolve(
        new Response(
          new ReadableStream({
            start(controller) {
              controller.enqueue(bytes.slice(0, 1));
              controller.enqueue(bytes.slice(1));
              controller.close();
            },
          }),
        ),
      );
    expect((await fetchHttpClient(split).send(request('/x'))).body).toBe('é!');
  });

  test('the cause kept is the transport error with a code, looked for at most four levels deep; a cycle ends', async () => {
    const chain = (depth: number): Error => {
      let error: Error = Object.assign(new Error('deepest'), { code: 'ECONNRESET' });
      for (let i = 0; i < depth; i++) error = new TypeError('fetch failed', { cause: error });
      return error;
    };
    const failing =
      (error: unknown): FetchFunction =>
      () =>
        Promise.reject(error);
    const within = await failureOf(fetchHttpClient(failing(chain(3))).send(request('/x')));
    expect(within.cause).toMatchObject({ code: 'ECONNRESET' });
    const beyond = chain(4);
    expect((await failureOf(fetchHttpClient(failing(beyond)).send(request('/x')))).cause).toBe(beyond);
    const cyclic = new TypeError('fetch failed');
    Object.assign(cyclic, { cause: cyclic });
    expect((await failureOf(fetchHttpClient(failing(cyclic)).send(request('/x')))).cause).toBe(cyclic);
  });

  test('a timeout carries no cause', async () => {
    const never: FetchFunction = () => new Promise<Response>(() => undefined);
    const error = await failureOf(fetchHttpClient(never).send(request('/x', { timeoutMs: 20 })));
    expect(error.reason).toBe('timeout');
    expect('cause' in error).toBe(false);
  });
});

describe('axiosHttpClient, beyond the contract suite', () => {
  test("the instance's own credentials, XSRF and timeout settings are overridden", async () => {
    const instance = axios.create({
      withCredentials: true,
      withXSRFToken: true,
      transitional: { clarifyTimeoutError: false },
    });
    let seen: InternalAxiosRequestConfig | undefined;
    instance.defaults.adapter = (config) => {
      seen = config;
      return Promise.resolve({ data: '', status: 200, statusText: 'OK', headers: {}, config });
    };
    await axiosHttpClient(instance).send(request('/x'));
    expect(seen).toMatchObject({
      withCredentials: false,
      withXSRFToken: false,
      transitional: { clarifyTimeoutError: true },
      maxRedirects: 0,
    });
  });

  test('an object from a mock adapter becomes JSON text; array headers are joined', async () => {
    const instance = axios.create();
    const mock = mockOf(instance);
    mock.onGet(/json/).reply(200, { token: 'a' }, { 'X-Multi': ['one', 'two'] as unknown as string });
    mock.onGet(/none/).reply(204);
    const http = axiosHttpClient(instance);
    const json = await http.send(request('/json'));
    expect(json).toMatchObject({ status: 200, body: '{"token":"a"}' });
    expect(json.headers['x-multi']).toBe('one, two');
    expect((await http.send(request('/none'))).body).toBe('');
  });

  test('axios codes map to reasons; anything thrown that is not axios is a network failure', async () => {
    const instance = axios.create();
    const mock = mockOf(instance);
    const thrown: unknown[] = [
      Object.assign(new Error('t'), { code: 'ETIMEDOUT' }),
      Object.assign(new Error('t'), { code: 'ECONNABORTED' }),
      new Error('maxContentLength size of 10 exceeded'),
      'boom',
    ];
    let next = 0;
    mock.onGet(/x/).reply(() => {
      throw thrown[next++];
    });
    const http = axiosHttpClient(instance);
    const reasons: string[] = [];
    for (let i = 0; i < thrown.length; i++) reasons.push((await failureOf(http.send(request('/x')))).reason);
    expect(reasons).toEqual(['timeout', 'timeout', 'too-large', 'network']);
  });
});
