import { describe, expect, test } from '@jest/globals';
import { MemoryTokenStore, type StoredToken, type TokenAuthEvent, type TokenStore } from '../../../lib/index.js';
import { CORRUPT, refreshKey, sharedEntry } from '../../../lib/core/manager/refresh-entry.js';
import {
  createSessionFlights,
  createSessionOrder,
  isCarriedOver,
  isPending,
  isSuperseded,
  RotationPending,
  SupersededFlight,
} from '../../../lib/core/manager/session.js';
import { createStoreAccess } from '../../../lib/core/manager/store-access.js';
import { DEFAULTS } from '../../../lib/shared/defaults.js';
import { deferred } from '../../helpers/index.js';

// The order of a session's steps (lib/core/manager/session.ts), without a token manager: generations, resumes
// one after another, flights that wait for them, and the flights' release at eject.

describe('session order', () => {
  test('a ticket holds until a resume starts, and then throws SupersededFlight', async () => {
    const order = createSessionOrder();
    expect(order.isResuming()).toBe(false);
    const ticket = await order.begin();
    expect(() => ticket.check()).not.toThrow();
    const resumed = order.resume(() => Promise.resolve('done'));
    expect(() => ticket.check()).toThrow(SupersededFlight);
    expect(ticket.generation).toBe(0);
    expect(order.current().generation).toBe(1);
    expect(await resumed).toBe('done');
  });

  test('begin() waits for every resume started before it, the later ones included', async () => {
    const order = createSessionOrder();
    const [first, second] = [deferred<undefined>(), deferred<undefined>()];
    const steps: string[] = [];
    void order.resume(async () => {
      await first.promise;
      steps.push('first resume');
    });
    const begun = order.begin().then((ticket) => steps.push(`flight of generation ${ticket.generation}`));
    void order.resume(async () => {
      await second.promise;
      steps.push('second resume');
    });
    first.resolve(undefined);
    await new Promise((resolve) => setImmediate(resolve));
    expect(steps).toEqual(['first resume']);
    second.resolve(undefined);
    await begun;
    expect(steps).toEqual(['first resume', 'second resume', 'flight of generation 2']);
  });

  test('resumes run one after another, and a failed one does not stop the next', async () => {
    const order = createSessionOrder();
    const gate = deferred<undefined>();
    const steps: string[] = [];
    const failing = order.resume(async () => {
      await gate.promise;
      steps.push('first');
      throw new Error('store down');
    });
    const next = order.resume(() => {
      steps.push('second');
      return Promise.resolve(2);
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(steps).toEqual([]);
    expect(order.isResuming()).toBe(true);
    gate.resolve(undefined);
    await expect(failing).rejects.toThrow('store down');
    expect(order.isResuming()).toBe(true);
    expect(await next).toBe(2);
    await new Promise((resolve) => setImmediate(resolve));
    expect(order.isResuming()).toBe(false);
    expect(steps).toEqual(['first', 'second']);
    expect((await order.begin()).generation).toBe(2);
  });

  test('isSuperseded tells SupersededFlight from any other error', () => {
    expect(isSuperseded(new SupersededFlight())).toBe(true);
    expect(isSuperseded(new Error('a newer session started while this flight was under way'))).toBe(false);
    expect(new SupersededFlight().name).toBe('SupersededFlight');
  });
});

describe('session flights', () => {
  const handle = (signal: AbortSignal) => ({ name: 'p', url: 'https://auth.example/token', signal });

  test('callers share one flight; a superseded flight hands them over to the next one', async () => {
    const lifecycle = new AbortController();
    let runs = 0;
    const { flightOfSession } = createSessionFlights((reason) => {
      runs++;
      return runs === 1 ? Promise.reject(new SupersededFlight()) : Promise.resolve(`${reason} #${runs}`);
    }, handle(lifecycle.signal));
    const answers = await Promise.all([flightOfSession('missing'), flightOfSession('missing')]);
    expect(answers).toEqual(['missing #2', 'missing #2']);
    expect(runs).toBe(2);
  });

  test('any other failure reaches every caller once, and is not remembered', async () => {
    const lifecycle = new AbortController();
    let runs = 0;
    const { flightOfSession } = createSessionFlights(() => {
      runs++;
      return runs === 1 ? Promise.reject(new Error('refused')) : Promise.resolve('ok');
    }, handle(lifecycle.signal));
    await expect(Promise.all([flightOfSession('missing'), flightOfSession('missing')])).rejects.toThrow('refused');
    expect(await flightOfSession('missing')).toBe('ok');
    expect(runs).toBe(2);
  });

  test('eject releases every caller of a flight that never settles, with ERR_TOKEN_ABORTED', async () => {
    const lifecycle = new AbortController();
    const { flightOfSession, bounded } = createSessionFlights(
      () => new Promise<string>(() => undefined),
      handle(lifecycle.signal),
    );
    const waiting = [flightOfSession('missing'), flightOfSession('expired')];
    lifecycle.abort(new Error('ejected'));
    for (const wait of waiting) {
      await expect(wait).rejects.toMatchObject({
        code: 'ERR_TOKEN_ABORTED',
        provider: 'p',
        url: 'https://auth.example/token',
        attempts: 0,
      });
    }
    await expect(bounded(() => Promise.resolve('late'))).rejects.toMatchObject({ code: 'ERR_TOKEN_ABORTED' });
  });
});

describe('a flight that finds another holder rotating', () => {
  const handle = (signal: AbortSignal) => ({ name: 'p', url: 'https://auth.example/token', signal });

  test('its callers wait RotationPending.waitMs, then a new flight runs for them', async () => {
    const lifecycle = new AbortController();
    const runs: number[] = [];
    const { flightOfSession } = createSessionFlights(() => {
      runs.push(performance.now());
      return runs.length === 1 ? Promise.reject(new RotationPending(150)) : Promise.resolve('after the mark');
    }, handle(lifecycle.signal));
    const answers = await Promise.all([flightOfSession('missing'), flightOfSession('missing')]);
    expect(answers).toEqual(['after the mark', 'after the mark']);
    // Each caller starts the next flight when its wait ends (a caller waking after it settled starts one more).
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect((runs[1] ?? 0) - (runs[0] ?? 0)).toBeGreaterThanOrEqual(140);
  });

  test('eject ends the wait at once, with ERR_TOKEN_ABORTED', async () => {
    const lifecycle = new AbortController();
    let runs = 0;
    const { flightOfSession } = createSessionFlights(() => {
      runs++;
      return Promise.reject(new RotationPending(60_000));
    }, handle(lifecycle.signal));
    const waiting = flightOfSession('missing');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const started = performance.now();
    lifecycle.abort(new Error('ejected'));
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_TOKEN_ABORTED' });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(runs).toBe(1);
  });

  test('RotationPending and SupersededFlight are carried over; nothing else is', () => {
    const pending = new RotationPending(5);
    expect(pending.waitMs).toBe(5);
    expect(pending.name).toBe('RotationPending');
    expect([isPending(pending), isPending(new SupersededFlight()), isPending(new Error('x'))]).toEqual([
      true,
      false,
      false,
    ]);
    expect([isCarriedOver(pending), isCarriedOver(new SupersededFlight()), isCarriedOver(new Error('x'))]).toEqual([
      true,
      true,
      false,
    ]);
  });
});

describe("a session's refresh-token entry (lib/core/manager/refresh-entry.ts)", () => {
  /** The entry over a MemoryTokenStore, with the store's events and every set's options. */
  function entryOver(raw: TokenStore = new MemoryTokenStore()) {
    const events: TokenAuthEvent[] = [];
    const setOptions: unknown[] = [];
    const recording: TokenStore = {
      get: (key) => raw.get(key),
      set: (key, token, options) => {
        setOptions.push(options);
        return raw.set(key, token, options);
      },
      delete: (key, token) => raw.delete(key, token),
    };
    const access = createStoreAccess(
      {
        source: { name: 'p' },
        store: recording,
        now: () => Date.now(),
        storeTimeoutMs: 1_000,
        lockTtlMs: 1_000,
        emit: (event) => events.push(event),
      },
      { signal: new AbortController().signal, knownTokens: () => [] },
    );
    return { entry: sharedEntry(access, recording), raw, events, setOptions };
  }
  const invalid = (events: TokenAuthEvent[]) =>
    events.filter(
      (event) => event.type === 'store-failed' && (event.error as { code?: string }).code === 'ERR_STORE_ENTRY_INVALID',
    );

  test('each kind of entry reads back as written: a refresh token, an ended session, a rotation mark', async () => {
    const { entry, raw } = entryOver();
    const now = Date.now();
    const kinds = [
      { refreshToken: 'rt-1', obtainedAt: now, ended: false },
      { refreshToken: 'rt-2', obtainedAt: now + 1, ended: true },
      { refreshToken: 'rt-3', obtainedAt: now + 2, ended: false, rotatingUntil: now + 5_000 },
    ];
    const stored: StoredToken[] = [];
    for (const kind of kinds) {
      expect(await entry.write('k', kind)).toBe(true);
      expect(await entry.read('k')).toEqual(kind);
      stored.push((await raw.get(refreshKey('k'))) as StoredToken);
    }
    expect(stored.map((token) => token.tokenType)).toEqual(['Refresh', 'Ended', 'Rotating']);
    expect(stored.map((token) => token.accessToken)).toEqual([
      btoa('rt-1'),
      btoa('rt-2'),
      `${now + 5_000}.${btoa('rt-3')}`,
    ]);
    // The entry outlives every access token, counted from when it was written.
    expect(stored.map((token) => (token.expiresAt ?? 0) - token.obtainedAt)).toEqual(
      kinds.map(() => DEFAULTS.maxTokenLifetimeMs),
    );
    expect(refreshKey('k')).toBe('k:refresh');
  });

  test('an entry tokenflight did not write is CORRUPT, and reported once as ERR_STORE_ENTRY_INVALID', async () => {
    const now = Date.now();
    const base = { expiresAt: now + 60_000, obtainedAt: now };
    const foreign: Array<[string, StoredToken]> = [
      ['a bearer token', { ...base, accessToken: btoa('rt-1'), tokenType: 'Bearer' }],
      ['not token characters', { ...base, accessToken: 'rt-1!', tokenType: 'Refresh' }],
      ['not Base64', { ...base, accessToken: 'a', tokenType: 'Refresh' }],
      ['not a refresh token inside', { ...base, accessToken: btoa('rt\u0001'), tokenType: 'Refresh' }],
      ['a mark without its expiry', { ...base, accessToken: btoa('rt-1'), tokenType: 'Rotating' }],
      ['a mark whose expiry is not digits', { ...base, accessToken: `soon.${btoa('rt-1')}`, tokenType: 'Rotating' }],
      ['a mark of 17 digits', { ...base, accessToken: `${'9'.repeat(17)}.${btoa('rt-1')}`, tokenType: 'Rotating' }],
      ['a mark of nothing', { ...base, accessToken: `${now}.`, tokenType: 'Rotating' }],
      ['a mark of junk', { ...base, accessToken: `${now}.${btoa('rt\u0001')}`, tokenType: 'Rotating' }],
    ];
    for (const [label, token] of foreign) {
      const { entry, raw, events } = entryOver();
      await raw.set(refreshKey('k'), token);
      expect({ label, read: await entry.read('k') }).toEqual({ label, read: CORRUPT });
      expect({ label, reported: invalid(events).length }).toEqual({ label, reported: 1 });
    }
  });

  test('a mark whose expiry has 16 digits, the most it may have, is read with that expiry', async () => {
    const { entry, raw } = entryOver();
    const now = Date.now();
    await raw.set(refreshKey('k'), {
      accessToken: `${'9'.repeat(16)}.${btoa('rt-1')}`,
      tokenType: 'Rotating',
      expiresAt: now + 60_000,
      obtainedAt: now,
    });
    expect(await entry.read('k')).toEqual({
      refreshToken: 'rt-1',
      obtainedAt: now,
      ended: false,
      rotatingUntil: Number('9'.repeat(16)),
    });
  });

  test('nothing stored reads as undefined; a store that fails reads as failed, with its error as the cause', async () => {
    expect(await entryOver().entry.read('k')).toBeUndefined();
    const failing: TokenStore = {
      get: () => Promise.reject(new Error('connection lost')),
      set: () => Promise.reject(new Error('connection lost')),
      delete: () => Promise.resolve(false),
    };
    const { entry, events } = entryOver(failing);
    const read = await entry.read('k');
    expect(read).toMatchObject({ failed: true, cause: { message: 'connection lost' } });
    expect(await entry.write('k', { refreshToken: 'rt-1', obtainedAt: 1, ended: false })).toBe(false);
    expect(events.filter((event) => event.type === 'store-failed').map((event) => event.operation)).toEqual([
      'get',
      'set',
    ]);
  });

  test('a store error that quotes the refresh token being written shows neither it nor its Base64', async () => {
    const quoting: TokenStore = {
      get: () => Promise.resolve(undefined),
      set: (key, token) => Promise.reject(new Error(`cannot keep ${token.accessToken} (${atob(token.accessToken)})`)),
      delete: () => Promise.resolve(false),
    };
    const { entry, events } = entryOver(quoting);
    expect(await entry.write('k', { refreshToken: 'rt-secret-1', obtainedAt: 1, ended: false })).toBe(false);
    const [failed] = events.filter((event) => event.type === 'store-failed');
    const shown = String((failed as { error?: Error } | undefined)?.error?.message);
    expect(shown).toContain('cannot keep');
    expect(shown).not.toContain('rt-secret-1');
    expect(shown).not.toContain(btoa('rt-secret-1'));
  });

  test('a critical write asks the store not to skip it; any other does not', async () => {
    const { entry, setOptions } = entryOver();
    await entry.write('k', { refreshToken: 'rt-1', obtainedAt: 1, ended: false }, { critical: true });
    await entry.write('k', { refreshToken: 'rt-2', obtainedAt: 2, ended: false });
    await entry.write('k', { refreshToken: 'rt-3', obtainedAt: 3, ended: false }, { critical: false });
    expect(setOptions).toEqual([{ critical: true }, undefined, undefined]);
  });
});
