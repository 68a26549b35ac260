/**
 * MemoryStorage keeps the Storage contract: asynchronous completion through the clock,
 * in issue order, and crash semantics (what completed survives, what did not is lost).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeZxid } from '../../../src/protocol/zxid.js';
import { MemoryStorage } from '../../../src/storage/memory.js';
import { VirtualClock } from '../../../src/sim/virtual-clock.js';
import { txns } from './fixtures.js';

test('mutations complete asynchronously, in issue order, through the clock', () => {
  const clock = new VirtualClock();
  const storage = new MemoryStorage({ clock });
  storage.open();
  const order: string[] = [];
  storage.writeAcceptedEpoch(1, () => order.push('accepted'));
  storage.append(txns(1, 1, 3), () => order.push('append'));
  storage.writeCurrentEpoch(1, () => order.push('current'));
  assert.deepEqual(order, [], 'a callback ran synchronously');
  assert.equal(storage.lastLoggedZxid, 0, 'not durable before completion');
  clock.flush();
  assert.deepEqual(order, ['accepted', 'append', 'current']);
  assert.equal(storage.lastLoggedZxid, makeZxid(1, 3));
  assert.deepEqual(storage.epochs(), { acceptedEpoch: 1, currentEpoch: 1 });
  assert.equal(storage.stats.writes, 3);
});

test('a crash keeps what completed and loses what was pending', () => {
  const clock = new VirtualClock();
  const storage = new MemoryStorage({ clock, latency: 10 });
  storage.open();
  let done = 0;
  storage.append(txns(1, 1, 2), () => done++);
  clock.advance(10);
  assert.equal(done, 1);
  storage.append(txns(1, 3, 4), () => done++);
  storage.writeCurrentEpoch(1, () => done++);
  clock.advance(5);
  storage.crash();
  clock.advance(100);
  assert.equal(done, 1, 'a callback ran after the crash');
  const state = storage.open();
  assert.equal(state.lastLoggedZxid, makeZxid(1, 2));
  assert.equal(state.currentEpoch, 0);
  assert.equal(storage.stats.lost, 2);
  assert.deepEqual(storage.readLog(0).map((t) => t.header.zxid), [makeZxid(1, 1), makeZxid(1, 2)]);
});

test('truncate, snapshots, purge and readLog', () => {
  const clock = new VirtualClock();
  const storage = new MemoryStorage({ clock });
  storage.open();
  storage.append(txns(1, 1, 10), () => {});
  storage.truncate(makeZxid(1, 7), () => {});
  clock.flush();
  assert.equal(storage.lastLoggedZxid, makeZxid(1, 7));
  assert.deepEqual(storage.readLog(makeZxid(1, 5)).map((t) => t.header.cxid), [6, 7]);
  assert.deepEqual(storage.readLog(makeZxid(1, 1), 2).map((t) => t.header.cxid), [2, 3]);

  storage.saveSnapshot({ zxid: makeZxid(1, 5), bytes: new Uint8Array([1]) }, () => {});
  storage.purge(makeZxid(1, 5), () => {});
  clock.flush();
  assert.equal(storage.logStart, makeZxid(1, 5));
  assert.deepEqual(storage.readLog(0).map((t) => t.header.cxid), [6, 7]);

  storage.installSnapshot({ zxid: makeZxid(2, 3), bytes: new Uint8Array([2]) }, () => {});
  clock.flush();
  assert.equal(storage.logStart, makeZxid(2, 3));
  assert.equal(storage.lastLoggedZxid, makeZxid(2, 3));
  assert.deepEqual(storage.readLog(0), []);
  assert.equal(storage.latestSnapshot()!.zxid, makeZxid(2, 3));
});

test('appends out of zxid order are a bug, caught when they complete', () => {
  const clock = new VirtualClock();
  const storage = new MemoryStorage({ clock });
  storage.open();
  storage.append(txns(1, 5, 5), () => {});
  storage.append(txns(1, 3, 3), () => {});
  assert.throws(() => clock.flush(), /out of order/);
});
