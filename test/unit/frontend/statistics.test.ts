/**
 * One set of client statistics per server: TCP clients and in-process clients
 * (`ensemble.client()`) report into the server's `ClientService`, so `srvr`, `stat`,
 * `cons`, `dump` and `mntr` on its client port count both, and `srst`/`crst` reset both.
 * Also `srvr`'s Zxid right after an election (a new leader reports its epoch, as ZooKeeper
 * 3.8.0 does) and the leader's proposal sizes, against sizes observed on 3.8.0.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, type ZooKeeperClient } from '../../../src/client/client.js';
import { OPEN_ACL_UNSAFE } from '../../../src/client/acl.js';
import { CONTAINER_EPHEMERAL_OWNER } from '../../../src/protocol/constants.js';
import { makeZxid } from '../../../src/protocol/zxid.js';
import { startEnsemble, type Ensemble } from '../../../src/server/ensemble.js';
import { proposalSize } from '../../../src/server/proposal-size.js';
import { serveEnsemble, type EnsemblePorts } from '../../../src/server/serve.js';
import { eventually, fourLetterWord, openSession } from './harness.js';

const header = { sessionId: 0x100000000000001n, cxid: 1, zxid: 0x100000002, time: 0 };
const bytes = (n: number): Uint8Array => new Uint8Array(n);

test('proposal sizes are ZooKeeper 3.8 serialized sizes (header + txn + digest)', () => {
  // Observed on 3.8.0 (kazoo: create /a with 100 bytes, set 10 bytes, close).
  assert.equal(proposalSize({ header, body: { kind: 'createSession', timeout: 10_000 } }), 48);
  assert.equal(proposalSize({ header, body: { kind: 'closeSession', paths: [] } }), 48);
  const create = { kind: 'create' as const, path: '/a', data: bytes(100), acl: [...OPEN_ACL_UNSAFE], ephemeralOwner: 0n, parentCVersion: 1 };
  assert.equal(proposalSize({ header, body: create }), 186);
  assert.equal(proposalSize({ header, body: { kind: 'setData', path: '/a', data: bytes(10), version: 1 } }), 68);
  // Containers carry no ephemeral flag; TTL nodes add an 8-byte ttl instead.
  assert.equal(proposalSize({ header, body: { ...create, ephemeralOwner: CONTAINER_EPHEMERAL_OWNER } }), 185);
  assert.equal(proposalSize({ header, body: { ...create, ephemeralOwner: -0x0100000000000000n | 5000n } }), 193);
  // A multi wraps each op as {type, buffer}; closeSession lists the ephemerals it deletes.
  const multi = proposalSize({ header, body: { kind: 'multi', ops: [{ kind: 'delete', path: '/a' }, { kind: 'check', path: '/b', version: 0 }] } });
  assert.equal(multi, 32 + 4 + (8 + 6) + (8 + 6 + 4) + 12);
  assert.equal(proposalSize({ header, body: { kind: 'closeSession', paths: ['/e1', '/e2'] } }), 48 + 7 + 7);
});

describe('one set of statistics for TCP and in-process clients', () => {
  let ensemble: Ensemble;
  let ports: EnsemblePorts;
  const clients: ZooKeeperClient[] = [];
  const portOf = (id: number): number => ports.port(id).address().port;

  before(async () => {
    ensemble = await startEnsemble({ servers: 3 });
    ports = await serveEnsemble(ensemble, { port: 0 });
    await eventually(() => ensemble.allServing(), 'every server to serve');
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await ports.close();
    await ensemble.close();
  });

  test('srvr right after the election: the leader reports its epoch, followers what they applied', async () => {
    const leader = ensemble.leader()!;
    const epoch = leader.epoch;
    assert.ok(epoch >= 1);
    for (const server of ensemble.servers) {
      const srvr = await fourLetterWord(portOf(server.id), 'srvr');
      const zxid = server === leader ? makeZxid(epoch, 0) : server.lastAppliedZxid;
      assert.match(srvr, new RegExp(`\\nZxid: 0x${zxid.toString(16)}\\nMode: ${server.role}\\n`), `server ${server.id}`);
    }
    assert.match(await fourLetterWord(portOf(leader.id), 'srvr'), /\nProposal sizes last\/min\/max: -1\/-1\/-1\n$/);
  });

  test('srvr, stat, cons, dump and mntr include an in-process client; proposal sizes are real', async () => {
    const leader = ensemble.leader()!;
    const port = portOf(leader.id);
    assert.equal(await fourLetterWord(port, 'srst'), 'Server stats reset.\n');
    const client = ensemble.client({ connectString: `inproc:${leader.id}`, sessionTimeout: 10_000 });
    clients.push(client);
    await client.waitUntilConnected();
    await client.create('/stats', new Uint8Array(100));
    await client.getData('/stats');
    const sid = `0x${BigInt.asUintN(64, client.sessionId).toString(16)}`;

    const srvr = await fourLetterWord(port, 'srvr');
    // The in-process connection, and this four-letter word's own socket.
    assert.match(srvr, /\nConnections: 2\n/);
    // srst's own answer, connect, create, getData, and srvr's request.
    assert.match(srvr, /\nReceived: 4\nSent: 4\n/);
    const zxid = leader.lastAppliedZxid;
    assert.match(srvr, new RegExp(`\\nZxid: 0x${zxid.toString(16)}\\nMode: leader\\n`));
    // createSession then the create: 48 and 32 + (4+6) + (4+100) + 27 + 1 + 4 + 12 bytes.
    assert.match(srvr, /\nProposal sizes last\/min\/max: 190\/48\/190\n$/);

    const cons = await fourLetterWord(port, 'cons');
    assert.match(cons, new RegExp(` /inproc:\\d+\\[1\\]\\(queued=0,recved=3,sent=3,sid=${sid},lop=GETD,est=\\d+,to=10000,lcxid=0x\\d+,lzxid=0x${zxid.toString(16)},`));
    assert.match(cons, / \/127\.0\.0\.1:\d+\[0\]\(queued=0,recved=1,sent=0\)\n/, 'the four-letter word itself');
    assert.match(await fourLetterWord(port, 'stat'), /\nClients:\n( \/(inproc|127\.0\.0\.1):\d+\[[01]\]\(queued=0,recved=\d+,sent=\d+\)\n){2}\n/);
    assert.match(await fourLetterWord(port, 'dump'), new RegExp(`\\tip: /inproc:\\d+ sessionId: ${sid}\\n`));

    const mntr = await fourLetterWord(port, 'mntr');
    assert.match(mntr, /\nzk_num_alive_connections\t2\n/);
    assert.match(mntr, /\nzk_connection_request_count\t1\n/);
    assert.match(mntr, /\nzk_last_proposal_size\t190\n/);
    assert.match(mntr, /\nzk_min_proposal_size\t48\n/);
    assert.match(mntr, /\nzk_proposal_count\t2\n/);
    assert.match(mntr, /\nzk_leader_uptime\t\d+\n/);

    // crst zeroes the connection's counters; srst the server's (proposal sizes too).
    assert.equal(await fourLetterWord(port, 'crst'), 'Connection stats reset.\n');
    assert.match(await fourLetterWord(port, 'cons'), new RegExp(` /inproc:\\d+\\[1\\]\\(queued=0,recved=0,sent=0,sid=${sid},lop=NA,`));
    assert.equal(await fourLetterWord(port, 'srst'), 'Server stats reset.\n');
    assert.match(await fourLetterWord(port, 'srvr'), /\nLatency min\/avg\/max: 0\/0\.0\/0\nReceived: 1\nSent: 1\n[^]*Proposal sizes last\/min\/max: -1\/-1\/-1\n$/);
  });

  test('TCP and in-process clients of one server share its counters', async () => {
    const follower = ensemble.servers.find((s) => s.role === 'follower')!;
    const port = portOf(follower.id);
    await fourLetterWord(port, 'srst');
    const inproc = ensemble.client({ connectString: `inproc:${follower.id}`, sessionTimeout: 10_000 });
    clients.push(inproc);
    const tcp = createClient(ports.addresses[ensemble.servers.indexOf(follower)]!, { sessionTimeout: 10_000 });
    tcp.on('error', () => {});
    clients.push(tcp);
    await Promise.all([inproc.waitUntilConnected(), tcp.waitUntilConnected()]);
    await inproc.exists('/');
    await tcp.exists('/');
    const stats = ensemble.clientService(follower.id)!.stats;
    assert.equal(ports.port(follower.id).stats, stats, 'the port reports into the service');
    const srvr = await fourLetterWord(port, 'srvr');
    assert.match(srvr, /\nConnections: 3\n/);
    // srst's answer, then two handshakes and two exists, then srvr's own request.
    assert.match(srvr, /\nReceived: 5\nSent: 5\n/);
    const cons = await fourLetterWord(port, 'cons');
    assert.match(cons, / \/inproc:\d+\[1\]\(queued=0,recved=2,sent=2,sid=0x[0-9a-f]+,lop=EXIS,/);
    assert.match(cons, / \/127\.0\.0\.1:\d+\[1\]\(queued=0,recved=2,sent=2,sid=0x[0-9a-f]+,lop=EXIS,/);
    assert.ok(stats.bytesReceived > 0 && stats.responseSizes.count >= 2, 'TCP bytes are counted by the port');
  });

  test('a raw session shows its ConnectRequest in cons before any request', async () => {
    const leader = ensemble.leader()!;
    const raw = await openSession(portOf(leader.id), { timeOut: 10_000 });
    try {
      assert.match(await fourLetterWord(portOf(leader.id), 'cons'), / \/127\.0\.0\.1:\d+\[1\]\(queued=0,recved=1,sent=1,sid=0x[0-9a-f]+,lop=SESS,est=\d+,to=10000,lcxid=0xffffffffffffffff,/);
    } finally {
      raw.destroy();
    }
  });
});
