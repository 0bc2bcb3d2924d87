import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import axios from 'axios';
import { attachTokenAuth, symbl } from '../../lib/index.js';
import { CREDS, SYMBL_TOKEN_URL, authOf, harness, issueSequentialTokens } from '../helpers/index.js';

const liveHandlers = (manager: { handlers?: unknown[] }) => (manager.handlers ?? []).filter(Boolean).length;

describe('attachTokenAuth: lifecycle', () => {
  test('eject removes both interceptors: requests go out untouched afterwards', async () => {
    const h = harness();
    issueSequentialTokens(h.tokenMock);
    h.apiMock.onGet('/x').reply((config) => [200, authOf(config) ?? null]);
    expect((await h.api.get('/x')).data).toBe('Bearer token-1');
    h.auth.eject();
    h.auth.eject();
    expect(liveHandlers(h.api.interceptors.request as never)).toBe(0);
    expect(liveHandlers(h.api.interceptors.response as never)).toBe(0);
    expect((await h.api.get('/x')).data).toBeNull();
  });

  test('attaching again to one instance replaces the previous attachment instead of doubling the work', async () => {
    const api = axios.create({ baseURL: 'https://api.symbl.ai' });
    const h = harness();
    issueSequentialTokens(h.tokenMock);
    const handles = Array.from({ length: 50 }, () =>
      attachTokenAuth(api, { providers: symbl(CREDS), tokenClient: h.tokenClient }),
    );
    // One synchronous request interceptor, which wraps the adapter; 401s are handled there, so no response interceptor.
    expect(liveHandlers(api.interceptors.request as never)).toBe(1);
    expect(liveHandlers(api.interceptors.response as never)).toBe(0);
    handles[0]!.eject(); // an old handle no longer owns anything
    expect(liveHandlers(api.interceptors.request as never)).toBe(1);
    handles.at(-1)!.eject();
    expect(liveHandlers(api.interceptors.request as never)).toBe(0);
    h.auth.eject();
  });

  test('works alongside the application’s own async request interceptors, before and after it', async () => {
    const h = harness();
    issueSequentialTokens(h.tokenMock);
    let appInterceptorRuns = 0;
    const api = h.api;
    for (let i = 0; i < 2; i++) {
      api.interceptors.request.use(async (config) => {
        // Asynchronous: the request goes on in a later turn of the event loop.
        await new Promise((resolve) => setImmediate(resolve));
        appInterceptorRuns++;
        return config;
      });
    }
    h.apiMock.onGet('/x').reply((config) => [200, authOf(config)]);
    const [a, b] = await Promise.all([api.get('/x'), api.get('/x')]);
    expect([a.data, b.data]).toEqual(['Bearer token-1', 'Bearer token-1']);
    expect((await api.get('/x')).data).toBe('Bearer token-1');
    expect(h.tokenCalls()).toBe(1);
    expect(appInterceptorRuns).toBe(6);
    h.auth.eject();
  });

  test('eject abandons a token request in flight: its waiters settle with ERR_TOKEN_ABORTED', async () => {
    const h = harness();
    let reached!: () => void;
    const inFlight = new Promise<void>((resolve) => (reached = resolve));
    h.tokenMock.onPost(SYMBL_TOKEN_URL).reply(() => {
      reached();
      return new Promise(() => undefined);
    });
    h.apiMock.onGet('/x').reply(200);
    const pending = h.api.get('/x');
    await inFlight;
    h.auth.eject();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_TOKEN_ABORTED' });
  });

  test('nothing keeps the process alive: a script that attaches, refreshes and ejects exits by itself', () => {
    const script = `
      import axios from 'axios';
      import { attachTokenAuth } from './lib/index.ts';
      import { startSimulation, simulatedProvider } from './lib/testing/index.ts';
      const sim = await startSimulation({ tokenLifetimeSeconds: 1 });
      const api = axios.create({ baseURL: sim.symbl.url, httpAgent: new (await import('node:http')).Agent({ keepAlive: false }) });
      const auth = attachTokenAuth(api, { providers: simulatedProvider(sim.symbl), tokenRequest: { timeoutMs: 60000 } });
      await api.get('/api/a');
      await new Promise((r) => setTimeout(r, 600));
      await api.get('/api/b'); // inside the refresh window: a background refresh starts
      sim.symbl.setTokenLatency(30000); // and the next one would hang for 30 s
      auth.eject();
      await sim.close();
      console.log('done');
    `;
    const started = Date.now();
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: process.cwd(),
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('done');
    expect(run.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});

describe('attachTokenAuth: options', () => {
  const api = axios.create();
  const provider = symbl(CREDS);
  test.each<[string, () => unknown, string | RegExp]>([
    [
      'no instance',
      () => attachTokenAuth({} as never, { providers: provider }),
      'expected an axios instance, got an object',
    ],
    ['no providers', () => attachTokenAuth(api, {} as never), /expected `providers` to be made by symbl\(\)/],
    ['an empty provider list', () => attachTokenAuth(api, { providers: [] }), 'got an empty array'],
    [
      'two providers with one name',
      () => attachTokenAuth(api, { providers: [provider, provider] }),
      'two providers are named "symbl"',
    ],
    [
      'a hand-made provider',
      () => attachTokenAuth(api, { providers: { name: 'x', origins: [], tokenUrl: 'https://x' } as never }),
      /made by symbl\(\)/,
    ],
    [
      'an unknown option',
      () => attachTokenAuth(api, { providers: provider, refreshWindow: 5 } as never),
      /unknown option `refreshWindow`/,
    ],
    [
      'a negative window',
      () => attachTokenAuth(api, { providers: provider, refreshWindowMs: -1 }),
      'expected `refreshWindowMs` to be a finite number >= 0, got -1',
    ],
    [
      'a fractional retry count',
      () => attachTokenAuth(api, { providers: provider, tokenRequest: { retries: 1.5 } }),
      'expected `tokenRequest.retries` to be an integer >= 0, got 1.5',
    ],
    [
      'an unknown tokenRequest option',
      () => attachTokenAuth(api, { providers: provider, tokenRequest: { retry: 1 } as never }),
      /unknown option `retry`/,
    ],
    [
      'a 200 among unauthorizedStatuses',
      () => attachTokenAuth(api, { providers: provider, unauthorizedStatuses: [200] }),
      /HTTP error statuses/,
    ],
    [
      'a store without methods',
      () => attachTokenAuth(api, { providers: provider, store: {} as never }),
      /expected `store` to have get, set and delete/,
    ],
    [
      'the instance as its own tokenClient',
      () => attachTokenAuth(api, { providers: provider, tokenClient: api }),
      /must not be the instance/,
    ],
    [
      'a non-function onEvent',
      () => attachTokenAuth(api, { providers: provider, onEvent: 'log' as never }),
      'expected `onEvent` to be a function, got a string',
    ],
  ])('%s is a clear TypeError', (_what, attach, message) => {
    expect(attach).toThrow(TypeError);
    expect(attach).toThrow(message);
  });

  test('auth.token and auth.invalidate refuse an unknown provider name', async () => {
    const h = harness();
    await expect(h.auth.token('nope')).rejects.toThrow('no provider named "nope" is attached (attached: symbl)');
    await expect(h.auth.invalidate('nope')).rejects.toThrow(TypeError);
    h.auth.eject();
  });

  test('auth.invalidate drops the token: the next request fetches a new one', async () => {
    const h = harness();
    issueSequentialTokens(h.tokenMock);
    h.apiMock.onGet('/x').reply((config) => [200, authOf(config)]);
    expect((await h.api.get('/x')).data).toBe('Bearer token-1');
    await h.auth.invalidate();
    expect((await h.api.get('/x')).data).toBe('Bearer token-2');
    expect(h.events.find((e) => e.type === 'token-invalidated')).toMatchObject({ reason: 'manual' });
    h.auth.eject();
  });

  test('a throwing onEvent listener never breaks a request', async () => {
    const h = harness({
      onEvent: () => {
        throw new Error('listener bug');
      },
    });
    issueSequentialTokens(h.tokenMock);
    h.apiMock.onGet('/x').reply(200, 'ok');
    await expect(h.api.get('/x')).resolves.toMatchObject({ data: 'ok' });
    h.auth.eject();
  });
});
