/**
 * The recent history a server keeps in memory (ZooKeeper's `committedLog`, default 500
 * entries): the last `capacity` transactions of its log, so a leader can bring a learner
 * that is a little behind up to date (DIFF) without reading storage.
 *
 * The window covers the zxids (`base`, `last`]: every transaction of the server's history
 * in that range is in it, in order. Older ones are in storage's log or only in a snapshot.
 */
import type { Txn } from '../protocol/txn.js';
import type { Zxid } from '../protocol/zxid.js';

/** A bounded, ordered window over the tail of a server's history. */
export class HistoryWindow {
  private entries: Txn[] = [];
  private head = 0;
  private baseZxid: Zxid;

  /**
   * @param capacity how many transactions to keep.
   * @param base the zxid the window starts after (the history up to it is elsewhere).
   */
  constructor(
    readonly capacity: number,
    base: Zxid = 0,
  ) {
    this.baseZxid = base;
  }

  /** The window covers (`base`, `last`]. */
  get base(): Zxid {
    return this.baseZxid;
  }

  /** The last zxid in the window, or `base` when empty. */
  get last(): Zxid {
    return this.entries.length > this.head ? this.entries[this.entries.length - 1]!.header.zxid : this.baseZxid;
  }

  /** Number of transactions held. */
  get size(): number {
    return this.entries.length - this.head;
  }

  /** Append transactions (ascending, above `last`), evicting the oldest beyond capacity. */
  push(txns: readonly Txn[]): void {
    for (let i = 0; i < txns.length; i++) this.entries.push(txns[i]!);
    const excess = this.size - this.capacity;
    if (excess > 0) {
      this.head += excess;
      this.baseZxid = this.entries[this.head - 1]!.header.zxid;
      if (this.head > 1024 && this.head * 2 > this.entries.length) {
        this.entries = this.entries.slice(this.head);
        this.head = 0;
      }
    }
  }

  /** Drop every transaction above `zxid` (TRUNC). */
  truncate(zxid: Zxid): void {
    const keep = this.indexAfter(zxid);
    this.entries.length = keep;
    if (zxid < this.baseZxid) this.baseZxid = zxid;
  }

  /** Empty the window; it now starts after `base` (SNAP). */
  reset(base: Zxid): void {
    this.entries = [];
    this.head = 0;
    this.baseZxid = base;
  }

  /** True if `zxid` is the zxid of a transaction in the window, or the base. */
  contains(zxid: Zxid): boolean {
    if (zxid === this.baseZxid) return true;
    const i = this.indexAfter(zxid) - 1;
    return i >= this.head && this.entries[i]!.header.zxid === zxid;
  }

  /** The largest zxid in (`base`, `zxid`) of the window, or `base`. */
  before(zxid: Zxid): Zxid {
    const i = this.indexAtLeast(zxid) - 1;
    return i >= this.head ? this.entries[i]!.header.zxid : this.baseZxid;
  }

  /** The transactions with zxid in (`after`, `through`], ascending. */
  slice(after: Zxid, through: Zxid = Infinity): Txn[] {
    const from = this.indexAfter(after);
    const to = this.indexAfter(through);
    return this.entries.slice(from, Math.max(from, to));
  }

  /** Index of the first entry with zxid > `zxid`. */
  private indexAfter(zxid: Zxid): number {
    let lo = this.head;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid]!.header.zxid <= zxid) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the first entry with zxid >= `zxid`. */
  private indexAtLeast(zxid: Zxid): number {
    let lo = this.head;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid]!.header.zxid < zxid) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
