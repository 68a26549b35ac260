/**
 * The handshake (§4.2, §4.3) and the answers on closed, closing, expired and moved
 * sessions (§9.5), spoken to a server's `ClientService` directly through a recording
 * sink (the records a front-end would encode).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateMode, OpCode, Perms } from '../../../src/protocol/constants.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import type { ClientRequest, ConnectResponse } from '../../../src/protocol/records.js';
import type { Ensemble } from '../../../src/server/ensemble.js';
import { sessionPassword } from '../../../src/server/session-password.js';
import type { ServerConnection } from '../../../src/server/connection.js';
import type { VirtualClock } from '../../../src/sim/virtual-clock.js';
import { connectRequest, pass, recordingSink, serving, waitFor, type Received } from './helpers.js';

const OPEN = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A raw connection to server `id`. */
function open(ensemble: Ensemble, id: number) {
  const sink = recordingSink();
  const connection: ServerConnection = ensemble.clientService(id)!.accept(sink, { remoteAddress: '10.0.0.7', remotePort: 4000 + id });
  return { sink, connection };
}

/** Handshake a new session on server `id`; returns the connection and its ConnectResponse. */
async function session(ensemble: Ensemble, clock: VirtualClock, id: number, timeOut = 6000) {
  const raw = open(ensemble, id);
  raw.connection.connect(connectRequest({ timeOut }));
  await waitFor(clock, () => raw.sink.received.length > 0, 5000, 'ConnectResponse');
  const first = raw.sink.received[0]!;
  assert.equal(first.kind, 'connect');
  return { ...raw, response: (first as { response: ConnectResponse }).response };
}

function replies(received: Received[]): Extract<Received, { kind: 'reply' }>[] {
  return received.filter((r): r is Extract<Received, { kind: 'reply' }> => r.kind === 'reply');
}

async function ask(clock: VirtualClock, raw: { sink: ReturnType<typeof recordingSink>; connection: ServerConnection }, xid: number, request: ClientRequest) {
  const before = replies(raw.sink.received).length;
  raw.connection.request(xid, request);
  await waitFor(clock, () => replies(raw.sink.received).length > before || raw.sink.closed, 5000, `reply to xid ${xid}`);
  return replies(raw.sink.received).at(-1);
}

test('a new session: ConnectResponse only once the createSession txn is applied here; readOnly byte echoed iff sent', async () => {
  const { ensemble, clock } = await serving();
  const follower = ensemble.servers.find((s) => s.role === 'follower')!;
  const raw = open(ensemble, follower.id);
  raw.connection.connect(connectRequest({ timeOut: 6000, readOnly: undefined }));
  assert.deepEqual(raw.sink.received, [], 'nothing before the txn is applied');
  let appliedAt = -1;
  follower.on('applied', (txn) => {
    if (txn.body.kind === 'createSession') appliedAt = raw.sink.received.length;
  });
  await waitFor(clock, () => raw.sink.received.length > 0, 5000);
  assert.equal(appliedAt, 0, 'the txn was applied before the response');
  const response = (raw.sink.received[0] as { response: ConnectResponse }).response;
  assert.equal(response.timeOut, 6000);
  assert.equal(response.readOnly, undefined, 'no trailing byte for a client that sent none');
  assert.ok(follower.tree.sessions.has(response.sessionId));
  assert.deepEqual([...response.passwd], [...sessionPassword(response.sessionId)]);
  const withByte = await session(ensemble, clock, follower.id);
  assert.equal(withByte.response.readOnly, false);
  assert.equal(raw.connection.sessionId, response.sessionId);
});

test('not serving → closed without reply; lastZxidSeen ahead of the server → closed without reply', async () => {
  const { ensemble, clock } = await serving();
  const follower = ensemble.servers.find((s) => s.role === 'follower')!;
  const ahead = open(ensemble, follower.id);
  ahead.connection.connect(connectRequest({ lastZxidSeen: follower.lastAppliedZxid + 1 }));
  assert.deepEqual(ahead.sink.received.map((r) => r.kind), ['close']);
  const atPar = await session(ensemble, clock, follower.id);
  assert.ok(atPar.response.timeOut > 0);
  follower.stop();
  assert.ok(atPar.sink.closed, 'a server that stops closes its connections');
  const refused = open(ensemble, follower.id);
  refused.connection.connect(connectRequest());
  assert.deepEqual(refused.sink.received.map((r) => r.kind), ['close']);
});

test('reconnect: wrong password and expired sessions get the invalid response then close; the other connection of the session is closed', async () => {
  const { ensemble, clock } = await serving();
  const [s1, s2, s3] = ensemble.servers;
  const first = await session(ensemble, clock, s2!.id, 4000);
  const { sessionId, passwd } = first.response;
  // The same session on the same server: the old connection is closed (no message).
  const again = open(ensemble, s2!.id);
  again.connection.connect(connectRequest({ sessionId, passwd, timeOut: 4000 }));
  assert.ok(first.sink.closed);
  await waitFor(clock, () => again.sink.received.length > 0, 5000);
  assert.equal((again.sink.received[0] as { response: ConnectResponse }).response.sessionId, sessionId);
  // Wrong password: {0, 0, 0, 16 zero bytes}, then close.
  const wrong = open(ensemble, s3!.id);
  const bad = passwd.slice();
  bad[0]! ^= 1;
  wrong.connection.connect(connectRequest({ sessionId, passwd: bad }));
  await waitFor(clock, () => wrong.sink.closed, 5000);
  const invalid = (wrong.sink.received[0] as { response: ConnectResponse }).response;
  assert.deepEqual(invalid, { protocolVersion: 0, timeOut: 0, sessionId: 0n, passwd: new Uint8Array(16), readOnly: false });
  assert.deepEqual(wrong.sink.received.map((r) => r.kind), ['connect', 'close']);
  // Let it expire (its connection went silent), then reconnect through a follower: REVALIDATE says no.
  again.connection.closed();
  await pass(clock, 4000 + 3 * s1!.timing.tickTime);
  assert.ok(!s1!.tree.sessions.has(sessionId));
  // Through a follower, so the answer comes from the leader's REVALIDATE reply.
  const viaFollower = ensemble.servers.find((s) => s.role === 'follower')!;
  const late = open(ensemble, viaFollower.id);
  late.connection.connect(connectRequest({ sessionId, passwd }));
  await waitFor(clock, () => late.sink.closed, 5000);
  assert.deepEqual(late.sink.received.map((r) => r.kind), ['connect', 'close']);
  assert.equal((late.sink.received[0] as { response: ConnectResponse }).response.timeOut, 0);
});

test('a session that moved: a write arriving on the old server closes that connection without a reply', async () => {
  const { ensemble, clock } = await serving();
  const followers = ensemble.servers.filter((s) => s.role === 'follower');
  const a = await session(ensemble, clock, followers[0]!.id);
  const { sessionId, passwd } = a.response;
  await ask(clock, a, 1, { type: OpCode.create, path: '/owned', data: bytes('x'), acl: OPEN, flags: 0 }); // owner: server A
  // The client reconnects through server B (as if A's connection were cut silently).
  const b = open(ensemble, followers[1]!.id);
  b.connection.connect(connectRequest({ sessionId, passwd, lastZxidSeen: 0 }));
  await waitFor(clock, () => b.sink.received.length > 0, 5000);
  assert.ok((b.sink.received[0] as { response: ConnectResponse }).response.timeOut > 0);
  const before = a.sink.received.length;
  a.connection.request(2, { type: OpCode.setData, path: '/owned', data: bytes('stale'), version: -1 });
  await waitFor(clock, () => a.sink.closed, 5000, 'old connection closed');
  assert.deepEqual(a.sink.received.slice(before).map((r) => r.kind), ['close'], 'no reply, just the close');
  assert.equal(new TextDecoder().decode(ensemble.leader()!.tree.getData('/owned')!.data!), 'x');
  // The new owner writes fine.
  const reply = await ask(clock, b, 1, { type: OpCode.setData, path: '/owned', data: bytes('new'), version: -1 });
  assert.equal(reply!.header.err, 0);
});

test('a closing session: writes through a follower answer SessionExpired; requests on the leader are dropped', async () => {
  const { ensemble, clock } = await serving();
  const leader = ensemble.leader()!;
  const follower = ensemble.servers.find((s) => s.role === 'follower')!;
  const viaFollower = await session(ensemble, clock, follower.id);
  const viaLeader = await session(ensemble, clock, leader.id);
  const leaderSessions = ensemble.clientService(leader.id)!.sessions;
  leaderSessions.setClosing(viaFollower.response.sessionId);
  leaderSessions.setClosing(viaLeader.response.sessionId);
  const reply = await ask(clock, viaFollower, 1, { type: OpCode.create, path: '/x', data: null, acl: OPEN, flags: 0 });
  assert.equal(reply!.header.err, ErrorCode.SessionExpired);
  assert.ok(reply!.header.zxid > 0, 'a failed write consumes a zxid');
  const multi = await ask(clock, viaFollower, 2, {
    type: OpCode.multi,
    ops: [
      { type: OpCode.create, path: '/y', data: null, acl: OPEN, flags: 0 },
      { type: OpCode.delete, path: '/y', version: -1 },
    ],
  });
  assert.equal(multi!.header.err, 0);
  assert.deepEqual((multi!.response as { results: unknown[] }).results, [
    { type: -1, err: ErrorCode.SessionExpired },
    { type: -1, err: ErrorCode.RuntimeInconsistency },
  ]);
  const dropped = ensemble.clientService(leader.id)!.stats.dropped;
  viaLeader.connection.request(1, { type: OpCode.getData, path: '/', watch: false });
  viaLeader.connection.request(-2, { type: OpCode.ping });
  await pass(clock, 500);
  assert.deepEqual(replies(viaLeader.sink.received), [], 'dropped without a reply');
  assert.equal(ensemble.clientService(leader.id)!.stats.dropped, dropped + 2);
});

test('closeSession: the NodeDeleted of its own ephemerals, then the reply, then the close; nothing more is read', async () => {
  const { ensemble, clock } = await serving();
  const follower = ensemble.servers.find((s) => s.role === 'follower')!;
  const raw = await session(ensemble, clock, follower.id);
  await ask(clock, raw, 1, { type: OpCode.create, path: '/mine', data: null, acl: OPEN, flags: CreateMode.EPHEMERAL });
  await ask(clock, raw, 2, { type: OpCode.exists, path: '/mine', watch: true });
  raw.connection.request(3, { type: OpCode.closeSession });
  raw.connection.request(4, { type: OpCode.getData, path: '/', watch: false });
  await waitFor(clock, () => raw.sink.closed, 5000);
  const tail = raw.sink.received.slice(-3);
  assert.deepEqual(tail.map((r) => r.kind), ['notification', 'reply', 'close']);
  assert.deepEqual((tail[0] as { event: unknown }).event, { type: 2, state: 3, path: '/mine' });
  assert.equal((tail[1] as { header: { xid: number; err: number } }).header.xid, 3);
  assert.ok(!follower.tree.exists('/mine'));
  assert.ok(!replies(raw.sink.received).some((r) => r.header.xid === 4));
});

test('requests pipelined before the ConnectResponse wait for it and keep their order', async () => {
  const { ensemble, clock } = await serving();
  const follower = ensemble.servers.find((s) => s.role === 'follower')!;
  const raw = open(ensemble, follower.id);
  raw.connection.connect(connectRequest());
  raw.connection.request(1, { type: OpCode.create, path: '/early', data: bytes('1'), acl: OPEN, flags: 0 });
  raw.connection.request(2, { type: OpCode.getData, path: '/early', watch: false });
  assert.equal(raw.connection.outstanding, 2);
  await waitFor(clock, () => replies(raw.sink.received).length === 2, 5000);
  assert.deepEqual(raw.sink.received.map((r) => r.kind), ['connect', 'reply', 'reply']);
  const [create, read] = replies(raw.sink.received);
  assert.deepEqual(create!.response, { path: '/early' });
  assert.equal(new TextDecoder().decode((read!.response as { data: Uint8Array }).data), '1');
  assert.equal(raw.connection.outstanding, 0);
});

test('control requests: ping, unknown opcodes, top-level check, reconfig, sasl, addWatch, auth', async () => {
  const { ensemble, clock } = await serving({ session: { superDigest: 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=' } });
  const follower = ensemble.servers.find((s) => s.role === 'follower')!;
  const raw = await session(ensemble, clock, follower.id);
  const ping = await ask(clock, raw, 77, { type: OpCode.ping });
  assert.deepEqual(ping!.header, { xid: -2, zxid: follower.lastAppliedZxid, err: 0 });
  const reconfig = await ask(clock, raw, 5, { type: OpCode.reconfig, joiningServers: null, leavingServers: null, newMembers: null, curConfigId: -1n });
  assert.equal(reconfig!.header.err, ErrorCode.ReconfigDisabled);
  const sasl = await ask(clock, raw, 6, { type: OpCode.sasl, token: new Uint8Array(0) });
  assert.deepEqual([sasl!.header, sasl!.response], [{ xid: 6, zxid: 0, err: 0 }, { token: null }]);
  const addWatch = await ask(clock, raw, 7, { type: OpCode.addWatch, path: '/nowhere', mode: 1 });
  assert.deepEqual(addWatch!.response, { err: 0 });
  const removed = await ask(clock, raw, 8, { type: OpCode.removeWatches, path: '/nowhere', watcherType: 3 });
  assert.equal(removed!.header.err, 0);
  const none = await ask(clock, raw, 9, { type: OpCode.checkWatches, path: '/nowhere', watcherType: 3 });
  assert.equal(none!.header.err, ErrorCode.NoWatcher);
  const auth = await ask(clock, raw, -4, { type: OpCode.auth, authType: 0, scheme: 'digest', auth: bytes('super:test') });
  assert.deepEqual(auth!.header, { xid: -4, zxid: 0, err: 0 });
  const who = await ask(clock, raw, 10, { type: OpCode.whoAmI });
  assert.deepEqual((who!.response as { clientInfo: unknown[] }).clientInfo, [
    { authScheme: 'ip', user: '10.0.0.7' },
    { authScheme: 'super', user: '' },
    { authScheme: 'digest', user: 'super' },
  ]);
  const marshalling = raw.connection;
  marshalling.invalid(11, 4, ErrorCode.MarshallingError);
  await waitFor(clock, () => replies(raw.sink.received).some((r) => r.header.xid === 11), 5000);
  assert.equal(replies(raw.sink.received).at(-1)!.header.err, ErrorCode.MarshallingError);
  assert.equal(raw.sink.closed, false, 'a marshalling error keeps the connection');
  const check = await ask(clock, raw, 12, { type: OpCode.check, path: '/', version: -1 });
  assert.deepEqual(check!.header, { xid: 12, zxid: -1, err: ErrorCode.Unimplemented });
  assert.ok(raw.sink.closed, 'check outside multi: Unimplemented, then close');
  const other = await session(ensemble, clock, follower.id);
  const badAuth = await ask(clock, other, -4, { type: OpCode.auth, authType: 0, scheme: 'kerberos', auth: bytes('x') });
  assert.deepEqual(badAuth!.header, { xid: -4, zxid: 0, err: ErrorCode.AuthFailed });
  assert.ok(other.sink.closed);
});

test('a closeSession applied on a server closes the session\'s connection there without a message', async () => {
  const { ensemble, clock } = await serving();
  const follower = ensemble.servers.find((s) => s.role === 'follower')!;
  const raw = await session(ensemble, clock, follower.id);
  const leader = ensemble.leader()!;
  // What the leader's expiry does: a closeSession with no connection attached.
  leader.write({ type: OpCode.closeSession }, { sessionId: raw.response.sessionId, cxid: 0, authIds: [] }, () => {});
  await waitFor(clock, () => raw.sink.closed, 5000);
  assert.deepEqual(raw.sink.received.map((r) => r.kind), ['connect', 'close']);
  assert.match((raw.sink.received[1] as { reason: string }).reason, /expired/);
});

test('a connection silent for its session timeout is closed, while its session lives on elsewhere', async () => {
  const { ensemble, clock } = await serving();
  const [a, b] = ensemble.servers.filter((s) => s.role === 'follower');
  const first = await session(ensemble, clock, a!.id, 2000);
  const { sessionId, passwd } = first.response;
  const second = open(ensemble, b!.id);
  second.connection.connect(connectRequest({ sessionId, passwd, timeOut: 2000 }));
  await waitFor(clock, () => second.sink.received.length > 0, 5000);
  for (let i = 0; i < 8; i++) {
    second.connection.request(-2, { type: OpCode.ping });
    await pass(clock, 500);
  }
  assert.ok(first.sink.closed, 'the silent connection was closed');
  assert.match((first.sink.received.at(-1) as { reason: string }).reason, /idle/);
  assert.equal(second.sink.closed, false);
  assert.ok(ensemble.leader()!.tree.sessions.has(sessionId), 'the session lives');
});
