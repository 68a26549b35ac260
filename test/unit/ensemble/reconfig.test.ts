/**
 * Dynamic reconfiguration through ZAB (src/machines/reconfig.ts): a reconfig commits
 * with a quorum of the old AND of the new voters, every replica then applies the new
 * configuration (same `/zookeeper/config`, same digest) and later quorum decisions use
 * it; added servers join, removed ones stop counting; a restart keeps the membership.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpCode } from '../../../src/protocol/constants.js';
import { ErrorCode, ZooKeeperError } from '../../../src/protocol/errors.js';
import type { ReconfigRequest } from '../../../src/protocol/records.js';
import type { ServerId } from '../../../src/protocol/peer.js';
import { seededRandom } from '../../../src/runtime/random.js';
import type { Ensemble } from '../../../src/server/ensemble.js';
import { QuorumServer } from '../../../src/server/quorum-server.js';
import { MemoryStorage } from '../../../src/storage/memory.js';
import type { VirtualClock } from '../../../src/sim/virtual-clock.js';
import type { ApplyResult } from '../../../src/tree/data-tree.js';
import type { Membership } from '../../../src/machines/quorum.js';
import { assertConverged, create, settle, succeeded, virtualEnsemble, waitAllServing, waitFor, write, type Outcome } from './helpers.js';

const SUPER = [{ scheme: 'super', id: '' }];
const RECONFIG = { zab: { reconfigEnabled: true } };

type Change = Partial<Pick<ReconfigRequest, 'joiningServers' | 'leavingServers' | 'newMembers' | 'curConfigId'>>;

/** Issue a reconfig on `server` as the super user. */
function reconfig(server: QuorumServer, change: Change, cxid: number, authIds = SUPER): Outcome<ApplyResult> {
  const request: ReconfigRequest = { type: OpCode.reconfig, joiningServers: null, leavingServers: null, newMembers: null, curConfigId: -1n, ...change };
  const outcome: Outcome<ApplyResult> = { done: false, value: undefined };
  server.write(request, { sessionId: 77n, cxid, authIds }, (value) => {
    outcome.done = true;
    outcome.value = value;
  });
  return outcome;
}

/** The reconfig's error code (0 = success); fails on ConnectionLoss. */
function errOf(outcome: Outcome<ApplyResult>): number {
  assert.ok(outcome.done, 'not answered');
  assert.ok(!(outcome.value instanceof ZooKeeperError), `failed: ${String(outcome.value)}`);
  return (outcome.value as ApplyResult).err;
}

function configText(server: QuorumServer): string {
  return new TextDecoder().decode(server.tree.getData('/zookeeper/config')!.data!);
}

/** A server that is not (yet) a member of `ensemble`, started with its own view of the membership. */
function joiner(ensemble: Ensemble, clock: VirtualClock, id: ServerId, membership: Membership): QuorumServer {
  const server = new QuorumServer({
    id,
    membership,
    transport: () => ensemble.network!.endpoint(id),
    storage: new MemoryStorage({ clock }),
    clock,
    random: seededRandom(id),
    timing: { election: { finalizeWaitMs: 10, minNotificationTimeoutMs: 10 } },
    zab: { reconfigEnabled: true },
  });
  server.start();
  return server;
}

function roles(ensemble: Ensemble): { leader: QuorumServer; followers: QuorumServer[] } {
  const leader = ensemble.leader()!;
  return { leader, followers: ensemble.servers.filter((s) => s !== leader && s.id <= 3) };
}

test('an observer that never shows up is added and removed: every replica applies each configuration, digests agree', async () => {
  const { ensemble, clock } = virtualEnsemble({ servers: 3, ...RECONFIG }, 61);
  waitAllServing(ensemble, clock);
  const { followers } = roles(ensemble);
  const initial = configText(followers[0]!);
  assert.equal(initial, 'server.1=127.0.0.1:0:0:participant\nserver.2=127.0.0.1:0:0:participant\nserver.3=127.0.0.1:0:0:participant\nversion=0');

  const joining = 'server.100=0.0.0.0:30001:30002:observer;0.0.0.0:30003';
  const added = reconfig(followers[0]!, { joiningServers: joining }, 1); // forwarded to the leader
  waitFor(clock, () => added.done);
  assert.equal(errOf(added), 0);
  const zxid = (added.value as ApplyResult).zxid;
  settle(clock, 20);
  for (const s of ensemble.servers) {
    assert.equal(s.config.version, zxid, `server ${s.id} version`);
    assert.deepEqual(s.membership, { voters: [1, 2, 3], observers: [100] });
    assert.equal(configText(s), `${initial.replace('version=0', joining)}\nversion=${zxid.toString(16)}`);
    const stat = s.tree.stat('/zookeeper/config')!;
    assert.equal(stat.version, -1, 'ZooKeeper writes the config node with version -1');
    assert.equal(stat.mzxid, zxid);
  }
  assertConverged(ensemble);

  // Writes still commit (the phantom observer is never waited for), then remove it.
  const w = write(ensemble.leader()!, create('/after-add'), 5n, 1);
  waitFor(clock, () => w.done);
  assert.ok(succeeded(w));
  const removed = reconfig(ensemble.leader()!, { leavingServers: '100' }, 2);
  waitFor(clock, () => removed.done);
  assert.equal(errOf(removed), 0);
  settle(clock, 20);
  for (const s of ensemble.servers) assert.deepEqual(s.membership, { voters: [1, 2, 3], observers: [] });
  assert.ok(!configText(ensemble.leader()!).includes('server.100'));
  assertConverged(ensemble);
  await ensemble.close();
});

test('removing a follower: 3 → 2 voters, both must ACK afterwards; the removed server keeps following without a vote', async () => {
  const { ensemble, clock } = virtualEnsemble({ servers: 3, ...RECONFIG }, 62);
  waitAllServing(ensemble, clock);
  const { leader, followers } = roles(ensemble);
  const [kept, removed] = followers as [QuorumServer, QuorumServer];
  const r = reconfig(leader, { leavingServers: String(removed.id) }, 1);
  waitFor(clock, () => r.done);
  assert.equal(errOf(r), 0);
  settle(clock, 20);
  const voters = [leader.id, kept.id].sort();
  for (const s of ensemble.servers) assert.deepEqual(s.membership.voters, voters);

  // The removed server still follows (as ZooKeeper 3.8's do) and applies every write.
  const w1 = write(removed, create('/via-removed', 'r'), 5n, 1);
  waitFor(clock, () => w1.done);
  assert.ok(succeeded(w1));
  assert.equal(removed.role, 'follower');
  assertConverged(ensemble);

  // With the other voter down, leader + removed server were a quorum of 3 but are not of 2.
  kept.stop();
  const w2 = write(leader, create('/needs-both'), 6n, 1);
  settle(clock, 1000);
  assert.ok(!succeeded(w2), 'committed without the second voter');
  assert.equal(leader.tree.stat('/needs-both'), undefined);
  kept.start();
  waitFor(clock, () => ensemble.leader() !== undefined && ensemble.servers.every((s) => s.serving), 10_000);
  const w3 = write(ensemble.leader()!, create('/both-back'), 7n, 1);
  waitFor(clock, () => w3.done);
  assert.ok(succeeded(w3));
  assert.ok(ensemble.leader()!.id !== removed.id, 'the removed server was elected');
  settle(clock, 20);
  assertConverged(ensemble);
  await ensemble.close();
});

test('adding a voter: a server started with the new configuration follows without a vote, then its ACKs count', async () => {
  const { ensemble, clock } = virtualEnsemble({ servers: 3, ...RECONFIG }, 63);
  waitAllServing(ensemble, clock);
  const { leader, followers } = roles(ensemble);

  // Voters that are not connected: no quorum of the new configuration is synced.
  const noQuorum = reconfig(leader, { newMembers: `server.${leader.id}=127.0.0.1:1:2;3,server.4=127.0.0.1:4:5;6,server.5=127.0.0.1:7:8;9` }, 1);
  waitFor(clock, () => noQuorum.done);
  assert.equal(errOf(noQuorum), ErrorCode.NewConfigNoQuorum);

  const four = joiner(ensemble, clock, 4, { voters: [1, 2, 3, 4], observers: [] });
  waitFor(clock, () => four.serving, 10_000, 'server 4 following');
  assert.equal(four.role, 'follower');
  const r = reconfig(followers[1]!, { joiningServers: 'server.4=127.0.0.1:4:5;6' }, 2);
  waitFor(clock, () => r.done);
  assert.equal(errOf(r), 0);
  settle(clock, 20);
  for (const s of [...ensemble.servers, four]) assert.deepEqual(s.membership.voters, [1, 2, 3, 4]);

  // 4 voters: a quorum is 3. With one old follower down, the leader needs server 4's ACK.
  followers[0]!.stop();
  const w = write(leader, create('/with-four'), 5n, 1);
  waitFor(clock, () => w.done);
  assert.ok(succeeded(w));
  // With both old followers down, leader + 4 are 2 of 4: no quorum.
  followers[1]!.stop();
  const stalled = write(leader, create('/two-of-four'), 6n, 1);
  settle(clock, 1000);
  assert.ok(!succeeded(stalled));
  assert.equal(four.tree.stat('/two-of-four'), undefined);
  followers[0]!.start();
  followers[1]!.start();
  const all = [...ensemble.servers, four];
  waitFor(clock, () => all.some((s) => s.role === 'leader') && all.every((s) => s.serving), 10_000);
  settle(clock, 50);
  for (const s of all) assert.equal(s.digest(), all[0]!.digest(), `server ${s.id} digest`);
  four.stop();
  await ensemble.close();
});

test('an observer that exists: started with the new configuration it observes, is added, and serves', async () => {
  const { ensemble, clock } = virtualEnsemble({ servers: 3, ...RECONFIG }, 64);
  waitAllServing(ensemble, clock);
  const four = joiner(ensemble, clock, 4, { voters: [1, 2, 3], observers: [4] });
  waitFor(clock, () => four.serving, 10_000, 'server 4 observing');
  assert.equal(four.role, 'observer');
  const r = reconfig(four, { joiningServers: 'server.4=127.0.0.1:4:5:observer;6' }, 1);
  waitFor(clock, () => r.done);
  assert.equal(errOf(r), 0);
  settle(clock, 20);
  for (const s of [...ensemble.servers, four]) assert.deepEqual(s.membership, { voters: [1, 2, 3], observers: [4] });
  const w = write(four, create('/from-observer'), 5n, 1);
  waitFor(clock, () => w.done);
  assert.ok(succeeded(w));
  settle(clock, 20);
  assert.equal(configText(four), configText(ensemble.leader()!));
  for (const s of ensemble.servers) assert.equal(s.digest(), four.digest(), `server ${s.id} digest`);
  four.stop();
  await ensemble.close();
});

test('the reconfig commits only once a quorum of the old AND of the new voters ACKed it', async () => {
  const { ensemble, clock } = virtualEnsemble({ servers: 3, ...RECONFIG }, 65);
  waitAllServing(ensemble, clock);
  const { leader } = roles(ensemble);
  const four = joiner(ensemble, clock, 4, { voters: [1, 2, 3, 4, 5], observers: [] });
  const five = joiner(ensemble, clock, 5, { voters: [1, 2, 3, 4, 5], observers: [] });
  waitFor(clock, () => four.serving && five.serving, 10_000, 'servers 4 and 5 following');
  // The new voters' ACKs arrive 100 ms late (within syncLimit: the leader keeps them).
  const late = { delay: 1, delayMs: { min: 100, max: 100 } };
  ensemble.network!.faults.setLinkFaults(4, leader.id, late);
  ensemble.network!.faults.setLinkFaults(5, leader.id, late);
  const r = reconfig(leader, { newMembers: `server.${leader.id}=127.0.0.1:1:2;3,server.4=127.0.0.1:4:5;6,server.5=127.0.0.1:7:8;9` }, 1);
  settle(clock, 50);
  assert.equal(r.done, false, 'committed with the old voters alone');
  const old = leader.config.version;
  for (const s of ensemble.servers) assert.equal(s.config.version, old);
  waitFor(clock, () => r.done, 1000);
  assert.equal(errOf(r), 0);
  ensemble.network!.faults.clearFaults();
  settle(clock, 20);
  const voters = [leader.id, 4, 5].sort();
  for (const s of [...ensemble.servers, four, five]) assert.deepEqual(s.membership.voters, voters, `server ${s.id}`);
  four.stop();
  five.stop();
  await ensemble.close();
});

test('one reconfig at a time (ReconfigInProgress), checked in ZooKeeper order: BadVersion, BadArguments, NoAuth', async () => {
  const { ensemble, clock } = virtualEnsemble({ servers: 3, ...RECONFIG }, 66);
  waitAllServing(ensemble, clock);
  const { leader } = roles(ensemble);
  const first = reconfig(leader, { joiningServers: 'server.9=10.0.0.9:1:2:observer;3' }, 1);
  const second = reconfig(leader, { joiningServers: 'server.10=10.0.0.10:1:2:observer;3' }, 2);
  waitFor(clock, () => first.done && second.done);
  assert.equal(errOf(first), 0);
  assert.equal(errOf(second), ErrorCode.ReconfigInProgress);
  const version = leader.config.version;
  assert.equal(version, (first.value as ApplyResult).zxid);

  const cases: [Change, number][] = [
    [{ curConfigId: BigInt(version) + 1n }, ErrorCode.BadVersion],
    [{ curConfigId: BigInt(version) }, 0],
    [{ joiningServers: 'some thing' }, ErrorCode.BadArguments],
    [{ leavingServers: 'abc' }, ErrorCode.MarshallingError],
  ];
  for (const [i, [change, err]] of cases.entries()) {
    const o = reconfig(leader, change, 10 + i);
    waitFor(clock, () => o.done);
    assert.equal(errOf(o), err, JSON.stringify(change, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)));
  }
  // No super user: NoAuth, but only after every other check passed (ZooKeeper checks the ACL last).
  const bad = reconfig(leader, { joiningServers: 'some thing' }, 20, []);
  const stale = reconfig(leader, { curConfigId: 1n }, 21, []);
  const noAuth = reconfig(leader, { joiningServers: 'server.9=10.0.0.9:1:2:observer;3' }, 22, []);
  const skipped = reconfig(leader, {}, 23, [{ scheme: 'digest', id: 'someone:x' }]);
  waitFor(clock, () => bad.done && stale.done && noAuth.done && skipped.done);
  assert.deepEqual([errOf(bad), errOf(stale), errOf(noAuth), errOf(skipped)], [ErrorCode.BadArguments, ErrorCode.BadVersion, ErrorCode.NoAuth, ErrorCode.NoAuth]);
  settle(clock, 20);
  assertConverged(ensemble);
  await ensemble.close();
});

test('removing the leader: it steps down, the remaining voters elect a leader, it goes on without a vote', async () => {
  const { ensemble, clock } = virtualEnsemble({ servers: 3, ...RECONFIG }, 67);
  waitAllServing(ensemble, clock);
  const { leader, followers } = roles(ensemble);
  const r = reconfig(followers[0]!, { leavingServers: String(leader.id) }, 1);
  waitFor(clock, () => r.done);
  assert.equal(errOf(r), 0);
  waitFor(clock, () => ensemble.leader() !== undefined && ensemble.leader() !== leader && ensemble.servers.every((s) => s.serving), 10_000, 'a new leader');
  const voters = followers.map((f) => f.id).sort();
  for (const s of ensemble.servers) assert.deepEqual(s.membership.voters, voters);
  assert.equal(leader.role, 'observer', 'the old leader learns as a non-voting member');
  const w = write(leader, create('/via-old-leader'), 5n, 1);
  waitFor(clock, () => w.done);
  assert.ok(succeeded(w));
  settle(clock, 20);
  assertConverged(ensemble);
  await ensemble.close();
});

test('a learner whose role changes rejoins in its new role (participant → observer)', async () => {
  const { ensemble, clock } = virtualEnsemble({ servers: 3, ...RECONFIG }, 68);
  waitAllServing(ensemble, clock);
  const { followers } = roles(ensemble);
  const demoted = followers[0]!;
  const r = reconfig(followers[1]!, { joiningServers: `server.${demoted.id}=10.0.0.${demoted.id}:2888:3888:observer;2181` }, 1);
  waitFor(clock, () => r.done);
  assert.equal(errOf(r), 0);
  waitFor(clock, () => demoted.role === 'observer' && demoted.serving, 10_000, 'the demoted follower observing');
  for (const s of ensemble.servers) assert.deepEqual(s.membership.observers, [demoted.id]);
  assert.ok(demoted.configLines().includes(`server.${demoted.id}=10.0.0.${demoted.id}:2888:3888:observer;0.0.0.0:2181`), configText(demoted));
  const w = write(demoted, create('/via-observer'), 5n, 1);
  waitFor(clock, () => w.done);
  assert.ok(succeeded(w));
  settle(clock, 20);
  assertConverged(ensemble);
  await ensemble.close();
});

test('a restart keeps the reconfigured membership (it is persisted with the tree)', async () => {
  const { ensemble, clock } = virtualEnsemble({ servers: 3, ...RECONFIG }, 69);
  waitAllServing(ensemble, clock);
  const { leader, followers } = roles(ensemble);
  const [kept, removed] = followers as [QuorumServer, QuorumServer];
  const r = reconfig(leader, { leavingServers: String(removed.id) }, 1);
  waitFor(clock, () => r.done);
  assert.equal(errOf(r), 0);
  const version = (r.value as ApplyResult).zxid;
  settle(clock, 50);
  for (const s of ensemble.servers) s.stop();
  for (const s of ensemble.servers) s.start();
  // Before any election: the configuration comes back from storage.
  for (const s of ensemble.servers) {
    assert.equal(s.config.version, version, `server ${s.id} restarted with version ${s.config.version.toString(16)}`);
    assert.deepEqual(s.membership.voters, [leader.id, kept.id].sort());
  }
  waitFor(clock, () => ensemble.leader() !== undefined && ensemble.servers.every((s) => s.serving), 10_000);
  assert.notEqual(ensemble.leader()!.id, removed.id);
  assert.equal(removed.role, 'observer', 'the removed server learns without a vote');
  // Both voters are needed: with one down nothing commits, though the removed server runs.
  const other = ensemble.servers.find((s) => s.id !== removed.id && s !== ensemble.leader())!;
  const lead = ensemble.leader()!;
  other.stop();
  const w = write(lead, create('/needs-both'), 5n, 1);
  settle(clock, 1000);
  assert.ok(!succeeded(w));
  other.start();
  waitFor(clock, () => ensemble.leader() !== undefined && ensemble.servers.every((s) => s.serving), 10_000);
  settle(clock, 20);
  assertConverged(ensemble);
  await ensemble.close();
});
