import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateMode } from '../../../src/protocol/constants.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { checkHistory, type CheckOptions, type CheckResult } from '../../../src/sim/linearizability.js';
import type { HistoryOp, Operation, Outcome } from '../../../src/sim/history.js';
import type { InitialNode } from '../../../src/sim/znode-model.js';

type Row = [client: number, op: HistoryOp, invoke: number, complete: number | null, outcome: Outcome];

/** Operations numbered #1, #2, ... in row order. */
function history(...rows: Row[]): Operation[] {
  return rows.map(([client, op, invoke, complete, outcome], i) => ({ id: i + 1, client, op, invoke, complete, outcome }));
}

const ok = <R>(result: R): Outcome => ({ status: 'ok', result }) as Outcome;
const fail = (code: number, index?: number): Outcome => (index === undefined ? { status: 'fail', code } : { status: 'fail', code, index });
const unknown: Outcome = { status: 'unknown' };

const set = (path: string, data: string, version = -1): HistoryOp => ({ type: 'setData', path, data, version });
const get = (path: string): HistoryOp => ({ type: 'getData', path });
const create = (path: string, data = '', mode: CreateMode = CreateMode.PERSISTENT): HistoryOp => ({ type: 'create', path, data, mode });
const del = (path: string, version = -1): HistoryOp => ({ type: 'delete', path, version });
const children = (path: string): HistoryOp => ({ type: 'getChildren', path });
const exists = (path: string): HistoryOp => ({ type: 'exists', path });
const sync = (path = '/'): HistoryOp => ({ type: 'sync', path });
const data = (d: string, version: number): Outcome => ok({ data: d, version });

/** `/a` = "v0" (version 0) before the history. */
const A: InitialNode[] = [{ path: '/a', data: 'v0' }];

function check(h: Operation[], options: CheckOptions = {}): CheckResult {
  const result = checkHistory(h, { initial: A, ...options });
  // The whole-history search and the partitioned one (parts, then the guided merge) must agree.
  const whole = checkHistory(h, { initial: A, ...options, partition: false, quickStates: 0 });
  const parted = checkHistory(h, { initial: A, ...options, quickStates: 0 });
  assert.equal(whole.status, result.status, 'whole-history verdict differs');
  assert.equal(parted.status, result.status, 'partitioned verdict differs');
  return result;
}

function assertPass(h: Operation[], options: CheckOptions = {}): void {
  const r = check(h, options);
  assert.equal(r.status, 'ok', r.status === 'violation' ? r.message : r.status === 'unknown' ? r.reason : '');
  if (r.status === 'ok') {
    const completed = h.filter((o) => o.outcome.status !== 'unknown').map((o) => o.id);
    for (const id of completed) {
      const o = h.find((x) => x.id === id)!;
      // Every completed operation the checker keeps appears in the witness.
      if (o.op.type !== 'sync' && !(o.outcome.status === 'fail' && o.outcome.code === ErrorCode.NoAuth)) {
        assert.ok(r.witness.includes(id), `witness misses #${id}`);
      }
    }
  }
}

/** A violation whose operations and message name every id in `ids`. */
function assertViolation(h: Operation[], ids: number[], options: CheckOptions = {}): string {
  const r = check(h, options);
  assert.equal(r.status, 'violation', r.status === 'ok' ? `passed with witness ${r.witness.join(',')}` : '');
  if (r.status !== 'violation') return '';
  const named = r.operations.map((o) => o.id);
  for (const id of ids) {
    assert.ok(named.includes(id), `#${id} not among the named operations ${named.join(',')}: ${r.message}`);
    assert.match(r.message, new RegExp(`#${id}\\b`), r.message);
  }
  return r.message;
}

// ------------------------------------------------------------------ histories that pass

test('concurrent writes may take effect in either order', () => {
  // #1 and #2 overlap. A later read sees "1" at version 2: #2 went first.
  assertPass(
    history(
      [1, set('/a', '1'), 1, 10, ok(2)],
      [2, set('/a', '2'), 2, 11, ok(1)],
      [3, get('/a'), 12, 13, data('1', 2)],
    ),
  );
  // Or #1 went first.
  assertPass(
    history(
      [1, set('/a', '1'), 1, 10, ok(1)],
      [2, set('/a', '2'), 2, 11, ok(2)],
      [3, get('/a'), 12, 13, data('2', 2)],
    ),
  );
});

test('reads overlapping a write may see either value', () => {
  assertPass(
    history(
      [1, set('/a', 'v1'), 10, 20, ok(1)],
      [2, get('/a'), 12, 18, data('v1', 1)],
      [3, get('/a'), 13, 19, data('v0', 0)],
      [4, get('/a'), 5, 25, data('v1', 1)],
      [5, get('/a'), 5, 25, data('v0', 0)],
    ),
  );
});

test('an unknown write may have happened, late, or not at all', () => {
  // It happened: another client sees it.
  assertPass(history([1, set('/a', 'u'), 10, null, unknown], [2, get('/a'), 30, 31, data('u', 1)]));
  // It did not happen (or not yet).
  assertPass(history([1, set('/a', 'u'), 10, null, unknown], [2, sync(), 20, 21, ok(null)], [2, get('/a'), 30, 31, data('v0', 0)]));
  // It took effect long after the client gave up, between two synced reads.
  assertPass(
    history(
      [1, set('/a', 'u'), 10, null, unknown],
      [2, sync(), 20, 21, ok(null)],
      [2, get('/a'), 22, 23, data('v0', 0)],
      [2, sync(), 40, 41, ok(null)],
      [2, get('/a'), 42, 43, data('u', 1)],
    ),
  );
  // An unknown create that happened explains a NodeExists.
  assertPass(history([1, create('/b'), 1, null, unknown], [2, create('/b'), 5, 6, fail(ErrorCode.NodeExists)]));
  // A failure with ConnectionLoss is treated as unknown too.
  assertPass(history([1, set('/a', 'u'), 10, 11, fail(ErrorCode.ConnectionLoss)], [2, get('/a'), 30, 31, data('u', 1)]));
});

test('an unknown write can matter only through another unknown write', () => {
  // Only the child is ever read; it exists only if the unknown parent create happened first.
  assertPass(
    history(
      [1, create('/p'), 1, null, unknown],
      [2, create('/p/c', 'x'), 2, null, unknown],
      [3, sync(), 10, 11, ok(null)],
      [3, get('/p/c'), 12, 13, data('x', 0)],
    ),
  );
});

test('a session expiry of unknown time removes its ephemerals at some point', () => {
  assertPass(
    history(
      [1, create('/e', 'x', CreateMode.EPHEMERAL), 1, 2, ok('/e')],
      [2, exists('/e'), 3, 4, ok(0)],
      [1, { type: 'closeSession' }, 5, null, unknown],
      [2, exists('/e'), 10, 11, ok(null)],
      [3, create('/e', 'y', CreateMode.EPHEMERAL), 12, 13, ok('/e')],
    ),
  );
  // But not before it could have happened.
  assertViolation(
    history(
      [1, create('/e', 'x', CreateMode.EPHEMERAL), 1, 2, ok('/e')],
      [2, sync(), 3, 4, ok(null)],
      [2, exists('/e'), 5, 6, ok(null)],
      [1, { type: 'closeSession' }, 7, null, unknown],
    ),
    [3, 1],
  );
});

test('sequential creates by concurrent clients take names in commit order', () => {
  const q: InitialNode[] = [...A, { path: '/q' }];
  const h = history(
    [1, create('/q/n-', 'x', CreateMode.PERSISTENT_SEQUENTIAL), 1, 10, ok('/q/n-0000000001')],
    [2, create('/q/n-', 'y', CreateMode.EPHEMERAL_SEQUENTIAL), 2, 9, ok('/q/n-0000000000')],
    [3, children('/q'), 11, 12, ok(['n-0000000001', 'n-0000000000'])],
    [3, get('/q/n-0000000001'), 13, 14, data('x', 0)],
    [1, create('/q/m', ''), 15, 16, ok('/q/m')],
    [1, create('/q/n-', 'z', CreateMode.PERSISTENT_SEQUENTIAL), 17, 18, ok('/q/n-0000000003')],
  );
  assertPass(h, { initial: q });
});

test('multi is all or nothing', () => {
  assertPass(
    history(
      [1, { type: 'multi', ops: [create('/m', 'x') as never, set('/m', 'y') as never] }, 1, 5, ok(['/m', 1])],
      [2, get('/m'), 6, 7, data('y', 1)],
      [
        1,
        { type: 'multi', ops: [set('/m', 'z') as never, { type: 'check', path: '/m', version: 0 }, del('/m') as never] },
        8,
        9,
        fail(ErrorCode.BadVersion, 1),
      ],
      [1, get('/m'), 10, 11, data('y', 1)],
      [1, { type: 'multi', ops: [{ type: 'check', path: '/m', version: 1 }, del('/m') as never] }, 12, 13, ok([null, null])],
      [2, exists('/m'), 14, 15, ok(null)],
    ),
  );
});

test('failed writes are ordered observations: BadVersion, NoNode, NotEmpty', () => {
  assertPass(
    history(
      [1, set('/a', 'v1', 0), 1, 10, ok(1)],
      // Concurrent with #1: it saw version 1 already.
      [2, set('/a', 'x', 0), 2, 11, fail(ErrorCode.BadVersion)],
      [3, del('/a', 5), 12, 13, fail(ErrorCode.BadVersion)],
      [3, create('/a/c'), 14, 15, ok('/a/c')],
      [2, del('/a'), 16, 17, fail(ErrorCode.NotEmpty)],
      [2, set('/nope', 'x'), 18, 19, fail(ErrorCode.NoNode)],
      [2, get('/nope'), 20, 21, fail(ErrorCode.NoNode)],
      [2, exists('/nope'), 22, 23, fail(ErrorCode.NoNode)],
    ),
  );
});

test('follower reads may lag but never go backwards', () => {
  assertPass(
    history(
      [1, set('/a', 'v1'), 10, 20, ok(1)],
      [1, set('/a', 'v2'), 30, 40, ok(2)],
      // Client 2's server is behind: it sees the past, then catches up step by step.
      [2, get('/a'), 50, 51, data('v0', 0)],
      [2, get('/a'), 52, 53, data('v1', 1)],
      [2, get('/a'), 54, 55, data('v1', 1)],
      [2, get('/a'), 56, 57, data('v2', 2)],
      // Client 3 is on another, more current server.
      [3, get('/a'), 50, 51, data('v2', 2)],
    ),
  );
});

test('a read after sync sees every write that completed before the sync', () => {
  assertPass(
    history(
      [1, set('/a', 'v1'), 10, 20, ok(1)],
      [2, sync(), 25, 30, ok(null)],
      [2, get('/a'), 35, 36, data('v1', 1)],
      // A write concurrent with the sync need not be visible.
      [1, set('/a', 'v2'), 26, 40, ok(2)],
      [2, get('/a'), 41, 42, data('v1', 1)],
    ),
  );
});

test('ephemeral nodes disappear when their session closes', () => {
  assertPass(
    history(
      [1, create('/e', 'x', CreateMode.EPHEMERAL), 1, 2, ok('/e')],
      [2, create('/e/c'), 3, 4, fail(ErrorCode.NoChildrenForEphemerals)],
      [1, { type: 'closeSession' }, 5, 6, ok(null)],
      [2, sync(), 7, 8, ok(null)],
      [2, exists('/e'), 9, 10, ok(null)],
      [2, create('/e', 'y', CreateMode.EPHEMERAL), 11, 12, ok('/e')],
    ),
  );
});

test('errors that say nothing about the state are ignored', () => {
  assertPass(history([1, set('/a', 'x'), 1, 2, fail(ErrorCode.NoAuth)], [2, sync(), 3, 4, ok(null)], [2, get('/a'), 5, 6, data('v0', 0)]));
});

// ------------------------------------------------------------------ violations

test('violation: a stale read after the same client acknowledged a write', () => {
  const message = assertViolation(
    history([2, set('/a', 'v2'), 20, 30, ok(1)], [2, get('/a'), 40, 45, data('v0', 0)]),
    [1, 2],
  );
  assert.match(message, /own setData #1 completed at t=30/);
});

test('violation: a read after sync misses a write that completed before the sync', () => {
  const message = assertViolation(
    history([1, set('/a', 'v1'), 10, 20, ok(1)], [2, sync(), 25, 30, ok(null)], [2, get('/a'), 35, 40, data('v0', 0)]),
    [1, 3],
  );
  assert.match(message, /sync #2/);
});

test('violation: a lost write is never seen by clients that synced', () => {
  assertViolation(
    history(
      [1, set('/a', 'v1'), 10, 20, ok(1)],
      [2, get('/a'), 21, 22, data('v0', 0)], // fine on its own: client 2 may lag
      [3, sync(), 30, 31, ok(null)],
      [3, get('/a'), 32, 33, data('v0', 0)],
      [2, sync(), 34, 35, ok(null)],
      [2, get('/a'), 36, 37, data('v0', 0)],
    ),
    [1, 4],
  );
});

test('violation: a reader sees one client\'s second write, then its first', () => {
  assertViolation(
    history(
      [1, set('/a', 'w1'), 10, 20, ok(1)],
      [1, set('/a', 'w2'), 30, 40, ok(2)],
      [2, get('/a'), 50, 55, data('w2', 2)],
      [2, get('/a'), 60, 65, data('w1', 1)],
    ),
    [4, 3, 2],
  );
});

test('violation: a value nobody wrote', () => {
  const message = assertViolation(history([1, set('/a', 'v1'), 10, 20, ok(1)], [2, get('/a'), 30, 40, data('zz', 1)]), [2]);
  assert.match(message, /no operation ever wrote "zz" to \/a/);
});

test('violation: one client\'s reads go backwards across two writers', () => {
  assertViolation(
    history(
      [1, set('/a', 'x'), 10, 20, ok(1)],
      [3, set('/a', 'y'), 25, 35, ok(2)],
      [2, get('/a'), 40, 41, data('y', 2)],
      [2, get('/a'), 42, 43, data('x', 1)],
    ),
    [4, 3],
  );
});

test('violation: two creates of the same path both succeed', () => {
  assertViolation(history([1, create('/b'), 0, 10, ok('/b')], [2, create('/b'), 5, 15, ok('/b')]), [1, 2]);
});

test('violation: sequential names out of order with completion order', () => {
  const q: InitialNode[] = [{ path: '/q' }];
  assertViolation(
    history(
      [1, create('/q/n-', '', CreateMode.PERSISTENT_SEQUENTIAL), 0, 10, ok('/q/n-0000000001')],
      [2, create('/q/n-', '', CreateMode.PERSISTENT_SEQUENTIAL), 20, 30, ok('/q/n-0000000000')],
    ),
    [1, 2],
    { initial: q },
  );
});

test('violation: a multi applied half-way', () => {
  assertViolation(
    history(
      [1, { type: 'multi', ops: [set('/a', 'x') as never, { type: 'check', path: '/a', version: 7 }] }, 1, 2, fail(ErrorCode.BadVersion, 1)],
      [1, get('/a'), 3, 4, data('x', 1)],
    ),
    [2],
  );
});

test('violation: a BadVersion that no state explains', () => {
  assertViolation(history([1, set('/a', 'x', 0), 1, 2, fail(ErrorCode.BadVersion)]), [1]);
});

test('violation: found inside one of several independent parts', () => {
  const initial: InitialNode[] = [
    { path: '/x', data: '0' },
    { path: '/y', data: '0' },
  ];
  const h = history(
    [1, set('/x', '1'), 0, 10, ok(1)],
    [2, set('/y', '1'), 0, 10, ok(1)],
    [1, get('/x'), 11, 12, data('1', 1)],
    [2, set('/y', '2'), 13, 14, ok(2)],
    [2, get('/y'), 15, 16, data('1', 1)],
    [3, get('/x'), 15, 16, data('0', 0)],
  );
  for (const quickStates of [undefined, 0]) {
    const r = checkHistory(h, { initial, quickStates });
    assert.equal(r.status, 'violation');
    if (r.status === 'violation') {
      // The read, the own write it must follow, and the write of the value it saw.
      assert.deepEqual(
        r.operations.map((o) => o.id),
        [5, 4, 2],
      );
      assert.match(r.message, /^#5 client 2 getData\(\/y\)/);
      // Searched by parts, the longest valid order is that of the /y part alone.
      if (quickStates === 0) assert.deepEqual(r.longestPrefix, [2, 4]);
    }
  }
});

test('violation: clients see independent keys change in opposite orders', () => {
  // Each key alone is fine; together there is no single write order (not local).
  const initial: InitialNode[] = [
    { path: '/x', data: '0' },
    { path: '/y', data: '0' },
  ];
  const h = history(
    [1, set('/x', '1'), 0, 10, ok(1)],
    [2, set('/y', '1'), 0, 10, ok(1)],
    [3, get('/y'), 20, 21, data('1', 1)],
    [3, get('/x'), 22, 23, data('0', 0)],
    [4, get('/x'), 20, 21, data('1', 1)],
    [4, get('/y'), 22, 23, data('0', 0)],
  );
  for (const options of [{}, { quickStates: 0 }, { partition: false }]) {
    assert.equal(checkHistory(h, { initial, ...options }).status, 'violation');
    // Drop one of the backward reads and it passes.
    assert.equal(checkHistory(h.slice(0, 5), { initial, ...options }).status, 'ok');
  }
  // Each key alone has a valid order, so only the merge of the parts can find this.
  const parted = checkHistory(h, { initial, quickStates: 0 });
  assert.equal(parted.status, 'violation');
  assert.equal(checkHistory(h.filter((o) => o.op.type !== 'getData' || (o.op as { path: string }).path === '/x'), { initial }).status, 'ok');
  assert.equal(checkHistory(h.filter((o) => o.op.type !== 'getData' || (o.op as { path: string }).path === '/y'), { initial }).status, 'ok');
});

test('sync semantics: bound (default) versus point', () => {
  // #1 is seen by client 2 before client 3's sync, but completes only after the sync was invoked.
  const h = history(
    [1, set('/a', 'v1'), 0, 100, ok(1)],
    [2, get('/a'), 10, 12, data('v1', 1)],
    [3, sync(), 20, 25, ok(null)],
    [3, get('/a'), 30, 31, data('v0', 0)],
  );
  assertPass(h);
  assertViolation(h, [4], { sync: 'point' });
});

test('an exhausted search budget answers unknown, never ok', () => {
  // Many unknown writes and an impossible read make the search exhaustive.
  const rows: Row[] = [];
  for (let i = 0; i < 14; i++) rows.push([i + 1, set('/a', `u${i}`), i, null, unknown]);
  rows.push([99, get('/a'), 100, 101, data('u3', 20)]);
  const r = checkHistory(history(...rows), { initial: A, maxStates: 500 });
  assert.equal(r.status, 'unknown');
  if (r.status === 'unknown') assert.match(r.reason, /budget of 500 states/);
});

test('malformed histories are rejected', () => {
  assert.throws(() => checkHistory(history([1, get('/a'), 5, 4, data('v0', 0)])), TypeError);
  assert.throws(() => checkHistory(history([1, get('/a'), 5, null, data('v0', 0)])), TypeError);
  const dup = history([1, get('/a'), 1, 2, data('v0', 0)], [1, get('/a'), 3, 4, data('v0', 0)]);
  dup[1]!.id = 1;
  assert.throws(() => checkHistory(dup), TypeError);
});
