/**
 * The in-process channel: asynchronous, ordered delivery through the clock, copied
 * buffers, addressing by server id, fault switches, and server stop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConnectionState } from '../../../src/client/types.js';
import { InProcessLink, inProcessConnectString } from '../../../src/server/inproc-channel.js';
import { connect, serving, shutdown, until, waitFor } from './helpers.js';

test('connect strings name servers by id; an unknown id or a stopped server is skipped', async () => {
  const { ensemble, clock } = await serving();
  assert.equal(ensemble.connectString, 'inproc:1,inproc:2,inproc:3');
  assert.equal(inProcessConnectString([4, 5], '/app'), 'inproc:4,inproc:5/app');
  ensemble.server(2).stop();
  const { client } = await connect(ensemble, clock, { connectString: 'inproc:9,inproc:2,inproc:3' });
  assert.equal(client.currentServer, 'inproc:3');
  await shutdown(clock, ensemble, [client]);
});

test('delivery is asynchronous and buffers are copied at the boundary', async () => {
  const { ensemble, clock } = await serving();
  const { client: root } = await connect(ensemble, clock, { connectString: 'inproc:1' });
  await until(clock, root.create('/app'));
  const { client } = await connect(ensemble, clock, { connectString: 'inproc:1/app' });
  const data = Buffer.from('abc');
  let settled = false;
  const creating = client.create('/x', data).finally(() => (settled = true));
  data[0] = 0x7a; // after the call: the request carries its own copy
  await Promise.resolve();
  assert.equal(settled, false, 'nothing is answered synchronously');
  await until(clock, creating);
  const read = await until(clock, client.getData('/x'));
  assert.equal(read.data!.toString(), 'abc');
  read.data![0] = 0x7a;
  assert.equal((await until(clock, client.getData('/x'))).data!.toString(), 'abc', "the tree's bytes are not shared");
  assert.equal(ensemble.server(1).tree.getData('/app/x')!.data!.length, 3, 'chroot applied');
  await shutdown(clock, ensemble, [client, root]);
});

test('partition silences the link; disconnect resets it; the client keeps its session', async () => {
  const { ensemble, clock } = await serving();
  const link = new InProcessLink(ensemble, { remoteAddress: '10.1.2.3' });
  const { client } = await connect(ensemble, clock, { link, sessionTimeout: 6000 });
  const states: ConnectionState[] = [];
  client.on('state', (s) => states.push(s));
  const who = await until(clock, client.whoAmI());
  assert.deepEqual(who, [{ authScheme: 'ip', user: '10.1.2.3' }]);
  const session = client.sessionId;
  assert.equal(link.openChannels, 1);
  link.disconnect();
  await waitFor(clock, () => states.includes('RECONNECTED'), 10_000);
  assert.deepEqual(states, ['SUSPENDED', 'RECONNECTED']);
  assert.equal(client.sessionId, session);
  link.partition();
  await waitFor(clock, () => states.length === 3, 10_000, 'SUSPENDED after the read timeout');
  assert.equal(states[2], 'SUSPENDED');
  link.heal();
  await waitFor(clock, () => states.length === 4, 10_000);
  assert.deepEqual(states.slice(2), ['SUSPENDED', 'RECONNECTED']);
  assert.equal(client.sessionId, session);
  await until(clock, client.create('/after'));
  await shutdown(clock, ensemble, [client]);
});
