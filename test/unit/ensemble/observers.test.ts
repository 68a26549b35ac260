/**
 * Guarantees of observers: they receive every commit (INFORM) and serve reads and
 * forwarded writes, but never vote: a quorum is counted among voters only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertConverged, create, dataOf, settle, succeeded, virtualEnsemble, waitAllServing, waitFor, write } from './helpers.js';

test('observers receive every commit, serve reads, and forward writes', async () => {
  const { ensemble, clock } = virtualEnsemble({ servers: 3, observers: 2 }, 41);
  waitAllServing(ensemble, clock);
  const observers = ensemble.servers.filter((s) => s.id > 3);
  for (const o of observers) assert.equal(o.state, 'OBSERVING');
  assert.ok(ensemble.leader()!.id <= 3, 'an observer was elected leader');

  const writes = ensemble.servers.map((s, i) => write(s, create(`/n${i}`, `v${i}`), BigInt(10 + i), 1));
  waitFor(clock, () => writes.every((w) => w.done));
  assert.ok(writes.every(succeeded), 'a write failed');
  settle(clock, 20);
  for (const o of observers) {
    for (let i = 0; i < writes.length; i++) assert.equal(dataOf(o, `/n${i}`), `v${i}`);
    const read = await new Promise((resolve) => o.read({ sessionId: 99n }, (tree) => tree.getChildren('/')!.length, resolve));
    assert.equal(read, 1 + writes.length); // /zookeeper and the five nodes
  }
  assertConverged(ensemble);
  await ensemble.close();
});

test('a quorum never counts observers: 2 voters + 3 observers cannot commit with one voter down', async () => {
  const { ensemble, clock } = virtualEnsemble({ servers: 2, observers: 3 }, 42);
  waitAllServing(ensemble, clock);
  const leader = ensemble.leader()!;
  const ok = write(leader, create('/before'), 1n, 1);
  waitFor(clock, () => ok.done);
  assert.ok(succeeded(ok));

  const otherVoter = ensemble.servers.find((s) => s.id <= 2 && s !== leader)!;
  otherVoter.stop();
  const observers = ensemble.servers.filter((s) => s.id > 2);
  const attempts = [write(leader, create('/after-leader'), 2n, 1), ...observers.map((o, i) => write(o, create(`/after-o${i}`), BigInt(3 + i), 1))];
  waitFor(clock, () => attempts.every((w) => w.done), 5_000, 'attempts to finish');
  settle(clock, 1_000);
  assert.ok(attempts.every((w) => !succeeded(w)), 'something committed without a voter quorum');
  assert.equal(ensemble.leader(), undefined, 'a leader serves without a voter quorum');
  for (const s of ensemble.servers.filter((s) => s.running)) {
    assert.equal(s.tree.exists('/after-leader'), false);
    assert.equal(s.serving, false);
  }

  otherVoter.restart();
  waitAllServing(ensemble, clock);
  const again = write(ensemble.server(3), create('/healed'), 9n, 1);
  waitFor(clock, () => again.done);
  assert.ok(succeeded(again));
  settle(clock, 20);
  assertConverged(ensemble);
  await ensemble.close();
});

test('an observer that restarts behind catches up from the leader', async () => {
  const { ensemble, clock } = virtualEnsemble({ servers: 3, observers: 1 }, 43);
  waitAllServing(ensemble, clock);
  const observer = ensemble.server(4);
  observer.stop();
  const writes = Array.from({ length: 30 }, (_, i) => write(ensemble.server(1 + (i % 3)), create(`/x${i}`), BigInt(i + 1), 1));
  waitFor(clock, () => writes.every((w) => w.done));
  assert.ok(writes.every(succeeded));
  observer.restart();
  waitAllServing(ensemble, clock);
  assert.equal(observer.state, 'OBSERVING');
  settle(clock, 20);
  assertConverged(ensemble);
  await ensemble.close();
});
