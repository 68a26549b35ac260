/**
 * Transport throughput and latency, for each implementation:
 * - msgs_per_s_unbatched: one message per send; msgs_per_s_batched: 64 per send
 *   (windowed: at most WINDOW messages in flight, so queues stay bounded);
 * - rtt_p50_us / rtt_p99_us: ping-pong round trips, one at a time;
 * - each throughput also as a ratio to a plain function call of the receiver's handler
 *   (the baseline), measured in the same run.
 * In-process runs on the system clock (real setImmediate deferral). worker_threads uses
 * main-thread endpoints (MessagePorts, structured clone) plus a real worker for the
 * cross-thread round trip. TCP runs over 127.0.0.1.
 */
import { performance } from 'node:perf_hooks';
import { setImmediate as tick } from 'node:timers/promises';
import { percentile, quick, report, type Metric } from '../report.js';
import type { PeerMessage } from '../../src/protocol/peer.js';
import { systemClock } from '../../src/runtime/clock.js';
import { seededRandom } from '../../src/runtime/random.js';
import { InProcessNetwork } from '../../src/transport/inproc.js';
import { TcpTransport, type PeerAddress } from '../../src/transport/tcp.js';
import type { Transport } from '../../src/transport/types.js';
import { WorkerHub } from '../../src/transport/worker.js';

const TOTAL = quick ? 50_000 : 500_000;
const ROUND_TRIPS = quick ? 2_000 : 20_000;
const BATCH = 64;
const WINDOW = 32_768;

interface Pair {
  a: Transport;
  b: Transport;
  close(): Promise<void>;
}

async function connected(t: Transport, peer: number): Promise<void> {
  while (!t.connectedPeers().includes(peer)) await tick();
}

/** A realistic small message: a COMMIT with a zxid past 2^32. */
const msg = (i: number): PeerMessage => ({ type: 'commit', zxid: 0x1_0000_0000 + i });

async function throughput(pair: Pair, batch: number): Promise<number> {
  let received = 0;
  const onMessage = (_from: number, messages: PeerMessage[]): void => {
    received += messages.length;
  };
  pair.b.on('message', onMessage);
  let sent = 0;
  const start = performance.now();
  while (received < TOTAL) {
    while (sent < TOTAL && sent - received < WINDOW) {
      if (batch === 1) pair.a.send(2, [msg(sent)]);
      else {
        const messages: PeerMessage[] = new Array(batch);
        for (let k = 0; k < batch; k++) messages[k] = msg(sent + k);
        pair.a.send(2, messages);
      }
      sent += batch;
    }
    await tick();
  }
  const seconds = (performance.now() - start) / 1000;
  pair.b.off('message', onMessage);
  return TOTAL / seconds;
}

async function roundTrips(a: Transport, peer: number, count: number): Promise<number[]> {
  const samples: number[] = [];
  let resolve: () => void = () => {};
  const onMessage = (): void => resolve();
  a.on('message', onMessage);
  for (let i = 0; i < count; i++) {
    const done = new Promise<void>((r) => (resolve = r));
    const start = performance.now();
    a.send(peer, [{ type: 'ping', zxid: i, touches: [] }]);
    await done;
    samples.push((performance.now() - start) * 1000);
  }
  a.off('message', onMessage);
  return samples.sort((x, y) => x - y);
}

function echo(b: Transport): void {
  b.on('message', (from, messages) => {
    if (messages[0]?.type === 'ping') b.send(from, messages);
  });
}

/** The baseline: the receiver's handler called directly, one message per call. */
function baseline(): number {
  let received = 0;
  const handler = (_from: number, messages: PeerMessage[]): void => {
    received += messages.length;
  };
  const start = performance.now();
  for (let i = 0; i < TOTAL; i++) handler(1, [msg(i)]);
  const seconds = (performance.now() - start) / 1000;
  if (received !== TOTAL) throw new Error('baseline miscounted');
  return TOTAL / seconds;
}

async function inprocPair(): Promise<Pair> {
  const network = new InProcessNetwork({ clock: systemClock, random: seededRandom(1) });
  const a = network.endpoint(1);
  const b = network.endpoint(2);
  await connected(a, 2);
  return { a, b, close: () => network.close() };
}

async function workerPair(): Promise<Pair> {
  const hub = new WorkerHub();
  const a = hub.endpoint(1);
  const b = hub.endpoint(2);
  await connected(a, 2);
  await connected(b, 1);
  return {
    a,
    b,
    close: async () => {
      await Promise.all([a.close(), b.close()]);
      await hub.close();
    },
  };
}

async function tcpPair(): Promise<Pair> {
  const [a, b] = await Promise.all([1, 2].map((self) => TcpTransport.listen({ self, secret: 'bench', random: seededRandom(self) })));
  const book: [number, PeerAddress][] = [
    [1, a!.address()],
    [2, b!.address()],
  ];
  a!.setPeers(book);
  b!.setPeers(book);
  await connected(a!, 2);
  await connected(b!, 1);
  return { a: a!, b: b!, close: async () => void (await Promise.all([a!.close(), b!.close()])) };
}

async function crossThreadRoundTrips(): Promise<number[]> {
  const hub = new WorkerHub();
  const a = hub.endpoint(1);
  hub.spawn(2, new URL('./echo-worker.ts', import.meta.url));
  await connected(a, 2);
  try {
    return await roundTrips(a, 2, ROUND_TRIPS);
  } finally {
    await a.close();
    await hub.close();
  }
}

const metrics: Metric[] = [];
const base = baseline();
metrics.push({ metric: 'baseline.function_calls_per_s', value: Math.round(base), unit: 'msg/s', note: 'handler called directly' });

for (const [name, make] of [
  ['inproc', inprocPair],
  ['worker', workerPair],
  ['tcp', tcpPair],
] as const) {
  const pair = await make();
  try {
    await throughput(pair, 1); // warm-up
    const unbatched = await throughput(pair, 1);
    const batched = await throughput(pair, BATCH);
    echo(pair.b);
    const rtt = await roundTrips(pair.a, 2, ROUND_TRIPS);
    metrics.push(
      { metric: `${name}.msgs_per_s_unbatched`, value: Math.round(unbatched), unit: 'msg/s' },
      { metric: `${name}.unbatched_vs_baseline`, value: unbatched / base, unit: 'ratio' },
      { metric: `${name}.msgs_per_s_batched`, value: Math.round(batched), unit: 'msg/s', note: `${BATCH} per batch` },
      { metric: `${name}.batched_vs_baseline`, value: batched / base, unit: 'ratio' },
      { metric: `${name}.rtt_p50_us`, value: percentile(rtt, 50), unit: 'us' },
      { metric: `${name}.rtt_p99_us`, value: percentile(rtt, 99), unit: 'us' },
    );
  } finally {
    await pair.close();
  }
}

const cross = await crossThreadRoundTrips();
metrics.push(
  { metric: 'worker.cross_thread_rtt_p50_us', value: percentile(cross, 50), unit: 'us', note: 'main thread <-> real worker' },
  { metric: 'worker.cross_thread_rtt_p99_us', value: percentile(cross, 99), unit: 'us' },
);

report('transport', metrics);
