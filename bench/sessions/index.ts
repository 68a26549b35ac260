/**
 * Session-layer benchmark: an in-process 3-server ensemble (memory storage).
 *
 * - sessions created/s: handshakes straight into the servers' `ClientService`s (raw
 *   connections, 1024 in flight, spread over the three servers): each is a createSession
 *   transaction through ZAB, answered after the local apply. Reported with the ratio to
 *   the ensemble's plain write rate measured in the same run (setData, 1024 outstanding,
 *   round robin through the same three servers), since a session costs one write;
 * - the same through zoostate's client over the in-process channel (client machine,
 *   channel, handshake);
 * - heap per idle session: server side only (raw connections), and server + in-process
 *   client;
 * - time to deliver one data change to 1,000 and 10,000 watching in-process clients
 *   (setData issued → every client's watcher ran), wall time;
 * - ping traffic per 1,000 idle sessions at the peer level: messages/s and bytes/s
 *   (peer codec) between the servers with 1,000 idle clients on the followers, minus the
 *   same ensemble without sessions; a VirtualClock run of 60 s, so the figures are exact.
 */
import { performance } from 'node:perf_hooks';
import type { ZooKeeperClient } from '../../src/client/client.js';
import { OpCode, Perms } from '../../src/protocol/constants.js';
import { ZooKeeperError } from '../../src/protocol/errors.js';
import { encodePeerBatch } from '../../src/protocol/peer-codec.js';
import type { PeerMessage, ServerId } from '../../src/protocol/peer.js';
import type { ACL, ConnectResponse } from '../../src/protocol/records.js';
import { seededRandom } from '../../src/runtime/random.js';
import type { ConnectionSink } from '../../src/server/connection.js';
import { createEnsemble, startEnsemble, type Ensemble } from '../../src/server/ensemble.js';
import { VirtualClock } from '../../src/sim/virtual-clock.js';
import { InProcessEndpoint } from '../../src/transport/inproc.js';
import { heapUsedAfterGc, quick, report, type Metric } from '../report.js';

const OPEN: ACL[] = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];
const SESSIONS = quick ? 3_000 : 30_000;
const CLIENTS = quick ? 500 : 3_000;
const WATCHERS = quick ? [1_000] : [1_000, 10_000];
const IN_FLIGHT = 1024;
const PASSWD = new Uint8Array(16);

function connectRequest(timeOut: number) {
  return { protocolVersion: 0, lastZxidSeen: 0, timeOut, sessionId: 0n, passwd: PASSWD, readOnly: false };
}

/** Open `count` sessions through raw connections (round robin over the servers), `IN_FLIGHT` at a time. */
function openRawSessions(ensemble: Ensemble, count: number): Promise<{ seconds: number; sinks: ConnectionSink[] }> {
  return new Promise((resolve) => {
    const ids = ensemble.serverIds;
    const sinks: ConnectionSink[] = [];
    let started = 0;
    let answered = 0;
    const start = performance.now();
    const next = (): void => {
      if (started >= count) return;
      const i = started++;
      const sink: ConnectionSink = {
        connectResponse: (response: ConnectResponse) => {
          if (response.timeOut <= 0) throw new Error('session refused');
          answered++;
          if (answered === count) resolve({ seconds: (performance.now() - start) / 1000, sinks });
          else next();
        },
        reply: () => {},
        notification: () => {},
        close: (reason) => {
          if (answered < count) throw new Error(`connection closed: ${reason}`);
        },
      };
      sinks.push(sink);
      ensemble.clientService(ids[i % ids.length]!)!.accept(sink, { remoteAddress: '127.0.0.1', remotePort: i }).connect(connectRequest(30_000));
    };
    for (let i = 0; i < IN_FLIGHT; i++) next();
  });
}

/**
 * Committed setData/s with `IN_FLIGHT` outstanding, issued round robin through the three
 * servers like the handshakes (two thirds are forwarded by followers): the baseline.
 */
async function writeRate(ensemble: Ensemble, count: number): Promise<number> {
  const servers = ensemble.servers;
  await servers[0]!.writeAsync({ type: OpCode.create, path: '/w', data: null, acl: OPEN, flags: 0 }, { sessionId: 1n, cxid: 0, authIds: [] });
  for (const s of servers) await s.syncAsync('/w', { sessionId: 1n, cxid: 0, authIds: [] });
  return new Promise((resolve) => {
    let issued = 0;
    let done = 0;
    const start = performance.now();
    const issue = (): void => {
      if (issued >= count) return;
      const cxid = ++issued;
      const server = servers[cxid % servers.length]!;
      // One direct session per server keeps each server's per-session FIFO short.
      server.write({ type: OpCode.setData, path: '/w', data: PASSWD, version: -1 }, { sessionId: BigInt(10 + (cxid % servers.length)), cxid, authIds: [] }, (r) => {
        if (r instanceof ZooKeeperError) throw r;
        if (++done === count) resolve(count / ((performance.now() - start) / 1000));
        else issue();
      });
    };
    for (let i = 0; i < IN_FLIGHT; i++) issue();
  });
}

/** startEnsemble resolves once the leader serves; the benchmarks need every server. */
async function allServing(ensemble: Ensemble): Promise<Ensemble> {
  while (!ensemble.allServing()) await new Promise((resolve) => setTimeout(resolve, 5));
  return ensemble;
}

async function connectClients(ensemble: Ensemble, count: number): Promise<{ clients: ZooKeeperClient[]; seconds: number }> {
  const start = performance.now();
  const clients: ZooKeeperClient[] = [];
  const batch = 256;
  for (let i = 0; i < count; i += batch) {
    const group = Array.from({ length: Math.min(batch, count - i) }, () => ensemble.client({ sessionTimeout: 30_000 }));
    await Promise.all(group.map((c) => c.waitUntilConnected()));
    clients.push(...group);
  }
  return { clients, seconds: (performance.now() - start) / 1000 };
}

async function closeClients(clients: ZooKeeperClient[]): Promise<void> {
  for (let i = 0; i < clients.length; i += 512) await Promise.all(clients.slice(i, i + 512).map((c) => c.close()));
}

/** setData on a node `count` clients watch → every watcher ran, ms. */
async function deliveryTime(ensemble: Ensemble, clients: ZooKeeperClient[], writer: ZooKeeperClient, round: number): Promise<number> {
  const path = `/hot${round}`;
  await writer.create(path, 'a');
  let fired = 0;
  let resolveAll: () => void = () => {};
  const all = new Promise<void>((resolve) => (resolveAll = resolve));
  const watcher = (): void => {
    if (++fired === clients.length) resolveAll();
  };
  for (let i = 0; i < clients.length; i += 1024) {
    await Promise.all(clients.slice(i, i + 1024).map((c) => c.sync(path).then(() => c.getData(path, { watch: watcher }))));
  }
  const start = performance.now();
  await writer.setData(path, 'b');
  await all;
  return performance.now() - start;
}

/** Peer messages and bytes per second over 60 s of virtual time with `sessions` idle clients on the followers. */
async function peerTraffic(sessions: number): Promise<{ messages: number; bytes: number; pings: number }> {
  const clock = new VirtualClock(1_000_000);
  const ensemble = createEnsemble({ servers: 3, clock, random: seededRandom(7) });
  clock.runUntil(() => ensemble.allServing());
  const leader = ensemble.leader()!;
  const followers = ensemble.serverIds.filter((id) => id !== leader.id);
  const clients: ZooKeeperClient[] = [];
  for (let i = 0; i < sessions; i++) {
    clients.push(ensemble.client({ sessionTimeout: 10_000, connectString: `inproc:${followers[i % followers.length]}` }));
  }
  for (let i = 0; i < 200 && clients.some((c) => c.state !== 'CONNECTED'); i++) {
    clock.advance(10);
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (clients.some((c) => c.state !== 'CONNECTED')) throw new Error('clients did not connect');
  clock.advance(11_000); // past the connection burst: steady idle state
  const counts = { messages: 0, bytes: 0, pings: 0 };
  const original = InProcessEndpoint.prototype.send;
  InProcessEndpoint.prototype.send = function (this: InProcessEndpoint, to: ServerId, messages: readonly PeerMessage[]): void {
    counts.messages += messages.length;
    counts.bytes += encodePeerBatch(messages).length;
    for (const m of messages) if (m.type === 'ping') counts.pings++;
    original.call(this, to, messages);
  };
  const seconds = 60;
  try {
    for (let s = 0; s < seconds; s++) {
      clock.advance(1000);
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    InProcessEndpoint.prototype.send = original;
  }
  if (clients.some((c) => c.state !== 'CONNECTED')) throw new Error('an idle client lost its connection');
  for (const c of clients) void c.close();
  clock.advance(5000);
  const closing = ensemble.close();
  clock.advance(1000);
  await closing;
  return { messages: counts.messages / seconds, bytes: counts.bytes / seconds, pings: counts.pings / seconds };
}

async function main(): Promise<void> {
  const metrics: Metric[] = [];

  // Sessions created/s (raw) and heap per idle session, server side.
  {
    const ensemble = await allServing(await startEnsemble({ servers: 3, random: seededRandom(1) }));
    const baseline = await writeRate(ensemble, quick ? 20_000 : 100_000);
    await openRawSessions(ensemble, 1000); // warm up
    const before = heapUsedAfterGc();
    const { seconds, sinks } = await openRawSessions(ensemble, SESSIONS);
    const after = heapUsedAfterGc();
    const rate = SESSIONS / seconds;
    metrics.push({ metric: 'sessions.created_per_s', value: Math.round(rate), unit: 'sessions/s', note: `raw handshakes, ${IN_FLIGHT} in flight` });
    metrics.push({ metric: 'sessions.created_vs_writes', value: rate / baseline, unit: 'ratio', note: `vs ${Math.round(baseline).toLocaleString('en-US')} setData/s through the same servers, this run` });
    metrics.push({ metric: 'sessions.heap_per_idle_session_server', value: Math.round((after - before) / SESSIONS), unit: 'bytes', note: `${SESSIONS.toLocaleString('en-US')} sessions, 3 servers` });
    if (sinks.length !== SESSIONS) throw new Error('lost sinks');
    await ensemble.close();
  }

  // Through the client over the in-process channel; heap per idle client session.
  {
    const ensemble = await allServing(await startEnsemble({ servers: 3, random: seededRandom(2) }));
    await closeClients((await connectClients(ensemble, 200)).clients); // warm up
    const before = heapUsedAfterGc();
    const { clients, seconds } = await connectClients(ensemble, CLIENTS);
    const after = heapUsedAfterGc();
    metrics.push({ metric: 'sessions.client_sessions_per_s', value: Math.round(CLIENTS / seconds), unit: 'sessions/s', note: 'zoostate client, in-process channel' });
    metrics.push({ metric: 'sessions.heap_per_idle_client_session', value: Math.round((after - before) / CLIENTS), unit: 'bytes', note: 'client + server sides' });
    await closeClients(clients);
    await ensemble.close();
  }

  // Delivering one change to many watching sessions.
  {
    const ensemble = await allServing(await startEnsemble({ servers: 3, random: seededRandom(3) }));
    const writer = ensemble.client({ sessionTimeout: 30_000 });
    await writer.waitUntilConnected();
    for (const [round, count] of WATCHERS.entries()) {
      const { clients } = await connectClients(ensemble, count);
      const ms = await deliveryTime(ensemble, clients, writer, round);
      metrics.push({ metric: `sessions.notify_${count}_ms`, value: ms, unit: 'ms', note: `one setData → ${count.toLocaleString('en-US')} watchers ran` });
      await closeClients(clients);
    }
    await writer.close();
    await ensemble.close();
  }

  // Ping traffic of idle sessions between the servers.
  {
    const idle = await peerTraffic(0);
    const busy = await peerTraffic(1000);
    metrics.push({ metric: 'sessions.peer_msgs_per_s_idle_1000', value: busy.messages - idle.messages, unit: 'msgs/s', note: `${busy.messages.toFixed(0)} with 1,000 sessions, ${idle.messages.toFixed(0)} without` });
    metrics.push({ metric: 'sessions.peer_bytes_per_s_idle_1000', value: Math.round(busy.bytes - idle.bytes), unit: 'bytes/s', note: `${Math.round(busy.bytes).toLocaleString('en-US')} with, ${Math.round(idle.bytes).toLocaleString('en-US')} without` });
  }

  report('sessions', metrics);
}

await main();
