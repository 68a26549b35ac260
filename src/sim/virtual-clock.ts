/**
 * A virtual clock: time moves only when the test or simulator says so, and timers fire
 * in (deadline, creation order) order, so a run is a pure function of its inputs.
 * It implements `Clock` and therefore XState's clock interface too.
 */
import type { Clock, TimerHandle } from '../runtime/clock.js';

interface Timer {
  deadline: number;
  seq: number;
  fn: (() => void) | null; // null once cancelled
}

/** Options for running the clock. */
export interface RunOptions {
  /** Stop after this many callbacks (guards against livelock); default 10 million. */
  maxSteps?: number;
}

/** A deterministic, manually advanced `Clock`. */
export class VirtualClock implements Clock {
  private current: number;
  private seq = 0;
  private heap: Timer[] = [];
  private live = 0;

  /** @param start the initial `now()`, in ms. */
  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  /** Virtual time never jumps: the same as `now()`. */
  elapsed(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: Timer = { deadline: this.current + Math.max(0, ms), seq: this.seq++, fn };
    this.push(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    const timer = handle as Timer | undefined;
    if (timer && timer.fn) {
      timer.fn = null;
      this.live--;
    }
  }

  defer(fn: () => void): void {
    this.push({ deadline: this.current, seq: this.seq++, fn });
  }

  /** Number of callbacks waiting (timers and deferred calls). */
  get pending(): number {
    return this.live;
  }

  /** The deadline of the next callback, or undefined if none waits. */
  nextDeadline(): number | undefined {
    this.dropCancelled();
    return this.heap[0]?.deadline;
  }

  /** Run the next callback, moving time to its deadline. False if nothing waits. */
  step(): boolean {
    this.dropCancelled();
    const timer = this.pop();
    if (!timer) return false;
    if (timer.deadline > this.current) this.current = timer.deadline;
    const fn = timer.fn!;
    timer.fn = null;
    this.live--;
    fn();
    return true;
  }

  /** Run every callback due within `ms` from now, then set the time to now + `ms`. */
  advance(ms: number, options: RunOptions = {}): void {
    this.advanceTo(this.current + ms, options);
  }

  /** Run every callback due at or before `time`, then set the time to `time`. */
  advanceTo(time: number, options: RunOptions = {}): void {
    const maxSteps = options.maxSteps ?? 10_000_000;
    let steps = 0;
    for (;;) {
      const next = this.nextDeadline();
      if (next === undefined || next > time) break;
      if (++steps > maxSteps) throw new Error(`VirtualClock: more than ${maxSteps} steps before ${time}`);
      this.step();
    }
    if (time > this.current) this.current = time;
  }

  /** Run callbacks, advancing time as needed, until `done()` holds. Throws past `maxSteps` or when idle. */
  runUntil(done: () => boolean, options: RunOptions = {}): void {
    const maxSteps = options.maxSteps ?? 10_000_000;
    let steps = 0;
    while (!done()) {
      if (++steps > maxSteps) throw new Error(`VirtualClock: condition not reached in ${maxSteps} steps`);
      if (!this.step()) throw new Error('VirtualClock: idle before the condition was reached');
    }
  }

  /** Run only the callbacks due now (deferred calls and expired timers), without moving time. */
  flush(options: RunOptions = {}): void {
    this.advanceTo(this.current, options);
  }

  /**
   * A view of this clock whose `now()` is offset by `skew()` ms; timers still share this
   * clock's queue. Used to simulate a server whose wall clock jumps.
   */
  skewed(skew: () => number): Clock {
    return {
      now: () => this.current + skew(),
      elapsed: () => this.current, // a wall-clock jump leaves the monotonic clock alone
      setTimeout: (fn, ms) => this.setTimeout(fn, ms),
      clearTimeout: (handle) => this.clearTimeout(handle),
      defer: (fn) => this.defer(fn),
    };
  }

  private push(timer: Timer): void {
    this.live++;
    const heap = this.heap;
    heap.push(timer);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  private pop(): Timer | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return top;
  }

  private dropCancelled(): void {
    while (this.heap.length > 0 && this.heap[0]!.fn === null) this.pop();
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);
}
