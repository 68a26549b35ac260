/**
 * On-disk formats of the file storage (see file.ts for the directory layout): log
 * segment headers, log records, snapshot files, epoch files, and the scan that finds
 * where a segment's valid records end. All integers are little-endian.
 *
 * Log segment `log.<16 hex digits>` (the digits are the zxid the segment continues
 * from: the last zxid before its first record):
 *
 * | offset | field                                            |
 * |--------|--------------------------------------------------|
 * | 0      | magic `ZSTL`                                     |
 * | 4      | version u32 (1)                                  |
 * | 8      | generation u32 (bumped by every installSnapshot) |
 * | 12     | flags u32 (0)                                    |
 * | 16     | prevZxid: u32 low, u32 high                      |
 * | 24     | reserved u32                                     |
 * | 28     | crc32 of bytes 0–27                              |
 * | 32     | records: `[length u32][crc32 u32][payload]`      |
 *
 * A record's crc32 covers its payload (file-txn-codec.ts). The top bit of the length
 * word marks the first record of a group write (one write + one fdatasync): damage
 * followed only by records of the same group is a torn, unacknowledged write, while a
 * later group start proves the damaged group had been fsynced. A length of 0 never
 * starts a record: zero bytes after the last record mean "end" (unwritten or
 * preallocated space).
 *
 * Snapshot `snapshot.<16 hex zxid>`: a 40-byte header (magic `ZSSN`, version,
 * generation, flags (1 = installed from a leader), zxid low/high, byte length low/high,
 * reserved, header crc32), the bytes, then the crc32 of the bytes (a trailer, so a
 * snapshot is checksummed while it is written, chunk by chunk).
 *
 * Epoch files `acceptedEpoch`, `currentEpoch`: the number in decimal and a newline, as
 * ZooKeeper writes them.
 */
import { crc32 } from './file-crc.js';
import type { Zxid } from '../protocol/zxid.js';
import { MIN_TXN_PAYLOAD, peekZxid } from './file-txn-codec.js';

const TWO_32 = 0x1_0000_0000;

/** `ZSTL` read as a little-endian u32. */
export const SEGMENT_MAGIC = 0x4c54535a;
/** `ZSSN` read as a little-endian u32. */
export const SNAPSHOT_MAGIC = 0x4e53535a;
/** The version both file kinds are written with. */
export const FORMAT_VERSION = 1;
/** Bytes of a segment header. */
export const SEGMENT_HEADER_BYTES = 32;
/** Flag in a record's length word: the first record of a group write. */
export const GROUP_START = 0x8000_0000;
/** The payload length in a record's length word. */
export const LENGTH_MASK = 0x7fff_ffff;

/** Bytes before a record's payload (length, crc32). */
export const RECORD_HEADER_BYTES = 8;
/** Bytes of a snapshot header. */
export const SNAPSHOT_HEADER_BYTES = 40;
/** Bytes of a snapshot trailer (crc32 of the bytes). */
export const SNAPSHOT_TRAILER_BYTES = 4;
/** Snapshot flag: installed from a leader (SNAP); older generations are void. */
export const SNAPSHOT_INSTALLED = 1;

/** Thrown by recovery and reads when durable data is damaged: names the file and offset. */
export class StorageCorruptionError extends Error {
  override name = 'StorageCorruptionError';
  constructor(
    /** The damaged file. */
    readonly file: string,
    /** Byte offset of the damage in `file`. */
    readonly offset: number,
    reason: string,
  ) {
    super(`${file}: ${reason} at offset ${offset}`);
  }
}

function writeZxid(buf: Buffer, zxid: Zxid, at: number): void {
  const hi = Math.floor(zxid / TWO_32);
  buf.writeUInt32LE(zxid - hi * TWO_32, at);
  buf.writeUInt32LE(hi, at + 4);
}

function readZxid(buf: Buffer, at: number): Zxid {
  return buf.readUInt32LE(at + 4) * TWO_32 + buf.readUInt32LE(at);
}

/** 16 lowercase hex digits, so file names sort like the zxids they carry. */
export function zxidHex(zxid: Zxid): string {
  return zxid.toString(16).padStart(16, '0');
}

/** The zxid in a `<prefix>.<16 hex>` file name, or null if the name is not one. */
export function parseZxidName(name: string, prefix: string): Zxid | null {
  if (!name.startsWith(prefix) || name.length !== prefix.length + 16) return null;
  const hex = name.slice(prefix.length);
  if (!/^[0-9a-f]{16}$/.test(hex)) return null;
  const zxid = parseInt(hex, 16);
  return Number.isSafeInteger(zxid) ? zxid : null;
}

// ------------------------------------------------------------------ segments

/** What a segment header holds. */
export interface SegmentHeader {
  generation: number;
  /** The zxid the segment continues from (the last one before its first record). */
  prevZxid: Zxid;
}

/** The 32-byte header of a new segment. */
export function encodeSegmentHeader(header: SegmentHeader): Buffer {
  const buf = Buffer.alloc(SEGMENT_HEADER_BYTES);
  buf.writeUInt32LE(SEGMENT_MAGIC, 0);
  buf.writeUInt32LE(FORMAT_VERSION, 4);
  buf.writeUInt32LE(header.generation, 8);
  writeZxid(buf, header.prevZxid, 16);
  buf.writeUInt32LE(crc32(buf, 0, 28), 28);
  return buf;
}

/** Parse a segment header; a string says what is wrong with it. */
export function decodeSegmentHeader(buf: Buffer): SegmentHeader | string {
  if (buf.length < SEGMENT_HEADER_BYTES) return `header truncated (${buf.length} bytes)`;
  if (buf.readUInt32LE(0) !== SEGMENT_MAGIC) return 'not a log segment (bad magic)';
  if (buf.readUInt32LE(28) !== crc32(buf, 0, 28)) return 'header checksum mismatch';
  const version = buf.readUInt32LE(4);
  if (version !== FORMAT_VERSION) return `unsupported log format version ${version}`;
  return { generation: buf.readUInt32LE(8), prevZxid: readZxid(buf, 16) };
}

/** Where a scan of records stopped early, and why. */
export interface ScanStop {
  offset: number;
  reason: string;
}

/** The result of `scanRecords`. */
export interface ScanResult {
  /** Offset just after the last valid record. */
  end: number;
  /** The zxid of the last valid record (or the `after` passed in). */
  lastZxid: Zxid;
  /** Null if the records run exactly to the end of the buffer. */
  stop: ScanStop | null;
}

/**
 * Read the records of `buf` from `from` while they are valid (complete, checksummed,
 * zxids ascending above `after`), calling `visit` for each.
 */
export function scanRecords(buf: Buffer, from: number, after: Zxid, visit: (zxid: Zxid, offset: number) => void): ScanResult {
  let pos = from;
  let last = after;
  const size = buf.length;
  for (;;) {
    if (pos === size) return { end: pos, lastZxid: last, stop: null };
    const left = size - pos;
    if (left < RECORD_HEADER_BYTES) return { end: pos, lastZxid: last, stop: { offset: pos, reason: `partial record header (${left} bytes)` } };
    const len = buf.readUInt32LE(pos) & LENGTH_MASK;
    if (len === 0) return { end: pos, lastZxid: last, stop: { offset: pos, reason: 'zero record length' } };
    if (len < MIN_TXN_PAYLOAD) return { end: pos, lastZxid: last, stop: { offset: pos, reason: `invalid record length ${len}` } };
    if (len > left - RECORD_HEADER_BYTES) {
      return { end: pos, lastZxid: last, stop: { offset: pos, reason: `record of ${len} bytes runs past the end of the file (${left - RECORD_HEADER_BYTES} left)` } };
    }
    const payload = pos + RECORD_HEADER_BYTES;
    if (crc32(buf, payload, payload + len) !== buf.readUInt32LE(pos + 4)) {
      return { end: pos, lastZxid: last, stop: { offset: pos, reason: 'record checksum mismatch' } };
    }
    const zxid = peekZxid(buf, payload);
    if (zxid <= last) return { end: pos, lastZxid: last, stop: { offset: pos, reason: `zxid 0x${zxid.toString(16)} not above 0x${last.toString(16)}` } };
    visit(zxid, pos);
    last = zxid;
    pos = payload + len;
  }
}

/** True if `buf[from, end)` holds only zero bytes. */
export function allZero(buf: Buffer, from: number): boolean {
  for (let i = from; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

/**
 * The offset of the first complete, checksummed record with a zxid above `after`
 * starting anywhere in `buf[from..]`, or -1.
 */
export function findValidRecord(buf: Buffer, from: number, after: Zxid): number {
  const size = buf.length;
  for (let q = from; q + RECORD_HEADER_BYTES + MIN_TXN_PAYLOAD <= size; q++) {
    const len = buf.readUInt32LE(q) & LENGTH_MASK;
    if (len < MIN_TXN_PAYLOAD || len > size - q - RECORD_HEADER_BYTES) continue;
    const payload = q + RECORD_HEADER_BYTES;
    if (peekZxid(buf, payload) <= after) continue;
    if (crc32(buf, payload, payload + len) === buf.readUInt32LE(q + 4)) return q;
  }
  return -1;
}

/**
 * After damage at `from` in the last segment: the offset of a valid record after it
 * that STARTS a group write, or -1. Such a record was written after the damaged group
 * had been fsynced (and acknowledged), so the damage is corruption, not a torn write.
 * Valid records of the damaged group itself may follow it (its pages can reach the disk
 * out of order in a power loss); they were never acknowledged.
 */
export function findLaterGroup(buf: Buffer, from: number, after: Zxid): number {
  let q = findValidRecord(buf, from, after);
  while (q >= 0) {
    const word = buf.readUInt32LE(q);
    if ((word & GROUP_START) !== 0) return q;
    q = findValidRecord(buf, q + RECORD_HEADER_BYTES + (word & LENGTH_MASK), peekZxid(buf, q + RECORD_HEADER_BYTES));
  }
  return -1;
}

// ------------------------------------------------------------------ snapshots

/** What a snapshot header holds. */
export interface SnapshotHeader {
  generation: number;
  installed: boolean;
  zxid: Zxid;
  length: number;
}

/** The 40-byte header of a snapshot. */
export function encodeSnapshotHeader(header: SnapshotHeader): Buffer {
  const buf = Buffer.alloc(SNAPSHOT_HEADER_BYTES);
  buf.writeUInt32LE(SNAPSHOT_MAGIC, 0);
  buf.writeUInt32LE(FORMAT_VERSION, 4);
  buf.writeUInt32LE(header.generation, 8);
  buf.writeUInt32LE(header.installed ? SNAPSHOT_INSTALLED : 0, 12);
  writeZxid(buf, header.zxid, 16);
  writeZxid(buf, header.length, 24);
  buf.writeUInt32LE(crc32(buf, 0, 36), 36);
  return buf;
}

/** Parse a snapshot header; a string says what is wrong with it. */
export function decodeSnapshotHeader(buf: Buffer): SnapshotHeader | string {
  if (buf.length < SNAPSHOT_HEADER_BYTES) return `header truncated (${buf.length} bytes)`;
  if (buf.readUInt32LE(0) !== SNAPSHOT_MAGIC) return 'not a snapshot (bad magic)';
  if (buf.readUInt32LE(36) !== crc32(buf, 0, 36)) return 'header checksum mismatch';
  const version = buf.readUInt32LE(4);
  if (version !== FORMAT_VERSION) return `unsupported snapshot format version ${version}`;
  return {
    generation: buf.readUInt32LE(8),
    installed: (buf.readUInt32LE(12) & SNAPSHOT_INSTALLED) !== 0,
    zxid: readZxid(buf, 16),
    length: readZxid(buf, 24),
  };
}

// ------------------------------------------------------------------ epochs

/** The contents of an epoch file. */
export function encodeEpoch(epoch: number): Buffer {
  return Buffer.from(`${epoch}\n`, 'latin1');
}

/** Parse an epoch file; null if it is not a non-negative decimal integer. */
export function decodeEpoch(bytes: Buffer): number | null {
  const text = bytes.toString('latin1').trim();
  if (!/^[0-9]{1,16}$/.test(text)) return null;
  const epoch = Number(text);
  return Number.isSafeInteger(epoch) ? epoch : null;
}
