/**
 * Guarantee: an ensemble elects exactly one leader, and every server agrees on who it is
 * and on the epoch it established.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { virtualEnsemble, waitAllServing } from './helpers.js';

for (const servers of [3, 5, 7]) {
  test(`${servers} servers elect exactly one leader and agree on it and the epoch`, async () => {
    const { ensemble, clock } = virtualEnsemble({ servers }, servers);
    waitAllServing(ensemble, clock);
    const leaders = ensemble.servers.filter((s) => s.state === 'LEADING');
    assert.equal(leaders.length, 1);
    const leader = leaders[0]!;
    for (const s of ensemble.servers) {
      assert.equal(s.leaderId, leader.id, `server ${s.id} follows ${s.leaderId}`);
      assert.equal(s.epoch, leader.epoch, `server ${s.id} epoch`);
      assert.equal(s.acceptedEpoch, leader.epoch);
      if (s !== leader) assert.equal(s.state, 'FOLLOWING');
      assert.equal(s.phase, 'broadcast');
    }
    assert.equal(leader.epoch, 1);
    // Highest id wins among equal histories (ZooKeeper's vote order).
    assert.equal(leader.id, servers);
    await ensemble.close();
  });
}

test('a second election after the leader stops establishes a higher epoch everyone agrees on', async () => {
  const { ensemble, clock } = virtualEnsemble({ servers: 5 }, 11);
  waitAllServing(ensemble, clock);
  const first = ensemble.leader()!;
  first.stop();
  waitAllServing(ensemble, clock);
  const second = ensemble.leader()!;
  assert.notEqual(second.id, first.id);
  assert.equal(second.epoch, first.epoch + 1);
  for (const s of ensemble.servers.filter((s) => s.running)) {
    assert.equal(s.leaderId, second.id);
    assert.equal(s.epoch, second.epoch);
  }
  await ensemble.close();
});
