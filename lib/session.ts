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
}

const noop = (): void => undefined;

export function createSessionOrder(): SessionOrder {
  let generation = 0;
  let resuming: Promise<void> = Promise.resolve();
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
      const run = resuming.then(start);
      resuming = run.then(noop, noop);
      return run;
    },
  };
}
