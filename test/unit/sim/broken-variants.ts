/**
 * Deliberately broken variants of zoostate, built only here (never in the shipped code
 * path), to prove the simulator's checkers can fail.
 */
import type { Txn } from '../../../src/protocol/txn.js';
import type { Zxid } from '../../../src/protocol/zxid.js';
import type { Clock } from '../../../src/runtime/clock.js';
import type { Membership } from '../../../src/machines/quorum.js';
import type { DurableState, Snapshot, Storage, StorageDone } from '../../../src/storage/types.js';

/**
 * A storage whose log "fsync" lies: `append` reports durable at once (so a follower ACKs
 * a proposal before it is logged, and a leader counts its own ACK), while every write
 * reaches the real storage only `lagMs` later, in order. A crash in between loses what
 * was already acknowledged.
 */
export class LyingStorage implements Storage {
  private queue: { at: number; run: () => void }[] = [];
  private timer: unknown = null;

  constructor(
    private readonly inner: Storage,
    private readonly clock: Clock,
    private readonly lagMs: number,
  ) {}

  open(): DurableState {
    this.drop();
    return this.inner.open();
  }

  close(): void {
    this.drop();
    this.inner.close();
  }

  append(txns: readonly Txn[], done: StorageDone): void {
    const batch = txns.slice();
    this.later(() => this.inner.append(batch, () => {}));
    this.clock.defer(done); // the lie: "durable" before it even reached the log
  }

  writeAcceptedEpoch(epoch: number, done: StorageDone): void {
    this.later(() => this.inner.writeAcceptedEpoch(epoch, done));
  }

  writeCurrentEpoch(epoch: number, done: StorageDone): void {
    this.later(() => this.inner.writeCurrentEpoch(epoch, done));
  }

  truncate(zxid: Zxid, done: StorageDone): void {
    this.later(() => this.inner.truncate(zxid, done));
  }

  saveSnapshot(snapshot: Snapshot, done: StorageDone): void {
    this.later(() => this.inner.saveSnapshot(snapshot, done));
  }

  installSnapshot(snapshot: Snapshot, done: StorageDone): void {
    this.later(() => this.inner.installSnapshot(snapshot, done));
  }

  purge(zxid: Zxid, done: StorageDone): void {
    this.later(() => this.inner.purge(zxid, done));
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

  private later(run: () => void): void {
    this.queue.push({ at: this.clock.now() + this.lagMs, run });
    if (this.timer === null) this.arm();
  }

  private arm(): void {
    const head = this.queue[0]!;
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      const now = this.clock.now();
      while (this.queue.length > 0 && this.queue[0]!.at <= now) this.queue.shift()!.run();
      if (this.queue.length > 0) this.arm();
    }, Math.max(0, head.at - this.clock.now()));
  }

  private drop(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.queue = [];
  }
}

/**
 * Server 1 believes it is the only voter (the others observers): its quorum is itself, so
 * it leads and commits without anyone's ACK while the real majority elects its own
 * leader — a leader that commits before a quorum ACKs.
 */
export function selfQuorum(id: number, membership: Membership): Membership {
  if (id !== 1) return membership;
  return { voters: [1], observers: [...membership.voters.filter((v) => v !== 1), ...membership.observers] };
}
