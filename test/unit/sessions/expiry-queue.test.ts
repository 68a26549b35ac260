import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExpiryQueue } from '../../../src/server/expiry-queue.js';

test('ExpiryQueue: entries expire between timeout and timeout + tick after their last touch', () => {
  const queue = new ExpiryQueue<{ name: string; expiresAt: number }>(100);
  const a = { name: 'a', expiresAt: 0 };
  const b = { name: 'b', expiresAt: 0 };
  queue.touch(a, 1000, 500); // bucket 1600
  queue.touch(b, 1050, 500); // bucket 1600
  assert.equal(queue.size, 2);
  assert.equal(queue.nextExpiration(), 1100);
  queue.touch(b, 1120, 500); // bucket 1700
  assert.deepEqual(queue.takeExpired(1599), []);
  assert.deepEqual(queue.takeExpired(1600).map((e) => e.name), ['a']);
  assert.equal(a.expiresAt, 0);
  queue.remove(b);
  assert.equal(queue.size, 0);
  assert.deepEqual(queue.takeExpired(5000), []);
  // After being empty the queue starts afresh at the current time.
  queue.touch(a, 100_000, 300);
  assert.equal(queue.nextExpiration(), 100_100);
  assert.deepEqual(queue.takeExpired(100_399), []);
  assert.deepEqual(queue.takeExpired(100_400).map((e) => e.name), ['a']);
});
