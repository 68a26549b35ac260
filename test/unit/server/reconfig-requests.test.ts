/**
 * The reconfig request (opcode 16) as clients see it, spoken to servers' `ClientService`
 * through recording sinks: the reply (getData's: the new configuration and the Stat of
 * `/zookeeper/config`), the error codes in ZooKeeper's order, the watch on the config
 * node, `conf`, and the zoo.cfg keys that turn it on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventType, OpCode } from '../../../src/protocol/constants.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import type { ClientRequest, ReconfigRequest, Stat } from '../../../src/protocol/records.js';
import type { Ensemble } from '../../../src/server/ensemble.js';
import type { ServerConnection } from '../../../src/server/connection.js';
import { formatConf } from '../../../src/server/four-letter-words.js';
import { serverInfoSource } from '../../../src/server/server-info.js';
import { createQuorumServer } from '../../../src/server/server-config.js';
import { parseZooCfg } from '../../../src/cli/zoo-cfg.js';
import { InProcessNetwork } from '../../../src/transport/inproc.js';
import { seededRandom } from '../../../src/runtime/random.js';
import { VirtualClock } from '../../../src/sim/virtual-clock.js';
import type { EnsembleOptions } from '../../../src/server/ensemble.js';
import { connectRequest, recordingSink, serving, waitFor, type Received } from '../sessions/helpers.js';

const SUPER_DIGEST = 'super:D/InIHSb7yEEbrWz8b9l71RjZJU='; // super:test
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const ENABLED: EnsembleOptions = { zab: { reconfigEnabled: true }, session: { superDigest: SUPER_DIGEST } };

type Raw = { sink: ReturnType<typeof recordingSink>; connection: ServerConnection };

async function session(ensemble: Ensemble, clock: VirtualClock, id: number, asSuper: boolean): Promise<Raw> {
  const sink = recordingSink();
  const connection = ensemble.clientService(id)!.accept(sink, { remoteAddress: '10.0.0.8', remotePort: 5000 + id });
  connection.connect(connectRequest());
  await waitFor(clock, () => sink.received.length > 0, 5000, 'ConnectResponse');
  const raw = { sink, connection };
  if (asSuper) await ask(clock, raw, -4, { type: OpCode.auth, authType: 0, scheme: 'digest', auth: bytes('super:test') });
  return raw;
}

function replies(received: Received[]): Extract<Received, { kind: 'reply' }>[] {
  return received.filter((r): r is Extract<Received, { kind: 'reply' }> => r.kind === 'reply');
}

async function ask(clock: VirtualClock, raw: Raw, xid: number, request: ClientRequest) {
  const before = replies(raw.sink.received).length;
  raw.connection.request(xid, request);
  await waitFor(clock, () => replies(raw.sink.received).length > before || raw.sink.closed, 5000, `reply to xid ${xid}`);
  return replies(raw.sink.received).at(-1)!;
}

function reconfig(change: Partial<ReconfigRequest>): ReconfigRequest {
  return { type: OpCode.reconfig, joiningServers: null, leavingServers: null, newMembers: null, curConfigId: -1n, ...change };
}

test('a reconfig answers like getData (the new configuration, the Stat of /zookeeper/config) and fires the config watch', async () => {
  const { ensemble, clock } = await serving(ENABLED, 71);
  const [a, b] = ensemble.servers.filter((s) => s.role === 'follower');
  const admin = await session(ensemble, clock, a!.id, true);
  const watcher = await session(ensemble, clock, b!.id, false);
  const before = await ask(clock, watcher, 1, { type: OpCode.getData, path: '/zookeeper/config', watch: true });
  assert.equal(text((before.response as { data: Uint8Array }).data), 'server.1=127.0.0.1:0:0:participant\nserver.2=127.0.0.1:0:0:participant\nserver.3=127.0.0.1:0:0:participant\nversion=0');

  const joining = 'server.100=0.0.0.0:30001:30002:observer;0.0.0.0:30003';
  const reply = await ask(clock, admin, 2, reconfig({ joiningServers: joining }));
  assert.equal(reply.header.err, 0);
  const { data, stat } = reply.response as { data: Uint8Array; stat: Stat };
  const zxid = reply.header.zxid;
  assert.ok(text(data).includes(`\n${joining}\nversion=${zxid.toString(16)}`), text(data));
  assert.equal(text(data).split('\n').at(-1), `version=${zxid.toString(16)}`, 'the last line is the version (kazoo parses it)');
  assert.deepEqual([stat.mzxid, stat.version, stat.aversion, stat.dataLength], [zxid, -1, -1, data.length]);
  await waitFor(clock, () => watcher.sink.received.some((r) => r.kind === 'notification'), 5000, 'the config watch');
  const event = watcher.sink.received.find((r): r is Extract<Received, { kind: 'notification' }> => r.kind === 'notification')!.event;
  assert.deepEqual([event.type, event.path], [EventType.NodeDataChanged, '/zookeeper/config']);
  const after = await ask(clock, watcher, 3, { type: OpCode.getData, path: '/zookeeper/config', watch: false });
  assert.deepEqual((after.response as { data: Uint8Array }).data, data);

  // conf prints the same lines and version.
  const conf = formatConf({
    clientPort: 2181,
    dataDir: '',
    dataDirSize: 0,
    dataLogDir: '',
    dataLogSize: 0,
    tickTime: 0,
    maxClientCnxns: 0,
    minSessionTimeout: 0,
    maxSessionTimeout: 0,
    serverId: 0,
    ...serverInfoSource(b!, ensemble.clientService(b!.id)!).conf!(),
  });
  assert.ok(conf.endsWith(`membership: \n${text(data)}`), conf);
  await ensemble.close();
});

test('errors in ZooKeeper order over a client connection; the connection stays open', async () => {
  const { ensemble, clock } = await serving(ENABLED, 72);
  const leader = ensemble.leader()!;
  const follower = ensemble.servers.find((s) => s.role === 'follower')!;
  const anonymous = await session(ensemble, clock, follower.id, false);
  const admin = await session(ensemble, clock, leader.id, true);
  const asked: [Raw, ReconfigRequest, number][] = [
    [anonymous, reconfig({ joiningServers: 'some thing' }), ErrorCode.BadArguments], // kazoo's test_bad_input
    [anonymous, reconfig({ joiningServers: 'server.999=0.0.0.0:1234:2345:observer;3456' }), ErrorCode.NoAuth], // test_no_super_auth
    [anonymous, reconfig({ curConfigId: 5n }), ErrorCode.BadVersion], // before the ACL check
    [admin, reconfig({ curConfigId: 1n }), ErrorCode.BadVersion],
    [admin, reconfig({ leavingServers: '1,2,3' }), ErrorCode.BadArguments],
    [admin, reconfig({ newMembers: `server.${leader.id}=127.0.0.1:1:2;3,server.8=127.0.0.1:4:5;6,server.9=127.0.0.1:7:8;9` }), ErrorCode.NewConfigNoQuorum],
    [admin, reconfig({ curConfigId: 0n }), 0], // an unchanged member list is a new version
  ];
  for (const [i, [raw, request, err]] of asked.entries()) {
    const reply = await ask(clock, raw, 10 + i, request);
    assert.equal(reply.header.err, err, `case ${i}`);
    assert.ok(reply.header.zxid > 0, 'a failed reconfig still consumes its zxid');
  }
  // Two in a row from the leader's own connection: the second finds the first outstanding.
  admin.connection.request(30, reconfig({ joiningServers: 'server.7=10.0.0.7:1:2:observer;3' }));
  admin.connection.request(31, reconfig({ joiningServers: 'server.8=10.0.0.8:1:2:observer;3' }));
  await waitFor(clock, () => replies(admin.sink.received).filter((r) => r.header.xid >= 30).length === 2, 5000);
  assert.deepEqual(replies(admin.sink.received).filter((r) => r.header.xid >= 30).map((r) => r.header.err), [0, ErrorCode.ReconfigInProgress]);
  assert.equal(anonymous.sink.closed || admin.sink.closed, false);
  await ensemble.close();
});

test('reconfigEnabled=false (the default) answers ReconfigDisabled; a single server answers Unimplemented', async () => {
  const off = await serving({ session: { superDigest: SUPER_DIGEST } }, 73);
  const raw = await session(off.ensemble, off.clock, off.ensemble.leader()!.id, true);
  assert.equal((await ask(off.clock, raw, 1, reconfig({ leavingServers: '3' }))).header.err, ErrorCode.ReconfigDisabled);
  assert.deepEqual(off.ensemble.leader()!.membership.voters, [1, 2, 3]);
  await off.ensemble.close();

  const single = await serving({ servers: 1, ...ENABLED }, 74);
  const one = await session(single.ensemble, single.clock, 1, true);
  assert.equal((await ask(single.clock, one, 1, reconfig({ joiningServers: 'server.2=10.0.0.2:1:2;3' }))).header.err, ErrorCode.Unimplemented);
  const config = await ask(single.clock, one, 2, { type: OpCode.getData, path: '/zookeeper/config', watch: false });
  assert.equal((config.response as { data: Uint8Array }).data.length, 0, 'standalone: /zookeeper/config is empty, as ZooKeeper has it');
  assert.equal(one.sink.closed, false);
  await single.ensemble.close();
});

test('zoo.cfg: reconfigEnabled and standaloneEnabled; the configuration carries the server lines as written', async () => {
  const cfg = parseZooCfg(
    'tickTime=100\nreconfigEnabled=true\nstandaloneEnabled=false\n' +
      'server.1=10.0.0.1:2888:3888;2181\nserver.2=10.0.0.2:2888:3888:participant\nserver.3=10.0.0.3:2888:3888:observer;10.0.0.3:2181\n',
  );
  assert.deepEqual([cfg.reconfigEnabled, cfg.standaloneEnabled, cfg.unsupported], [true, false, []]);
  assert.deepEqual([parseZooCfg('').reconfigEnabled, parseZooCfg('').standaloneEnabled], [false, true]);
  const clock = new VirtualClock();
  const network = new InProcessNetwork({ clock, random: seededRandom(1) });
  const server = createQuorumServer({
    myid: 1,
    servers: cfg.servers,
    reconfigEnabled: cfg.reconfigEnabled,
    transport: () => network.endpoint(1),
    clock,
    random: seededRandom(2),
  });
  assert.equal(server.reconfigEnabled, true);
  server.start();
  assert.deepEqual(server.configLines(), [
    'server.1=10.0.0.1:2888:3888:participant;0.0.0.0:2181',
    'server.2=10.0.0.2:2888:3888:participant',
    'server.3=10.0.0.3:2888:3888:observer;10.0.0.3:2181',
  ]);
  assert.equal(text(server.tree.getData('/zookeeper/config')!.data!), `${server.configLines().join('\n')}\nversion=0`);
  server.stop();
  await network.close();
});
