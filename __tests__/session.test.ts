import { describe, expect, test } from '@jest/globals';
import {
  createSessionFlights,
  createSessionOrder,
  isSuperseded,
  SupersededFlight,
} from '../lib/core/manager/session.js';
import { deferred } from './helpers/index.js';

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
