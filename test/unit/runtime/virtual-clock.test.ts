import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../../src/sim/virtual-clock.js';

test('timers fire in deadline order, ties in creation order', () => {
  const clock = new VirtualClock(1000);
  const fired: string[] = [];
  clock.setTimeout(() => fired.push('b@20'), 20);
  clock.setTimeout(() => fired.push('a@10'), 10);
  clock.setTimeout(() => fired.push('c@20'), 20);
  clock.defer(() => fired.push('deferred'));
  clock.advance(15);
  assert.deepEqual(fired, ['deferred', 'a@10']);
  assert.equal(clock.now(), 1015);
  clock.advance(5);
  assert.deepEqual(fired, ['deferred', 'a@10', 'b@20', 'c@20']);
  assert.equal(clock.pending, 0);
});

test('a cleared timer never fires and is not counted', () => {
  const clock = new VirtualClock();
  let fired = false;
  const handle = clock.setTimeout(() => (fired = true), 5);
  assert.equal(clock.pending, 1);
  clock.clearTimeout(handle);
  clock.clearTimeout(handle);
  assert.equal(clock.pending, 0);
  clock.advance(10);
  assert.equal(fired, false);
});

test('callbacks scheduled while running are ordered after the current one', () => {
  const clock = new VirtualClock();
  const fired: number[] = [];
  clock.setTimeout(() => {
    fired.push(1);
    clock.setTimeout(() => fired.push(3), 0);
    clock.defer(() => fired.push(4));
  }, 0);
  clock.setTimeout(() => fired.push(2), 0);
  clock.flush();
  assert.deepEqual(fired, [1, 2, 3, 4]);
});

test('runUntil stops when the condition holds and throws when idle', () => {
  const clock = new VirtualClock();
  let n = 0;
  const tick = () => {
    n++;
    clock.setTimeout(tick, 100);
  };
  clock.setTimeout(tick, 100);
  clock.runUntil(() => n === 5);
  assert.equal(clock.now(), 500);
  const idle = new VirtualClock();
  assert.throws(() => idle.runUntil(() => false), /idle/);
});

test('a skewed view shifts now() but shares the timer queue', () => {
  const clock = new VirtualClock(0);
  let skew = 0;
  const view = clock.skewed(() => skew);
  let fired = false;
  view.setTimeout(() => (fired = true), 10);
  skew = 5000;
  assert.equal(view.now(), 5000);
  clock.advance(10);
  assert.equal(fired, true);
});
