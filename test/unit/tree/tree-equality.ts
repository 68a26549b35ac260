/** Field-by-field comparison of two trees (for snapshot and replay tests). */
import assert from 'node:assert/strict';
import type { DataTree } from '../../../src/tree/data-tree.js';

/** Assert that two trees hold the same nodes with the same stats, data, ACLs and children. */
export function assertSameTree(actual: DataTree, expected: DataTree): void {
  const paths = [...expected.paths()].sort();
  assert.deepEqual([...actual.paths()].sort(), paths);
  for (const path of paths) {
    assert.deepEqual(actual.getData(path), expected.getData(path), `data/stat of ${path}`);
    assert.deepEqual(actual.getACL(path), expected.getACL(path), `ACL of ${path}`);
    assert.deepEqual(actual.getChildren(path)!.sort(), expected.getChildren(path)!.sort(), `children of ${path}`);
    assert.equal(actual.rawEphemeralOwner(path), expected.rawEphemeralOwner(path), `owner of ${path}`);
  }
  assert.equal(actual.nodeCount, expected.nodeCount);
  assert.equal(actual.lastProcessedZxid, expected.lastProcessedZxid);
  assert.deepEqual([...actual.sessions].sort(), [...expected.sessions].sort());
  assert.equal(actual.digest(), expected.digest());
}
