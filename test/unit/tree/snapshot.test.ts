import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpCode, Perms } from '../../../src/protocol/constants.js';
import { DecodeError } from '../../../src/protocol/errors.js';
import { digestId } from '../../../src/tree/acl.js';
import { DataTree } from '../../../src/tree/data-tree.js';
import { Harness, OPEN, SESSION, bytes, createOp } from './harness.js';
import { assertSameTree } from './tree-equality.js';

/** A tree with every kind of node, ACL, session and stat variation. */
function richTree(): Harness {
  const h = new Harness({ preparer: { extendedTypesEnabled: true }, tree: { configData: bytes('server.1=a:1:2') } });
  const alice = { scheme: 'digest', id: digestId('alice:pw') };
  h.createSession(SESSION, 10_000);
  h.createSession(0x0200_0000_0000_0002n, 20_000);
  h.create('/app', bytes('root data'));
  h.create('/app/null', null);
  h.create('/app/empty', new Uint8Array(0));
  h.create('/app/ünïcødé-路径', bytes('utf8'));
  h.create('/app/seq-', bytes('s'), 2);
  h.create('/app/seq-', bytes('s'), 2);
  h.create('/app/eph', bytes('e'), 1);
  h.create('/app/eph2', bytes('e'), 3, { session: 0x0200_0000_0000_0002n });
  h.create('/app/c', null, 4, { type: OpCode.createContainer });
  h.create('/app/c/x');
  h.delete('/app/c/x');
  h.create('/app/t', null, 5, { type: OpCode.createTTL, ttl: 5000 });
  h.create('/app/secret', bytes('s'), 0, { acl: [{ perms: Perms.ALL, id: alice }, { perms: Perms.READ, id: { scheme: 'ip', id: '10.0.0.0/8' } }] });
  h.setData('/app', bytes('changed'));
  h.setACL('/app/null', [{ perms: Perms.READ | Perms.ADMIN, id: { scheme: 'world', id: 'anyone' } }]);
  h.multi([createOp('/m'), createOp('/m/a'), createOp('/m/b')]);
  h.delete('/m/a');
  h.create('/big', new Uint8Array(70_000).fill(7));
  h.create('/fail'); // ok
  h.create('/fail'); // error txn: last zxid is an error
  return h;
}

test('a snapshot round trip preserves every node, stat, ACL, session, index and the digest', () => {
  const h = richTree();
  const bytesOut = h.tree.serialize();
  const restored = DataTree.deserialize(bytesOut);
  assertSameTree(restored, h.tree);
  assert.equal(restored.digest(), h.tree.digest());
  assert.equal(restored.lastProcessedZxid, h.tree.lastProcessedZxid);
  assert.deepEqual([...restored.sessions], [...h.tree.sessions]);
  assert.deepEqual(restored.getEphemerals(SESSION).sort(), h.tree.getEphemerals(SESSION).sort());
  assert.deepEqual(restored.getEphemerals(0x0200_0000_0000_0002n), ['/app/eph20000000006']);
  const later = h.time + 1_000_000;
  assert.deepEqual(restored.expiredContainersAndTtls(later), h.tree.expiredContainersAndTtls(later));
  assert.deepEqual(restored.expiredContainersAndTtls(later), ['/app/c', '/app/t']);
  assert.equal(restored.aclCount, h.tree.aclCount);
  assert.equal(restored.approximateDataSize, h.tree.approximateDataSize);
  // The restored tree serializes to the same bytes and keeps evolving identically.
  assert.deepEqual(restored.serialize(), bytesOut);
  const h2 = new Harness({ from: restored, preparer: { extendedTypesEnabled: true } });
  for (const harness of [h, h2]) {
    harness.time = 99_000;
    harness.create('/app/seq-', null, 2);
    harness.closeSession(SESSION);
    harness.setData('/app/secret', null, -1, { authIds: [{ scheme: 'super', id: '' }] });
  }
  assertSameTree(h2.tree, h.tree);
  assert.equal(h2.tree.digest(), h.tree.digest());
});

test('the initial tree round-trips', () => {
  const tree = new DataTree();
  const restored = DataTree.deserialize(tree.serialize());
  assertSameTree(restored, tree);
  assert.equal(restored.digest(), tree.digest());
});

test('equal trees built by different histories have equal digests', () => {
  const a = new Harness();
  const b = new Harness();
  const x = [{ perms: Perms.READ | Perms.ADMIN, id: { scheme: 'world', id: 'anyone' } }];
  const y = [{ perms: Perms.ALL, id: { scheme: 'digest', id: digestId('u:p') } }];
  // Same zxid for both children, created in the opposite order; ACLs interned in the opposite order.
  a.multi([
    { type: OpCode.create, path: '/x', data: bytes('1'), acl: x, flags: 0 },
    { type: OpCode.create, path: '/y', data: bytes('2'), acl: y, flags: 0 },
  ]);
  b.multi([
    { type: OpCode.create, path: '/y', data: bytes('2'), acl: y, flags: 0 },
    { type: OpCode.create, path: '/x', data: bytes('1'), acl: x, flags: 0 },
  ]);
  assert.equal(a.tree.digest(), b.tree.digest());
  // A node that came and went leaves its traces in stats, so the digests differ ...
  a.create('/tmp');
  a.delete('/tmp');
  b.create('/tmp');
  assert.notEqual(a.tree.digest(), b.tree.digest());
  // ... but the same final state reached by another route matches again.
  b.delete('/tmp');
  assert.equal(a.tree.digest(), b.tree.digest());
  // setData to a value and back is still a change (version, mzxid).
  const before = a.tree.digest();
  a.setData('/x', bytes('9'), -1, { authIds: [{ scheme: 'super', id: '' }] });
  assert.notEqual(a.tree.digest(), before);
});

test('digest differs for any field difference', () => {
  const base = () => {
    const h = new Harness();
    h.create('/n', bytes('data'));
    return h;
  };
  const ref = base().tree.digest();
  const variants = [
    (h: Harness) => h.setData('/n', bytes('data')),
    (h: Harness) => h.setACL('/n', OPEN),
    (h: Harness) => h.create('/n/c'),
    (h: Harness) => h.create('/m'),
  ];
  for (const change of variants) {
    const h = base();
    change(h);
    assert.notEqual(h.tree.digest(), ref);
  }
  const other = new Harness();
  other.create('/n', bytes('datb'));
  assert.notEqual(other.tree.digest(), ref);
  const eph = new Harness();
  eph.create('/n', bytes('data'), 1);
  assert.notEqual(eph.tree.digest(), ref);
});

test('garbage, truncated or corrupted snapshots throw DecodeError', () => {
  const h = new Harness();
  h.createSession(SESSION, 1000);
  h.create('/a', bytes('abc'));
  h.create('/a/e', null, 1);
  h.setACL('/a', [{ perms: Perms.ALL, id: { scheme: 'digest', id: digestId('u:p') } }]);
  const good = h.tree.serialize();
  assert.doesNotThrow(() => DataTree.deserialize(good));

  assert.throws(() => DataTree.deserialize(new Uint8Array(0)), DecodeError);
  assert.throws(() => DataTree.deserialize(bytes('definitely not a snapshot, just text')), DecodeError);
  assert.throws(() => DataTree.deserialize('nope' as unknown as Uint8Array), DecodeError);
  for (let n = 0; n < good.length; n++) {
    assert.throws(() => DataTree.deserialize(good.subarray(0, n)), DecodeError, `truncated to ${n} bytes`);
  }
  const longer = new Uint8Array(good.length + 1);
  longer.set(good);
  assert.throws(() => DataTree.deserialize(longer), DecodeError);
  // Every single-byte corruption is caught (structure checks, digest, meta hash).
  for (let i = 0; i < good.length; i++) {
    for (const flip of [0x01, 0x80, 0xff]) {
      const bad = Uint8Array.from(good);
      bad[i] = bad[i]! ^ flip;
      assert.throws(() => DataTree.deserialize(bad), DecodeError, `byte ${i} ^ ${flip}`);
    }
  }
  // A snapshot inside a larger buffer (offset view) decodes.
  const framed = new Uint8Array(good.length + 10);
  framed.set(good, 7);
  assertSameTree(DataTree.deserialize(framed.subarray(7, 7 + good.length)), h.tree);
});

test('deserialize copies node data out of the snapshot buffer', () => {
  const h = new Harness();
  h.create('/a', bytes('abc'));
  const snap = h.tree.serialize();
  const restored = DataTree.deserialize(snap);
  snap.fill(0);
  assert.deepEqual(restored.getData('/a')!.data, bytes('abc'));
});

test('a snapshot with a repeated, malformed or orphaned path is rejected before its digest is checked', () => {
  const h = new Harness();
  h.create('/ab', bytes('1'));
  h.create('/ac', bytes('2'));
  h.create('/ab/x', bytes('3'));
  const good = h.tree.serialize();
  /** The snapshot with the path `from` (same length) rewritten to `to`. */
  const rewrite = (from: string, to: string): Uint8Array => {
    const bad = Uint8Array.from(good);
    const needle = bytes(from);
    for (let i = 0; i + needle.length <= bad.length; i++) {
      if (bad[i - 4] === needle.length && needle.every((b, k) => bad[i + k] === b)) {
        bad.set(bytes(to), i);
        return bad;
      }
    }
    throw new Error(`${from} not found`);
  };
  assert.throws(() => DataTree.deserialize(rewrite('/ac', '/ab')), /repeats path \/ab/);
  assert.throws(() => DataTree.deserialize(rewrite('/ac', '/a/')), /malformed/);
  assert.throws(() => DataTree.deserialize(rewrite('/ac', '/a\u0001')), /malformed/);
  assert.throws(() => DataTree.deserialize(rewrite('/ab/x', '/zz/x')), /precedes its parent/);
  assert.throws(() => DataTree.deserialize(rewrite('/ab/x', '/ac/x')), DecodeError); // valid structure, wrong digest
});
