/**
 * End to end over real sockets: a 3-server in-process ensemble, each server with its
 * client port on 127.0.0.1:0, and zoostate's own client over TCP: create, read, watch,
 * delete; the four-letter words on a real server; a server that stops serving closes
 * its connections and the client carries its session and watches to another server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, type ZooKeeperClient } from '../../../src/client/client.js';
import type { WatchEvent } from '../../../src/client/types.js';
import { CreateMode } from '../../../src/protocol/constants.js';
import { startEnsemble, type Ensemble } from '../../../src/server/ensemble.js';
import { serveEnsemble, type EnsemblePorts } from '../../../src/server/serve.js';
import { eventually, fourLetterWord } from './harness.js';

describe('a 3-server ensemble behind client ports', () => {
  let ensemble: Ensemble;
  let ports: EnsemblePorts;
  const clients: ZooKeeperClient[] = [];

  const open = async (connectString: string): Promise<ZooKeeperClient> => {
    const client = createClient(connectString, { sessionTimeout: 10_000, reconnectDelay: 20, spinDelay: 50 });
    client.on('error', () => {});
    clients.push(client);
    await client.waitUntilConnected();
    return client;
  };

  before(async () => {
    ensemble = await startEnsemble({ servers: 3 });
    ports = await serveEnsemble(ensemble, { port: 0 });
    await eventually(() => ensemble.servers.every((s) => s.serving), 'every server to serve');
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await ports.close();
    await ensemble.close();
  });

  test('the ports answer srvr with each server mode', async () => {
    const modes = [];
    for (const port of ports.ports) {
      const srvr = await fourLetterWord(port.address().port, 'srvr');
      modes.push(/Mode: (\w+)/.exec(srvr)?.[1]);
    }
    assert.deepEqual(modes.sort(), ['follower', 'follower', 'leader']);
    assert.equal(ports.addresses.length, 3);
    assert.match(ports.connectString, /^127\.0\.0\.1:\d+,127\.0\.0\.1:\d+,127\.0\.0\.1:\d+$/);
  });

  test('create, read, watch, delete through two servers', async () => {
    const a = await open(ports.addresses[0]!);
    const b = await open(ports.addresses[1]!);
    assert.equal(await a.create('/e2e', 'one'), '/e2e');
    const events: WatchEvent[] = [];
    const read = await a.getData('/e2e', { watch: (e) => events.push(e) });
    assert.equal(read.data?.toString(), 'one');
    await b.sync('/e2e');
    assert.equal((await b.getData('/e2e')).data?.toString(), 'one');
    await b.setData('/e2e', 'two');
    await eventually(() => events.length === 1, 'the data watch');
    assert.deepEqual(events[0], { type: 'NodeDataChanged', state: 'SyncConnected', path: '/e2e' });
    const seq = await a.create('/e2e/s-', null, { mode: CreateMode.PERSISTENT_SEQUENTIAL });
    assert.equal(seq, '/e2e/s-0000000000');
    await a.delete(seq);
    await a.delete('/e2e');
    assert.equal(await a.exists('/e2e'), null);
  });

  test('wchs, wchc, cons and dump show the sessions, watches and ephemerals of a server', async () => {
    const port = ports.ports[2]!.address().port;
    const client = await open(ports.addresses[2]!);
    await client.create('/eph', null, { mode: CreateMode.EPHEMERAL });
    await client.exists('/eph', { watch: () => {} });
    await client.exists('/nothing-here', { watch: () => {} });
    const sid = `0x${BigInt.asUintN(64, client.sessionId).toString(16)}`;
    assert.equal(await fourLetterWord(port, 'wchs'), '1 connections watching 2 paths\nTotal watches:2\n');
    assert.equal(await fourLetterWord(port, 'wchc'), `${sid}\n\t/eph\n\t/nothing-here\n\n`);
    assert.match(await fourLetterWord(port, 'cons'), new RegExp(`sid=${sid},lop=EXIS,est=\\d+,to=10000,lcxid=0x\\d+,`));
    const dump = await fourLetterWord(port, 'dump');
    assert.match(dump, new RegExp(`Sessions with Ephemerals \\(1\\):\\n${sid}:\\n\\t/eph\\n`));
    const mntr = await fourLetterWord(port, 'mntr');
    assert.match(mntr, /^zk_version\t3\.8\.0-zoostate-/);
    assert.match(mntr, /\nzk_ephemerals_count\t1\n/);
    assert.match(await fourLetterWord(port, 'conf'), /\nserverId=3\n/);
    await client.delete('/eph');
  });

  test('a server that stops serving closes its connections; the session and watches move on', async () => {
    const victim = ensemble.servers.find((s) => s.role === 'follower')!;
    const index = ensemble.servers.indexOf(victim);
    const client = await open(`${ports.addresses[index]},${ports.addresses.filter((_, i) => i !== index).join(',')}`);
    await eventually(() => client.currentServer === ports.addresses[index], 'a connection to the victim', 5000).catch(() => {});
    await client.create('/moving', 'x');
    const events: WatchEvent[] = [];
    await client.getData('/moving', { watch: (e) => events.push(e) });
    const session = client.sessionId;
    victim.stop();
    await eventually(() => client.state === 'CONNECTED' && client.currentServer !== ports.addresses[index], 'a reconnect elsewhere', 15_000);
    assert.equal(client.sessionId, session);
    const other = await open(ports.addresses.filter((_, i) => i !== index)[0]!);
    await other.setData('/moving', 'y');
    await eventually(() => events.length === 1, 'the watch after the move');
    assert.equal(events[0]?.type, 'NodeDataChanged');
    assert.match(await fourLetterWord(ports.ports[index]!.address().port, 'srvr'), /not currently serving/);
    await other.delete('/moving');
    victim.start();
    await eventually(() => victim.serving, 'the victim to serve again', 15_000);
  });
});
