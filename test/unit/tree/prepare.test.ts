import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_TTL, OpCode, Perms } from '../../../src/protocol/constants.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import type { ACL, CreateRequest, MultiWriteOp } from '../../../src/protocol/records.js';
import { InvariantError } from '../../../src/runtime/assert.js';
import { digestId } from '../../../src/tree/acl.js';
import { formatSequence } from '../../../src/tree/prepare.js';
import { toOpResults } from '../../../src/tree/results.js';
import { Harness, OPEN, SESSION, bytes, createOp, errOf, resultsOf } from './harness.js';

const E = ErrorCode;
const world = (perms: number): ACL[] => [{ perms, id: { scheme: 'world', id: 'anyone' } }];

/** Assert a write fails with `code` and still consumes its zxid. */
function fails(h: Harness, run: () => { err: number; zxid: number; outcome: unknown }, code: number): void {
  const digest = h.tree.digest();
  const r = run();
  assert.deepEqual(r.outcome, { kind: 'error', err: code });
  assert.equal(r.err, code);
  assert.equal(h.tree.lastProcessedZxid, r.zxid, 'a failed write consumes its zxid');
  assert.equal(h.tree.digest(), digest, 'a failed write changes nothing');
}

// ------------------------------------------------------------------------- create §11.1

test('create: flags outside 0..6 → BadArguments, before anything else (observed)', () => {
  const h = new Harness();
  for (const flags of [7, -1, 100, 1.5]) fails(h, () => h.create('/a', null, flags, { acl: [] }), E.BadArguments);
  fails(h, () => h.create('abc', null, 7), E.BadArguments);
});

test('create: TTL disabled → Unimplemented before TTL/path/ACL checks', () => {
  const h = new Harness();
  fails(h, () => h.create('/t', null, 5, { type: OpCode.createTTL, ttl: 100 }), E.Unimplemented);
  fails(h, () => h.create('/t', null, 6, { type: OpCode.createTTL, ttl: 100 }), E.Unimplemented);
  fails(h, () => h.create('/t', null, 5), E.Unimplemented); // TTL mode via opcode 1
  fails(h, () => h.create('bad', null, 5, { type: OpCode.createTTL, ttl: 0, acl: [] }), E.Unimplemented);
});

test('create: bad TTL, TTL mode without ttl, ttl with non-TTL mode → BadArguments (observed)', () => {
  const h = new Harness({ preparer: { extendedTypesEnabled: true } });
  for (const ttl of [0, -5, MAX_TTL + 1, 1.5]) fails(h, () => h.create('/t', null, 5, { type: OpCode.createTTL, ttl }), E.BadArguments);
  fails(h, () => h.create('/t', null, 5), E.BadArguments); // opcode 1 has no ttl
  fails(h, () => h.create('/t', null, 5, { type: OpCode.create2 }), E.BadArguments);
  fails(h, () => h.create('/t', null, 0, { type: OpCode.createTTL, ttl: 100 }), E.BadArguments);
  fails(h, () => h.create('/t', null, 1, { type: OpCode.createTTL, ttl: 100 }), E.BadArguments);
  fails(h, () => h.create('bad', null, 5, { type: OpCode.createTTL, ttl: 0 }), E.BadArguments);
  assert.equal(errOf(h.create('/t', null, 5, { type: OpCode.createTTL, ttl: MAX_TTL })), 0);
});

test('create: the session check runs after flags/TTL and before the path', () => {
  const h = new Harness({ preparer: { checkSession: (id) => (id === 66n ? E.SessionExpired : 0) } });
  fails(h, () => h.create('/a', null, 9, { session: 66n }), E.BadArguments);
  fails(h, () => h.create('abc', null, 0, { session: 66n, acl: [] }), E.SessionExpired);
  assert.equal(errOf(h.create('/a', null, 0)), 0);
  fails(h, () => h.delete('/zookeeper', -1, { session: 66n }), E.SessionExpired);
  fails(h, () => h.setData('bad', null, -1, { session: 66n }), E.SessionExpired);
  fails(h, () => h.setACL('bad', [], -1, { session: 66n }), E.SessionExpired);
});

test('create: a path without / or with NUL → BadArguments, before the ACL (observed for abc)', () => {
  const h = new Harness();
  fails(h, () => h.create('abc'), E.BadArguments);
  fails(h, () => h.create('abc', null, 0, { acl: [] }), E.BadArguments);
  fails(h, () => h.create('', null, 0, { acl: [] }), E.BadArguments);
  fails(h, () => h.create('/a\u0000b', null, 0, { acl: [] }), E.BadArguments);
});

test('create: invalid ACL → InvalidACL, before the parent lookup (observed)', () => {
  const h = new Harness();
  fails(h, () => h.create('/missing/x', null, 0, { acl: [] }), E.InvalidACL);
  fails(h, () => h.create('/a', null, 0, { acl: [] }), E.InvalidACL);
  fails(h, () => h.create('/a', null, 0, { acl: [{ perms: Perms.ALL, id: { scheme: 'world', id: 'someone' } }] }), E.InvalidACL);
  fails(h, () => h.create('/a', null, 0, { acl: [{ perms: Perms.ALL, id: { scheme: 'digest', id: 'nocolon' } }] }), E.InvalidACL);
  fails(h, () => h.create('/a', null, 0, { acl: [{ perms: Perms.ALL, id: { scheme: 'ip', id: '10.0.0.300' } }] }), E.InvalidACL);
  fails(h, () => h.create('/a', null, 0, { acl: [{ perms: Perms.ALL, id: { scheme: 'nope', id: 'x' } }] }), E.InvalidACL);
  // auth scheme without an authenticated id
  fails(h, () => h.create('/a', null, 0, { acl: [{ perms: Perms.ALL, id: { scheme: 'auth', id: '' } }] }), E.InvalidACL);
  // ... and invalid ACL before an invalid final path
  fails(h, () => h.create('/a/', null, 0, { acl: [] }), E.InvalidACL);
});

test('create: missing parent → NoNode, so /missing/x/ is NoNode, not BadArguments (observed)', () => {
  const h = new Harness();
  fails(h, () => h.create('/missing/x/'), E.NoNode);
  fails(h, () => h.create('/missing/x'), E.NoNode);
  fails(h, () => h.create('/missing/x', null, 2), E.NoNode);
});

test('create: no CREATE on the parent → NoAuth, before path validation and NodeExists', () => {
  const h = new Harness();
  h.create('/locked', null, 0, { acl: world(Perms.ALL & ~Perms.CREATE) });
  h.create('/open');
  fails(h, () => h.create('/locked/x'), E.NoAuth);
  fails(h, () => h.create('/locked/'), E.NoAuth);
  // /zookeeper/config has READ only: create under it → NoAuth; /zookeeper itself is open (observed)
  fails(h, () => h.create('/zookeeper/config/x'), E.NoAuth);
  assert.equal(errOf(h.create('/zookeeper/x')), 0);
});

test('create: the full path is validated after the parent checks (observed /existing/ → -8)', () => {
  const h = new Harness();
  h.create('/a');
  fails(h, () => h.create('/a/'), E.BadArguments);
  fails(h, () => h.create('/a/.'), E.BadArguments);
  fails(h, () => h.create('/a/..'), E.BadArguments);
  fails(h, () => h.create('//a'), E.BadArguments);
  fails(h, () => h.create('/a/\u0001'), E.BadArguments);
  fails(h, () => h.create('/a/\u0001', null, 2), E.BadArguments); // sequential: validated on the final name
  fails(h, () => h.create('/a//', null, 2), E.NoNode); // parent /a/ does not exist
  assert.equal(errOf(h.create('/a/', null, 2)), 0);
});

test('create: existing path → NodeExists; / itself exists', () => {
  const h = new Harness();
  h.create('/a');
  fails(h, () => h.create('/a'), E.NodeExists);
  fails(h, () => h.create('/'), E.NodeExists);
  fails(h, () => h.create('/zookeeper'), E.NodeExists);
});

test('create: child of an ephemeral → NoChildrenForEphemerals, also while outstanding', () => {
  const h = new Harness();
  h.create('/e', null, 1);
  fails(h, () => h.create('/e/c'), E.NoChildrenForEphemerals);
  fails(h, () => h.create('/e/c', null, 3), E.NoChildrenForEphemerals);
  const t1 = h.prepare({ type: OpCode.create, path: '/e2', data: null, acl: OPEN, flags: 3 });
  const name = (t1.body as { path: string }).path;
  assert.equal(name, '/e20000000001');
  const t2 = h.prepare({ type: OpCode.create, path: `${name}/c`, data: null, acl: OPEN, flags: 0 });
  assert.deepEqual(t2.body, { kind: 'error', err: E.NoChildrenForEphemerals });
  h.tree.apply(t1);
  h.tree.apply(t2);
  // containers and TTL nodes may have children
  h.create('/c', null, 4, { type: OpCode.createContainer });
  assert.equal(errOf(h.create('/c/x', null, 1)), 0);
});

test('create: two creates of one path prepared back-to-back → OK then NodeExists', () => {
  const h = new Harness();
  const t1 = h.prepare({ type: OpCode.create, path: '/a', data: null, acl: OPEN, flags: 0 });
  const t2 = h.prepare({ type: OpCode.create, path: '/a', data: null, acl: OPEN, flags: 0 });
  assert.equal(t1.body.kind, 'create');
  assert.deepEqual(t2.body, { kind: 'error', err: E.NodeExists });
  assert.equal(h.preparer.outstandingCount, 2);
  h.tree.apply(t1);
  h.tree.apply(t2);
  const t3 = h.prepare({ type: OpCode.delete, path: '/a', version: -1 });
  assert.equal(h.preparer.outstandingCount, 2, 'applied changes are dropped at the next prepare');
  h.tree.apply(t3);
  h.preparer.applied(h.tree.lastProcessedZxid);
  assert.equal(h.preparer.outstandingCount, 0);
});

test('create: opcode decides container/TTL; flags 4 with opcode 1 is a plain node (observed)', () => {
  const h = new Harness({ preparer: { extendedTypesEnabled: true } });
  const plain = h.create('/plain', null, 4);
  assert.equal((plain.txn.body as { ephemeralOwner: bigint }).ephemeralOwner, 0n);
  h.create('/plain/child');
  h.delete('/plain/child');
  assert.deepEqual(h.tree.expiredContainersAndTtls(h.time + 1), []);
  const c = h.create('/c', null, 4, { type: OpCode.createContainer });
  assert.equal(c.outcome.kind, 'create');
  const t = h.create('/t-', null, 6, { type: OpCode.createTTL, ttl: 1000 });
  assert.equal((t.outcome as { path: string }).path, '/t-0000000002'); // root had 2 creates
  const e = h.create('/e', bytes('1'), 1, { type: OpCode.create2 });
  assert.equal((e.outcome as { stat: { ephemeralOwner: bigint } }).stat.ephemeralOwner, SESSION);
});

test('create with `auth` ACL expands to the caller digest ids; digest ACL needs the digest id', () => {
  const h = new Harness();
  const alice = { scheme: 'digest', id: digestId('alice:secret') };
  const r = h.create('/mine', null, 0, { acl: [{ perms: Perms.ALL, id: { scheme: 'auth', id: '' } }], authIds: [{ scheme: 'ip', id: '127.0.0.1' }, alice] });
  assert.equal(r.err, 0);
  assert.deepEqual(h.tree.getACL('/mine')!.acl, [{ perms: Perms.ALL, id: alice }]);
  fails(h, () => h.create('/mine/x'), E.NoAuth);
  fails(h, () => h.create('/mine/x', null, 0, { authIds: [{ scheme: 'digest', id: digestId('alice:wrong') }] }), E.NoAuth);
  assert.equal(errOf(h.create('/mine/x', null, 0, { authIds: [alice] })), 0);
  assert.equal(errOf(h.create('/mine/y', null, 0, { authIds: [{ scheme: 'super', id: '' }] })), 0);
});

// ------------------------------------------------------------------------- sequential §10.4

test('sequential names: %010d of the parent stored cversion; never reused (observed)', () => {
  const h = new Harness();
  h.create('/q');
  const name = (r: ReturnType<Harness['create']>) => (r.outcome as { path: string }).path;
  assert.equal(name(h.create('/q/s-', null, 2)), '/q/s-0000000000');
  assert.equal(name(h.create('/q/s-', null, 2)), '/q/s-0000000001');
  h.delete('/q/s-0000000000');
  assert.equal(name(h.create('/q/s-', null, 2)), '/q/s-0000000002');
  h.create('/q/plain'); // non-sequential creates advance the counter too
  assert.equal(name(h.create('/q/s-', null, 3)), '/q/s-0000000004');
  assert.equal(h.tree.stat('/q/s-0000000004')!.ephemeralOwner, SESSION);
  // /queue/ style: the requested path ends with /
  h.create('/queue');
  assert.equal(name(h.create('/queue/', null, 2)), '/queue/0000000000');
  assert.equal(name(h.create('/queue/', null, 2)), '/queue/0000000001');
});

test('sequential: outstanding prepares are numbered consecutively', () => {
  const h = new Harness();
  h.create('/q');
  const req: CreateRequest = { type: OpCode.create, path: '/q/n-', data: null, acl: OPEN, flags: 2 };
  const txns = [h.prepare(req), h.prepare(req), h.prepare({ ...req, path: '/q/x', flags: 0 }), h.prepare(req)];
  assert.deepEqual(
    txns.map((t) => (t.body as { path: string }).path),
    ['/q/n-0000000000', '/q/n-0000000001', '/q/x', '/q/n-0000000003'],
  );
  assert.deepEqual(
    txns.map((t) => (t.body as { parentCVersion: number }).parentCVersion),
    [1, 2, 3, 4],
  );
  for (const t of txns) h.tree.apply(t);
  assert.equal(h.tree.stat('/q')!.numChildren, 4);
  assert.equal(h.tree.stat('/q')!.cversion, 4);
});

test('sequential: Java %010d formatting, negative after 2^31 creates', () => {
  assert.equal(formatSequence(0), '0000000000');
  assert.equal(formatSequence(42), '0000000042');
  assert.equal(formatSequence(2147483647), '2147483647');
  assert.equal(formatSequence(-1), '-000000001');
  assert.equal(formatSequence(-2147483648), '-2147483648');

  const h = new Harness();
  h.create('/q');
  // Bring the stored cversion to 2^31 − 1 with a txn as a long-lived parent would have.
  h.tree.apply({
    header: { sessionId: SESSION, cxid: 0, zxid: ++h.zxid, time: 0 },
    body: { kind: 'create', path: '/q/old', data: null, acl: OPEN, ephemeralOwner: 0n, parentCVersion: 2147483647 },
  });
  const req: CreateRequest = { type: OpCode.create, path: '/q/s', data: null, acl: OPEN, flags: 2 };
  const a = h.prepare(req);
  const b = h.prepare(req);
  assert.equal((a.body as { path: string }).path, '/q/s2147483647');
  assert.equal((a.body as { parentCVersion: number }).parentCVersion, -2147483648);
  assert.equal((b.body as { path: string }).path, '/q/s-2147483648');
});

// ------------------------------------------------------------------------- delete §11.2

test('delete: system paths and paths without / → BadArguments (observed for / and /zookeeper)', () => {
  const h = new Harness();
  for (const path of ['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config', 'abc', '', '/a\u0000']) {
    fails(h, () => h.delete(path), E.BadArguments);
  }
  assert.equal(h.tree.nodeCount, 4);
});

test('delete: no other path validation, so /a/ → NoNode (observed)', () => {
  const h = new Harness();
  h.create('/a');
  fails(h, () => h.delete('/a/'), E.NoNode);
  fails(h, () => h.delete('/missing/x'), E.NoNode);
  fails(h, () => h.delete('/a/missing'), E.NoNode);
});

test('delete: no DELETE on the parent → NoAuth, winning over a missing node', () => {
  const h = new Harness();
  h.create('/p', null, 0, { acl: world(Perms.ALL & ~Perms.DELETE) });
  h.write({ type: OpCode.create, path: '/p/c', data: null, acl: OPEN, flags: 0 });
  fails(h, () => h.delete('/p/c'), E.NoAuth);
  fails(h, () => h.delete('/p/missing'), E.NoAuth);
  // the node's own ACL does not matter
  h.create('/q');
  h.create('/q/c', null, 0, { acl: world(Perms.READ) });
  assert.equal(errOf(h.delete('/q/c')), 0);
});

test('delete: BadVersion wins over NotEmpty (observed); -1 matches any; -2 never', () => {
  const h = new Harness();
  h.create('/a');
  h.create('/a/b');
  fails(h, () => h.delete('/a', 5), E.BadVersion);
  fails(h, () => h.delete('/a', -2), E.BadVersion);
  fails(h, () => h.delete('/a', 0), E.NotEmpty);
  fails(h, () => h.delete('/a', -1), E.NotEmpty);
  h.setData('/a/b', null);
  fails(h, () => h.delete('/a/b', 0), E.BadVersion);
  assert.equal(errOf(h.delete('/a/b', 1)), 0);
  assert.equal(errOf(h.delete('/a', 0)), 0);
});

test('delete sees outstanding creates and deletes', () => {
  const h = new Harness();
  h.create('/a');
  const c = h.prepare({ type: OpCode.create, path: '/a/b', data: null, acl: OPEN, flags: 0 });
  const d1 = h.prepare({ type: OpCode.delete, path: '/a', version: -1 });
  const d2 = h.prepare({ type: OpCode.delete, path: '/a/b', version: -1 });
  const d3 = h.prepare({ type: OpCode.delete, path: '/a', version: -1 });
  const d4 = h.prepare({ type: OpCode.delete, path: '/a', version: -1 });
  assert.deepEqual([c, d1, d2, d3, d4].map((t) => t.body.kind === 'error' ? t.body.err : 0), [0, E.NotEmpty, 0, 0, E.NoNode]);
  for (const t of [c, d1, d2, d3, d4]) h.tree.apply(t);
  assert.equal(h.tree.exists('/a'), false);
});

// ------------------------------------------------------------------------- setData §11.3

test('setData: invalid path → BadArguments (observed), then NoNode, NoAuth, BadVersion', () => {
  const h = new Harness();
  fails(h, () => h.setData('abc', null), E.BadArguments);
  fails(h, () => h.setData('/a/', null), E.BadArguments);
  fails(h, () => h.setData('/missing', null), E.NoNode);
  h.create('/ro', null, 0, { acl: world(Perms.READ) });
  fails(h, () => h.setData('/ro', null, 99), E.NoAuth);
  h.create('/a');
  fails(h, () => h.setData('/a', null, 1), E.BadVersion);
  assert.equal(errOf(h.setData('/a', null, 0)), 0);
  fails(h, () => h.setData('/a', null, 0), E.BadVersion);
  assert.equal(h.tree.stat('/a')!.version, 1);
  assert.equal(errOf(h.setData('/zookeeper/config', null, -1, { authIds: [{ scheme: 'super', id: '' }] })), 0);
});

test('setData: outstanding versions chain', () => {
  const h = new Harness();
  h.create('/a');
  const t1 = h.prepare({ type: OpCode.setData, path: '/a', data: null, version: 0 });
  const t2 = h.prepare({ type: OpCode.setData, path: '/a', data: null, version: 1 });
  const t3 = h.prepare({ type: OpCode.setData, path: '/a', data: null, version: 1 });
  assert.deepEqual([t1.body, t2.body, t3.body], [
    { kind: 'setData', path: '/a', data: null, version: 1 },
    { kind: 'setData', path: '/a', data: null, version: 2 },
    { kind: 'error', err: E.BadVersion },
  ]);
});

// ------------------------------------------------------------------------- setACL §11.4

test('setACL: BadArguments, then InvalidACL before NoNode (observed), NoAuth, then aversion check', () => {
  const h = new Harness();
  fails(h, () => h.setACL('abc', []), E.BadArguments);
  fails(h, () => h.setACL('/missing', []), E.InvalidACL);
  fails(h, () => h.setACL('/missing', OPEN), E.NoNode);
  h.create('/noadmin', null, 0, { acl: world(Perms.ALL & ~Perms.ADMIN) });
  fails(h, () => h.setACL('/noadmin', OPEN, 7), E.NoAuth);
  h.create('/a');
  h.setData('/a', null); // version 1, aversion still 0
  fails(h, () => h.setACL('/a', OPEN, 1), E.BadVersion);
  assert.equal(errOf(h.setACL('/a', world(Perms.ALL), 0)), 0);
  assert.equal(h.tree.stat('/a')!.aversion, 1);
  // outstanding ACL changes are seen by later prepares
  const t1 = h.prepare({ type: OpCode.setACL, path: '/a', acl: world(Perms.READ), version: 1 });
  const t2 = h.prepare({ type: OpCode.setData, path: '/a', data: null, version: -1 });
  assert.equal(t1.body.kind, 'setACL');
  assert.deepEqual(t2.body, { kind: 'error', err: E.NoAuth });
});

// ------------------------------------------------------------------------- check §11.5 and multi §12

test('check (in multi): BadArguments, NoNode, NoAuth, BadVersion, in that order', () => {
  const h = new Harness();
  h.create('/a');
  h.create('/hidden', null, 0, { acl: world(Perms.WRITE) });
  const check = (path: string, version: number): MultiWriteOp => ({ type: OpCode.check, path, version });
  const codes = (ops: MultiWriteOp[]) => {
    const r = h.multi(ops);
    return resultsOf(r).map((x) => (x.kind === 'error' ? x.err : 0));
  };
  assert.deepEqual(codes([check('bad', 0)]), [E.BadArguments]);
  assert.deepEqual(codes([check('/missing', 0)]), [E.NoNode]);
  assert.deepEqual(codes([check('/hidden', 5)]), [E.NoAuth]);
  assert.deepEqual(codes([check('/a', 5)]), [E.BadVersion]);
  const ok = h.multi([check('/a', 0), check('/a', -1)]);
  assert.deepEqual(ok.outcome, { kind: 'multi', results: [{ kind: 'check' }, { kind: 'check' }] });
});

test('multi: success shares one zxid and time; create /a then /a/b works', () => {
  const h = new Harness();
  h.create('/x');
  const r = h.multi([
    createOp('/a'),
    createOp('/a/b', 2),
    { type: OpCode.setData, path: '/x', data: bytes('new'), version: 0 },
    { type: OpCode.check, path: '/x', version: 1 },
    { type: OpCode.delete, path: '/x', version: 1 },
  ]);
  assert.equal(r.err, 0);
  const a = h.tree.stat('/a')!;
  const b = h.tree.stat('/a/b0000000000')!;
  assert.equal(a.czxid, r.zxid);
  assert.equal(b.czxid, r.zxid);
  assert.equal(a.ctime, b.ctime);
  assert.equal(a.pzxid, r.zxid);
  assert.equal(h.tree.exists('/x'), false);
  assert.equal(h.tree.lastProcessedZxid, r.zxid);
  const results = resultsOf(r);
  assert.deepEqual(results.map((x) => x.kind), ['create', 'create', 'setData', 'check', 'delete']);
  // parent + node per create, one per setData, none for check, parent + node per delete
  assert.equal(h.preparer.outstandingCount, 7); // dropped at the next prepare
});

test('multi: a failing op → 0 before, its code, -2 after (observed); nothing applied or outstanding', () => {
  const h = new Harness();
  h.create('/a');
  const before = h.tree.digest();
  const ops: MultiWriteOp[] = [
    createOp('/n'),
    { type: OpCode.setData, path: '/a', data: null, version: -1 },
    { type: OpCode.check, path: '/a', version: 7 },
    { type: OpCode.delete, path: '/a', version: -1 },
  ];
  const r = h.multi(ops);
  assert.deepEqual(r.txn.body, {
    kind: 'multi',
    ops: [
      { kind: 'error', err: 0 },
      { kind: 'error', err: 0 },
      { kind: 'error', err: E.BadVersion },
      { kind: 'error', err: E.RuntimeInconsistency },
    ],
  });
  assert.equal(r.err, 0, 'a multi replies err 0 with per-op results');
  assert.deepEqual(toOpResults(ops, resultsOf(r)), [
    { type: OpCode.error, err: 0 },
    { type: OpCode.error, err: 0 },
    { type: OpCode.error, err: E.BadVersion },
    { type: OpCode.error, err: E.RuntimeInconsistency },
  ]);
  assert.equal(h.tree.digest(), before);
  assert.equal(h.tree.exists('/n'), false);
  assert.equal(h.tree.lastProcessedZxid, r.zxid);
});

test('multi: a failed multi rolls back its outstanding records, keeping earlier ones', () => {
  const h = new Harness();
  const pre = h.prepare({ type: OpCode.create, path: '/x', data: null, acl: OPEN, flags: 0 });
  const failed = h.prepare({ type: OpCode.multi, ops: [createOp('/y'), createOp('/x/z'), { type: OpCode.setData, path: '/x', data: null, version: 0 }, createOp('/missing/q')] });
  assert.equal(failed.body.kind, 'multi');
  assert.equal(h.preparer.outstandingCount, 2, 'only the first create remains outstanding');
  const y = h.prepare({ type: OpCode.create, path: '/x/z', data: null, acl: OPEN, flags: 0 });
  const v = h.prepare({ type: OpCode.setData, path: '/x', data: null, version: 0 });
  const again = h.prepare({ type: OpCode.create, path: '/y', data: null, acl: OPEN, flags: 0 });
  assert.equal(y.body.kind, 'create');
  assert.equal(v.body.kind, 'setData');
  assert.equal(again.body.kind, 'create');
  for (const t of [pre, failed, y, v, again]) h.tree.apply(t);
  assert.deepEqual([...h.tree.paths()].filter((p) => !p.startsWith('/zookeeper')).sort(), ['/', '/x', '/x/z', '/y']);
});

test('multi: delete then re-create one path, and empty multi', () => {
  const h = new Harness();
  h.create('/a', bytes('old'));
  const r = h.multi([{ type: OpCode.delete, path: '/a', version: 0 }, createOp('/a', 0, bytes('new'))]);
  assert.equal(r.outcome.kind, 'multi');
  assert.deepEqual(h.tree.getData('/a')!.data, bytes('new'));
  assert.equal(h.tree.stat('/a')!.czxid, r.zxid);
  const empty = h.multi([]);
  assert.deepEqual(empty.txn.body, { kind: 'multi', ops: [] });
  assert.deepEqual(empty.outcome, { kind: 'multi', results: [] });
});

test('multi: a closing session fails the first op with SessionExpired, the rest -2', () => {
  const h = new Harness({ preparer: { checkSession: (id) => (id === 9n ? E.SessionExpired : 0) } });
  const r = h.multi([createOp('/a'), createOp('/b')], { session: 9n });
  assert.deepEqual(r.txn.body, { kind: 'multi', ops: [{ kind: 'error', err: E.SessionExpired }, { kind: 'error', err: E.RuntimeInconsistency }] });
});

test('toOpResults: op 1 → path only; 15, 19, 21 → path and stat; delete, setData, check', () => {
  const h = new Harness({ preparer: { extendedTypesEnabled: true } });
  h.create('/x');
  const ops: MultiWriteOp[] = [
    createOp('/a'),
    { type: OpCode.create2, path: '/b', data: null, acl: OPEN, flags: 0 },
    { type: OpCode.createContainer, path: '/c', data: null, acl: OPEN, flags: 4 },
    { type: OpCode.createTTL, path: '/t', data: null, acl: OPEN, flags: 5, ttl: 10 },
    { type: OpCode.setData, path: '/x', data: null, version: -1 },
    { type: OpCode.check, path: '/x', version: 1 },
    { type: OpCode.delete, path: '/x', version: -1 },
  ];
  const r = h.multi(ops);
  const results = toOpResults(ops, resultsOf(r));
  assert.deepEqual(results.map((x) => x.type), [OpCode.create, OpCode.create2, OpCode.create2, OpCode.create2, OpCode.setData, OpCode.check, OpCode.delete]);
  assert.deepEqual(results[0], { type: OpCode.create, path: '/a' });
  assert.deepEqual(results[2], { type: OpCode.create2, path: '/c', stat: h.tree.stat('/c') });
});

// ------------------------------------------------------------------------- sessions

test('closeSession lists the session ephemerals including outstanding ones, minus outstanding deletes', () => {
  const h = new Harness();
  const s = 0x0300_0000_0000_0001n;
  h.create('/p');
  h.create('/p/applied', null, 1, { session: s });
  h.create('/p/gone', null, 1, { session: s });
  const pending = h.prepare({ type: OpCode.create, path: '/p/pending', data: null, acl: OPEN, flags: 1 }, { session: s });
  const del = h.prepare({ type: OpCode.delete, path: '/p/gone', version: -1 });
  const close = h.prepare({ type: OpCode.closeSession }, { session: s });
  assert.deepEqual(close.body, { kind: 'closeSession', paths: ['/p/applied', '/p/pending'] });
  // The parent's child count already reflects the close: deleting it is allowed.
  const delParent = h.prepare({ type: OpCode.delete, path: '/p', version: -1 });
  assert.equal(delParent.body.kind, 'delete');
  for (const t of [pending, del, close, delParent]) h.tree.apply(t);
  assert.equal(h.tree.exists('/p'), false);
  assert.equal(h.tree.ephemeralsOf(s).size, 0);
});

test('createSession and closeSession with nothing to delete', () => {
  const h = new Harness();
  const c = h.createSession(5n, 1234);
  assert.deepEqual(c.txn.body, { kind: 'createSession', timeout: 1234 });
  assert.deepEqual(c.outcome, { kind: 'createSession' });
  const r = h.closeSession(5n);
  assert.deepEqual(r.txn.body, { kind: 'closeSession', paths: [] });
  assert.deepEqual(r.events, []);
});

// ------------------------------------------------------------------------- containers and TTL §10.6

test('containers: expire once empty after having had a child; never-used ones only with maxNeverUsed', () => {
  const h = new Harness();
  h.create('/c', null, 4, { type: OpCode.createContainer });
  h.create('/fresh', null, 4, { type: OpCode.createContainer });
  assert.deepEqual(h.tree.expiredContainersAndTtls(h.time + 1_000_000), []);
  h.create('/c/x');
  assert.deepEqual(h.tree.expiredContainersAndTtls(h.time), []);
  h.delete('/c/x');
  assert.deepEqual(h.tree.expiredContainersAndTtls(h.time), ['/c']);
  const freshMtime = h.tree.stat('/fresh')!.mtime;
  assert.deepEqual(h.tree.expiredContainersAndTtls(freshMtime + 100, { maxNeverUsedIntervalMs: 100 }), ['/c']);
  assert.deepEqual(h.tree.expiredContainersAndTtls(freshMtime + 101, { maxNeverUsedIntervalMs: 100 }), ['/c', '/fresh']);

  // The reaper's delete: session 0, no ACL check, NotEmpty if a child appeared meanwhile.
  h.create('/c/late');
  fails(h, () => h.write({ type: OpCode.deleteContainer, path: '/c' }, { session: 0n }), E.NotEmpty);
  h.delete('/c/late');
  const r = h.write({ type: OpCode.deleteContainer, path: '/c' }, { session: 0n });
  assert.equal(r.err, 0);
  assert.equal(h.tree.exists('/c'), false);
  fails(h, () => h.write({ type: OpCode.deleteContainer, path: '/c' }, { session: 0n }), E.NoNode);
  fails(h, () => h.write({ type: OpCode.deleteContainer, path: '/zookeeper' }, { session: 0n }), E.BadArguments);
  h.create('/eph', null, 1);
  fails(h, () => h.write({ type: OpCode.deleteContainer, path: '/eph' }, { session: 0n }), E.BadVersion);
});

test('TTL nodes expire when empty and now − mtime > ttl; setData refreshes mtime', () => {
  const h = new Harness({ preparer: { extendedTypesEnabled: true } });
  h.create('/t', null, 5, { type: OpCode.createTTL, ttl: 100 });
  const mtime = h.tree.stat('/t')!.mtime;
  assert.deepEqual(h.tree.expiredContainersAndTtls(mtime + 100), []);
  assert.deepEqual(h.tree.expiredContainersAndTtls(mtime + 101), ['/t']);
  h.create('/t/child');
  assert.deepEqual(h.tree.expiredContainersAndTtls(mtime + 1000), []);
  h.delete('/t/child');
  h.setData('/t', null, -1, { time: mtime + 500 });
  assert.deepEqual(h.tree.expiredContainersAndTtls(mtime + 600), []);
  assert.deepEqual(h.tree.expiredContainersAndTtls(mtime + 601), ['/t']);
  assert.equal(h.write({ type: OpCode.deleteContainer, path: '/t' }, { session: 0n }).err, 0);
  assert.deepEqual(h.tree.expiredContainersAndTtls(mtime + 10_000), []);
});

// ------------------------------------------------------------------------- ACLs and lifecycle

test('NoAuth on create, delete, setData and setACL; super and skipACL bypass', () => {
  const h = new Harness();
  const bob = { scheme: 'digest', id: digestId('bob:pw') };
  h.create('/b', null, 0, { acl: [{ perms: Perms.ALL, id: bob }] });
  h.create('/b/c', null, 0, { authIds: [bob], acl: [{ perms: Perms.ALL, id: bob }] });
  fails(h, () => h.create('/b/x'), E.NoAuth);
  fails(h, () => h.delete('/b/c'), E.NoAuth);
  fails(h, () => h.setData('/b', null), E.NoAuth);
  fails(h, () => h.setACL('/b', OPEN), E.NoAuth);
  const su = [{ scheme: 'super', id: '' }];
  assert.equal(errOf(h.setData('/b', null, -1, { authIds: su })), 0);
  assert.equal(errOf(h.delete('/b/c', -1, { authIds: [bob] })), 0);
  assert.equal(errOf(h.setACL('/b', OPEN, -1, { authIds: [bob] })), 0);

  const open = new Harness({ tree: { skipACL: true } });
  assert.equal(errOf(open.setData('/zookeeper/config', bytes('x'))), 0);
  assert.equal(errOf(open.create('/zookeeper/config/x')), 0);
});

test('ip ACLs match the caller address', () => {
  const h = new Harness();
  h.create('/lan', null, 0, { acl: [{ perms: Perms.ALL, id: { scheme: 'ip', id: '10.0.0.0/8' } }] });
  assert.equal(errOf(h.create('/lan/a', null, 0, { authIds: [{ scheme: 'ip', id: '10.1.2.3' }] })), 0);
  fails(h, () => h.create('/lan/b', null, 0, { authIds: [{ scheme: 'ip', id: '192.168.0.1' }] }), E.NoAuth);
});

test('reset() forgets outstanding changes; a stale zxid is an invariant violation', () => {
  const h = new Harness();
  h.prepare({ type: OpCode.create, path: '/a', data: null, acl: OPEN, flags: 0 });
  assert.equal(h.preparer.outstandingCount, 2);
  h.preparer.reset();
  assert.equal(h.preparer.outstandingCount, 0);
  const t = h.prepare({ type: OpCode.create, path: '/a', data: null, acl: OPEN, flags: 0 });
  assert.equal(t.body.kind, 'create', 'the abandoned create is forgotten');
  h.tree.apply(t);
  assert.throws(
    () => h.preparer.prepare({ sessionId: SESSION, cxid: 0, zxid: h.tree.lastProcessedZxid, time: 0 }, { type: OpCode.delete, path: '/a', version: -1 }),
    InvariantError,
  );
});

test('requests that are not writes become Unimplemented error txns', () => {
  const h = new Harness();
  const r = h.write({ type: OpCode.getData, path: '/', watch: false } as never);
  assert.deepEqual(r.outcome, { kind: 'error', err: E.Unimplemented });
});
