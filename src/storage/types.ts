/**
 * The `Storage` contract: everything ZAB must remember across a crash, and nothing else.
 *
 * What is stored (reference §16.1, §16.5):
 * - `acceptedEpoch`: the highest epoch this server agreed to follow (written in discovery,
 *   before ACKEPOCH);
 * - `currentEpoch`: the epoch of the leader whose history it accepted (written before the
 *   NEWLEADER ACK);
 * - the transaction log: every proposal this server accepted, committed or not, in zxid
 *   order (each written before its ACK);
 * - snapshots: the serialized tree at a zxid, so the log before it can be dropped.
 *
 * Rules every implementation follows:
 * - **No Promises.** A mutation takes a `done` callback, called once the change is durable
 *   (memory: soon; file storage: after fsync). The callback is always asynchronous and is
 *   scheduled through the injected `Clock` (`clock.defer` or a timer), never a microtask,
 *   so a simulated run replays exactly.
 * - **FIFO.** Mutations become durable, and their callbacks run, in the order they were
 *   issued. ZAB relies on it: "currentEpoch written" implies "every proposal appended
 *   before it is written" (the ZOOKEEPER-4785 ordering) with a single callback. One
 *   exception: `saveSnapshot` (committed state the log also holds) may complete after
 *   mutations issued later, so a large snapshot never holds up the ACKs behind it; it
 *   still completes after everything issued before it, and before a later
 *   `saveSnapshot` or `installSnapshot`.
 * - **Group commit.** `append` takes a batch; one durable write covers all of it.
 * - **Reads are synchronous** and see only durable state (as etcd raft's `Storage`): they
 *   happen at startup and when a leader synchronizes a learner from its log.
 * - **Crash.** After `close()` no callback runs; a mutation whose callback had not run may
 *   or may not be durable (memory storage: it is lost). `open()` returns what survived.
 */
import type { Txn } from '../protocol/txn.js';
import type { Zxid } from '../protocol/zxid.js';

/** A serialized tree and the zxid of the last transaction it contains. */
export interface Snapshot {
  zxid: Zxid;
  bytes: Uint8Array;
}

/** What survived: the durable state returned by `open()`. */
export interface DurableState {
  acceptedEpoch: number;
  currentEpoch: number;
  /** The newest snapshot, or null (then the log starts at zxid 0). */
  snapshot: Snapshot | null;
  /** The log covers every transaction in (`logStart`, `lastLoggedZxid`]. */
  logStart: Zxid;
  /** The zxid of the last durable log entry, or `logStart` when the log is empty. */
  lastLoggedZxid: Zxid;
}

/** Callback of a storage mutation: the change is durable. */
export type StorageDone = () => void;

/** Where ZAB persists epochs, the transaction log and snapshots. */
export interface Storage {
  /**
   * (Re)open: forget whatever was pending (as a crash would), resume issuing callbacks,
   * and return the durable state. Called once per server start, including restarts that
   * reuse this object.
   */
  open(): DurableState;
  /** Stop: no callback runs afterwards (pending mutations may be lost). Idempotent. */
  close(): void;

  /** Persist acceptedEpoch. */
  writeAcceptedEpoch(epoch: number, done: StorageDone): void;
  /** Persist currentEpoch. */
  writeCurrentEpoch(epoch: number, done: StorageDone): void;
  /** Append a batch of transactions (zxid-ascending, all above the last logged zxid). */
  append(txns: readonly Txn[], done: StorageDone): void;
  /** Drop every log entry above `zxid` (TRUNC). `zxid` must not be below the newest snapshot. */
  truncate(zxid: Zxid, done: StorageDone): void;
  /** Save a snapshot; the log is kept (see `purge`). */
  saveSnapshot(snapshot: Snapshot, done: StorageDone): void;
  /** Replace the whole database by a snapshot received from a leader (SNAP): the log is emptied. */
  installSnapshot(snapshot: Snapshot, done: StorageDone): void;
  /** Forget log entries at or below `zxid` (which must be covered by a snapshot). */
  purge(zxid: Zxid, done: StorageDone): void;

  /** Durable log entries with zxid > `after`, ascending, at most `limit`. */
  readLog(after: Zxid, limit?: number): Txn[];
  /** The durable log covers (`logStart`, `lastLoggedZxid`]. */
  readonly logStart: Zxid;
  /** The last durable log entry's zxid (or `logStart`). */
  readonly lastLoggedZxid: Zxid;
  /** The newest durable snapshot, or null. */
  latestSnapshot(): Snapshot | null;
}

/** Builds the storage of server `id`; called once per server (restarts reuse the object). */
export type StorageFactory = (id: number) => Storage;
