/**
 * The leader's discovery and broadcast, on its core alone: the new epoch is max
 * acceptedEpoch of a quorum + 1 and is durable before LEADERINFO leaves; currentEpoch is
 * durable before synchronization; a learner ahead of the leader is refused; proposals
 * commit on a voter quorum of cumulative ACKs, in order, with one COMMIT per step.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpCode, Perms } from '../../../src/protocol/constants.js';
import { makeZxid } from '../../../src/protocol/zxid.js';
import { LeaderCore, type LeaderEvent } from '../../../src/machines/leader-core.js';
import { FakeHost } from './fake-host.js';

function leader(latency = 10) {
  const host = new FakeHost(1, { voters: [1, 2, 3], observers: [4] }, latency);
  const core = new LeaderCore(host);
  const events: LeaderEvent['type'][] = [];
  core.attach((e) => events.push(e.type));
  return { host, core, events };
}

/** Drive the core as the machine would, through to broadcast with learners 2 and 3. */
function establish(host: FakeHost, core: LeaderCore, events: LeaderEvent['type'][]): void {
  core.startDiscovery();
  core.onMessages(2, [{ type: 'followerInfo', acceptedEpoch: 4, lastZxid: 0 }]);
  assert.deepEqual(events, ['EPOCH_QUORUM']);
  assert.equal(core.newEpoch, 5);
  core.persistAcceptedEpoch();
  host.clock.advance(20);
  assert.deepEqual(events.at(-1), 'ACCEPTED_EPOCH_PERSISTED');
  core.sendLeaderInfo();
  core.onMessages(3, [{ type: 'followerInfo', acceptedEpoch: 0, lastZxid: 0 }]);
  host.clock.flush();
  for (const info of host.sentOf('leaderInfo')) {
    assert.equal(info.message.newEpoch, 5);
    assert.equal(info.durable.acceptedEpoch, 5, 'LEADERINFO before acceptedEpoch was durable');
  }
  core.onMessages(2, [{ type: 'ackEpoch', currentEpoch: 0, lastLoggedZxid: 0 }]);
  core.onMessages(3, [{ type: 'ackEpoch', currentEpoch: 0, lastLoggedZxid: 0 }]);
  assert.equal(events.at(-1), 'EPOCH_ACKED');
  core.persistCurrentEpoch();
  host.clock.advance(20);
  assert.equal(host.storage.epochs().currentEpoch, 5);
  core.startSync();
  host.clock.flush();
  assert.equal(host.sentOf('newLeader').length, 2);
  core.onMessages(2, [{ type: 'ack', zxid: makeZxid(5, 0) }]);
  assert.equal(events.at(-1), 'NEWLEADER_QUORUM');
  core.establish();
  host.clock.flush();
  assert.equal(host.sentOf('upToDate').length, 1, 'UPTODATE only to the learner that acked NEWLEADER');
  core.onMessages(3, [{ type: 'ack', zxid: makeZxid(5, 0) }]);
  host.clock.flush();
  assert.equal(host.sentOf('upToDate').length, 2, 'a late NEWLEADER ACK gets UPTODATE at once');
  assert.ok(host.serving);
}

test('discovery, synchronization and establishment persist before they answer', () => {
  const { host, core, events } = leader();
  establish(host, core, events);
});

test('a learner ahead of the leader is refused at ACKEPOCH', () => {
  const { host, core, events } = leader();
  core.startDiscovery();
  core.onMessages(2, [{ type: 'followerInfo', acceptedEpoch: 1, lastZxid: makeZxid(1, 9) }]);
  core.persistAcceptedEpoch();
  host.clock.advance(20);
  core.sendLeaderInfo();
  core.onMessages(2, [{ type: 'ackEpoch', currentEpoch: 1, lastLoggedZxid: makeZxid(1, 9) }]);
  assert.equal(core.learners.has(2), false);
  assert.ok(!events.includes('EPOCH_ACKED'));
});

test('proposals commit on a quorum of cumulative ACKs, in order, with one COMMIT and one append per batch', () => {
  const { host, core, events } = leader(1);
  establish(host, core, events);
  const writesBefore = host.storage.stats.writes;
  const acl = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];
  for (let i = 0; i < 10; i++) {
    assert.ok(core.submitWrite(1n, i, { type: OpCode.create, path: `/n${i}`, data: null, acl, flags: 0 }, []));
  }
  host.clock.flush();
  assert.equal(host.sentOf('proposal').filter((p) => p.to === 2).length, 10);
  assert.equal(host.storage.stats.writes, writesBefore, 'the leader\'s append is not durable yet');
  // Follower 2 acks the first 6 (cumulatively): with the leader's own log, a quorum.
  core.onMessages(2, [{ type: 'ack', zxid: makeZxid(5, 6) }]);
  assert.equal(host.db.lastAppliedZxid, 0, 'committed before the leader\'s own log made a quorum');
  host.clock.advance(1);
  assert.equal(host.storage.stats.writes, writesBefore + 1, 'one append for the batch');
  assert.equal(host.db.lastAppliedZxid, makeZxid(5, 6));
  host.clock.flush();
  const commits = host.sentOf('commit').filter((c) => c.to === 2);
  assert.deepEqual(commits.map((c) => c.message.zxid), [makeZxid(5, 6)]);
  const informs = host.sentOf('inform');
  assert.equal(informs.length, 0, 'no observer is connected');
  core.onMessages(3, [{ type: 'ack', zxid: makeZxid(5, 10) }]);
  assert.equal(host.db.lastAppliedZxid, makeZxid(5, 10));
  assert.equal(core.status().outstanding, 0);
});

test('a leader that loses its followers abdicates after syncLimit ticks', () => {
  const { host, core, events } = leader(1);
  establish(host, core, events);
  for (let i = 0; i < host.timing.syncLimit * 2; i++) core.tick();
  assert.ok(!events.includes('FAIL'), 'failed within syncLimit');
  core.tick();
  assert.equal(events.at(-1), 'FAIL');
});
