/**
 * `FileStorage`: the `Storage` contract on disk, with fsync. Acknowledged means durable:
 * a mutation's callback runs only after the data and every directory entry it needs
 * are fsynced.
 *
 * Directory layout (byte formats in file-format.ts):
 * - `acceptedEpoch`, `currentEpoch`: decimal text, replaced atomically (write a temp
 *   file, fsync it, rename it over the old one, fsync the directory);
 * - `log.<16 hex>`: transaction log segments, named by the zxid each continues from
 *   (the last zxid before its first record), so truncation never invalidates a name.
 *   A header (magic, version, generation, prevZxid) and records
 *   `[length u32][crc32 u32][payload]` (payload: file-txn-codec.ts; the length word's
 *   top bit marks the first record of each group write). A new segment is started once
 *   the current one passes `segmentBytes`, always at a group boundary; there is always
 *   at least one segment, so the log's start is on disk even when the log is empty.
 *   Zeros are written ahead of the log's end (`preallocateBytes`) so that most fsyncs
 *   flush data only;
 * - `snapshot.<16 hex zxid>`: a header, the snapshot bytes and their crc32, written to a
 *   temp file in chunks, fsynced, renamed into place, directory fsynced;
 * - `*.tmp`: temp files; leftovers were never acknowledged and are deleted on open.
 * Unknown files (a `myid`, for instance) are left alone.
 *
 * The generation in segment and snapshot headers makes `installSnapshot` atomic: the
 * new snapshot carries generation G+1 and, once renamed into place, voids every file of
 * an older generation (deleted right after, or by the next recovery).
 *
 * How writes flow: mutations wait in one FIFO queue; a single pipeline executes them in
 * order. Consecutive appends form one group: one write() and one fdatasync() cover all of
 * them (everything queued while the previous fsync ran), so the number of fsyncs adapts
 * to the load. Syscalls that change files are synchronous (they only touch the page
 * cache and are quick); only fsyncs (and the chunks of a snapshot's temp file) run on
 * the libuv thread pool, so after `close()` nothing but an fsync or a temp-file write
 * can still be in flight, and a reopened storage never races a stale write.
 * Completion callbacks run through `clock.defer`, in issue order; the pipeline starts
 * through `clock.defer` too, so every append issued in the same turn joins one group.
 * The one exception to the order is `saveSnapshot` (the Storage contract allows it): a
 * snapshot is written beside the pipeline, as ZooKeeper writes its snapshots from a
 * thread of their own, so appends and their ACKs never wait for a tree of many megabytes
 * to reach the disk. Only another snapshot and `installSnapshot` wait for it; a `purge`
 * works from the durable snapshots and leaves the one in flight alone.
 *
 * Reads are synchronous and see only durable state: an in-memory index maps each
 * durable record's zxid to its segment offset (records of a group in flight are staged
 * and become visible at its commit), and `readLog` reads the records from disk and
 * checks their crc32. One exception, by design: a `truncate` takes effect in reads when
 * it starts executing (the removed records are being deleted from the files), before
 * it is durable.
 *
 * Recovery (file-recover.ts) cuts a torn tail off the last segment and refuses, with an
 * error naming the file and offset, any damage that would lose acknowledged data.
 *
 * With `fsync: false` nothing is fsynced (a process crash loses nothing, a power loss
 * may) and the pipeline runs synchronously within the clock's deferred calls, so tests
 * can drive it deterministically with a `VirtualClock`.
 */
import * as fs from 'node:fs';
import { join, resolve } from 'node:path';
import { crc32 } from './file-crc.js';
import type { Txn } from '../protocol/txn.js';
import type { Zxid } from '../protocol/zxid.js';
import { systemClock, type Clock } from '../runtime/clock.js';
import { invariant } from '../runtime/assert.js';
import {
  GROUP_START,
  LENGTH_MASK,
  RECORD_HEADER_BYTES,
  SEGMENT_HEADER_BYTES,
  SNAPSHOT_HEADER_BYTES,
  StorageCorruptionError,
  encodeEpoch,
  encodeSegmentHeader,
  encodeSnapshotHeader,
  zxidHex,
} from './file-format.js';
import { LogIndex } from './file-index.js';
import {
  ACCEPTED_EPOCH_FILE,
  CURRENT_EPOCH_FILE,
  SEGMENT_PREFIX,
  SNAPSHOT_PREFIX,
  TMP_SUFFIX,
  createSegmentFileSync,
  readSnapshotFile,
  recover,
  type SnapshotInfo,
} from './file-recover.js';
import { ByteWriter, decodeTxn, encodeTxn } from './file-txn-codec.js';
import type { DurableState, Snapshot, Storage, StorageDone, StorageFactory } from './types.js';

export { StorageCorruptionError } from './file-format.js';

/** Options of a `FileStorage`. */
export interface FileStorageOptions {
  /** The data directory (created if missing). One `FileStorage` per directory. */
  dir: string;
  /** Schedules completion callbacks; default `systemClock`. */
  clock?: Clock;
  /** fsync every mutation before acknowledging it; default true. */
  fsync?: boolean;
  /** Start a new log segment once the current one is this big; default 64 MiB. */
  segmentBytes?: number;
  /** Stop adding appends to a group once its encoding reaches this size; default 8 MiB. */
  maxGroupBytes?: number;
  /**
   * Zeros written ahead of the log's end whenever it reaches them (never past
   * `segmentBytes`), so most fsyncs need no metadata update; 0 disables it. Default 1 MiB.
   */
  preallocateBytes?: number;
  /** Size of the chunks a snapshot is written in; default 4 MiB. */
  snapshotChunkBytes?: number;
  /**
   * A write or fsync failed: the storage has stopped (as after `close()`; no callback
   * runs again) and must not be trusted until reopened. Default: rethrow, which crashes
   * the process, as ZooKeeper exits when it cannot write its log.
   */
  onError?: (error: Error) => void;
}

/** Counters, cumulative across reopens. */
export interface FileStorageStats {
  /** Group commits: one write and one fdatasync each. */
  groups: number;
  /** fsync/fdatasync calls (files and the directory). */
  fsyncs: number;
  /** Transactions appended durably. */
  txnsAppended: number;
  /** Log bytes appended durably (records with their headers). */
  bytesAppended: number;
  /** Log segments created. */
  segmentsCreated: number;
  /** Snapshots written (saved or installed). */
  snapshotsWritten: number;
  /** Mutations dropped by `close()` before their callback ran. */
  lost: number;
}

/** What the last `open()` repaired (nothing acknowledged is ever repaired away). */
export interface RecoveryReport {
  /** The torn tail cut off the last segment, if there was one. */
  truncatedTail: { file: string; offset: number } | null;
}

type Op =
  | { kind: 'append'; txns: readonly Txn[]; done: StorageDone }
  | { kind: 'epoch'; file: typeof ACCEPTED_EPOCH_FILE | typeof CURRENT_EPOCH_FILE; epoch: number; done: StorageDone }
  | { kind: 'truncate'; zxid: Zxid; done: StorageDone }
  | SnapshotOp
  | { kind: 'purge'; zxid: Zxid; done: StorageDone };
type SnapshotOp = { kind: 'snapshot'; snapshot: Snapshot; install: boolean; done: StorageDone };

interface Segment {
  path: string;
  prevZxid: Zxid;
  /** Index position of its first record. */
  firstPos: number;
  /** Offset just after its last durable record. */
  end: number;
  /** File size: bytes past `end` are zeros written ahead (preallocation). */
  allocated: number;
  fd: number;
}

/** The file descriptors and in-flight I/O of one open()..close() period. */
class Session {
  dead = false;
  inFlight = 0;
  private readonly fds = new Set<number>();

  open(path: string, flags: string): number {
    const fd = fs.openSync(path, flags);
    this.fds.add(fd);
    return fd;
  }

  close(fd: number): void {
    if (this.fds.delete(fd)) fs.closeSync(fd);
  }

  /** Close every descriptor once nothing is in flight (a thread-pool call may still use one). */
  release(): void {
    if (this.inFlight > 0) return;
    for (const fd of this.fds) fs.closeSync(fd);
    this.fds.clear();
  }
}

const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_GROUP_BYTES = 8 * 1024 * 1024;
const DEFAULT_SNAPSHOT_CHUNK = 4 * 1024 * 1024;
const READ_CHUNK = 8 * 1024 * 1024;
const DEFAULT_PREALLOCATE_BYTES = 1024 * 1024;
const ZEROS = Buffer.alloc(256 * 1024);

/** Directories open in this process: two storages on one directory would corrupt it. */
const openDirs = new Set<string>();
let tmpCounter = 0;

function writeAll(fd: number, buf: Uint8Array, offset: number, length: number, position: number): void {
  while (length > 0) {
    const n = fs.writeSync(fd, buf, offset, length, position);
    offset += n;
    length -= n;
    position += n;
  }
}

function readAll(fd: number, buf: Buffer, position: number, path: string): void {
  let done = 0;
  while (done < buf.length) {
    const n = fs.readSync(fd, buf, done, buf.length - done, position + done);
    if (n === 0) throw new StorageCorruptionError(path, position + done, 'unexpected end of file');
    done += n;
  }
}

function checkSnapshot(snapshot: Snapshot): void {
  invariant(Number.isSafeInteger(snapshot.zxid) && snapshot.zxid >= 0, () => `invalid snapshot zxid ${snapshot.zxid}`);
  invariant(snapshot.bytes instanceof Uint8Array, 'snapshot bytes must be a Uint8Array');
}

/** A `Storage` in a directory, with fsync. See the module comment. */
export class FileStorage implements Storage {
  /** Counters (cumulative across reopens). */
  readonly stats: FileStorageStats = { groups: 0, fsyncs: 0, txnsAppended: 0, bytesAppended: 0, segmentsCreated: 0, snapshotsWritten: 0, lost: 0 };
  /** The data directory (absolute). */
  readonly dir: string;

  private readonly clock: Clock;
  private readonly fsyncEnabled: boolean;
  private readonly segmentBytes: number;
  private readonly maxGroupBytes: number;
  private readonly snapshotChunk: number;
  private readonly preallocateBytes: number;
  private readonly onError: (error: Error) => void;
  private readonly writer = new ByteWriter(256 * 1024);

  private session: Session | null = null;
  private dirFd = -1;
  private recoveryReport: RecoveryReport = { truncatedTail: null };
  private acceptedEpoch = 0;
  private currentEpoch = 0;
  private generation = 0;
  private snapshots: SnapshotInfo[] = [];
  private newest: SnapshotInfo | null = null;
  private snapshotCache: WeakRef<Uint8Array> | null = null;
  private segments: Segment[] = [];
  private index = new LogIndex();

  private queue: Op[] = [];
  private qHead = 0;
  private running = false;
  /** A `saveSnapshot` being written beside the pipeline (see the module comment), or null. */
  private background: SnapshotOp | null = null;
  private pumping = false;
  private kickScheduled = false;
  /** The zxid the log will end at once every queued mutation is done (for argument checks). */
  private lastIssued: Zxid = 0;

  constructor(options: FileStorageOptions) {
    this.dir = resolve(options.dir);
    this.clock = options.clock ?? systemClock;
    this.fsyncEnabled = options.fsync ?? true;
    this.segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    this.maxGroupBytes = options.maxGroupBytes ?? DEFAULT_MAX_GROUP_BYTES;
    this.snapshotChunk = options.snapshotChunkBytes ?? DEFAULT_SNAPSHOT_CHUNK;
    this.preallocateBytes = options.preallocateBytes ?? DEFAULT_PREALLOCATE_BYTES;
    this.onError =
      options.onError ??
      ((error) => {
        throw error;
      });
  }

  // ---------------------------------------------------------------- lifecycle

  open(): DurableState {
    this.close();
    invariant(!openDirs.has(this.dir), () => `${this.dir} is already open in this process`);
    const found = recover(this.dir, { fsync: this.fsyncEnabled });
    const session = new Session();
    try {
      this.dirFd = session.open(this.dir, 'r');
      this.segments = found.segments.map((s) => ({
        ...s,
        allocated: fs.statSync(s.path).size,
        fd: session.open(s.path, 'r+'),
      }));
    } catch (err) {
      session.release();
      throw err;
    }
    openDirs.add(this.dir);
    this.session = session;
    this.recoveryReport = { truncatedTail: found.truncatedTail };
    this.acceptedEpoch = found.acceptedEpoch;
    this.currentEpoch = found.currentEpoch;
    this.generation = found.generation;
    this.snapshots = found.snapshots;
    this.newest = found.snapshot ? (found.snapshots.find((s) => s.zxid === found.snapshot!.zxid) ?? null) : null;
    this.snapshotCache = found.snapshot ? new WeakRef(found.snapshot.bytes) : null;
    this.index = found.index;
    this.queue = [];
    this.qHead = 0;
    this.running = false;
    this.background = null;
    this.kickScheduled = false;
    this.lastIssued = this.lastLoggedZxid;
    return {
      acceptedEpoch: this.acceptedEpoch,
      currentEpoch: this.currentEpoch,
      snapshot: found.snapshot,
      logStart: this.logStart,
      lastLoggedZxid: this.lastLoggedZxid,
    };
  }

  close(): void {
    const session = this.session;
    if (!session) return;
    session.dead = true;
    this.stats.lost += this.queue.length - this.qHead + (this.background === null ? 0 : 1);
    this.queue = [];
    this.qHead = 0;
    this.running = false;
    this.background = null;
    this.index.unstage();
    session.release();
    this.session = null;
    openDirs.delete(this.dir);
  }

  /** What the last `open()` repaired. */
  get recovery(): RecoveryReport {
    return this.recoveryReport;
  }

  /** Mutations issued whose callback has not been scheduled yet. */
  get pendingCount(): number {
    return this.queue.length - this.qHead + (this.background === null ? 0 : 1);
  }

  // ---------------------------------------------------------------- mutations

  writeAcceptedEpoch(epoch: number, done: StorageDone): void {
    this.enqueue({ kind: 'epoch', file: ACCEPTED_EPOCH_FILE, epoch, done });
  }

  writeCurrentEpoch(epoch: number, done: StorageDone): void {
    this.enqueue({ kind: 'epoch', file: CURRENT_EPOCH_FILE, epoch, done });
  }

  append(txns: readonly Txn[], done: StorageDone): void {
    let last = this.lastIssued;
    for (const txn of txns) {
      const zxid = txn.header.zxid;
      if (zxid <= last) invariant(false, `log append out of order: ${zxid} after ${last}`); // no closure per txn
      last = zxid;
    }
    this.enqueue({ kind: 'append', txns: txns.slice(), done });
    this.lastIssued = last;
  }

  truncate(zxid: Zxid, done: StorageDone): void {
    this.enqueue({ kind: 'truncate', zxid, done });
    if (zxid < this.lastIssued) this.lastIssued = zxid;
  }

  saveSnapshot(snapshot: Snapshot, done: StorageDone): void {
    checkSnapshot(snapshot);
    this.enqueue({ kind: 'snapshot', snapshot, install: false, done });
  }

  installSnapshot(snapshot: Snapshot, done: StorageDone): void {
    checkSnapshot(snapshot);
    this.enqueue({ kind: 'snapshot', snapshot, install: true, done });
    this.lastIssued = snapshot.zxid;
  }

  purge(zxid: Zxid, done: StorageDone): void {
    this.enqueue({ kind: 'purge', zxid, done });
  }

  // ---------------------------------------------------------------- reads

  readLog(after: Zxid, limit = Infinity): Txn[] {
    invariant(this.session !== null, 'storage read before open() or after close()');
    const index = this.index;
    let pos = index.upperBound(after);
    const to = limit >= index.last - pos ? index.last : pos + Math.max(0, Math.floor(limit));
    const out: Txn[] = [];
    let s = this.segmentAt(pos);
    while (pos < to) {
      while (s + 1 < this.segments.length && this.segments[s + 1]!.firstPos <= pos) s++;
      const seg = this.segments[s]!;
      const segLast = s + 1 < this.segments.length ? this.segments[s + 1]!.firstPos : index.last;
      const start = index.offsetAt(pos);
      // Read at most READ_CHUNK bytes at a time (always at least one record).
      let upto = pos + 1;
      const stop = Math.min(to, segLast);
      while (upto < stop && index.offsetAt(upto) - start < READ_CHUNK) upto++;
      const end = upto < segLast ? index.offsetAt(upto) : seg.end;
      const buf = Buffer.allocUnsafe(end - start);
      readAll(seg.fd, buf, start, seg.path);
      for (let i = pos; i < upto; i++) {
        const at = index.offsetAt(i) - start;
        const len = buf.readUInt32LE(at) & LENGTH_MASK;
        const payload = at + RECORD_HEADER_BYTES;
        if (payload + len > buf.length || crc32(buf, payload, payload + len) !== buf.readUInt32LE(at + 4)) {
          throw new StorageCorruptionError(seg.path, start + at, 'record checksum mismatch on read');
        }
        const txn = decodeTxn(buf, payload, payload + len);
        if (txn.header.zxid !== index.zxidAt(i)) throw new StorageCorruptionError(seg.path, start + at, 'record does not match the index');
        out.push(txn);
      }
      pos = upto;
    }
    return out;
  }

  get logStart(): Zxid {
    return this.segments[0]?.prevZxid ?? 0;
  }

  get lastLoggedZxid(): Zxid {
    return this.index.size > 0 ? this.index.zxidAt(this.index.last - 1) : this.logStart;
  }

  latestSnapshot(): Snapshot | null {
    const newest = this.newest;
    if (!newest) return null;
    const cached = this.snapshotCache?.deref();
    if (cached) return { zxid: newest.zxid, bytes: cached };
    const read = readSnapshotFile(newest.path);
    if (typeof read === 'string') throw new StorageCorruptionError(newest.path, 0, read);
    this.snapshotCache = new WeakRef(read.bytes);
    return { zxid: newest.zxid, bytes: read.bytes };
  }

  /** The durable epochs (for tests). */
  epochs(): { acceptedEpoch: number; currentEpoch: number } {
    return { acceptedEpoch: this.acceptedEpoch, currentEpoch: this.currentEpoch };
  }

  /** Names of the log segment files, oldest first (for tests and tools). */
  segmentFiles(): string[] {
    return this.segments.map((s) => s.path);
  }

  // ---------------------------------------------------------------- pipeline

  private enqueue(op: Op): void {
    invariant(this.session !== null, 'storage used before open() or after close()');
    this.queue.push(op);
    if (!this.running && !this.kickScheduled) {
      this.kickScheduled = true;
      const session = this.session;
      this.clock.defer(() => {
        if (session !== this.session) return;
        this.kickScheduled = false;
        this.pump();
      });
    }
  }

  /** Start queued mutations, one at a time, until one waits for I/O. */
  private pump(): void {
    if (this.pumping) return;
    const session = this.session;
    if (!session) return;
    this.pumping = true;
    try {
      while (!this.running && !session.dead && this.qHead < this.queue.length) {
        const op = this.queue[this.qHead]!;
        if (op.kind === 'snapshot') {
          if (this.background !== null) break; // one snapshot at a time; an install replaces it
          if (!op.install) {
            this.qHead++; // leaves the pipeline; completes on its own
            this.background = op;
            this.runSnapshot(session, op.snapshot, false, () => this.backgroundDurable(session, op));
            continue;
          }
        }
        this.running = true;
        switch (op.kind) {
          case 'append':
            this.runAppends(session);
            break;
          case 'epoch':
            this.runEpoch(session, op.file, op.epoch);
            break;
          case 'truncate':
            this.runTruncate(session, op.zxid);
            break;
          case 'snapshot':
            this.runSnapshot(session, op.snapshot, op.install, () => this.complete(session, 1));
            break;
          case 'purge':
            this.runPurge(session, op.zxid);
            break;
        }
      }
    } catch (err) {
      this.fail(session, err);
    } finally {
      this.pumping = false;
    }
  }

  /** The first `count` queued mutations are durable: schedule their callbacks, go on. */
  private complete(session: Session, count: number): void {
    const ops = this.queue.slice(this.qHead, this.qHead + count);
    this.qHead += count;
    if (this.qHead === this.queue.length) {
      this.queue.length = 0;
      this.qHead = 0;
    } else if (this.qHead > 1024 && this.qHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.qHead);
      this.qHead = 0;
    }
    this.running = false;
    this.clock.defer(() => {
      for (const op of ops) {
        if (session.dead) return; // a callback closed the storage
        op.done();
      }
    });
    this.pump();
  }

  /** The background snapshot is durable: its callback, then whatever waited for it. */
  private backgroundDurable(session: Session, op: SnapshotOp): void {
    if (this.background !== op) return;
    this.background = null;
    this.clock.defer(() => {
      if (!session.dead) op.done();
    });
    this.pump();
  }

  /** Run `start` (an I/O call on the thread pool), then `next`, unless the session ended. */
  private io(session: Session, start: (cb: (err: Error | null) => void) => void, next: () => void): void {
    session.inFlight++;
    start((err) => {
      session.inFlight--;
      if (session.dead) {
        session.release();
        return;
      }
      if (err) {
        this.fail(session, err);
        return;
      }
      try {
        next();
      } catch (e) {
        this.fail(session, e);
      }
    });
  }

  /** fsync `fd` (fdatasync when `dataOnly`), then `next`. */
  private flush(session: Session, fd: number, dataOnly: boolean, next: () => void): void {
    if (!this.fsyncEnabled) {
      next();
      return;
    }
    this.stats.fsyncs++;
    this.io(session, (cb) => (dataOnly ? fs.fdatasync(fd, cb) : fs.fsync(fd, cb)), next);
  }

  private fail(session: Session, err: unknown): void {
    if (session.dead) return;
    this.close();
    this.onError(err instanceof Error ? err : new Error(String(err)));
  }

  // ---------------------------------------------------------------- operations

  /** One group: every append at the head of the queue (up to maxGroupBytes), one write, one fdatasync. */
  private runAppends(session: Session): void {
    const w = this.writer;
    w.reset();
    let seg = this.segments[this.segments.length - 1]!;
    // A full segment: the group starts a new one (its header is written with the group).
    const roll = seg.end >= this.segmentBytes;
    if (roll) {
      w.ensure(SEGMENT_HEADER_BYTES);
      w.pos = SEGMENT_HEADER_BYTES;
    }
    const base = roll ? 0 : seg.end;
    const groupStart = w.pos;
    const index = this.index;
    let count = 0;
    let txns = 0;
    for (let q = this.qHead; q < this.queue.length; q++) {
      const op = this.queue[q]!;
      if (op.kind !== 'append' || (count > 0 && w.pos >= this.maxGroupBytes)) break;
      for (const txn of op.txns) {
        const start = w.pos;
        w.ensure(RECORD_HEADER_BYTES);
        w.pos += RECORD_HEADER_BYTES;
        encodeTxn(w, txn);
        const payload = start + RECORD_HEADER_BYTES;
        w.buf.writeUInt32LE(start === groupStart ? ((w.pos - payload) | GROUP_START) >>> 0 : w.pos - payload, start);
        w.buf.writeUInt32LE(crc32(w.buf, payload, w.pos), start + 4);
        index.stage(txn.header.zxid, base + start);
      }
      txns += op.txns.length;
      count++;
    }
    if (txns === 0) {
      this.complete(session, count);
      return;
    }
    let created: Segment | null = null;
    if (roll) {
      const prevZxid = this.lastLoggedZxid;
      const path = join(this.dir, SEGMENT_PREFIX + zxidHex(prevZxid));
      encodeSegmentHeader({ generation: this.generation, prevZxid }).copy(w.buf, 0);
      created = seg = { path, prevZxid, firstPos: this.index.last, end: 0, allocated: 0, fd: session.open(path, 'w+') };
    }
    const bytes = w.pos;
    writeAll(seg.fd, w.buf, 0, bytes, base);
    if (base + bytes > seg.allocated) this.preallocate(seg, base + bytes);
    w.reset();
    w.trim(256 * 1024);
    const target = seg;
    this.flush(session, target.fd, true, () => {
      const commit = (): void => {
        index.commit();
        target.end = base + bytes;
        if (created) {
          this.segments.push(created);
          this.stats.segmentsCreated++;
        }
        this.stats.groups++;
        this.stats.txnsAppended += txns;
        this.stats.bytesAppended += bytes - (created ? SEGMENT_HEADER_BYTES : 0);
        this.complete(session, count);
      };
      // A new segment's directory entry must be durable too.
      if (created) this.flush(session, this.dirFd, false, commit);
      else commit();
    });
  }

  /**
   * Write zeros ahead of the log's end, so the fdatasync of later groups only flushes
   * data: writing into allocated blocks of a file whose size does not change needs no
   * journal commit, which makes each fsync several times cheaper on ext4/xfs.
   */
  private preallocate(seg: Segment, end: number): void {
    const target = Math.max(end, Math.min(end + this.preallocateBytes, Math.max(this.segmentBytes, end)));
    for (let pos = end; pos < target; ) {
      const n = Math.min(ZEROS.length, target - pos);
      writeAll(seg.fd, ZEROS, 0, n, pos);
      pos += n;
    }
    seg.allocated = target;
  }

  /** Replace an epoch file atomically. */
  private runEpoch(session: Session, file: typeof ACCEPTED_EPOCH_FILE | typeof CURRENT_EPOCH_FILE, epoch: number): void {
    const final = join(this.dir, file);
    const tmp = `${final}.${process.pid}-${tmpCounter++}${TMP_SUFFIX}`;
    const fd = session.open(tmp, 'wx');
    const bytes = encodeEpoch(epoch);
    writeAll(fd, bytes, 0, bytes.length, 0);
    this.flush(session, fd, false, () => {
      session.close(fd);
      fs.renameSync(tmp, final);
      this.flush(session, this.dirFd, false, () => {
        if (file === ACCEPTED_EPOCH_FILE) this.acceptedEpoch = epoch;
        else this.currentEpoch = epoch;
        this.complete(session, 1);
      });
    });
  }

  /** TRUNC: delete later segments (newest first), then cut the one holding `zxid`. */
  private runTruncate(session: Session, zxid: Zxid): void {
    invariant(zxid >= this.logStart, () => `cannot truncate to ${zxid}: the log starts after ${this.logStart}`);
    const index = this.index;
    const pos = index.upperBound(zxid);
    if (pos >= index.last) {
      this.complete(session, 1);
      return;
    }
    const s = this.segmentAt(pos);
    const seg = this.segments[s]!;
    const offset = index.offsetAt(pos);
    // Reads reflect the truncation from now on (the records are being deleted).
    index.truncate(pos);
    const removed = this.segments.splice(s + 1);
    seg.end = offset;
    for (let k = removed.length - 1; k >= 0; k--) fs.unlinkSync(removed[k]!.path);
    const cut = (): void => {
      for (const r of removed) session.close(r.fd);
      fs.ftruncateSync(seg.fd, offset);
      seg.allocated = offset;
      this.flush(session, seg.fd, false, () => this.complete(session, 1));
    };
    // The deletions must be durable before the cut, so a crash leaves a prefix of the old log.
    if (removed.length > 0) this.flush(session, this.dirFd, false, cut);
    else cut();
  }

  /** saveSnapshot / installSnapshot: temp file, fsync, rename, fsync the directory. */
  private runSnapshot(session: Session, snapshot: Snapshot, install: boolean, durable: () => void): void {
    const generation = install ? this.generation + 1 : this.generation;
    const final = join(this.dir, SNAPSHOT_PREFIX + zxidHex(snapshot.zxid));
    const tmp = `${final}.${process.pid}-${tmpCounter++}${TMP_SUFFIX}`;
    const fd = session.open(tmp, 'wx');
    const bytes = snapshot.bytes;
    const header = encodeSnapshotHeader({ generation, installed: install, zxid: snapshot.zxid, length: bytes.length });
    writeAll(fd, header, 0, header.length, 0);
    let crc = 0;
    let done = 0;
    const finish = (): void => {
      const trailer = Buffer.alloc(4);
      trailer.writeUInt32LE(crc, 0);
      writeAll(fd, trailer, 0, 4, SNAPSHOT_HEADER_BYTES + bytes.length);
      this.flush(session, fd, false, () => {
        session.close(fd);
        fs.renameSync(tmp, final);
        this.flush(session, this.dirFd, false, () => this.snapshotDurable(session, { path: final, zxid: snapshot.zxid }, bytes, install, durable));
      });
    };
    // Large snapshots go out in chunks on the thread pool, checksummed as they go.
    const next = (): void => {
      while (done < bytes.length) {
        const n = Math.min(this.snapshotChunk, bytes.length - done);
        const chunk = bytes.subarray(done, done + n);
        crc = crc32(chunk, 0, chunk.length, crc);
        const position = SNAPSHOT_HEADER_BYTES + done;
        done += n;
        if (!this.fsyncEnabled || bytes.length <= this.snapshotChunk) {
          writeAll(fd, chunk, 0, n, position);
          continue;
        }
        this.io(session, (cb) => writeChunk(fd, chunk, position, cb), next);
        return;
      }
      finish();
    };
    next();
  }

  private snapshotDurable(session: Session, info: SnapshotInfo, bytes: Uint8Array, install: boolean, durable: () => void): void {
    this.stats.snapshotsWritten++;
    if (!install) {
      this.snapshots = this.snapshots.filter((s) => s.zxid !== info.zxid);
      this.snapshots.push(info);
      this.snapshots.sort((a, b) => a.zxid - b.zxid);
      if (!this.newest || info.zxid >= this.newest.zxid) {
        this.newest = info;
        this.snapshotCache = new WeakRef(bytes);
      }
      durable();
      return;
    }
    // The new generation is durable: the old log and snapshots are void. Delete them and
    // start an empty log after the snapshot (recovery recreates it if this is cut short).
    this.generation++;
    const oldSegments = this.segments;
    const oldSnapshots = this.snapshots.filter((s) => s.path !== info.path);
    for (const s of oldSegments) fs.rmSync(s.path, { force: true });
    for (const s of oldSnapshots) fs.rmSync(s.path, { force: true });
    const path = createSegmentFileSync(this.dir, this.generation, info.zxid, this.fsyncEnabled);
    this.segments = [{ path, prevZxid: info.zxid, firstPos: 0, end: SEGMENT_HEADER_BYTES, allocated: SEGMENT_HEADER_BYTES, fd: session.open(path, 'r+') }];
    this.index.clear();
    this.snapshots = [info];
    this.newest = info;
    this.snapshotCache = new WeakRef(bytes);
    this.flush(session, this.dirFd, false, () => {
      for (const s of oldSegments) session.close(s.fd);
      durable();
    });
  }

  /** Delete whole segments (oldest first) and snapshots older than what the log still covers. */
  private runPurge(session: Session, zxid: Zxid): void {
    const limit = Math.min(zxid, this.newest?.zxid ?? this.logStart);
    let k = 0;
    while (k + 1 < this.segments.length && this.segments[k + 1]!.prevZxid <= limit) k++;
    const removed = this.segments.slice(0, k);
    const start = k < this.segments.length ? this.segments[k]!.prevZxid : this.logStart;
    const oldSnapshots = this.snapshots.filter((s) => s.zxid < start && s !== this.newest);
    if (removed.length === 0 && oldSnapshots.length === 0) {
      this.complete(session, 1);
      return;
    }
    for (const s of removed) fs.unlinkSync(s.path);
    for (const s of oldSnapshots) fs.rmSync(s.path, { force: true });
    this.flush(session, this.dirFd, false, () => {
      for (const s of removed) session.close(s.fd);
      this.segments.splice(0, removed.length);
      this.snapshots = this.snapshots.filter((s) => !oldSnapshots.includes(s));
      if (this.segments.length > 0) this.index.dropBefore(this.segments[0]!.firstPos);
      const shift = this.index.compact();
      if (shift > 0) for (const s of this.segments) s.firstPos -= shift;
      this.complete(session, 1);
    });
  }

  /** The segment holding index position `pos` (the last one whose first record is at or before it). */
  private segmentAt(pos: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.segments[mid]!.firstPos <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

/**
 * A `StorageFactory` giving server `id` a `FileStorage` in `<root>/server-<id>` (the
 * object is reused across restarts of that server, as the factory contract says).
 */
export function fileStorageFactory(root: string, options: Omit<FileStorageOptions, 'dir'> = {}): StorageFactory {
  return (id) => new FileStorage({ ...options, dir: join(root, `server-${id}`) });
}

function writeChunk(fd: number, chunk: Uint8Array, position: number, cb: (err: Error | null) => void): void {
  fs.write(fd, chunk, 0, chunk.length, position, (err, written) => {
    if (err) cb(err);
    else if (written < chunk.length) writeChunk(fd, chunk.subarray(written), position + written, cb);
    else cb(null);
  });
}
