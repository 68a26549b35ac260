import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeCount, encodeCount } from '../../../src/recipes/counter.js';
import { encodePriority, orderQueueItems, parseQueueItem } from '../../../src/recipes/queue.js';
import { boardPhaseOf, boardSnapshot } from '../../../src/recipes/status-board.js';
import { depthBelow, isWithin } from '../../../src/recipes/tree-cache.js';
import type { ParticipantStatus } from '../../../src/recipes/participant.js';

const uuid = '0bc63729-f67f-4c96-add6-4cb23d4166c0';

test('shared counts are 4-byte big-endian int32s (Curator\'s SharedCount encoding)', () => {
  assert.deepEqual([...encodeCount(1)], [0, 0, 0, 1]);
  assert.deepEqual([...encodeCount(-2)], [0xff, 0xff, 0xff, 0xfe]);
  assert.equal(decodeCount(new Uint8Array([0, 0, 1, 0])), 256);
  assert.equal(decodeCount(null), 0);
  assert.equal(decodeCount(new Uint8Array([1, 2])), 0);
  assert.throws(() => encodeCount(2 ** 31), RangeError);
  assert.throws(() => encodeCount(1.5), RangeError);
  fc.assert(fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (n) => decodeCount(encodeCount(n)) === n));
});

test('priority queue names sort by priority, then by counter', () => {
  assert.equal(encodePriority(-(2 ** 31)), '0000000000');
  assert.equal(encodePriority(0), '2147483648');
  assert.throws(() => encodePriority(2 ** 31), RangeError);
  const names = [
    `_c_${uuid}-qp-${encodePriority(10)}-0000000001`,
    `_c_${uuid}-qp-${encodePriority(-5)}-0000000004`,
    `_c_${uuid}-qp-${encodePriority(-5)}-0000000002`,
    `_c_${uuid}-qn-0000000003`,
    'lock-0000000009',
    'qn-12',
  ];
  assert.deepEqual(
    orderQueueItems(names).map((i) => `${i.priority}/${i.sequence}`),
    ['-5/2', '-5/4', '0/3', '10/1'],
  );
  assert.deepEqual(parseQueueItem(`qp-${encodePriority(7)}-0000000011`), { name: `qp-${encodePriority(7)}-0000000011`, priority: 7, sequence: 11 });
  assert.equal(parseQueueItem('qp-x-0000000011'), undefined);
});

test('board snapshots: the lowest request syncs, the rest queue; members sorted', () => {
  const snapshot = boardSnapshot(
    [
      { name: 'C', phase: 'paused', status: 'c' },
      { name: 'A', phase: 'syncing', status: 'a' },
    ],
    [
      { name: `_c_${uuid}-turn-0000000005`, member: 'C' },
      { name: `_c_${uuid}-turn-0000000003`, member: 'A' },
      { name: 'turn-0000000004', member: undefined },
    ],
  );
  assert.deepEqual(snapshot.members.map((m) => m.name), ['A', 'C']);
  assert.equal(snapshot.syncing, 'A');
  assert.deepEqual(snapshot.queue, ['?', 'C']);
  assert.equal(boardSnapshot([], []).syncing, undefined);
});

test('board phases follow the participant machine', () => {
  const status = (phase: ParticipantStatus['phase'], substate?: ParticipantStatus['substate']): ParticipantStatus => ({
    phase,
    substate,
    node: undefined,
    token: undefined,
    pausedBy: undefined,
    terms: 0,
    connected: true,
    lossReason: undefined,
    timedOut: false,
  });
  assert.equal(boardPhaseOf(status('member', 'ready')), 'ready');
  assert.equal(boardPhaseOf(status('member', 'paused')), 'paused');
  assert.equal(boardPhaseOf(status('waiting', 'queued')), 'waiting');
  assert.equal(boardPhaseOf(status('holding', 'suspended')), 'syncing');
});

test('tree cache paths: depth below the root and containment', () => {
  assert.equal(depthBelow('/a', '/a'), 0);
  assert.equal(depthBelow('/a', '/a/b/c'), 2);
  assert.equal(depthBelow('/', '/x'), 1);
  assert.ok(isWithin('/a', '/a/b'), '/a/b is within /a');
  assert.ok(!isWithin('/a', '/ab'), '/ab is not within /a');
  assert.ok(isWithin('/', '/anything'), 'everything is within /');
});
