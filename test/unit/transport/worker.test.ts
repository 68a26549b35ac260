import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import type { MessagePort, Worker } from 'node:worker_threads';
import { WorkerHub, type WorkerTransportOptions } from '../../../src/transport/worker.js';
import type { Transport } from '../../../src/transport/types.js';
import { conformanceSuite, pollUntil, record, type ConformanceHarness } from './conformance.js';

function activePorts(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;
}

function hubHarness(options: WorkerTransportOptions) {
  return async (n: number): Promise<ConformanceHarness> => {
    const portsBefore = activePorts();
    const hub = new WorkerHub();
    const ids = Array.from({ length: n }, (_, i) => i + 1);
    const endpoints: Transport[] = ids.map((id) => hub.endpoint(id, options));
    return {
      ids,
      endpoint: (i) => endpoints[i]!,
      until: (cond, what) => pollUntil(cond, what),
      crash: async (i) => hub.kill(ids[i]!),
      restart: async (i) => (endpoints[i] = hub.endpoint(ids[i]!, options)),
      close: async () => {
        await Promise.all(endpoints.map((e) => e.close()));
        await hub.close();
      },
      assertClean: async () => {
        assert.deepEqual(hub.ids(), []);
        await pollUntil(() => activePorts() <= portsBefore, 'ports closed');
      },
    };
  };
}

conformanceSuite('worker_threads (main-thread endpoints, codec)', hubHarness({}));
conformanceSuite('worker_threads (main-thread endpoints, structured clone)', hubHarness({ encoding: 'clone' }));

test('worker transport: transferLargeBuffers moves big owned buffers and copies the rest', async () => {
  const hub = new WorkerHub();
  try {
    const a = hub.endpoint(1, { encoding: 'clone', transferLargeBuffers: true });
    const b = hub.endpoint(2);
    const rec = record(b);
    await pollUntil(() => a.connectedPeers().length === 1 && rec.connected.has(1), 'connected');
    const big = new Uint8Array(1 << 20).fill(9);
    const small = new Uint8Array(100).fill(3);
    a.send(2, [{ type: 'snap', zxid: 1, chunk: big, last: false }, { type: 'snap', zxid: 1, chunk: small, last: true }]);
    await pollUntil(() => rec.batches.has(1), 'delivered');
    const [m1, m2] = rec.batches.get(1)![0] as { chunk: Uint8Array }[];
    assert.equal(m1!.chunk.length, 1 << 20);
    assert.equal(m1!.chunk[12345], 9);
    assert.equal(big.length, 0, 'the big buffer was transferred (detached in the sender)');
    assert.equal(small.length, 100, 'the small one was copied');
    assert.equal(m2!.chunk[99], 3);
  } finally {
    await hub.close();
  }
});

test('worker transport: a malformed encoded batch is a warning and a disconnect', async () => {
  const hub = new WorkerHub();
  try {
    const a = hub.endpoint(1);
    const b = hub.endpoint(2);
    const rec = record(b);
    const warnings: string[] = [];
    b.on('warning', (w) => warnings.push(w));
    await pollUntil(() => a.connectedPeers().length === 1 && rec.connected.has(1), 'connected');
    const link = (a as unknown as { links: Map<number, { port: MessagePort }> }).links.get(2)!;
    link.port.postMessage(Uint8Array.of(1, 1, 1, 0x3f));
    await pollUntil(() => !rec.connected.has(1), 'disconnected');
    assert.match(warnings[0]!, /malformed batch from 1/);
  } finally {
    await hub.close();
  }
});

const fixture = new URL('./fixtures/echo-worker.ts', import.meta.url);

interface Events {
  list: { event: string; peer?: number; id?: number }[];
}
function watchWorker(worker: Worker): Events {
  const events: Events = { list: [] };
  worker.on('message', (m: { event: string }) => events.list.push(m));
  return events;
}

test('real workers: echo, relay between workers, termination and a crash are disconnects', async () => {
  const hub = new WorkerHub();
  try {
    const main = hub.endpoint(1);
    const rec = record(main);
    const w2 = hub.spawn(2, fixture);
    const w3 = hub.spawn(3, fixture);
    const w4 = hub.spawn(4, fixture);
    const [e2, e3, e4] = [w2, w3, w4].map(watchWorker);
    await pollUntil(() => [2, 3, 4].every((id) => rec.connected.has(id)), 'workers connected');
    await pollUntil(() => e3!.list.filter((e) => e.event === 'connected').length === 3, 'worker 3 sees everyone');

    const chunk = new Uint8Array(3 << 20).fill(7);
    main.send(2, [{ type: 'snap', zxid: 2 ** 40, chunk, last: true }]);
    main.send(3, [{ type: 'sync', sessionId: 2n ** 60n, cxid: 4 }]); // 3 relays to 4, which echoes to 3
    await pollUntil(() => (rec.batches.get(2)?.length ?? 0) === 1, 'echo from 2');
    const echoed = rec.batches.get(2)![0]![0] as { chunk: Uint8Array; zxid: number };
    assert.equal(echoed.zxid, 2 ** 40);
    assert.equal(Buffer.compare(echoed.chunk, chunk), 0);
    assert.equal(chunk.length, 3 << 20, 'the sender keeps its buffer (cloned, not transferred)');

    await w2.terminate();
    await pollUntil(() => !rec.connected.has(2), 'main sees worker 2 gone');
    await pollUntil(() => e3!.list.some((e) => e.event === 'disconnected' && e.peer === 2), 'worker 3 sees worker 2 gone');

    main.send(4, [{ type: 'sync', sessionId: 1n, cxid: -1 }]); // worker 4 throws
    await pollUntil(() => !rec.connected.has(4), 'main sees the crashed worker 4');
    await pollUntil(() => e3!.list.some((e) => e.event === 'disconnected' && e.peer === 4), 'worker 3 sees worker 4 gone');
    assert.deepEqual(main.connectedPeers(), [3]);
    assert.ok(e2!.list.some((e) => e.event === 'ready'));
    assert.ok(e4!.list.some((e) => e.event === 'ready'));

    // A restarted worker for id 2 connects again and echoes.
    hub.spawn(2, fixture);
    await pollUntil(() => rec.connected.has(2), 'worker 2 back');
    main.send(2, [{ type: 'ack', zxid: 5 }]);
    await pollUntil(() => (rec.batches.get(2)?.length ?? 0) === 2, 'echo from the new worker 2');
    assert.deepEqual(rec.batches.get(2)![1], [{ type: 'ack', zxid: 5 }]);
    assert.deepEqual(rec.events.filter((e) => e.endsWith('2')), ['+2', '-2', '+2']);
    await main.close();
  } finally {
    await hub.close();
  }
  assert.deepEqual(hub.ids(), []);
});

test('worker hub: registering a live id again replaces the old endpoint (restart race)', async () => {
  const hub = new WorkerHub();
  try {
    const a = hub.endpoint(1);
    const recA = record(a);
    const old = hub.endpoint(2);
    await pollUntil(() => recA.connected.has(2), 'connected');
    const fresh = hub.endpoint(2);
    const recFresh = record(fresh);
    await pollUntil(() => recA.events.length === 3 && recFresh.connected.has(1), 'replaced');
    assert.deepEqual(recA.events, ['+2', '-2', '+2']);
    await pollUntil(() => old.connectedPeers().length === 0, 'old endpoint stopped');
    a.send(2, [{ type: 'ack', zxid: 1 }]);
    await pollUntil(() => recFresh.batches.has(1), 'delivered to the new endpoint');
  } finally {
    await hub.close();
  }
});

test('worker transport: peers sent the same messages share one encoding, and each gets them intact', async () => {
  const hub = new WorkerHub();
  try {
    const leader = hub.endpoint(1);
    const peers = [2, 3, 4].map((id) => hub.endpoint(id));
    const recs = peers.map((p) => record(p));
    await pollUntil(() => leader.connectedPeers().length === 3, 'connected');
    const txn = { header: { sessionId: 5n, cxid: 1, zxid: 2 ** 32 + 1, time: 7 }, body: { kind: 'setData' as const, path: '/a', data: new Uint8Array([1, 2, 3]), version: 1 } };
    const proposal = { type: 'proposal' as const, txn };
    const commit = { type: 'commit' as const, zxid: 2 ** 32 + 1 };
    // One tick: 2 and 3 get the same messages (one encoding, copied then transferred),
    // 4 gets a ping first (its own encoding).
    leader.send(2, [proposal, commit]);
    leader.send(3, [proposal, commit]);
    leader.send(4, [{ type: 'ping', zxid: 0, touches: [] }, proposal, commit]);
    await pollUntil(() => recs.every((r) => r.batches.has(1)), 'delivered');
    for (const rec of recs.slice(0, 2)) assert.deepEqual(rec.batches.get(1), [[proposal, commit]]);
    assert.deepEqual(recs[2]!.batches.get(1), [[{ type: 'ping', zxid: 0, touches: [] }, proposal, commit]]);
    assert.equal(txn.body.data.length, 3, 'the sender\'s data is never detached');
  } finally {
    await hub.close();
  }
});
