import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, type ClientOptions } from '../../../src/client/client.js';
import type { ConnectionState, WatchEvent } from '../../../src/client/types.js';
import { AbortError } from '../../../src/client/errors.js';
import { AddWatchMode, EventType, OpCode, Xid } from '../../../src/protocol/constants.js';
import { AuthFailedError, ConnectionLossError, ErrorCode, SessionExpiredError } from '../../../src/protocol/errors.js';
import type { SetWatchesRequest, Stat } from '../../../src/protocol/records.js';
import { seededRandom } from '../../../src/runtime/random.js';
import { VirtualClock } from '../../../src/sim/virtual-clock.js';
import { ScriptedServer, settle } from './scripted-channel.js';

const STAT: Stat = {
  czxid: 1,
  mzxid: 1,
  ctime: 0,
  mtime: 0,
  version: 0,
  cversion: 0,
  aversion: 0,
  ephemeralOwner: 0n,
  dataLength: 0,
  numChildren: 0,
  pzxid: 1,
};

function setup(options: Partial<ClientOptions> & { connectString?: string } = {}) {
  const clock = new VirtualClock(0);
  const server = new ScriptedServer(clock);
  const { connectString = 'h1:1,h2:2,h3:3', ...rest } = options;
  const client = createClient(connectString, {
    clock,
    random: seededRandom(1),
    channelFactory: server.factory,
    sessionTimeout: 3000,
    reconnectDelay: 0,
    spinDelay: 1000,
    ...rest,
  });
  const states: ConnectionState[] = [];
  client.on('state', (s) => states.push(s));
  return { clock, server, client, states };
}

async function connected(options: Partial<ClientOptions> & { connectString?: string } = {}, timeOut = 3000) {
  const env = setup(options);
  await settle(env.clock);
  env.server.last.accept({ timeOut });
  await settle(env.clock);
  assert.equal(env.client.state, 'CONNECTED');
  return env;
}

/** Settle the promise with the virtual clock and return its outcome. */
async function outcome<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown; settled: boolean }> {
  const result: { value?: T; error?: unknown; settled: boolean } = { settled: false };
  promise.then(
    (value) => Object.assign(result, { value, settled: true }),
    (error: unknown) => Object.assign(result, { error, settled: true }),
  );
  await new Promise<void>((resolve) => setImmediate(resolve));
  return result;
}

test('the first handshake sends a fresh ConnectRequest and reports CONNECTED', async () => {
  const { clock, server, client, states } = setup({ sessionTimeout: 5000 });
  assert.equal(client.state, 'CONNECTING');
  await settle(clock);
  assert.equal(server.connections.length, 1);
  assert.deepEqual(server.last.connectRequest, {
    protocolVersion: 0,
    lastZxidSeen: 0,
    timeOut: 5000,
    sessionId: 0n,
    passwd: new Uint8Array(16),
    readOnly: false,
  });
  server.last.accept({ timeOut: 4000, sessionId: 0xabcn });
  await settle(clock);
  assert.deepEqual(states, ['CONNECTED']);
  assert.equal(client.state, 'CONNECTED');
  assert.equal(client.sessionId, 0xabcn);
  assert.equal(client.negotiatedTimeout, 4000);
  assert.equal(client.currentServer, `${server.last.address.host}:${server.last.address.port}`);
  await client.waitUntilConnected();
});

test('pings when nothing was sent for readTimeout/2, i.e. every timeout/3', async () => {
  const { clock, server, client } = await connected({}, 3000);
  const conn = server.last;
  clock.advance(999);
  assert.equal(conn.pings, 0);
  clock.advance(1);
  assert.equal(conn.pings, 1, 'first ping at 1000 ms (3000 × 2/3 / 2)');
  assert.deepEqual(conn.sent.at(-1), { xid: Xid.ping, request: { type: OpCode.ping } });
  clock.advance(500);
  void client.exists('/x').catch(() => {}); // a request counts as traffic: the next ping moves
  clock.advance(999);
  assert.equal(conn.pings, 1);
  clock.advance(1);
  assert.equal(conn.pings, 2);
  clock.advance(10_000);
  assert.equal(conn.pings, 12, 'steady pings while the server answers');
  assert.equal(client.state, 'CONNECTED');
});

test('nothing received for readTimeout drops the connection and reconnects elsewhere', async () => {
  const { clock, server, client, states } = await connected({}, 3000);
  const first = server.last;
  first.autoPong = false;
  clock.advance(1999);
  assert.equal(client.state, 'CONNECTED');
  assert.equal(first.pings, 1);
  clock.advance(1);
  assert.equal(first.closedByClient, true, 'dropped at readTimeout = 2000 ms');
  assert.equal(client.state, 'DISCONNECTED');
  assert.deepEqual(states, ['CONNECTED', 'SUSPENDED']);
  await settle(clock);
  assert.equal(server.connections.length, 2);
  assert.notDeepEqual(server.last.address, first.address, 'the next host of the shuffled list');
});

test('reconnects with the same session id and password and the last zxid of a regular reply', async () => {
  const { clock, server, client, states } = await connected({ sessionTimeout: 5000 }, 3000);
  const first = server.last;
  first.zxid = 0x99; // pings are answered with a higher zxid: they must not count
  const read = client.exists('/a');
  await settle(clock);
  first.replyTo(first.requests[0]!, { zxid: 0x42, response: { stat: STAT } });
  clock.advance(1000); // a ping round trip with zxid 0x99
  first.notify(EventType.NodeCreated, '/zzz');
  await settle(clock);
  assert.deepEqual(await read, STAT);
  assert.equal(client.lastZxidSeen, 0x42);
  first.drop();
  await settle(clock);
  const second = server.last;
  assert.notEqual(second, first);
  assert.deepEqual(second.connectRequest, {
    protocolVersion: 0,
    lastZxidSeen: 0x42,
    timeOut: 5000,
    sessionId: 0x1234n,
    passwd: new Uint8Array(16).fill(7),
    readOnly: false,
  });
  second.accept({ timeOut: 3000 });
  await settle(clock);
  assert.deepEqual(states, ['CONNECTED', 'SUSPENDED', 'RECONNECTED']);
  assert.equal(client.sessionId, 0x1234n);
});

test('requests in flight fail with ConnectionLoss when the connection drops', async () => {
  const { clock, server, client } = await connected();
  const a = outcome(client.getData('/a'));
  const b = outcome(client.setData('/b', 'x'));
  await settle(clock);
  server.last.drop();
  await settle(clock);
  for (const [result, path] of [
    [await a, '/a'],
    [await b, '/b'],
  ] as const) {
    assert.ok(result.error instanceof ConnectionLossError);
    assert.equal(result.error.code, ErrorCode.ConnectionLoss);
    assert.equal(result.error.path, path);
  }
});

test('after a reconnect: auth, then SetWatches with every watch and lastZxidSeen, then queued requests', async () => {
  const { clock, server, client } = await connected();
  const first = server.last;
  const events: WatchEvent[] = [];
  const watcher = (e: WatchEvent) => events.push(e);
  const auth = client.addAuth('digest', 'u:p');
  const data = client.getData('/d', { watch: watcher });
  const exist = client.exists('/e', { watch: watcher });
  const child = client.getChildren('/c', { watch: watcher });
  const persistent = client.addWatch('/p', AddWatchMode.PERSISTENT, watcher);
  const recursive = client.addWatch('/r', AddWatchMode.PERSISTENT_RECURSIVE, watcher);
  await settle(clock);
  const [sentAuth, ...rest] = first.sent;
  assert.deepEqual(sentAuth, { xid: Xid.auth, request: { type: OpCode.auth, authType: 0, scheme: 'digest', auth: Buffer.from('u:p') } });
  first.reply(Xid.auth, { zxid: 0 });
  first.replyTo(rest[0]!, { zxid: 5, response: { data: Buffer.from('d'), stat: STAT } });
  first.replyTo(rest[1]!, { zxid: 6, err: ErrorCode.NoNode });
  first.replyTo(rest[2]!, { zxid: 7, response: { children: [] } });
  first.replyTo(rest[3]!, { zxid: 8, response: { err: 0 } });
  first.replyTo(rest[4]!, { zxid: 9, response: { err: 0 } });
  await settle(clock);
  await Promise.all([auth, data, exist, child, persistent, recursive]);
  first.drop();
  await settle(clock);
  const queued = client.getData('/q');
  await settle(clock);
  const second = server.last;
  assert.equal(second.sent.length, 0, 'nothing is written before the handshake completes');
  second.accept();
  await settle(clock);
  const sent = second.requests;
  assert.deepEqual(sent.map((s) => s.request.type), [OpCode.auth, OpCode.setWatches2, OpCode.getData]);
  assert.equal(sent[0]!.xid, Xid.auth);
  assert.ok(sent[1]!.xid > 0 && sent[2]!.xid === sent[1]!.xid + 1, 'SetWatches takes a normal xid, before the queued request');
  const setWatches = sent[1]!.request as SetWatchesRequest;
  assert.deepEqual(setWatches, {
    type: OpCode.setWatches2,
    relativeZxid: 9,
    dataWatches: ['/d'],
    existWatches: ['/e'],
    childWatches: ['/c'],
    persistentWatches: ['/p'],
    persistentRecursiveWatches: ['/r'],
  });
  // Catch-up events come before the SetWatches reply; the watch fires once.
  second.notify(EventType.NodeDataChanged, '/d');
  second.replyTo(sent[1]!, { zxid: 10 });
  second.replyTo(sent[2]!, { zxid: 10, response: { data: null, stat: STAT } });
  await settle(clock);
  assert.deepEqual(await queued, { data: null, stat: STAT });
  assert.deepEqual(events, [{ type: 'NodeDataChanged', state: 'SyncConnected', path: '/d' }]);
});

test('SetWatches uses opcode 101 without persistent watches and splits at 128 KiB of paths', async () => {
  const { clock, server, client } = await connected();
  const first = server.last;
  const long = `/${'x'.repeat(1000)}`;
  const paths = Array.from({ length: 300 }, (_, i) => `${long}${i}`);
  const reads = paths.map((p) => client.exists(p, { watch: () => {} }));
  await settle(clock);
  for (const s of first.requests) first.replyTo(s, { zxid: 3, err: ErrorCode.NoNode });
  await settle(clock);
  await Promise.all(reads);
  first.drop();
  await settle(clock);
  server.last.accept();
  await settle(clock);
  const batches = server.last.requests.map((s) => s.request as SetWatchesRequest);
  assert.ok(batches.every((b) => b.type === OpCode.setWatches));
  assert.equal(batches.length, 3);
  assert.deepEqual(batches.flatMap((b) => b.existWatches), paths);
  for (const b of batches.slice(0, -1)) {
    const chars = b.existWatches.reduce((n, p) => n + p.length, 0);
    assert.ok(chars >= 128 * 1024 && chars - b.existWatches.at(-1)!.length < 128 * 1024, 'each batch stops at the first path past the limit');
  }
});

test('a handshake answered with timeOut 0 means EXPIRED: requests fail, watchers are told, LOST then EXPIRED', async () => {
  const { clock, server, client, states } = await connected();
  const events: WatchEvent[] = [];
  const read = client.getData('/w', { watch: (e) => events.push(e) });
  await settle(clock);
  server.last.replyTo(server.last.requests[0]!, { zxid: 2, response: { data: null, stat: STAT } });
  await settle(clock);
  await read;
  server.last.drop();
  await settle(clock);
  const queued = outcome(client.exists('/q'));
  server.last.expire();
  await settle(clock);
  assert.equal(client.state, 'EXPIRED');
  assert.deepEqual(states, ['CONNECTED', 'SUSPENDED', 'LOST', 'EXPIRED']);
  const q = await queued;
  assert.ok(q.error instanceof SessionExpiredError && q.error.path === '/q');
  assert.deepEqual(events, [{ type: 'None', state: 'Expired', path: '/w' }]);
  await assert.rejects(client.getData('/x'), SessionExpiredError);
  assert.equal(server.last.closedByClient, true);
  assert.equal(client.session.machine.getSnapshot().status, 'done');
});

test('a session timeout without a connection raises LOST and fails queued requests; a later reconnect recovers', async () => {
  const { clock, server, client, states } = await connected({ spinDelay: 100 });
  server.last.drop();
  await settle(clock);
  const queued = outcome(client.getData('/q'));
  clock.advance(2999);
  await settle(clock);
  assert.equal((await queued).settled, false, 'queued requests wait for the reconnect');
  clock.advance(1);
  await settle(clock);
  assert.deepEqual(states, ['CONNECTED', 'SUSPENDED', 'LOST']);
  const q = await queued;
  assert.ok(q.error instanceof ConnectionLossError);
  await assert.rejects(client.exists('/now'), ConnectionLossError, 'fail fast while LOST');
  // Handshakes kept timing out (1000 ms each); the next one succeeds with the same session.
  server.last.accept();
  await settle(clock);
  assert.deepEqual(states, ['CONNECTED', 'SUSPENDED', 'LOST', 'RECONNECTED']);
  const ok = client.exists('/again');
  await settle(clock);
  server.last.replyTo(server.last.requests[0]!, { zxid: 1, response: { stat: STAT } });
  await settle(clock);
  assert.deepEqual(await ok, STAT);
});

test('an unanswered handshake times out after timeout / number of hosts and the next host is tried', async () => {
  const { clock, server } = setup({ sessionTimeout: 3000 });
  await settle(clock);
  assert.equal(server.connections.length, 1);
  clock.advance(999);
  assert.equal(server.connections.length, 1);
  clock.advance(1);
  await settle(clock);
  assert.equal(server.connections[0]!.closedByClient, true);
  assert.equal(server.connections.length, 2);
  assert.notDeepEqual(server.connections[1]!.address, server.connections[0]!.address);
});

test('after every host failed once the client backs off by spinDelay', async () => {
  const { clock, server } = setup({ connectString: 'h1:1,h2:2', spinDelay: 700 });
  server.onConnection = (c) => c.drop(new Error('ECONNREFUSED'));
  await settle(clock);
  assert.equal(server.connections.length, 2, 'both hosts tried at once');
  clock.advance(699);
  await settle(clock);
  assert.equal(server.connections.length, 2);
  clock.advance(1);
  await settle(clock);
  assert.equal(server.connections.length, 4, 'then a new cycle after the back-off');
  assert.deepEqual(server.connections[2]!.address, server.connections[0]!.address);
});

test('reconnect attempts wait a random delay below reconnectDelay, drawn from the injected random', async () => {
  const times = [];
  for (let run = 0; run < 2; run++) {
    const { clock, server } = await connected({ reconnectDelay: 1000, random: seededRandom(42) });
    const opened: number[] = [];
    server.onConnection = () => opened.push(clock.now());
    const dropAt = clock.now();
    server.last.drop();
    await settle(clock);
    clock.advance(1000);
    assert.equal(opened.length, 1);
    times.push(opened[0]! - dropAt);
  }
  assert.equal(times[0], times[1], 'same seed, same delay');
  assert.ok(times[0]! >= 0 && times[0]! < 1000);
});

test('abort: a queued request is never sent; an in-flight one rejects and its reply is dropped cleanly', async () => {
  const { clock, server, client } = await connected();
  const conn = server.last;
  const controller = new AbortController();
  const aborted = outcome(client.getData('/slow', { signal: controller.signal }));
  const next = client.getData('/next');
  await settle(clock);
  controller.abort();
  const a = await aborted;
  assert.ok(a.error instanceof AbortError && a.error.name === 'AbortError');
  const [slow, after] = conn.requests;
  conn.replyTo(slow!, { zxid: 2, response: { data: Buffer.from('late'), stat: STAT } });
  conn.replyTo(after!, { zxid: 3, response: { data: Buffer.from('next'), stat: STAT } });
  await settle(clock);
  assert.equal((await next).data!.toString(), 'next');
  assert.equal(client.lastZxidSeen, 3);
  assert.equal(client.state, 'CONNECTED');

  conn.drop();
  await settle(clock);
  const c2 = new AbortController();
  const queued = outcome(client.exists('/q', { signal: c2.signal }));
  c2.abort(new Error('user gave up'));
  const q = await queued;
  assert.ok(q.error instanceof AbortError && (q.error.cause as Error).message === 'user gave up');
  server.last.accept();
  await settle(clock);
  assert.deepEqual(server.last.requests, [], 'the aborted request was not sent');
  await assert.rejects(client.exists('/x', { signal: AbortSignal.abort() }), AbortError);
});

test('close sends closeSession after the queued requests and ends CLOSED', async () => {
  const { clock, server, client, states } = await connected();
  const conn = server.last;
  const events: WatchEvent[] = [];
  const before = client.exists('/a', { watch: (e) => events.push(e) });
  const closing = client.close();
  await assert.rejects(client.exists('/late'), SessionExpiredError);
  await settle(clock);
  assert.deepEqual(conn.requests.map((s) => s.request.type), [OpCode.exists, OpCode.closeSession]);
  assert.equal(client.state, 'CLOSING');
  conn.replyTo(conn.requests[0]!, { zxid: 4, err: ErrorCode.NoNode });
  conn.replyTo(conn.requests[1]!, { zxid: 5 });
  await settle(clock);
  assert.equal(await before, null);
  await closing;
  assert.equal(client.state, 'CLOSED');
  assert.deepEqual(states, ['CONNECTED', 'CLOSED']);
  assert.deepEqual(events, [{ type: 'None', state: 'Closed', path: '/a' }]);
  assert.equal(conn.closedByClient, true);
  await client.close();
});

test('close gives up waiting for the closeSession reply after readTimeout', async () => {
  const { clock, client } = await connected();
  const closing = outcome(client.close());
  clock.advance(2000);
  await settle(clock);
  assert.equal((await closing).settled, true);
  assert.equal(client.state, 'CLOSED');
});

test('a reply out of order drops the connection', async () => {
  const { clock, server, client, states } = await connected();
  const a = outcome(client.exists('/a'));
  const b = outcome(client.exists('/b'));
  await settle(clock);
  server.last.replyTo(server.last.requests[1]!, { zxid: 3, response: { stat: STAT } });
  await settle(clock);
  assert.ok((await a).error instanceof ConnectionLossError);
  assert.ok((await b).error instanceof ConnectionLossError);
  assert.deepEqual(states, ['CONNECTED', 'SUSPENDED']);
});

test('a rejected auth packet ends the session with AUTH_FAILED', async () => {
  const { clock, server, client, states } = await connected();
  const auth = outcome(client.addAuth('bogus', 'x'));
  await settle(clock);
  server.last.reply(Xid.auth, { zxid: 0, err: ErrorCode.AuthFailed });
  await settle(clock);
  assert.ok((await auth).error instanceof AuthFailedError);
  assert.equal(client.state, 'AUTH_FAILED');
  assert.deepEqual(states, ['CONNECTED', 'AUTH_FAILED']);
  await assert.rejects(client.exists('/x'), AuthFailedError);
});

test('notifications: chroot stripped, one-shot watchers fire once', async () => {
  const { clock, server, client } = await connected({ connectString: 'h1:1/app' });
  const conn = server.last;
  const events: WatchEvent[] = [];
  const read = client.getData('/x', { watch: (e) => events.push(e) });
  await settle(clock);
  assert.deepEqual(conn.requests[0]!.request, { type: OpCode.getData, path: '/app/x', watch: true });
  conn.replyTo(conn.requests[0]!, { zxid: 2, response: { data: null, stat: STAT } });
  await settle(clock);
  await read;
  conn.notify(EventType.NodeDataChanged, '/app/x');
  conn.notify(EventType.NodeDataChanged, '/app/x');
  await settle(clock);
  assert.deepEqual(events, [{ type: 'NodeDataChanged', state: 'SyncConnected', path: '/x' }]);
  const created = client.create('/y/s-', 'v', { mode: 2 });
  await settle(clock);
  conn.replyTo(conn.requests[1]!, { zxid: 3, response: { path: '/app/y/s-0000000001' } });
  await settle(clock);
  assert.equal(await created, '/y/s-0000000001');
});

test('a watcher that throws is reported through the error event and others still fire', async () => {
  const { clock, server, client } = await connected();
  const errors: unknown[] = [];
  client.on('error', (e) => errors.push(e));
  let fired = 0;
  const reads = [
    client.exists('/a', {
      watch: () => {
        throw new Error('boom');
      },
    }),
    client.exists('/a', { watch: () => fired++ }),
  ];
  await settle(clock);
  for (const s of server.last.requests) server.last.replyTo(s, { zxid: 2, err: ErrorCode.NoNode });
  await settle(clock);
  await Promise.all(reads);
  server.last.notify(EventType.NodeCreated, '/a');
  await settle(clock);
  assert.equal(fired, 1);
  assert.equal((errors[0] as Error).message, 'boom');
});

test('the session machine can be inspected and is driven by the injected clock', async () => {
  const inspected: string[] = [];
  const { clock, server } = setup({
    inspect: (e) => {
      if (e.type === '@xstate.snapshot') {
        const value = (e.snapshot as { value?: unknown }).value;
        inspected.push(JSON.stringify(value));
      }
    },
  });
  await settle(clock);
  server.last.accept();
  await settle(clock);
  assert.ok(inspected.includes('{"connecting":"handshaking"}'));
  assert.ok(inspected.includes('{"connected":"alive"}'));
});

test('listeners run after the transition: state matches the event, and they may call the client', async () => {
  const { clock, server, client } = setup();
  const seen: string[] = [];
  client.on('state', (s) => seen.push(`${s}:${client.state}`));
  client.on('CONNECTED', () => void client.close());
  client.on('EXPIRED', () => seen.push('never'));
  await settle(clock);
  server.last.accept();
  await settle(clock);
  assert.deepEqual(server.last.requests.map((s) => s.request.type), [OpCode.closeSession]);
  server.last.replyTo(server.last.requests[0]!);
  await settle(clock);
  assert.deepEqual(seen, ['CONNECTED:CONNECTED', 'CLOSED:CLOSED']);
});

test('a watcher sees the session end after the state changed', async () => {
  const { clock, server, client } = await connected();
  let stateInWatcher = '';
  const read = client.exists('/x', { watch: () => (stateInWatcher = client.state) });
  await settle(clock);
  server.last.replyTo(server.last.requests[0]!, { zxid: 2, err: ErrorCode.NoNode });
  await settle(clock);
  await read;
  server.last.drop();
  await settle(clock);
  server.last.expire();
  await settle(clock);
  assert.equal(stateInWatcher, 'EXPIRED');
});

test('read-only servers: READ_ONLY, and a session only ever seen read-only is not carried to the next server', async () => {
  const { clock, server, client, states } = setup({ canBeReadOnly: true });
  await settle(clock);
  assert.equal(server.last.connectRequest!.readOnly, true);
  server.last.accept({ readOnly: true, sessionId: 0x77n });
  await settle(clock);
  assert.deepEqual(states, ['READ_ONLY']);
  assert.equal(client.readOnly, true);
  server.last.drop();
  await settle(clock);
  assert.equal(server.last.connectRequest!.sessionId, 0n, "Java's seenRwServerBefore rule");
  server.last.accept({ readOnly: false, sessionId: 0x88n });
  await settle(clock);
  assert.equal(client.sessionId, 0x88n);
  assert.equal(client.readOnly, false);
  server.last.drop();
  await settle(clock);
  assert.equal(server.last.connectRequest!.sessionId, 0x88n);
});

test('an existing session can be resumed with its id and password', async () => {
  const passwd = new Uint8Array(16).fill(3);
  const { clock, server, client } = setup({ sessionId: 0x5n, sessionPassword: passwd });
  await settle(clock);
  assert.equal(server.last.connectRequest!.sessionId, 0x5n);
  assert.deepEqual(server.last.connectRequest!.passwd, passwd);
  server.last.accept({ sessionId: 0x5n, passwd });
  await settle(clock);
  assert.equal(client.sessionId, 0x5n);
  assert.deepEqual(client.sessionPassword, passwd);
});
