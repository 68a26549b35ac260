/** Per-session FIFO of pending requests on one server. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PendingRequests, type PendingEntry } from '../../../src/server/pending-requests.js';

function entry(cxid: number, kind: PendingEntry['kind'], log: string[], read?: () => unknown): PendingEntry {
  return { cxid, kind, deliver: (v) => log.push(`${cxid}:${String(v)}`), done: false, value: undefined, ...(read ? { read } : {}) };
}

test('a session\'s requests are answered in issue order, whatever order they complete in', () => {
  const p = new PendingRequests();
  const log: string[] = [];
  p.add(1n, entry(1, 'write', log));
  p.add(1n, entry(2, 'write', log));
  p.add(1n, entry(3, 'read', log, () => 'r'));
  p.add(1n, entry(4, 'write', log));
  assert.ok(p.complete(1n, 2, 'write', 'b'));
  assert.deepEqual(log, []);
  assert.ok(p.complete(1n, 1, 'write', 'a'));
  assert.deepEqual(log, ['1:a', '2:b', '3:r']);
  assert.equal(p.complete(1n, 9, 'write', 'x'), false, 'unknown cxid');
  assert.equal(p.complete(2n, 1, 'write', 'x'), false, 'unknown session');
  p.complete(1n, 4, 'write', 'd');
  assert.deepEqual(log, ['1:a', '2:b', '3:r', '4:d']);
  assert.equal(p.size, 0);
  assert.equal(p.has(1n), false);
});

test('failAll answers every pending request, completed ones with their own outcome', () => {
  const p = new PendingRequests();
  const log: string[] = [];
  p.add(1n, entry(1, 'write', log));
  p.add(1n, entry(2, 'write', log));
  p.add(2n, entry(1, 'sync', log));
  p.complete(1n, 2, 'write', 'done');
  p.failAll(() => 'lost');
  assert.deepEqual(log.sort(), ['1:lost', '1:lost', '2:done']);
  assert.equal(p.size, 0);
});

test('a callback may issue the session\'s next request, and even fail it at once', () => {
  const p = new PendingRequests();
  const log: string[] = [];
  const next = (cxid: number): PendingEntry => ({
    cxid,
    kind: 'write',
    deliver: (v) => {
      log.push(`${cxid}:${String(v)}`);
      if (cxid === 1) {
        p.add(7n, next(2)); // issued from the reply of 1 ...
        p.add(7n, next(3));
        p.complete(7n, 2, 'write', 'lost'); // ... and failed at once (an immediate ConnectionLoss)
      }
    },
    done: false,
    value: undefined,
  });
  p.add(7n, next(1));
  assert.ok(p.complete(7n, 1, 'write', 'a'));
  assert.deepEqual(log, ['1:a', '2:lost']);
  assert.ok(p.has(7n), '3 still waits');
  assert.ok(p.complete(7n, 3, 'write', 'c'));
  assert.deepEqual(log, ['1:a', '2:lost', '3:c']);
  assert.equal(p.size, 0);
  assert.equal(p.has(7n), false);
});

test('idle sessions are forgotten once they outnumber the busy ones; answers stay in order', () => {
  const p = new PendingRequests();
  const log: string[] = [];
  p.add(1n, entry(1, 'write', log)); // one busy session throughout
  for (let s = 2n; s < 3000n; s++) {
    p.add(s, entry(1, 'write', log));
    p.complete(s, 1, 'write', 'ok');
  }
  assert.equal(log.length, 2998);
  assert.ok(p.has(1n));
  for (let s = 2n; s < 3000n; s++) assert.equal(p.has(s), false);
  p.add(2n, entry(2, 'write', log));
  p.add(2n, entry(3, 'read', log, () => 'r'));
  assert.ok(p.complete(2n, 2, 'write', 'again'));
  assert.ok(p.complete(1n, 1, 'write', 'first'));
  assert.deepEqual(log.slice(-3), ['2:again', '3:r', '1:first']);
  assert.equal(p.size, 0);
});
