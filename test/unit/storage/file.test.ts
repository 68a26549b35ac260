/** FileStorage beyond the conformance suite: layout, group commit, errors, big snapshots. */
import { describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { basename, join } from 'node:path';
import type { Txn, TxnBody } from '../../../src/protocol/txn.js';
import { makeZxid } from '../../../src/protocol/zxid.js';
import { InvariantError } from '../../../src/runtime/assert.js';
import { VirtualClock } from '../../../src/sim/virtual-clock.js';
import { FileStorage, fileStorageFactory, type FileStorageOptions } from '../../../src/storage/file.js';
import { realUntil, removeDir, tempDir } from './harness.js';
import { snapshotBytes, txnRange } from './txns.js';

/** A test with a temp directory, removed afterwards. */
function withDir(title: string, body: (dir: string) => Promise<void> | void): void {
  test(title, async () => {
    const dir = tempDir();
    try {
      await body(dir);
    } finally {
      removeDir(dir);
    }
  });
}

/** A deterministic storage (virtual clock, no fsync) and a way to run it. */
function virtual(dir: string, options: Partial<FileStorageOptions> = {}): { s: FileStorage; clock: VirtualClock } {
  const clock = new VirtualClock();
  const s = new FileStorage({ dir, clock, fsync: false, ...options });
  s.open();
  return { s, clock };
}

describe('FileStorage', () => {
  withDir('directory layout: epoch files, segments named by the zxid they continue from, snapshots', (dir) => {
    const { s, clock } = virtual(dir, { segmentBytes: 1000 });
    const txns = txnRange(3, 1, 40);
    for (let i = 0; i < 40; i += 8) {
      s.append(txns.slice(i, i + 8), () => {});
      clock.flush();
    }
    s.writeAcceptedEpoch(4, () => {});
    s.writeCurrentEpoch(3, () => {});
    s.saveSnapshot({ zxid: makeZxid(3, 20), bytes: snapshotBytes(20) }, () => {});
    clock.flush();
    assert.equal(fs.readFileSync(join(dir, 'acceptedEpoch'), 'latin1'), '4\n');
    assert.equal(fs.readFileSync(join(dir, 'currentEpoch'), 'latin1'), '3\n');
    const segments = s.segmentFiles().map((p) => basename(p));
    assert.ok(segments.length > 2);
    assert.equal(segments[0], 'log.0000000000000000');
    // Each later segment continues from the last zxid of a group: 8, 16, ... in epoch 3.
    for (const name of segments.slice(1)) {
      const prev = parseInt(name.slice(4), 16);
      assert.equal(prev % 8, 0, name);
      assert.equal(Math.floor(prev / 2 ** 32), 3, name);
    }
    assert.ok(fs.existsSync(join(dir, 'snapshot.0000000300000014')));
    assert.deepEqual(fs.readdirSync(dir).sort(), ['acceptedEpoch', 'currentEpoch', ...segments, 'snapshot.0000000300000014'].sort());
    s.close();
  });

  withDir('group commit: appends issued together share one write and one fdatasync', async (dir) => {
    const s = new FileStorage({ dir });
    s.open();
    const before = { ...s.stats };
    const order: number[] = [];
    for (let i = 0; i < 100; i++) s.append(txnRange(1, i + 1, 1), () => order.push(i));
    await realUntil(() => order.length === 100, 'callbacks');
    assert.deepEqual(order, Array.from({ length: 100 }, (_, i) => i));
    assert.equal(s.stats.groups - before.groups, 1);
    assert.equal(s.stats.fsyncs - before.fsyncs, 1);
    assert.equal(s.stats.txnsAppended, 100);
    s.close();
  });

  withDir('a group stops at maxGroupBytes; callbacks stay in order', (dir) => {
    const { s, clock } = virtual(dir, { maxGroupBytes: 2000 });
    const order: number[] = [];
    for (let i = 0; i < 50; i++) s.append(txnRange(1, i * 4 + 1, 4), () => order.push(i));
    clock.flush();
    assert.deepEqual(order, Array.from({ length: 50 }, (_, i) => i));
    assert.ok(s.stats.groups > 5, `${s.stats.groups} groups`);
    assert.equal(s.readLog(0).length, 200);
    s.close();
  });

  withDir('appends must ascend above everything issued before them', (dir) => {
    const { s, clock } = virtual(dir);
    s.append(txnRange(1, 1, 5), () => {});
    assert.throws(() => s.append(txnRange(1, 5, 1), () => {}), InvariantError);
    assert.throws(() => s.append([...txnRange(1, 7, 1), ...txnRange(1, 6, 1)], () => {}), InvariantError);
    s.truncate(makeZxid(1, 2), () => {});
    s.append(txnRange(2, 1, 1), () => {}); // above the truncation point
    clock.flush();
    assert.deepEqual(
      s.readLog(0).map((t) => t.header.zxid),
      [makeZxid(1, 1), makeZxid(1, 2), makeZxid(2, 1)],
    );
    s.close();
  });

  withDir('one storage per directory in a process', (dir) => {
    const a = new FileStorage({ dir });
    a.open();
    const b = new FileStorage({ dir: join(dir, '.') });
    assert.throws(() => b.open(), /already open/);
    a.close();
    b.open();
    b.close();
  });

  withDir('a failed write stops the storage and reports through onError', (dir) => {
    const errors: Error[] = [];
    const clock = new VirtualClock();
    const s = new FileStorage({ dir, clock, fsync: false, onError: (e) => errors.push(e) });
    s.open();
    const calls: string[] = [];
    s.append(txnRange(1, 1, 2), () => calls.push('ok'));
    clock.flush();
    const bad: Txn = { header: { sessionId: 1n, cxid: 1, zxid: makeZxid(1, 3), time: 0 }, body: { kind: 'odd', value: new Map() } as unknown as TxnBody };
    s.append([bad], () => calls.push('bad'));
    s.writeCurrentEpoch(1, () => calls.push('after'));
    clock.flush();
    assert.deepEqual(calls, ['ok']);
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof TypeError);
    assert.throws(() => s.append(txnRange(1, 4, 1), () => {}), /after close/);
    const state = s.open();
    assert.equal(state.lastLoggedZxid, makeZxid(1, 2));
    assert.equal(state.currentEpoch, 0);
    s.close();
  });

  withDir('a large snapshot is written in chunks and read back exactly', async (dir) => {
    const s = new FileStorage({ dir, snapshotChunkBytes: 256 * 1024 });
    s.open();
    const bytes = snapshotBytes(77, 3 * 1024 * 1024 + 17);
    let done = false;
    s.saveSnapshot({ zxid: makeZxid(1, 77), bytes }, () => (done = true));
    await realUntil(() => done, 'snapshot');
    assert.equal(fs.statSync(join(dir, 'snapshot.000000010000004d')).size, 40 + bytes.length + 4);
    s.close();
    const again = new FileStorage({ dir });
    const state = again.open();
    assert.equal(state.snapshot?.zxid, makeZxid(1, 77));
    assert.ok(Buffer.from(state.snapshot!.bytes).equals(Buffer.from(bytes)));
    again.close();
  });

  withDir('appends (and a purge) issued behind a large snapshot are acknowledged while it is still being written', async (dir) => {
    // 4 MiB in 16 KiB chunks: 256 thread-pool writes and an fsync before it is durable;
    // an append group needs one write and one fdatasync.
    const s = new FileStorage({ dir, snapshotChunkBytes: 16 * 1024, segmentBytes: 4096 });
    s.open();
    const order: string[] = [];
    s.append(txnRange(1, 1, 40), () => order.push('before'));
    s.saveSnapshot({ zxid: makeZxid(1, 10), bytes: snapshotBytes(10) }, () => order.push('snapshot 1'));
    await realUntil(() => order.length === 2, 'the first snapshot');
    // What ZabDatabase.maybeSnapshot issues: a snapshot, then a purge up to the previous one.
    s.saveSnapshot({ zxid: makeZxid(1, 40), bytes: snapshotBytes(40, 4 * 1024 * 1024) }, () => order.push('snapshot 2'));
    s.purge(makeZxid(1, 10), () => order.push('purge'));
    s.append(txnRange(1, 41, 2), () => order.push('after'));
    await realUntil(() => order.length === 5, 'every callback');
    assert.deepEqual(order, ['before', 'snapshot 1', 'purge', 'after', 'snapshot 2']);
    s.close();
    const again = new FileStorage({ dir });
    const state = again.open();
    assert.equal(state.snapshot?.zxid, makeZxid(1, 40));
    assert.equal(state.lastLoggedZxid, makeZxid(1, 42));
    assert.ok(state.logStart <= makeZxid(1, 10), 'the log still reaches back to the previous snapshot');
    again.close();
  });

  withDir('purge deletes whole segments and the snapshots the log no longer needs', (dir) => {
    const { s, clock } = virtual(dir, { segmentBytes: 800 });
    const txns = txnRange(1, 1, 120);
    for (let i = 0; i < 120; i += 6) {
      s.append(txns.slice(i, i + 6), () => {});
      clock.flush();
    }
    for (const c of [30, 60, 90]) s.saveSnapshot({ zxid: makeZxid(1, c), bytes: snapshotBytes(c) }, () => {});
    clock.flush();
    const segmentsBefore = s.segmentFiles().length;
    s.purge(makeZxid(1, 60), () => {});
    clock.flush();
    assert.ok(s.segmentFiles().length < segmentsBefore, 'segments deleted');
    assert.ok(s.logStart <= makeZxid(1, 60) && s.logStart > makeZxid(1, 40), `logStart 0x${s.logStart.toString(16)}`);
    const snapshots = fs.readdirSync(dir).filter((n) => n.startsWith('snapshot.'));
    assert.deepEqual(snapshots, ['snapshot.000000010000003c', 'snapshot.000000010000005a'], 'the one below logStart is gone');
    assert.deepEqual(s.readLog(s.logStart), txns.filter((t) => t.header.zxid > s.logStart));
    s.close();
  });

  withDir('readLog across many segments, with every limit', (dir) => {
    const { s, clock } = virtual(dir, { segmentBytes: 500 });
    const txns = txnRange(1, 1, 60);
    for (let i = 0; i < 60; i += 3) {
      s.append(txns.slice(i, i + 3), () => {});
      clock.flush();
    }
    assert.ok(s.segmentFiles().length > 8);
    for (let after = 0; after <= 60; after += 7) {
      for (const limit of [1, 2, 5, 13, 100]) {
        const from = after === 0 ? 0 : makeZxid(1, after);
        assert.deepEqual(s.readLog(from, limit), txns.slice(after, after + limit), `after ${after} limit ${limit}`);
      }
    }
    s.close();
  });

  withDir('closing at any moment and reopening at once keeps every acknowledged mutation', async (dir) => {
    let s = new FileStorage({ dir, snapshotChunkBytes: 64 * 1024 });
    s.open();
    let counter = 0;
    let acked = 0;
    let ackedEpoch = 0;
    for (let round = 0; round < 25; round++) {
      const base = counter;
      for (let b = 0; b < 4; b++) {
        const txns = txnRange(1, counter + 1, 5);
        counter += 5;
        const last = counter;
        s.append(txns, () => (acked = Math.max(acked, last)));
      }
      const epoch = round + 1;
      s.writeCurrentEpoch(epoch, () => (ackedEpoch = epoch));
      if (round % 5 === 2) s.saveSnapshot({ zxid: makeZxid(1, base + 1), bytes: snapshotBytes(base, 300_000) }, () => {});
      // Let a varying amount of I/O happen, then crash.
      for (let k = 0; k < round % 7; k++) await new Promise((resolve) => setImmediate(resolve));
      s.close();
      if (round % 2 === 0) s = new FileStorage({ dir, snapshotChunkBytes: 64 * 1024 });
      const state = s.open();
      assert.ok(state.lastLoggedZxid >= (acked === 0 ? 0 : makeZxid(1, acked)), `round ${round}: acked ${acked} kept`);
      assert.ok(state.currentEpoch >= ackedEpoch, `round ${round}: epoch ${ackedEpoch} kept`);
      const log = s.readLog(0);
      log.forEach((t, i) => assert.deepEqual(t, txnRange(1, i + 1, 1)[0], `round ${round}: record ${i}`));
      counter = log.length;
      acked = Math.min(acked, counter);
      if (state.snapshot) assert.ok(Buffer.from(state.snapshot.bytes).equals(Buffer.from(snapshotBytes(state.snapshot.zxid - makeZxid(1, 1), 300_000))));
    }
    s.close();
  });
});

test('fileStorageFactory gives each server its own directory', () => {
  const root = tempDir();
  try {
    const factory = fileStorageFactory(root, { fsync: false, clock: new VirtualClock() });
    const a = factory(1);
    const b = factory(2);
    a.open();
    b.open();
    assert.deepEqual(fs.readdirSync(root).sort(), ['server-1', 'server-2']);
    a.close();
    b.close();
  } finally {
    removeDir(root);
  }
});
