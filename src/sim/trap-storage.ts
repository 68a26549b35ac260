/**
 * `TrapStorage`: a `Storage` wrapper that crashes its server at a chosen persistence
 * step, so the simulator can stop a server exactly between "logged" and "ACK", between
 * "acceptedEpoch written" and "ACKEPOCH", in the middle of a synchronization (TRUNC,
 * SNAP install, the currentEpoch write before the NEWLEADER ACK), and so on.
 *
 * A trap names a step, a moment and how many matching calls to let through first:
 * - `issue`: the crash happens as the mutation is issued; it never becomes durable
 *   (nor does anything issued after it: storage is FIFO). The crash itself is deferred
 *   through the clock, so it never re-enters the caller.
 * - `durable`: the mutation becomes durable, and instead of its callback (the ACK, the
 *   ACKEPOCH, ...) the server crashes, synchronously, inside the completion.
 *
 * It also watches the durable epochs: acceptedEpoch and currentEpoch must never go
 * down (ZAB: a participant accepts a given epoch at most once), and a write that would
 * lower one is reported through `onViolation`.
 */
import type { Txn } from '../protocol/txn.js';
import type { Zxid } from '../protocol/zxid.js';
import type { Clock } from '../runtime/clock.js';
import type { DurableState, Snapshot, Storage, StorageDone } from '../storage/types.js';

/** A persistence step a trap can fire on. */
export type PersistStep = 'append' | 'acceptedEpoch' | 'currentEpoch' | 'truncate' | 'installSnapshot' | 'saveSnapshot';

/** Every persistence step, in a fixed order. */
export const PERSIST_STEPS: readonly PersistStep[] = ['append', 'acceptedEpoch', 'currentEpoch', 'truncate', 'installSnapshot', 'saveSnapshot'];

/** Where, when and after how many matching calls to crash. */
export interface StorageTrap {
  step: PersistStep;
  when: 'issue' | 'durable';
  /** Matching calls to let through before the one that crashes. */
  skip: number;
}

/** Options of a `TrapStorage`. */
export interface TrapStorageOptions {
  clock: Clock;
  /** Crash the server (stop it); called at most once per armed trap. */
  onCrash: (trap: StorageTrap) => void;
  /** A durable epoch would go down: a safety violation. */
  onViolation?: (message: string) => void;
}

/** See the module comment. */
export class TrapStorage implements Storage {
  /** The wrapped storage. */
  readonly inner: Storage;
  private readonly clock: Clock;
  private readonly onCrash: (trap: StorageTrap) => void;
  private readonly onViolation: (message: string) => void;
  private trap: StorageTrap | null = null;
  private remaining = 0;
  /** Set once an `issue` trap fired: every later mutation is swallowed until `open()`. */
  private swallowing = false;
  /** Incremented by every `open()`: a deferred crash only hits the run that armed it. */
  private opens = 0;
  private durableAccepted = 0;
  private durableCurrent = 0;

  constructor(inner: Storage, options: TrapStorageOptions) {
    this.inner = inner;
    this.clock = options.clock;
    this.onCrash = options.onCrash;
    this.onViolation = options.onViolation ?? (() => {});
  }

  /** Arm `trap` (replacing any armed one). */
  arm(trap: StorageTrap): void {
    this.trap = trap;
    this.remaining = trap.skip;
  }

  /** Disarm without firing. */
  disarm(): void {
    this.trap = null;
  }

  /** The armed trap, if any. */
  get armed(): StorageTrap | null {
    return this.trap;
  }

  open(): DurableState {
    this.swallowing = false;
    this.opens++;
    const state = this.inner.open();
    this.durableAccepted = state.acceptedEpoch;
    this.durableCurrent = state.currentEpoch;
    return state;
  }

  close(): void {
    this.inner.close();
  }

  writeAcceptedEpoch(epoch: number, done: StorageDone): void {
    if (epoch < this.durableAccepted) this.onViolation(`acceptedEpoch written down from ${this.durableAccepted} to ${epoch}`);
    this.run('acceptedEpoch', done, (d) =>
      this.inner.writeAcceptedEpoch(epoch, () => {
        if (epoch > this.durableAccepted) this.durableAccepted = epoch;
        d();
      }),
    );
  }

  writeCurrentEpoch(epoch: number, done: StorageDone): void {
    if (epoch < this.durableCurrent) this.onViolation(`currentEpoch written down from ${this.durableCurrent} to ${epoch}`);
    this.run('currentEpoch', done, (d) =>
      this.inner.writeCurrentEpoch(epoch, () => {
        if (epoch > this.durableCurrent) this.durableCurrent = epoch;
        d();
      }),
    );
  }

  append(txns: readonly Txn[], done: StorageDone): void {
    this.run('append', done, (d) => this.inner.append(txns, d), txns.length > 0);
  }

  truncate(zxid: Zxid, done: StorageDone): void {
    this.run('truncate', done, (d) => this.inner.truncate(zxid, d));
  }

  saveSnapshot(snapshot: Snapshot, done: StorageDone): void {
    this.run('saveSnapshot', done, (d) => this.inner.saveSnapshot(snapshot, d));
  }

  installSnapshot(snapshot: Snapshot, done: StorageDone): void {
    this.run('installSnapshot', done, (d) => this.inner.installSnapshot(snapshot, d));
  }

  purge(zxid: Zxid, done: StorageDone): void {
    this.run(null, done, (d) => this.inner.purge(zxid, d));
  }

  readLog(after: Zxid, limit?: number): Txn[] {
    return this.inner.readLog(after, limit);
  }

  get logStart(): Zxid {
    return this.inner.logStart;
  }

  get lastLoggedZxid(): Zxid {
    return this.inner.lastLoggedZxid;
  }

  latestSnapshot(): Snapshot | null {
    return this.inner.latestSnapshot();
  }

  /** Forward a mutation, unless a trap fires on it (or an earlier one swallows it). */
  private run(step: PersistStep | null, done: StorageDone, forward: (done: StorageDone) => void, counts = true): void {
    if (this.swallowing) return; // lost with the crash that is about to happen
    const trap = this.trap;
    if (trap === null || step !== trap.step || !counts || this.remaining-- > 0) {
      forward(done);
      return;
    }
    this.trap = null;
    if (trap.when === 'issue') {
      this.swallowing = true;
      const opens = this.opens;
      this.clock.defer(() => {
        if (opens === this.opens) this.onCrash(trap);
      });
      return;
    }
    forward(() => this.onCrash(trap));
  }
}
