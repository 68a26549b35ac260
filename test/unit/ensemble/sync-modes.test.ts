/**
 * Guarantee (§16.5): a learner that rejoins is brought exactly to the leader's committed
 * history, by the cheapest means: DIFF when it is a little behind, TRUNC when it holds
 * proposals of a dead epoch that were never committed, SNAP when it is too far behind for
 * the leader's log. Each ends with the leader's digest.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ZabTraceEvent } from '../../../src/machines/host.js';
import type { QuorumServer } from '../../../src/server/quorum-server.js';
import { assertConverged, create, settle, succeeded, virtualEnsemble, waitAllServing, waitFor, write } from './helpers.js';

type SyncTrace = Extract<ZabTraceEvent, { type: 'sync' }>;

function lastLearnerSync(server: QuorumServer): SyncTrace | undefined {
  return server.traces.filter((t): t is SyncTrace => t.type === 'sync' && t.side === 'learner').at(-1);
}

function writeMany(server: QuorumServer, prefix: string, count: number, sessionId: bigint): ReturnType<typeof write>[] {
  return Array.from({ length: count }, (_, i) => write(server, create(`${prefix}${i}`), sessionId, i + 1));
}

test('a follower restarted a little behind gets DIFF', async () => {
  const { ensemble, clock } = virtualEnsemble({ servers: 3 }, 21);
  waitAllServing(ensemble, clock);
  const leader = ensemble.leader()!;
  const follower = ensemble.servers.find((s) => s !== leader)!;
  const first = writeMany(leader, '/a', 10, 1n);
  waitFor(clock, () => first.every((w) => w.done));
  follower.stop();
  const second = writeMany(leader, '/b', 20, 2n);
  waitFor(clock, () => second.every(succeeded), 5_000, 'writes without the follower');
  follower.restart();
  waitAllServing(ensemble, clock);
  const sync = lastLearnerSync(follower)!;
  assert.equal(sync.mode, 'diff');
  assert.equal(follower.lastZxid, leader.lastZxid);
  assertConverged(ensemble);
  await ensemble.close();
});

test('a follower holding uncommitted proposals of a dead epoch gets TRUNC', async () => {
  const { ensemble, clock } = virtualEnsemble({ servers: 3 }, 22);
  waitAllServing(ensemble, clock);
  const old = ensemble.leader()!;
  const others = ensemble.servers.filter((s) => s !== old);
  const committed = writeMany(old, '/c', 5, 1n);
  waitFor(clock, () => committed.every(succeeded));
  const committedZxid = old.lastAppliedZxid;

  // Cut the leader off, then hand it writes it can log but never commit.
  ensemble.network!.faults.partition([old.id], others.map((s) => s.id));
  const doomed = writeMany(old, '/doomed', 4, 2n);
  waitFor(clock, () => doomed.every((w) => w.done), 5_000, 'the doomed writes to fail');
  assert.ok(doomed.every((w) => !succeeded(w)), 'a minority leader acknowledged a write');
  assert.ok(old.lastZxid > committedZxid, 'the old leader logged its doomed proposals');

  // The majority elects a new leader; the old one rejoins before any new-epoch write.
  waitFor(clock, () => ensemble.leader() !== undefined && ensemble.leader() !== old, 5_000, 'a new leader');
  ensemble.network!.faults.heal();
  waitAllServing(ensemble, clock);
  const sync = lastLearnerSync(old)!;
  assert.equal(sync.mode, 'trunc');
  assert.equal(sync.zxid, committedZxid);
  for (const s of ensemble.servers) for (let i = 0; i < 4; i++) assert.equal(s.tree.exists(`/doomed${i}`), false);
  assertConverged(ensemble);

  // ZOOKEEPER-2845 class: after a restart the truncated proposals must not come back.
  old.restart();
  waitAllServing(ensemble, clock);
  const after = writeMany(ensemble.leader()!, '/after', 3, 3n);
  waitFor(clock, () => after.every(succeeded));
  settle(clock, 50);
  for (const s of ensemble.servers) for (let i = 0; i < 4; i++) assert.equal(s.tree.exists(`/doomed${i}`), false);
  assertConverged(ensemble);
  await ensemble.close();
});

test('uncommitted proposals of a dead epoch and new-epoch history: SNAP (no TRUNC across epochs)', async () => {
  const { ensemble, clock } = virtualEnsemble({ servers: 3 }, 23);
  waitAllServing(ensemble, clock);
  const old = ensemble.leader()!;
  const others = ensemble.servers.filter((s) => s !== old);
  ensemble.network!.faults.partition([old.id], others.map((s) => s.id));
  const doomed = writeMany(old, '/doomed', 3, 2n);
  waitFor(clock, () => doomed.every((w) => w.done));
  waitFor(clock, () => ensemble.leader() !== undefined && ensemble.leader() !== old);
  const fresh = writeMany(ensemble.leader()!, '/fresh', 5, 3n);
  waitFor(clock, () => fresh.every(succeeded));
  ensemble.network!.faults.heal();
  waitAllServing(ensemble, clock);
  assert.equal(lastLearnerSync(old)!.mode, 'snap');
  for (let i = 0; i < 3; i++) assert.equal(old.tree.exists(`/doomed${i}`), false);
  assertConverged(ensemble);
  await ensemble.close();
});

test('a follower far behind a purged log gets SNAP', async () => {
  const { ensemble, clock } = virtualEnsemble({ servers: 3, historyCapacity: 10, snapCount: 20 }, 24);
  waitAllServing(ensemble, clock);
  const leader = ensemble.leader()!;
  const follower = ensemble.servers.find((s) => s !== leader)!;
  follower.stop();
  for (let round = 0; round < 5; round++) {
    const batch = writeMany(leader, `/r${round}-`, 20, BigInt(round + 1));
    waitFor(clock, () => batch.every(succeeded));
  }
  follower.restart();
  waitAllServing(ensemble, clock);
  assert.equal(lastLearnerSync(follower)!.mode, 'snap');
  assertConverged(ensemble);
  // The snapshot is durable: a restart recovers from it.
  follower.restart();
  waitAllServing(ensemble, clock);
  assert.equal(follower.lastAppliedZxid, leader.lastAppliedZxid);
  assertConverged(ensemble);
  await ensemble.close();
});
