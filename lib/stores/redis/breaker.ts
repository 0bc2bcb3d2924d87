import { RedisTokenStoreError } from './errors.js';
import type { RedisStoreOperation, RedisTokenStoreEvent } from './types.js';

interface Outage {
  /** When the first failure of this outage happened. */
  since: number;
  /** Until then, calls fail fast without reaching Redis. */
  openUntil: number;
  /** Settles when the call probing Redis right now has its answer; the others wait for it. */
  probe: Promise<void> | undefined;
  reason: string;
}

const noop = (): void => undefined;

/**
 * The store's circuit breaker: after a failure that means "Redis cannot serve", calls fail fast
 * (nothing sent) for `openMs`; then one call probes Redis while the others wait for its outcome.
 */
export class CircuitBreaker {
  readonly #openMs: number;
  readonly #now: () => number;
  readonly #emit: (event: RedisTokenStoreEvent) => void;
  #outage: Outage | undefined;

  constructor(options: { openMs: number; now: () => number; emit: (event: RedisTokenStoreEvent) => void }) {
    this.#openMs = options.openMs;
    this.#now = options.now;
    this.#emit = options.emit;
  }

  /**
   * Lets a call through to Redis, or throws at once while the breaker is open. Past `openMs` the
   * first call probes Redis; calls arriving meanwhile wait for its outcome (bounded by the
   * command timeout) rather than being turned away by a Redis that may be back. Resolves to the
   * function that ends the probe, when this call is the probe.
   */
  async admit(operation: RedisStoreOperation): Promise<(() => void) | undefined> {
    for (;;) {
      const outage = this.#outage;
      if (outage === undefined) return undefined;
      if (outage.probe !== undefined) {
        await outage.probe;
        continue;
      }
      const wait = Math.ceil(outage.openUntil - this.#now());
      if (wait > 0) {
        throw new RedisTokenStoreError(
          `Redis is unavailable (${outage.reason}); skipped for another ${wait} ms`,
          'ERR_REDIS_UNAVAILABLE',
          operation,
        );
      }
      let endProbe = noop;
      outage.probe = new Promise<void>((resolve) => (endProbe = resolve));
      return () => {
        outage.probe = undefined;
        endProbe();
      };
    }
  }

  /** Redis failed: open the breaker (again), and say so on the first failure of an outage. */
  open(operation: RedisStoreOperation, error: RedisTokenStoreError): void {
    const now = this.#now();
    const previous = this.#outage;
    this.#outage = {
      since: previous?.since ?? now,
      openUntil: now + this.#openMs,
      probe: undefined,
      reason: error.code === 'ERR_REDIS_TIMEOUT' ? 'timed out' : error.message.replace(/^Redis \w+ failed: /, ''),
    };
    if (previous === undefined) {
      this.#emit({
        type: 'redis-unavailable',
        operation,
        error,
        breakerOpenMs: this.#openMs,
        retryAfterMs: this.#openMs,
      });
    }
  }

  /** Redis answered: close the breaker, and say so if it was open. */
  close(operation: RedisStoreOperation): void {
    const outage = this.#outage;
    if (outage === undefined) return;
    this.#outage = undefined;
    this.#emit({ type: 'redis-recovered', operation, unavailableForMs: this.#now() - outage.since });
  }
}
