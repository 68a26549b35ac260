/**
 * `startEnsemble({ transport: 'worker' })`: every server (QuorumServer, ClientService,
 * client port) in its own worker_thread, driven by a controller in this thread. Real
 * time; clients talk the wire protocol to the workers' client ports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { threadId, type Worker } from 'node:worker_threads';
import { createClient, type ZooKeeperClient, type ClientOptions } from '../../../src/client/client.js';
import { createEnsemble, startEnsemble, type EnsembleMember, type EnsembleView } from '../../../src/server/ensemble.js';
import type { WorkerEnsemble, WorkerServerStatus } from '../../../src/server/worker/worker-ensemble.js';
import { systemClock } from '../../../src/runtime/clock.js';
import { WorkerHub } from '../../../src/transport/worker.js';
import { fourLetterWord } from '../frontend/harness.js';
import { create } from './helpers.js';

const portOf = (address: string): number => Number(address.slice(address.lastIndexOf(':') + 1));
/**
 * A stopped server's peers learn it at once (its MessagePorts close), so failover does
 * not wait for these limits; they only keep a busy machine's scheduling stalls from
 * passing for a dead leader (1 s instead of 250 ms).
 */
const TOLERANT = { syncLimit: 20, initLimit: 20 } as const;
const FAST_RECONNECT: ClientOptions = { sessionTimeout: 10_000, spinDelay: 20, reconnectDelay: 20 };

async function until(condition: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`not reached in time: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function statuses(ensemble: WorkerEnsemble): Promise<WorkerServerStatus[]> {
  return Promise.all(ensemble.servers.filter((s) => s.running).map((s) => s.status()));
}

/** Every running server applied the same last zxid; then their digests must agree. */
async function digestsAgree(ensemble: WorkerEnsemble): Promise<void> {
  await until(async () => new Set((await statuses(ensemble)).map((s) => s.lastAppliedZxid)).size === 1, 'same last applied zxid');
  const all = await statuses(ensemble);
  assert.equal(new Set(all.map((s) => s.digest)).size, 1, `digests ${all.map((s) => `${s.id}:${s.digest}`).join(' ')}`);
}

function refused(address: string): Promise<boolean> {
  const i = address.lastIndexOf(':');
  return new Promise((resolve) => {
    const socket = connect({ host: address.slice(0, i), port: Number(address.slice(i + 1)) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

/**
 * Writes `/prefix-i`, 8 at a time, and runs `during` once a quarter of them are
 * acknowledged (so writes are in flight when it strikes); returns the acknowledged paths.
 */
async function writesDuring(client: ZooKeeperClient, prefix: string, count: number, during: () => Promise<void>): Promise<string[]> {
  const acked: string[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const path = `${prefix}-${next++}`;
      try {
        await client.create(path, 'x');
        acked.push(path);
      } catch {
        // ConnectionLoss: outcome unknown, not acknowledged
      }
    }
  };
  const lanes = Array.from({ length: 8 }, lane);
  await until(() => acked.length >= count / 4, 'the first writes acknowledged');
  await during();
  await Promise.all(lanes);
  assert.ok(acked.length >= count / 4);
  return acked;
}

/** `leader()` through the view every kind of ensemble offers. */
function leaderId(view: EnsembleView): number | undefined {
  const leader: EnsembleMember | undefined = view.leader();
  return leader?.id;
}

test('three servers in three worker threads: one leader, replication across servers, in-place stop/restart, digests agree', async () => {
  const ensemble = await startEnsemble({ servers: 3, transport: 'worker', ...TOLERANT });
  const workers: Worker[] = ensemble.servers.map((s) => s.worker!);
  const clients: ZooKeeperClient[] = [];
  try {
    await ensemble.whenAllServing();
    const first = await statuses(ensemble);
    const threads = first.map((s) => s.threadId);
    assert.equal(new Set(threads).size, 3, 'three distinct threads');
    assert.ok(!threads.includes(threadId), 'no server in the main thread');
    assert.deepEqual(threads, ensemble.servers.map((s) => s.threadId));
    const leaders = first.filter((s) => s.role === 'leader');
    assert.equal(leaders.length, 1);
    const leader = ensemble.server(leaders[0]!.id);
    for (const s of first) assert.equal(s.leaderId, leader.id);
    assert.equal(leaderId(ensemble), leader.id);
    assert.deepEqual(ensemble.connectString.split(','), ensemble.servers.map((s) => s.clientAddress));
    assert.deepEqual(ensemble.serverIds, [1, 2, 3]);

    // A write through one follower is read on the other after sync.
    const [f1, f2] = ensemble.servers.filter((s) => s !== leader);
    const writer = createClient(f1!.clientAddress, FAST_RECONNECT);
    const reader = createClient(f2!.clientAddress, FAST_RECONNECT);
    clients.push(writer, reader);
    await writer.create('/shared', 'v1');
    await writer.setData('/shared', 'v2');
    await reader.sync('/shared');
    assert.equal((await reader.getData('/shared')).data?.toString(), 'v2');

    // Stop the leader in place (memory storage: the worker stays) while writes are in flight.
    const leaderThread = leader.threadId;
    const acked = await writesDuring(writer, '/during', 80, () => leader.stop());
    assert.equal(leader.state, 'STOPPED');
    assert.equal(leader.threadId, leaderThread, 'the worker itself keeps running');
    const next = await ensemble.whenServing();
    assert.notEqual(next.id, leader.id);
    await writer.create('/after-failover', 'x');
    await reader.sync('/');
    for (const path of [...acked, '/after-failover']) assert.ok(await reader.exists(path), `${path} survived`);

    // Restart in place: same thread, same client address, it rejoins and catches up.
    await leader.restart();
    assert.equal(leader.threadId, leaderThread);
    await ensemble.whenAllServing();
    assert.equal(ensemble.leader()?.id, next.id);
    await until(() => leader.traces.some((t) => t.type === 'sync' && t.side === 'learner' && t.peer === next.id), 'the worker reports how it synced');
    assert.ok(next.epoch > first[0]!.epoch, 'the new leader runs a new epoch');
    await digestsAgree(ensemble);
    const rejoined = createClient(leader.clientAddress, FAST_RECONNECT);
    clients.push(rejoined);
    await rejoined.sync('/');
    for (const path of [...acked, '/after-failover', '/shared']) assert.ok(await rejoined.exists(path), `${path} on the restarted server`);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await ensemble.close();
  }
  assert.ok(workers.every((w) => w.threadId === -1), 'every worker exited');
  assert.ok(ensemble.servers.every((s) => s.worker === undefined && s.state === 'STOPPED'));
});

test('file storage: killing the leader ends its worker, a new worker reopens its data dir, and a full restart recovers everything', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'zoostate-workers-'));
  const spawned: Worker[] = [];
  let ensemble: WorkerEnsemble | undefined;
  const clients: ZooKeeperClient[] = [];
  try {
    ensemble = await startEnsemble({ servers: 3, transport: 'worker', dataDir: dir, ...TOLERANT });
    spawned.push(...ensemble.servers.map((s) => s.worker!));
    const client = ensemble.client(FAST_RECONNECT);
    clients.push(client);
    await client.create('/durable', 'kept');

    const leader = await ensemble.whenServing();
    const oldWorker = leader.worker!;
    const address = leader.clientAddress;
    const acked = await writesDuring(client, '/kill', 80, () => leader.stop());
    assert.equal(leader.worker, undefined);
    assert.equal(oldWorker.threadId, -1, 'the leader worker exited');
    assert.ok(await refused(address), 'its client port went with it');
    const next = await ensemble.whenServing();
    assert.notEqual(next.id, leader.id);
    await client.create('/after-kill', 'x');
    await client.sync('/');
    for (const path of acked) assert.ok(await client.exists(path), `${path} survived the kill`);

    await leader.restart();
    spawned.push(leader.worker!);
    assert.notEqual(leader.worker, oldWorker, 'a new worker');
    assert.equal(leader.clientAddress, address, 'on the same client address');
    await ensemble.whenAllServing();
    await digestsAgree(ensemble);
    const conf = await fourLetterWord(portOf(address), 'conf');
    for (const s of ensemble.servers) assert.ok(conf.includes(`;${s.clientAddress}`), `the respawned server's conf lists ${s.clientAddress}`);

    await client.close();
    clients.length = 0;
    await ensemble.close();
    ensemble = await startEnsemble({ servers: 3, transport: 'worker', dataDir: dir, ...TOLERANT });
    spawned.push(...ensemble.servers.map((s) => s.worker!));
    const again = ensemble.client(FAST_RECONNECT);
    clients.push(again);
    assert.equal((await again.getData('/durable')).data?.toString(), 'kept');
    for (const path of [...acked, '/after-kill']) assert.ok(await again.exists(path), `${path} recovered from disk`);
    await ensemble.whenAllServing();
    await digestsAgree(ensemble);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await ensemble?.close();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(spawned.length, 7);
  assert.ok(spawned.every((w) => w.threadId === -1), 'every worker exited');
});

/** A listener on a free port leaving room for two more after it. */
async function listenLowEnough(): Promise<Server> {
  for (;;) {
    const server = await new Promise<Server>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => resolve(s));
    });
    if ((server.address() as { port: number }).port <= 65_000) return server;
    await new Promise((r) => server.close(r));
  }
}

test('a worker that cannot start fails startEnsemble and takes the other workers down', async () => {
  const spawned: Worker[] = [];
  const original = WorkerHub.prototype.spawn;
  WorkerHub.prototype.spawn = function (this: WorkerHub, ...args: Parameters<WorkerHub['spawn']>) {
    const worker = original.apply(this, args);
    spawned.push(worker);
    return worker;
  };
  const blocker = await listenLowEnough();
  try {
    const port = (blocker.address() as { port: number }).port;
    await assert.rejects(startEnsemble({ servers: 3, transport: 'worker', port }), /server \d: .*EADDRINUSE/);
    assert.equal(spawned.length, 3);
    await until(() => spawned.every((w) => w.threadId === -1), 'every worker exited');
  } finally {
    WorkerHub.prototype.spawn = original;
    await new Promise((r) => blocker.close(r));
  }
  await assert.rejects(startEnsemble({ transport: 'worker', clock: systemClock } as never), /option 'clock' cannot cross into a worker thread/);
});

test('createEnsemble with the worker transport keeps the servers in this thread over MessagePorts; both kinds are EnsembleViews', async () => {
  const ensemble = createEnsemble({ servers: 3, transport: 'worker' });
  try {
    await until(() => ensemble.allServing(), 'serving');
    const follower = ensemble.servers.find((s) => s.role === 'follower')!;
    await follower.writeAsync(create('/here'), { sessionId: 1n, cxid: 1, authIds: [] });
    await until(() => ensemble.servers.every((s) => s.tree.exists('/here')), 'replicated');
    const members: readonly EnsembleMember[] = ensemble.servers;
    assert.equal(leaderId(ensemble), ensemble.leader()!.id);
    assert.equal(new Set(await Promise.all(members.map((m) => m.digest()))).size, 1);
    assert.ok(members.every((m) => m.clientAddress === undefined));
  } finally {
    await ensemble.close();
  }
});
