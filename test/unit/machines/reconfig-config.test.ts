/**
 * The dynamic configuration's text form and ZooKeeper's reconfig parsing rules. The
 * expected strings and error codes were observed against Apache ZooKeeper 3.8.0
 * (kazoo's `reconfig` on a 3-server ensemble with reconfigEnabled=true).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { planReconfig, type ReconfigPlan } from '../../../src/machines/reconfig.js';
import {
  ReconfigError,
  configLines,
  decodeConfig,
  encodeConfig,
  membershipOfConfig,
  parseConfigText,
  parseServerSpec,
  renderConfig,
  staticConfig,
  type QuorumConfig,
} from '../../../src/machines/reconfig-config.js';

const THREE: QuorumConfig = {
  servers: [1, 2, 3].map((id) => ({ id, host: '127.0.0.1', quorumPort: 36550 + id, electionPort: 35160 + id, role: 'participant' as const })),
  version: 0x100000000,
};

function change(joiningServers: string | null, leavingServers: string | null = null, newMembers: string | null = null) {
  return { joiningServers, leavingServers, newMembers };
}

function errOf(plan: ReconfigPlan): number {
  return plan.ok ? 0 : plan.err;
}

test('rendering: ZooKeeper QuorumMaj.toString (server lines in id order, version in hex, no final newline)', () => {
  const joined = planReconfig(THREE, change('server.100=0.0.0.0:30001:30002:observer;0.0.0.0:30003'));
  assert.ok(joined.ok);
  const text = renderConfig({ servers: joined.servers, version: 0x100000002 });
  assert.equal(
    text,
    'server.1=127.0.0.1:36551:35161:participant\nserver.2=127.0.0.1:36552:35162:participant\nserver.3=127.0.0.1:36553:35163:participant\n' +
      'server.100=0.0.0.0:30001:30002:observer;0.0.0.0:30003\nversion=100000002',
  );
  // A client port without a host gets 0.0.0.0; a host name is kept as given.
  const named = planReconfig(THREE, change('server.101=localhost:30011:30012:observer;30013', '100'));
  assert.ok(named.ok);
  assert.equal(configLines({ servers: named.servers, version: 1 }).at(-1), 'server.101=localhost:30011:30012:observer;0.0.0.0:30013');
  // IPv6 literals are bracketed.
  const v6 = parseServerSpec(7, '[::1]:2888:3888;[fe80::1]:2181');
  assert.equal(configLines({ servers: [v6], version: 0 })[0], 'server.7=[::1]:2888:3888:participant;[fe80::1]:2181');
});

test('parseConfigText reads back what renderConfig wrote (placeholders with port 0 included)', () => {
  const config = staticConfig({ voters: [1, 2], observers: [3] }, (id) => (id === 2 ? { id, host: 'zk2', quorumPort: 2888, electionPort: 3888, clientPort: 2181 } : undefined));
  assert.equal(renderConfig(config), 'server.1=127.0.0.1:0:0:participant\nserver.2=zk2:2888:3888:participant;0.0.0.0:2181\nserver.3=127.0.0.1:0:0:observer\nversion=0');
  assert.deepEqual(decodeConfig(encodeConfig(config)), config);
  const versioned = { ...config, version: 0x30000000a };
  assert.deepEqual(parseConfigText(renderConfig(versioned)), versioned);
  assert.deepEqual(membershipOfConfig(config), { voters: [1, 2], observers: [3] });
  for (const bad of ['', 'version=1', 'server.1=h:1:2:observer\nversion=1', 'server.x=h:1:2', 'hello', 'server.1=h:1:2\nserver.1=h:3:4']) {
    assert.equal(parseConfigText(bad), undefined, bad);
  }
});

test('joining servers: ZooKeeper QuorumServer parsing rules and the error codes it answers', () => {
  const cases: [string, number][] = [
    ['server.4=10.0.0.4:2888:3888;2181', 0],
    ['server.4=10.0.0.4:2888:3888:participant;10.0.0.4:2181', 0],
    ['server.4=10.0.0.4:2888:3888:OBSERVER;2181', 0],
    ['some thing', ErrorCode.BadArguments], // no '=' (kazoo's test_bad_input)
    ['server.102=1.2.3.4:1:2', ErrorCode.BadArguments], // no client port (observed)
    ['server.4=10.0.0.4:2888;2181', ErrorCode.BadArguments],
    ['server.4=10.0.0.4:2888:3888:boss;2181', ErrorCode.BadArguments],
    ['server.4=10.0.0.4:2888:2888;2181', ErrorCode.BadArguments], // equal quorum and election ports
    ['server.4=10.0.0.4:x:3888;2181', ErrorCode.BadArguments],
    ['server.4=a:1:2|b:1:2;2181', ErrorCode.BadArguments], // multiple addresses (disabled)
    ['server.4=10.0.0.4:2888:3888;2181;1', ErrorCode.BadArguments],
    ['server.four=10.0.0.4:2888:3888;2181', ErrorCode.MarshallingError], // Long.parseLong throws
    ['server.4=10.0.0.4:2888:3888;70000', ErrorCode.MarshallingError], // InetSocketAddress throws
  ];
  for (const [joining, err] of cases) assert.equal(errOf(planReconfig(THREE, change(joining))), err, joining);
  // A joiner may not reuse another member's (non-wildcard, non-loopback) address.
  const withAddress: QuorumConfig = { servers: [...THREE.servers, { id: 9, host: '10.0.0.9', quorumPort: 2888, electionPort: 3888, role: 'participant' }], version: 1 };
  assert.equal(errOf(planReconfig(withAddress, change('server.4=10.0.0.9:2888:3999;2181'))), ErrorCode.BadArguments);
  assert.equal(errOf(planReconfig(withAddress, change('server.9=10.0.0.9:2888:3888;2181'))), 0, 'a server may replace itself');
  assert.throws(() => parseServerSpec(1, 'h:1'), (e: unknown) => e instanceof ReconfigError && e.code === ErrorCode.BadArguments);
});

test('leaving servers and voter counts (observed against Apache ZooKeeper)', () => {
  assert.equal(errOf(planReconfig(THREE, change(null, 'abc'))), ErrorCode.MarshallingError);
  assert.equal(errOf(planReconfig(THREE, change(null, '1,2,3'))), ErrorCode.BadArguments, 'no voters left');
  assert.equal(errOf(planReconfig(THREE, change(null, '1,2'))), ErrorCode.BadArguments, 'one voter left (standaloneEnabled)');
  const one = planReconfig(THREE, change(null, '1, 2'), { standaloneEnabled: false });
  assert.ok(one.ok);
  assert.deepEqual(one.servers.map((s) => s.id), [3]);
  const removed = planReconfig(THREE, change(null, ' 2 ,, 42 '));
  assert.ok(removed.ok, 'blanks are skipped and unknown ids ignored');
  assert.deepEqual(removed.servers.map((s) => s.id), [1, 3]);
  const both = planReconfig(THREE, change('server.2=10.0.0.2:1:2:observer;3', '2'));
  assert.ok(both.ok, 'leaving is applied before joining');
  assert.equal(both.servers.find((s) => s.id === 2)!.role, 'observer');
  const nothing = planReconfig(THREE, change(null));
  assert.ok(nothing.ok, 'an empty reconfig is allowed (a new version of the same members)');
  assert.equal(nothing.servers.length, 3);
});

test('new members (non-incremental): a properties list, commas as newlines', () => {
  const plan = planReconfig(THREE, change(null, null, 'server.1=10.0.0.1:2888:3888,server.2 = 10.0.0.2:2888:3888;2181\nserver.5=10.0.0.5:2888:3888:observer\nversion=7'));
  assert.ok(plan.ok);
  assert.deepEqual(plan.servers.map((s) => [s.id, s.role, s.clientPort]), [
    [1, 'participant', undefined],
    [2, 'participant', 2181],
    [5, 'observer', undefined],
  ]);
  assert.equal(errOf(planReconfig(THREE, change(null, null, 'server.1=127.0.0.1:1:2;3'))), ErrorCode.BadArguments, 'one voter (observed)');
  assert.equal(errOf(planReconfig(THREE, change(null, null, ''))), ErrorCode.BadArguments);
  assert.equal(errOf(planReconfig(THREE, change(null, null, 'server.1=a:1:2,server.2=b:1:2,tickTime=5'))), ErrorCode.BadArguments);
  assert.equal(errOf(planReconfig(THREE, change(null, null, 'server.1=a:1:2,group.1=1:2'))), ErrorCode.BadArguments);
  assert.equal(errOf(planReconfig(THREE, change(null, null, 'server.x=a:1:2,server.2=b:1:2'))), ErrorCode.MarshallingError);
  assert.equal(errOf(planReconfig(THREE, change(null, null, 'server.1=a:1:2,server.2=b:3:4:observer'))), ErrorCode.MarshallingError, 'observers without a quorum');
  // newMembers wins over joining/leaving.
  const wins = planReconfig(THREE, change('server.9=a:1:2;3', '1', 'server.1=a:1:2,server.2=b:1:2'));
  assert.ok(wins.ok);
  assert.deepEqual(wins.servers.map((s) => s.id), [1, 2]);
});
