/**
 * The tree's hot-path optimizations against straightforward references: stat rows and
 * the lazily maintained digest against a plain-object model with a from-scratch digest;
 * result-free apply against normal apply; the zero-allocation readers against the
 * allocating ones; and prepare with outstanding changes against prepare after applying
 * them (the outstanding-change bookkeeping must mirror the tree exactly).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OpCode } from '../../../src/protocol/constants.js';
import type { Stat } from '../../../src/protocol/records.js';
import type { Txn, TxnHeader } from '../../../src/protocol/txn.js';
import { OPEN_ACL_UNSAFE } from '../../../src/tree/acl.js';
import { DataTree } from '../../../src/tree/data-tree.js';
import { RequestPreparer, type PrepareRequest } from '../../../src/tree/prepare.js';
import { AUTH, SESSIONS, request, step } from './arbitraries.js';
import { RefTree } from './reference-model.js';
import { assertSameTree } from './tree-equality.js';

const NO_RESULT = { result: false } as const;

function blankStat(): Stat {
  return { czxid: -1, mzxid: -1, ctime: -1, mtime: -1, version: -1, cversion: -1, aversion: -1, ephemeralOwner: -1n, dataLength: -1, numChildren: -1, pzxid: -1 };
}

/** Every node's stat, data, children and owner, the data size and the digest equal the model's. */
function assertMatchesModel(tree: DataTree, model: RefTree): void {
  assert.deepEqual([...tree.paths()].sort(), [...model.nodes.keys()].sort());
  const into = blankStat();
  const dataInto = { data: null as Uint8Array | null, stat: blankStat() };
  for (const [path, node] of model.nodes) {
    const expected = model.stat(path);
    assert.deepEqual(tree.stat(path), expected, `stat of ${path}`);
    assert.deepEqual(tree.getData(path), { data: node.data, stat: expected }, `getData of ${path}`);
    assert.equal(tree.statInto(path, into), into);
    assert.deepEqual(into, expected, `statInto of ${path}`);
    assert.equal(tree.getDataInto(path, dataInto), dataInto);
    assert.deepEqual(dataInto, { data: node.data, stat: expected }, `getDataInto of ${path}`);
    assert.deepEqual(tree.getChildren(path)!.sort(), [...node.children].sort(), `children of ${path}`);
    assert.equal(tree.rawEphemeralOwner(path), node.owner, `owner of ${path}`);
  }
  assert.equal(tree.approximateDataSize, model.dataSize());
  assert.equal(tree.digest(), model.digest(), 'digest');
}

test('stats, data size and the lazily maintained digest match a plain model with a from-scratch digest', () => {
  fc.assert(
    fc.property(fc.array(step, { minLength: 1, maxLength: 80 }), (steps) => {
      const tree = new DataTree();
      const quiet = new DataTree();
      const model = new RefTree();
      const preparer = new RequestPreparer(tree, { extendedTypesEnabled: true });
      const pending: Txn[] = [];
      let zxid = 0;
      let time = 1_000;
      const applyOne = (): void => {
        const txn = pending.shift()!;
        tree.apply(txn);
        assert.equal(quiet.apply(txn, NO_RESULT), undefined);
        model.apply(txn);
      };
      for (const s of steps) {
        if (s.kind === 'write') {
          time += s.dt;
          pending.push(preparer.prepare({ sessionId: SESSIONS[s.session]!, cxid: zxid, zxid: ++zxid, time }, s.request, AUTH[s.auth]!));
        } else if (s.kind === 'apply') {
          for (let i = 0; i < s.count && pending.length > 0; i++) applyOne();
          // Sometimes read the digest at once (one change pending), sometimes after many.
          if (s.count === 1) assert.equal(tree.digest(), model.digest());
        } else if (s.kind === 'snapshot') {
          // A checkpoint: reading the digest settles the pending re-hashes mid-run.
          assertMatchesModel(tree, model);
        } else {
          for (const p of tree.expiredContainersAndTtls(time + 10_000)) {
            pending.push(preparer.prepare({ sessionId: 0n, cxid: 0, zxid: ++zxid, time }, { type: OpCode.deleteContainer, path: p }));
          }
        }
      }
      while (pending.length > 0) applyOne();
      assertMatchesModel(tree, model);
      assertSameTree(quiet, tree);
      assertMatchesModel(quiet, model);
    }),
    { numRuns: 200, seed: 1357 },
  );
});

test('apply with { result: false } changes the tree exactly as apply does, and returns undefined', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(request, fc.nat(2), fc.nat(2)), { maxLength: 40 }), (requests) => {
      const tree = new DataTree();
      const quiet = new DataTree();
      const preparer = new RequestPreparer(tree, { extendedTypesEnabled: true });
      let zxid = 0;
      for (const [req, session, auth] of requests) {
        const txn = preparer.prepare({ sessionId: SESSIONS[session]!, cxid: 0, zxid: ++zxid, time: zxid * 10 }, req, AUTH[auth]!);
        assert.ok(tree.apply(txn).zxid === txn.header.zxid);
        assert.equal(quiet.apply(txn, NO_RESULT), undefined);
      }
      assertSameTree(quiet, tree);
      assert.equal(quiet.lastProcessedZxid, tree.lastProcessedZxid);
      assert.deepEqual([...quiet.sessions], [...tree.sessions]);
      for (const session of SESSIONS) assert.deepEqual([...quiet.ephemeralsOf(session)].sort(), [...tree.ephemeralsOf(session)].sort());
      assert.deepEqual(quiet.expiredContainersAndTtls(1e9), tree.expiredContainersAndTtls(1e9));
    }),
    { numRuns: 200, seed: 2468 },
  );
});

test('prepare with outstanding changes gives the txns that preparing after applying them gives', () => {
  fc.assert(
    fc.property(fc.array(step, { minLength: 1, maxLength: 80 }), (steps) => {
      // `lagging` applies only when a step says so; `eager` applies every txn at once.
      const lagging = new DataTree();
      const eager = new DataTree();
      const lagPreparer = new RequestPreparer(lagging, { extendedTypesEnabled: true });
      const eagerPreparer = new RequestPreparer(eager, { extendedTypesEnabled: true });
      const pending: Txn[] = [];
      let zxid = 0;
      let time = 1_000;
      const write = (header: TxnHeader, req: PrepareRequest, auth: number): void => {
        const txn = lagPreparer.prepare(header, req, AUTH[auth]!);
        const expected = eagerPreparer.prepare(header, req, AUTH[auth]!);
        assert.deepEqual(txn, expected);
        eager.apply(expected);
        pending.push(txn);
      };
      for (const s of steps) {
        if (s.kind === 'write') {
          time += s.dt;
          write({ sessionId: SESSIONS[s.session]!, cxid: zxid, zxid: ++zxid, time }, s.request, s.auth);
        } else if (s.kind === 'apply') {
          for (let i = 0; i < s.count && pending.length > 0; i++) lagging.apply(pending.shift()!);
        } else if (s.kind === 'sweep') {
          for (const p of eager.expiredContainersAndTtls(time + 10_000)) {
            write({ sessionId: 0n, cxid: 0, zxid: ++zxid, time }, { type: OpCode.deleteContainer, path: p }, 0);
          }
        }
        assert.equal(lagPreparer.outstandingCount >= 0, true);
      }
      while (pending.length > 0) lagging.apply(pending.shift()!);
      assertSameTree(lagging, eager);
    }),
    { numRuns: 200, seed: 97531 },
  );
});

test('digest stays exact past the dirty-node limits, with slot reuse after deletes', () => {
  const tree = new DataTree();
  const quiet = new DataTree();
  const model = new RefTree();
  const preparer = new RequestPreparer(tree);
  let zxid = 0;
  const run = (req: PrepareRequest): void => {
    zxid++;
    const txn = preparer.prepare({ sessionId: SESSIONS[0]!, cxid: zxid, zxid, time: 5_000 + zxid }, req);
    assert.equal(tree.apply(txn).err, 0);
    quiet.apply(txn, NO_RESULT);
    model.apply(txn);
  };
  const acl = OPEN_ACL_UNSAFE.map((a) => ({ perms: a.perms, id: { ...a.id } }));
  for (const p of ['/p0', '/p1', '/p2']) run({ type: OpCode.create, path: p, data: null, acl, flags: 0 });
  // 6000 creates (more dirty nodes than the limit, so settles happen inside apply).
  for (let i = 0; i < 6000; i++) run({ type: OpCode.create, path: `/p${i % 3}/n${i}`, data: Uint8Array.of(i & 0xff, i >> 8), acl, flags: i % 2 });
  assert.equal(tree.digest(), model.digest());
  // Delete half while their hashes are pending, then create again (slots are reused).
  for (let i = 0; i < 6000; i += 2) run({ type: OpCode.setData, path: `/p${i % 3}/n${i}`, data: null, version: -1 });
  for (let i = 0; i < 6000; i += 2) run({ type: OpCode.delete, path: `/p${i % 3}/n${i}`, version: -1 });
  assert.equal(tree.digest(), model.digest());
  assert.equal(quiet.digest(), model.digest());
  for (let i = 0; i < 5000; i++) run({ type: OpCode.create, path: `/p${i % 3}/m${i}`, data: new Uint8Array(i % 7), acl, flags: 0 });
  for (let i = 1; i < 6000; i += 2) run({ type: OpCode.setData, path: `/p${i % 3}/n${i}`, data: Uint8Array.of(1, 2, 3), version: -1 });
  assertMatchesModel(tree, model);
  // Create/delete churn: the dirty list fills with removed nodes (past its own limit)
  // while few live nodes are dirty; freed slots wait for the settle, then are reused.
  for (let i = 0; i < 17_000; i++) {
    run({ type: OpCode.create, path: `/p1/c${i}`, data: Uint8Array.of(i & 0xff), acl, flags: 0 });
    run({ type: OpCode.delete, path: `/p1/c${i}`, version: -1 });
  }
  run({ type: OpCode.setData, path: '/p2', data: Uint8Array.of(9), version: -1 });
  assertMatchesModel(tree, model);
  assertMatchesModel(quiet, model);
  const reloaded = DataTree.deserialize(tree.serialize());
  assert.equal(reloaded.digest(), model.digest());
  assertSameTree(reloaded, tree);
});

test('the outstanding-change queue survives thousands of outstanding txns applied in uneven chunks', () => {
  const lagging = new DataTree();
  const eager = new DataTree();
  const lagPreparer = new RequestPreparer(lagging);
  const eagerPreparer = new RequestPreparer(eager);
  const acl = OPEN_ACL_UNSAFE.map((a) => ({ perms: a.perms, id: { ...a.id } }));
  const pending: Txn[] = [];
  let zxid = 0;
  const write = (req: PrepareRequest): void => {
    zxid++;
    const header = { sessionId: SESSIONS[zxid % 3]!, cxid: zxid, zxid, time: zxid };
    const txn = lagPreparer.prepare(header, req);
    const expected = eagerPreparer.prepare(header, req);
    assert.deepEqual(txn, expected);
    eager.apply(expected);
    pending.push(txn);
  };
  write({ type: OpCode.create, path: '/q', data: null, acl, flags: 0 });
  for (let round = 0; round < 6; round++) {
    for (let i = 0; i < 1500; i++) {
      const n = (round * 1500 + i) % 2000;
      const kind = (i + round) % 4;
      if (kind === 0) write({ type: OpCode.create, path: `/q/n${n}`, data: null, acl, flags: (i & 1) * 3 });
      else if (kind === 1) write({ type: OpCode.setData, path: `/q/n${(n * 7) % 2000}`, data: Uint8Array.of(round), version: -1 });
      else if (kind === 2) write({ type: OpCode.delete, path: `/q/n${(n * 3) % 2000}`, version: -1 });
      else write({ type: OpCode.check, path: `/q/n${n}`, version: round });
    }
    // Apply most of it in uneven chunks, leaving a tail outstanding across rounds.
    const keep = 100 + round * 37;
    while (pending.length > keep) {
      const chunk = Math.min(pending.length - keep, 1 + ((pending.length * 31) % 700));
      for (let i = 0; i < chunk; i++) lagging.apply(pending.shift()!);
    }
    assert.equal(lagPreparer.outstandingCount > 0, true);
  }
  write({ type: OpCode.closeSession });
  while (pending.length > 0) lagging.apply(pending.shift()!);
  assertSameTree(lagging, eager);
});
