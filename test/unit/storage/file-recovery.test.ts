/**
 * Recovery of damaged directories: torn tails are cut off the last segment, anything
 * that would lose acknowledged data is an error naming the file and offset.
 */
import { describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { join } from 'node:path';
import type { Txn } from '../../../src/protocol/txn.js';
import { makeZxid, type Zxid } from '../../../src/protocol/zxid.js';
import { VirtualClock } from '../../../src/sim/virtual-clock.js';
import { FileStorage, StorageCorruptionError } from '../../../src/storage/file.js';
import { SEGMENT_HEADER_BYTES, scanRecords } from '../../../src/storage/file-format.js';
import { removeDir, tempDir } from './harness.js';
import { snapshotBytes, txnRange } from './txns.js';

interface Built {
  dir: string;
  txns: Txn[];
  segments: string[];
}

/**
 * A directory holding `count` txns (epoch 1) in segments of about `segmentBytes`,
 * without preallocation unless asked (so a segment file ends with its last record).
 */
function build(count: number, segmentBytes = 1200, batch = 7, preallocateBytes = 0): Built {
  const dir = tempDir();
  const clock = new VirtualClock();
  const s = new FileStorage({ dir, clock, fsync: false, segmentBytes, preallocateBytes });
  s.open();
  const txns = txnRange(1, 1, count);
  for (let i = 0; i < count; i += batch) {
    s.append(txns.slice(i, i + batch), () => {});
    clock.flush(); // one group per batch
  }
  const segments = s.segmentFiles();
  s.close();
  return { dir, txns, segments };
}

function open(dir: string): FileStorage {
  const s = new FileStorage({ dir, clock: new VirtualClock(), fsync: false });
  s.open();
  return s;
}

/** Offsets of the records of a segment file. */
function recordOffsets(path: string): { offsets: number[]; zxids: Zxid[]; end: number } {
  const offsets: number[] = [];
  const zxids: Zxid[] = [];
  const scan = scanRecords(fs.readFileSync(path), SEGMENT_HEADER_BYTES, -1, (zxid, offset) => {
    zxids.push(zxid);
    offsets.push(offset);
  });
  assert.equal(scan.stop, null);
  return { offsets, zxids, end: scan.end };
}

function withDir(title: string, count: number, body: (b: Built) => void, segmentBytes?: number): void {
  test(title, () => {
    const b = build(count, segmentBytes);
    try {
      body(b);
    } finally {
      removeDir(b.dir);
    }
  });
}

function assertLogPrefix(s: FileStorage, txns: Txn[], n: number, what: string): void {
  assert.equal(s.lastLoggedZxid, n === 0 ? 0 : txns[n - 1]!.header.zxid, `${what}: lastLoggedZxid`);
  const log = s.readLog(0);
  assert.equal(log.length, n, `${what}: count`);
  assert.deepEqual(log, txns.slice(0, n), `${what}: contents`);
}

function corruption(fn: () => void, file: string, offset: number, pattern?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof StorageCorruptionError, `a StorageCorruptionError, got ${String(err)}`);
    assert.equal(err.file, file);
    assert.equal(err.offset, offset);
    assert.ok(err.message.includes(file) && err.message.includes(String(offset)), err.message);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

describe('file storage recovery', () => {
  withDir('the test directory has several segments', 60, ({ segments }) => {
    assert.ok(segments.length >= 3, `${segments.length} segments`);
  });

  withDir('a torn last record, cut at every byte, recovers the valid prefix', 60, ({ dir, txns, segments }) => {
    const last = segments[segments.length - 1]!;
    const original = fs.readFileSync(last);
    const { offsets } = recordOffsets(last);
    const start = offsets[offsets.length - 1]!;
    for (let cut = start; cut < original.length; cut++) {
      fs.writeFileSync(last, original.subarray(0, cut));
      const s = open(dir);
      assertLogPrefix(s, txns, txns.length - 1, `cut at ${cut}`);
      assert.deepEqual(s.recovery.truncatedTail, cut === start ? null : { file: last, offset: start });
      s.close();
    }
  });

  withDir('after cutting a torn tail, appends continue and survive a reopen', 30, ({ dir, txns, segments }) => {
    const last = segments[segments.length - 1]!;
    const size = fs.statSync(last).size;
    fs.truncateSync(last, size - 3);
    const clock = new VirtualClock();
    const s = new FileStorage({ dir, clock, fsync: false });
    s.open();
    const replacement = txnRange(2, 1, 3);
    let done = false;
    s.append(replacement, () => (done = true));
    clock.flush();
    assert.ok(done);
    s.close();
    const again = open(dir);
    assert.deepEqual(again.readLog(0), [...txns.slice(0, 29), ...replacement]);
    assert.equal(again.recovery.truncatedTail, null);
    again.close();
  });

  withDir('a torn segment header (crash while creating a segment) removes the segment', 60, ({ dir, txns, segments }) => {
    const last = segments[segments.length - 1]!;
    const original = fs.readFileSync(last);
    const firstOfLast = recordOffsets(last).zxids.length;
    for (let cut = 0; cut < SEGMENT_HEADER_BYTES; cut += 5) {
      fs.writeFileSync(last, original.subarray(0, cut));
      const s = open(dir);
      assertLogPrefix(s, txns, txns.length - firstOfLast, `header cut at ${cut}`);
      assert.equal(s.segmentFiles().length, segments.length - 1);
      s.close();
      assert.ok(!fs.existsSync(last), 'the torn segment is deleted');
    }
  });

  withDir('garbage or zeros after the last record', 20, ({ dir, txns, segments }) => {
    const last = segments[segments.length - 1]!;
    const original = fs.readFileSync(last);
    fs.writeFileSync(last, Buffer.concat([original, Buffer.alloc(4096)]));
    let s = open(dir);
    assertLogPrefix(s, txns, 20, 'zeros');
    assert.equal(s.recovery.truncatedTail, null, 'zeros are unwritten space, nothing to cut');
    s.close();
    const garbage = Buffer.alloc(300);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 151 + 7) & 0xff;
    fs.writeFileSync(last, Buffer.concat([original, garbage]));
    s = open(dir);
    assertLogPrefix(s, txns, 20, 'garbage');
    assert.deepEqual(s.recovery.truncatedTail, { file: last, offset: original.length });
    s.close();
    assert.equal(fs.statSync(last).size, original.length);
  });

  test('a damaged record followed by a later group write is an error naming the file and offset', () => {
    // Groups of 3 records, several groups per segment.
    const { dir, segments } = build(60, 1500, 3);
    try {
      const last = segments[segments.length - 1]!;
      const original = fs.readFileSync(last);
      const { offsets } = recordOffsets(last);
      assert.ok(offsets.length >= 6, `${offsets.length} records in the last segment`);
      const victim = offsets[1]!;
      const victimEnd = offsets[2]!;
      for (const at of [victim, victim + 2, victim + 3, victim + 4, victim + 8, victim + 20, victimEnd - 1]) {
        const damaged = Buffer.from(original);
        damaged[at] ^= 0x40;
        fs.writeFileSync(last, damaged);
        corruption(() => open(dir), last, victim, /acknowledged data would be lost/);
      }
      fs.writeFileSync(last, original);
      open(dir).close();
    } finally {
      removeDir(dir);
    }
  });

  test('damage inside the final group write is a torn write, even with later records of that group intact', () => {
    const { dir, txns, segments } = build(40, 100_000, 10);
    try {
      const [path] = segments;
      const original = fs.readFileSync(path!);
      const { offsets } = recordOffsets(path!);
      // The last group holds records 30..39; zero a "page" in the middle of it.
      const victim = offsets[33]!;
      for (const damage of ['zeros', 'flip'] as const) {
        const bytes = Buffer.from(original);
        if (damage === 'zeros') bytes.fill(0, victim, offsets[35]!);
        else bytes[victim + 12] ^= 0xff;
        fs.writeFileSync(path!, bytes);
        const s = open(dir);
        assertLogPrefix(s, txns, 33, damage);
        assert.deepEqual(s.recovery.truncatedTail, { file: path, offset: victim });
        s.close();
        fs.writeFileSync(path!, original);
      }
      // The same damage one group earlier is corruption: the final group proves it was acknowledged.
      const bytes = Buffer.from(original);
      bytes.fill(0, offsets[23]!, offsets[25]!);
      fs.writeFileSync(path!, bytes);
      corruption(() => open(dir), path!, offsets[23]!, /later group write starts at offset/);
    } finally {
      removeDir(dir);
    }
  });

  withDir('a damaged record in an earlier segment is an error even at its end', 60, ({ dir, segments }) => {
    const middle = segments[1]!;
    const original = fs.readFileSync(middle);
    const { offsets } = recordOffsets(middle);
    const lastRecord = offsets[offsets.length - 1]!;
    const damaged = Buffer.from(original);
    damaged[damaged.length - 1] ^= 1;
    fs.writeFileSync(middle, damaged);
    corruption(() => open(dir), middle, lastRecord, /checksum/);
    fs.writeFileSync(middle, original.subarray(0, original.length - 1));
    corruption(() => open(dir), middle, lastRecord, /past the end/);
    fs.writeFileSync(middle, original);
    open(dir).close();
  });

  withDir('a damaged last record of the last segment is treated as a torn write', 20, ({ dir, txns, segments }) => {
    const last = segments[segments.length - 1]!;
    const { offsets } = recordOffsets(last);
    const bytes = fs.readFileSync(last);
    bytes[bytes.length - 2] ^= 0xff;
    fs.writeFileSync(last, bytes);
    const s = open(dir);
    assertLogPrefix(s, txns, 19, 'damaged last record');
    assert.deepEqual(s.recovery.truncatedTail, { file: last, offset: offsets[offsets.length - 1] });
    s.close();
  });

  withDir('a missing segment is an error', 60, ({ dir, segments }) => {
    fs.rmSync(segments[1]!);
    corruption(() => open(dir), segments[2]!, 16, /missing/);
  });

  withDir('a damaged segment header is an error unless it is the last segment', 60, ({ dir, segments }) => {
    const bytes = fs.readFileSync(segments[0]!);
    bytes[9] ^= 1; // generation
    fs.writeFileSync(segments[0]!, bytes);
    corruption(() => open(dir), segments[0]!, 0, /header checksum/);
  });

  withDir('leftover temp files are deleted', 5, ({ dir }) => {
    fs.writeFileSync(join(dir, 'snapshot.0000000100000001.123-4.tmp'), 'partial');
    fs.writeFileSync(join(dir, 'currentEpoch.1-1.tmp'), '7\n');
    const s = open(dir);
    assert.deepEqual(s.epochs(), { acceptedEpoch: 0, currentEpoch: 0 });
    s.close();
    assert.deepEqual(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp')), []);
  });

  withDir('a damaged epoch file is an error', 5, ({ dir }) => {
    fs.writeFileSync(join(dir, 'acceptedEpoch'), 'x7\n');
    corruption(() => open(dir), join(dir, 'acceptedEpoch'), 0, /epoch/);
  });

  test('preallocated zeros after the last record are free space: appends continue in them', () => {
    const { dir, txns, segments } = build(50, 4000, 7, 1000);
    try {
      const last = segments[segments.length - 1]!;
      const bytes = fs.readFileSync(last);
      const end = scanRecords(bytes, SEGMENT_HEADER_BYTES, -1, () => {}).end;
      assert.ok(bytes.length > end, 'a zero tail');
      const clock = new VirtualClock();
      const s = new FileStorage({ dir, clock, fsync: false, segmentBytes: 4000, preallocateBytes: 1000 });
      s.open();
      assert.equal(s.recovery.truncatedTail, null);
      const more = txnRange(1, 51, 3);
      s.append(more, () => {});
      clock.flush();
      s.close();
      const again = open(dir);
      assert.deepEqual(again.readLog(0), [...txns, ...more]);
      again.close();
      // A torn record inside the preallocated space: its end never reached the disk.
      const after = fs.readFileSync(last);
      const offsets: number[] = [];
      scanRecords(after, SEGMENT_HEADER_BYTES, -1, (_z, o) => offsets.push(o));
      const lastRecord = offsets[offsets.length - 1]!;
      after.fill(0, lastRecord + 20, lastRecord + 40);
      fs.writeFileSync(last, after);
      const third = open(dir);
      assert.deepEqual(third.readLog(0), [...txns, ...more.slice(0, 2)]);
      assert.deepEqual(third.recovery.truncatedTail, { file: last, offset: lastRecord });
      third.close();
    } finally {
      removeDir(dir);
    }
  });

  test('an installSnapshot cut short after the rename voids the old files', () => {
    const { dir, segments } = build(40);
    try {
      const saved = segments.map((path) => ({ path, bytes: fs.readFileSync(path) }));
      const clock = new VirtualClock();
      const s = new FileStorage({ dir, clock, fsync: false });
      s.open();
      const snap = { zxid: makeZxid(1, 10), bytes: snapshotBytes(10) };
      s.installSnapshot(snap, () => {});
      clock.flush();
      s.close();
      // As if the server crashed before deleting the old generation's files.
      for (const { path, bytes } of saved) fs.writeFileSync(path, bytes);
      const again = new FileStorage({ dir, clock, fsync: false });
      const state = again.open();
      assert.equal(state.snapshot?.zxid, snap.zxid);
      assert.equal(state.logStart, snap.zxid);
      assert.equal(state.lastLoggedZxid, snap.zxid);
      assert.deepEqual(again.readLog(0), []);
      again.close();
      assert.deepEqual(fs.readdirSync(dir).sort(), ['log.000000010000000a', 'snapshot.000000010000000a']);
    } finally {
      removeDir(dir);
    }
  });

  test('a damaged newest snapshot falls back to an older one the log still covers, else it is an error', () => {
    const dir = tempDir();
    try {
      const clock = new VirtualClock();
      const s = new FileStorage({ dir, clock, fsync: false });
      s.open();
      s.append(txnRange(1, 1, 30), () => {});
      s.saveSnapshot({ zxid: makeZxid(1, 10), bytes: snapshotBytes(10) }, () => {});
      s.saveSnapshot({ zxid: makeZxid(1, 20), bytes: snapshotBytes(20) }, () => {});
      clock.flush();
      s.close();
      const newest = join(dir, 'snapshot.0000000100000014');
      const bytes = fs.readFileSync(newest);
      bytes[100] ^= 1;
      fs.writeFileSync(newest, bytes);
      const again = new FileStorage({ dir, clock, fsync: false });
      const state = again.open();
      assert.equal(state.snapshot?.zxid, makeZxid(1, 10), 'the older snapshot');
      assert.equal(again.readLog(makeZxid(1, 10)).length, 20, 'the log covers the rest');
      again.close();
      fs.rmSync(join(dir, 'snapshot.000000010000000a'));
      // Without any valid snapshot the log from 0 still covers everything.
      const third = new FileStorage({ dir, clock, fsync: false });
      assert.equal(third.open().snapshot, null);
      third.close();
    } finally {
      removeDir(dir);
    }
  });

  test('a damaged snapshot the log does not cover is an error', () => {
    const dir = tempDir();
    try {
      const clock = new VirtualClock();
      const s = new FileStorage({ dir, clock, fsync: false });
      s.open();
      s.installSnapshot({ zxid: makeZxid(1, 10), bytes: snapshotBytes(10) }, () => {});
      s.append(txnRange(1, 11, 5), () => {});
      clock.flush();
      s.close();
      const path = join(dir, 'snapshot.000000010000000a');
      const bytes = fs.readFileSync(path);
      bytes[bytes.length - 1] ^= 1;
      fs.writeFileSync(path, bytes);
      corruption(() => new FileStorage({ dir, clock, fsync: false }).open(), join(dir, 'log.000000010000000a'), 16, /no valid snapshot covers it.*checksum/);
    } finally {
      removeDir(dir);
    }
  });
});
