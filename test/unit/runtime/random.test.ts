import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../../../src/runtime/random.js';

test('the same seed gives the same stream, another seed another', () => {
  const draw = (seed: number) => Array.from({ length: 8 }, ((r) => () => r.int(1_000_000))(seededRandom(seed)));
  assert.deepEqual(draw(42), draw(42));
  assert.notDeepEqual(draw(42), draw(43));
});

test('next() stays in [0, 1) and int() in range, roughly uniform', () => {
  const random = seededRandom(7);
  const buckets = new Array(10).fill(0);
  for (let i = 0; i < 100_000; i++) {
    const x = random.next();
    assert.ok(x >= 0 && x < 1);
    buckets[random.int(10)]++;
  }
  for (const count of buckets) assert.ok(count > 9_000 && count < 11_000, `bucket ${count}`);
});

test('forks are deterministic and independent of each other', () => {
  const a = seededRandom(1);
  const b = seededRandom(1);
  const fa = a.fork('transport');
  const fb = b.fork('transport');
  assert.equal(fa.next(), fb.next());
  const other = seededRandom(1).fork('election');
  assert.notEqual(seededRandom(1).fork('transport').next(), other.next());
});
