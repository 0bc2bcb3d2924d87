/** setTimeout that never keeps the process alive. */
export function unrefTimer(callback: () => void, ms: number): ReturnType<typeof setTimeout> {
  const timer = setTimeout(callback, ms);
  (timer as { unref?: () => void }).unref?.();
  return timer;
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  const reason = (): unknown => signal.reason;
  if (signal.aborted) return Promise.reject(reason());
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(reason());
    };
    const timer = unrefTimer(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Settles like `promise`, or rejects with `onTimeout()` if it takes longer than `ms`. */
export function withDeadline<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = unrefTimer(() => reject(onTimeout()), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * Runs a user callback and waits for it at most `timeoutMs`, or until `signal` aborts: it may throw,
 * reject, or never settle, and the caller goes on all the same. Resolves to what went wrong, if anything.
 */
export async function runCallback(
  callback: () => unknown,
  limits: { timeoutMs: number; signal: AbortSignal; onTimeout: () => Error },
): Promise<unknown> {
  try {
    const result = callback();
    if (typeof (result as { then?: unknown } | null | undefined)?.then !== 'function') return undefined;
    await waitWithAbort(() => Promise.resolve(result), {
      signal: limits.signal,
      timeoutMs: limits.timeoutMs,
      onAbort: () => toError(limits.signal.reason),
      onTimeout: limits.onTimeout,
    });
    return undefined;
  } catch (error) {
    return error ?? new Error('the callback threw undefined');
  }
}

/** A user callback's result, when it is a promise, may reject: never leave that unhandled (it is not awaited). */
export function ignoreRejection(result: unknown): void {
  const then = (result as { then?: unknown } | null | undefined)?.then;
  if (typeof then === 'function')
    (then as (a: unknown, b: () => void) => unknown).call(result, undefined, () => undefined);
}

const toError = (reason: unknown): Error => (reason instanceof Error ? reason : new Error(String(reason)));

export { fingerprint, sha256Hex } from './sha256.js';

/** How a caller may stop waiting: its own signal, an axios `CancelToken`, a time limit. */
export interface WaitLimits {
  readonly signal?:
    { readonly aborted: boolean; addEventListener?: unknown; removeEventListener?: unknown } | undefined;
  readonly cancelToken?:
    | { subscribe(listener: (reason: unknown) => void): void; unsubscribe(listener: (reason: unknown) => void): void }
    | undefined;
  /** 0 for none. */
  readonly timeoutMs: number;
  readonly onAbort: () => Error;
  readonly onTimeout: () => Error;
}

type Listener = (this: unknown, event: unknown) => void;

/**
 * Waits for a shared promise on one caller's behalf: the caller's abort, cancellation or time limit
 * ends this wait only, never the shared work, and the shared promise is always observed so its
 * failure is never left unhandled.
 */
export function waitWithAbort<T>(start: () => Promise<T>, limits: WaitLimits): Promise<T> {
  const { signal, cancelToken, timeoutMs } = limits;
  if (signal?.aborted === true) return Promise.reject(limits.onAbort());
  const pending = start();
  if (signal === undefined && cancelToken === undefined && timeoutMs <= 0) return pending;
  const on = signal?.addEventListener as ((type: string, listener: Listener) => void) | undefined;
  const off = signal?.removeEventListener as ((type: string, listener: Listener) => void) | undefined;
  return new Promise<T>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (settle: () => void): void => {
      if (timer !== undefined) clearTimeout(timer);
      off?.call(signal, 'abort', onAbort);
      cancelToken?.unsubscribe(onCancel);
      settle();
    };
    const onAbort = (): void => finish(() => reject(limits.onAbort()));
    const onCancel = (reason: unknown): void => finish(() => reject(reason));
    pending.then(
      (value) => finish(() => resolve(value)),
      (error: unknown) => finish(() => reject(error)),
    );
    if (signal?.aborted === true) {
      onAbort();
      return;
    }
    on?.call(signal, 'abort', onAbort);
    cancelToken?.subscribe(onCancel);
    if (timeoutMs > 0) timer = unrefTimer(() => finish(() => reject(limits.onTimeout())), timeoutMs);
  });
}
