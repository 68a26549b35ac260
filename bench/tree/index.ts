/**
 * Tree benchmark: build 1M znodes with 100-byte data (100k with --quick) through
 * prepare+apply, then replay the same transactions into a second tree (apply alone, the
 * physical limit the consensus layer is compared against), and measure setData, getData,
 * memory per znode, snapshot size and speed, and the watch registry (bench/tree/watches.ts).
 *
 * Rates are per CPU-second of this process (bench/tree/cpu-time.ts), so a loaded machine
 * does not distort them; the per-operation CPU breakdown is bench/tree/micro.ts, whose
 * metrics are appended here.
 *
 * Run: `node --expose-gc --import tsx bench/tree/index.ts [--quick] [--json]`.
 * Fixed metric names: `tree.creates_per_s` (apply rate of the build), `tree.bytes_per_znode`.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { OpCode } from '../../src/protocol/constants.js';
import type { CreateRequest, SetDataRequest } from '../../src/protocol/records.js';
import type { Txn } from '../../src/protocol/txn.js';
import { makeZxid } from '../../src/protocol/zxid.js';
import { OPEN_ACL_UNSAFE } from '../../src/tree/acl.js';
import { DataTree } from '../../src/tree/data-tree.js';
import { RequestPreparer } from '../../src/tree/prepare.js';
import { heapUsedAfterGc, quick, report, type Metric } from '../report.js';
import { cpuNow } from './cpu-time.js';
import { measureTreeCpu } from './micro.js';
import { measureWatchTrigger } from './watches.js';

const N = quick ? 100_000 : 1_000_000;
const FANOUT = 1000; // children per parent: /bench/p<i>/n<j>
const DATA_BYTES = 100;
const EPOCH = 3; // zxids above 2^32, as in any real ensemble
const SESSION = 0x0100_0000_0000_0001n;
const T0 = 1_700_000_000_000;

/** Heap and off-heap ArrayBuffer memory after a full GC (node data lives in ArrayBuffers). */
function memoryAfterGc(): { heap: number; total: number } {
  const heap = heapUsedAfterGc();
  return { heap, total: heap + process.memoryUsage().arrayBuffers };
}

/** A fresh 100-byte payload, as a decoder would hand the tree for each request. */
function payload(i: number): Uint8Array {
  const data = new Uint8Array(DATA_BYTES);
  for (let k = 0; k < DATA_BYTES; k += 4) data[k] = (i + k) & 0xff;
  return data;
}

function pathOf(i: number): string {
  return `/bench/p${Math.floor(i / FANOUT)}/n${i}`;
}

function seconds(start: number): number {
  return (cpuNow() - start) / 1000;
}

let zxidCounter = 0;
function header(): Txn['header'] {
  zxidCounter++;
  return { sessionId: SESSION, cxid: zxidCounter, zxid: makeZxid(EPOCH, zxidCounter), time: T0 + zxidCounter };
}

const metrics: Metric[] = [];
const parents = Math.ceil(N / FANOUT);

// Baseline measured in this run: inserting the same paths into a plain Map.
{
  const map = new Map<string, { v: number }>();
  const start = cpuNow();
  for (let i = 0; i < N; i++) map.set(pathOf(i), { v: i });
  metrics.push({ metric: 'baseline.map_set_per_s', value: Math.round(N / seconds(start)), unit: 'ops/s', note: 'plain Map<string, object> insert' });
}

const memBefore = memoryAfterGc();

// GC pauses, summed from perf_hooks entries (delivered when the event loop turns).
let gcMs = 0;
const gcObserver = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration;
});
gcObserver.observe({ entryTypes: ['gc'] });
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

// ---------------------------------------------------------------- build
// Chunks of 1000: prepare the chunk (timed as prepare), then apply it (timed as apply),
// so "apply alone" is measured on the tree being built and no txn outlives its chunk.
const tree = new DataTree();
{
  const preparer = new RequestPreparer(tree);
  const mk = (path: string, data: Uint8Array | null): CreateRequest => ({ type: OpCode.create, path, data, acl: OPEN_ACL_UNSAFE as CreateRequest['acl'], flags: 0 });
  for (const path of ['/bench', ...Array.from({ length: parents }, (_, p) => `/bench/p${p}`)]) {
    tree.apply(preparer.prepare(header(), mk(path, null)));
  }
  const CHUNK = 1000;
  const requests: CreateRequest[] = new Array(CHUNK);
  const batch: Txn[] = new Array(CHUNK);
  let prepareMs = 0;
  let applyMs = 0;
  await settle();
  const gcStart = gcMs;
  for (let base = 0; base < N; base += CHUNK) {
    const n = Math.min(CHUNK, N - base);
    for (let i = 0; i < n; i++) requests[i] = mk(pathOf(base + i), payload(base + i));
    const t0 = cpuNow();
    for (let i = 0; i < n; i++) batch[i] = preparer.prepare(header(), requests[i]!);
    const t1 = cpuNow();
    for (let i = 0; i < n; i++) tree.apply(batch[i]!);
    const t2 = cpuNow();
    prepareMs += t1 - t0;
    applyMs += t2 - t1;
  }
  await settle();
  const applyRate = N / (applyMs / 1000);
  metrics.push({ metric: 'tree.creates_per_s', value: Math.round(applyRate), unit: 'ops/s', note: `apply alone, ${N.toLocaleString('en-US')} znodes, 100-byte data` });
  metrics.push({ metric: 'tree.prepare_apply_creates_per_s', value: Math.round(N / ((prepareMs + applyMs) / 1000)), unit: 'ops/s' });
  metrics.push({ metric: 'tree.creates_vs_map_set', value: applyRate / metrics[0]!.value, unit: 'x', note: 'apply rate / Map insert rate' });
  metrics.push({ metric: 'tree.build_gc_share', value: (gcMs - gcStart) / (prepareMs + applyMs), unit: 'ratio', note: 'GC pause time / prepare+apply time' });
}

// Memory: only `tree` is left, so the delta is the tree with its data.
const memAfter = memoryAfterGc();
const bytesPerZnode = (memAfter.total - memBefore.total) / tree.nodeCount;
metrics.push({ metric: 'tree.bytes_per_znode', value: Math.round(bytesPerZnode), unit: 'B', note: 'heap + ArrayBuffers after GC, incl. 100 B data' });
metrics.push({ metric: 'tree.heap_bytes_per_znode', value: Math.round((memAfter.heap - memBefore.heap) / tree.nodeCount), unit: 'B', note: 'V8 heap only' });
metrics.push({ metric: 'tree.overhead_bytes_per_znode', value: Math.round(bytesPerZnode - DATA_BYTES), unit: 'B', note: 'excluding the data bytes' });

// ---------------------------------------------------------------- setData
{
  const preparer = new RequestPreparer(tree);
  const ops = quick ? 100_000 : 500_000;
  const requests: SetDataRequest[] = new Array(ops);
  for (let i = 0; i < ops; i++) {
    const n = (i * 7919) % N;
    requests[i] = { type: OpCode.setData, path: pathOf(n), data: payload(i), version: -1 };
  }
  const prepared: Txn[] = new Array(ops);
  let start = cpuNow();
  for (let i = 0; i < ops; i++) {
    const txn = preparer.prepare(header(), requests[i]!);
    tree.apply(txn);
    prepared[i] = txn;
  }
  metrics.push({ metric: 'tree.prepare_apply_setdata_per_s', value: Math.round(ops / seconds(start)), unit: 'ops/s' });
  // Apply alone: re-apply the same txns with later zxids (setData txns carry absolute versions).
  for (const txn of prepared) txn.header = header();
  start = cpuNow();
  for (let i = 0; i < ops; i++) tree.apply(prepared[i]!);
  metrics.push({ metric: 'tree.setdata_per_s', value: Math.round(ops / seconds(start)), unit: 'ops/s', note: 'apply alone' });
}

// ---------------------------------------------------------------- getData
{
  const reads = quick ? 200_000 : 1_000_000;
  const paths = Array.from({ length: reads }, (_, i) => pathOf((i * 104729) % N));
  let bytes = 0;
  const start = cpuNow();
  for (let i = 0; i < reads; i++) bytes += tree.getData(paths[i]!)!.stat.dataLength;
  metrics.push({ metric: 'tree.getdata_per_s', value: Math.round(reads / seconds(start)), unit: 'ops/s' });
  if (bytes !== reads * DATA_BYTES) throw new Error('getData returned unexpected sizes');
}

// ---------------------------------------------------------------- snapshot
{
  let start = cpuNow();
  const snap = tree.serialize();
  const serializeSeconds = seconds(start);
  const mb = snap.length / 1e6;
  metrics.push({ metric: 'tree.snapshot_bytes_per_znode', value: Math.round(snap.length / tree.nodeCount), unit: 'B' });
  metrics.push({ metric: 'tree.snapshot_serialize_mb_per_s', value: mb / serializeSeconds, unit: 'MB/s' });
  start = cpuNow();
  const restored = DataTree.deserialize(snap);
  const deserializeSeconds = seconds(start);
  metrics.push({ metric: 'tree.snapshot_deserialize_mb_per_s', value: mb / deserializeSeconds, unit: 'MB/s' });
  if (restored.digest() !== tree.digest()) throw new Error('snapshot round trip changed the digest');
}

gcObserver.disconnect();
metrics.push(...measureWatchTrigger());
metrics.push(...measureTreeCpu());
report('tree', metrics);
