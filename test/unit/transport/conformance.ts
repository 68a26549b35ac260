/**
 * The transport conformance suite: one set of tests every `Transport` implementation
 * passes (in-process, worker_threads, TCP). Each implementation supplies a harness
 * factory; the suite only uses the `Transport` interface plus the harness's
 * crash/restart/until hooks.
 */
import { describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import type { PeerMessage, ServerId } from '../../../src/protocol/peer.js';
import type { Transport } from '../../../src/transport/types.js';
import { allSampleMessages, patternBytes } from './fixtures/messages.js';

/** What an implementation provides to run the suite. */
export interface ConformanceHarness {
  /** Server ids, index i ↔ endpoint(i). */
  readonly ids: readonly ServerId[];
  /** The current endpoint of server index `i` (a new object after `restart`). */
  endpoint(i: number): Transport;
  /** Run the transport (virtual: step the clock; real: yield to the event loop) until `cond` holds; throws on a hang. */
  until(cond: () => boolean, what: string): Promise<void>;
  /** Abruptly kill server `i` (crash, worker death, sockets destroyed). */
  crash(i: number): Promise<void>;
  /** Bring server `i` back with a fresh endpoint and return it. */
  restart(i: number): Promise<Transport>;
  /** Close every endpoint and whatever the harness started. */
  close(): Promise<void>;
  /** After `close()`: assert that nothing is left running (timers, sockets, workers). */
  assertClean(): Promise<void> | void;
}

/** Creates a harness with `n` endpoints (not necessarily connected yet). */
export type HarnessFactory = (n: number) => Promise<ConformanceHarness>;

/** What one endpoint observed. */
export interface Recording {
  batches: Map<ServerId, PeerMessage[][]>;
  events: string[];
  connected: Set<ServerId>;
  connects: Map<ServerId, number>;
  disconnects: Map<ServerId, number>;
}

/** Record everything `t` emits. */
export function record(t: Transport): Recording {
  const rec: Recording = { batches: new Map(), events: [], connected: new Set(), connects: new Map(), disconnects: new Map() };
  t.on('message', (from, messages) => {
    let list = rec.batches.get(from);
    if (!list) rec.batches.set(from, (list = []));
    list.push(messages);
  });
  t.on('connected', (peer) => {
    rec.events.push(`+${peer}`);
    rec.connected.add(peer);
    rec.connects.set(peer, (rec.connects.get(peer) ?? 0) + 1);
  });
  t.on('disconnected', (peer) => {
    rec.events.push(`-${peer}`);
    rec.connected.delete(peer);
    rec.disconnects.set(peer, (rec.disconnects.get(peer) ?? 0) + 1);
  });
  return rec;
}

function countMessages(rec: Recording, from: ServerId): number {
  let n = 0;
  for (const batch of rec.batches.get(from) ?? []) n += batch.length;
  return n;
}

async function withHarness(factory: HarnessFactory, n: number, body: (h: ConformanceHarness, recs: Recording[]) => Promise<void>): Promise<void> {
  const h = await factory(n);
  try {
    const recs = h.ids.map((_, i) => record(h.endpoint(i)));
    await h.until(() => recs.every((r, i) => h.ids.every((id, j) => j === i || r.connected.has(id))), 'all connected');
    await body(h, recs);
  } finally {
    await h.close();
  }
  await h.assertClean();
}

/** Register the conformance tests for one implementation. */
export function conformanceSuite(name: string, factory: HarnessFactory): void {
  describe(`${name} transport conformance`, () => {
    test('every pair connects, and connectedPeers agrees with the events', async () => {
      await withHarness(factory, 3, async (h, recs) => {
        for (let i = 0; i < 3; i++) {
          assert.deepEqual([...h.endpoint(i).connectedPeers()].sort(), h.ids.filter((_, j) => j !== i).sort());
          for (const [peer, count] of recs[i]!.connects) assert.equal(count, 1, `one connected(${peer}) at ${h.ids[i]}`);
        }
      });
    });

    test('FIFO per pair: 10k messages in many batches, three senders interleaved', async () => {
      await withHarness(factory, 3, async (h, recs) => {
        const [a, b, c] = [h.endpoint(0), h.endpoint(1), h.endpoint(2)];
        const total = 10_000;
        let sent = 0;
        let size = 1;
        while (sent < total) {
          const n = Math.min(size, total - sent);
          const mk = (base: number): PeerMessage[] => Array.from({ length: n }, (_, k) => ({ type: 'ack', zxid: base + sent + k }));
          a.send(h.ids[1]!, mk(0));
          c.send(h.ids[1]!, mk(1_000_000));
          b.send(h.ids[0]!, mk(2_000_000));
          sent += n;
          size = (size % 37) + 1;
        }
        await h.until(
          () => countMessages(recs[1]!, h.ids[0]!) === total && countMessages(recs[1]!, h.ids[2]!) === total && countMessages(recs[0]!, h.ids[1]!) === total,
          'all 30k messages',
        );
        const check = (rec: Recording, from: ServerId, base: number): void => {
          let expected = base;
          for (const batch of rec.batches.get(from)!) for (const m of batch) assert.equal((m as { zxid: number }).zxid, expected++);
        };
        check(recs[1]!, h.ids[0]!, 0);
        check(recs[1]!, h.ids[2]!, 1_000_000);
        check(recs[0]!, h.ids[1]!, 2_000_000);
      });
    });

    test('a batch arrives as one delivery, in order', async () => {
      await withHarness(factory, 2, async (h, recs) => {
        const batch: PeerMessage[] = [1, 2, 3, 4, 5].map((zxid) => ({ type: 'commit', zxid }));
        h.endpoint(0).send(h.ids[1]!, batch);
        h.endpoint(0).send(h.ids[1]!, [{ type: 'upToDate' }]);
        await h.until(() => (recs[1]!.batches.get(h.ids[0]!)?.length ?? 0) === 2, 'two batches');
        const got = recs[1]!.batches.get(h.ids[0]!)!;
        assert.deepEqual(got[0], [1, 2, 3, 4, 5].map((zxid) => ({ type: 'commit', zxid })));
        assert.deepEqual(got[1], [{ type: 'upToDate' }]);
      });
    });

    test('large messages: several MB snapshot chunks', async () => {
      await withHarness(factory, 2, async (h, recs) => {
        const chunks = [patternBytes(4 << 20, 1), patternBytes(3 << 20, 2), patternBytes(5 << 20, 3)];
        h.endpoint(0).send(h.ids[1]!, [{ type: 'snap', zxid: 1, chunk: chunks[0]!, last: false }]);
        h.endpoint(0).send(h.ids[1]!, [
          { type: 'snap', zxid: 1, chunk: chunks[1]!, last: false },
          { type: 'snap', zxid: 1, chunk: chunks[2]!, last: true },
        ]);
        await h.until(() => countMessages(recs[1]!, h.ids[0]!) === 3, 'three chunks');
        const got = recs[1]!.batches.get(h.ids[0]!)!.flat();
        for (let i = 0; i < 3; i++) {
          const m = got[i] as { chunk: Uint8Array; last: boolean };
          assert.ok(m.chunk instanceof Uint8Array);
          assert.equal(Buffer.compare(m.chunk, chunks[i]!), 0, `chunk ${i} intact`);
          assert.equal(m.last, i === 2);
        }
      });
    });

    test('every peer message type arrives intact', async () => {
      await withHarness(factory, 2, async (h, recs) => {
        h.endpoint(0).send(h.ids[1]!, allSampleMessages);
        for (const m of allSampleMessages) h.endpoint(1).send(h.ids[0]!, [m]);
        await h.until(
          () => countMessages(recs[1]!, h.ids[0]!) === allSampleMessages.length && countMessages(recs[0]!, h.ids[1]!) === allSampleMessages.length,
          'samples both ways',
        );
        assert.deepEqual(recs[1]!.batches.get(h.ids[0]!)![0], allSampleMessages);
        assert.deepEqual(recs[0]!.batches.get(h.ids[1]!)!.flat(), allSampleMessages);
      });
    });

    test('disconnect detection: a crashed peer and a closed peer are reported', async () => {
      await withHarness(factory, 3, async (h, recs) => {
        await h.crash(1);
        await h.until(() => !recs[0]!.connected.has(h.ids[1]!) && !recs[2]!.connected.has(h.ids[1]!), 'crash seen');
        await h.endpoint(2).close();
        await h.until(() => !recs[0]!.connected.has(h.ids[2]!), 'close seen');
        assert.deepEqual(h.endpoint(0).connectedPeers(), []);
        assert.equal(recs[0]!.disconnects.get(h.ids[1]!), 1);
        assert.equal(recs[0]!.disconnects.get(h.ids[2]!), 1);
        // Sending to a gone peer is best effort: no throw.
        h.endpoint(0).send(h.ids[1]!, [{ type: 'ack', zxid: 1 }]);
      });
    });

    test('reconnect: a restarted peer connects again and messages flow both ways', async () => {
      await withHarness(factory, 3, async (h, recs) => {
        await h.crash(1);
        await h.until(() => !recs[0]!.connected.has(h.ids[1]!), 'crash seen');
        const fresh = await h.restart(1);
        const rec1 = record(fresh);
        await h.until(
          () => recs[0]!.connected.has(h.ids[1]!) && rec1.connected.has(h.ids[0]!) && rec1.connected.has(h.ids[2]!),
          'reconnected',
        );
        assert.deepEqual(recs[0]!.events.filter((e) => e.endsWith(`${h.ids[1]}`)), [`+${h.ids[1]}`, `-${h.ids[1]}`, `+${h.ids[1]}`]);
        h.endpoint(0).send(h.ids[1]!, [{ type: 'ack', zxid: 10 }]);
        fresh.send(h.ids[0]!, [{ type: 'ack', zxid: 11 }]);
        fresh.send(h.ids[2]!, [{ type: 'ack', zxid: 12 }]);
        await h.until(
          () => countMessages(rec1, h.ids[0]!) === 1 && countMessages(recs[0]!, h.ids[1]!) === 1 && countMessages(recs[2]!, h.ids[1]!) === 1,
          'messages after reconnect',
        );
        assert.deepEqual(rec1.batches.get(h.ids[0]!), [[{ type: 'ack', zxid: 10 }]]);
      });
    });

    test('close is idempotent and stops delivery', async () => {
      const h = await factory(2);
      const recs = h.ids.map((_, i) => record(h.endpoint(i)));
      await h.until(() => recs[0]!.connected.has(h.ids[1]!), 'connected');
      await Promise.all([h.endpoint(0).close(), h.endpoint(0).close()]);
      await h.endpoint(0).close();
      h.endpoint(0).send(h.ids[1]!, [{ type: 'ack', zxid: 1 }]); // after close: ignored, no throw
      await h.until(() => !recs[1]!.connected.has(h.ids[0]!), 'peer saw close');
      await h.close();
      await h.close();
      await h.assertClean();
      assert.equal(recs[1]!.batches.size, 0);
    });

    test('seven peers: every pair exchanges', async () => {
      await withHarness(factory, 7, async (h, recs) => {
        for (let i = 0; i < 7; i++) {
          for (let j = 0; j < 7; j++) if (i !== j) h.endpoint(i).send(h.ids[j]!, [{ type: 'ack', zxid: h.ids[i]! * 100 + h.ids[j]! }]);
        }
        await h.until(() => recs.every((r, j) => h.ids.every((id, i) => i === j || countMessages(r, id) === 1)), 'all pairs');
        for (let j = 0; j < 7; j++) {
          for (let i = 0; i < 7; i++) {
            if (i !== j) assert.deepEqual(recs[j]!.batches.get(h.ids[i]!), [[{ type: 'ack', zxid: h.ids[i]! * 100 + h.ids[j]! }]]);
          }
        }
      });
    });
  });
}

/** `until` for real-time transports: yield to the event loop until `cond` holds (hang guard: 60 s). */
export async function pollUntil(cond: () => boolean, what: string, limitMs = 60_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  let spins = 0;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    // Spin on setImmediate first (fast), then back off to short sleeps.
    if (spins++ < 200) await new Promise((r) => setImmediate(r));
    else await new Promise((r) => setTimeout(r, 2));
  }
}
