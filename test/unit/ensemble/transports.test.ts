/**
 * The same ensemble runs over every transport: in-process (the other tests), worker_threads
 * MessagePorts and loopback TCP; and a single server starts from a ZooKeeper-style member
 * list, as one process of a multi-process ensemble would. Real time, kept short.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEnsemble, startEnsemble, type Ensemble } from '../../../src/server/ensemble.js';
import type { QuorumServer } from '../../../src/server/quorum-server.js';
import { createQuorumServer, startQuorumServer, type ServerAddress } from '../../../src/server/server-config.js';
import { TcpTransport } from '../../../src/transport/tcp.js';
import { create } from './helpers.js';

async function until(condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail('condition not reached in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function exercise(ensemble: Ensemble): Promise<void> {
  await until(() => ensemble.allServing());
  const leader = ensemble.leader()!;
  const follower = ensemble.servers.find((s) => s !== leader)!;
  const result = await follower.writeAsync(create('/via-follower', 'hello'), { sessionId: 1n, cxid: 1, authIds: [] });
  assert.equal(result.err, 0);
  await until(() => ensemble.servers.every((s) => s.tree.exists('/via-follower')));
  leader.stop();
  await until(() => ensemble.leader() !== undefined && ensemble.leader() !== leader);
  const next = ensemble.leader()!;
  await next.writeAsync(create('/after-failover'), { sessionId: 2n, cxid: 1, authIds: [] });
  const digests = new Set(ensemble.servers.filter((s) => s.running).map((s) => s.digest()));
  await until(() => ensemble.servers.filter((s) => s.running).every((s) => s.lastAppliedZxid === next.lastAppliedZxid));
  assert.equal(new Set(ensemble.servers.filter((s) => s.running).map((s) => s.digest())).size, 1, `digests ${[...digests]}`);
}

test('an ensemble over loopback TCP elects, replicates and fails over', async () => {
  const ensemble = await startEnsemble({ servers: 3, transport: 'tcp' });
  try {
    await exercise(ensemble);
  } finally {
    await ensemble.close();
  }
});

test('an ensemble over worker_threads MessagePorts elects, replicates and fails over', async () => {
  // createEnsemble keeps the servers in this thread on WorkerHub endpoints (a test of the
  // transport); startEnsemble puts each in its own thread (worker-threads.test.ts).
  const ensemble = createEnsemble({ servers: 3, transport: 'worker' });
  try {
    await exercise(ensemble);
  } finally {
    await ensemble.close();
  }
});

test('a single server starts from a ZooKeeper-style member list and serves', async () => {
  const server = await startQuorumServer({ myid: 1, servers: [{ id: 1, host: '127.0.0.1', quorumPort: 0, electionPort: 0 }] });
  try {
    await until(() => server.serving);
    assert.equal(server.state, 'LEADING');
    const r = await server.writeAsync(create('/solo'), { sessionId: 1n, cxid: 1, authIds: [] });
    assert.equal(r.err, 0);
  } finally {
    await server.stopAsync();
  }
});

test('three servers built from one member list (each as its own process would) form an ensemble', async () => {
  const listeners = await Promise.all(
    [1, 2, 3].map((id) => TcpTransport.listen({ self: id, secret: 's3cret', listen: { host: '127.0.0.1', port: 0 } })),
  );
  const members: ServerAddress[] = listeners.map((t, i) => ({
    id: i + 1,
    host: '127.0.0.1',
    quorumPort: t.address().port,
    electionPort: 0,
    role: i === 2 ? 'observer' : 'participant',
  }));
  for (const t of listeners) t.setPeers(members.map((m) => [m.id, { host: m.host, port: m.quorumPort }]));
  const servers: QuorumServer[] = members.map((m, i) => createQuorumServer({ myid: m.id, servers: members, transport: () => listeners[i]! }));
  try {
    for (const s of servers) s.start();
    await until(() => servers.every((s) => s.serving));
    assert.equal(servers[2]!.state, 'OBSERVING');
    await servers[2]!.writeAsync(create('/from-observer'), { sessionId: 3n, cxid: 1, authIds: [] });
    await until(() => servers.every((s) => s.tree.exists('/from-observer')));
  } finally {
    await Promise.all(servers.map((s) => s.stopAsync()));
  }
});
