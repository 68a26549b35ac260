import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OpCode } from '../../../src/protocol/constants.js';
import type { Txn } from '../../../src/protocol/txn.js';
import { DataTree } from '../../../src/tree/data-tree.js';
import { NodeKind, nodeKindOf } from '../../../src/tree/ephemeral.js';
import { RequestPreparer } from '../../../src/tree/prepare.js';
import { AUTH, SESSIONS, request, step } from './arbitraries.js';
import { assertSameTree } from './tree-equality.js';

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
