/**
 * `MemoryStorage`: the `Storage` contract held in memory, for in-process ensembles, tests
 * and the simulator. It survives a server "crash" (the object is reused by the restarted
 * server), and models one exactly: a mutation is durable only once its callback ran;
 * `close()` (or `crash()`) loses every mutation still pending, nothing else.
 *
 * Completion is batched: all mutations issued in one turn complete together in one
 * deferred call (group commit); with `latency` they complete `latency` ms after issue,
 * still in issue order, which lets tests crash a server "after logging, before the ACK".
 */
import type { Txn } from '../protocol/txn.js';
import type { Zxid } from '../protocol/zxid.js';
import type { Clock } from '../runtime/clock.js';
import { invariant } from '../runtime/assert.js';
import type { DurableState, Snapshot, Storage, StorageDone } from './types.js';

/** Options of a `MemoryStorage`. */
export interface MemoryStorageOptions {
  /** Schedules completions (`defer`, or `setTimeout` with a latency). */
  clock: Clock;
  /** Simulated write latency in ms (0: complete on the next deferred turn). */
  latency?: number;
}

/** Counters for tests and benchmarks. */
export interface MemoryStorageStats {
  /** Durable writes completed (one per mutation call; a batch append counts once). */
  writes: number;
  /** Transactions appended durably. */
  txnsAppended: number;
  /** Mutations lost by a crash. */
  lost: number;
}

interface Op {
  apply: () => void;
  done: StorageDone;
  due: number;
}

/** A `Storage` in memory that survives simulated crashes. */
export class MemoryStorage implements Storage {
  /** Counters (cumulative across restarts). */
  readonly stats: MemoryStorageStats = { writes: 0, txnsAppended: 0, lost: 0 };

  private readonly clock: Clock;
  private readonly latency: number;
  private acceptedEpoch = 0;
  private currentEpoch = 0;
  private snapshot: Snapshot | null = null;
  /** Durable log entries are `log[head..]`, zxid-ascending. */
  private log: Txn[] = [];
  private head = 0;
  private start: Zxid = 0;
  private pending: Op[] = [];
  private pendingHead = 0;
  private scheduled = false;
  private generation = 0;
  private open_ = false;

  constructor(options: MemoryStorageOptions) {
    this.clock = options.clock;
    this.latency = options.latency ?? 0;
  }

  open(): DurableState {
    this.dropPending();
    this.open_ = true;
    return {
      acceptedEpoch: this.acceptedEpoch,
      currentEpoch: this.currentEpoch,
      snapshot: this.snapshot,
      logStart: this.start,
      lastLoggedZxid: this.lastLoggedZxid,
    };
  }

  close(): void {
    this.dropPending();
    this.open_ = false;
  }

  /** Simulate a power loss: identical to `close()`, named for tests. */
  crash(): void {
    this.close();
  }

  /** Mutations issued whose callback has not run yet. */
  get pendingCount(): number {
    return this.pending.length - this.pendingHead;
  }

  writeAcceptedEpoch(epoch: number, done: StorageDone): void {
    this.enqueue(() => {
      this.acceptedEpoch = epoch;
    }, done);
  }

  writeCurrentEpoch(epoch: number, done: StorageDone): void {
    this.enqueue(() => {
      this.currentEpoch = epoch;
    }, done);
  }

  append(txns: readonly Txn[], done: StorageDone): void {
    const batch = txns.slice();
    this.enqueue(() => {
      let last = this.lastLoggedZxid;
      for (const txn of batch) {
        const zxid = txn.header.zxid;
        if (zxid <= last) invariant(false, `log append out of order: ${zxid} after ${last}`);
        last = zxid;
        this.log.push(txn);
      }
      this.stats.txnsAppended += batch.length;
    }, done);
  }

  truncate(zxid: Zxid, done: StorageDone): void {
    this.enqueue(() => {
      invariant(zxid >= this.start, () => `cannot truncate to ${zxid}: the log starts after ${this.start}`);
      const keep = this.indexAfter(zxid);
      this.log.length = keep;
    }, done);
  }

  saveSnapshot(snapshot: Snapshot, done: StorageDone): void {
    this.enqueue(() => {
      if (this.snapshot === null || snapshot.zxid >= this.snapshot.zxid) this.snapshot = snapshot;
    }, done);
  }

  installSnapshot(snapshot: Snapshot, done: StorageDone): void {
    this.enqueue(() => {
      this.snapshot = snapshot;
      this.log = [];
      this.head = 0;
      this.start = snapshot.zxid;
    }, done);
  }

  purge(zxid: Zxid, done: StorageDone): void {
    this.enqueue(() => {
      const limit = Math.min(zxid, this.snapshot?.zxid ?? this.start);
      if (limit <= this.start) return;
      this.head = this.indexAfter(limit);
      this.start = limit;
      if (this.head > 4096 && this.head * 2 > this.log.length) {
        this.log = this.log.slice(this.head);
        this.head = 0;
      }
    }, done);
  }

  readLog(after: Zxid, limit = Infinity): Txn[] {
    const from = this.indexAfter(after);
    const to = Math.min(this.log.length, from + limit);
    return this.log.slice(from, to);
  }

  get logStart(): Zxid {
    return this.start;
  }

  get lastLoggedZxid(): Zxid {
    return this.log.length > this.head ? this.log[this.log.length - 1]!.header.zxid : this.start;
  }

  latestSnapshot(): Snapshot | null {
    return this.snapshot;
  }

  /** The durable epochs (for tests). */
  epochs(): { acceptedEpoch: number; currentEpoch: number } {
    return { acceptedEpoch: this.acceptedEpoch, currentEpoch: this.currentEpoch };
  }

  /** Index of the first durable entry with zxid > `zxid`. */
  private indexAfter(zxid: Zxid): number {
    let lo = this.head;
    let hi = this.log.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.log[mid]!.header.zxid <= zxid) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private enqueue(apply: () => void, done: StorageDone): void {
    invariant(this.open_, 'storage used before open() or after close()');
    const op: Op = { apply, done, due: this.clock.now() + this.latency };
    this.pending.push(op);
    if (this.latency > 0) {
      const generation = this.generation;
      this.clock.setTimeout(() => {
        if (generation === this.generation) this.completeDue();
      }, this.latency);
    } else if (!this.scheduled) {
      this.scheduled = true;
      const generation = this.generation;
      this.clock.defer(() => {
        if (generation !== this.generation) return;
        this.scheduled = false;
        this.completeDue();
      });
    }
  }

  /** Make every due mutation durable, then run their callbacks, in issue order. */
  private completeDue(): void {
    const now = this.clock.now();
    const first = this.pendingHead;
    let end = first;
    while (end < this.pending.length && this.pending[end]!.due <= now) {
      this.pending[end]!.apply();
      this.stats.writes++;
      end++;
    }
    const done = this.pending.slice(first, end);
    this.pendingHead = end;
    if (this.pendingHead === this.pending.length) {
      this.pending.length = 0;
      this.pendingHead = 0;
    }
    const generation = this.generation;
    for (const op of done) {
      if (generation !== this.generation) break; // a callback closed the storage
      op.done();
    }
  }

  private dropPending(): void {
    this.stats.lost += this.pending.length - this.pendingHead;
    this.pending = [];
    this.pendingHead = 0;
    this.scheduled = false;
    this.generation++;
  }
}
