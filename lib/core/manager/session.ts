/**
 * The session of a rotating refresh token, and the one place that orders its steps: starting one
 * (`resume`), rotating it (a flight) and ending it (eject).
 *
 * Simple rules:
 * - Each session has a generation. `resume()` starts the next one at once, before it waits for
 *   anything: from then on, a flight of an older generation hands out nothing. Its access token
 *   reaches neither its callers nor the store, its rotated refresh token is neither written nor
 *   handed to `onRefreshToken` (the application has moved on: that would put the old user's token
 *   back in its database), and it never presents a refresh token it had not presented yet.
 * - A flight begins only once every resume started before it has finished (or failed): it never
 *   presents the old session's refresh token under the new generation. Its callers are carried over
 *   to a flight of the current generation.
 * - The resume itself takes the store's lock, as a rotation does (across the fleet with a shared
 *   store): a rotation already under way elsewhere writes first, and the resumed refresh token is
 *   ordered after it, so that no older session's rotation can land on top of the new one.
 * - `end()` (eject) ends every session: each pending wait, flights and resumes alike, rejects with
 *   `ERR_TOKEN_ABORTED`, and so does everything asked later.
 */

import { waitWithAbort } from '../../shared/async.js';
import { TokenRequestError } from '../../shared/errors.js';
import type { RefreshReason } from '../../shared/events.js';
import { singleFlight } from '../../shared/single-flight.js';

/** Thrown inside a flight whose session was replaced by `resume()`; never reaches a caller. */
export class SupersededFlight extends Error {
  constructor() {
    super('a newer session started while this flight was under way');
    this.name = 'SupersededFlight';
  }
}

export const isSuperseded = (error: unknown): error is SupersededFlight => error instanceof SupersededFlight;

/** What a flight knows of the session it belongs to. */
export interface SessionTicket {
  readonly generation: number;
  /** Throws {@link SupersededFlight} once a newer session has started. */
  check(): void;
}

export interface SessionOrder {
  /** Waits for every resume started before, then the ticket of the current generation. */
  begin(): Promise<SessionTicket>;
  /** The ticket of the current generation, without waiting (a change another handle made). */
  current(): SessionTicket;
  /** Starts a new generation at once, then runs `start` after every earlier resume. */
  resume<T>(start: () => Promise<T>): Promise<T>;
  /** Whether a resume has started and not finished: what the store holds may be the old session's. */
  isResuming(): boolean;
}

export function createSessionOrder(): SessionOrder {
  let generation = 0;
  let resuming: Promise<void> = Promise.resolve();
  let pending = 0;
  const ticket = (at: number): SessionTicket => ({
    generation: at,
    check() {
      if (at !== generation) throw new SupersededFlight();
    },
  });
  return {
    async begin() {
      let seen: Promise<void>;
      do {
        seen = resuming;
        await seen;
      } while (seen !== resuming);
      return ticket(generation);
    },
    current: () => ticket(generation),
    resume(start) {
      generation++;
      pending++;
      const run = resuming.then(start);
      const settled = (): void => {
        pending--;
      };
      resuming = run.then(settled, settled);
      return run;
    },
    isResuming: () => pending > 0,
  };
}

/**
 * A token manager's flights as its callers see them: one at a time ({@link singleFlight}), released all at
 * once when the handle is ejected (one wait per flight, not per caller), and a flight of a replaced
 * session handing its callers over to one of the new session.
 */
export function createSessionFlights<T>(
  runFlight: (reason: RefreshReason) => Promise<T>,
  handle: { name: string; url: string; signal: AbortSignal },
) {
  const ejected = (): TokenRequestError =>
    new TokenRequestError(`Could not get a token for provider "${handle.name}": the handle was ejected`, {
      code: 'ERR_TOKEN_ABORTED',
      provider: handle.name,
      url: handle.url,
      attempts: 0,
    });
  /** Every wait ends when the handle is ejected (`ERR_TOKEN_ABORTED`), whatever it waits for. */
  const bounded = <R>(start: () => Promise<R>): Promise<R> =>
    waitWithAbort(start, { signal: handle.signal, timeoutMs: 0, onAbort: ejected, onTimeout: ejected });
  const flight = singleFlight((reason: RefreshReason) => bounded(() => runFlight(reason)));
  const flightOfSession = async (reason: RefreshReason): Promise<T> => {
    for (;;) {
      try {
        return await flight(reason);
      } catch (error) {
        if (!isSuperseded(error)) throw error;
      }
    }
  };
  return { flight, flightOfSession, bounded, ejected };
}
