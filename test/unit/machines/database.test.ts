/**
 * ZabDatabase keeps the tree committed-only: logged transactions wait unapplied; a
 * restart recovers the snapshot and keeps the rest of the log unapplied; TRUNC only ever
 * drops unapplied transactions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeZxid } from '../../../src/protocol/zxid.js';
import { ZabDatabase } from '../../../src/machines/database.js';
import { MemoryStorage } from '../../../src/storage/memory.js';
import { VirtualClock } from '../../../src/sim/virtual-clock.js';
import { txns } from './fixtures.js';

function setup(options: { snapCount?: number; historyCapacity?: number } = {}) {
  const clock = new VirtualClock();
  const storage = new MemoryStorage({ clock });
  const applied: number[] = [];
  const open = () => new ZabDatabase({ storage, ...options, onApplied: (t) => applied.push(t.header.cxid) });
  return { clock, storage, applied, open };
}

test('appended transactions wait unapplied until applyThrough, then apply in order', () => {
  const { clock, applied, open } = setup();
  const db = open();
  let durable = false;
  db.append(txns(1, 1, 5), () => (durable = true));
  assert.equal(db.lastZxid, makeZxid(1, 5));
  assert.equal(db.lastAppliedZxid, 0);
  assert.equal(db.unappliedCount, 5);
  assert.equal(db.applyThrough(makeZxid(1, 3)), 3);
  assert.deepEqual(applied, [1, 2, 3]);
  assert.ok(db.tree.exists('/n1-3') && !db.tree.exists('/n1-4'));
  clock.flush();
  assert.ok(durable);
});

test('a restart recovers the snapshot and keeps the rest of the log unapplied', () => {
  const { clock, open } = setup({ snapCount: 4 });
  const db = open();
  db.append(txns(1, 1, 8));
  db.applyThrough(makeZxid(1, 5));
  db.maybeSnapshot();
  clock.flush();
  const again = open();
  assert.equal(again.lastAppliedZxid, makeZxid(1, 5));
  assert.equal(again.lastZxid, makeZxid(1, 8));
  assert.equal(again.unappliedCount, 3);
  assert.equal(again.tree.digest(), db.tree.digest());
  assert.deepEqual(again.unappliedSlice(0).map((t) => t.header.cxid), [6, 7, 8]);
});

test('what was not durable at a crash is gone after the restart', () => {
  const { clock, storage, open } = setup();
  const db = open();
  db.append(txns(1, 1, 3));
  clock.flush();
  db.append(txns(1, 4, 6));
  storage.crash();
  const again = open();
  assert.equal(again.lastZxid, makeZxid(1, 3));
});

test('TRUNC drops unapplied transactions only', () => {
  const { clock, open } = setup();
  const db = open();
  db.append([...txns(1, 1, 6)]);
  db.applyThrough(makeZxid(1, 2));
  assert.equal(db.truncate(makeZxid(1, 1)), false, 'truncating below the applied state must be refused');
  assert.equal(db.truncate(makeZxid(1, 4)), true);
  assert.equal(db.lastZxid, makeZxid(1, 4));
  assert.equal(db.unappliedCount, 2);
  db.append(txns(2, 1, 1));
  clock.flush();
  const again = open();
  assert.deepEqual(again.unappliedSlice(0).map((t) => t.header.zxid), [makeZxid(1, 1), makeZxid(1, 2), makeZxid(1, 3), makeZxid(1, 4), makeZxid(2, 1)]);
});

test('installSnapshot replaces the tree, the log and the history', () => {
  const source = setup().open();
  source.append(txns(3, 1, 4));
  source.applyThrough(makeZxid(3, 4));
  const { clock, open } = setup();
  const db = open();
  db.append(txns(1, 1, 9));
  let replaced = 0;
  const target = new ZabDatabase({ storage: db.storage, onTreeReplaced: () => replaced++ });
  target.installSnapshot(source.tree.serialize());
  clock.flush();
  assert.equal(replaced, 1);
  assert.equal(target.lastZxid, makeZxid(3, 4));
  assert.equal(target.unappliedCount, 0);
  assert.equal(target.tree.digest(), source.tree.digest());
  const again = open();
  assert.equal(again.lastAppliedZxid, makeZxid(3, 4));
  assert.equal(again.unappliedCount, 0);
});
