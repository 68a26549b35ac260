/**
 * A replica builds the result of applying a transaction (outcome, Stats, watch events)
 * only when someone reads it: a local write waiting for it, an `applied` listener, or an
 * `ApplyConsumer` that asks. The tree changes the same either way, and consumers see every
 * transaction in zxid order, in registration order, before `applied` listeners.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { QuorumServer } from '../../../src/server/quorum-server.js';
import { assertConverged, create, setData, succeeded, virtualEnsemble, waitAllServing, waitFor, write } from './helpers.js';

/** Every applied zxid on `server`, with whether it came with a result. */
function record(server: QuorumServer, wants: () => boolean = () => false): { zxid: number; result: boolean }[] {
  const seen: { zxid: number; result: boolean }[] = [];
  server.addApplyConsumer({ wantsResult: wants, applied: (txn, result) => seen.push({ zxid: txn.header.zxid, result: result !== undefined }) });
  return seen;
}

test('followers with no local request, listener or watch apply without building results', () => {
  const { ensemble, clock } = virtualEnsemble({ servers: 3 });
  waitAllServing(ensemble, clock);
  const leader = ensemble.leader()!;
  const [quiet, asking] = ensemble.servers.filter((s) => s !== leader) as [QuorumServer, QuorumServer];
  const onLeader = record(leader);
  const onQuiet = record(quiet);
  const onAsking = record(asking, () => true);

  const writes = [write(leader, create('/r'), 7n, 1), write(leader, setData('/r', 'b'), 7n, 2), write(quiet, setData('/r', 'c'), 8n, 1)];
  waitFor(clock, () => writes.every((w) => w.done) && quiet.lastAppliedZxid === leader.lastAppliedZxid && asking.lastAppliedZxid === leader.lastAppliedZxid);
  for (const w of writes) assert.ok(succeeded(w));

  // The leader's own writes come with results (the writer waits), the forwarded one not.
  assert.deepEqual(onLeader.map((a) => a.result), [true, true, false]);
  // The quiet follower builds only the result its own client waits for.
  assert.deepEqual(onQuiet.map((a) => a.result), [false, false, true]);
  // A consumer that asks gets every result.
  assert.deepEqual(onAsking.map((a) => a.result), [true, true, true]);
  assert.deepEqual(onQuiet.map((a) => a.zxid), onLeader.map((a) => a.zxid));
  assertConverged(ensemble);
});

test('an applied listener gets every result, after the consumers, in zxid order', () => {
  const { ensemble, clock } = virtualEnsemble({ servers: 3 });
  waitAllServing(ensemble, clock);
  const leader = ensemble.leader()!;
  const follower = ensemble.servers.find((s) => s !== leader)!;
  const order: string[] = [];
  follower.addApplyConsumer({ wantsResult: () => false, applied: (txn) => order.push(`first ${txn.header.cxid}`) });
  follower.on('applied', (txn, result) => {
    assert.ok(result.events.length > 0, 'a listener gets the watch events');
    order.push(`listener ${txn.header.cxid}`);
  });
  follower.addApplyConsumer({ wantsResult: () => false, applied: (txn, result) => order.push(`second ${txn.header.cxid} ${result !== undefined}`) });

  const writes = [write(leader, create('/l'), 7n, 1), write(leader, setData('/l', 'b'), 7n, 2)];
  waitFor(clock, () => writes.every((w) => w.done) && follower.lastAppliedZxid === leader.lastAppliedZxid);
  assert.deepEqual(order, ['first 1', 'second 1 true', 'listener 1', 'first 2', 'second 2 true', 'listener 2']);
});

test('a removed consumer sees nothing more', () => {
  const { ensemble, clock } = virtualEnsemble({ servers: 3 });
  waitAllServing(ensemble, clock);
  const leader = ensemble.leader()!;
  const seen: number[] = [];
  const remove = leader.addApplyConsumer({ wantsResult: () => true, applied: (txn) => seen.push(txn.header.cxid) });
  const first = write(leader, create('/x'), 7n, 1);
  waitFor(clock, () => first.done);
  remove();
  const second = write(leader, setData('/x', 'b'), 7n, 2);
  waitFor(clock, () => second.done);
  assert.deepEqual(seen, [1]);
});
