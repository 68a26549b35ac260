import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WaitTimeoutError } from '../../../src/recipes/errors.js';
import { eventStream } from '../../../src/recipes/stream.js';
import { WaitScope, Wakeup, raceSignal, sleep } from '../../../src/recipes/wait.js';
import { VirtualClock } from '../../../src/sim/virtual-clock.js';

test('a WaitScope times out on the injected clock with a WaitTimeoutError', async () => {
  const clock = new VirtualClock();
  const scope = new WaitScope(clock, { timeout: 100 }, 'acquire');
  const never = scope.race(new Promise<void>(() => {}));
  clock.advance(99);
  assert.equal(scope.aborted, false);
  clock.advance(1);
  await assert.rejects(never, (e: unknown) => e instanceof WaitTimeoutError && e.timeout === 100 && e.name === 'TimeoutError');
  scope.dispose();
  assert.equal(clock.pending, 0);
});

test('a WaitScope follows the caller\'s signal and detaches on dispose', async () => {
  const clock = new VirtualClock();
  const controller = new AbortController();
  const scope = new WaitScope(clock, { signal: controller.signal, timeout: 1000 });
  controller.abort(new Error('caller gave up'));
  await assert.rejects(scope.race(new Promise(() => {})), /caller gave up/);
  scope.dispose();
  assert.equal(clock.pending, 0, 'the timer is cleared');
  const already = new WaitScope(clock, { signal: AbortSignal.abort() });
  assert.throws(() => already.throwIfAborted(), { name: 'AbortError' });
  assert.throws(() => new WaitScope(clock, { timeout: -1 }), RangeError);
});

test('raceSignal settles with the promise when the signal stays quiet', async () => {
  const controller = new AbortController();
  assert.equal(await raceSignal(Promise.resolve(5), controller.signal), 5);
  await assert.rejects(raceSignal(Promise.reject(new Error('x')), controller.signal), /x/);
});

test('a Wakeup fired before the wait is not lost, and fires once', async () => {
  const wake = new Wakeup();
  const signal = new AbortController().signal;
  wake.fire();
  await wake.wait(signal);
  let woken = false;
  const waiting = wake.wait(signal).then(() => (woken = true));
  await Promise.resolve();
  assert.equal(woken, false);
  wake.fire();
  await waiting;
  assert.equal(woken, true);
  wake.fire();
  wake.reset();
  const controller = new AbortController();
  const pending = wake.wait(controller.signal);
  controller.abort();
  await assert.rejects(pending, { name: 'AbortError' });
});

test('sleep uses the injected clock', async () => {
  const clock = new VirtualClock();
  let done = false;
  const slept = sleep(clock, 50).then(() => (done = true));
  clock.advance(49);
  await Promise.resolve();
  assert.equal(done, false);
  clock.advance(1);
  await slept;
  assert.equal(done, true);
});

test('an event stream buffers, ends on close and throws on abort', async () => {
  let closed = 0;
  const { stream, sink } = eventStream<number>(() => closed++);
  sink.push(1);
  sink.push(2);
  const seen: number[] = [];
  const reading = (async () => {
    for await (const v of stream) {
      seen.push(v);
      if (v === 3) break;
    }
  })();
  await Promise.resolve();
  sink.push(3);
  await reading;
  assert.deepEqual(seen, [1, 2, 3]);
  assert.equal(closed, 1);
  assert.equal(sink.ended, true);
  const controller = new AbortController();
  const aborted = eventStream<number>(() => {}, controller.signal);
  const next = aborted.stream.next();
  controller.abort(new Error('stop'));
  await assert.rejects(next, /stop/);
});
