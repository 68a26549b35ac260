/** The in-memory history window covers (base, last] and evicts the oldest entries. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeZxid } from '../../../src/protocol/zxid.js';
import { HistoryWindow } from '../../../src/machines/history.js';
import { txns } from './fixtures.js';

test('keeps the last `capacity` transactions and moves its base', () => {
  const w = new HistoryWindow(5);
  w.push(txns(1, 1, 3));
  assert.equal(w.base, 0);
  assert.equal(w.last, makeZxid(1, 3));
  w.push(txns(1, 4, 8));
  assert.equal(w.size, 5);
  assert.equal(w.base, makeZxid(1, 3));
  assert.ok(w.contains(makeZxid(1, 3)), 'the base is history');
  assert.ok(w.contains(makeZxid(1, 6)));
  assert.ok(!w.contains(makeZxid(1, 2)));
  assert.deepEqual(w.slice(makeZxid(1, 5)).map((t) => t.header.cxid), [6, 7, 8]);
  assert.deepEqual(w.slice(makeZxid(1, 4), makeZxid(1, 6)).map((t) => t.header.cxid), [5, 6]);
  assert.equal(w.before(makeZxid(1, 6)), makeZxid(1, 5));
});

test('truncate and reset', () => {
  const w = new HistoryWindow(100);
  w.push(txns(1, 1, 10));
  w.truncate(makeZxid(1, 4));
  assert.equal(w.last, makeZxid(1, 4));
  w.push(txns(2, 1, 2));
  assert.deepEqual(w.slice(makeZxid(1, 3)).map((t) => t.header.zxid), [makeZxid(1, 4), makeZxid(2, 1), makeZxid(2, 2)]);
  w.reset(makeZxid(3, 7));
  assert.equal(w.size, 0);
  assert.equal(w.base, makeZxid(3, 7));
  assert.equal(w.last, makeZxid(3, 7));
});

test('evicting many entries stays correct across compaction', () => {
  const w = new HistoryWindow(10);
  for (let i = 1; i <= 5000; i++) w.push(txns(1, i, i));
  assert.equal(w.size, 10);
  assert.equal(w.base, makeZxid(1, 4990));
  assert.deepEqual(w.slice(w.base).map((t) => t.header.cxid), Array.from({ length: 10 }, (_, i) => 4991 + i));
});
