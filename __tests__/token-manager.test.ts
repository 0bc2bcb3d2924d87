import { describe, expect, jest, test } from '@jest/globals';
import {
  DEFAULTS,
  MemoryTokenStore,
  TokenRequestError,
  type StoredToken,
  type TokenAuthEvent,
  type TokenStore,
} from '../lib/index.js';
import { createTokenManager, type TokenManagerOptions } from '../lib/token-manager.js';
import { deferred, flush, until } from './helpers/index.js';

const HOUR = 3_600_000;

function token(accessToken: string, obtainedAt: number, lifetimeMs: number | null = HOUR): StoredToken {
  return {
    accessToken,
    tokenType: 'Bearer',
    obtainedAt,
    expiresAt: lifetimeMs === null ? null : obtainedAt + lifetimeMs,
  };
}

function credentialsError(): TokenRequestError {
  return new TokenRequestError('refused', {
    code: 'ERR_TOKEN_CREDENTIALS',
    provider: 'p',
    url: 'https://x/token',
    status: 401,
    attempts: 1,
  });
}

/** A manager on a clock the test moves, fetching from a function the test controls. */
function setup(
  overrides: Partial<TokenManagerOptions> = {},
  fetch?: () => Promise<StoredToken>,
  clock = { now: 1_000_000 },
) {
  const events: TokenAuthEvent[] = [];
  let issued = 0;
  const fetchToken = jest.fn(fetch ?? (async () => token(`t${++issued}`, clock.now)));
  const store = overrides.store ?? new MemoryTokenStore({ now: () => clock.now });
  const manager = createTokenManager({
    source: { name: 'p', key: Promise.resolve('key'), fetch: async () => ({ token: await fetchToken(), attempts: 1 }) },
    store,
    now: () => clock.now,
    random: () => 0,
    refreshWindowMs: DEFAULTS.refreshWindowMs,
    expiryMarginMs: DEFAULTS.expiryMarginMs,
    backgroundRetryMs: DEFAULTS.backgroundRetryMs,
    cooldownMs: DEFAULTS.tokenRequest.cooldownMs,
    storeTimeoutMs: 50,
    lockTtlMs: 1_000,
    emit: (event) => events.push(event),
    ...overrides,
  });
  return { clock, events, fetchToken, store, manager };
}

describe('token manager', () => {
  test('concurrent callers share one fetch and get the same token', async () => {
    const pending = deferred<StoredToken>();
    const { manager, fetchToken, clock } = setup({}, () => pending.promise);
    const waiting = Promise.all([manager.get(), manager.get(), manager.get()]);
    await flush();
    pending.resolve(token('shared', clock.now));
    const tokens = await waiting;
    expect(tokens.map((t) => t.token.accessToken)).toEqual(['shared', 'shared', 'shared']);
    expect(fetchToken).toHaveBeenCalledTimes(1);
  });

  test('a failure reaches every waiter and is not cached', async () => {
    const { manager, fetchToken, clock } = setup({ cooldownMs: 0 });
    fetchToken.mockRejectedValueOnce(new Error('down'));
    const outcomes = await Promise.allSettled([manager.get(), manager.get()]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    fetchToken.mockResolvedValueOnce(token('after', clock.now));
    await expect(manager.get()).resolves.toMatchObject({ token: { accessToken: 'after' } });
    expect(fetchToken).toHaveBeenCalledTimes(2);
  });

  test('peek never waits: nothing before the first token, the token after', async () => {
    const { manager } = setup();
    expect(manager.peek()).toBeUndefined();
    await manager.get();
    expect(manager.peek()?.token.accessToken).toBe('t1');
  });

  test('inside the refresh window peek returns the current token and starts one background refresh', async () => {
    const { manager, fetchToken, clock } = setup();
    await manager.get();
    clock.now += HOUR - 30_000;
    expect(manager.peek()?.token.accessToken).toBe('t1');
    expect(manager.peek()?.token.accessToken).toBe('t1');
    await until(() => manager.peek()?.token.accessToken === 't2');
    expect(fetchToken).toHaveBeenCalledTimes(2);
  });

  test('a failed background refresh keeps the valid token and waits backgroundRetryMs before trying again', async () => {
    const { manager, fetchToken, clock, events } = setup();
    await manager.get();
    clock.now += HOUR - 30_000;
    fetchToken.mockRejectedValueOnce(new Error('endpoint down'));
    expect(manager.peek()?.token.accessToken).toBe('t1');
    await flush();
    expect(events.filter((e) => e.type === 'token-failed')).toMatchObject([
      { background: true, reason: 'refresh-window' },
    ]);
    clock.now += DEFAULTS.backgroundRetryMs - 1;
    expect(manager.peek()?.token.accessToken).toBe('t1');
    await flush();
    expect(fetchToken).toHaveBeenCalledTimes(2);
    clock.now += 1;
    manager.peek();
    await until(() => manager.peek()?.token.accessToken === 't2');
    expect(fetchToken).toHaveBeenCalledTimes(3);
  });

  test('an expired token is never handed out: get waits for a new one', async () => {
    const { manager, clock } = setup();
    await manager.get();
    clock.now += HOUR;
    expect(manager.peek()).toBeUndefined();
    await expect(manager.get()).resolves.toMatchObject({ token: { accessToken: 't2' } });
  });

  test('a 401 for an older token replays with the current one and fetches nothing', async () => {
    const { manager, fetchToken } = setup();
    const first = await manager.get();
    const second = await manager.rejected(first.generation);
    expect(second).toMatchObject({ current: { token: { accessToken: 't2' } }, stale: false });
    await expect(manager.rejected(first.generation)).resolves.toEqual({ current: second.current, stale: true });
    expect(fetchToken).toHaveBeenCalledTimes(2);
  });

  test('a 401 for the current token removes exactly that token from the store, then fetches', async () => {
    const { manager, store, events } = setup();
    const first = await manager.get();
    await expect(store.get('key')).resolves.toMatchObject({ accessToken: 't1' });
    const { current: next } = await manager.rejected(first.generation);
    expect(next.token.accessToken).toBe('t2');
    await expect(store.get('key')).resolves.toMatchObject({ accessToken: 't2' });
    expect(events.map((e) => e.type)).toEqual(['token-fetched', 'token-invalidated', 'token-fetched']);
  });

  test('a 401 never evicts a newer token another handle already put in the store', async () => {
    const { manager, store, fetchToken, clock } = setup();
    const first = await manager.get();
    await store.set('key', token('from-elsewhere', clock.now + 1));
    const { current: next } = await manager.rejected(first.generation);
    expect(next.token.accessToken).toBe('from-elsewhere');
    expect(fetchToken).toHaveBeenCalledTimes(1);
  });

  test('takes up a token another handle wrote to the shared store instead of fetching', async () => {
    const clock = { now: 1_000_000 };
    const store = new MemoryTokenStore({ now: () => clock.now });
    const a = setup({ store }, undefined, clock);
    const b = setup({ store }, undefined, clock);
    await a.manager.get();
    await expect(b.manager.get()).resolves.toMatchObject({ token: { accessToken: 't1' } });
    expect(b.fetchToken).not.toHaveBeenCalled();
    expect(b.events[0]).toMatchObject({ type: 'token-adopted', reason: 'missing' });
  });

  test('two managers sharing a store make one fetch: the lock holder fetches, the other re-reads', async () => {
    const clock = { now: 1_000_000 };
    const store = new MemoryTokenStore({ now: () => clock.now });
    const pending = deferred<StoredToken>();
    const a = setup({ store }, () => pending.promise, clock);
    const b = setup({ store }, undefined, clock);
    const both = Promise.all([a.manager.get(), b.manager.get()]);
    await flush();
    pending.resolve(token('from-a', a.clock.now));
    const [ta, tb] = await both;
    expect([ta.token.accessToken, tb.token.accessToken]).toEqual(['from-a', 'from-a']);
    expect(a.fetchToken).toHaveBeenCalledTimes(1);
    expect(b.fetchToken).not.toHaveBeenCalled();
  });

  test('invalidate drops the token here and in the store', async () => {
    const { manager, store, fetchToken } = setup();
    await manager.get();
    await manager.invalidate();
    await expect(store.get('key')).resolves.toBeUndefined();
    await expect(manager.get()).resolves.toMatchObject({ token: { accessToken: 't2' } });
    expect(fetchToken).toHaveBeenCalledTimes(2);
  });

  test('a store that throws is passed over: tokens still flow and the failure is reported', async () => {
    const broken: TokenStore = {
      get: () => Promise.reject(new Error('ECONNREFUSED')),
      set: () => Promise.reject(new Error('ECONNREFUSED')),
      delete: () => Promise.reject(new Error('ECONNREFUSED')),
      lock: () => Promise.reject(new Error('ECONNREFUSED')),
    };
    const { manager, events } = setup({ store: broken });
    await expect(manager.get()).resolves.toMatchObject({ token: { accessToken: 't1' } });
    expect(events.filter((e) => e.type === 'store-failed').map((e) => (e as { operation: string }).operation)).toEqual([
      'get',
      'lock',
      'set',
    ]);
  });

  test('a store’s raw error never reaches the event: no command arguments, no token in its message', async () => {
    const leaky: TokenStore = {
      get: () => Promise.resolve(undefined),
      set: (_key, stored) =>
        Promise.reject(
          Object.assign(new Error(`EXECABORT writing ${stored.accessToken}`), {
            name: 'ReplyError',
            code: 'EXECABORT',
            command: { name: 'set', args: ['key', JSON.stringify(stored)] },
          }),
        ),
      delete: () => Promise.resolve(false),
    };
    const { manager, events } = setup({ store: leaky }, async () => token('distinctive-token-Zq81', 1_000_000));
    await manager.get();
    const failed = events.find((e) => e.type === 'store-failed');
    expect(failed).toMatchObject({
      operation: 'set',
      error: { name: 'ReplyError', code: 'EXECABORT', message: 'EXECABORT writing [REDACTED]' },
    });
    const { inspect } = await import('node:util');
    expect(`${JSON.stringify(failed)} ${inspect(failed, { depth: 5, showHidden: true })}`).not.toContain(
      'distinctive-token-Zq81',
    );
  });

  test('a store that hangs costs at most storeTimeoutMs per call', async () => {
    const never = new Promise<never>(() => undefined);
    const hung: TokenStore = { get: () => never, set: () => never, delete: () => never };
    const { manager, events } = setup({ store: hung, storeTimeoutMs: 30 });
    const started = Date.now();
    await expect(manager.get()).resolves.toMatchObject({ token: { accessToken: 't1' } });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(events.filter((e) => e.type === 'store-failed')).toHaveLength(2);
  });

  test('one credentials error is not remembered; from the second in a row it fails fast, growing up to cooldownMs', async () => {
    const { manager, fetchToken, clock } = setup({ cooldownMs: 5_000 });
    fetchToken.mockRejectedValue(credentialsError());
    await expect(manager.get()).rejects.toMatchObject({ code: 'ERR_TOKEN_CREDENTIALS', attempts: 1 });
    // random() is 0 here: each cool-down is half of its step (1/8, 1/4, 1/2, 1 of cooldownMs).
    for (const expected of [312.5, 625, 1_250, 2_500, 2_500]) {
      await expect(manager.get()).rejects.toMatchObject({ attempts: 1 });
      await expect(manager.get()).rejects.toMatchObject({ code: 'ERR_TOKEN_CREDENTIALS', attempts: 0 });
      clock.now += expected - 1;
      await expect(manager.get()).rejects.toMatchObject({ attempts: 0 });
      clock.now += 1;
    }
    expect(fetchToken).toHaveBeenCalledTimes(6);
    fetchToken.mockReset();
    fetchToken.mockResolvedValue(token('t1', clock.now));
    await expect(manager.get()).resolves.toMatchObject({ token: { accessToken: 't1' } });
  });

  test('an endpoint that hands back the same token is not asked again straight away', async () => {
    const { manager, fetchToken, clock } = setup({}, async () => token('same', 1_000_000));
    await manager.get();
    clock.now += HOUR - 30_000;
    manager.peek();
    await flush();
    manager.peek();
    await flush();
    expect(fetchToken).toHaveBeenCalledTimes(2);
  });

  test('a token without expiry is used until it is rejected', async () => {
    let issued = 0;
    const { manager, fetchToken, clock } = setup({}, async () => token(`forever-${++issued}`, clock.now, null));
    const first = await manager.get();
    clock.now += 365 * 24 * HOUR;
    expect(manager.peek()).toBe(first);
    await manager.rejected(first.generation);
    expect(fetchToken).toHaveBeenCalledTimes(2);
  });

  test('dispose abandons the flight in progress', async () => {
    let seen: AbortSignal | undefined;
    const store = new MemoryTokenStore();
    const manager = createTokenManager({
      source: {
        name: 'p',
        key: Promise.resolve('key'),
        fetch: (signal) => {
          seen = signal;
          return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
        },
      },
      store,
      now: Date.now,
      random: Math.random,
      refreshWindowMs: 1,
      expiryMarginMs: 1,
      backgroundRetryMs: 1,
      cooldownMs: 0,
      storeTimeoutMs: 50,
      lockTtlMs: 1_000,
      emit: () => undefined,
    });
    const pending = manager.get();
    await flush();
    manager.dispose();
    await expect(pending).rejects.toThrow('aborted');
    expect(seen?.aborted).toBe(true);
  });
});
