/**
 * TrapStorage: the simulator's crash points between a persistence step and its callback.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Txn } from '../../../src/protocol/txn.js';
import { makeZxid } from '../../../src/protocol/zxid.js';
import { TrapStorage, type StorageTrap } from '../../../src/sim/trap-storage.js';
import { VirtualClock } from '../../../src/sim/virtual-clock.js';
import { MemoryStorage } from '../../../src/storage/memory.js';

function txn(counter: number): Txn {
  return { header: { sessionId: 1n, cxid: counter, zxid: makeZxid(1, counter), time: 0 }, body: { kind: 'error', err: -101 } };
}

function setup(): { clock: VirtualClock; memory: MemoryStorage; storage: TrapStorage; crashes: StorageTrap[]; violations: string[] } {
  const clock = new VirtualClock();
  const memory = new MemoryStorage({ clock });
  const crashes: StorageTrap[] = [];
  const violations: string[] = [];
  const storage: TrapStorage = new TrapStorage(memory, {
    clock,
    onCrash: (trap) => {
      crashes.push(trap);
      storage.close(); // what the cluster does: stop the server, which closes its storage
    },
    onViolation: (m) => violations.push(m),
  });
  storage.open();
  return { clock, memory, storage, crashes, violations };
}

test('an "issue" trap crashes before the write is durable; nothing issued after it survives', () => {
  const { clock, memory, storage, crashes } = setup();
  const done: number[] = [];
  storage.append([txn(1)], () => done.push(1));
  storage.arm({ step: 'append', when: 'issue', skip: 1 });
  storage.append([txn(2)], () => done.push(2)); // let through (skip 1)
  storage.append([txn(3)], () => done.push(3)); // the trap
  storage.writeCurrentEpoch(1, () => done.push(4)); // swallowed: storage is FIFO
  clock.flush();
  assert.deepEqual(crashes, [{ step: 'append', when: 'issue', skip: 1 }]);
  assert.deepEqual(done, [1, 2]);
  assert.equal(memory.lastLoggedZxid, makeZxid(1, 2));
  assert.deepEqual(memory.epochs(), { acceptedEpoch: 0, currentEpoch: 0 });
  const state = storage.open(); // restart
  assert.equal(state.lastLoggedZxid, makeZxid(1, 2));
  storage.append([txn(3)], () => done.push(5)); // works again after the restart
  clock.flush();
  assert.deepEqual(done, [1, 2, 5]);
});

test('a "durable" trap crashes after the write is durable, instead of its callback', () => {
  const { clock, memory, storage, crashes } = setup();
  const done: string[] = [];
  storage.arm({ step: 'acceptedEpoch', when: 'durable', skip: 0 });
  storage.writeAcceptedEpoch(3, () => done.push('ackepoch'));
  clock.flush();
  assert.equal(crashes.length, 1);
  assert.deepEqual(done, []);
  assert.equal(memory.epochs().acceptedEpoch, 3);
  assert.equal(storage.armed, null);
});

test('a disarmed trap never fires; a durable epoch written lower is reported', () => {
  const { clock, storage, crashes, violations } = setup();
  storage.arm({ step: 'append', when: 'issue', skip: 0 });
  storage.disarm();
  storage.append([txn(1)], () => {});
  storage.writeAcceptedEpoch(5, () => {});
  clock.flush();
  assert.deepEqual(crashes, []);
  assert.deepEqual(violations, []);
  storage.writeAcceptedEpoch(4, () => {});
  clock.flush();
  assert.equal(violations.length, 1);
  assert.match(violations[0]!, /acceptedEpoch written down from 5 to 4/);
});
