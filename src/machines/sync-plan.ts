/**
 * How a leader brings one learner's history in line with its own (reference §16.5,
 * ZooKeeper's `LearnerHandler.syncFollower` and `queueCommittedProposals`), as a pure
 * decision over the leader's history:
 *
 * - the learner's last zxid equals the end of the leader's history → empty DIFF;
 * - it is beyond the end → TRUNC to the end;
 * - the leader's memory window (or else its storage log) covers it:
 *   - the zxid is in the leader's history → DIFF, then every later transaction;
 *   - it is not (the learner logged proposals the leader never had): TRUNC to the last
 *     common zxid, then every later transaction, unless the next transaction is of another
 *     epoch (no truncation across an epoch boundary) → SNAP;
 * - anything older → SNAP: the leader's tree, then the history after it.
 *
 * The transactions returned are sent as PROPOSAL+COMMIT pairs.
 */
import type { Txn } from '../protocol/txn.js';
import { counterOf, epochOf, type Zxid } from '../protocol/zxid.js';
import type { ZabDatabase } from './database.js';

/** The three ways to synchronize (ZooKeeper's `SyncMode` minus NONE). */
export type SyncMode = 'diff' | 'trunc' | 'snap';

/** What to send a learner before NEWLEADER. */
export type SyncPlan =
  | { mode: 'diff'; zxid: Zxid; txns: Txn[] }
  | { mode: 'trunc'; zxid: Zxid; txns: Txn[] }
  | { mode: 'snap'; zxid: Zxid; snapshot: Uint8Array; txns: Txn[] };

/** A read-only view of a history segment covering (`base`, `last`]. */
interface Source {
  base: Zxid;
  txns: Txn[];
}

/**
 * Plan the synchronization of a learner whose last logged zxid is `peerZxid` against the
 * leader's history up to `end` (the last zxid the leader may send as committed).
 */
export function planSync(db: ZabDatabase, peerZxid: Zxid, end: Zxid): SyncPlan {
  if (peerZxid === end) return { mode: 'diff', zxid: end, txns: [] };
  if (peerZxid > end && counterOf(peerZxid) !== 0) return { mode: 'trunc', zxid: end, txns: [] };
  const source = historyCovering(db, peerZxid, end);
  if (source !== undefined) {
    const txns = source.txns;
    let i = 0;
    while (i < txns.length && txns[i]!.header.zxid < peerZxid) i++;
    if (peerZxid === source.base || (i < txns.length && txns[i]!.header.zxid === peerZxid)) {
      const from = peerZxid === source.base ? 0 : i + 1;
      return { mode: 'diff', zxid: end, txns: txns.slice(from) };
    }
    const next = txns[i];
    if (next !== undefined && epochOf(next.header.zxid) === epochOf(peerZxid)) {
      const common = i > 0 ? txns[i - 1]!.header.zxid : source.base;
      if (!Number.isNaN(common)) return { mode: 'trunc', zxid: common, txns: txns.slice(i) };
    }
  }
  return snapPlan(db, end);
}

/** A SNAP plan: the tree (committed state) and the history between it and `end`. */
export function snapPlan(db: ZabDatabase, end: Zxid): SyncPlan {
  const snapshot = db.tree.serialize();
  const zxid = db.tree.lastProcessedZxid;
  return { mode: 'snap', zxid, snapshot, txns: db.unappliedSlice(zxid, end) };
}

/** Longest DIFF read from the storage log; beyond it a snapshot is cheaper (ZooKeeper's size limit). */
const MAX_LOG_DIFF = 100_000;

/**
 * The leader's history in (`base`, `end`] around `peerZxid`, from memory or else the log.
 * `base` is NaN when the segment read from the log starts at `peerZxid` itself and the
 * zxid before it is unknown.
 */
function historyCovering(db: ZabDatabase, peerZxid: Zxid, end: Zxid): Source | undefined {
  const window = db.history;
  if (window.base <= peerZxid) return { base: window.base, txns: window.slice(window.base, end) };
  const storage = db.storage;
  if (storage.logStart > peerZxid || storage.lastLoggedZxid < window.base) return undefined;
  const from = peerZxid === storage.logStart ? storage.logStart : peerZxid - 1;
  const older = storage.readLog(from, MAX_LOG_DIFF);
  const last = older.length > 0 ? older[older.length - 1]!.header.zxid : from;
  if (last < window.base) return undefined; // too far behind: a snapshot is cheaper
  const joined: Txn[] = [];
  for (const txn of older) if (txn.header.zxid <= window.base) joined.push(txn);
  for (const txn of window.slice(window.base, end)) joined.push(txn);
  return { base: peerZxid === storage.logStart ? storage.logStart : NaN, txns: joined };
}
