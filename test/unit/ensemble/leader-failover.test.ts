/**
 * Guarantee: when the leader dies under a stream of writes, a new leader is elected, no
 * acknowledged write is lost, no write is applied twice, and once the old leader is back
 * every replica holds the same tree.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Workload, assertConverged, settle, virtualEnsemble, waitAllServing, waitFor } from './helpers.js';

for (const servers of [3, 5]) {
  test(`${servers} servers: kill the leader under writes; nothing acknowledged is lost`, async () => {
    const { ensemble, clock } = virtualEnsemble({ servers }, 100 + servers);
    waitAllServing(ensemble, clock);
    const sessions = ensemble.servers.flatMap((s, i) => [
      { sessionId: BigInt(10 + 2 * i), server: s.id },
      { sessionId: BigInt(11 + 2 * i), server: s.id },
    ]);
    const workload = new Workload(ensemble, clock, sessions);
    workload.start(3);
    settle(clock, 200);
    const before = workload.acknowledged.length;
    assert.ok(before > 50, `only ${before} writes acknowledged before the crash`);

    const old = ensemble.leader()!;
    old.stop();
    waitFor(clock, () => ensemble.leader() !== undefined && ensemble.leader() !== old, 5_000, 'a new leader');
    const next = ensemble.leader()!;
    assert.ok(next.epoch > old.epoch || next.acceptedEpoch > old.acceptedEpoch);
    settle(clock, 200);
    assert.ok(workload.acknowledged.length > before + 20, 'writes continue under the new leader');

    old.restart();
    settle(clock, 200);
    workload.stop();
    waitFor(clock, () => workload.inFlight === 0, 5_000, 'writes drained');
    waitAllServing(ensemble, clock);
    settle(clock, 100);
    assert.equal(old.state, 'FOLLOWING');
    workload.assertDurableAndUnique();
    assertConverged(ensemble);
    await ensemble.close();
  });
}

test('repeated leader crashes: every acknowledged write survives all of them', async () => {
  const { ensemble, clock } = virtualEnsemble({ servers: 5 }, 7);
  waitAllServing(ensemble, clock);
  const sessions = ensemble.servers.map((s, i) => ({ sessionId: BigInt(20 + i), server: s.id }));
  const workload = new Workload(ensemble, clock, sessions);
  workload.start(4);
  for (let round = 0; round < 4; round++) {
    settle(clock, 150);
    const leader = ensemble.leader();
    assert.ok(leader, `round ${round}: no leader`);
    leader.stop();
    settle(clock, 150);
    leader.restart();
  }
  settle(clock, 200);
  workload.stop();
  waitFor(clock, () => workload.inFlight === 0, 5_000, 'writes drained');
  waitAllServing(ensemble, clock);
  settle(clock, 100);
  workload.assertDurableAndUnique();
  assertConverged(ensemble);
  assert.ok(workload.acknowledged.length > 100);
  await ensemble.close();
});
