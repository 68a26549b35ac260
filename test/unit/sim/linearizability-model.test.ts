import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateMode } from '../../../src/protocol/constants.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { HistoryRecorder, formatOperation, type HistoryOp } from '../../../src/sim/history.js';
import { ZnodeModel, parentPath, sequenceSuffix } from '../../../src/sim/znode-model.js';
import { checkHistory, VirtualClock } from '../../../src/sim/index.js';

const create = (path: string, mode: CreateMode = CreateMode.PERSISTENT, data = ''): HistoryOp => ({ type: 'create', path, data, mode });

test('model: sequential names count every child creation, deletes included', () => {
  const m = new ZnodeModel();
  assert.deepEqual(m.apply(create('/q'), 1), { ok: true, result: '/q' });
  assert.deepEqual(m.apply(create('/q/s-', CreateMode.PERSISTENT_SEQUENTIAL), 1), { ok: true, result: '/q/s-0000000000' });
  assert.deepEqual(m.apply(create('/q/x'), 1), { ok: true, result: '/q/x' });
  assert.deepEqual(m.apply({ type: 'delete', path: '/q/s-0000000000', version: -1 }, 1), { ok: true, result: null });
  assert.deepEqual(m.apply(create('/q/', CreateMode.EPHEMERAL_SEQUENTIAL), 1), { ok: true, result: '/q/0000000002' });
  assert.deepEqual(m.apply({ type: 'getChildren', path: '/q' }, 1), { ok: true, result: ['0000000002', 'x'] });
  // /zookeeper does not count as a child creation (§10.1): /q was the root's first.
  assert.deepEqual(m.apply(create('/r-', CreateMode.PERSISTENT_SEQUENTIAL), 1), { ok: true, result: '/r-0000000001' });
  // A history can start where counters already moved.
  const later = new ZnodeModel([{ path: '/', cversion: 41 }, { path: '/q', data: 'd', version: 3, cversion: 7 }]);
  assert.deepEqual(later.apply(create('/q/n-', CreateMode.PERSISTENT_SEQUENTIAL), 1), { ok: true, result: '/q/n-0000000007' });
  assert.deepEqual(later.apply(create('/r-', CreateMode.PERSISTENT_SEQUENTIAL), 1), { ok: true, result: '/r-0000000041' });
  assert.deepEqual(later.apply({ type: 'getData', path: '/q' }, 1), { ok: true, result: { data: 'd', version: 3 } });
  assert.equal(sequenceSuffix(-1), '-000000001');
  assert.equal(parentPath('/a'), '/');
  assert.equal(parentPath('/a/b'), '/a');
});

test('model: error precedence of create, delete, setData (reference §11)', () => {
  const m = new ZnodeModel();
  const code = (op: HistoryOp, client = 1): number | undefined => {
    const r = m.apply(op, client);
    return r.ok ? undefined : r.code;
  };
  assert.equal(code(create('/a/b')), ErrorCode.NoNode);
  assert.equal(code(create('/a')), undefined);
  assert.equal(code(create('/a')), ErrorCode.NodeExists);
  assert.equal(code(create('/e', CreateMode.EPHEMERAL)), undefined);
  assert.equal(code(create('/e/c')), ErrorCode.NoChildrenForEphemerals);
  assert.equal(code(create('/a/c')), undefined);
  // BadVersion wins over NotEmpty.
  assert.equal(code({ type: 'delete', path: '/a', version: 3 }), ErrorCode.BadVersion);
  assert.equal(code({ type: 'delete', path: '/a', version: 0 }), ErrorCode.NotEmpty);
  assert.equal(code({ type: 'delete', path: '/zookeeper', version: -1 }), ErrorCode.BadArguments);
  assert.equal(code({ type: 'setData', path: '/nope', data: '', version: -1 }), ErrorCode.NoNode);
  assert.equal(code({ type: 'setData', path: '/a', data: 'x', version: 1 }), ErrorCode.BadVersion);
  assert.deepEqual(m.apply({ type: 'setData', path: '/a', data: 'x', version: 0 }, 1), { ok: true, result: 1 });
  assert.deepEqual(m.apply({ type: 'exists', path: '/nope' }, 1), { ok: true, result: null });
  assert.deepEqual(m.apply({ type: 'getData', path: '/a' }, 1), { ok: true, result: { data: 'x', version: 1 } });
  // closeSession removes only that session's ephemerals.
  m.apply({ type: 'closeSession' }, 2);
  assert.ok(m.get('/e'));
  m.apply({ type: 'closeSession' }, 1);
  assert.equal(m.get('/e'), undefined);
});

test('model: a failed multi changes nothing and reports the failing op', () => {
  const m = new ZnodeModel();
  const before = m.hashKey();
  const r = m.apply({ type: 'multi', ops: [{ type: 'create', path: '/m', data: '', mode: 0 }, { type: 'check', path: '/m', version: 4 }] }, 1);
  assert.deepEqual(r, { ok: false, code: ErrorCode.BadVersion, index: 1 });
  assert.equal(m.get('/m'), undefined);
  assert.equal(m.hashKey(), before);
});

test('model: undo restores the exact state and hash', () => {
  const m = new ZnodeModel([{ path: '/a', data: 'x' }]);
  const before = m.hashKey();
  const mark = m.mark();
  m.apply(create('/a/b', CreateMode.EPHEMERAL), 7);
  m.apply({ type: 'setData', path: '/a', data: 'y', version: -1 }, 7);
  m.apply({ type: 'closeSession' }, 7);
  assert.notEqual(m.hashKey(), before);
  assert.ok(m.changedSince(mark));
  m.undo(mark);
  assert.equal(m.hashKey(), before);
  assert.deepEqual(m.get('/a'), new ZnodeModel([{ path: '/a', data: 'x' }]).get('/a'));
  assert.deepEqual(m.children('/a'), []);
  // Equal states reached by different routes hash equally.
  const other = new ZnodeModel([{ path: '/a', data: 'x' }]);
  other.apply(create('/a/c'), 1);
  other.apply({ type: 'delete', path: '/a/c', version: -1 }, 1);
  m.apply(create('/a/d'), 1);
  m.apply({ type: 'delete', path: '/a/d', version: -1 }, 1);
  assert.equal(m.hashKey(), other.hashKey());
});

test('recorder: logical times follow the order of events; pending operations are unknown', () => {
  const rec = new HistoryRecorder();
  const a = rec.invoke(1, { type: 'setData', path: '/zookeeper', data: 'x', version: -1 });
  const b = rec.invoke(2, { type: 'getData', path: '/zookeeper' });
  b.ok({ data: '', version: 0 });
  a.ok(1);
  const c = rec.invoke(1, { type: 'sync', path: '/' });
  const d = rec.invoke(3, { type: 'setData', path: '/zookeeper', data: 'z', version: -1 });
  d.unknown();
  const h = rec.history();
  assert.equal(rec.size, 4);
  assert.deepEqual(
    h.map((o) => [o.id, o.invoke, o.complete, o.outcome.status]),
    [
      [0, 1, 4, 'ok'],
      [1, 2, 3, 'ok'],
      [2, 5, null, 'unknown'],
      [3, 6, null, 'unknown'],
    ],
  );
  assert.equal(c.settled, false);
  assert.throws(() => a.fail(ErrorCode.NoNode), /completed twice/);
  assert.equal(formatOperation(h[0]!), '#0 client 1 setData(/zookeeper, "x", -1) -> v1 @1..4');
  assert.equal(checkHistory(h).status, 'ok');
});

test('recorder: a failed multi records the failing index', () => {
  const rec = new HistoryRecorder();
  rec.invoke(1, { type: 'multi', ops: [{ type: 'check', path: '/x', version: 0 }] }).fail(ErrorCode.NoNode, 0);
  const [o] = rec.history();
  assert.deepEqual(o!.outcome, { status: 'fail', code: ErrorCode.NoNode, index: 0 });
  assert.match(formatOperation(o!), /NoNode at op 0/);
  assert.equal(checkHistory([o!]).status, 'ok');
});

test('the sim index exports the virtual clock', () => {
  const clock = new VirtualClock(5);
  assert.equal(clock.now(), 5);
});
