/**
 * Watches through the session layer: one-shot watches fire exactly once and reach every
 * affected connection before the reply of the write that caused them (§13.2);
 * persistent-recursive watches see every change below their path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddWatchMode, OpCode, Perms } from '../../../src/protocol/constants.js';
import type { WatchEvent } from '../../../src/client/types.js';
import { ZooKeeperError } from '../../../src/protocol/errors.js';
import { connect, connectRequest, pass, recordingSink, serving, shutdown, until, waitFor } from './helpers.js';

test('QuorumServer emits applied before it completes the write (so notifications precede the reply)', async () => {
  const { ensemble, clock } = await serving();
  const follower = ensemble.servers.find((s) => s.role === 'follower')!;
  const order: string[] = [];
  follower.on('applied', (txn) => {
    if (txn.header.sessionId === 9n) order.push(`applied ${txn.header.cxid}`);
  });
  for (let cxid = 1; cxid <= 3; cxid++) {
    follower.write({ type: OpCode.create, path: `/o${cxid}`, data: null, acl: [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }], flags: 0 }, { sessionId: 9n, cxid, authIds: [] }, (r) => {
      assert.ok(!(r instanceof ZooKeeperError));
      order.push(`done ${cxid}`);
    });
  }
  await waitFor(clock, () => order.length === 6, 5000);
  assert.deepEqual(order, ['applied 1', 'done 1', 'applied 2', 'done 2', 'applied 3', 'done 3']);
});

test('one-shot watches fire exactly once, before the reply of the write that caused them, on the writer and on others', async () => {
  const { ensemble, clock } = await serving();
  const { client } = await connect(ensemble, clock, { connectString: 'inproc:1' });
  await until(clock, client.create('/w', 'a'));
  const order: string[] = [];
  await until(clock, client.getData('/w', { watch: (e) => order.push(`data watch ${e.type}`) }));
  await until(clock, client.exists('/w', { watch: (e) => order.push(`exists watch ${e.type}`) }));
  await until(clock, client.getChildren('/w', { watch: (e) => order.push(`child watch ${e.type}`) }));
  await until(clock, client.exists('/new', { watch: (e) => order.push(`created ${e.type}`) }));
  await until(clock, client.setData('/w', 'b').then(() => order.push('setData reply')));
  await until(clock, client.setData('/w', 'c').then(() => order.push('second setData reply')));
  await until(clock, client.create('/w/kid').then(() => order.push('create reply')));
  await until(clock, client.create('/new').then(() => order.push('create new reply')));
  assert.deepEqual(order, [
    'data watch NodeDataChanged',
    'exists watch NodeDataChanged',
    'setData reply',
    'second setData reply',
    'child watch NodeChildrenChanged',
    'create reply',
    'created NodeCreated',
    'create new reply',
  ]);

  // Another connection (on another server) watching: its notification is queued before
  // any later reply on its own connection, and before the writer's reply on the writer's server.
  const raw = recordingSink();
  const follower = ensemble.servers.find((s) => s.id !== 1)!;
  const connection = ensemble.clientService(follower.id)!.accept(raw, { remoteAddress: '127.0.0.1', remotePort: 1 });
  connection.connect(connectRequest());
  await waitFor(clock, () => raw.received.length === 1, 5000);
  connection.request(1, { type: OpCode.getData, path: '/w', watch: true });
  await waitFor(clock, () => raw.received.length === 2, 5000);
  await until(clock, client.setData('/w', 'd'));
  connection.request(2, { type: OpCode.getData, path: '/w', watch: false });
  await waitFor(clock, () => raw.received.length === 4, 5000);
  assert.deepEqual(raw.received.slice(2).map((r) => r.kind), ['notification', 'reply']);
  await pass(clock, 1000);
  assert.equal(raw.received.filter((r) => r.kind === 'notification').length, 1, 'fired once');
  await shutdown(clock, ensemble, [client]);
});

test('persistent-recursive watches fire for every change below (never NodeChildrenChanged); persistent ones stay', async () => {
  const { ensemble, clock } = await serving();
  const { client } = await connect(ensemble, clock, { connectString: 'inproc:2' });
  const { client: other } = await connect(ensemble, clock, { connectString: 'inproc:3' });
  await until(clock, client.create('/r'));
  const recursive: WatchEvent[] = [];
  const persistent: WatchEvent[] = [];
  await until(clock, client.addWatch('/r', AddWatchMode.PERSISTENT_RECURSIVE, (e) => recursive.push(e)));
  const { client: third } = await connect(ensemble, clock, { connectString: 'inproc:1' });
  await until(clock, third.addWatch('/r', AddWatchMode.PERSISTENT, (e) => persistent.push(e)));
  await until(clock, other.create('/r/a'));
  await until(clock, other.create('/r/a/b', 'x'));
  await until(clock, other.setData('/r/a/b', 'y'));
  await until(clock, other.delete('/r/a/b'));
  await until(clock, other.setData('/r', 'z'));
  await until(clock, client.sync('/r'));
  await until(clock, third.sync('/r'));
  const summary = (events: WatchEvent[]): string[] => events.map((e) => `${e.type} ${e.path}`);
  assert.deepEqual(summary(recursive), ['NodeCreated /r/a', 'NodeCreated /r/a/b', 'NodeDataChanged /r/a/b', 'NodeDeleted /r/a/b', 'NodeDataChanged /r']);
  assert.deepEqual(summary(persistent), ['NodeChildrenChanged /r', 'NodeDataChanged /r']);
  const service = ensemble.clientService(2)!;
  assert.equal(service.watches.recursiveWatchCount(), 1);
  await shutdown(clock, ensemble, [client, other, third]);
});
