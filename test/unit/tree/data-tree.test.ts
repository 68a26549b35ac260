import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONTAINER_EPHEMERAL_OWNER, EventType, OpCode, Perms } from '../../../src/protocol/constants.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import type { Stat } from '../../../src/protocol/records.js';
import { digestId } from '../../../src/tree/acl.js';
import { DataTree } from '../../../src/tree/data-tree.js';
import { ttlOwner } from '../../../src/tree/ephemeral.js';
import { Harness, OPEN, SESSION, bytes, createOp, errOf } from './harness.js';

const ZERO: Stat = {
  czxid: 0,
  mzxid: 0,
  ctime: 0,
  mtime: 0,
  version: 0,
  cversion: 0,
  aversion: 0,
  ephemeralOwner: 0n,
  dataLength: 0,
  numChildren: 0,
  pzxid: 0,
};

test('the initial tree matches ZooKeeper 3.8 (§10.1)', () => {
  const tree = new DataTree();
  assert.deepEqual(tree.stat('/'), { ...ZERO, cversion: -1, numChildren: 1 });
  assert.deepEqual(tree.stat('/zookeeper'), { ...ZERO, cversion: -2, numChildren: 2 });
  assert.deepEqual(tree.stat('/zookeeper/quota'), ZERO);
  assert.deepEqual(tree.stat('/zookeeper/config'), { ...ZERO, aversion: -1 });
  assert.deepEqual(tree.getACL('/')!.acl, OPEN);
  assert.deepEqual(tree.getACL('/zookeeper')!.acl, OPEN);
  assert.deepEqual(tree.getACL('/zookeeper/quota')!.acl, OPEN);
  assert.deepEqual(tree.getACL('/zookeeper/config')!.acl, [{ perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } }]);
  assert.deepEqual(tree.getData('/')!.data, new Uint8Array(0));
  assert.deepEqual(tree.getChildren('/'), ['zookeeper']);
  assert.deepEqual(tree.getChildren('/zookeeper')!.sort(), ['config', 'quota']);
  assert.equal(tree.nodeCount, 4);
  assert.equal(tree.lastProcessedZxid, 0);
  assert.equal(tree.getAllChildrenNumber('/'), 3);
  assert.equal(tree.digest(), new DataTree().digest());
  assert.match(tree.digest(), /^[0-9a-f]{16}$/);
});

test('create sets the node stat and bumps the parent (§10.5)', () => {
  const h = new Harness();
  const r = h.create('/a', bytes('hello'));
  assert.equal(r.zxid, 1);
  assert.equal(r.err, 0);
  const expected: Stat = { ...ZERO, czxid: 1, mzxid: 1, pzxid: 1, ctime: h.time, mtime: h.time, dataLength: 5 };
  assert.deepEqual(r.outcome, { kind: 'create', path: '/a', stat: expected });
  assert.deepEqual(h.tree.stat('/a'), expected);
  // Root: stored cversion 1, two children → reported 0; pzxid moves; mzxid/mtime/version do not.
  assert.deepEqual(h.tree.stat('/'), { ...ZERO, cversion: 0, numChildren: 2, pzxid: 1 });
  assert.equal(h.tree.lastProcessedZxid, 1);

  const t2 = h.time + 10;
  h.create('/a/b', null);
  assert.deepEqual(h.tree.stat('/a/b'), { ...ZERO, czxid: 2, mzxid: 2, pzxid: 2, ctime: t2, mtime: t2 });
  assert.deepEqual(h.tree.stat('/a'), { ...expected, cversion: 1, numChildren: 1, pzxid: 2 });
});

test('reported cversion = 2 × creates − numChildren: 3 creates + 1 delete → 4 (observed)', () => {
  const h = new Harness();
  h.create('/p');
  h.create('/p/a');
  h.create('/p/b');
  h.create('/p/c');
  h.delete('/p/b');
  const stat = h.tree.stat('/p')!;
  assert.equal(stat.cversion, 4);
  assert.equal(stat.numChildren, 2);
  assert.equal(stat.pzxid, 5); // the delete's zxid
  assert.equal(stat.mzxid, 1);
  assert.equal(stat.version, 0);
});

test('delete removes the node; parent pzxid, numChildren and reported cversion change', () => {
  const h = new Harness();
  h.create('/p');
  h.create('/p/a');
  const before = h.tree.stat('/p')!;
  const r = h.delete('/p/a');
  assert.deepEqual(r.outcome, { kind: 'delete' });
  assert.equal(h.tree.exists('/p/a'), false);
  assert.equal(h.tree.stat('/p/a'), undefined);
  assert.deepEqual(h.tree.stat('/p'), { ...before, pzxid: 3, numChildren: 0, cversion: before.cversion + 1 });
  assert.deepEqual(h.tree.getChildren('/p'), []);
});

test('setData: version+1, mzxid, mtime, dataLength; ctime/czxid/parent unchanged', () => {
  const h = new Harness();
  h.create('/a', bytes('12345'));
  const rootBefore = h.tree.stat('/');
  const r = h.setData('/a', bytes('xy'));
  const stat: Stat = { ...ZERO, czxid: 1, mzxid: 2, pzxid: 1, ctime: h.time - 10, mtime: h.time, version: 1, dataLength: 2 };
  assert.deepEqual(r.outcome, { kind: 'setData', stat });
  assert.deepEqual(h.tree.stat('/a'), stat);
  assert.deepEqual(h.tree.stat('/'), rootBefore);
  assert.deepEqual(h.tree.getData('/a')!.data, bytes('xy'));
});

test('setACL: aversion+1 only; mzxid, mtime and version unchanged', () => {
  const h = new Harness();
  h.create('/a');
  const before = h.tree.stat('/a')!;
  const acl = [{ perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } }];
  const r = h.setACL('/a', acl);
  assert.deepEqual(r.outcome, { kind: 'setACL', stat: { ...before, aversion: 1 } });
  assert.deepEqual(h.tree.getACL('/a'), { acl, stat: { ...before, aversion: 1 } });
  assert.deepEqual(r.events, []);
  assert.equal(h.tree.lastProcessedZxid, 2);
});

test('null data stays null and empty stays empty; both report dataLength 0', () => {
  const h = new Harness();
  h.create('/null', null);
  h.create('/empty', new Uint8Array(0));
  assert.equal(h.tree.getData('/null')!.data, null);
  assert.deepEqual(h.tree.getData('/empty')!.data, new Uint8Array(0));
  assert.equal(h.tree.stat('/null')!.dataLength, 0);
  assert.equal(h.tree.stat('/empty')!.dataLength, 0);
  h.setData('/empty', null);
  assert.equal(h.tree.getData('/empty')!.data, null);
  const roundTrip = DataTree.deserialize(h.tree.serialize());
  assert.equal(roundTrip.getData('/null')!.data, null);
  assert.equal(roundTrip.getData('/empty')!.data, null);
  // null and empty hash differently
  const a = new Harness();
  const b = new Harness();
  a.create('/x', null);
  b.create('/x', new Uint8Array(0));
  assert.notEqual(a.tree.digest(), b.tree.digest());
});

test('versions wrap as Java ints', () => {
  const h = new Harness();
  h.create('/a');
  const header = { sessionId: SESSION, cxid: 0, zxid: ++h.zxid, time: 5 };
  h.tree.apply({ header, body: { kind: 'setData', path: '/a', data: null, version: 2147483647 } });
  assert.equal(h.tree.stat('/a')!.version, 2147483647);
  const r = h.setData('/a', null, 2147483647);
  assert.equal(errOf(r), 0);
  assert.equal(h.tree.stat('/a')!.version, -2147483648);
});

test('reads never validate paths: a malformed path is just missing (§10.2)', () => {
  const tree = new DataTree();
  for (const path of ['abc', '', '/a/', '//', '/zookeeper/']) {
    assert.equal(tree.exists(path), false);
    assert.equal(tree.stat(path), undefined);
    assert.equal(tree.getData(path), undefined);
    assert.equal(tree.getChildren(path), undefined);
    assert.equal(tree.getACL(path), undefined);
    assert.equal(tree.getAllChildrenNumber(path), undefined);
    assert.equal(tree.checkAccess(path, Perms.READ, []), ErrorCode.NoNode);
    assert.equal(tree.canAccess(path, Perms.READ, []), false);
  }
});

test('getAllChildrenNumber counts all descendants; for / every node but the root', () => {
  const h = new Harness();
  h.create('/a');
  h.create('/a/b');
  h.create('/a/b/c');
  h.create('/a/d');
  h.create('/ab');
  assert.equal(h.tree.getAllChildrenNumber('/a'), 3);
  assert.equal(h.tree.getAllChildrenNumber('/a/b'), 1);
  assert.equal(h.tree.getAllChildrenNumber('/a/b/c'), 0);
  assert.equal(h.tree.getAllChildrenNumber('/'), 8);
  assert.equal(h.tree.getAllChildrenNumber('/zookeeper'), 2);
  assert.equal(h.tree.nodeCount, 9);
});

test('watch events come in ZooKeeper order for every op (§13.2)', () => {
  const h = new Harness();
  assert.deepEqual(h.create('/a').events, [
    { type: EventType.NodeCreated, path: '/a' },
    { type: EventType.NodeChildrenChanged, path: '/' },
  ]);
  assert.deepEqual(h.create('/a/b').events, [
    { type: EventType.NodeCreated, path: '/a/b' },
    { type: EventType.NodeChildrenChanged, path: '/a' },
  ]);
  assert.deepEqual(h.setData('/a/b', bytes('v')).events, [{ type: EventType.NodeDataChanged, path: '/a/b' }]);
  assert.deepEqual(h.setACL('/a/b', OPEN).events, []);
  assert.deepEqual(h.delete('/a/b').events, [
    { type: EventType.NodeDeleted, path: '/a/b' },
    { type: EventType.NodeChildrenChanged, path: '/a' },
  ]);
  assert.deepEqual(h.delete('/a/missing').events, []); // error txn
  assert.deepEqual(h.createSession(7n).events, []);
  const multi = h.multi([
    createOp('/m'),
    createOp('/m/x'),
    { type: OpCode.setData, path: '/a', data: null, version: -1 },
    { type: OpCode.check, path: '/a', version: -1 },
    { type: OpCode.delete, path: '/m/x', version: -1 },
  ]);
  assert.deepEqual(multi.events, [
    { type: EventType.NodeCreated, path: '/m' },
    { type: EventType.NodeChildrenChanged, path: '/' },
    { type: EventType.NodeCreated, path: '/m/x' },
    { type: EventType.NodeChildrenChanged, path: '/m' },
    { type: EventType.NodeDataChanged, path: '/a' },
    { type: EventType.NodeDeleted, path: '/m/x' },
    { type: EventType.NodeChildrenChanged, path: '/m' },
  ]);
  // A failed multi fires nothing.
  assert.deepEqual(h.multi([createOp('/n'), createOp('/m')]).events, []);
});

test('closeSession deletes every ephemeral in one txn, with delete events', () => {
  const h = new Harness();
  const s = 0x0200_0000_0000_0005n;
  h.createSession(s, 4000);
  assert.equal(h.tree.sessions.get(s), 4000);
  h.create('/p');
  h.create('/p/e1', null, 1, { session: s });
  h.create('/e2', null, 1, { session: s });
  h.create('/other', null, 1, { session: SESSION });
  assert.deepEqual([...h.tree.ephemeralsOf(s)].sort(), ['/e2', '/p/e1']);
  const r = h.closeSession(s);
  assert.deepEqual(r.txn.body, { kind: 'closeSession', paths: ['/e2', '/p/e1'] });
  assert.deepEqual(r.outcome, { kind: 'closeSession', deleted: ['/e2', '/p/e1'] });
  assert.deepEqual(r.events, [
    { type: EventType.NodeDeleted, path: '/e2' },
    { type: EventType.NodeChildrenChanged, path: '/' },
    { type: EventType.NodeDeleted, path: '/p/e1' },
    { type: EventType.NodeChildrenChanged, path: '/p' },
  ]);
  assert.equal(h.tree.exists('/p/e1'), false);
  assert.equal(h.tree.exists('/other'), true);
  assert.equal(h.tree.ephemeralsOf(s).size, 0);
  assert.equal(h.tree.sessions.has(s), false);
  // Both deletes share the closeSession's zxid.
  assert.equal(h.tree.stat('/p')!.pzxid, r.zxid);
  assert.equal(h.tree.stat('/')!.pzxid, r.zxid);
});

test('ephemeral stat reports the owner; container and TTL report 0', () => {
  const h = new Harness({ preparer: { extendedTypesEnabled: true } });
  h.create('/e', null, 1);
  h.create('/c', null, 4, { type: OpCode.createContainer });
  h.create('/t', null, 5, { type: OpCode.createTTL, ttl: 500 });
  assert.equal(h.tree.stat('/e')!.ephemeralOwner, SESSION);
  assert.equal(h.tree.stat('/c')!.ephemeralOwner, 0n);
  assert.equal(h.tree.stat('/t')!.ephemeralOwner, 0n);
  assert.equal(h.tree.rawEphemeralOwner('/c'), CONTAINER_EPHEMERAL_OWNER);
  assert.equal(h.tree.rawEphemeralOwner('/t'), ttlOwner(500));
});

test('getEphemerals filters by prefix; empty, blank, null and / list all', () => {
  const h = new Harness();
  h.create('/app');
  h.create('/app/e1', null, 1);
  h.create('/app2', null, 1);
  h.create('/other', null, 1);
  h.create('/mine', null, 1, { session: 99n });
  const all = ['/app/e1', '/app2', '/other'];
  for (const prefix of [undefined, null, '', '  ', '/']) assert.deepEqual(h.tree.getEphemerals(SESSION, prefix).sort(), all);
  assert.deepEqual(h.tree.getEphemerals(SESSION, '/app').sort(), ['/app/e1', '/app2']);
  assert.deepEqual(h.tree.getEphemerals(SESSION, '/app/'), ['/app/e1']);
  assert.deepEqual(h.tree.getEphemerals(SESSION, '/x'), []);
  assert.deepEqual(h.tree.getEphemerals(12345n, '/'), []);
  assert.deepEqual([...h.tree.ephemeralOwners()].sort(), [99n, SESSION].sort());
});

test('multiRead evaluates each op on its own (§12.3)', () => {
  const h = new Harness();
  h.create('/a', bytes('A'));
  h.create('/a/c');
  const secret = [{ perms: Perms.ALL, id: { scheme: 'digest', id: digestId('u:p') } }];
  h.create('/s', bytes('S'), 0, { acl: secret });
  const results = h.tree.multiRead(
    [
      { type: OpCode.getData, path: '/a' },
      { type: OpCode.getChildren, path: '/missing' },
      { type: OpCode.getChildren, path: '/a' },
      { type: OpCode.getData, path: '/s' },
    ],
    [],
  );
  assert.deepEqual(results, [
    { type: OpCode.getData, data: bytes('A'), stat: h.tree.stat('/a') },
    { type: OpCode.error, err: ErrorCode.NoNode },
    { type: OpCode.getChildren, children: ['c'] },
    { type: OpCode.error, err: ErrorCode.NoAuth },
  ]);
  const authed = h.tree.multiRead([{ type: OpCode.getData, path: '/s' }], [{ scheme: 'digest', id: digestId('u:p') }]);
  assert.equal(authed[0]!.type, OpCode.getData);
});

test('read ACL checks: checkAccess/canAccess, super, skipACL, getACL masks digests without ADMIN', () => {
  const h = new Harness();
  const user = { scheme: 'digest', id: digestId('user:pw') };
  const acl = [
    { perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } },
    { perms: Perms.ALL, id: user },
  ];
  h.create('/a', null, 0, { acl });
  h.create('/b', null, 0, { acl: [{ perms: Perms.ALL, id: user }] });
  assert.equal(h.tree.checkAccess('/a', Perms.READ, []), ErrorCode.OK);
  assert.equal(h.tree.checkAccess('/b', Perms.READ, []), ErrorCode.NoAuth);
  assert.equal(h.tree.checkAccess('/b', Perms.READ, [user]), ErrorCode.OK);
  assert.equal(h.tree.checkAccess('/b', Perms.READ, [{ scheme: 'super', id: '' }]), ErrorCode.OK);
  assert.equal(h.tree.canAccess('/b', Perms.WRITE, [{ scheme: 'digest', id: digestId('user:wrong') }]), false);
  assert.equal(h.tree.checkAccess('/a', Perms.READ | Perms.ADMIN, []), ErrorCode.OK);
  const masked = h.tree.getACL('/a', [])!.acl;
  assert.deepEqual(masked[1], { perms: Perms.ALL, id: { scheme: 'digest', id: 'user:x' } });
  assert.deepEqual(h.tree.getACL('/a', [user])!.acl, acl);
  assert.deepEqual(h.tree.getACL('/a')!.acl, acl);

  const open = new DataTree({ skipACL: true });
  assert.equal(open.checkAccess('/zookeeper/config', Perms.WRITE, []), ErrorCode.OK);
  assert.equal(new DataTree().checkAccess('/zookeeper/config', Perms.WRITE, []), ErrorCode.NoAuth);
});

test('sessions are tracked by createSession/closeSession txns', () => {
  const h = new Harness();
  h.createSession(1n, 5000);
  h.createSession(2n, 6000);
  h.closeSession(1n);
  assert.deepEqual([...h.tree.sessions], [[2n, 6000]]);
});

test('error txns change nothing but advance lastProcessedZxid (§11.6)', () => {
  const h = new Harness();
  h.create('/a');
  const digest = h.tree.digest();
  const r = h.create('/a');
  assert.equal(r.err, ErrorCode.NodeExists);
  assert.deepEqual(r.outcome, { kind: 'error', err: ErrorCode.NodeExists });
  assert.equal(h.tree.lastProcessedZxid, 2);
  assert.equal(h.tree.digest(), digest);
});

test('apply tolerates txns that do not fit the tree (diverged replica) without damage', () => {
  const tree = new DataTree();
  let zxid = 0;
  const apply = (body: Parameters<DataTree['apply']>[0]['body']) => tree.apply({ header: { sessionId: 0n, cxid: 0, zxid: ++zxid, time: 0 }, body });
  assert.equal(apply({ kind: 'create', path: '/x/y', data: null, acl: OPEN, ephemeralOwner: 0n, parentCVersion: 1 }).err, ErrorCode.NoNode);
  assert.equal(apply({ kind: 'create', path: '/zookeeper', data: null, acl: OPEN, ephemeralOwner: 0n, parentCVersion: 1 }).err, ErrorCode.NodeExists);
  assert.equal(apply({ kind: 'delete', path: '/zookeeper' }).err, ErrorCode.NotEmpty);
  assert.equal(apply({ kind: 'delete', path: '/' }).err, ErrorCode.BadArguments);
  assert.equal(apply({ kind: 'setData', path: '/nope', data: null, version: 1 }).err, ErrorCode.NoNode);
  assert.equal(apply({ kind: 'setACL', path: '/nope', acl: OPEN, version: 1 }).err, ErrorCode.NoNode);
  assert.equal(tree.nodeCount, 4);
  assert.equal(tree.digest(), new DataTree().digest());
  assert.equal(tree.lastProcessedZxid, 6);
  // parentCVersion -1 means "current + 1" (old txn logs).
  apply({ kind: 'create', path: '/old', data: null, acl: OPEN, ephemeralOwner: 0n, parentCVersion: -1 });
  assert.equal(tree.stat('/')!.cversion, 0);
});

test('lastProcessedZxid never moves backwards', () => {
  const tree = new DataTree();
  tree.apply({ header: { sessionId: 0n, cxid: 0, zxid: 10, time: 0 }, body: { kind: 'error', err: -110 } });
  tree.apply({ header: { sessionId: 0n, cxid: 0, zxid: 4, time: 0 }, body: { kind: 'error', err: -110 } });
  assert.equal(tree.lastProcessedZxid, 10);
});

test('approximateDataSize counts path and data lengths', () => {
  const h = new Harness();
  const base = h.tree.approximateDataSize;
  h.create('/abc', bytes('12345'));
  assert.equal(h.tree.approximateDataSize, base + 4 + 5);
  h.setData('/abc', bytes('1'));
  assert.equal(h.tree.approximateDataSize, base + 4 + 1);
  h.delete('/abc');
  assert.equal(h.tree.approximateDataSize, base);
});

test('ACL lists are interned and released with their last user', () => {
  const h = new Harness();
  const before = h.tree.aclCount; // OPEN and READ-only
  const acl = [{ perms: Perms.READ | Perms.ADMIN, id: { scheme: 'world', id: 'anyone' } }];
  h.create('/a', null, 0, { acl });
  h.create('/b', null, 0, { acl: acl.map((a) => ({ ...a })) });
  assert.equal(h.tree.aclCount, before + 1);
  h.delete('/a');
  assert.equal(h.tree.aclCount, before + 1);
  assert.equal(errOf(h.setACL('/b', OPEN)), 0);
  assert.equal(h.tree.aclCount, before);
  assert.equal(errOf(h.create('/c', null, 0, { acl })), 0);
  assert.equal(h.tree.aclCount, before + 1);
});

test('creates under a deleted and re-created parent link to the new parent (slot reuse)', () => {
  const h = new Harness();
  h.create('/p');
  h.create('/p/a');
  h.delete('/p/a');
  h.delete('/p');
  h.create('/q'); // likely reuses a freed slot
  h.create('/p');
  h.create('/p/b');
  h.create('/q/c');
  assert.deepEqual(h.tree.getChildren('/p'), ['b']);
  assert.deepEqual(h.tree.getChildren('/q'), ['c']);
  assert.equal(h.tree.stat('/p')!.numChildren, 1);
  assert.equal(h.tree.stat('/q')!.numChildren, 1);
  const replay = DataTree.deserialize(h.tree.serialize());
  assert.equal(replay.digest(), h.tree.digest());
});

test('statInto and getDataInto fill a caller-owned object, and leave it alone for a missing node', () => {
  const h = new Harness();
  h.create('/n', bytes('abc'), 1);
  const stat = { ...h.tree.stat('/')! };
  assert.equal(h.tree.statInto('/n', stat), stat);
  assert.deepEqual(stat, h.tree.stat('/n'));
  const out = { data: null as Uint8Array | null, stat: { ...stat } };
  assert.equal(h.tree.getDataInto('/n', out), out);
  assert.deepEqual(out, h.tree.getData('/n'));
  const before = structuredClone(out);
  assert.equal(h.tree.getDataInto('/missing', out), undefined);
  assert.equal(h.tree.statInto('/n/', out.stat), undefined);
  assert.deepEqual(out, before);
});

test('apply with { result: false } returns undefined and still records zxid, sessions and ephemerals', () => {
  const h = new Harness();
  const quiet = new DataTree();
  const txns = [
    h.prepare({ type: OpCode.createSession, timeout: 5000 }),
    h.prepare(createOp('/e', 1, bytes('x'))),
    h.prepare({ type: OpCode.setData, path: '/e', data: null, version: -1 }),
  ];
  for (const txn of txns) {
    h.tree.apply(txn);
    assert.equal(quiet.apply(txn, { result: false }), undefined);
  }
  assert.equal(quiet.lastProcessedZxid, h.tree.lastProcessedZxid);
  assert.deepEqual([...quiet.sessions], [[SESSION, 5000]]);
  assert.deepEqual([...quiet.ephemeralsOf(SESSION)], ['/e']);
  assert.equal(quiet.digest(), h.tree.digest());
});
