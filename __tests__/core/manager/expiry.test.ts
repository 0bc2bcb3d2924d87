import { describe, expect, test } from '@jest/globals';
import { CLOCK_SKEW_THRESHOLD_MS, DEFAULTS } from '../../../lib/shared/defaults.js';
import { boundedExpiresAt, computeExpiresAt, tokenTimes, type ExpiryFacts } from '../../../lib/core/manager/expiry.js';
import { jwt } from '../../helpers/index.js';

// The lifetime arithmetic alone (rules 3 and 10), at its boundaries.

const NOW = Date.UTC(2026, 0, 1);
const facts = (fields: Partial<ExpiryFacts>): ExpiryFacts => ({
  expiresInMs: undefined,
  accessToken: 'opaque',
  sentAt: NOW,
  receivedAt: NOW + 100,
  serverDateMs: undefined,
  defaultLifetimeMs: undefined,
  ...fields,
});

describe('computeExpiresAt', () => {
  test('expiresIn first, counted from the send; then the JWT exp; then the default lifetime; else null', () => {
    const token = jwt({ exp: (NOW + 900_000) / 1000 });
    expect(computeExpiresAt(facts({ expiresInMs: 60_000, accessToken: token, defaultLifetimeMs: 5 }))).toBe(
      NOW + 60_000,
    );
    expect(computeExpiresAt(facts({ accessToken: token, defaultLifetimeMs: 5 }))).toBe(NOW + 900_000);
    expect(computeExpiresAt(facts({ defaultLifetimeMs: 7_000 }))).toBe(NOW + 7_000);
    expect(computeExpiresAt(facts({}))).toBeNull();
  });

  test('a JWT exp not after the arrival is not trusted: the next source decides', () => {
    const atArrival = jwt({ exp: (NOW + 100) / 1000 });
    const justAfter = jwt({ exp: (NOW + 1_000) / 1000 });
    expect(computeExpiresAt(facts({ accessToken: atArrival, defaultLifetimeMs: 7_000 }))).toBe(NOW + 7_000);
    expect(computeExpiresAt(facts({ accessToken: justAfter, defaultLifetimeMs: 7_000 }))).toBe(NOW + 1_000);
  });

  test('a server clock that disagrees by the threshold or more corrects the exp; less does not', () => {
    const exp = (NOW + 3_600_000) / 1000;
    const token = jwt({ exp });
    const receivedAt = NOW + 100;
    const at = (offset: number): number | null =>
      computeExpiresAt(facts({ accessToken: token, serverDateMs: receivedAt + offset }));
    expect(at(CLOCK_SKEW_THRESHOLD_MS)).toBe(NOW + 3_600_000 - CLOCK_SKEW_THRESHOLD_MS);
    expect(at(-CLOCK_SKEW_THRESHOLD_MS)).toBe(NOW + 3_600_000 + CLOCK_SKEW_THRESHOLD_MS);
    expect(at(CLOCK_SKEW_THRESHOLD_MS - 1)).toBe(NOW + 3_600_000);
    // Without a Date header, the JWT's iat tells the server's clock; the header wins when both are there.
    const withIat = jwt({ exp, iat: (receivedAt + CLOCK_SKEW_THRESHOLD_MS) / 1000 });
    expect(computeExpiresAt(facts({ accessToken: withIat }))).toBe(NOW + 3_600_000 - CLOCK_SKEW_THRESHOLD_MS);
    expect(computeExpiresAt(facts({ accessToken: withIat, serverDateMs: receivedAt }))).toBe(NOW + 3_600_000);
  });

  test('every source is bounded by DEFAULTS.maxTokenLifetimeMs from the send', () => {
    const limit = NOW + DEFAULTS.maxTokenLifetimeMs;
    expect(computeExpiresAt(facts({ expiresInMs: Infinity }))).toBe(limit);
    expect(computeExpiresAt(facts({ accessToken: jwt({ exp: 1e308 }) }))).toBe(limit);
    expect(computeExpiresAt(facts({ defaultLifetimeMs: DEFAULTS.maxTokenLifetimeMs + 1 }))).toBe(limit);
    expect(computeExpiresAt(facts({ expiresInMs: DEFAULTS.maxTokenLifetimeMs }))).toBe(limit);
  });
});

describe('boundedExpiresAt', () => {
  test('null and NaN are unknown; later than the bound is brought forward; the rest is kept', () => {
    expect(boundedExpiresAt(null, NOW)).toBeNull();
    expect(boundedExpiresAt(NaN, NOW)).toBeNull();
    expect(boundedExpiresAt(Infinity, NOW)).toBe(NOW + DEFAULTS.maxTokenLifetimeMs);
    expect(boundedExpiresAt(NOW + DEFAULTS.maxTokenLifetimeMs + 1, NOW)).toBe(NOW + DEFAULTS.maxTokenLifetimeMs);
    expect(boundedExpiresAt(NOW + 5, NOW)).toBe(NOW + 5);
    expect(boundedExpiresAt(NOW - 5, NOW)).toBe(NOW - 5);
  });
});

describe('tokenTimes', () => {
  const options = { refreshWindowMs: 60_000, expiryMarginMs: 5_000 };

  test('a long-lived token: the margin and the window as given', () => {
    expect(tokenTimes({ expiresAt: NOW + 3_600_000, obtainedAt: NOW }, options)).toEqual({
      refreshAt: NOW + 3_600_000 - 60_000,
      expiredAt: NOW + 3_600_000 - 5_000,
    });
  });

  test('a short-lived token: the margin is at most 10% and the window at most half of its lifetime', () => {
    expect(tokenTimes({ expiresAt: NOW + 2_000, obtainedAt: NOW }, options)).toEqual({
      refreshAt: NOW + 1_000,
      expiredAt: NOW + 1_800,
    });
  });

  test('jitter moves the refresh up to 20% of the window earlier', () => {
    const times = (jitter: number): number =>
      tokenTimes({ expiresAt: NOW + 3_600_000, obtainedAt: NOW }, { ...options, jitter }).refreshAt;
    expect(times(1)).toBe(NOW + 3_600_000 - 60_000 - 12_000);
    expect(times(0.5)).toBe(NOW + 3_600_000 - 60_000 - 6_000);
  });

  test('a window narrower than the margin never keeps a token past its expiredAt', () => {
    expect(
      tokenTimes({ expiresAt: NOW + 3_600_000, obtainedAt: NOW }, { refreshWindowMs: 0, expiryMarginMs: 5_000 }),
    ).toEqual({ refreshAt: NOW + 3_600_000 - 5_000, expiredAt: NOW + 3_600_000 - 5_000 });
  });

  test('an expiry before it was obtained counts as a zero lifetime; no expiry never refreshes', () => {
    expect(tokenTimes({ expiresAt: NOW - 1_000, obtainedAt: NOW }, options)).toEqual({
      refreshAt: NOW - 1_000,
      expiredAt: NOW - 1_000,
    });
    expect(tokenTimes({ expiresAt: null, obtainedAt: NOW }, options)).toEqual({
      refreshAt: Infinity,
      expiredAt: Infinity,
    });
  });
});
