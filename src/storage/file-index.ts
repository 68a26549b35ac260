/**
 * The in-memory index of the durable log: for every record, its zxid and its byte
 * offset in its segment (16 bytes a record, in two growable typed arrays). Segments
 * know the index position of their first record, so a zxid maps to (segment, offset)
 * by two binary searches and the log is read from disk on demand.
 *
 * Records of a group being written are *staged* past the end (`stage`) and become
 * visible only when the group is durable (`commit`), so reads never see them early.
 */
import type { Zxid } from '../protocol/zxid.js';

/** Zxids and offsets of the durable records, in log order. */
export class LogIndex {
  private zxids = new Float64Array(1024);
  private offsets = new Float64Array(1024);
  /** Position of the first live record (records before it were purged). */
  private head = 0;
  /** Position just after the last durable record. */
  private end = 0;
  /** Position just after the last staged record. */
  private staged = 0;

  /** Number of durable records. */
  get size(): number {
    return this.end - this.head;
  }

  /** Position of the first durable record (positions are stable until `compact`). */
  get first(): number {
    return this.head;
  }

  /** Position just after the last durable record. */
  get last(): number {
    return this.end;
  }

  /** The zxid at position `pos`. */
  zxidAt(pos: number): Zxid {
    return this.zxids[pos]!;
  }

  /** The byte offset (in its segment) of the record at position `pos`. */
  offsetAt(pos: number): number {
    return this.offsets[pos]!;
  }

  /** The position of the first durable record with zxid > `zxid` (`last` if none). */
  upperBound(zxid: Zxid): number {
    let lo = this.head;
    let hi = this.end;
    const z = this.zxids;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (z[mid]! <= zxid) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Stage a record of the group being written (invisible until `commit`). */
  stage(zxid: Zxid, offset: number): void {
    if (this.staged === this.zxids.length) this.grow();
    this.zxids[this.staged] = zxid;
    this.offsets[this.staged] = offset;
    this.staged++;
  }

  /** Make every staged record durable. */
  commit(): void {
    this.end = this.staged;
  }

  /** Drop the staged records (the group failed or the storage closed). */
  unstage(): void {
    this.staged = this.end;
  }

  /** Forget records at positions ≥ `pos` (TRUNC). */
  truncate(pos: number): void {
    this.end = this.staged = Math.max(this.head, Math.min(pos, this.end));
  }

  /** Forget records before position `pos` (purge). Positions of the others do not change. */
  dropBefore(pos: number): void {
    this.head = Math.min(Math.max(this.head, pos), this.end);
  }

  /** Forget everything (SNAP). */
  clear(): void {
    this.head = this.end = this.staged = 0;
  }

  /**
   * Reclaim the space of purged records when it is worth it; returns how far positions
   * moved down (callers subtract it from the positions they keep), usually 0.
   */
  compact(): number {
    const shift = this.head;
    if (shift < 4096 || shift * 2 < this.staged) return 0;
    this.zxids.copyWithin(0, shift, this.staged);
    this.offsets.copyWithin(0, shift, this.staged);
    this.head = 0;
    this.end -= shift;
    this.staged -= shift;
    return shift;
  }

  private grow(): void {
    const zxids = new Float64Array(this.zxids.length * 2);
    zxids.set(this.zxids);
    this.zxids = zxids;
    const offsets = new Float64Array(this.offsets.length * 2);
    offsets.set(this.offsets);
    this.offsets = offsets;
  }
}
