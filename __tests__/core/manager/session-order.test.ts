import { afterEach, describe, expect, jest, test } from '@jest/globals';
import axios from 'axios';
import {
  attachTokenAuth,
  isTokenRequestError,
  MemoryTokenStore,
  refreshTokenGrant,
  TokenflightError,
  type TokenAuth,
  type TokenAuthEvent,
  type StoredToken,
  type TokenStore,
} from '../../../lib/index.js';
import { BrowserTokenStore } from '../../../lib/browser.js';
import { createLockManager, createOrigin } from '../../browser/helpers/fakes.js';
import { deferred, type Deferred } from '../../helpers/index.js';
import { issued, startRefreshServer, type RefreshAnswer, type RefreshServer } from '../../helpers/refresh-server.js';

// A session is an owned thing: resumeSession() during a rotation of the old session, callbacks
// that never settle, eject() while callers wait, and a rotated refresh token in an unusable answer.
// Against a scripted token endpoint on 127.0.0.1 that records what was presented.
jest.setTimeout(30_000);

let server: RefreshServer | undefined;
const handles: TokenAuth[] = [];
afterEach(async () => {
  for (const handle of handles.splice(0)) handle.eject();
  await server?.close();
  server = undefined;
});

async function setUp(
  answers: Record<string, RefreshAnswer>,
  options: { onRefreshToken?: (token: string) => unknown; timeoutMs?: number; store?: TokenStore } = {},
) {
  server = await startRefreshServer(answers);
  const events: TokenAuthEvent[] = [];
  const received: string[] = [];
  const api = axios.create({ baseURL: server.url });
  const auth = attachTokenAuth(api, {
    providers: refreshTokenGrant({
      tokenUrl: server.tokenUrl,
      clientId: 'app',
      refreshToken: 'rt-old-1',
      onRefreshToken: (token) => {
        received.push(token);
        return options.onRefreshToken?.(token);
      },
    }),
    ...(options.store === undefined ? {} : { store: options.store }),
    tokenRequest: { retries: 0, ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }) },
    onEvent: (event) => events.push(event),
  });
  handles.push(auth);
  return { api, auth, events, received, server };
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const codeOf = async (promise: Promise<unknown>): Promise<string | undefined> =>
  promise.then(
    () => undefined,
    (error: unknown) => (isTokenRequestError(error) ? error.code : String(error)),
  );

const SESSIONS = {
  'rt-old-1': issued('at-old-1', 'rt-old-2', 800),
  'rt-old-2': issued('at-old-2', 'rt-old-3'),
  'rt-new-1': issued('at-new-1', 'rt-new-2'),
  'rt-new-2': issued('at-new-2', 'rt-new-3'),
};

describe('resumeSession() while a rotation of the old session is in flight', () => {
  test('every request after it carries the new session token, and the old rotation never overwrites it', async () => {
    const { api, auth, received, server } = await setUp(SESSIONS);
    const early = api.get('/api/early');
    await until(() => server.presented.includes('rt-old-1'));
    await auth.resumeSession('rt-new-1');
    await api.get('/api/after');
    await early;
    expect(server.apiAuthorizations).toEqual(['Bearer at-new-1', 'Bearer at-new-1']);
    // The next rotation presents the new session's rotated token, never the old one's.
    await auth.invalidate();
    await api.get('/api/later');
    expect(server.apiAuthorizations.at(-1)).toBe('Bearer at-new-2');
    expect(server.presented).toEqual(['rt-old-1', 'rt-new-1', 'rt-new-2']);
    // The old session's rotated token is handed to nobody: it would replace the new one in a database.
    expect(received).toEqual(['rt-new-2', 'rt-new-3']);
  });

  test('auth.token() called before the resume resolves to the new session token', async () => {
    const { auth, server } = await setUp(SESSIONS);
    const early = auth.token();
    await until(() => server.presented.includes('rt-old-1'));
    await auth.resumeSession('rt-new-1');
    expect((await early).accessToken).toBe('at-new-1');
    expect((await auth.token()).accessToken).toBe('at-new-1');
  });

  test('a resume while no flight runs replaces the session at once', async () => {
    const { auth, server } = await setUp(SESSIONS);
    await auth.token();
    await auth.resumeSession('rt-new-1');
    expect((await auth.token()).accessToken).toBe('at-new-1');
    expect(server.presented).toEqual(['rt-old-1', 'rt-new-1']);
  });
});

describe('resumeSession() in one tab while another tab rotates the old session (BrowserTokenStore)', () => {
  test('the resume waits for the rotation, and every tab then gets the new session', async () => {
    server = await startRefreshServer(SESSIONS);
    const target = server;
    const origin = createOrigin();
    const locks = createLockManager();
    const tab = () => {
      const { storage, window } = origin.openTab();
      const store = new BrowserTokenStore({ storage, locks: locks.page(), storageEvents: window as never });
      const api = axios.create({ baseURL: target.url });
      const auth = attachTokenAuth(api, {
        providers: refreshTokenGrant({ tokenUrl: target.tokenUrl, clientId: 'app', refreshToken: 'rt-old-1' }),
        store,
        tokenRequest: { retries: 0 },
      });
      handles.push(auth);
      return { api, auth };
    };
    const [rotating, resuming] = [tab(), tab()];
    const early = rotating.api.get('/api/early');
    await until(() => target.presented.includes('rt-old-1'));
    const resumed = resuming.auth.resumeSession('rt-new-1');
    // The rotating tab's own request was sent before the resume: it goes out with that session's token.
    await early;
    await resumed;
    await resuming.api.get('/api/after');
    expect(target.apiAuthorizations).toEqual(['Bearer at-old-1', 'Bearer at-new-1']);
    await rotating.auth.invalidate();
    await rotating.api.get('/api/later');
    expect(target.apiAuthorizations.at(-1)).toMatch(/^Bearer at-new-/);
    expect(target.presented).not.toContain('rt-old-2');
    expect(target.presented.slice(0, 2)).toEqual(['rt-old-1', 'rt-new-1']);
  });
});

describe('resumeSession() raced against itself and against eject()', () => {
  test('two resumes in a row: the later one wins, and the earlier refresh token is never presented', async () => {
    const { auth, server } = await setUp({ ...SESSIONS, 'rt-b-1': issued('at-b-1', 'rt-b-2') });
    const early = auth.token();
    await until(() => server.presented.includes('rt-old-1'));
    await Promise.all([auth.resumeSession('rt-new-1'), auth.resumeSession('rt-b-1')]);
    expect((await early).accessToken).toBe('at-b-1');
    expect((await auth.token()).accessToken).toBe('at-b-1');
    expect(server.presented).toEqual(['rt-old-1', 'rt-b-1']);
  });

  test('eject() while a resume waits for the lock held by a rotation: the resume rejects at once with ERR_TOKEN_ABORTED', async () => {
    const { auth, server } = await setUp(SESSIONS);
    const early = auth.token();
    await until(() => server.presented.includes('rt-old-1'));
    const resuming = auth.resumeSession('rt-new-1');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const startedAt = Date.now();
    auth.eject();
    expect(await Promise.all([codeOf(resuming), codeOf(early)])).toEqual(['ERR_TOKEN_ABORTED', 'ERR_TOKEN_ABORTED']);
    expect(Date.now() - startedAt).toBeLessThan(500);
    expect(server.presented).toEqual(['rt-old-1']);
  });
});

describe('a change another tab made, read across a resume', () => {
  test('is not taken up once the resume has started the new session', async () => {
    const memory = new MemoryTokenStore();
    let notify: (key: string) => void = () => undefined;
    let held: { key: string; answer: Deferred<StoredToken | undefined> } | undefined;
    let accessKey = '';
    // Another tab's write arrives (subscribe) and its read is slow: it resolves after the resume.
    const store: TokenStore = {
      get: (key) => {
        const slow = held?.key === key ? held : undefined;
        if (slow === undefined) return memory.get(key);
        held = undefined;
        return slow.answer.promise;
      },
      set: (key, token) => {
        if (!key.endsWith(':refresh')) accessKey = key;
        return memory.set(key, token);
      },
      delete: (key, token) => memory.delete(key, token),
      lock: (key, options) => memory.lock(key, options),
      subscribe: (listener) => {
        notify = listener;
        return () => undefined;
      },
    };
    const { auth, server } = await setUp(
      { 'rt-old-1': issued('at-old-1', 'rt-old-2'), 'rt-new-1': issued('at-new-1', 'rt-new-2') },
      { store },
    );
    await auth.token();
    held = { key: accessKey, answer: deferred() };
    const stale = held;
    notify(accessKey);
    await until(() => held === undefined);
    await auth.resumeSession('rt-new-1');
    const now = Date.now();
    stale.answer.resolve({ accessToken: 'at-old-9', tokenType: 'Bearer', expiresAt: now + 60_000, obtainedAt: now });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await auth.token()).accessToken).toBe('at-new-1');
    expect(server.presented).toEqual(['rt-old-1', 'rt-new-1']);
  });
});

describe('callbacks that never settle', () => {
  test('an onRefreshToken that never settles holds the provider no longer than the token request time limit', async () => {
    const { auth, events, server } = await setUp(
      { 'rt-old-1': issued('at-1', 'rt-old-2'), 'rt-old-2': issued('at-2', 'rt-old-3') },
      { onRefreshToken: () => new Promise(() => undefined), timeoutMs: 300 },
    );
    const startedAt = Date.now();
    expect((await auth.token()).accessToken).toBe('at-1');
    expect(Date.now() - startedAt).toBeLessThan(3_000);
    const rotated = events.find((event) => event.type === 'refresh-token-rotated');
    expect(rotated).toMatchObject({ stored: true });
    expect(rotated?.type === 'refresh-token-rotated' && rotated.callbackError?.message).toMatch(/did not settle/);
    // The rotated token was stored before the callback: the next refresh presents it.
    await auth.invalidate();
    expect((await auth.token()).accessToken).toBe('at-2');
    expect(server.presented).toEqual(['rt-old-1', 'rt-old-2']);
  });

  test('eject() releases callers waiting on a flight held by a callback', async () => {
    const { auth } = await setUp(
      { 'rt-old-1': issued('at-1', 'rt-old-2') },
      { onRefreshToken: () => new Promise(() => undefined), timeoutMs: 20_000 },
    );
    const waiting = [auth.token(), auth.token()];
    await new Promise((resolve) => setTimeout(resolve, 300));
    const startedAt = Date.now();
    auth.eject();
    expect(await Promise.all(waiting.map(codeOf))).toEqual(['ERR_TOKEN_ABORTED', 'ERR_TOKEN_ABORTED']);
    expect(Date.now() - startedAt).toBeLessThan(1_000);
  });
});

describe('event listeners and loggers that reject or never settle', () => {
  test('hold no request and leave no unhandled rejection', async () => {
    server = await startRefreshServer({ 'rt-old-1': issued('at-1', 'rt-old-2') });
    // What an async listener, or a JavaScript caller, hands over: the types say `void`.
    const rejecting = (() => Promise.reject(new Error('listener failed'))) as () => void;
    const pending = (() => new Promise(() => undefined)) as () => void;
    const auth = attachTokenAuth(axios.create({ baseURL: server.url }), {
      providers: refreshTokenGrant({ tokenUrl: server.tokenUrl, clientId: 'app', refreshToken: 'rt-old-1' }),
      onEvent: rejecting,
      logger: { info: rejecting, warn: pending, debug: rejecting, error: rejecting },
    });
    handles.push(auth);
    expect((await auth.token()).accessToken).toBe('at-1');
    // The logger's messages load on demand: give its queued lines time to be written.
    await new Promise((resolve) => setTimeout(resolve, 200));
  });
});

describe('after eject()', () => {
  test('auth.token() rejects with ERR_TOKEN_ABORTED once a session was under way', async () => {
    const { auth } = await setUp({ 'rt-old-1': issued('at-1', 'rt-old-2') });
    await auth.token();
    auth.eject();
    expect(await codeOf(auth.token())).toBe('ERR_TOKEN_ABORTED');
  });

  test('auth.resumeSession() rejects with ERR_TOKEN_ABORTED and presents nothing', async () => {
    const { auth, server } = await setUp(SESSIONS);
    auth.eject();
    expect(await codeOf(auth.resumeSession('rt-new-1'))).toBe('ERR_TOKEN_ABORTED');
    expect(server.presented).toEqual([]);
  });
});

describe('a rotated refresh token in an unusable answer', () => {
  test('is stored and handed to onRefreshToken, and the next refresh presents it', async () => {
    const { auth, received, server } = await setUp({
      'rt-old-1': { body: { refresh_token: 'rt-old-2', token_type: 'Bearer' } },
      'rt-old-2': issued('at-2', 'rt-old-3'),
    });
    expect(await codeOf(auth.token())).toBe('ERR_TOKEN_MALFORMED');
    expect(received).toEqual(['rt-old-2']);
    expect((await auth.token()).accessToken).toBe('at-2');
    expect(server.presented).toEqual(['rt-old-1', 'rt-old-2']);
  });
});

describe("what others write into the session's entries", () => {
  /** A memory store that remembers its keys, as another script on the same store would find them. */
  function visibleStore(): { store: TokenStore; keys: Set<string>; memory: MemoryTokenStore } {
    const memory = new MemoryTokenStore();
    const keys = new Set<string>();
    const store: TokenStore = {
      get: (key) => memory.get(key),
      set: (key, token) => {
        keys.add(key);
        return memory.set(key, token);
      },
      delete: (key, token) => memory.delete(key, token),
      lock: (key, options) => memory.lock(key, options),
    };
    return { store, keys, memory };
  }

  test('junk written to the refresh-token entry is reported when it is read, and is never presented', async () => {
    const { store, keys, memory } = visibleStore();
    const first = await setUp({ 'rt-old-1': issued('at-1', 'rt-old-2') }, { store });
    await first.auth.token();
    const refreshKey = [...keys].find((key) => key.endsWith(':refresh')) ?? '';
    await memory.set(refreshKey, {
      accessToken: 'junk',
      tokenType: 'Bogus',
      expiresAt: null,
      obtainedAt: Date.now() + 5,
    });
    // Another handle takes up the access token: it reads the session's entry then, and reports it.
    const events: TokenAuthEvent[] = [];
    const second = attachTokenAuth(axios.create({ baseURL: first.server.url }), {
      providers: refreshTokenGrant({ tokenUrl: first.server.tokenUrl, clientId: 'app', refreshToken: 'rt-old-1' }),
      store,
      onEvent: (event) => events.push(event),
    });
    handles.push(second);
    expect((await second.token()).accessToken).toBe('at-1');
    await until(() => events.some((event) => event.type === 'store-failed'));
    expect(events.find((event) => event.type === 'store-failed')).toMatchObject({
      operation: 'get',
      error: { code: 'ERR_STORE_ENTRY_INVALID' },
    });
    await first.auth.invalidate();
    const failure = await first.auth.token().catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'ERR_TOKEN_SESSION_ENDED' });
    expect((failure as Error).message).toMatch(/not one tokenflight wrote/);
    expect(first.server.presented).toEqual(['rt-old-1']);
  });

  test('a tab found duplicated reaches the caller with the duplicated-tab error as its cause', async () => {
    const memory = new MemoryTokenStore();
    const duplicated = new TokenflightError('this tab was copied from another that is still open', {
      code: 'ERR_STORE_TAB_DUPLICATED',
    });
    // What BrowserTokenStore does in a duplicated sessionStorage tab: it refuses the entries it copied.
    const store: TokenStore = {
      get: (key) => (key.endsWith(':refresh') ? Promise.reject(duplicated) : memory.get(key)),
      set: (key, token) => memory.set(key, token),
      delete: (key, token) => memory.delete(key, token),
      lock: (key, options) => memory.lock(key, options),
    };
    const { auth, server } = await setUp(SESSIONS, { store });
    const failure = await auth.token().catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'ERR_TOKEN_STORE_UNAVAILABLE', cause: { code: 'ERR_STORE_TAB_DUPLICATED' } });
    expect((failure as Error).message).toMatch(/copied from another/);
    expect(server.presented).toEqual([]);
  });
});
