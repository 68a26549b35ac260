import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseSequence, parseSequentialNode, queuePosition, readWritePosition, sortSequential } from '../../../src/recipes/sequence.js';

const uuid = '0bc63729-f67f-4c96-add6-4cb23d4166c0';
const other = '2d63f702-599d-49f6-8ccf-d95059d4675e';

test('parseSequence reads the 10-character counter, including Java negative counters', () => {
  assert.equal(parseSequence('lock-0000000007'), 7);
  assert.equal(parseSequence('0000000000'), 0);
  assert.equal(parseSequence('x-2147483647'), 2147483647);
  assert.equal(parseSequence('x--000000001'), -1);
  assert.equal(parseSequence('lock-00000007'), undefined, 'eight digits');
  assert.equal(parseSequence('lock-00000x0007'), undefined);
  assert.equal(parseSequence('ready'), undefined);
});

test('parseSequentialNode strips the protected head and checks the prefix', () => {
  assert.deepEqual(parseSequentialNode(`_c_${uuid}-lock-0000000012`, 'lock-'), {
    name: `_c_${uuid}-lock-0000000012`,
    base: 'lock-0000000012',
    prefix: 'lock-',
    sequence: 12,
  });
  assert.equal(parseSequentialNode(`_c_${uuid}-lease-0000000012`, 'lock-'), undefined);
  assert.equal(parseSequentialNode('lock-0000000003', 'lock-')?.sequence, 3);
});

test('sortSequential orders by counter, never by the random head, and ignores foreign children', () => {
  const children = [`_c_${other}-lock-0000000002`, 'ready', `_c_${uuid}-lock-0000000010`, 'lock-0000000001', `_c_${uuid}-lease-0000000000`];
  assert.deepEqual(
    sortSequential(children, 'lock-').map((n) => n.sequence),
    [1, 2, 10],
  );
  assert.equal(sortSequential(children).length, 4, 'without a prefix every sequential child counts');
});

test('sorting is a permutation-independent total order', () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 2 ** 31 - 1 }), { minLength: 1, maxLength: 30 }), (counters) => {
      const names = counters.map((n, i) => `_c_${i % 2 ? uuid : other}-lock-${String(n).padStart(10, '0')}`);
      const sorted = sortSequential(names, 'lock-').map((n) => n.sequence);
      assert.deepEqual(sorted, [...counters].sort((a, b) => a - b));
      assert.deepEqual(sortSequential([...names].reverse(), 'lock-').map((n) => n.sequence), sorted);
    }),
  );
});

test('queuePosition: the first holds, every other watches exactly the node `leases` places ahead', () => {
  const sorted = sortSequential(['lock-0000000003', 'lock-0000000001', 'lock-0000000007', 'lock-0000000005'], 'lock-');
  assert.deepEqual(queuePosition(sorted, 'lock-0000000001'), { kind: 'acquired', index: 0 });
  assert.deepEqual(queuePosition(sorted, 'lock-0000000005'), { kind: 'wait', index: 2, watch: 'lock-0000000003' });
  assert.deepEqual(queuePosition(sorted, 'lock-0000000009'), { kind: 'missing' });
  assert.deepEqual(queuePosition(sorted, 'lock-0000000005', 3), { kind: 'acquired', index: 2 });
  assert.deepEqual(queuePosition(sorted, 'lock-0000000007', 3), { kind: 'wait', index: 3, watch: 'lock-0000000001' });
});

test('no herd: with one lease, every node is watched by at most one waiter', () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 10_000 }), { minLength: 2, maxLength: 50 }), (counters) => {
      const sorted = sortSequential(counters.map((n) => `lock-${String(n).padStart(10, '0')}`), 'lock-');
      const watched = new Map<string, number>();
      let holders = 0;
      for (const node of sorted) {
        const position = queuePosition(sorted, node.name);
        if (position.kind === 'acquired') holders++;
        if (position.kind === 'wait') watched.set(position.watch, (watched.get(position.watch) ?? 0) + 1);
      }
      assert.equal(holders, 1);
      for (const count of watched.values()) assert.equal(count, 1);
    }),
  );
});

test('readWritePosition: readers wait only for the nearest earlier writer; writers for whoever is ahead', () => {
  const names = ['__READ__0000000001', '__READ__0000000002', '__WRIT__0000000003', '__READ__0000000004', '__WRIT__0000000005', '__READ__0000000006'];
  const sorted = sortSequential(names, '__');
  const isWriter = (n: { prefix: string }): boolean => n.prefix === '__WRIT__';
  assert.equal(readWritePosition(sorted, names[0]!, isWriter).kind, 'acquired');
  assert.equal(readWritePosition(sorted, names[1]!, isWriter).kind, 'acquired');
  assert.deepEqual(readWritePosition(sorted, names[2]!, isWriter), { kind: 'wait', index: 2, watch: names[1] });
  assert.deepEqual(readWritePosition(sorted, names[3]!, isWriter), { kind: 'wait', index: 3, watch: names[2] });
  assert.deepEqual(readWritePosition(sorted, names[5]!, isWriter), { kind: 'wait', index: 5, watch: names[4] });
  assert.equal(readWritePosition(sortSequential(['__WRIT__0000000009'], '__'), '__WRIT__0000000009', isWriter).kind, 'acquired');
});
