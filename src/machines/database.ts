/**
 * `ZabDatabase`: one server's replicated state (ZooKeeper's `ZKDatabase`): the tree, the
 * transaction log behind it, and the in-memory history window, kept consistent through
 * role changes, truncation, snapshots and restarts.
 *
 * The invariant that keeps ZAB's recovery simple: **the tree only ever holds committed
 * transactions.** Everything this server logged but has not seen committed stays in
 * `unapplied` (ZooKeeper instead replays its whole log into the tree and reloads the tree
 * on TRUNC). So:
 * - a restart loads the newest snapshot and keeps the rest of the log unapplied;
 * - a new leader applies its unapplied tail once a quorum has ACKed NEWLEADER (its whole
 *   history is committed then); a learner applies on COMMIT/INFORM and, for the history
 *   it received during synchronization, at UPTODATE;
 * - TRUNC only ever drops unapplied transactions (a committed one is in every later
 *   leader's history, so the truncation point is never below it), and snapshots contain
 *   only committed state, so no tree ever has to be rolled back.
 *
 * `lastZxid` counts every append issued (durable or not): storage completes in order, so
 * anything reported to a leader is durable before the NEWLEADER ACK that relies on it.
 */
import type { Txn } from '../protocol/txn.js';
import type { Zxid } from '../protocol/zxid.js';
import { invariant } from '../runtime/assert.js';
import type { Storage, StorageDone } from '../storage/types.js';
import { DataTree, type ApplyResult, type DataTreeOptions } from '../tree/data-tree.js';
import { HistoryWindow } from './history.js';

/** Options of a `ZabDatabase`. */
export interface DatabaseOptions {
  /** Where everything durable goes. `open()` is called on it by the constructor. */
  storage: Storage;
  /** Transactions kept in memory for DIFF (ZooKeeper's commitLogCount). Default 500. */
  historyCapacity?: number;
  /** Take a snapshot after this many applied transactions (ZooKeeper's snapCount). Default 100 000. */
  snapCount?: number;
  /** Options of every tree this database builds. */
  treeOptions?: Omit<DataTreeOptions, 'configData'>;
  /**
   * Data of `/zookeeper/config` in a tree this database starts from scratch (no
   * snapshot): the static configuration. Snapshots carry their own.
   */
  configData?: Uint8Array;
  /**
   * Called for every transaction applied to the tree, in zxid order, with its result, or
   * undefined when `wantsResult` said nobody reads it.
   */
  onApplied?: (txn: Txn, result: ApplyResult | undefined) => void;
  /**
   * Whether anyone reads the result of applying `txn` (a local client waits for it, or
   * watches may fire). False lets the tree skip building outcomes, Stats and watch events,
   * a replica's main per-write allocation. Default: always true.
   */
  wantsResult?: (txn: Txn) => boolean;
  /** Called when the tree object is replaced (a SNAP from the leader). */
  onTreeReplaced?: (tree: DataTree) => void;
}

const NOOP: StorageDone = () => {};
const NO_RESULT = { result: false } as const;

/** One server's tree, log and history. See the module comment. */
export class ZabDatabase {
  /** The durable store. */
  readonly storage: Storage;
  /** Recent history, for synchronizing learners. */
  readonly history: HistoryWindow;
  /** Epochs as last written (the write may still be in flight). */
  acceptedEpoch: number;
  currentEpoch: number;

  private treeRef: DataTree;
  private readonly treeOptions: Omit<DataTreeOptions, 'configData'>;
  /** `treeOptions` plus the static configuration, for trees started from scratch. */
  private readonly freshTreeOptions: DataTreeOptions;
  private readonly snapCount: number;
  private readonly onApplied: ((txn: Txn, result: ApplyResult | undefined) => void) | undefined;
  private readonly wantsResult: ((txn: Txn) => boolean) | undefined;
  private readonly onTreeReplaced: ((tree: DataTree) => void) | undefined;
  private unapplied: Txn[] = [];
  private uHead = 0;
  private lastAppended: Zxid;
  private appliedSinceSnapshot = 0;
  private lastSnapshotZxid: Zxid;

  constructor(options: DatabaseOptions) {
    this.storage = options.storage;
    this.treeOptions = options.treeOptions ?? {};
    this.freshTreeOptions = options.configData === undefined ? this.treeOptions : { ...this.treeOptions, configData: options.configData };
    this.snapCount = options.snapCount ?? 100_000;
    this.onApplied = options.onApplied;
    this.wantsResult = options.wantsResult;
    this.onTreeReplaced = options.onTreeReplaced;
    const state = this.storage.open();
    this.acceptedEpoch = state.acceptedEpoch;
    this.currentEpoch = state.currentEpoch;
    this.treeRef = state.snapshot ? DataTree.deserialize(state.snapshot.bytes, this.treeOptions) : new DataTree(this.freshTreeOptions);
    this.lastSnapshotZxid = state.snapshot?.zxid ?? 0;
    const treeZxid = this.treeRef.lastProcessedZxid;
    invariant(state.logStart <= treeZxid || state.snapshot === null, 'storage log starts after its newest snapshot');
    // Everything logged after the snapshot is history, committed or not: keep it unapplied.
    this.unapplied = this.storage.readLog(treeZxid);
    const capacity = options.historyCapacity ?? 500;
    const recent = this.unapplied.length > capacity ? this.unapplied.slice(this.unapplied.length - capacity) : this.unapplied;
    const windowBase = recent.length < this.unapplied.length ? this.unapplied[this.unapplied.length - capacity - 1]!.header.zxid : treeZxid;
    this.history = new HistoryWindow(capacity, windowBase);
    this.history.push(recent);
    this.lastAppended = Math.max(treeZxid, state.lastLoggedZxid);
  }

  /** The tree (replaced by `installSnapshot`). */
  get tree(): DataTree {
    return this.treeRef;
  }

  /** The zxid of the last transaction in this server's history (logged, or in the tree). */
  get lastZxid(): Zxid {
    return this.lastAppended;
  }

  /** The zxid of the last applied (committed) transaction. */
  get lastAppliedZxid(): Zxid {
    return this.treeRef.lastProcessedZxid;
  }

  /** Logged transactions not applied yet. */
  get unappliedCount(): number {
    return this.unapplied.length - this.uHead;
  }

  /** The unapplied transactions with zxid in (`after`, `through`], ascending. */
  unappliedSlice(after: Zxid, through: Zxid = Infinity): Txn[] {
    const out: Txn[] = [];
    for (let i = this.uHead; i < this.unapplied.length; i++) {
      const txn = this.unapplied[i]!;
      const zxid = txn.header.zxid;
      if (zxid <= after) continue;
      if (zxid > through) break;
      out.push(txn);
    }
    return out;
  }

  /**
   * Log transactions (ascending, each above `lastZxid`); `done` runs once they are durable.
   * They join the history and wait in `unapplied` for their commit.
   */
  append(txns: readonly Txn[], done: StorageDone = NOOP): void {
    if (txns.length === 0) {
      this.storage.append(txns, done);
      return;
    }
    invariant(txns[0]!.header.zxid > this.lastAppended, () => `append out of order: ${txns[0]!.header.zxid} after ${this.lastAppended}`);
    for (let i = 0; i < txns.length; i++) this.unapplied.push(txns[i]!);
    this.history.push(txns);
    this.lastAppended = txns[txns.length - 1]!.header.zxid;
    this.storage.append(txns, done);
  }

  /** Apply every unapplied transaction with zxid ≤ `zxid`, in order. Returns how many. */
  applyThrough(zxid: Zxid): number {
    const tree = this.treeRef;
    const onApplied = this.onApplied;
    const wantsResult = this.wantsResult;
    const list = this.unapplied;
    let i = this.uHead;
    while (i < list.length && list[i]!.header.zxid <= zxid) {
      const txn = list[i]!;
      list[i] = undefined as unknown as Txn; // release early
      i++;
      const result = wantsResult === undefined || wantsResult(txn) ? tree.apply(txn) : tree.apply(txn, NO_RESULT);
      if (onApplied !== undefined) onApplied(txn, result);
    }
    const count = i - this.uHead;
    this.uHead = i;
    if (this.uHead === list.length) {
      list.length = 0;
      this.uHead = 0;
    } else if (this.uHead > 4096 && this.uHead * 2 > list.length) {
      this.unapplied = list.slice(this.uHead);
      this.uHead = 0;
    }
    this.appliedSinceSnapshot += count;
    return count;
  }

  /**
   * TRUNC: forget every logged transaction above `zxid`. Returns false (and changes
   * nothing) if the tree already holds a transaction above it, which the module's
   * invariant rules out; the caller must then resynchronize from a snapshot.
   */
  truncate(zxid: Zxid, done: StorageDone = NOOP): boolean {
    if (this.treeRef.lastProcessedZxid > zxid) return false;
    let end = this.unapplied.length;
    while (end > this.uHead && this.unapplied[end - 1]!.header.zxid > zxid) end--;
    this.unapplied.length = end;
    this.history.truncate(zxid);
    if (this.lastAppended > zxid) this.lastAppended = zxid;
    this.storage.truncate(Math.max(zxid, this.storage.logStart), done);
    return true;
  }

  /** SNAP: replace the tree and the whole log by a snapshot received from the leader. */
  installSnapshot(bytes: Uint8Array, done: StorageDone = NOOP): DataTree {
    const tree = DataTree.deserialize(bytes, this.treeOptions);
    const zxid = tree.lastProcessedZxid;
    this.treeRef = tree;
    this.unapplied = [];
    this.uHead = 0;
    this.history.reset(zxid);
    this.lastAppended = zxid;
    this.appliedSinceSnapshot = 0;
    this.lastSnapshotZxid = zxid;
    this.storage.installSnapshot({ zxid, bytes }, done);
    this.onTreeReplaced?.(tree);
    return tree;
  }

  /** Start over with an empty database (keeps the epochs): the last resort before a SNAP. */
  wipe(done: StorageDone = NOOP): void {
    this.installSnapshot(new DataTree(this.freshTreeOptions).serialize(), done);
  }

  /**
   * Take a snapshot if `snapCount` transactions were applied since the last one; call it
   * only in broadcast (when the tree is committed state). Purges the log up to the
   * previous snapshot, so one snapshot interval of log stays available for DIFF.
   */
  maybeSnapshot(): void {
    if (this.appliedSinceSnapshot < this.snapCount) return;
    this.appliedSinceSnapshot = 0;
    const zxid = this.treeRef.lastProcessedZxid;
    const previous = this.lastSnapshotZxid;
    this.lastSnapshotZxid = zxid;
    this.storage.saveSnapshot({ zxid, bytes: this.treeRef.serialize() }, NOOP);
    if (previous > this.storage.logStart) this.storage.purge(previous, NOOP);
  }

  /**
   * Take a snapshot at the next `maybeSnapshot` (a reconfig was applied: a restart then
   * finds the new configuration in the tree, as ZooKeeper finds it in its dynamic file).
   */
  requestSnapshot(): void {
    if (this.appliedSinceSnapshot < this.snapCount) this.appliedSinceSnapshot = this.snapCount;
  }

  /** Persist acceptedEpoch (before ACKEPOCH). */
  writeAcceptedEpoch(epoch: number, done: StorageDone): void {
    this.acceptedEpoch = epoch;
    this.storage.writeAcceptedEpoch(epoch, done);
  }

  /** Persist currentEpoch (before the NEWLEADER ACK). */
  writeCurrentEpoch(epoch: number, done: StorageDone): void {
    this.currentEpoch = epoch;
    this.storage.writeCurrentEpoch(epoch, done);
  }
}
