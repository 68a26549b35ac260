/**
 * Session lifecycle end to end, with the real client over the in-process channel:
 * ephemerals vanish exactly when their session is closed or expires, expiry is decided
 * by the leader from its tick buckets, and an expired client learns EXPIRED.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateMode } from '../../../src/protocol/constants.js';
import { SessionExpiredError } from '../../../src/protocol/errors.js';
import type { ConnectionState, WatchEvent } from '../../../src/client/types.js';
import { connect, pass, serving, shutdown, until, waitFor } from './helpers.js';

test('an ephemeral vanishes when its session closes, and a watcher on another session sees NodeDeleted', async () => {
  const { ensemble, clock } = await serving();
  const { client: owner } = await connect(ensemble, clock, { connectString: 'inproc:1' });
  const { client: observer } = await connect(ensemble, clock, { connectString: 'inproc:2' });
  await until(clock, owner.create('/base'));
  await until(clock, owner.create('/base/e', null, { mode: CreateMode.EPHEMERAL }));
  await until(clock, observer.sync('/base'));
  const events: WatchEvent[] = [];
  assert.ok(await until(clock, observer.exists('/base/e', { watch: (e) => events.push(e) })));
  const children: WatchEvent[] = [];
  await until(clock, observer.getChildren('/base', { watch: (e) => children.push(e) }));
  await pass(clock, 20_000); // an open session keeps its ephemerals indefinitely
  assert.ok(await until(clock, observer.exists('/base/e')));
  assert.equal(events.length, 0);
  await until(clock, owner.close());
  assert.equal(owner.state, 'CLOSED');
  await waitFor(clock, () => events.length === 1, 5000, 'NodeDeleted');
  assert.deepEqual(events, [{ type: 'NodeDeleted', state: 'SyncConnected', path: '/base/e' }]);
  assert.deepEqual(children.map((e) => `${e.type} ${e.path}`), ['NodeChildrenChanged /base']);
  assert.equal(await until(clock, observer.exists('/base/e')), null);
  for (const server of ensemble.servers) {
    await waitFor(clock, () => !server.tree.sessions.has(owner.sessionId), 5000, 'session gone everywhere');
  }
  await shutdown(clock, ensemble, [observer]);
});

test('a silenced client expires after its timeout (not before); its ephemerals go; it learns EXPIRED; a new session works', async () => {
  const { ensemble, clock } = await serving();
  const { client, link } = await connect(ensemble, clock, { connectString: 'inproc:2', sessionTimeout: 4000 });
  const { client: observer } = await connect(ensemble, clock, { connectString: 'inproc:3' });
  assert.equal(client.negotiatedTimeout, 4000);
  const states: ConnectionState[] = [];
  client.on('state', (s) => states.push(s));
  await until(clock, client.create('/e', null, { mode: CreateMode.EPHEMERAL }));
  await until(clock, observer.sync('/'));
  const events: WatchEvent[] = [];
  await until(clock, observer.exists('/e', { watch: (e) => events.push(e) }));
  const leader = ensemble.leader()!;
  const service = ensemble.clientService(leader.id)!;
  const tracked = service.sessions.leaderTracker!.get(client.sessionId)!;
  const silencedAt = clock.now();
  link.partition();
  // The leader's last touch came at most one ping round before the cut; expiry falls
  // between timeout and timeout + tickTime after it.
  await waitFor(clock, () => events.length > 0, 10_000, 'NodeDeleted on the observer');
  const expiredAt = clock.now();
  assert.ok(expiredAt - silencedAt >= 4000 - 2 * leader.timing.tickTime, `expired too early: ${expiredAt - silencedAt} ms`);
  assert.ok(expiredAt - silencedAt <= 4000 + 4 * leader.timing.tickTime, `expired too late: ${expiredAt - silencedAt} ms`);
  assert.equal(tracked.closing, true);
  assert.deepEqual(events.map((e) => e.type), ['NodeDeleted']);
  assert.equal(service.sessions.expired, 1);
  await waitFor(clock, () => states.includes('LOST'), 10_000, 'LOST');
  link.heal();
  await waitFor(clock, () => client.state === 'EXPIRED', 20_000, 'EXPIRED');
  assert.deepEqual(states, ['SUSPENDED', 'LOST', 'EXPIRED']);
  await assert.rejects(until(clock, client.getData('/')), SessionExpiredError);
  const { client: fresh } = await connect(ensemble, clock, { connectString: 'inproc:2' });
  assert.notEqual(fresh.sessionId, client.sessionId);
  assert.equal(await until(clock, fresh.exists('/e')), null);
  await until(clock, fresh.create('/e', null, { mode: CreateMode.EPHEMERAL }));
  await shutdown(clock, ensemble, [fresh, observer]);
});

test('sessions get ids with the creating server in the high byte, ZooKeeper passwords, and clamped timeouts', async () => {
  const { ensemble, clock } = await serving({ session: { minSessionTimeout: 2000, maxSessionTimeout: 8000 } });
  const { client: a } = await connect(ensemble, clock, { connectString: 'inproc:2', sessionTimeout: 100 });
  const { client: b } = await connect(ensemble, clock, { connectString: 'inproc:3', sessionTimeout: 100_000 });
  assert.equal(a.negotiatedTimeout, 2000);
  assert.equal(b.negotiatedTimeout, 8000);
  assert.equal(BigInt.asUintN(64, a.sessionId) >> 56n, 2n);
  assert.equal(BigInt.asUintN(64, b.sessionId) >> 56n, 3n);
  const { sessionPassword } = await import('../../../src/server/session-password.js');
  assert.deepEqual([...a.sessionPassword], [...sessionPassword(a.sessionId)]);
  // Default bounds: [2, 20] ticks, at least 60 s at the top (tickTime 50 ms here).
  const { sessionTimeoutBounds } = await import('../../../src/server/sessions.js');
  assert.deepEqual(sessionTimeoutBounds(50), { min: 100, max: 60_000 });
  assert.deepEqual(sessionTimeoutBounds(2000), { min: 4000, max: 60_000 });
  assert.deepEqual(sessionTimeoutBounds(5000), { min: 10_000, max: 100_000 });
  await shutdown(clock, ensemble, [a, b]);
});
