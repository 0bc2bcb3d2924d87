import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals';
import { isTokenRequestError, type StoredToken, type TokenAuthEvent, type TokenStore } from '../../../lib/index.js';
import { refreshKey, sharedEntry, type RefreshEntry } from '../../../lib/core/manager/refresh-entry.js';
import { createRotation } from '../../../lib/core/manager/rotation.js';
import { RotationPending, SupersededFlight } from '../../../lib/core/manager/session.js';
import { createStoreAccess } from '../../../lib/core/manager/store-access.js';
import type { ExchangedToken, RotatingCredential } from '../../../lib/core/manager/token-source.js';
import { fingerprint } from '../../../lib/shared/async.js';
import { TokenRequestError } from '../../../lib/shared/errors.js';

// The rotation of a refresh token (lib/core/manager/rotation.ts) on its own, without a token
// manager or a server: what it presents, what it writes to the store's entry (and in which order),
// what reaches onRefreshToken and the events, and the errors, on a fake clock. The store keeps the
// last write (no ordering of its own), so every write the rotation makes can be seen.

const KEY = 'k';
const LOCK_TTL_MS = 5_000;
const STORE_TIMEOUT_MS = 100;
const CALLBACK_TIMEOUT_MS = 1_000;
const START = 1_700_000_000_000;

beforeEach(() => {
  jest.useFakeTimers({ now: START, doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
});
afterEach(() => {
  jest.useRealTimers();
});

type Answer = (presented: string) => ExchangedToken | Promise<ExchangedToken>;

const bearer = (value: string): StoredToken => ({
  accessToken: value,
  tokenType: 'Bearer',
  expiresAt: Date.now() + 60_000,
  obtainedAt: Date.now(),
});

/** The server rotates: `rt-0` becomes `rt-0+`, with the access token `at(rt-0)`. */
const rotating: Answer = (presented) => ({ token: bearer(`at(${presented})`), attempts: 1, next: `${presented}+` });

function setUp(
  options: {
    initial?: string;
    /** Refuses (rejects) a write to the store. */
    refuse?: (token: StoredToken) => boolean;
    /** An error the store's get rejects with. */
    failGet?: () => Error | undefined;
    onRotated?: (refreshToken: string) => unknown;
    answer?: Answer;
  } = {},
) {
  const entries = new Map<string, StoredToken>();
  const events: TokenAuthEvent[] = [];
  const writes: Array<{ token: StoredToken; options: unknown; refused: boolean }> = [];
  const store: TokenStore = {
    get: (key) => {
      const error = options.failGet?.();
      return error === undefined ? Promise.resolve(entries.get(key)) : Promise.reject(error);
    },
    set: (key, token, setOptions) => {
      const refused = options.refuse?.(token) ?? false;
      writes.push({ token, options: setOptions, refused });
      if (refused) return Promise.reject(new Error('busy'));
      entries.set(key, token);
      return Promise.resolve(token);
    },
    delete: (key) => Promise.resolve(entries.delete(key)),
  };
  const lifecycle = new AbortController();
  const rotationOptions = {
    source: { name: 'p' },
    store,
    now: () => Date.now(),
    lockTtlMs: LOCK_TTL_MS,
    storeTimeoutMs: STORE_TIMEOUT_MS,
    emit: (event: TokenAuthEvent) => events.push(event),
  };
  const access = createStoreAccess(rotationOptions, { signal: lifecycle.signal, knownTokens: () => [] });
  const presented: Array<{ refreshToken: string; reason: string; deadline: number; signal: AbortSignal }> = [];
  let answer = options.answer ?? rotating;
  const credential: RotatingCredential = {
    initial: options.initial ?? 'rt-0',
    url: 'https://auth.example/token',
    exchange: async (refreshToken, context) => {
      presented.push({ refreshToken, ...context });
      return answer(refreshToken);
    },
    onRotated: options.onRotated,
    callbackTimeoutMs: CALLBACK_TIMEOUT_MS,
    rotate: () => {
      throw new Error('not used here');
    },
  };
  const rotation = createRotation(rotationOptions, credential, { store: access, signal: lifecycle.signal });
  let superseded = false;
  const ticket = {
    generation: 0,
    check: () => {
      if (superseded) throw new SupersededFlight();
    },
  };
  const lock = { release: () => Promise.resolve() };
  const shared = sharedEntry(access, store);
  return {
    rotation,
    events,
    writes,
    presented,
    lifecycle,
    exchange: (held: Parameters<typeof rotation.exchange>[1] = lock) =>
      rotation.exchange(KEY, held, { reason: 'missing', ticket }),
    resume: (refreshToken: string, held: Parameters<typeof rotation.exchange>[1] = lock) =>
      rotation.resume(KEY, refreshToken, { lock: held, dropOld: () => Promise.resolve() }),
    /** The entry as the rotation reads it. */
    entry: () => shared.read(KEY),
    /** Writes an entry as another holder would. */
    put: (entry: RefreshEntry) => entries.set(refreshKey(KEY), encodeEntry(entry)),
    raw: () => entries.get(refreshKey(KEY)),
    drop: () => entries.delete(refreshKey(KEY)),
    answerWith: (next: Answer) => (answer = next),
    supersede: () => (superseded = true),
  };
}

function encodeEntry(entry: RefreshEntry): StoredToken {
  const marked = entry.rotatingUntil !== undefined;
  return {
    accessToken: marked ? `${entry.rotatingUntil}.${btoa(entry.refreshToken)}` : btoa(entry.refreshToken),
    tokenType: entry.ended ? 'Ended' : marked ? 'Rotating' : 'Refresh',
    expiresAt: entry.obtainedAt + 86_400_000,
    obtainedAt: entry.obtainedAt,
  };
}

const refreshWrites = (writes: Array<{ token: StoredToken }>) =>
  writes.map(({ token }) => `${token.tokenType} ${token.accessToken} @${token.obtainedAt - START}`);

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('a rotation that goes well', () => {
  test('marks the token, presents it once with the deadline, stores the rotated one after its mark, and hands it over', async () => {
    const handed: string[] = [];
    const r = setUp({ onRotated: (token) => handed.push(token) });
    const fetched = await r.exchange();
    expect(fetched).toEqual({ token: bearer('at(rt-0)'), attempts: 1 });
    expect(r.presented).toEqual([
      {
        refreshToken: 'rt-0',
        reason: 'missing',
        deadline: START + LOCK_TTL_MS - STORE_TIMEOUT_MS,
        signal: r.lifecycle.signal,
      },
    ]);
    // The mark stands until the lease and one callback time limit; the rotated token is ordered after it.
    expect(refreshWrites(r.writes)).toEqual([
      `Rotating ${START + LOCK_TTL_MS + CALLBACK_TIMEOUT_MS}.${btoa('rt-0')} @0`,
      `Refresh ${btoa('rt-0+')} @1`,
    ]);
    expect(r.writes.map((write) => write.options)).toEqual([{ critical: true }, { critical: true }]);
    expect(handed).toEqual(['rt-0+']);
    expect(r.events).toEqual([
      {
        type: 'refresh-token-rotated',
        provider: 'p',
        fingerprint: await fingerprint('rt-0+'),
        stored: true,
        callbackError: undefined,
      },
    ]);
    expect(r.rotation.secrets()).toEqual(['rt-0+', btoa('rt-0+')]);

    // The next rotation presents the rotated token, and orders its writes after the last one.
    jest.setSystemTime(START + 10_000);
    await r.exchange();
    expect(r.presented.map((call) => call.refreshToken)).toEqual(['rt-0', 'rt-0+']);
    expect(refreshWrites(r.writes).slice(2)).toEqual([
      `Rotating ${START + 10_000 + LOCK_TTL_MS + CALLBACK_TIMEOUT_MS}.${btoa('rt-0+')} @10000`,
      `Refresh ${btoa('rt-0++')} @10001`,
    ]);
    expect(handed).toEqual(['rt-0+', 'rt-0++']);
  });

  test('the store newer than this process: its token is presented; on a tie, this process’s own', async () => {
    const r = setUp();
    r.put({ refreshToken: 'rt-other', obtainedAt: START - 5, ended: false });
    await r.exchange();
    expect(r.presented.at(-1)?.refreshToken).toBe('rt-other');
    // This process knows rt-other+ (obtained at START + 1); another writes a different token at that same time.
    r.put({ refreshToken: 'rt-tie', obtainedAt: START + 1, ended: false });
    await r.exchange();
    expect(r.presented.at(-1)?.refreshToken).toBe('rt-other+');
    // A later one is taken.
    r.put({ refreshToken: 'rt-later', obtainedAt: START + 100, ended: false });
    await r.exchange();
    expect(r.presented.at(-1)?.refreshToken).toBe('rt-later');
  });

  test('an onRefreshToken that throws: the rotation stands, and the error shown names neither token', async () => {
    const r = setUp({
      onRotated: (token) => {
        throw new Error(`cannot save ${token} (was rt-0)`);
      },
    });
    await r.exchange();
    const [rotated] = r.events;
    expect(rotated).toMatchObject({ type: 'refresh-token-rotated', stored: true });
    const shown = String((rotated as { callbackError?: Error }).callbackError?.message);
    expect(shown).toContain('cannot save');
    expect(shown).not.toContain('rt-0');
    expect(await r.entry()).toMatchObject({ refreshToken: 'rt-0+' });
  });

  test('an onRefreshToken that never settles is given up after the callback time limit', async () => {
    const r = setUp({ onRotated: () => new Promise(() => undefined) });
    const exchanged = r.exchange();
    await jest.advanceTimersByTimeAsync(CALLBACK_TIMEOUT_MS - 1);
    expect(r.events).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    await expect(exchanged).resolves.toMatchObject({ attempts: 1 });
    expect(r.events).toMatchObject([
      {
        type: 'refresh-token-rotated',
        stored: true,
        callbackError: { message: `onRefreshToken did not settle within ${CALLBACK_TIMEOUT_MS} ms` },
      },
    ]);
  });
});

describe('an exchange that brings back no rotated token', () => {
  test.each([
    ['no refresh_token in the answer', undefined],
    ['the same refresh token again', 'rt-0'],
  ])('%s: the entry holds the same token, unmarked, ordered after its mark', async (_label, next) => {
    const r = setUp({ answer: () => ({ token: bearer('at'), attempts: 2, next }) });
    expect(await r.exchange()).toEqual({ token: bearer('at'), attempts: 2 });
    expect(refreshWrites(r.writes)).toEqual([
      `Rotating ${START + LOCK_TTL_MS + CALLBACK_TIMEOUT_MS}.${btoa('rt-0')} @0`,
      `Refresh ${btoa('rt-0')} @1`,
    ]);
    expect(r.writes[1]?.options).toEqual({ critical: true });
    expect(r.events).toEqual([]);
    await r.exchange();
    expect(r.presented.map((call) => call.refreshToken)).toEqual(['rt-0', 'rt-0']);
    // Its next mark is ordered after the unmarked entry, though the clock has not moved.
    expect(refreshWrites(r.writes)[2]).toBe(`Rotating ${START + LOCK_TTL_MS + CALLBACK_TIMEOUT_MS}.${btoa('rt-0')} @2`);
  });

  test('a failed exchange (not the end of the session) leaves the token unmarked and is rethrown', async () => {
    const failure = new TokenRequestError('timed out', {
      code: 'ERR_TOKEN_TIMEOUT',
      provider: 'p',
      url: 'https://auth.example/token',
      attempts: 1,
    });
    const r = setUp({ answer: () => Promise.reject(failure) });
    expect(await rejection(r.exchange())).toBe(failure);
    expect(refreshWrites(r.writes).at(-1)).toBe(`Refresh ${btoa('rt-0')} @1`);
    expect(r.events).toEqual([]);
  });
});

describe('an answer that is unusable but carries a rotated token', () => {
  test('the rotated token is stored and handed over, then the failure is thrown; the next exchange presents it', async () => {
    const handed: string[] = [];
    const failure = new Error('no access_token');
    const r = setUp({ onRotated: (token) => handed.push(token), answer: () => ({ failure, next: 'rt-1' }) });
    expect(await rejection(r.exchange())).toBe(failure);
    expect(handed).toEqual(['rt-1']);
    expect(refreshWrites(r.writes).at(-1)).toBe(`Refresh ${btoa('rt-1')} @1`);
    expect(r.events).toMatchObject([{ type: 'refresh-token-rotated', stored: true }]);
    r.answerWith(rotating);
    await r.exchange();
    expect(r.presented.map((call) => call.refreshToken)).toEqual(['rt-0', 'rt-1']);
  });
});

describe('invalid_grant', () => {
  const ended = () =>
    new TokenRequestError('invalid_grant', {
      code: 'ERR_TOKEN_SESSION_ENDED',
      provider: 'p',
      url: 'https://auth.example/token',
      attempts: 1,
    });

  test('ends the session: an Ended entry after the mark, a session-ended event, and nothing presented after', async () => {
    const error = ended();
    const r = setUp({ answer: () => Promise.reject(error) });
    expect(await rejection(r.exchange())).toBe(error);
    expect(refreshWrites(r.writes)).toEqual([
      `Rotating ${START + LOCK_TTL_MS + CALLBACK_TIMEOUT_MS}.${btoa('rt-0')} @0`,
      `Ended ${btoa('rt-0')} @1`,
    ]);
    expect(r.events).toEqual([{ type: 'session-ended', provider: 'p', fingerprint: await fingerprint('rt-0'), error }]);
    const again = await rejection(r.exchange());
    expect(again).toMatchObject({ code: 'ERR_TOKEN_SESSION_ENDED', provider: 'p', attempts: 0 });
    expect((again as Error).message).toContain('ended earlier');
    expect(r.presented).toHaveLength(1);
    // A resume starts a new session after the ended one.
    await r.resume('rt-new');
    r.answerWith(rotating);
    await r.exchange();
    expect(r.presented.map((call) => call.refreshToken)).toEqual(['rt-0', 'rt-new']);
  });

  test('an Ended entry another handle wrote stops this one before it presents anything', async () => {
    const r = setUp();
    r.put({ refreshToken: 'rt-0', obtainedAt: START, ended: true });
    expect(await rejection(r.exchange())).toMatchObject({ code: 'ERR_TOKEN_SESSION_ENDED' });
    expect(r.presented).toEqual([]);
    expect(r.writes).toEqual([]);
  });

  test('of a flight that a resume replaced does not end the new session', async () => {
    const r = setUp({
      answer: () => {
        r.supersede();
        return Promise.reject(ended());
      },
    });
    expect(await rejection(r.exchange())).toBeInstanceOf(SupersededFlight);
    expect(r.events).toEqual([]);
    expect(r.writes.map((write) => write.token.tokenType)).not.toContain('Ended');
  });
});

describe('a flight that a resume replaced', () => {
  test('before it presents: nothing is presented, and the mark gives way to the same token', async () => {
    const r = setUp();
    r.supersede();
    expect(await rejection(r.exchange())).toBeInstanceOf(SupersededFlight);
    expect(r.presented).toEqual([]);
    expect(refreshWrites(r.writes).at(-1)).toBe(`Refresh ${btoa('rt-0')} @1`);
  });

  test('after its exchange: the rotated token is neither stored nor handed over', async () => {
    const handed: string[] = [];
    const r = setUp({
      onRotated: (token) => handed.push(token),
      answer: (presented) => {
        r.supersede();
        return rotating(presented);
      },
    });
    expect(await rejection(r.exchange())).toBeInstanceOf(SupersededFlight);
    expect(handed).toEqual([]);
    expect(r.writes.map((write) => write.token.accessToken)).not.toContain(btoa('rt-0+'));
    expect(r.events).toEqual([]);
  });
});

describe('no lock, no request', () => {
  test.each([
    ['timeout', "kept the token store's lock for longer than 5000 ms"],
    ['failed', 'lock could not be taken'],
    ['none', 'lock could not be taken'],
  ] as const)(
    'a lock that is %s: ERR_TOKEN_STORE_UNAVAILABLE, nothing read, written or presented',
    async (lock, says) => {
      const r = setUp();
      const error = await rejection(r.exchange(lock));
      expect(isTokenRequestError(error)).toBe(true);
      expect(error).toMatchObject({
        code: 'ERR_TOKEN_STORE_UNAVAILABLE',
        provider: 'p',
        url: 'https://auth.example/token',
        attempts: 0,
      });
      expect((error as Error).message).toContain(says);
      expect((error as Error).message).toContain('provider "p"');
      expect(r.presented).toEqual([]);
      expect(r.writes).toEqual([]);
    },
  );
});

describe('a store that fails', () => {
  test('a read that fails: ERR_TOKEN_STORE_UNAVAILABLE with the store error as cause, nothing presented', async () => {
    const r = setUp({ failGet: () => new Error('connection lost') });
    const error = await rejection(r.exchange());
    expect(error).toMatchObject({ code: 'ERR_TOKEN_STORE_UNAVAILABLE', cause: { message: 'connection lost' } });
    expect((error as Error).message).toContain('could not be read');
    expect(r.presented).toEqual([]);
    expect(r.writes).toEqual([]);
  });

  test('a read that finds this tab duplicated says so, with that error as cause', async () => {
    const duplicated = Object.assign(new Error('tab duplicated'), { code: 'ERR_STORE_TAB_DUPLICATED' });
    const r = setUp({ failGet: () => duplicated });
    const error = await rejection(r.exchange());
    expect(error).toMatchObject({ code: 'ERR_TOKEN_STORE_UNAVAILABLE', cause: { code: 'ERR_STORE_TAB_DUPLICATED' } });
    expect((error as Error).message).toContain('copied from another');
    expect(r.presented).toEqual([]);
  });

  test('a mark the store does not take: ERR_TOKEN_STORE_UNAVAILABLE, nothing presented', async () => {
    const r = setUp({ refuse: (token) => token.tokenType === 'Rotating' });
    const error = await rejection(r.exchange());
    expect(error).toMatchObject({ code: 'ERR_TOKEN_STORE_UNAVAILABLE', attempts: 0 });
    expect((error as Error).message).toContain('did not take the mark');
    expect(r.presented).toEqual([]);
  });

  test('a rotated token the store refuses is written again every quarter store time limit, past its breaker, until it lands', async () => {
    let refusals = 3;
    const r = setUp({ refuse: (token) => token.tokenType === 'Refresh' && refusals-- > 0 });
    const exchanged = r.exchange();
    await jest.advanceTimersByTimeAsync(0);
    expect(r.writes.filter((write) => write.token.tokenType === 'Refresh')).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(STORE_TIMEOUT_MS / 4 - 1);
    expect(r.writes.filter((write) => write.token.tokenType === 'Refresh')).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(r.writes.filter((write) => write.token.tokenType === 'Refresh')).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(STORE_TIMEOUT_MS);
    await exchanged;
    const rotatedWrites = r.writes.filter((write) => write.token.tokenType === 'Refresh');
    expect(rotatedWrites.map((write) => [write.refused, write.options])).toEqual([
      [true, { critical: true }],
      [true, { critical: true }],
      [true, { critical: true }],
      [false, { critical: true }],
    ]);
    // No onRefreshToken: nothing to report.
    expect(r.events.filter((event) => event.type === 'refresh-token-rotated')).toMatchObject([
      { stored: true, callbackError: undefined },
    ]);
    expect(await r.entry()).toMatchObject({ refreshToken: 'rt-0+' });
  });

  test('a rotated token the store never takes: tried until the mark nearly ends, then stored=false, and this process presents its own copy', async () => {
    const r = setUp({ refuse: (token) => token.tokenType === 'Refresh' });
    const exchanged = r.exchange();
    await jest.advanceTimersByTimeAsync(LOCK_TTL_MS + CALLBACK_TIMEOUT_MS);
    await exchanged;
    // The mark holds until START + 6,000: writes at 0, 25, 50 … while now + 125 <= 6,000.
    const attempts = r.writes.filter((write) => write.token.tokenType === 'Refresh');
    const last = Math.floor((LOCK_TTL_MS + CALLBACK_TIMEOUT_MS - STORE_TIMEOUT_MS * 1.25) / (STORE_TIMEOUT_MS / 4));
    expect(attempts).toHaveLength(last + 2);
    expect(r.events.filter((event) => event.type === 'refresh-token-rotated')).toMatchObject([{ stored: false }]);
    // The store still holds the mark of rt-0; this process knows rt-0+, later than it.
    expect(await r.entry()).toMatchObject({
      refreshToken: 'rt-0',
      rotatingUntil: START + LOCK_TTL_MS + CALLBACK_TIMEOUT_MS,
    });
    jest.setSystemTime(START + 10_000);
    const next = r.exchange();
    await jest.advanceTimersByTimeAsync(LOCK_TTL_MS + CALLBACK_TIMEOUT_MS);
    await next;
    expect(r.presented.map((call) => call.refreshToken)).toEqual(['rt-0', 'rt-0+']);
  });

  test('eject stops the rewrites of a rotated token at once', async () => {
    const r = setUp({ refuse: (token) => token.tokenType === 'Refresh' });
    const exchanged = r.exchange();
    await jest.advanceTimersByTimeAsync(STORE_TIMEOUT_MS);
    const before = r.writes.length;
    r.lifecycle.abort(new Error('ejected'));
    await jest.advanceTimersByTimeAsync(LOCK_TTL_MS);
    await exchanged;
    expect(r.writes.length).toBeLessThanOrEqual(before + 1);
    expect(r.events.filter((event) => event.type === 'refresh-token-rotated')).toMatchObject([{ stored: false }]);
  });
});

describe("another holder's mark", () => {
  const span = LOCK_TTL_MS + CALLBACK_TIMEOUT_MS;

  test('is waited for until it ends, counted from when this process first saw it; then the token is presented', async () => {
    const r = setUp();
    r.put({ refreshToken: 'rt-0', obtainedAt: START, ended: false, rotatingUntil: START + 3_000 });
    const first = await rejection(r.exchange());
    expect(first).toBeInstanceOf(RotationPending);
    expect((first as RotationPending).waitMs).toBe(3_000);
    expect(r.writes).toEqual([]);
    jest.setSystemTime(START + 1_000);
    expect(await rejection(r.exchange())).toMatchObject({ waitMs: 2_000 });
    // Its end reached: presented (its outcome is unknown), ordered after the mark.
    jest.setSystemTime(START + 3_000);
    await r.exchange();
    expect(r.presented.map((call) => call.refreshToken)).toEqual(['rt-0']);
    expect(refreshWrites(r.writes)[0]).toBe(`Rotating ${START + 3_000 + span}.${btoa('rt-0')} @3000`);
  });

  test('a mark that claims to stand for a day is waited for at most the lease and one time limit from when it was seen', async () => {
    const r = setUp();
    r.put({ refreshToken: 'rt-0', obtainedAt: START, ended: false, rotatingUntil: START + 86_400_000 });
    expect(await rejection(r.exchange())).toMatchObject({ waitMs: span });
    jest.setSystemTime(START + 2_000);
    expect(await rejection(r.exchange())).toMatchObject({ waitMs: span - 2_000 });
    // A new mark (another obtainedAt) is a new wait, counted from now.
    r.put({ refreshToken: 'rt-0', obtainedAt: START + 1, ended: false, rotatingUntil: START + 86_400_000 });
    expect(await rejection(r.exchange())).toMatchObject({ waitMs: span });
    // So is a later mark of another token.
    jest.setSystemTime(START + 3_000);
    r.put({ refreshToken: 'rt-9', obtainedAt: START + 2, ended: false, rotatingUntil: START + 86_400_000 });
    expect(await rejection(r.exchange())).toMatchObject({ waitMs: span });
    jest.setSystemTime(START + 3_000 + span);
    await r.exchange();
    expect(r.presented.map((call) => call.refreshToken)).toEqual(['rt-9']);
  });
});

describe('what the store no longer holds, or never held', () => {
  test('nothing stored and nothing under way: the refreshToken option is presented', async () => {
    const r = setUp({ initial: 'rt-initial' });
    await r.exchange();
    expect(r.presented.map((call) => call.refreshToken)).toEqual(['rt-initial']);
  });

  test('an entry lost after a rotation: ERR_TOKEN_SESSION_ENDED, and neither copy is presented', async () => {
    const r = setUp();
    await r.exchange();
    r.drop();
    const error = await rejection(r.exchange());
    expect(error).toMatchObject({ code: 'ERR_TOKEN_SESSION_ENDED', attempts: 0 });
    expect((error as Error).message).toContain('no longer holds');
    expect(r.presented).toHaveLength(1);
  });

  test('an entry lost after this process read one: ERR_TOKEN_SESSION_ENDED', async () => {
    const r = setUp({ refuse: (token) => token.tokenType === 'Rotating' });
    r.put({ refreshToken: 'rt-5', obtainedAt: START, ended: false });
    await rejection(r.exchange());
    r.drop();
    expect(await rejection(r.exchange())).toMatchObject({ code: 'ERR_TOKEN_SESSION_ENDED' });
    expect(r.presented).toEqual([]);
  });

  test('adopted(): the session is under way, and its entry is read (a corrupt one reported at once)', async () => {
    const r = setUp();
    r.rotation.adopted(KEY);
    await jest.advanceTimersByTimeAsync(0);
    expect(await rejection(r.exchange())).toMatchObject({ code: 'ERR_TOKEN_SESSION_ENDED' });
    expect(r.presented).toEqual([]);

    const corrupt = setUp();
    corrupt.put({ refreshToken: 'rt-0', obtainedAt: START, ended: false });
    Object.assign(corrupt.raw() as StoredToken, { tokenType: 'Foreign' });
    corrupt.rotation.adopted(KEY);
    await jest.advanceTimersByTimeAsync(0);
    expect(corrupt.events).toMatchObject([{ type: 'store-failed', error: { code: 'ERR_STORE_ENTRY_INVALID' } }]);
  });

  test('a corrupt entry ends the session without presenting anything, until a resume', async () => {
    const r = setUp();
    r.put({ refreshToken: 'rt-0', obtainedAt: START, ended: false });
    Object.assign(r.raw() as StoredToken, { tokenType: 'Foreign' });
    const error = await rejection(r.exchange());
    expect(error).toMatchObject({ code: 'ERR_TOKEN_SESSION_ENDED', attempts: 0 });
    expect((error as Error).message).toContain('not one tokenflight wrote');
    expect(r.presented).toEqual([]);
    // Resumed over the corrupt entry: the resumed token is presented, even though it is still corrupt.
    r.put({ refreshToken: 'rt-0', obtainedAt: START, ended: false });
    await r.resume('rt-new');
    Object.assign(r.raw() as StoredToken, { tokenType: 'Foreign' });
    await r.exchange();
    expect(r.presented.map((call) => call.refreshToken)).toEqual(['rt-new']);
  });
});

describe('resume()', () => {
  test('writes the new token after whatever the store or this process holds, and presents it next', async () => {
    const r = setUp();
    r.put({ refreshToken: 'rt-old', obtainedAt: START + 50, ended: false });
    await r.resume('rt-new');
    expect(refreshWrites(r.writes)).toEqual([`Refresh ${btoa('rt-new')} @51`]);
    expect(r.writes[0]?.options).toEqual({ critical: true });
    expect(r.rotation.secrets()).toEqual(['rt-new', btoa('rt-new')]);
    jest.setSystemTime(START + 1_000);
    await r.resume('rt-newer');
    expect(refreshWrites(r.writes).at(-1)).toBe(`Refresh ${btoa('rt-newer')} @1000`);
    await r.exchange();
    expect(r.presented.map((call) => call.refreshToken)).toEqual(['rt-newer']);
  });

  test('a resumed token is presented even where the store lost the entry of a session under way', async () => {
    const r = setUp();
    await r.exchange();
    await r.resume('rt-new');
    r.drop();
    await r.exchange();
    expect(r.presented.map((call) => call.refreshToken)).toEqual(['rt-0', 'rt-new']);
    // Presented once: from then on, a lost entry is a lost session again.
    r.drop();
    expect(await rejection(r.exchange())).toMatchObject({ code: 'ERR_TOKEN_SESSION_ENDED' });
  });

  test('a store that cannot be read: the session is resumed all the same, after what this process knows', async () => {
    let failing = false;
    const r = setUp({ failGet: () => (failing ? new Error('down') : undefined) });
    await r.exchange();
    failing = true;
    await r.resume('rt-new');
    expect(refreshWrites(r.writes).at(-1)).toBe(`Refresh ${btoa('rt-new')} @2`);
  });

  test('a lock another holder kept past its wait: ERR_TOKEN_STORE_UNAVAILABLE, nothing written', async () => {
    const r = setUp();
    const error = await rejection(r.resume('rt-new', 'timeout'));
    expect(error).toMatchObject({ code: 'ERR_TOKEN_STORE_UNAVAILABLE', provider: 'p', attempts: 0 });
    expect((error as Error).message).toContain('was not resumed');
    expect(r.writes).toEqual([]);
  });
});
