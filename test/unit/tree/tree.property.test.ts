import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OpCode, Perms } from '../../../src/protocol/constants.js';
import type { ACL, Id, MultiWriteOp, SessionId } from '../../../src/protocol/records.js';
import type { Txn } from '../../../src/protocol/txn.js';
import { digestId } from '../../../src/tree/acl.js';
import { DataTree } from '../../../src/tree/data-tree.js';
import { NodeKind, nodeKindOf } from '../../../src/tree/ephemeral.js';
import { RequestPreparer, type PrepareRequest } from '../../../src/tree/prepare.js';
import { assertSameTree } from './tree-equality.js';

const alice: Id = { scheme: 'digest', id: digestId('alice:pw') };
const ACLS: ACL[][] = [
  [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }],
  [{ perms: Perms.READ | Perms.CREATE | Perms.DELETE, id: { scheme: 'world', id: 'anyone' } }],
  [{ perms: Perms.ALL, id: alice }],
  [{ perms: Perms.ALL, id: { scheme: 'auth', id: '' } }],
  [],
];
const AUTH: Id[][] = [[], [alice], [{ scheme: 'super', id: '' }]];
const SESSIONS: SessionId[] = [0x0100_0000_0000_0001n, 0x0100_0000_0000_0002n, 0x0200_0000_0000_0003n];

const name = fc.constantFrom('a', 'b', 'c');
// Shallow paths dominate so that most creates find their parent.
const path = fc
  .oneof({ weight: 5, arbitrary: fc.constant(1) }, { weight: 3, arbitrary: fc.constant(2) }, { weight: 2, arbitrary: fc.constant(3) })
  .chain((depth) => fc.array(name, { minLength: depth, maxLength: depth }))
  .map((parts) => '/' + parts.join('/'));
const anyPath = fc.oneof({ weight: 8, arbitrary: path }, { weight: 1, arbitrary: fc.constantFrom('/', '/zookeeper', 'bad', '/a/', '/a//b', '') });
const data = fc.oneof(fc.constant(null), fc.uint8Array({ maxLength: 6 }));
const version = fc.constantFrom(-1, -1, 0, 1, 2);
const aclIndex = fc.nat(ACLS.length - 1);

const createReq = fc.record({
  type: fc.constantFrom(OpCode.create, OpCode.create, OpCode.create2, OpCode.createContainer, OpCode.createTTL),
  path: anyPath,
  data,
  acl: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 4, arbitrary: aclIndex }).map((i) => ACLS[i]!),
  flags: fc.oneof(
    { weight: 8, arbitrary: fc.constant(0) },
    { weight: 3, arbitrary: fc.constant(1) },
    { weight: 6, arbitrary: fc.nat(6) },
    { weight: 1, arbitrary: fc.constantFrom(7, -1) },
  ),
  ttl: fc.constantFrom(-1, 0, 50, 1000),
}).map((r) => (r.type === OpCode.createTTL ? r : { ...r, ttl: undefined }));
const deleteReq = fc.record({ type: fc.constant(OpCode.delete), path: anyPath, version });
const setDataReq = fc.record({ type: fc.constant(OpCode.setData), path: anyPath, data, version });
const checkReq = fc.record({ type: fc.constant(OpCode.check), path: anyPath, version });
const setAclReq = fc.record({ type: fc.constant(OpCode.setACL), path: anyPath, acl: aclIndex.map((i) => ACLS[i]!), version });
const multiOp = fc.oneof(createReq, deleteReq, setDataReq, checkReq) as fc.Arbitrary<MultiWriteOp>;

const request: fc.Arbitrary<PrepareRequest> = fc.oneof(
  { weight: 6, arbitrary: createReq as fc.Arbitrary<PrepareRequest> },
  { weight: 3, arbitrary: deleteReq },
  { weight: 3, arbitrary: setDataReq },
  { weight: 1, arbitrary: setAclReq },
  { weight: 1, arbitrary: checkReq },
  { weight: 2, arbitrary: fc.array(multiOp, { maxLength: 4 }).map((ops) => ({ type: OpCode.multi, ops })) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant(OpCode.createSession), timeout: fc.constantFrom(1000, 4000) }) },
  { weight: 1, arbitrary: fc.constant({ type: OpCode.closeSession }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant(OpCode.deleteContainer), path }) },
);

type Step =
  | { kind: 'write'; request: PrepareRequest; session: number; auth: number; dt: number }
  | { kind: 'apply'; count: number }
  | { kind: 'snapshot' }
  | { kind: 'sweep' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('write' as const), request, session: fc.nat(2), auth: fc.nat(2), dt: fc.nat(400) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('apply' as const), count: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'snapshot' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'sweep' as const }) },
);

/** Structural invariants every tree must keep. */
function assertInvariants(tree: DataTree): void {
  let count = 0;
  for (const p of tree.paths()) {
    count++;
    const stat = tree.stat(p)!;
    const children = tree.getChildren(p)!;
    assert.equal(stat.numChildren, children.length);
    for (const c of children) assert.ok(tree.exists(p === '/' ? `/${c}` : `${p}/${c}`), `child ${c} of ${p} exists`);
    if (p !== '/') {
      const parent = p.slice(0, p.lastIndexOf('/')) || '/';
      assert.ok(tree.getChildren(parent)!.includes(p.slice(p.lastIndexOf('/') + 1)), `${p} is linked in its parent`);
    }
    const owner = tree.rawEphemeralOwner(p)!;
    if (owner !== 0n && nodeKindOf(owner) === NodeKind.EPHEMERAL) {
      assert.ok(tree.ephemeralsOf(owner).has(p), `${p} is indexed under its owner`);
      assert.equal(children.length, 0, 'ephemerals have no children');
    }
  }
  assert.equal(count, tree.nodeCount);
  for (const owner of tree.ephemeralOwners()) {
    for (const p of tree.ephemeralsOf(owner)) assert.equal(tree.rawEphemeralOwner(p), owner);
  }
}

test('prepare→apply sequences: a tree restored from a mid-run snapshot ends identical', () => {
  fc.assert(
    fc.property(fc.array(step, { minLength: 1, maxLength: 60 }), (steps) => {
      const tree = new DataTree();
      const preparer = new RequestPreparer(tree, { extendedTypesEnabled: true });
      const pending: Txn[] = [];
      const applied: Txn[] = [];
      let zxid = 0;
      let time = 1_000;
      let snapshot: { bytes: Uint8Array; at: number } | undefined;
      const applyOne = (): void => {
        const txn = pending.shift()!;
        tree.apply(txn);
        applied.push(txn);
      };
      for (const s of steps) {
        if (s.kind === 'write') {
          time += s.dt;
          const header = { sessionId: SESSIONS[s.session]!, cxid: zxid, zxid: ++zxid, time };
          pending.push(preparer.prepare(header, s.request, AUTH[s.auth]!)); // must never throw
        } else if (s.kind === 'apply') {
          for (let i = 0; i < s.count && pending.length > 0; i++) applyOne();
        } else if (s.kind === 'snapshot') {
          if (snapshot === undefined) snapshot = { bytes: tree.serialize(), at: applied.length };
        } else {
          for (const p of tree.expiredContainersAndTtls(time + 10_000)) {
            pending.push(preparer.prepare({ sessionId: 0n, cxid: 0, zxid: ++zxid, time }, { type: OpCode.deleteContainer, path: p }));
          }
        }
      }
      while (pending.length > 0) applyOne();
      assertInvariants(tree);

      // The incremental digest equals the one recomputed from scratch by a reload.
      const reloaded = DataTree.deserialize(tree.serialize());
      assertSameTree(reloaded, tree);

      const snap = snapshot ?? { bytes: new DataTree().serialize(), at: 0 };
      const follower = DataTree.deserialize(snap.bytes);
      for (const txn of applied.slice(snap.at)) follower.apply(txn);
      assertSameTree(follower, tree);
    }),
    { numRuns: 200, seed: 20240601 },
  );
});

test('prepare never throws for arbitrary well-typed requests and always returns a txn', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(request, fc.nat(2), fc.nat(2)), { maxLength: 40 }), (requests) => {
      const tree = new DataTree();
      const preparer = new RequestPreparer(tree, { extendedTypesEnabled: true });
      let zxid = 0;
      for (const [req, session, auth] of requests) {
        const txn = preparer.prepare({ sessionId: SESSIONS[session]!, cxid: 0, zxid: ++zxid, time: zxid }, req, AUTH[auth]!);
        assert.ok(['create', 'delete', 'setData', 'setACL', 'check', 'error', 'multi', 'createSession', 'closeSession'].includes(txn.body.kind));
        if (txn.body.kind === 'multi') assert.equal(txn.body.ops.length, (req as { ops: unknown[] }).ops.length);
        tree.apply(txn);
      }
      assertInvariants(tree);
    }),
    { numRuns: 150, seed: 7 },
  );
});
