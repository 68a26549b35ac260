/**
 * The leader's choice of DIFF / TRUNC / SNAP for a learner (§16.5, ZooKeeper's
 * `syncFollower`), over a leader database holding epochs 1 and 2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeZxid } from '../../../src/protocol/zxid.js';
import { ZabDatabase } from '../../../src/machines/database.js';
import { planSync } from '../../../src/machines/sync-plan.js';
import { MemoryStorage } from '../../../src/storage/memory.js';
import { VirtualClock } from '../../../src/sim/virtual-clock.js';
import { txns } from './fixtures.js';

/** A leader db with history (1,1..10) (2,1..5), all applied; window of `capacity`. */
function leaderDb(capacity = 100): ZabDatabase {
  const clock = new VirtualClock();
  const db = new ZabDatabase({ storage: new MemoryStorage({ clock }), historyCapacity: capacity });
  db.append([...txns(1, 1, 10), ...txns(2, 1, 5)]);
  db.applyThrough(makeZxid(2, 5));
  clock.flush();
  return db;
}

const end = makeZxid(2, 5);

test('in sync: empty DIFF', () => {
  const plan = planSync(leaderDb(), end, end);
  assert.equal(plan.mode, 'diff');
  assert.equal(plan.txns.length, 0);
});

test('a little behind: DIFF with every later transaction', () => {
  const plan = planSync(leaderDb(), makeZxid(1, 8), end);
  assert.equal(plan.mode, 'diff');
  assert.deepEqual(plan.txns.map((t) => t.header.zxid), [makeZxid(1, 9), makeZxid(1, 10), ...[1, 2, 3, 4, 5].map((c) => makeZxid(2, c))]);
});

test('an empty learner and a history from zero: DIFF from the start', () => {
  const plan = planSync(leaderDb(), 0, end);
  assert.equal(plan.mode, 'diff');
  assert.equal(plan.txns.length, 15);
});

test('ahead of the leader: TRUNC to the leader\'s last zxid', () => {
  const plan = planSync(leaderDb(), makeZxid(2, 9), end);
  assert.deepEqual({ mode: plan.mode, zxid: plan.zxid, n: plan.txns.length }, { mode: 'trunc', zxid: end, n: 0 });
});

test('proposals of a dead epoch the leader never had, then a newer epoch: SNAP (no TRUNC across epochs)', () => {
  const plan = planSync(leaderDb(), makeZxid(1, 12), end);
  assert.equal(plan.mode, 'snap');
  assert.equal(plan.zxid, end);
});

test('older than the memory window: DIFF from the storage log', () => {
  const plan = planSync(leaderDb(4), makeZxid(1, 3), end);
  assert.equal(plan.mode, 'diff');
  assert.equal(plan.txns.length, 12);
  assert.equal(plan.txns[0]!.header.zxid, makeZxid(1, 4));
});

test('older than the log (purged behind a snapshot): SNAP, plus the unapplied tail', () => {
  const clock = new VirtualClock();
  const storage = new MemoryStorage({ clock });
  const db = new ZabDatabase({ storage, historyCapacity: 3, snapCount: 5 });
  db.append(txns(1, 1, 10));
  db.applyThrough(makeZxid(1, 5));
  db.maybeSnapshot();
  clock.flush();
  storage.purge(makeZxid(1, 5), () => {});
  clock.flush();
  const plan = planSync(db, makeZxid(1, 2), makeZxid(1, 10));
  assert.equal(plan.mode, 'snap');
  assert.equal(plan.zxid, makeZxid(1, 5), 'the snapshot is of the applied (committed) tree');
  assert.deepEqual(plan.txns.map((t) => t.header.cxid), [6, 7, 8, 9, 10]);
});
