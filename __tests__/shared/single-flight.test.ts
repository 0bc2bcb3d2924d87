import { singleFlight } from '../../lib/shared/single-flight.js';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

describe('singleFlight', () => {
  it('runs one call for every caller that arrives while it is in flight, with the first caller’s arguments', async () => {
    const pending = deferred<string>();
    const run = jest.fn((reason: string) => pending.promise.then((value) => `${value}:${reason}`));
    const flight = singleFlight(run);
    const all = Promise.all([flight('first'), flight('second'), flight('third')]);
    pending.resolve('token');
    await expect(all).resolves.toEqual(['token:first', 'token:first', 'token:first']);
    expect(run).toHaveBeenCalledTimes(1);
    expect(run).toHaveBeenCalledWith('first');
  });

  it('starts the call at once, before any await, so a caller in the same tick joins it', () => {
    const run = jest.fn(() => new Promise<never>(() => undefined));
    const flight = singleFlight(run);
    void flight();
    expect(run).toHaveBeenCalledTimes(1);
    void flight();
    expect(run).toHaveBeenCalledTimes(1);
  });

  it('gives every waiter the same failure and never caches it: the next call runs again', async () => {
    const first = deferred<number>();
    const run = jest.fn().mockReturnValueOnce(first.promise).mockResolvedValueOnce(2);
    const flight = singleFlight(run as () => Promise<number>);
    const waiters = [flight(), flight()];
    first.reject(new Error('refused'));
    for (const waiter of waiters) await expect(waiter).rejects.toThrow('refused');
    await expect(flight()).resolves.toBe(2);
    expect(run).toHaveBeenCalledTimes(2);
  });

  it('starts a new call once the previous one has settled', async () => {
    let calls = 0;
    const flight = singleFlight(() => Promise.resolve(++calls));
    await expect(flight()).resolves.toBe(1);
    await expect(flight()).resolves.toBe(2);
  });

  it('turns a synchronous throw into a rejection and clears the flight', async () => {
    let calls = 0;
    const flight = singleFlight((): Promise<number> => {
      calls++;
      if (calls === 1) throw new Error('thrown');
      return Promise.resolve(calls);
    });
    await expect(flight()).rejects.toThrow('thrown');
    await expect(flight()).resolves.toBe(2);
  });
});
