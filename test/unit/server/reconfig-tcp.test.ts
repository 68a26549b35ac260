/**
 * Reconfiguration of servers built from ZooKeeper-style member lists (what
 * `zoostate server --config zoo.cfg` runs), over loopback TCP: a reconfig gives the
 * members the new server's quorum address, so an observer started with the new
 * configuration gets connected and served. Real time, kept short.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpCode } from '../../../src/protocol/constants.js';
import type { ReconfigRequest } from '../../../src/protocol/records.js';
import type { QuorumServer } from '../../../src/server/quorum-server.js';
import { createQuorumServer, type ServerAddress } from '../../../src/server/server-config.js';
import type { ApplyResult } from '../../../src/tree/data-tree.js';
import { freePort } from '../../support/free-port.js';
import { create } from '../ensemble/helpers.js';

async function until(condition: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The super user's reconfig adding `server` (a `server.N=...` line), through `leader`. */
function join(leader: QuorumServer, server: string): Promise<ApplyResult> {
  const request: ReconfigRequest = { type: OpCode.reconfig, joiningServers: server, leavingServers: null, newMembers: null, curConfigId: -1n };
  return leader.writeAsync(request, { sessionId: 1n, cxid: 1, authIds: [{ scheme: 'super', id: '' }] });
}

test('over TCP: an observer started with the new configuration is reached once a reconfig adds it', async () => {
  const ports = await Promise.all([1, 2, 3, 4].map(() => freePort()));
  const line = (id: number, role: 'participant' | 'observer' = 'participant'): ServerAddress => ({
    id,
    host: '127.0.0.1',
    quorumPort: ports[id - 1]!,
    electionPort: ports[id - 1]! + 1,
    role,
    clientPort: 2180 + id,
  });
  const old = [line(1), line(2), line(3)];
  const servers: QuorumServer[] = [1, 2, 3].map((myid) => createQuorumServer({ myid, servers: old, tickTime: 50, reconfigEnabled: true }));
  const four = createQuorumServer({ myid: 4, servers: [...old, line(4, 'observer')], tickTime: 50, reconfigEnabled: true });
  try {
    await Promise.all(servers.map((s) => s.startAsync()));
    await until(() => servers.every((s) => s.serving));
    await four.startAsync();
    const leader = servers.find((s) => s.role === 'leader')!;
    const result = await join(leader, `server.4=127.0.0.1:${ports[3]}:${ports[3]! + 1}:observer;127.0.0.1:2184`);
    assert.equal(result.err, 0);
    await until(() => four.serving && four.role === 'observer');
    const w = await four.writeAsync(create('/via-four'), { sessionId: 2n, cxid: 1, authIds: [] });
    assert.equal(w.err, 0);
    await until(() => [...servers, four].every((s) => s.lastAppliedZxid === w.zxid));
    for (const s of [...servers, four]) {
      assert.deepEqual(s.membership, { voters: [1, 2, 3], observers: [4] }, `server ${s.id}`);
      assert.equal(s.configLines()[3], `server.4=127.0.0.1:${ports[3]}:${ports[3]! + 1}:observer;127.0.0.1:2184`);
    }
    assert.equal(new Set([...servers, four].map((s) => s.digest())).size, 1);
  } finally {
    await Promise.all([...servers, four].map((s) => s.stopAsync()));
  }
});

test('over TCP: a voter started with the new configuration syncs first, then a reconfig adds it to the quorum', async () => {
  const ports = await Promise.all([1, 2, 3, 4].map(() => freePort()));
  const line = (id: number): ServerAddress => ({ id, host: '127.0.0.1', quorumPort: ports[id - 1]!, electionPort: ports[id - 1]! + 1, role: 'participant', clientPort: 2180 + id });
  const old = [line(1), line(2), line(3)];
  const servers: QuorumServer[] = [1, 2, 3].map((myid) => createQuorumServer({ myid, servers: old, tickTime: 50, reconfigEnabled: true }));
  // Server 4 knows the members; they do not know it yet (their transports accept it as an unknown higher id).
  const four = createQuorumServer({ myid: 4, servers: [...old, line(4)], tickTime: 50, reconfigEnabled: true });
  try {
    await Promise.all(servers.map((s) => s.startAsync()));
    await until(() => servers.every((s) => s.serving));
    await four.startAsync();
    // It finds the established leader and follows it as a non-voting learner.
    await until(() => four.serving && four.role === 'follower');
    const leader = servers.find((s) => s.role === 'leader')!;
    const result = await join(leader, `server.4=127.0.0.1:${ports[3]}:${ports[3]! + 1}:participant;127.0.0.1:2184`);
    assert.equal(result.err, 0, 'the new voter was synced, so the new configuration has a quorum');
    await until(() => [...servers, four].every((s) => s.membership.voters.length === 4));
    // One old voter stops: the new quorum (3 of 4) then needs server 4's ACK to commit.
    const others = servers.filter((s) => s !== leader);
    await others[0]!.stopAsync();
    const w = await leader.writeAsync(create('/needs-four'), { sessionId: 2n, cxid: 1, authIds: [] });
    assert.equal(w.err, 0);
    await until(() => four.lastAppliedZxid === w.zxid);
    for (const s of [leader, others[1]!, four]) assert.deepEqual(s.membership, { voters: [1, 2, 3, 4], observers: [] }, `server ${s.id}`);
  } finally {
    await Promise.all([...servers, four].map((s) => s.stopAsync()));
  }
});
