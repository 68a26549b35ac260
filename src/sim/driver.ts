/**
 * Drives the virtual clock for a simulated run. Server-level workloads are pure
 * callbacks: the clock can run 5 virtual ms at a time. Session-level workloads (real
 * `ZooKeeperClient`s, recipes) are Promise code: between two clock events the promise
 * continuations those events released must run, or a client would act "later" in
 * virtual time than it does in reality. So the async mode steps one clock event at a
 * time and lets the microtask queue drain after each (a few rounds), and drains it
 * deeply before virtual time moves forward.
 *
 * Determinism: nothing but the simulation runs in the process (or worker) meanwhile, and
 * the microtask queue is FIFO, so the interleaving of clock events and continuations is
 * the same on every run of a seed.
 */
import type { VirtualClock } from './virtual-clock.js';

/** Raised when the run keeps the clock busy without letting virtual time pass. */
export class Livelock extends Error {}

/** Options of a `SimDriver`. */
export interface DriverOptions {
  /** Step event by event, draining promise continuations (session-level workloads). */
  async: boolean;
  /** Virtual ms per poll in sync mode, and the livelock window in both modes. */
  pollMs: number;
  /** Clock events allowed within one livelock window. */
  livelockSteps: number;
  /** What the servers are doing, for the livelock message. */
  describe: () => string;
}

const microtask = (): Promise<void> => Promise.resolve();
/**
 * Microtask rounds of a full drain. A macrotask turn (setImmediate) would drain the
 * queue whatever its depth, but costs an event-loop turn each time; continuation chains
 * in the clients and recipes are far shorter than this, and a longer one only runs on
 * at the next clock event (deterministically either way).
 */
const DEEP_ROUNDS = 40;

/** Runs the clock until a condition holds; see the module comment. */
export class SimDriver {
  /** Deep drains so far, for statistics. */
  drains = 0;
  private readonly clock: VirtualClock;
  private readonly options: DriverOptions;

  constructor(clock: VirtualClock, options: DriverOptions) {
    this.clock = clock;
    this.options = options;
  }

  /**
   * Run until `done()` holds (true) or `ms` of virtual time passed (false). Throws
   * `Livelock` when more than `livelockSteps` events run within `pollMs` virtual ms.
   */
  async runUntil(done: () => boolean, ms: number): Promise<boolean> {
    return this.options.async ? this.runAsync(done, ms) : this.runSync(done, ms);
  }

  /** Let promise continuations run (a few microtask rounds; many with `deep`). */
  async settle(deep = false): Promise<void> {
    if (!this.options.async) return;
    const rounds = deep ? DEEP_ROUNDS : 4;
    if (deep) this.drains++;
    for (let i = 0; i < rounds; i++) await microtask();
  }

  private runSync(done: () => boolean, ms: number): boolean {
    const { clock, options } = this;
    const deadline = clock.now() + ms;
    while (!done()) {
      if (clock.now() >= deadline) return false;
      const before = clock.now();
      try {
        clock.advance(options.pollMs, { maxSteps: options.livelockSteps });
      } catch (error) {
        if (!String((error as Error).message).startsWith('VirtualClock: more than')) throw error;
        throw new Livelock(`livelock: more than ${options.livelockSteps} events within ${options.pollMs} virtual ms at t=${before}: ${options.describe()}`);
      }
    }
    return true;
  }

  private async runAsync(done: () => boolean, ms: number): Promise<boolean> {
    const { clock, options } = this;
    const deadline = clock.now() + ms;
    let windowStart = clock.now();
    let windowSteps = 0;
    for (;;) {
      await this.settle();
      if (done()) return true;
      let next = clock.nextDeadline();
      if (next === undefined || next > clock.now()) {
        // Time is about to move: every continuation of this instant must run first.
        await this.settle(true);
        if (done()) return true;
        next = clock.nextDeadline();
      }
      if (next === undefined || next > deadline) {
        clock.advanceTo(Math.max(clock.now(), deadline));
        return done();
      }
      if (next >= windowStart + options.pollMs) {
        windowStart = next;
        windowSteps = 0;
      }
      if (++windowSteps > options.livelockSteps) {
        throw new Livelock(`livelock: more than ${options.livelockSteps} events within ${options.pollMs} virtual ms at t=${windowStart}: ${options.describe()}`);
      }
      clock.step();
    }
  }
}
