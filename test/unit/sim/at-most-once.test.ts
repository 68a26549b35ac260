/**
 * The simulator's network models TCP: a batch the fault layer duplicates reaches the
 * receiver once (src/transport/inproc.ts `delivery`), whichever copy comes first; with
 * `tcp` delivery a live connection loses and reorders nothing either.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PeerMessage } from '../../../src/protocol/peer.js';
import { seededRandom } from '../../../src/runtime/random.js';
import { VirtualClock } from '../../../src/sim/virtual-clock.js';
import { InProcessNetwork } from '../../../src/transport/inproc.js';

function run(atMostOnce: boolean, faults: Parameters<InProcessNetwork['faults']['setLinkFaults']>[2]): { zxids: number[]; discarded: number } {
  const clock = new VirtualClock();
  const network = new InProcessNetwork({ clock, random: seededRandom(3), delivery: atMostOnce ? 'at-most-once' : 'raw' });
  const a = network.endpoint(1);
  const b = network.endpoint(2);
  const zxids: number[] = [];
  b.on('message', (_from, batch) => zxids.push(...batch.map((m) => (m as { zxid: number }).zxid)));
  clock.flush();
  network.faults.setLinkFaults(1, 2, faults);
  for (let i = 0; i < 40; i++) a.send(2, [{ type: 'ack', zxid: i } as PeerMessage]);
  clock.advance(200);
  return { zxids, discarded: network.discardedDuplicates };
}

test('atMostOnce: every duplicated batch is delivered once, in order', () => {
  const { zxids, discarded } = run(true, { duplicate: 1 });
  assert.deepEqual(zxids, Array.from({ length: 40 }, (_, i) => i));
  assert.equal(discarded, 40);
});

test('atMostOnce: with delays and reordering, the first copy to arrive counts and the other is dropped', () => {
  const { zxids, discarded } = run(true, { duplicate: 0.5, delay: 0.5, delayMs: { min: 1, max: 30 }, reorder: 0.3, reorderMs: 20 });
  assert.deepEqual([...zxids].sort((x, y) => x - y), Array.from({ length: 40 }, (_, i) => i));
  assert.ok(discarded > 5, `only ${discarded} copies discarded`);
});

test('without atMostOnce the duplicate is delivered (the raw fault, for transport tests)', () => {
  const { zxids, discarded } = run(false, { duplicate: 1 });
  assert.equal(zxids.length, 80);
  assert.equal(discarded, 0);
});

test('atMostOnce: copies in flight die with their connection (nothing is kept once it breaks)', () => {
  const clock = new VirtualClock();
  const network = new InProcessNetwork({ clock, random: seededRandom(4), delivery: 'at-most-once' });
  const a = network.endpoint(1);
  network.endpoint(2);
  clock.flush();
  network.faults.setLinkFaults(1, 2, { duplicate: 1, delay: 1, delayMs: { min: 50, max: 50 } });
  for (let i = 0; i < 10; i++) a.send(2, [{ type: 'ack', zxid: i } as PeerMessage]);
  assert.equal(network.duplicates.size, 20);
  network.faults.cut(1, 2);
  assert.equal(network.duplicates.size, 0);
});

test('tcp delivery: with loss, duplication and reordering, a live connection delivers every batch once and in order', () => {
  const clock = new VirtualClock();
  const network = new InProcessNetwork({ clock, random: seededRandom(5), delivery: 'tcp' });
  const a = network.endpoint(1);
  const b = network.endpoint(2);
  const zxids: number[] = [];
  b.on('message', (_from, batch) => zxids.push(...batch.map((m) => (m as { zxid: number }).zxid)));
  clock.flush();
  network.faults.setLinkFaults(1, 2, { drop: 0.3, duplicate: 0.2, reorder: 0.3, reorderMs: 20, delay: 0.2, delayMs: { min: 1, max: 30 } });
  for (let i = 0; i < 200; i++) {
    a.send(2, [{ type: 'ack', zxid: i } as PeerMessage]);
    clock.advance(1);
  }
  clock.advance(2_000);
  assert.deepEqual(zxids, Array.from({ length: 200 }, (_, i) => i));
});
