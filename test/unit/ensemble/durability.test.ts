/**
 * Guarantee (principle 6): nothing acknowledged is ever lost. Each server persists before
 * it answers: acceptedEpoch before ACKEPOCH, the synchronized history and currentEpoch
 * before the NEWLEADER ACK, each proposal before its ACK; a write is acknowledged only
 * after a quorum logged it. With slow storage (so crashes land between "logging" and
 * "ACK"), crashing every server at once and restarting them loses nothing acknowledged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStorage } from '../../../src/storage/memory.js';
import { Workload, assertConverged, settle, virtualEnsemble, waitAllServing, waitFor } from './helpers.js';

for (const seed of [71, 72, 73]) {
  test(`power loss of the whole ensemble at random moments loses no acknowledged write (seed ${seed})`, async () => {
    const storages = new Map<number, MemoryStorage>();
    const { ensemble, clock } = virtualEnsemble(
      (clock) => ({
        servers: 3,
        storage: (id) => {
          const s = new MemoryStorage({ clock, latency: 3 + id });
          storages.set(id, s);
          return s;
        },
      }),
      seed,
    );
    waitAllServing(ensemble, clock);
    const sessions = ensemble.servers.map((s, i) => ({ sessionId: BigInt(40 + i), server: s.id }));
    const workload = new Workload(ensemble, clock, sessions);
    workload.start(2);
    let lost = 0;
    for (let round = 0; round < 4; round++) {
      settle(clock, 60 + ((seed * 7 + round * 13) % 40));
      for (const s of ensemble.servers) s.stop(); // every server loses power at once
      for (const st of storages.values()) lost += st.stats.lost;
      settle(clock, 5);
      for (const s of ensemble.servers) s.restart();
      waitAllServing(ensemble, clock);
    }
    workload.stop();
    waitFor(clock, () => workload.inFlight === 0);
    settle(clock, 50);
    assert.ok(workload.acknowledged.length > 40, `only ${workload.acknowledged.length} writes acknowledged`);
    assert.ok(lost > 0, 'no crash hit a pending storage write: the test proves nothing');
    workload.assertDurableAndUnique();
    assertConverged(ensemble);
    await ensemble.close();
  });
}

test('a follower crashing mid-synchronization keeps every committed transaction (ZOOKEEPER-3911 class)', async () => {
  const { ensemble, clock } = virtualEnsemble((clock) => ({ servers: 3, storage: () => new MemoryStorage({ clock, latency: 20 }) }), 74);
  waitAllServing(ensemble, clock);
  const sessions = ensemble.servers.map((s, i) => ({ sessionId: BigInt(60 + i), server: s.id }));
  const workload = new Workload(ensemble, clock, sessions);
  workload.start(2);
  settle(clock, 100);
  const leader = ensemble.leader()!;
  const follower = ensemble.servers.find((s) => s !== leader)!;
  follower.stop();
  settle(clock, 100);
  follower.restart();
  // Crash it again while it synchronizes (its storage takes 20 ms per write).
  waitFor(clock, () => follower.phase === 'synchronization', 2_000, 'the follower to synchronize');
  settle(clock, 5);
  follower.stop();
  // The rest of the ensemble also crashes: only what was durable before answering counts.
  settle(clock, 10);
  for (const s of ensemble.servers) s.stop();
  for (const s of ensemble.servers) s.restart();
  waitAllServing(ensemble, clock);
  workload.stop();
  waitFor(clock, () => workload.inFlight === 0);
  settle(clock, 50);
  workload.assertDurableAndUnique();
  assertConverged(ensemble);
  await ensemble.close();
});
