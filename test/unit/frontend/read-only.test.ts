/**
 * Read-only mode (`readOnlyMode`, ZooKeeper's `readonlymode.enabled`) over the wire: a
 * follower cut off from its ensemble keeps serving clients that accept a read-only
 * server — handshake answered with readOnly=true, reads from its last state, writes and
 * sync answered NotReadOnly (-119), `isro` says `ro`, `srvr` says `Mode: read-only` —
 * refuses the others, and closes its read-only connections once it rejoins, after which
 * the client carries on read-write. As observed on ZooKeeper 3.8.0 with local sessions.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, type ZooKeeperClient } from '../../../src/client/client.js';
import { ErrorCode, ZooKeeperError } from '../../../src/protocol/errors.js';
import { VirtualClock } from '../../../src/sim/virtual-clock.js';
import { ReadOnlyMode } from '../../../src/server/read-only.js';
import { startEnsemble, type Ensemble } from '../../../src/server/ensemble.js';
import { serveEnsemble, type EnsemblePorts } from '../../../src/server/serve.js';
import { RawClient, eventually, fourLetterWord } from './harness.js';

const errorCode = async (promise: Promise<unknown>): Promise<number | undefined> => {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return error instanceof ZooKeeperError ? error.code : NaN;
  }
};

test('ReadOnlyMode: enters after the delay of looking, leaves at once; local sessions expire a timeout after their connection', () => {
  const clock = new VirtualClock();
  const events: string[] = [];
  const mode = new ReadOnlyMode(clock, 2000, () => events.push('enter'), () => events.push('leave'));
  mode.peerState(true);
  clock.advance(1999);
  assert.equal(mode.enabled, false);
  mode.peerState(false); // found a leader in time: no read-only spell
  clock.advance(5000);
  assert.deepEqual(events, []);
  mode.peerState(true);
  clock.advance(2000);
  assert.equal(mode.enabled, true);
  mode.createSession(7n, 4000);
  mode.detach(7n);
  clock.advance(3999);
  assert.equal(mode.attach(7n), true, 'a reconnect within the timeout keeps the session');
  mode.detach(7n);
  clock.advance(4000);
  assert.equal(mode.attach(7n), false, 'expired');
  mode.createSession(8n, 4000);
  mode.peerState(false);
  assert.equal(mode.enabled, false);
  assert.equal(mode.localSessionCount, 0);
  assert.deepEqual(events, ['enter', 'leave']);
});

describe('a partitioned follower in read-only mode', () => {
  let ensemble: Ensemble;
  let ports: EnsemblePorts;
  const clients: ZooKeeperClient[] = [];
  const open = (connectString: string, canBeReadOnly: boolean): ZooKeeperClient => {
    const client = createClient(connectString, { sessionTimeout: 10_000, canBeReadOnly, reconnectDelay: 20, spinDelay: 50 });
    client.on('error', () => {});
    clients.push(client);
    return client;
  };

  before(async () => {
    ensemble = await startEnsemble({ servers: 3, session: { readOnlyMode: true, readOnlyDelayMs: 100 } });
    ports = await serveEnsemble(ensemble, { port: 0 });
    await eventually(() => ensemble.allServing(), 'every server to serve');
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await ports.close();
    await ensemble.close();
  });

  test('serves reads to read-only clients, refuses writes and other clients, and rejoins', async () => {
    const writer = open(ports.connectString, false);
    await writer.waitUntilConnected();
    await writer.create('/ro', 'before the partition');
    const follower = ensemble.servers.find((s) => s.role === 'follower')!;
    const service = ensemble.clientService(follower.id)!;
    const address = ports.addresses[ensemble.servers.indexOf(follower)]!;
    const port = ports.port(follower.id).address().port;
    await eventually(() => follower.lastAppliedZxid === ensemble.leader()!.lastAppliedZxid, 'the follower to have /ro');
    assert.equal(await fourLetterWord(port, 'isro'), 'rw');

    ensemble.network!.faults.isolate(follower.id);
    await eventually(() => service.readOnly, 'read-only mode', 10_000);
    assert.equal(follower.serving, false);
    assert.equal(await fourLetterWord(port, 'isro'), 'ro');
    const srvr = await fourLetterWord(port, 'srvr');
    assert.match(srvr, /^Zookeeper version: [^\n]+\nREAD-ONLY mode; serving only read-only clients\n/);
    assert.match(srvr, /\nMode: read-only\n/);
    const mntr = await fourLetterWord(port, 'mntr');
    assert.match(mntr, /^zk_version\t[^\n]+\nzk_server_state\tread-only\nzk_ephemerals_count\t/);
    assert.doesNotMatch(mntr, /zk_peer_state|zk_quorum_size/);

    // A client that does not accept a read-only server is refused without an answer.
    const plain = new RawClient(port);
    await plain.connected();
    plain.handshake({ readOnly: false });
    await plain.waitClosed();
    assert.equal(plain.pending, 0);
    // One that does gets readOnly=true and a session of this server.
    const raw = new RawClient(port);
    await raw.connected();
    raw.handshake({ readOnly: true, timeOut: 10_000 });
    const [frame] = await raw.next();
    assert.ok(frame?.kind === 'connect');
    assert.equal(frame.response.readOnly, true);
    assert.equal(frame.response.timeOut, 10_000);
    assert.equal(frame.response.sessionId >> 56n, BigInt(follower.id), 'a session id of this server');
    raw.destroy();

    const reader = open(address, true);
    await reader.waitUntilConnected();
    assert.equal(reader.readOnly, true);
    assert.equal((await reader.getData('/ro')).data?.toString(), 'before the partition');
    assert.deepEqual((await reader.getChildren('/')).sort(), ['ro', 'zookeeper']);
    assert.equal(await errorCode(reader.create('/nope', 'x')), ErrorCode.NotReadOnly);
    assert.equal(await errorCode(reader.setData('/ro', 'x')), ErrorCode.NotReadOnly);
    assert.equal(await errorCode(reader.delete('/ro')), ErrorCode.NotReadOnly);
    assert.equal(await errorCode(reader.sync('/ro')), ErrorCode.NotReadOnly);
    assert.equal(await errorCode(reader.transaction().check('/ro', 0).commit()), ErrorCode.NotReadOnly);
    assert.equal((await reader.getData('/ro')).data?.toString(), 'before the partition', 'still reading after refused writes');
    assert.match(await fourLetterWord(port, 'cons'), /\/127\.0\.0\.1:\d+\[1\]\(queued=0,recved=\d+,sent=\d+,sid=0x[0-9a-f]+,lop=GETD,/);
    assert.match(await fourLetterWord(port, 'mntr'), /\nzk_local_sessions\t[12]\n/);
    const readOnlySession = reader.sessionId;

    // The quorum returns: read-only connections close, the client comes back read-write.
    ensemble.network!.faults.heal();
    await eventually(() => follower.serving && !service.readOnly, 'the follower to rejoin', 15_000);
    await eventually(() => reader.state === 'CONNECTED' && !reader.readOnly, 'a read-write connection', 15_000);
    assert.notEqual(reader.sessionId, readOnlySession, 'a read-only session never seen read-write starts afresh');
    assert.equal(await reader.create('/after', 'rw'), '/after');
    assert.equal(await fourLetterWord(port, 'isro'), 'rw');
  });
});
