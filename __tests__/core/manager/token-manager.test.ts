import { describe, expect, jest, test } from '@jest/globals';
import {
  DEFAULTS,
  MemoryTokenStore,
  TokenRequestError,
  type StoredToken,
  type TokenAuthEvent,
  type TokenStore,
} from '../../../lib/index.js';
import { cooldownDelayMs } from '../../../lib/core/manager/cooldown.js';
import { createTokenManager, type TokenManagerOptions } from '../../../lib/core/manager/token-manager.js';
import { deferred, flush, settled, until, useFakeClock } from '../../helpers/index.js';

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
    useFakeClock(0);
    try {
      const never = new Promise<never>(() => undefined);
      const hung: TokenStore = { get: () => never, set: () => never, delete: () => never };
      const { manager, events } = setup({ store: hung, storeTimeoutMs: 30 });
      const started = Date.now();
      // Fake time, in 1 ms steps: the store's deadlines, not the suite, decide how long it waits.
      await expect(settled(manager.get())).resolves.toMatchObject({ token: { accessToken: 't1' } });
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(events.filter((e) => e.type === 'store-failed')).toHaveLength(2);
    } finally {
      jest.useRealTimers();
    }
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
    await expect(pending).rejects.toMatchObject({ code: 'ERR_TOKEN_ABORTED' });
    expect(seen?.aborted).toBe(true);
  });
});

// Boundaries and branches that mutation testing showed untested. With random() = 0 and
// the defaults, a one-hour token obtained at t0 refreshes from t0 + HOUR - 60 s and counts as
// expired from t0 + HOUR - 5 s.
describe('token manager: the exact boundaries', () => {
  const T0 = 1_000_000;
  const REFRESH_AT = T0 + HOUR - DEFAULTS.refreshWindowMs;
  const EXPIRED_AT = T0 + HOUR - DEFAULTS.expiryMarginMs;

  test('the refresh window starts exactly at refreshAt: one millisecond before, no background refresh', async () => {
    const clock = { now: 1_000_000 };
    const store = new MemoryTokenStore({ now: () => clock.now });
    const reads = jest.spyOn(store, 'get');
    const { manager, fetchToken } = setup({ store }, undefined, clock);
    const first = await manager.get();
    expect([first.refreshAt, first.expiredAt]).toEqual([REFRESH_AT, EXPIRED_AT]);
    const readsBefore = reads.mock.calls.length;
    clock.now = REFRESH_AT - 1;
    expect(manager.peek()).toBe(first);
    await flush();
    // No flight at all: not even the store is asked (a flight reads it before any token request).
    expect([fetchToken.mock.calls.length, reads.mock.calls.length]).toEqual([1, readsBefore]);
    clock.now = REFRESH_AT;
    expect(manager.peek()).toBe(first);
    await until(() => fetchToken.mock.calls.length === 2);
  });

  test('a token is expired exactly at expiredAt: one millisecond before, it is still handed out', async () => {
    const clock = { now: T0 };
    const pending = deferred<StoredToken>();
    let calls = 0;
    // The background refresh started inside the window stays unanswered.
    const { manager } = setup({}, () => (calls++ === 0 ? Promise.resolve(token('t1', T0)) : pending.promise), clock);
    const first = await manager.get();
    clock.now = EXPIRED_AT - 1;
    expect(manager.peek()?.token.accessToken).toBe(first.token.accessToken);
    clock.now = EXPIRED_AT;
    expect(manager.peek()).toBeUndefined();
  });

  test('a 401 for an older token is stale only while the current token is usable', async () => {
    const { manager, fetchToken, clock } = setup();
    const first = await manager.get();
    await manager.rejected(first.generation);
    const second = await manager.get();
    clock.now = second.expiredAt - 1;
    await expect(manager.rejected(first.generation)).resolves.toMatchObject({ stale: true, current: second });
    expect(fetchToken).toHaveBeenCalledTimes(2);
    clock.now = second.expiredAt;
    await expect(manager.rejected(first.generation)).resolves.toMatchObject({ stale: false });
    expect(fetchToken).toHaveBeenCalledTimes(3);
  });

  test('a 401 for an older generation deletes nothing from the store', async () => {
    const { manager, store } = setup();
    const first = await manager.get();
    await manager.rejected(first.generation);
    const second = await manager.get();
    const deletes = jest.spyOn(store, 'delete');
    await expect(manager.rejected(first.generation)).resolves.toMatchObject({ stale: true });
    expect(deletes).not.toHaveBeenCalled();
    await expect(store.get('key')).resolves.toMatchObject({ accessToken: second.token.accessToken });
    await manager.rejected(second.generation);
    expect(deletes).toHaveBeenCalledWith('key', second.token.accessToken);
  });

  test('a token in the store is taken up until its own expiredAt, and not at it', async () => {
    const clock = { now: T0 };
    const shared = new MemoryTokenStore({ now: () => clock.now });
    await shared.set('key', token('from-store', T0));
    const early = setup({ store: shared }, undefined, clock);
    clock.now = EXPIRED_AT - 1;
    await expect(early.manager.get()).resolves.toMatchObject({ token: { accessToken: 'from-store' } });
    expect(early.fetchToken).not.toHaveBeenCalled();
    const late = setup({ store: shared }, undefined, clock);
    clock.now = EXPIRED_AT;
    await expect(late.manager.get()).resolves.toMatchObject({ token: { accessToken: 't1' } });
  });

  test('while refreshing ahead, a stored token helps only if it is another one and not itself inside its window', async () => {
    const clock = { now: T0 };
    const shared = new MemoryTokenStore({ now: () => clock.now });
    const { manager, fetchToken } = setup({ store: shared }, undefined, clock);
    await manager.get();
    // Another handle stores a token obtained 30 min later: its window starts at T0 + 30 min + HOUR - 60 s.
    await shared.set('key', token('other', T0 + HOUR / 2));
    clock.now = REFRESH_AT;
    manager.peek();
    await until(() => manager.peek()?.token.accessToken === 'other');
    expect(fetchToken).toHaveBeenCalledTimes(1);
  });

  test('while refreshing ahead, the token we hold in the store is not taken for a new one', async () => {
    const { manager, fetchToken, clock } = setup();
    await manager.get();
    clock.now = REFRESH_AT;
    manager.peek();
    await until(() => manager.peek()?.token.accessToken === 't2');
    expect(fetchToken).toHaveBeenCalledTimes(2);
  });
});

/** Inside the refresh window, no background refresh starts until backgroundRetryMs has passed; then one does. */
async function expectBackgroundHeldOff(
  manager: ReturnType<typeof createTokenManager>,
  fetchToken: { mock: { calls: unknown[] } },
  clock: { now: number },
  calls: number,
): Promise<void> {
  clock.now += DEFAULTS.backgroundRetryMs - 1;
  manager.peek();
  await flush();
  expect(fetchToken.mock.calls).toHaveLength(calls);
  clock.now += 1;
  manager.peek();
  await until(() => fetchToken.mock.calls.length === calls + 1);
}

describe('token manager: an endpoint that hands back the token we hold (Symbl)', () => {
  test('the same token and expiry keeps the generation, reports the token request, and waits backgroundRetryMs', async () => {
    const clock = { now: 1_000_000 };
    const { manager, fetchToken, events } = setup({}, async () => token('same', 1_000_000), clock);
    const first = await manager.get();
    clock.now += HOUR - 30_000;
    manager.peek();
    await until(() => fetchToken.mock.calls.length === 2);
    await flush();
    expect(manager.peek()).toBe(first);
    const fetched = events.filter((e) => e.type === 'token-fetched');
    expect(fetched).toHaveLength(2);
    expect(fetched[1]).toMatchObject({ fingerprint: first.fingerprint, reason: 'refresh-window' });
    await expectBackgroundHeldOff(manager, fetchToken, clock, 2);
  });

  test('the same token with a later expiry keeps its generation and fingerprint, with the new timings', async () => {
    const clock = { now: 1_000_000 };
    let lifetime = HOUR;
    const { manager, fetchToken, events } = setup({}, async () => token('same', 1_000_000, lifetime), clock);
    const first = await manager.get();
    // Handed back with 10 s more: still inside its refresh window.
    lifetime = HOUR + 10_000;
    clock.now += HOUR - 30_000;
    manager.peek();
    await until(() => manager.peek()?.token.expiresAt === 1_000_000 + HOUR + 10_000);
    const renewed = manager.peek();
    expect(renewed).toMatchObject({ generation: first.generation, fingerprint: first.fingerprint });
    expect(renewed?.expiredAt).toBe(1_000_000 + HOUR + 10_000 - DEFAULTS.expiryMarginMs);
    expect(events.filter((e) => e.type === 'token-fetched')).toHaveLength(2);
    // Not asked again straight away, though it is inside its window: only after backgroundRetryMs.
    await expectBackgroundHeldOff(manager, fetchToken, clock, 2);
  });

  test('the same token and expiry handed back later is timed from when it was asked for: not expired, not asked for again', async () => {
    const clock = { now: 1_000_000 };
    const EXPIRES_AT = 1_000_000 + HOUR;
    // The vendor's cached token, with the lifetime it has left: the same expiry each time.
    const { manager, fetchToken, events } = setup(
      {},
      async () => token('same', clock.now, EXPIRES_AT - clock.now),
      clock,
    );
    const first = await manager.get();
    clock.now = first.expiredAt;
    const handedBack = await manager.get();
    expect(fetchToken).toHaveBeenCalledTimes(2);
    // 5 s left: the margin is a tenth of that, the window half of it.
    expect(handedBack).toMatchObject({
      generation: first.generation,
      fingerprint: first.fingerprint,
      token: { obtainedAt: clock.now, expiresAt: EXPIRES_AT },
      expiredAt: EXPIRES_AT - 500,
      refreshAt: EXPIRES_AT - 2_500,
    });
    expect(events.filter((e) => e.type === 'token-fetched')).toMatchObject([
      { reason: 'missing' },
      { reason: 'expired' },
    ]);
    for (let i = 0; i < 3; i++) await expect(manager.get()).resolves.toBe(handedBack);
    expect(fetchToken).toHaveBeenCalledTimes(2);
  });

  test('the same token and expiry stored later by another handle is timed from its own obtainedAt', async () => {
    const clock = { now: 1_000_000 };
    const EXPIRES_AT = 1_000_000 + HOUR;
    const shared = new MemoryTokenStore({ now: () => clock.now });
    const a = setup({ store: shared }, async () => token('same', clock.now, EXPIRES_AT - clock.now), clock);
    const first = await a.manager.get();
    clock.now = first.expiredAt;
    // Another handle was handed the same token now, and stored it.
    await shared.set('key', token('same', clock.now, EXPIRES_AT - clock.now));
    await expect(a.manager.get()).resolves.toMatchObject({ generation: first.generation, expiredAt: EXPIRES_AT - 500 });
    expect(a.fetchToken).toHaveBeenCalledTimes(1);
    expect(a.events.filter((e) => e.type === 'token-adopted')).toMatchObject([{ reason: 'expired' }]);
    await a.manager.get();
    expect(a.fetchToken).toHaveBeenCalledTimes(1);
  });

  test('a token another handle stored is taken up with one token-adopted event and no token request', async () => {
    const clock = { now: 1_000_000 };
    const shared = new MemoryTokenStore({ now: () => clock.now });
    const a = setup({ store: shared }, async () => token('shared', 1_000_000), clock);
    await a.manager.get();
    const b = setup({ store: shared }, undefined, clock);
    await b.manager.get();
    expect(b.events.filter((e) => e.type === 'token-adopted')).toMatchObject([{ reason: 'missing' }]);
    expect(b.fetchToken).not.toHaveBeenCalled();
  });
});

describe('token manager: a flight that took up the rejected token', () => {
  test('a 401 that joins a flight bringing back the rejected token flies once more for another', async () => {
    const clock = { now: 1_000_000 };
    const answers = [deferred<StoredToken>(), deferred<StoredToken>(), deferred<StoredToken>()];
    let call = 0;
    const { manager, fetchToken } = setup({}, () => answers[call++]!.promise, clock);
    answers[0]!.resolve(token('A', clock.now));
    const first = await manager.get();
    // A background refresh is under way when the API rejects A; that refresh brings A back.
    clock.now += HOUR - 30_000;
    manager.peek();
    await until(() => fetchToken.mock.calls.length === 2);
    const replay = manager.rejected(first.generation);
    await flush();
    answers[1]!.resolve(token('A', clock.now));
    await until(() => fetchToken.mock.calls.length === 3);
    answers[2]!.resolve(token('B', clock.now));
    await expect(replay).resolves.toMatchObject({ stale: false, current: { token: { accessToken: 'B' } } });
  });
});

describe('token manager: what counts towards a cool-down', () => {
  function refusal(code: 'ERR_TOKEN_CREDENTIALS' | 'ERR_TOKEN_UNAVAILABLE', fields: { retryAfterMs?: number } = {}) {
    return new TokenRequestError('refused', { code, provider: 'p', url: 'https://x/token', attempts: 1, ...fields });
  }

  test('failures that are not refusals, and errors that are not token errors, never start one', async () => {
    const { manager, fetchToken } = setup({ cooldownMs: 5_000 });
    fetchToken.mockRejectedValueOnce(refusal('ERR_TOKEN_UNAVAILABLE'));
    fetchToken.mockRejectedValueOnce(refusal('ERR_TOKEN_UNAVAILABLE'));
    fetchToken.mockRejectedValueOnce(new Error('not a token error'));
    fetchToken.mockRejectedValueOnce(new Error('not a token error'));
    for (let i = 0; i < 4; i++) await expect(manager.get()).rejects.toBeInstanceOf(Error);
    await expect(manager.get()).resolves.toMatchObject({ token: { accessToken: 't1' } });
    expect(fetchToken).toHaveBeenCalledTimes(5);
  });

  test('a token between two refusals resets the count', async () => {
    const { manager, fetchToken, clock } = setup({ cooldownMs: 5_000 });
    fetchToken.mockRejectedValueOnce(refusal('ERR_TOKEN_CREDENTIALS'));
    await expect(manager.get()).rejects.toMatchObject({ attempts: 1 });
    const got = await manager.get();
    clock.now = got.expiredAt;
    fetchToken.mockRejectedValueOnce(refusal('ERR_TOKEN_CREDENTIALS'));
    await expect(manager.get()).rejects.toMatchObject({ attempts: 1 });
    // Only one refusal since the token: asked again at once.
    await expect(manager.get()).resolves.toMatchObject({ token: { accessToken: 't2' } });
  });

  test('a Retry-After raises the cool-down, never above cooldownMs; cooldownMs 0 turns it off', async () => {
    const asked = setup({ cooldownMs: 5_000 });
    asked.fetchToken.mockRejectedValue(refusal('ERR_TOKEN_CREDENTIALS', { retryAfterMs: 4_000 }));
    await asked.manager.get().catch(() => undefined);
    await asked.manager.get().catch(() => undefined);
    asked.clock.now += 3_999;
    await expect(asked.manager.get()).rejects.toMatchObject({ attempts: 0 });
    asked.clock.now += 1;
    await expect(asked.manager.get()).rejects.toMatchObject({ attempts: 1 });

    const capped = setup({ cooldownMs: 5_000 });
    capped.fetchToken.mockRejectedValue(refusal('ERR_TOKEN_CREDENTIALS', { retryAfterMs: 60_000 }));
    await capped.manager.get().catch(() => undefined);
    await capped.manager.get().catch(() => undefined);
    capped.clock.now += 4_999;
    await expect(capped.manager.get()).rejects.toMatchObject({ attempts: 0 });
    capped.clock.now += 1;
    await expect(capped.manager.get()).rejects.toMatchObject({ attempts: 1 });

    const off = setup({ cooldownMs: 0 });
    off.fetchToken.mockRejectedValue(refusal('ERR_TOKEN_CREDENTIALS', { retryAfterMs: 60_000 }));
    for (let i = 0; i < 3; i++) await expect(off.manager.get()).rejects.toMatchObject({ attempts: 1 });
  });

  test('the error during a cool-down repeats the refusal’s facts with attempts 0', async () => {
    const { manager, fetchToken } = setup({ cooldownMs: 5_000 });
    const cause = new TokenRequestError('Could not get a token: refused', {
      code: 'ERR_TOKEN_CREDENTIALS',
      provider: 'p',
      url: 'https://x/token',
      status: 403,
      providerCode: 'NJSCFE001',
      attempts: 1,
      retryAfterMs: 1_000,
    });
    fetchToken.mockRejectedValue(cause);
    await manager.get().catch(() => undefined);
    await manager.get().catch(() => undefined);
    const error = await manager.get().catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'ERR_TOKEN_CREDENTIALS',
      provider: 'p',
      url: 'https://x/token',
      status: 403,
      providerCode: 'NJSCFE001',
      attempts: 0,
      retryAfterMs: 1_000,
      message: 'Could not get a token: refused; not asked again for 1000 ms (cool-down)',
    });
  });
});

describe('cooldownDelayMs', () => {
  test('nothing after one refusal; then 1/8, 1/4, 1/2 and all of the cap, between half and all of each', () => {
    const low = (): number => 0;
    const high = (): number => 1;
    expect([1, 2, 3, 4, 5, 9].map((n) => cooldownDelayMs(n, 8_000, undefined, low))).toEqual([
      0, 500, 1_000, 2_000, 4_000, 4_000,
    ]);
    expect([1, 2, 3, 4, 5, 9].map((n) => cooldownDelayMs(n, 8_000, undefined, high))).toEqual([
      0, 1_000, 2_000, 4_000, 8_000, 8_000,
    ]);
    expect(cooldownDelayMs(2, 8_000, undefined, () => 0.5)).toBe(750);
    expect(cooldownDelayMs(2, 8_000, 3_000, low)).toBe(3_000);
    expect(cooldownDelayMs(2, 8_000, 30_000, low)).toBe(8_000);
    expect(cooldownDelayMs(1, 8_000, 30_000, low)).toBe(0);
    expect(cooldownDelayMs(3, 0, 30_000, high)).toBe(0);
  });
});

describe('token manager: what the store hands back', () => {
  test('generations go up by one per new token, and a token request reports its duration', async () => {
    const clock = { now: 1_000_000 };
    let issued = 0;
    const { manager, events } = setup(
      {},
      async () => {
        clock.now += 250;
        return token(`g${++issued}`, clock.now);
      },
      clock,
    );
    const first = await manager.get();
    await manager.rejected(first.generation);
    expect([first.generation, (await manager.get()).generation]).toEqual([1, 2]);
    expect(events.find((e) => e.type === 'token-fetched')).toMatchObject({ durationMs: 250 });
  });

  test('a newer token the store kept instead of ours is the one taken up', async () => {
    const clock = { now: 1_000_000 };
    const memory = new MemoryTokenStore({ now: () => clock.now });
    const newer = token('newer', clock.now, 2 * HOUR);
    const store: TokenStore = { ...bound(memory), set: () => Promise.resolve(newer) };
    const { manager } = setup({ store }, undefined, clock);
    await expect(manager.get()).resolves.toMatchObject({ token: { accessToken: 'newer' } });
  });

  test('a rejected token the store failed to delete is not taken up again', async () => {
    const clock = { now: 1_000_000 };
    const memory = new MemoryTokenStore({ now: () => clock.now });
    const store: TokenStore = { ...bound(memory), delete: () => Promise.resolve(false) };
    const { manager, fetchToken } = setup({ store }, undefined, clock);
    const first = await manager.get();
    const { current } = await manager.rejected(first.generation);
    expect(current.token.accessToken).toBe('t2');
    expect(fetchToken).toHaveBeenCalledTimes(2);
  });

  test('an invalid entry is deleted, and a failing delete does not show its token or ours', async () => {
    const clock = { now: 1_000_000 };
    const deleted: string[] = [];
    const store: TokenStore = {
      get: () => Promise.resolve({ accessToken: 'bad token', tokenType: 'Bearer', expiresAt: null, obtainedAt: 1 }),
      set: (_key, stored) => Promise.resolve(stored),
      delete: (_key, accessToken) => {
        deleted.push(accessToken);
        return Promise.reject(new Error(`DEL failed: ${accessToken} / t1`));
      },
    };
    const { manager, events } = setup({ store }, undefined, clock);
    const got = await manager.get();
    expect(deleted).toContain('bad token');
    await manager.invalidate();
    const failures = events.filter((e) => e.type === 'store-failed' && e.operation === 'delete');
    expect(failures.length).toBeGreaterThanOrEqual(2);
    const messages = failures.map((e) => (e as { error: Error }).error.message);
    expect(messages.some((message) => message.includes('bad token'))).toBe(false);
    // When our token is deleted, it is known, and scrubbed from the store's error.
    expect(messages.at(-1)).toBe('DEL failed: [REDACTED] / [REDACTED]');
    expect(got.token.accessToken).toBe('t1');
  });

  test('a new token that is already inside its refresh window is refreshed at once, even after a failure', async () => {
    const clock = { now: 1_000_000 };
    // Each token expires 30 s after it arrives: inside the 60 s window from the start.
    const { manager, fetchToken } = setup(
      {},
      async () => token(`w${fetchToken.mock.calls.length}`, clock.now - HOUR + 30_000),
      clock,
    );
    fetchToken.mockRejectedValueOnce(new Error('down'));
    await expect(manager.get()).rejects.toThrow('down');
    await manager.get();
    manager.peek();
    await until(() => fetchToken.mock.calls.length === 3);
  });

  test('while refreshing ahead, neither our own token in the store nor another inside its window is taken up', async () => {
    const clock = { now: 1_000_000 };
    const shared = new MemoryTokenStore({ now: () => clock.now });
    // With jitter, our refresh starts 12 s before the stored copy's own window.
    const { manager, fetchToken } = setup({ store: shared, random: () => 1 }, undefined, clock);
    const first = await manager.get();
    clock.now = first.refreshAt;
    manager.peek();
    await until(() => fetchToken.mock.calls.length === 2);
    await until(() => manager.peek()?.token.accessToken === 't2');

    const other = setup({ store: new MemoryTokenStore({ now: () => clock.now }) }, undefined, clock);
    const mine = await other.manager.get();
    await other.store.set('key', token('same-window', mine.token.obtainedAt, HOUR + 1));
    clock.now = mine.refreshAt + 1;
    other.manager.peek();
    await until(() => other.fetchToken.mock.calls.length === 2);
  });
});

/** A store's methods, bound, to override one of them. */
function bound(store: MemoryTokenStore): TokenStore {
  return {
    get: (key) => store.get(key),
    set: (key, stored) => store.set(key, stored),
    delete: (key, accessToken) => store.delete(key, accessToken),
  };
}

describe('token manager: store lock, reasons, generations and ended sessions', () => {
  test('the lock is waited for up to lockTtlMs on top of storeTimeoutMs', async () => {
    useFakeClock(0);
    try {
      const shared = new MemoryTokenStore({ now: () => 1_000_000 });
      const release = jest.fn(async () => undefined);
      const store: TokenStore = {
        ...bound(shared),
        // Granted after 200 ms: past storeTimeoutMs, within lockTtlMs + storeTimeoutMs.
        lock: () => new Promise((resolve) => setTimeout(() => resolve({ release }), 200)),
      };
      const { manager, events } = setup({ store, storeTimeoutMs: 100, lockTtlMs: 200 });
      const got = manager.get();
      await jest.advanceTimersByTimeAsync(200);
      await expect(got).resolves.toMatchObject({ token: { accessToken: 't1' } });
      expect(events.filter((event) => event.type === 'store-failed')).toEqual([]);
      await until(() => release.mock.calls.length === 1);
    } finally {
      jest.useRealTimers();
    }
  });

  test('a token in the store is taken up without taking the lock', async () => {
    const shared = new MemoryTokenStore({ now: () => 1_000_000 });
    const lock = jest.fn(async () => ({ release: async () => undefined }));
    const { manager, fetchToken } = setup({ store: { ...bound(shared), lock } });
    await shared.set('key', token('stored', 1_000_000));
    await expect(manager.get()).resolves.toMatchObject({ token: { accessToken: 'stored' } });
    expect(lock).not.toHaveBeenCalled();
    expect(fetchToken).not.toHaveBeenCalled();
  });

  test('when the lock wait times out, the store is read again and a token written meanwhile is taken up', async () => {
    const shared = new MemoryTokenStore({ now: () => 1_000_000 });
    const store: TokenStore = {
      ...bound(shared),
      lock: async () => {
        await shared.set('key', token('written-meanwhile', 1_000_000));
        return undefined;
      },
    };
    const { manager, fetchToken } = setup({ store });
    await expect(manager.get()).resolves.toMatchObject({ token: { accessToken: 'written-meanwhile' } });
    expect(fetchToken).not.toHaveBeenCalled();
  });

  test('a rejected token left in the store by a failed delete is not taken up again', async () => {
    const shared = new MemoryTokenStore({ now: () => 1_000_000 });
    const { manager, fetchToken } = setup({ store: { ...bound(shared), delete: async () => false } });
    const first = await manager.get();
    const { current, stale } = await manager.rejected(first.generation);
    expect(stale).toBe(false);
    expect(current.token.accessToken).toBe('t2');
    expect(fetchToken).toHaveBeenCalledTimes(2);
  });

  test('the refresh reason is missing first, then expired', async () => {
    const { manager, events, clock } = setup();
    const first = await manager.get();
    clock.now = first.expiredAt;
    await manager.get();
    expect(events.filter((event) => event.type === 'token-fetched').map((event) => event.reason)).toEqual([
      'missing',
      'expired',
    ]);
  });

  test('a 401 for an older generation when the current token has expired invalidates nothing', async () => {
    const { manager, events, clock, fetchToken } = setup();
    const first = await manager.get();
    clock.now = first.expiredAt;
    const { current, stale } = await manager.rejected(first.generation - 1);
    expect(stale).toBe(false);
    expect(current.token.accessToken).toBe('t2');
    expect(events.filter((event) => event.type === 'token-invalidated')).toEqual([]);
    expect(fetchToken).toHaveBeenCalledTimes(2);
  });

  test('an ended session drops the token still in use; another token error in the background keeps it', async () => {
    const failure = (code: 'ERR_TOKEN_SESSION_ENDED' | 'ERR_TOKEN_UNAVAILABLE') =>
      new TokenRequestError('no', { code, provider: 'p', url: 'https://x/token', status: 400, attempts: 1 });
    for (const [code, kept] of [
      ['ERR_TOKEN_UNAVAILABLE', true],
      ['ERR_TOKEN_SESSION_ENDED', false],
    ] as const) {
      const { manager, events, clock, fetchToken } = setup();
      const first = await manager.get();
      clock.now = first.refreshAt;
      fetchToken.mockRejectedValueOnce(failure(code));
      expect(manager.peek()).toBe(first);
      await until(() => events.some((event) => event.type === 'token-failed'));
      expect(manager.peek()?.token.accessToken).toBe(kept ? 't1' : undefined);
      expect(events.find((event) => event.type === 'token-failed')).toMatchObject({ background: kept });
    }
  });

  describe('a store changed elsewhere (TokenStore.subscribe)', () => {
    /** A memory store that tells of every write made through `sibling`, as another tab's would. */
    function siblingStore(clock: { now: number }) {
      const store = new MemoryTokenStore({ now: () => clock.now });
      const listeners = new Set<(key: string) => void>();
      const subscribing: TokenStore = Object.assign(store, {
        subscribe(listener: (key: string) => void) {
          listeners.add(listener);
          return () => listeners.delete(listener);
        },
      });
      const sibling = {
        write: async (written: StoredToken) => {
          await store.set('key', written);
          listeners.forEach((listener) => listener('key'));
        },
        remove: async (accessToken: string) => {
          await store.delete('key', accessToken);
          listeners.forEach((listener) => listener('key'));
        },
      };
      return { store: subscribing, sibling };
    }
    const typesOf = (events: TokenAuthEvent[]) => events.map((event) => event.type);

    test("a sibling's newer token is taken up without a request, and nothing is invalidated", async () => {
      const clock = { now: 1_000_000 };
      const { store, sibling } = siblingStore(clock);
      const { manager, fetchToken, events } = setup({ store }, undefined, clock);
      await manager.get();
      events.length = 0;
      await sibling.write(token('from-sibling', clock.now + 10));
      await until(() => manager.peek()?.token.accessToken === 'from-sibling');
      expect(fetchToken).toHaveBeenCalledTimes(1);
      expect(typesOf(events)).toEqual(['token-adopted']);
      expect(events[0]).toMatchObject({ reason: 'store-changed' });
    });

    // The follower handles changes in order, one at a time: once the first change has been read
    // and a later, newer token has then been taken up, the first change has been handled too.
    async function thenAdopts(
      manager: ReturnType<typeof setup>['manager'],
      sibling: ReturnType<typeof siblingStore>['sibling'],
      reads: { mock: { calls: unknown[] } },
      at: number,
    ) {
      await until(() => reads.mock.calls.length > 0);
      await sibling.write(token('sentinel', at, 2 * HOUR));
      await until(() => manager.peek()?.token.accessToken === 'sentinel');
    }

    test("a sibling's older token is left alone", async () => {
      const clock = { now: 1_000_000 };
      const { store, sibling } = siblingStore(clock);
      const { manager, events } = setup({ store }, undefined, clock);
      await manager.get();
      events.length = 0;
      const reads = jest.spyOn(store, 'get');
      // The store keeps the newer one; the notification still makes the manager look.
      await sibling.write(token('older', clock.now - 60_000));
      await thenAdopts(manager, sibling, reads, clock.now);
      expect(events.map((event) => [event.type, (event as { expiresAt?: number }).expiresAt])).toEqual([
        ['token-adopted', clock.now + 2 * HOUR],
      ]);
    });

    test.each([
      // An hour-long token with a second left: inside its margin, so expired for tokenflight.
      ['with a second left', 1_000],
      // Exactly at its expiredAt (expiresAt minus the margin).
      ['exactly at the end of its margin', DEFAULTS.expiryMarginMs],
    ])('a token a sibling wrote that is within its expiry margin (%s) is not taken up', async (_, leftMs) => {
      const clock = { now: 1_000_000 };
      const { store, sibling } = siblingStore(clock);
      const { manager, events } = setup({ store }, undefined, clock);
      const reads = jest.spyOn(store, 'get');
      await sibling.write(token('dying', clock.now - HOUR + leftMs));
      await thenAdopts(manager, sibling, reads, clock.now);
      expect(events.map((event) => event.type)).toEqual(['token-adopted']);
      expect(events[0]).toMatchObject({ expiresAt: clock.now + 2 * HOUR });
    });

    test('the token a sibling removed (rejected there) is dropped here, with no request', async () => {
      const clock = { now: 1_000_000 };
      const { store, sibling } = siblingStore(clock);
      const { manager, fetchToken, events } = setup({ store }, undefined, clock);
      const first = await manager.get();
      events.length = 0;
      await sibling.remove(first.token.accessToken);
      await until(() => manager.peek() === undefined);
      expect(typesOf(events)).toEqual(['token-invalidated']);
      expect(events[0]).toMatchObject({ reason: 'store-changed' });
      expect(fetchToken).toHaveBeenCalledTimes(1);
    });
  });

  test('resume needs a source whose refresh token rotates', async () => {
    const { manager } = setup();
    await expect(manager.resume('r1')).rejects.toThrow(TypeError);
  });
});
