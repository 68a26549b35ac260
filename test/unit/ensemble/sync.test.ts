/**
 * Guarantee (§16.9): after sync() on a server returns, a read there sees every write
 * committed (anywhere) before the sync was issued, even when that server lags.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZooKeeperError } from '../../../src/protocol/errors.js';
import { create, dataOf, settle, succeeded, sync, virtualEnsemble, waitAllServing, waitFor, write } from './helpers.js';

test('sync then read on a lagging follower sees a write committed through another server', async () => {
  const { ensemble, clock } = virtualEnsemble({ servers: 3 }, 61);
  waitAllServing(ensemble, clock);
  const leader = ensemble.leader()!;
  const [a, b] = ensemble.servers.filter((s) => s !== leader) as [typeof leader, typeof leader];
  // Everything from the leader to b arrives 40 ms late (still in order).
  ensemble.network!.faults.setLinkFaults(leader.id, b.id, { delay: 1, delayMs: { min: 40, max: 40 } });

  const w = write(a, create('/news', 'fresh'), 1n, 1);
  waitFor(clock, () => w.done);
  assert.ok(succeeded(w));
  assert.equal(dataOf(b, '/news'), undefined, 'b should lag behind here');

  const s = sync(b, '/news', 2n, 1);
  waitFor(clock, () => s.done);
  assert.ok(!(s.value instanceof ZooKeeperError));
  assert.equal(s.value!.path, '/news');
  assert.equal(dataOf(b, '/news'), 'fresh');
  assert.ok(s.value!.zxid >= (w.value as { zxid: number }).zxid);
  ensemble.network!.faults.clearFaults();
  await ensemble.close();
});

test('sync on the leader and on an observer orders after outstanding writes', async () => {
  const { ensemble, clock } = virtualEnsemble({ servers: 3, observers: 1 }, 62);
  waitAllServing(ensemble, clock);
  const leader = ensemble.leader()!;
  const observer = ensemble.server(4);
  const writes = Array.from({ length: 10 }, (_, i) => write(leader, create(`/w${i}`), BigInt(i + 1), 1));
  const onLeader = sync(leader, '/', 50n, 1);
  const onObserver = sync(observer, '/', 51n, 1);
  waitFor(clock, () => onLeader.done && onObserver.done);
  assert.ok(succeeded(onLeader) && succeeded(onObserver));
  assert.ok(writes.every((w) => w.done), 'the leader answered a sync before the writes proposed before it');
  for (let i = 0; i < 10; i++) assert.ok(observer.tree.exists(`/w${i}`), `observer misses /w${i} after sync`);
  settle(clock, 10);
  await ensemble.close();
});
