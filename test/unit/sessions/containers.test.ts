/**
 * The leader's container and TTL sweep (§10.6): on the injected clock, through ZAB, as
 * deleteContainer transactions of session 0 that every server applies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateMode } from '../../../src/protocol/constants.js';
import { UnimplementedError } from '../../../src/protocol/errors.js';
import type { Txn } from '../../../src/protocol/txn.js';
import type { WatchEvent } from '../../../src/client/types.js';
import { connect, pass, serving, shutdown, until, waitFor } from './helpers.js';

test('emptied containers and expired TTL nodes are deleted by the leader through ZAB; others stay', async () => {
  const { ensemble, clock } = await serving({ extendedTypesEnabled: true, session: { containerCheckIntervalMs: 200 } });
  const { client } = await connect(ensemble, clock, { connectString: 'inproc:1' });
  const follower = ensemble.servers.find((s) => s.role === 'follower')!;
  const reaped: Txn[] = [];
  follower.on('applied', (txn) => {
    if (txn.header.sessionId === 0n) reaped.push(txn);
  });
  await until(clock, client.create('/box', null, { mode: CreateMode.CONTAINER }));
  await until(clock, client.create('/box/item'));
  await until(clock, client.create('/full', null, { mode: CreateMode.CONTAINER }));
  await until(clock, client.create('/full/item'));
  await until(clock, client.create('/unused', null, { mode: CreateMode.CONTAINER }));
  await until(clock, client.create('/ttl', 'x', { mode: CreateMode.PERSISTENT_WITH_TTL, ttl: 1000 }));
  await until(clock, client.create('/ttl-parent', null, { mode: CreateMode.PERSISTENT_WITH_TTL, ttl: 1000 }));
  await until(clock, client.create('/ttl-parent/child'));
  const events: WatchEvent[] = [];
  await until(clock, client.exists('/box', { watch: (e) => events.push(e) }));
  await until(clock, client.delete('/box/item'));
  await waitFor(clock, () => events.length === 1, 1000, 'the container deleted');
  assert.deepEqual(events.map((e) => `${e.type} ${e.path}`), ['NodeDeleted /box']);
  await pass(clock, 1500);
  for (const path of ['/full', '/unused', '/ttl-parent']) assert.ok(await until(clock, client.exists(path)), `${path} stays`);
  assert.equal(await until(clock, client.exists('/ttl')), null, 'TTL expired');
  await waitFor(clock, () => reaped.length >= 2, 1000);
  assert.deepEqual(reaped.map((t) => t.body), [
    { kind: 'delete', path: '/box' },
    { kind: 'delete', path: '/ttl' },
  ]);
  for (const server of ensemble.servers) {
    const submitted = ensemble.clientService(server.id)!.containers.submitted;
    if (server.role === 'leader') assert.equal(submitted, 2);
    else assert.equal(submitted, 0, 'only the leader sweeps');
  }
  await shutdown(clock, ensemble, [client]);
});

test('TTL nodes need extendedTypesEnabled (Unimplemented otherwise)', async () => {
  const { ensemble, clock } = await serving();
  const { client } = await connect(ensemble, clock);
  await assert.rejects(until(clock, client.create('/t', null, { mode: CreateMode.PERSISTENT_WITH_TTL, ttl: 1000 })), UnimplementedError);
  await shutdown(clock, ensemble, [client]);
});
