import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import type { PeerMessage } from '../../../src/protocol/peer.js';
import { seededRandom } from '../../../src/runtime/random.js';
import { VirtualClock } from '../../../src/sim/virtual-clock.js';
import { InProcessNetwork } from '../../../src/transport/inproc.js';
import type { Transport } from '../../../src/transport/types.js';
import { record } from './conformance.js';

function setup(n: number, seed = 1) {
  const clock = new VirtualClock();
  const network = new InProcessNetwork({ clock, random: seededRandom(seed), trace: true });
  const endpoints = new Map<number, Transport>();
  for (let id = 1; id <= n; id++) endpoints.set(id, network.endpoint(id));
  const recs = new Map([...endpoints].map(([id, t]) => [id, record(t)]));
  clock.flush();
  return { clock, network, endpoints, recs };
}

const ack = (zxid: number): PeerMessage[] => [{ type: 'ack', zxid }];
const zxids = (batches: PeerMessage[][] | undefined): number[] => (batches ?? []).flat().map((m) => (m as { zxid: number }).zxid);

/** A seeded run with every fault kind; returns the delivery trace. */
function chaosRun(seed: number): string[] {
  const { clock, network, endpoints } = setup(5, seed);
  const traffic = seededRandom(99); // the same traffic for every seed: only the faults differ
  network.faults.setDefaultFaults({ drop: 0.1, duplicate: 0.1, delay: 0.2, delayMs: { min: 1, max: 30 }, reorder: 0.1, reorderMs: 15 });
  for (let step = 0; step < 400; step++) {
    const from = 1 + traffic.int(5);
    const to = 1 + traffic.int(5);
    endpoints.get(from)!.send(to, ack(step));
    if (step === 100) {
      for (let k = 0; k < 20; k++) endpoints.get(1)!.send(3, ack(10_000 + k)); // some are delayed, then lost
      network.faults.partition([1, 2], [3, 4, 5]);
    }
    if (step === 150) network.faults.partitionOneWay([3], [4]);
    if (step === 200) network.faults.heal();
    if (step === 250) {
      endpoints.get(1)!.send(2, ack(20_000)); // in flight to a crashing server
      network.faults.crash(2);
    }
    if (step === 300) endpoints.set(2, network.faults.restart(2));
    clock.advance(1 + traffic.int(3));
  }
  clock.advance(1000);
  return network.trace!;
}

test('same seed → identical delivery trace; another seed → a different one', () => {
  const a = chaosRun(1234);
  const b = chaosRun(1234);
  const c = chaosRun(4321);
  assert.ok(a.length > 300);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  for (const kind of ['dropped', 'lost', 'dead', 'blocked']) assert.ok(a.some((l) => l.endsWith(kind)), `trace has a ${kind} batch`);
  assert.ok(a.some((l) => / d\d>/.test(l)), 'trace has a duplicate');
});

test('traceHash is stable for the same run', () => {
  const { clock, network, endpoints } = setup(2);
  endpoints.get(1)!.send(2, ack(1));
  clock.flush();
  const h = network.traceHash();
  assert.equal(h, network.traceHash());
  endpoints.get(2)!.send(1, ack(2));
  clock.flush();
  assert.notEqual(network.traceHash(), h);
});

test('delivery is asynchronous and never re-entrant', () => {
  const { clock, endpoints, recs } = setup(2);
  endpoints.get(1)!.send(2, ack(1));
  assert.equal(recs.get(2)!.batches.size, 0);
  clock.flush();
  assert.deepEqual(zxids(recs.get(2)!.batches.get(1)), [1]);
});

test('symmetric partition: both sides see disconnected, cross traffic is lost, heal reconnects', () => {
  const { clock, network, endpoints, recs } = setup(3);
  endpoints.get(1)!.send(3, ack(1)); // in flight when the partition hits: lost
  network.faults.partition([1, 2], [3]);
  endpoints.get(1)!.send(3, ack(2));
  endpoints.get(1)!.send(2, ack(3));
  clock.flush();
  assert.deepEqual(endpoints.get(3)!.connectedPeers(), []);
  assert.deepEqual(endpoints.get(1)!.connectedPeers(), [2]);
  assert.deepEqual(recs.get(1)!.events, ['+2', '+3', '-3']);
  assert.equal(recs.get(3)!.batches.size, 0);
  assert.deepEqual(zxids(recs.get(2)!.batches.get(1)), [3]);
  network.faults.heal();
  endpoints.get(1)!.send(3, ack(4));
  clock.flush();
  assert.deepEqual(recs.get(3)!.events, ['+1', '+2', '-1', '-2', '+1', '+2']);
  assert.deepEqual(zxids(recs.get(3)!.batches.get(1)), [4]);
});

test('isolate and healPair', () => {
  const { clock, network, endpoints } = setup(3);
  network.faults.isolate(2);
  clock.flush();
  assert.deepEqual(endpoints.get(2)!.connectedPeers(), []);
  network.faults.healPair(2, 3);
  clock.flush();
  assert.deepEqual(endpoints.get(2)!.connectedPeers(), [3]);
  assert.deepEqual(endpoints.get(1)!.connectedPeers(), [3]);
});

test('one-way partition: one direction vanishes silently, the other works, no events', () => {
  const { clock, network, endpoints, recs } = setup(2);
  network.faults.partitionOneWay([1], [2]);
  endpoints.get(1)!.send(2, ack(1));
  endpoints.get(2)!.send(1, ack(2));
  clock.flush();
  assert.equal(recs.get(2)!.batches.size, 0);
  assert.deepEqual(zxids(recs.get(1)!.batches.get(2)), [2]);
  assert.deepEqual(recs.get(1)!.events, ['+2']);
  network.faults.heal();
  endpoints.get(1)!.send(2, ack(3));
  clock.flush();
  assert.deepEqual(zxids(recs.get(2)!.batches.get(1)), [3]);
});

test('crash loses in-flight batches, silences the old endpoint; restart gives a fresh one', () => {
  const { clock, network, endpoints, recs } = setup(2);
  const old = endpoints.get(2)!;
  endpoints.get(1)!.send(2, ack(1));
  old.send(1, ack(2));
  network.faults.crash(2);
  old.send(1, ack(3)); // a crashed endpoint sends nothing
  clock.flush();
  assert.equal(recs.get(2)!.batches.size, 0);
  assert.equal(recs.get(1)!.batches.size, 0);
  assert.deepEqual(recs.get(1)!.events, ['+2', '-2']);
  assert.throws(() => network.endpoint(1), /already has a live endpoint/);
  const fresh = network.faults.restart(2);
  assert.notEqual(fresh, old);
  const rec = record(fresh);
  endpoints.get(1)!.send(2, ack(4));
  clock.flush();
  assert.deepEqual(rec.events, ['+1']);
  assert.deepEqual(zxids(rec.batches.get(1)), [4]);
  assert.deepEqual(recs.get(1)!.events, ['+2', '-2', '+2']);
  assert.equal(recs.get(2)!.batches.size, 0, 'old endpoint hears nothing');
});

test('delay keeps FIFO; a partition discards delayed batches and their timers', () => {
  const { clock, network, endpoints, recs } = setup(2);
  network.faults.setLinkFaults(1, 2, { delay: 0.5, delayMs: { min: 5, max: 50 } });
  for (let i = 0; i < 200; i++) {
    endpoints.get(1)!.send(2, ack(i));
    if (i % 10 === 0) clock.advance(1);
  }
  clock.advance(100);
  assert.deepEqual(zxids(recs.get(2)!.batches.get(1)), Array.from({ length: 200 }, (_, i) => i));
  network.faults.setLinkFaults(1, 2, { delay: 1, delayMs: { min: 10, max: 10 } });
  endpoints.get(1)!.send(2, ack(500));
  network.faults.cut(1, 2);
  clock.flush();
  assert.equal(clock.pending, 0, 'delay timer cleared');
  network.faults.heal();
  clock.advance(50);
  assert.equal(zxids(recs.get(2)!.batches.get(1)).includes(500), false);
});

test('clearing faults while batches are delayed still keeps FIFO', () => {
  const { clock, network, endpoints, recs } = setup(2);
  network.faults.setLinkFaults(1, 2, { delay: 1, delayMs: { min: 10, max: 10 } });
  endpoints.get(1)!.send(2, ack(1));
  network.faults.clearFaults();
  endpoints.get(1)!.send(2, ack(2));
  clock.advance(20);
  assert.deepEqual(zxids(recs.get(2)!.batches.get(1)), [1, 2]);
});

test('drop, duplicate and reorder (deliberate guarantee violations)', () => {
  const { clock, network, endpoints, recs } = setup(4);
  network.faults.setLinkFaults(1, 2, { drop: 1 });
  network.faults.setLinkFaults(1, 3, { duplicate: 1 });
  network.faults.setLinkFaults(1, 4, { reorder: 0.5, reorderMs: 20 });
  for (let i = 0; i < 50; i++) {
    endpoints.get(1)!.send(2, ack(i));
    endpoints.get(1)!.send(3, ack(i));
    endpoints.get(1)!.send(4, ack(i));
  }
  clock.advance(100);
  assert.equal(recs.get(2)!.batches.size, 0);
  const dup = recs.get(3)!.batches.get(1)!;
  assert.equal(dup.length, 100);
  assert.notEqual(dup[0], dup[1], 'the duplicate is its own array');
  const reordered = zxids(recs.get(4)!.batches.get(1));
  assert.deepEqual([...reordered].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
  assert.notDeepEqual(reordered, Array.from({ length: 50 }, (_, i) => i));
  assert.deepEqual(recs.get(2)!.events, ['+1', '+3', '+4'], 'faults cause no connection events');
});

test('a handler that throws does not lose the rest of the queue', () => {
  const { clock, endpoints, recs } = setup(3);
  endpoints.get(2)!.once('message', () => {
    throw new Error('boom');
  });
  endpoints.get(1)!.send(2, ack(1));
  endpoints.get(1)!.send(3, ack(2));
  assert.throws(() => clock.flush(), /boom/);
  clock.flush();
  assert.deepEqual(zxids(recs.get(3)!.batches.get(1)), [2]);
});

test('unknown peers and sends before the peer exists are dropped without throwing', () => {
  const { clock, endpoints, network } = setup(1);
  endpoints.get(1)!.send(9, ack(1));
  const late = network.endpoint(9);
  const rec = record(late);
  clock.flush();
  assert.deepEqual(rec.events, ['+1']);
  assert.equal(rec.batches.size, 0);
});
