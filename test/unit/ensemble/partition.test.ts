/**
 * Guarantees under network partitions: the majority side keeps committing; the minority
 * side commits nothing; a leader cut into a minority steps down and the majority elects a
 * new one; after healing every replica catches up to the same tree.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertConverged, create, settle, succeeded, virtualEnsemble, waitAllServing, waitFor, write } from './helpers.js';

test('a partitioned minority of followers: the majority commits, the minority cannot, healing catches up', async () => {
  const { ensemble, clock } = virtualEnsemble({ servers: 5 }, 31);
  waitAllServing(ensemble, clock);
  const leader = ensemble.leader()!;
  const followers = ensemble.servers.filter((s) => s !== leader);
  const minority = followers.slice(0, 2);
  const majority = ensemble.servers.filter((s) => !minority.includes(s));
  ensemble.network!.faults.partition(
    minority.map((s) => s.id),
    majority.map((s) => s.id),
  );
  settle(clock, 50);
  assert.equal(ensemble.leader(), leader, 'the leader keeps its quorum');

  const onMajority = majority.map((s, i) => write(s, create(`/major${i}`), BigInt(100 + i), 1));
  const onMinority = minority.map((s, i) => write(s, create(`/minor${i}`), BigInt(200 + i), 1));
  waitFor(clock, () => onMajority.every((w) => w.done) && onMinority.every((w) => w.done));
  assert.ok(onMajority.every(succeeded), 'the majority keeps committing');
  assert.ok(onMinority.every((w) => !succeeded(w)), 'the minority acknowledged a write');
  settle(clock, 500);
  for (const s of minority) {
    assert.notEqual(s.state, 'FOLLOWING', `server ${s.id} still follows across the partition`);
    assert.equal(s.serving, false);
  }
  for (const s of ensemble.servers) for (let i = 0; i < minority.length; i++) assert.equal(s.tree.exists(`/minor${i}`), false);

  ensemble.network!.faults.heal();
  waitAllServing(ensemble, clock);
  settle(clock, 50);
  assert.equal(ensemble.leader(), leader);
  for (const s of minority) for (let i = 0; i < majority.length; i++) assert.ok(s.tree.exists(`/major${i}`));
  assertConverged(ensemble);
  await ensemble.close();
});

test('a leader partitioned into a minority steps down; the majority elects a new leader', async () => {
  const { ensemble, clock } = virtualEnsemble({ servers: 5 }, 32);
  waitAllServing(ensemble, clock);
  const old = ensemble.leader()!;
  const buddy = ensemble.servers.find((s) => s !== old)!;
  const majority = ensemble.servers.filter((s) => s !== old && s !== buddy);
  ensemble.network!.faults.partition([old.id, buddy.id], majority.map((s) => s.id));
  const stranded = write(old, create('/stranded'), 1n, 1);
  waitFor(clock, () => stranded.done && old.state !== 'LEADING', 2_000, 'the old leader to step down');
  assert.equal(succeeded(stranded), false);
  waitFor(clock, () => majority.some((s) => s.state === 'LEADING') && majority.every((s) => s.serving), 5_000, 'a serving majority');
  const next = majority.find((s) => s.state === 'LEADING')!;
  assert.ok(next.epoch > old.epoch);
  const committed = write(majority[0]!, create('/majority'), 2n, 1);
  waitFor(clock, () => committed.done);
  assert.ok(succeeded(committed));
  settle(clock, 300);
  assert.notEqual(old.state, 'LEADING');
  assert.equal(old.serving, false);

  ensemble.network!.faults.heal();
  waitAllServing(ensemble, clock);
  assert.equal(ensemble.leader(), next);
  assert.equal(old.tree.exists('/stranded'), false);
  assert.ok(old.tree.exists('/majority'));
  assertConverged(ensemble);
  await ensemble.close();
});

test('a one-way partition (the leader hears nothing back) is detected by timeouts alone', async () => {
  const { ensemble, clock } = virtualEnsemble({ servers: 3 }, 33);
  waitAllServing(ensemble, clock);
  const old = ensemble.leader()!;
  const others = ensemble.servers.filter((s) => s !== old).map((s) => s.id);
  ensemble.network!.faults.partitionOneWay(others, [old.id]);
  waitFor(clock, () => old.state !== 'LEADING', 2_000, 'the deaf leader to step down');
  ensemble.network!.faults.heal();
  waitAllServing(ensemble, clock);
  const w = write(ensemble.leader()!, create('/after'), 1n, 1);
  waitFor(clock, () => w.done);
  assert.ok(succeeded(w));
  settle(clock, 50);
  assertConverged(ensemble);
  await ensemble.close();
});
