/**
 * Time, injected. The core (tree, machines, server) never reads the wall clock or
 * starts a timer itself: it is handed a `Clock`. In production that is `systemClock`;
 * in tests and the simulator it is a `VirtualClock` (src/sim), so a run replays exactly.
 *
 * A `Clock` is also a valid XState `clock` option (it has `setTimeout`/`clearTimeout`),
 * so machine delays run on the same time source as everything else.
 */

/** An opaque handle returned by `setTimeout`. */
export type TimerHandle = unknown;

/** The time source and timer service every component receives. */
export interface Clock {
  /** Milliseconds since the epoch (or since the simulation started): wall time, may jump. */
  now(): number;
  /**
   * Milliseconds on a monotonic clock with an arbitrary origin (Java's `nanoTime`, which
   * ZooKeeper's session tracker uses): for timeouts, expiry and durations, so that a
   * wall-clock step (NTP, an operator, a VM resume) neither expires live sessions nor
   * keeps dead ones. `now()` stays for Stat times, TTLs and displayed timestamps.
   */
  elapsed(): number;
  /** Run `fn` once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancel a timer; a handle that already fired or was cleared is ignored. */
  clearTimeout(handle: TimerHandle): void;
  /**
   * Run `fn` soon, asynchronously, after the current call stack, in FIFO order with
   * other deferred calls. Transports use it to deliver messages without re-entering the
   * sender; it must be far cheaper than a zero-delay timer.
   */
  defer(fn: () => void): void;
}

/** The real clock: `Date.now`, Node timers and `setImmediate`. */
export const systemClock: Clock = {
  now: () => Date.now(),
  elapsed: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  defer: (fn) => {
    setImmediate(fn);
  },
};
