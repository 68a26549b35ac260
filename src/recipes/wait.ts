/**
 * Waiting, with an AbortSignal and a timeout on the injected clock. Every blocking call
 * of a recipe (`acquire`, `enter`, `take`, `requestTurn`, ...) builds one `WaitScope`
 * from its options and races every await against it, so aborting or timing out stops
 * the wait at once; the caller then cleans up (deletes its node, removes its watch).
 */
import type { Clock, TimerHandle } from '../runtime/clock.js';
import { WaitTimeoutError, abortReason } from './errors.js';

/** Options of every blocking recipe call. */
export interface WaitOptions {
  /** Abort the wait; the call rejects with the signal's reason and leaves nothing behind. */
  signal?: AbortSignal;
  /** Give up after this many ms (on the client's clock); rejects with `WaitTimeoutError`. */
  timeout?: number;
}

/** One wait's cancellation: the caller's signal, a timeout, or both. */
export class WaitScope {
  private readonly controller = new AbortController();
  private readonly timer: TimerHandle | undefined;
  private readonly unlink: (() => void) | undefined;

  /** Aborted when the caller aborts or the timeout passes. */
  readonly signal: AbortSignal;

  constructor(
    private readonly clock: Clock,
    options: WaitOptions = {},
    what = 'wait',
  ) {
    this.signal = this.controller.signal;
    const parent = options.signal;
    if (parent !== undefined) {
      if (parent.aborted) {
        this.controller.abort(abortReason(parent));
      } else {
        const onAbort = (): void => this.controller.abort(abortReason(parent));
        parent.addEventListener('abort', onAbort, { once: true });
        this.unlink = () => parent.removeEventListener('abort', onAbort);
      }
    }
    const timeout = options.timeout;
    if (timeout !== undefined && !this.signal.aborted) {
      if (!(timeout >= 0)) throw new RangeError(`timeout must be >= 0, got ${timeout}`);
      this.timer = clock.setTimeout(() => this.controller.abort(new WaitTimeoutError(timeout, what)), timeout);
    }
  }

  /** True once aborted or timed out. */
  get aborted(): boolean {
    return this.signal.aborted;
  }

  /** Throw the abort reason if the scope ended. */
  throwIfAborted(): void {
    if (this.signal.aborted) throw abortReason(this.signal);
  }

  /** Abort the scope from inside (e.g. the session was lost while waiting). */
  abort(reason: Error): void {
    this.controller.abort(reason);
  }

  /** Settle with `promise`, or reject as soon as the scope ends. */
  race<T>(promise: Promise<T>): Promise<T> {
    return raceSignal(promise, this.signal);
  }

  /** Stop the timer and detach from the caller's signal. Idempotent. */
  dispose(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.unlink?.();
  }
}

/** Settle with `promise`, or reject with the signal's reason as soon as it aborts. */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(abortReason(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      promise.catch(() => undefined);
      reject(abortReason(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * A level-triggered wake-up: `fire()` wakes the current waiter, or the next one if
 * nobody waits yet (so a watch that fires between "look" and "wait" is not missed).
 */
export class Wakeup {
  private pending = false;
  private waiter: (() => void) | undefined;

  /** Wake the waiter (or remember it for the next `wait`). */
  fire(): void {
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      waiter();
    } else {
      this.pending = true;
    }
  }

  /** Forget a wake-up that nobody consumed. */
  reset(): void {
    this.pending = false;
  }

  /** Resolve at the next `fire()` (at once if one is pending); rejects when `signal` aborts. */
  wait(signal: AbortSignal): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    const woken = new Promise<void>((resolve) => {
      this.waiter = resolve;
    });
    return raceSignal(woken, signal).finally(() => {
      this.waiter = undefined;
    });
  }
}

/** Resolve after `ms` on `clock`; reject with the signal's reason if it aborts first. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  let timer: TimerHandle | undefined;
  const slept = new Promise<void>((resolve) => {
    timer = clock.setTimeout(resolve, ms);
  });
  if (signal === undefined) return slept;
  return raceSignal(slept, signal).finally(() => clock.clearTimeout(timer));
}
