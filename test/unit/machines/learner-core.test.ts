/**
 * The learner persists before it answers (reference §16.5): acceptedEpoch before
 * ACKEPOCH; every synchronized proposal and currentEpoch before the NEWLEADER ACK
 * (ZOOKEEPER-4785); each proposal before its ACK. It applies only committed transactions,
 * only from UPTODATE on, and treats a gap in the leader's stream as fatal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeZxid } from '../../../src/protocol/zxid.js';
import { LearnerCore, followsDirectly, type LearnerEvent } from '../../../src/machines/learner-core.js';
import { FakeHost } from './fake-host.js';
import { txn, txns } from './fixtures.js';

function follower(): { host: FakeHost; core: LearnerCore; events: LearnerEvent['type'][] } {
  const host = new FakeHost(2, { voters: [1, 2, 3], observers: [] });
  const core = new LearnerCore(host, 1, false);
  const events: LearnerEvent['type'][] = [];
  core.attach((e) => events.push(e.type));
  return { host, core, events };
}

test('ACKEPOCH leaves only once acceptedEpoch is durable', () => {
  const { host, core, events } = follower();
  core.sendLearnerInfo();
  host.clock.flush();
  assert.equal(host.sentOf('followerInfo').length, 1);
  core.onMessages(1, [{ type: 'leaderInfo', newEpoch: 3 }]);
  host.clock.advance(5);
  assert.equal(host.sentOf('ackEpoch').length, 0, 'ACKEPOCH before acceptedEpoch was durable');
  host.clock.advance(10);
  const [ack] = host.sentOf('ackEpoch');
  assert.ok(ack);
  assert.equal(ack.durable.acceptedEpoch, 3);
  assert.deepEqual(ack.message, { type: 'ackEpoch', currentEpoch: 0, lastLoggedZxid: 0 });
  assert.deepEqual(events, ['EPOCH_ACCEPTED']);
});

test('the NEWLEADER ACK waits for every synchronized proposal and currentEpoch to be durable', () => {
  const { host, core, events } = follower();
  core.onMessages(1, [{ type: 'leaderInfo', newEpoch: 1 }]);
  host.clock.advance(20);
  core.onMessages(1, [
    { type: 'diff', zxid: makeZxid(1, 3) },
    ...txns(1, 1, 3).map((t) => ({ type: 'proposal' as const, txn: t })),
    { type: 'commit', zxid: makeZxid(1, 3) },
    { type: 'newLeader', zxid: makeZxid(1, 0) },
  ]);
  assert.equal(host.db.lastAppliedZxid, 0, 'applied before UPTODATE');
  host.clock.advance(5);
  assert.equal(host.sentOf('ack').length, 0);
  host.clock.advance(20);
  const [ack] = host.sentOf('ack');
  assert.ok(ack);
  assert.equal(ack.message.zxid, makeZxid(1, 0));
  assert.equal(ack.durable.currentEpoch, 1);
  assert.equal(ack.durable.lastLoggedZxid, makeZxid(1, 3));
  assert.deepEqual(events, ['EPOCH_ACCEPTED', 'NEWLEADER', 'NEWLEADER_ACKED']);

  core.onMessages(1, [{ type: 'upToDate' }]);
  assert.equal(host.db.lastAppliedZxid, makeZxid(1, 3));
  assert.ok(host.serving);
  host.clock.flush();
  assert.equal(host.sentOf('ack').at(-1)!.message.zxid, makeZxid(1, 3), 'cumulative ACK of the synchronized proposals');

  // Broadcast: a batch is logged with one append and ACKed (its last zxid) once durable.
  const writesBefore = host.storage.stats.writes;
  core.onMessages(1, txns(1, 4, 8).map((t) => ({ type: 'proposal' as const, txn: t })));
  host.clock.advance(10);
  assert.equal(host.storage.stats.writes, writesBefore + 1, 'one append per batch');
  const last = host.sentOf('ack').at(-1)!;
  assert.equal(last.message.zxid, makeZxid(1, 8));
  assert.ok(last.durable.lastLoggedZxid >= makeZxid(1, 8), 'ACK before the proposal was durable');
  assert.equal(host.db.lastAppliedZxid, makeZxid(1, 3), 'applied before COMMIT');
  core.onMessages(1, [{ type: 'commit', zxid: makeZxid(1, 6) }]);
  assert.equal(host.db.lastAppliedZxid, makeZxid(1, 6), 'COMMIT covers a range');
});

test('a gap in the leader\'s stream fails the role; repeats are ignored', () => {
  const { host, core, events } = follower();
  core.onMessages(1, [{ type: 'leaderInfo', newEpoch: 1 }]);
  host.clock.advance(20);
  core.onMessages(1, [{ type: 'diff', zxid: 0 }, { type: 'proposal', txn: txn(1, 1) }, { type: 'proposal', txn: txn(1, 1) }]);
  assert.deepEqual(events, ['EPOCH_ACCEPTED']);
  core.onMessages(1, [{ type: 'proposal', txn: txn(1, 3) }]);
  assert.deepEqual(events, ['EPOCH_ACCEPTED', 'FAIL']);
});

test('a leader proposing an epoch below acceptedEpoch is refused', () => {
  const { host, core, events } = follower();
  host.db.writeAcceptedEpoch(5, () => {});
  host.clock.advance(20);
  core.onMessages(1, [{ type: 'leaderInfo', newEpoch: 4 }]);
  assert.deepEqual(events, ['FAIL']);
  assert.equal(host.sentOf('ackEpoch').length, 0);
});

test('an epoch already accepted is acknowledged with currentEpoch -1', () => {
  const { host, core } = follower();
  host.db.writeAcceptedEpoch(2, () => {});
  host.clock.advance(20);
  core.onMessages(1, [{ type: 'leaderInfo', newEpoch: 2 }]);
  host.clock.flush();
  assert.equal(host.sentOf('ackEpoch')[0]!.message.currentEpoch, -1);
});

test('followsDirectly: the next counter, or counter 1 of a later epoch', () => {
  assert.ok(followsDirectly(makeZxid(1, 4), makeZxid(1, 5)));
  assert.ok(followsDirectly(makeZxid(1, 4), makeZxid(3, 1)));
  assert.ok(followsDirectly(0, makeZxid(1, 1)));
  assert.ok(!followsDirectly(makeZxid(1, 4), makeZxid(1, 6)));
  assert.ok(!followsDirectly(makeZxid(1, 4), makeZxid(2, 2)));
});
