/**
 * One call at a time of `run`: while a call is in flight, every other caller joins it and gets the
 * same outcome. The flight is registered synchronously, as soon as `run` reaches its first await
 * (before any other caller can arrive), and cleared when it settles, so a failure is never cached
 * and the next call after a settled one starts afresh. (The pattern of p-memoize with
 * `cache: false` and a constant key, without its function-copying dependency.)
 */
export function singleFlight<A extends unknown[], T>(run: (...args: A) => Promise<T>): (...args: A) => Promise<T> {
  let inFlight: Promise<T> | undefined;
  return (...args) => {
    if (inFlight !== undefined) return inFlight;
    // Runs `run` up to its first await now; a synchronous throw becomes this flight's rejection.
    const flight = (async () => run(...args))();
    inFlight = flight;
    // Registered before any caller's own handlers: a caller that calls again once this one has
    // settled starts a new flight. Nothing else replaces `inFlight` while this one is in it.
    const clear = (): void => {
      inFlight = undefined;
    };
    flight.then(clear, clear);
    return flight;
  };
}
