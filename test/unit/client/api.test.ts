import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, type ClientOptions } from '../../../src/client/client.js';
import type { WatchEvent } from '../../../src/client/types.js';
import { AbortError } from '../../../src/client/errors.js';
import { isMultiError } from '../../../src/client/multi.js';
import { findProtectedChild, protectedPath, randomUuid } from '../../../src/client/protected.js';
import { AddWatchMode, CreateMode, EventType, OpCode, WatcherType } from '../../../src/protocol/constants.js';
import { BadArgumentsError, BadVersionError, ErrorCode, NoWatcherError, SessionExpiredError } from '../../../src/protocol/errors.js';
import type { CreateRequest, MultiRequest, Stat } from '../../../src/protocol/records.js';
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

/** Mark a promise as handled now (it is asserted on later). */
function later<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

async function connected(options: Partial<ClientOptions> & { connectString?: string } = {}) {
  const clock = new VirtualClock(0);
  const server = new ScriptedServer(clock);
  const { connectString = 'h1:1', ...rest } = options;
  const client = createClient(connectString, {
    clock,
    random: seededRandom(3),
    channelFactory: server.factory,
    sessionTimeout: 3000,
    reconnectDelay: 0,
    spinDelay: 0,
    ...rest,
  });
  await settle(clock);
  server.last.accept();
  await settle(clock);
  return { clock, server, client, conn: () => server.last };
}

test('create picks the opcode by mode and stat, and strips the chroot from the result', async () => {
  const { clock, conn, client } = await connected({ connectString: 'h1:1/root' });
  const plain = client.create('/a', 'x');
  const withStat = client.create('/b', undefined, { stat: true });
  const container = client.create('/c', null, { mode: CreateMode.CONTAINER });
  const ttl = client.create('/t', new Uint8Array([1]), { mode: CreateMode.PERSISTENT_WITH_TTL, ttl: 500, stat: true });
  await settle(clock);
  const sent = conn().requests.map((s) => s.request as CreateRequest);
  assert.deepEqual(
    sent.map((r) => [r.type, r.path, r.flags, r.ttl]),
    [
      [OpCode.create, '/root/a', 0, undefined],
      [OpCode.create2, '/root/b', 0, undefined],
      [OpCode.createContainer, '/root/c', 4, undefined],
      [OpCode.createTTL, '/root/t', 5, 500],
    ],
  );
  assert.deepEqual(sent[0]!.data, Buffer.from('x'));
  assert.deepEqual(sent[1]!.data, new Uint8Array(0), 'omitted data is empty, not null');
  assert.equal(sent[2]!.data, null);
  assert.deepEqual(sent[0]!.acl, [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }]);
  const [a, b, c, t] = conn().requests;
  conn().replyTo(a!, { zxid: 2, response: { path: '/root/a' } });
  conn().replyTo(b!, { zxid: 3, response: { path: '/root/b', stat: STAT } });
  conn().replyTo(c!, { zxid: 4, response: { path: '/root/c', stat: STAT } });
  conn().replyTo(t!, { zxid: 5, response: { path: '/root/t', stat: STAT } });
  await settle(clock);
  assert.equal(await plain, '/a');
  assert.deepEqual(await withStat, { path: '/b', stat: STAT });
  assert.equal(await container, '/c');
  assert.deepEqual(await ttl, { path: '/t', stat: STAT });
});

test('errors carry code and client path; bad paths fail before sending', async () => {
  const { clock, conn, client } = await connected({ connectString: 'h1:1/root' });
  const set = later(client.setData('/a', 'x', { version: 3 }));
  await settle(clock);
  assert.deepEqual(conn().requests[0]!.request, { type: OpCode.setData, path: '/root/a', data: Buffer.from('x'), version: 3 });
  conn().replyTo(conn().requests[0]!, { zxid: 2, err: ErrorCode.BadVersion });
  await settle(clock);
  await assert.rejects(set, (e: unknown) => e instanceof BadVersionError && e.code === -103 && e.path === '/a');
  await assert.rejects(client.getData('no-slash'), (e: unknown) => e instanceof BadArgumentsError && e.path === 'no-slash');
  await assert.rejects(client.create('/a/'), BadArgumentsError);
  const seq = client.create('/q/', null, { mode: CreateMode.PERSISTENT_SEQUENTIAL });
  await settle(clock);
  assert.equal((conn().requests.at(-1)!.request as CreateRequest).path, '/root/q/', 'a sequential path may end with /');
  conn().replyTo(conn().requests.at(-1)!, { zxid: 3, response: { path: '/root/q/0000000000' } });
  await settle(clock);
  assert.equal(await seq, '/q/0000000000');
});

test('multi and the transaction builder send ops in order; a failure rejects with per-op results', async () => {
  const { clock, conn, client } = await connected();
  const ok = client
    .transaction()
    .create('/a', 'x', { mode: CreateMode.EPHEMERAL })
    .setData('/a', 'y', 0)
    .check('/a', 1)
    .delete('/b')
    .commit();
  await settle(clock);
  const request = conn().requests[0]!.request as MultiRequest;
  assert.equal(request.type, OpCode.multi);
  assert.deepEqual(
    request.ops.map((op) => [op.type, op.path, 'version' in op ? op.version : undefined]),
    [
      [OpCode.create, '/a', undefined],
      [OpCode.setData, '/a', 0],
      [OpCode.check, '/a', 1],
      [OpCode.delete, '/b', -1],
    ],
  );
  conn().replyTo(conn().requests[0]!, {
    zxid: 2,
    response: {
      results: [
        { type: OpCode.create, path: '/a' },
        { type: OpCode.setData, stat: STAT },
        { type: OpCode.check },
        { type: OpCode.delete },
      ],
    },
  });
  await settle(clock);
  assert.deepEqual(await ok, [{ type: 'create', path: '/a' }, { type: 'setData', stat: STAT }, { type: 'check' }, { type: 'delete' }]);

  const bad = later(
    client.multi([
      { type: 'create', path: '/c' },
      { type: 'check', path: '/d', version: 7 },
      { type: 'delete', path: '/e' },
    ]),
  );
  await settle(clock);
  conn().replyTo(conn().requests[1]!, {
    zxid: 3,
    response: {
      results: [
        { type: OpCode.error, err: 0 },
        { type: OpCode.error, err: ErrorCode.BadVersion },
        { type: OpCode.error, err: ErrorCode.RuntimeInconsistency },
      ],
    },
  });
  await settle(clock);
  await assert.rejects(bad, (e: unknown) => {
    assert.ok(isMultiError(e));
    assert.ok(e instanceof BadVersionError);
    assert.equal(e.path, '/d');
    assert.equal(e.failedIndex, 1);
    assert.deepEqual(e.results, [
      { type: 'error', code: 0 },
      { type: 'error', code: -103 },
      { type: 'error', code: -2 },
    ]);
    return true;
  });
  assert.ok(!isMultiError(new Error('x')));
});

test('a watch event is delivered before the reply of the write that caused it resolves', async () => {
  const { clock, conn, client } = await connected();
  const order: string[] = [];
  const read = client.exists('/n', { watch: (e) => order.push(`watch ${e.type}`) });
  await settle(clock);
  conn().replyTo(conn().requests[0]!, { zxid: 2, err: ErrorCode.NoNode });
  await settle(clock);
  assert.equal(await read, null);
  const write = client.create('/n').then(() => order.push('create resolved'));
  await settle(clock);
  conn().notify(EventType.NodeCreated, '/n');
  conn().replyTo(conn().requests[1]!, { zxid: 3, response: { path: '/n' } });
  await settle(clock);
  await write;
  assert.deepEqual(order, ['watch NodeCreated', 'create resolved']);
});

test('removeWatches: local events, opcode 18 for all watchers or the last one, 17 when others share the path', async () => {
  const { clock, conn, client } = await connected();
  const events: string[] = [];
  const w1 = (e: WatchEvent) => events.push(`w1 ${e.type} ${e.path}`);
  const w2 = (e: WatchEvent) => events.push(`w2 ${e.type} ${e.path}`);
  const reads = [client.getData('/x', { watch: w1 }), client.getChildren('/x', { watch: w2 })];
  await settle(clock);
  conn().replyTo(conn().requests[0]!, { zxid: 2, response: { data: null, stat: STAT } });
  conn().replyTo(conn().requests[1]!, { zxid: 2, response: { children: [] } });
  await settle(clock);
  await Promise.all(reads);

  await assert.rejects(client.removeWatches('/nothing', WatcherType.Any), NoWatcherError);
  const one = client.removeWatches('/x', WatcherType.Data, { watcher: w1 });
  await settle(clock);
  assert.deepEqual(conn().requests[2]!.request, { type: OpCode.checkWatches, path: '/x', watcherType: WatcherType.Data });
  conn().replyTo(conn().requests[2]!, { zxid: 2 });
  await settle(clock);
  await one;
  const all = client.removeWatches('/x', WatcherType.Children);
  await settle(clock);
  assert.deepEqual(conn().requests[3]!.request, { type: OpCode.removeWatches, path: '/x', watcherType: WatcherType.Children });
  conn().replyTo(conn().requests[3]!, { zxid: 2 });
  await settle(clock);
  await all;
  assert.deepEqual(events, ['w1 DataWatchRemoved /x', 'w2 ChildWatchRemoved /x']);
  assert.ok(client.session.watches.isEmpty);

  // local: removed even though the server says there is no such watch.
  const read = client.exists('/y', { watch: w1 });
  await settle(clock);
  conn().replyTo(conn().requests[4]!, { zxid: 2, err: ErrorCode.NoNode });
  await settle(clock);
  await read;
  const local = client.removeWatches('/y', WatcherType.Any, { local: true });
  await settle(clock);
  conn().replyTo(conn().requests[5]!, { zxid: 2, err: ErrorCode.NoWatcher });
  await settle(clock);
  await local;
  assert.deepEqual(events.at(-1), 'w1 DataWatchRemoved /y');
});

test('watch(): an async iterator over a persistent-recursive watch, removed when the loop ends', async () => {
  const { clock, conn, client } = await connected();
  const stream = client.watch('/w', { recursive: true });
  await settle(clock);
  assert.deepEqual(conn().requests[0]!.request, { type: OpCode.addWatch, path: '/w', mode: AddWatchMode.PERSISTENT_RECURSIVE });
  conn().replyTo(conn().requests[0]!, { zxid: 2, response: { err: 0 } });
  await settle(clock);
  await stream.ready;
  conn().notify(EventType.NodeCreated, '/w/a');
  conn().notify(EventType.NodeDataChanged, '/w/a/b');
  conn().notify(EventType.NodeChildrenChanged, '/w'); // never for recursive watches
  conn().notify(EventType.NodeDeleted, '/w');
  await settle(clock);
  const seen: string[] = [];
  for await (const event of stream) {
    seen.push(`${event.type} ${event.path}`);
    if (seen.length === 3) break;
  }
  assert.deepEqual(seen, ['NodeCreated /w/a', 'NodeDataChanged /w/a/b', 'NodeDeleted /w']);
  await settle(clock);
  assert.deepEqual(conn().requests[1]!.request, { type: OpCode.removeWatches, path: '/w', watcherType: WatcherType.Any });
  conn().replyTo(conn().requests[1]!, { zxid: 2 });
  await settle(clock);
  assert.ok(client.session.watches.isEmpty);
});

test('watch(): ends with SessionExpiredError on expiry, AbortError on abort, normally on close', async () => {
  const { clock, server, conn, client } = await connected({ connectString: 'h1:1,h2:2' });
  const controller = new AbortController();
  const expiring = client.watch('/a');
  const aborted = client.watch('/b', { signal: controller.signal });
  await settle(clock);
  for (const s of conn().requests) conn().replyTo(s, { zxid: 2, response: { err: 0 } });
  await settle(clock);
  await Promise.all([expiring.ready, aborted.ready]);
  conn().notify(EventType.NodeDataChanged, '/a');
  await settle(clock);
  controller.abort();
  await assert.rejects(aborted.next(), AbortError);
  conn().drop();
  await settle(clock);
  server.last.expire();
  await settle(clock);
  assert.deepEqual(await expiring.next(), { value: { type: 'NodeDataChanged', state: 'SyncConnected', path: '/a' }, done: false }, 'buffered events first');
  await assert.rejects(expiring.next(), SessionExpiredError);

  const other = await connected();
  const closing = other.client.watch('/c');
  await settle(other.clock);
  other.conn().replyTo(other.conn().requests[0]!, { zxid: 2, response: { err: 0 } });
  await settle(other.clock);
  await closing.ready;
  void other.client.close();
  await settle(other.clock);
  other.conn().replyTo(other.conn().requests[1]!, { zxid: 3 });
  await settle(other.clock);
  assert.deepEqual(await closing.next(), { value: undefined, done: true });
});

test('protected names follow Curator and the uuid comes from the injected random', () => {
  const a = randomUuid(seededRandom(9));
  assert.equal(a, randomUuid(seededRandom(9)));
  assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(protectedPath('/locks/lock-', 'u'), '/locks/_c_u-lock-');
  assert.equal(protectedPath('/lock-', 'u'), '/_c_u-lock-');
  assert.equal(protectedPath('/q/', 'u'), '/q/_c_u-');
  assert.equal(findProtectedChild(['x', '_c_v-lock-1', '_c_u-lock-0000000002'], 'u'), '_c_u-lock-0000000002');
  assert.equal(findProtectedChild(['_c_uu-lock-1'], 'u'), undefined);
});

test('createProtectedSequential finds its node after a ConnectionLoss instead of creating a second one', async () => {
  const { clock, server, conn, client } = await connected({ connectString: 'h1:1,h2:2' });
  const created = client.createProtectedSequential('/locks/lock-', 'me');
  await settle(clock);
  const create = conn().requests[0]!.request as CreateRequest;
  assert.equal(create.flags, CreateMode.EPHEMERAL_SEQUENTIAL);
  const match = /^\/locks\/_c_([0-9a-f-]{36})-lock-$/.exec(create.path);
  assert.ok(match, create.path);
  conn().drop(); // the create's outcome is unknown
  await settle(clock);
  server.last.accept();
  await settle(clock);
  // A sync first (the lost create may still be in flight at the leader), then the listing.
  const sync = server.last.requests[0]!;
  assert.deepEqual(sync.request, { type: OpCode.sync, path: '/locks' });
  server.last.replyTo(sync, { zxid: 5, response: { path: '/locks' } });
  await settle(clock);
  const list = server.last.requests[1]!;
  assert.deepEqual(list.request, { type: OpCode.getChildren, path: '/locks', watch: false });
  server.last.replyTo(list, { zxid: 5, response: { children: ['other', `_c_${match[1]}-lock-0000000004`] } });
  await settle(clock);
  assert.equal(await created, `/locks/_c_${match[1]}-lock-0000000004`);
  assert.equal(server.last.requests.length, 2, 'no second create');
});

test('createProtectedSequential retries the create when the node is not there', async () => {
  const { clock, server, conn, client } = await connected({ connectString: 'h1:1,h2:2' });
  const created = client.createProtectedSequential('/q/', null, { mode: CreateMode.PERSISTENT_SEQUENTIAL });
  await settle(clock);
  const firstPath = (conn().requests[0]!.request as CreateRequest).path;
  conn().drop();
  await settle(clock);
  server.last.accept();
  await settle(clock);
  server.last.replyTo(server.last.requests[0]!, { zxid: 5, response: { path: '/q' } }); // the sync
  await settle(clock);
  server.last.replyTo(server.last.requests[1]!, { zxid: 5, response: { children: [] } });
  await settle(clock);
  const retry = server.last.requests[2]!;
  assert.equal((retry.request as CreateRequest).path, firstPath, 'the same protected name');
  server.last.replyTo(retry, { zxid: 6, response: { path: `${firstPath}0000000001` } });
  await settle(clock);
  assert.equal(await created, `${firstPath}0000000001`);
});

test('the remaining reads map their replies', async () => {
  const { clock, conn, client } = await connected({ connectString: 'h1:1/r' });
  const acl = client.getACL('/a');
  const setAcl = client.setACL('/a', [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }], { version: 2 });
  const eph = client.getEphemerals('/e');
  const count = client.getAllChildrenNumber('/');
  const sync = client.sync('/a');
  const who = client.whoAmI();
  const del = client.delete('/a', { version: 4 });
  await settle(clock);
  const sent = conn().requests.map((s) => s.request);
  assert.deepEqual(sent, [
    { type: OpCode.getACL, path: '/r/a' },
    { type: OpCode.setACL, path: '/r/a', acl: [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }], version: 2 },
    { type: OpCode.getEphemerals, prefixPath: '/r/e' },
    { type: OpCode.getAllChildrenNumber, path: '/r' },
    { type: OpCode.sync, path: '/r/a' },
    { type: OpCode.whoAmI },
    { type: OpCode.delete, path: '/r/a', version: 4 },
  ]);
  const [r0, r1, r2, r3, r4, r5, r6] = conn().requests;
  conn().replyTo(r0!, { response: { acl: [], stat: STAT } });
  conn().replyTo(r1!, { response: { stat: STAT } });
  conn().replyTo(r2!, { response: { ephemerals: ['/r/e1', '/r/e/2'] } });
  conn().replyTo(r3!, { response: { totalNumber: 7 } });
  conn().replyTo(r4!, { response: { path: '/r/a' } });
  conn().replyTo(r5!, { response: { clientInfo: [{ authScheme: 'ip', user: '127.0.0.1' }] } });
  conn().replyTo(r6!, {});
  await settle(clock);
  assert.deepEqual(await acl, { acl: [], stat: STAT });
  assert.deepEqual(await setAcl, STAT);
  assert.deepEqual(await eph, ['/e1', '/e/2']);
  assert.equal(await count, 7);
  assert.equal(await sync, undefined);
  assert.deepEqual(await who, [{ authScheme: 'ip', user: '127.0.0.1' }]);
  assert.equal(await del, undefined);
});
