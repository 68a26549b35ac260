/**
 * Recovery of a file storage directory (synchronous: it runs once, in `open()`).
 *
 * 1. Leftover `*.tmp` files are deleted: a temp file is renamed into place only once it
 *    is complete and fsynced, so a leftover one was never acknowledged.
 * 2. The database generation G is the highest generation in any valid segment or
 *    snapshot header. Files of older generations belong to a database that an
 *    `installSnapshot` replaced (its crash window is between renaming the new snapshot
 *    into place and deleting the old files) and are deleted.
 * 3. The newest snapshot of generation G whose checksum holds is loaded; a damaged one is
 *    skipped if the log still covers an older one (else it is an error).
 * 4. The segments of generation G are read in order (an empty one is created if there
 *    is none: there is always at least one, so the log's start is always on disk). Each must continue from the
 *    previous one (its header's prevZxid is the previous segment's last zxid), and its
 *    records must be complete, checksummed and ascending. The LAST segment may end in a
 *    torn or damaged tail (a group write that was never acknowledged): it is cut off,
 *    unless a later group write starts after the damage, which proves the damaged one
 *    was fsynced and acknowledged: that is an error naming the file and offset, as is
 *    damage anywhere else. (Damage inside the final group write cannot be told from a
 *    torn write; it is cut off.)
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { crc32 } from './file-crc.js';
import type { Snapshot } from './types.js';
import type { Zxid } from '../protocol/zxid.js';
import {
  SEGMENT_HEADER_BYTES,
  SNAPSHOT_HEADER_BYTES,
  SNAPSHOT_TRAILER_BYTES,
  StorageCorruptionError,
  allZero,
  decodeEpoch,
  decodeSegmentHeader,
  decodeSnapshotHeader,
  encodeSegmentHeader,
  findLaterGroup,
  parseZxidName,
  scanRecords,
  zxidHex,
  type SnapshotHeader,
} from './file-format.js';
import { LogIndex } from './file-index.js';

/** File name prefix of log segments. */
export const SEGMENT_PREFIX = 'log.';
/** File name prefix of snapshots. */
export const SNAPSHOT_PREFIX = 'snapshot.';
/** Name of the acceptedEpoch file (as ZooKeeper names it). */
export const ACCEPTED_EPOCH_FILE = 'acceptedEpoch';
/** Name of the currentEpoch file (as ZooKeeper names it). */
export const CURRENT_EPOCH_FILE = 'currentEpoch';
/** Suffix of temp files (deleted by recovery). */
export const TMP_SUFFIX = '.tmp';

/** A durable segment of the log. */
export interface SegmentInfo {
  /** Absolute path. */
  path: string;
  /** The zxid the segment continues from (its name). */
  prevZxid: Zxid;
  /** Index position of its first record. */
  firstPos: number;
  /** Offset just after its last durable record. */
  end: number;
}

/** A snapshot file of the current generation. */
export interface SnapshotInfo {
  path: string;
  zxid: Zxid;
}

/** Everything `recover` found. */
export interface Recovered {
  acceptedEpoch: number;
  currentEpoch: number;
  generation: number;
  /** Snapshot files of the current generation, zxid-ascending (including damaged ones, so purge removes them). */
  snapshots: SnapshotInfo[];
  /** The newest valid snapshot, loaded. */
  snapshot: Snapshot | null;
  segments: SegmentInfo[];
  index: LogIndex;
  /** The torn tail cut off the last segment, if any. */
  truncatedTail: { file: string; offset: number } | null;
}

/** Read a whole snapshot file and check it; a string says what is wrong. */
export function readSnapshotFile(path: string): { header: SnapshotHeader; bytes: Uint8Array } | string {
  let file: Buffer;
  try {
    file = fs.readFileSync(path);
  } catch (err) {
    return `unreadable (${(err as Error).message})`;
  }
  const header = decodeSnapshotHeader(file);
  if (typeof header === 'string') return header;
  if (file.length !== SNAPSHOT_HEADER_BYTES + header.length + SNAPSHOT_TRAILER_BYTES) {
    return `size ${file.length} does not match the header (${header.length} bytes of data)`;
  }
  const body = file.subarray(SNAPSHOT_HEADER_BYTES, SNAPSHOT_HEADER_BYTES + header.length);
  if (crc32(body) !== file.readUInt32LE(SNAPSHOT_HEADER_BYTES + header.length)) return 'checksum mismatch';
  return { header, bytes: new Uint8Array(body.buffer, body.byteOffset, body.length) };
}

function readHead(path: string, bytes: number): Buffer {
  const fd = fs.openSync(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const n = fs.readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}

function readEpoch(dir: string, name: string): number {
  const path = join(dir, name);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  const epoch = decodeEpoch(bytes);
  if (epoch === null) throw new StorageCorruptionError(path, 0, `not an epoch number: ${JSON.stringify(bytes.toString('latin1').slice(0, 40))}`);
  return epoch;
}

/** fsync a directory, so creations, renames and deletions in it are durable. */
export function fsyncDirSync(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Create an empty segment (header only) and fsync it; the caller fsyncs the directory. */
export function createSegmentFileSync(dir: string, generation: number, prevZxid: Zxid, fsync: boolean): string {
  const path = join(dir, SEGMENT_PREFIX + zxidHex(prevZxid));
  const fd = fs.openSync(path, 'w');
  try {
    const header = encodeSegmentHeader({ generation, prevZxid });
    fs.writeSync(fd, header, 0, header.length, 0);
    if (fsync) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return path;
}

interface SegmentFile {
  path: string;
  prevZxid: Zxid;
  generation: number;
  /** Null if the header is damaged (then `headerProblem` says why). */
  headerProblem: string | null;
}

/** Recover the durable state of `dir` (created if missing). Throws `StorageCorruptionError`. */
export function recover(dir: string, options: { fsync: boolean }): Recovered {
  fs.mkdirSync(dir, { recursive: true });
  let changed = false;
  const names = fs.readdirSync(dir).sort();
  const snapshotFiles: { path: string; zxid: Zxid; header: SnapshotHeader | null }[] = [];
  const segmentFiles: SegmentFile[] = [];
  for (const name of names) {
    const path = join(dir, name);
    if (name.endsWith(TMP_SUFFIX)) {
      fs.rmSync(path, { force: true });
      changed = true;
      continue;
    }
    const snapZxid = parseZxidName(name, SNAPSHOT_PREFIX);
    if (snapZxid !== null) {
      const header = decodeSnapshotHeader(readHead(path, SNAPSHOT_HEADER_BYTES));
      snapshotFiles.push({ path, zxid: snapZxid, header: typeof header === 'string' || header.zxid !== snapZxid ? null : header });
      continue;
    }
    const segZxid = parseZxidName(name, SEGMENT_PREFIX);
    if (segZxid !== null) {
      const header = decodeSegmentHeader(readHead(path, SEGMENT_HEADER_BYTES));
      if (typeof header === 'string') segmentFiles.push({ path, prevZxid: segZxid, generation: -1, headerProblem: header });
      else if (header.prevZxid !== segZxid) segmentFiles.push({ path, prevZxid: segZxid, generation: -1, headerProblem: `header says it continues from 0x${header.prevZxid.toString(16)}, not its name` });
      else segmentFiles.push({ path, prevZxid: segZxid, generation: header.generation, headerProblem: null });
    }
  }

  // 2. The generation, and the files an installSnapshot replaced.
  let generation = 0;
  for (const s of snapshotFiles) if (s.header) generation = Math.max(generation, s.header.generation);
  for (const s of segmentFiles) generation = Math.max(generation, s.generation);
  const snapshots: SnapshotInfo[] = [];
  for (const s of snapshotFiles) {
    if (s.header && s.header.generation < generation) {
      fs.rmSync(s.path, { force: true });
      changed = true;
    } else {
      snapshots.push({ path: s.path, zxid: s.zxid }); // damaged ones too: purge removes them
    }
  }
  let segments = segmentFiles.filter((s) => {
    if (s.headerProblem === null && s.generation < generation) {
      fs.rmSync(s.path, { force: true });
      changed = true;
      return false;
    }
    return true;
  });

  // A last segment whose header is torn was being created when the server stopped.
  const lastFile = segments[segments.length - 1];
  if (lastFile && lastFile.headerProblem !== null) {
    const bytes = fs.readFileSync(lastFile.path);
    // Its header went out with its first group write: only a later group proves it was acknowledged.
    if (findLaterGroup(bytes, SEGMENT_HEADER_BYTES + 1, -1) < 0) {
      fs.rmSync(lastFile.path, { force: true });
      changed = true;
      segments = segments.slice(0, -1);
    }
  }
  for (const s of segments) {
    if (s.headerProblem !== null) throw new StorageCorruptionError(s.path, 0, s.headerProblem);
  }

  // 4. The log.
  const index = new LogIndex();
  let truncatedTail: Recovered['truncatedTail'] = null;
  const infos: SegmentInfo[] = [];
  let last: Zxid = segments.length > 0 ? segments[0]!.prevZxid : 0;
  for (let k = 0; k < segments.length; k++) {
    const seg = segments[k]!;
    if (seg.prevZxid !== last) {
      throw new StorageCorruptionError(seg.path, 16, `segment continues from 0x${seg.prevZxid.toString(16)} but the log before it ends at 0x${last.toString(16)} (a segment is missing or damaged)`);
    }
    const bytes = fs.readFileSync(seg.path);
    const firstPos = index.last;
    const scan = scanRecords(bytes, SEGMENT_HEADER_BYTES, last, (zxid, offset) => index.stage(zxid, offset));
    index.commit();
    let end = scan.end;
    if (scan.stop && !allZero(bytes, scan.stop.offset)) {
      const isLast = k === segments.length - 1;
      if (!isLast) throw new StorageCorruptionError(seg.path, scan.stop.offset, scan.stop.reason);
      const later = findLaterGroup(bytes, scan.stop.offset + 1, scan.lastZxid);
      if (later >= 0) {
        throw new StorageCorruptionError(
          seg.path,
          scan.stop.offset,
          `${scan.stop.reason} (a later group write starts at offset ${later}: acknowledged data would be lost)`,
        );
      }
      // The torn tail of the last group write: never acknowledged, cut it off.
      const fd = fs.openSync(seg.path, 'r+');
      try {
        fs.ftruncateSync(fd, scan.stop.offset);
        if (options.fsync) fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      end = scan.stop.offset;
      truncatedTail = { file: seg.path, offset: end };
      changed = true;
    }
    last = scan.lastZxid;
    infos.push({ path: seg.path, prevZxid: seg.prevZxid, firstPos, end });
  }

  // 3. The newest valid snapshot the log can continue from.
  const logStart = infos.length > 0 ? infos[0]!.prevZxid : null;
  let snapshot: Snapshot | null = null;
  const problems: string[] = [];
  for (let i = snapshots.length - 1; i >= 0; i--) {
    const s = snapshots[i]!;
    const read = readSnapshotFile(s.path);
    if (typeof read === 'string') {
      problems.push(`${s.path}: ${read}`);
      continue;
    }
    snapshot = { zxid: s.zxid, bytes: read.bytes };
    break;
  }
  if (logStart !== null && logStart > (snapshot?.zxid ?? 0)) {
    const why = problems.length > 0 ? ` (damaged: ${problems.join('; ')})` : '';
    throw new StorageCorruptionError(
      infos[0]!.path,
      16,
      `the log starts after 0x${logStart.toString(16)} but no valid snapshot covers it${why}`,
    );
  }

  // There is always a segment: an empty log continues from the snapshot (or zxid 0).
  if (infos.length === 0) {
    const prevZxid = snapshot?.zxid ?? 0;
    const path = createSegmentFileSync(dir, generation, prevZxid, options.fsync);
    infos.push({ path, prevZxid, firstPos: index.last, end: SEGMENT_HEADER_BYTES });
    changed = true;
  }
  if (changed && options.fsync) fsyncDirSync(dir);
  return {
    acceptedEpoch: readEpoch(dir, ACCEPTED_EPOCH_FILE),
    currentEpoch: readEpoch(dir, CURRENT_EPOCH_FILE),
    generation,
    snapshots,
    snapshot,
    segments: infos,
    index,
    truncatedTail,
  };
}
