/**
 * Guarantee (§16.5, §16.7): a learner's log never has a hole, so it never applies a
 * committed history with a transaction missing, whatever part of its synchronization it
 * missed.
 *
 * Found by the simulator (`npm run sim -- --seed 17 --servers 5`): a follower a few
 * transactions behind rejoined a leader of a new epoch; the batch carrying
 * DIFF + the old-epoch transactions + NEWLEADER was lost on a connection that stayed up
 * (the in-process network's `drop` fault). The leader forwarded its new epoch's
 * proposals anyway, and the follower logged `e:1` right after its old last zxid (a
 * counter-1 proposal of a later epoch looked like a direct successor). Rejoining later
 * with that holed log, it got a DIFF and applied the new epoch on top of a tree missing
 * the old epoch's tail. As in ZooKeeper's `Learner.syncWithLeader`, the first thing a
 * learner accepts after ACKEPOCH is DIFF, TRUNC or SNAP; anything else means the sync
 * data was lost and the learner starts over.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ZabTraceEvent } from '../../../src/machines/host.js';
import type { QuorumServer } from '../../../src/server/quorum-server.js';
import { assertConverged, create, succeeded, virtualEnsemble, waitAllServing, waitFor, write } from './helpers.js';

type SyncTrace = Extract<ZabTraceEvent, { type: 'sync' }>;

function leaderSyncsOf(leader: QuorumServer, peer: number): number {
  return leader.traces.filter((t): t is SyncTrace => t.type === 'sync' && t.side === 'leader' && t.peer === peer).length;
}

/** Record the zxids `server` applies, in order. */
function appliedZxids(server: QuorumServer): number[] {
  const zxids: number[] = [];
  server.on('applied', (txn) => zxids.push(txn.header.zxid));
  return zxids;
}

/**
 * Bring `lagging` back to a leader of a newer epoch than the one it last saw, with some
 * old-epoch history it lacks, and lose (silently, connection up) the one batch of its
 * synchronization. Then the leader proposes new-epoch writes.
 */
function loseSyncBatch(seed: number): {
  ensemble: ReturnType<typeof virtualEnsemble>['ensemble'];
  clock: ReturnType<typeof virtualEnsemble>['clock'];
  lagging: QuorumServer;
  applied: number[];
  missed: string[];
} {
  const { ensemble, clock } = virtualEnsemble({ servers: 3 }, seed);
  waitAllServing(ensemble, clock);
  const first = ensemble.leader()!;
  const lagging = ensemble.servers.find((s) => s !== first)!;
  const base = [write(first, create('/base'), 1n, 1)];
  waitFor(clock, () => base.every(succeeded) && lagging.lastAppliedZxid === first.lastAppliedZxid, 5_000, 'base write everywhere');
  const applied = appliedZxids(lagging);

  // The lagging follower misses the old epoch's tail.
  lagging.stop();
  const missed = ['/old0', '/old1', '/old2'];
  const tail = missed.map((path, i) => write(first, create(path), 2n, i + 1));
  waitFor(clock, () => tail.every(succeeded), 5_000, 'old-epoch tail committed');

  // A new epoch without it: the leader restarts, the two others elect again.
  first.restart();
  waitFor(clock, () => ensemble.leader() !== undefined && ensemble.leader()!.epoch > lagging.epoch, 10_000, 'a new epoch');
  waitFor(clock, () => ensemble.servers.filter((s) => s.serving).length === 2, 10_000, 'the new epoch serving');
  const leader = ensemble.leader()!;

  // The lagging follower rejoins; its sync batch (DIFF, the tail, NEWLEADER) is lost.
  const syncs = leaderSyncsOf(leader, lagging.id);
  lagging.restart();
  waitFor(clock, () => leaderSyncsOf(leader, lagging.id) > syncs, 5_000, 'the leader to sync the follower');
  const faults = ensemble.network!.faults;
  faults.partitionOneWay([leader.id], [lagging.id]); // the batch is still in the leader's outbox
  clock.flush();
  faults.heal(); // the connection never broke: later batches flow again

  // New-epoch proposals reach the follower while it waits for its sync data.
  const fresh = ['/new0', '/new1'].map((path, i) => write(leader, create(path), 3n, i + 1));
  waitFor(clock, () => fresh.every(succeeded), 5_000, 'new-epoch writes committed');
  return { ensemble, clock, lagging, applied, missed: [...missed, '/new0', '/new1'] };
}

test('a learner whose DIFF + NEWLEADER batch was lost never logs past the hole', async () => {
  const { ensemble, clock, lagging, applied, missed } = loseSyncBatch(31);
  waitAllServing(ensemble, clock, 20_000);
  for (const path of missed) assert.equal(lagging.tree.exists(path), true, `server ${lagging.id} lacks ${path}`);
  // Every committed transaction (the leader's log) was applied on the follower.
  const seen = new Set(applied);
  for (const txn of ensemble.leader()!.db.storage.readLog(0)) {
    assert.ok(seen.has(txn.header.zxid), `server ${lagging.id} never applied ${txn.header.zxid.toString(16)}`);
  }
  assertConverged(ensemble);
  // A write after recovery lands everywhere (the follower's log extends the leader's).
  const after = write(ensemble.leader()!, create('/after'), 4n, 1);
  waitFor(clock, () => succeeded(after) && lagging.tree.exists('/after'), 5_000, 'a write after recovery');
  assertConverged(ensemble);
  await ensemble.close();
});

test('the learner fails at once on a proposal that precedes DIFF/TRUNC/SNAP', async () => {
  const { ensemble, clock, lagging } = loseSyncBatch(32);
  const failures = (): string[] =>
    lagging.traces.filter((t): t is Extract<ZabTraceEvent, { type: 'roleFailed' }> => t.type === 'roleFailed').map((t) => t.reason);
  waitFor(clock, () => failures().length > 0, 5_000, 'the follower to give up its sync');
  assert.match(failures()[0]!, /before DIFF\/TRUNC\/SNAP/);
  waitAllServing(ensemble, clock, 20_000);
  assertConverged(ensemble);
  await ensemble.close();
});
