/**
 * Storage benchmark: fsync'd appends of ~100-byte transactions through `FileStorage`
 * (batches of 1, 64 and 1024 txns per `append` call, one call in flight, and pipelined
 * with 1024 txns outstanding as the ensemble benchmark keeps them), raw fdatasync
 * latency of this disk, snapshot write/read speed (100 MB; 10 MB with --quick), and the
 * same append workloads against `MemoryStorage` in the same run (the baseline).
 *
 * Each append case runs three 1-second windows and reports the median rate (fsync
 * latency on shared disks varies a lot from one second to the next).
 *
 * Run: `node --expose-gc --import tsx bench/storage/index.ts [--quick] [--json]`.
 * The temp directory is under os.tmpdir() (set TMPDIR to measure another disk).
 */
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Txn } from '../../src/protocol/txn.js';
import { makeZxid } from '../../src/protocol/zxid.js';
import { systemClock } from '../../src/runtime/clock.js';
import { FileStorage } from '../../src/storage/file.js';
import { ByteWriter, encodeTxn } from '../../src/storage/file-txn-codec.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import type { Storage } from '../../src/storage/types.js';
import { heapUsedAfterGc, percentile, quick, report, type Metric } from '../report.js';

const SECONDS = quick ? 0.4 : 1;
/** Each append case runs this many windows; the median rate is reported (the disk is noisy). */
const WINDOWS = quick ? 1 : 3;
const OUTSTANDING = 1024;
const SNAPSHOT_BYTES = (quick ? 10 : 100) * 1024 * 1024;
const SESSION = 0x0100_0000_0000_0001n;
const DATA = new Uint8Array(44).fill(7);

let counter = 0;
/** A setData txn whose log record is about 100 bytes. */
function txn(): Txn {
  counter++;
  return {
    header: { sessionId: SESSION, cxid: counter, zxid: makeZxid(1, counter), time: 1_700_000_000_000 + counter },
    body: { kind: 'setData', path: `/bench/n${counter % 1000}`, data: DATA, version: counter & 0xffff },
  };
}

function batchOf(n: number): Txn[] {
  const out = new Array<Txn>(n);
  for (let i = 0; i < n; i++) out[i] = txn();
  return out;
}

interface Run {
  txnsPerS: number;
  latencies: number[];
}

/** `WINDOWS` runs of `drive`: the median rate and every latency. */
async function measure(storage: Storage, batch: number, outstanding: number): Promise<Run> {
  const rates: number[] = [];
  const latencies: number[] = [];
  for (let i = 0; i < WINDOWS; i++) {
    const run = await drive(storage, batch, outstanding);
    rates.push(run.txnsPerS);
    for (const l of run.latencies) latencies.push(l);
  }
  rates.sort((a, b) => a - b);
  return { txnsPerS: rates[rates.length >> 1]!, latencies: latencies.sort((a, b) => a - b) };
}

/** Append `batch`-txn calls for `seconds`, keeping up to `outstanding` txns in flight. */
function drive(storage: Storage, batch: number, outstanding: number, seconds = SECONDS): Promise<Run> {
  return new Promise((resolve) => {
    const latencies: number[] = [];
    let inFlight = 0;
    let done = 0;
    const start = performance.now();
    const deadline = start + seconds * 1000;
    let stopped = false;
    const issue = (): void => {
      while (!stopped && inFlight + batch <= Math.max(outstanding, batch)) {
        const issued = performance.now();
        inFlight += batch;
        storage.append(batchOf(batch), () => {
          const now = performance.now();
          latencies.push(now - issued);
          inFlight -= batch;
          done += batch;
          if (now >= deadline) stopped = true;
          if (!stopped) issue();
          else if (inFlight === 0) resolve({ txnsPerS: done / ((now - start) / 1000), latencies: latencies.sort((a, b) => a - b) });
        });
      }
    };
    issue();
  });
}

function freshDir(): string {
  return fs.mkdtempSync(join(tmpdir(), 'zoostate-bench-storage-'));
}

const metrics: Metric[] = [];
const dirs: string[] = [];

// Bytes per record, as written.
const recordBytes = (() => {
  const w = new ByteWriter();
  encodeTxn(w, txn());
  return w.pos + 8;
})();
metrics.push({ metric: 'storage.record_bytes', value: recordBytes, unit: 'B', note: 'one setData txn in the log, with its length and crc32' });

// ---------------------------------------------------------------- raw fdatasync latency
{
  const dir = freshDir();
  dirs.push(dir);
  const fd = fs.openSync(join(dir, 'raw'), 'w');
  const block = Buffer.alloc(4096, 1);
  const samples: number[] = [];
  const n = quick ? 200 : 1000;
  for (let i = 0; i < n; i++) {
    fs.writeSync(fd, block, 0, block.length, i * block.length);
    const t = performance.now();
    fs.fdatasyncSync(fd);
    samples.push(performance.now() - t);
  }
  fs.closeSync(fd);
  samples.sort((a, b) => a - b);
  metrics.push({ metric: 'storage.fsync_p50_ms', value: percentile(samples, 50), unit: 'ms', note: 'raw fdatasync after a 4 KiB append' });
  metrics.push({ metric: 'storage.fsync_p99_ms', value: percentile(samples, 99), unit: 'ms' });
}

// ---------------------------------------------------------------- appends
const cases: { name: string; batch: number; outstanding: number }[] = [
  { name: 'b1', batch: 1, outstanding: 1 },
  { name: 'b64', batch: 64, outstanding: 64 },
  { name: 'b1024', batch: 1024, outstanding: 1024 },
  { name: 'b1_pipelined', batch: 1, outstanding: OUTSTANDING },
  { name: 'b64_pipelined', batch: 64, outstanding: OUTSTANDING },
];

// Warm up the JIT on both implementations, so the first measured case is not penalised.
{
  const dir = freshDir();
  dirs.push(dir);
  for (const storage of [new MemoryStorage({ clock: systemClock }), new FileStorage({ dir, fsync: false })]) {
    storage.open();
    await drive(storage, 16, OUTSTANDING, 0.3);
    storage.close();
  }
}

// Without fsync: the CPU cost of encoding and writing alone (measured first: the page
// cache of the fsync'd runs below slows plain writes down afterwards).
{
  const dir = freshDir();
  dirs.push(dir);
  const storage = new FileStorage({ dir, fsync: false });
  storage.open();
  const run = await measure(storage, 64, OUTSTANDING);
  storage.close();
  metrics.push({ metric: 'storage.append_b64_pipelined_nofsync_txns_per_s', value: Math.round(run.txnsPerS), unit: 'txns/s', note: 'fsync: false (encode + write only)' });
}

const memoryRates = new Map<string, number>();
for (const c of cases) {
  const storage = new MemoryStorage({ clock: systemClock });
  storage.open();
  heapUsedAfterGc();
  const run = await measure(storage, c.batch, c.outstanding);
  storage.close();
  memoryRates.set(c.name, run.txnsPerS);
}

for (const c of cases) {
  const dir = freshDir();
  dirs.push(dir);
  const storage = new FileStorage({ dir });
  storage.open();
  heapUsedAfterGc();
  const before = { ...storage.stats };
  const run = await measure(storage, c.batch, c.outstanding);
  const groups = storage.stats.groups - before.groups;
  const txns = storage.stats.txnsAppended - before.txnsAppended;
  const bytes = storage.stats.bytesAppended - before.bytesAppended;
  storage.close();
  const mem = memoryRates.get(c.name)!;
  const what = c.outstanding > c.batch ? `${c.batch} txn/append, ${c.outstanding} txns outstanding` : `${c.batch} txn/append, one append in flight`;
  metrics.push({ metric: `storage.append_${c.name}_txns_per_s`, value: Math.round(run.txnsPerS), unit: 'txns/s', note: what });
  metrics.push({ metric: `storage.append_${c.name}_MB_per_s`, value: (run.txnsPerS * bytes) / txns / 1e6, unit: 'MB/s' });
  metrics.push({ metric: `storage.append_${c.name}_txns_per_fsync`, value: txns / groups, unit: 'txns' });
  metrics.push({ metric: `storage.append_${c.name}_latency_p50_ms`, value: percentile(run.latencies, 50), unit: 'ms', note: 'append to callback' });
  metrics.push({ metric: `storage.append_${c.name}_latency_p99_ms`, value: percentile(run.latencies, 99), unit: 'ms' });
  metrics.push({ metric: `storage.memory_append_${c.name}_txns_per_s`, value: Math.round(mem), unit: 'txns/s', note: 'MemoryStorage, same workload (baseline)' });
  metrics.push({ metric: `storage.file_vs_memory_${c.name}`, value: run.txnsPerS / mem, unit: 'x', note: 'FileStorage / MemoryStorage throughput' });
}

// ---------------------------------------------------------------- snapshots
{
  const dir = freshDir();
  dirs.push(dir);
  const bytes = new Uint8Array(SNAPSHOT_BYTES);
  for (let i = 0; i < bytes.length; i += 4096) bytes[i] = i & 0xff;
  const storage = new FileStorage({ dir });
  storage.open();
  const t0 = performance.now();
  await new Promise<void>((resolve) => storage.saveSnapshot({ zxid: makeZxid(1, 1), bytes }, resolve));
  const writeSeconds = (performance.now() - t0) / 1000;
  storage.close();
  const mb = SNAPSHOT_BYTES / 1e6;
  metrics.push({ metric: 'storage.snapshot_write_MB_per_s', value: mb / writeSeconds, unit: 'MB/s', note: `${Math.round(mb)} MB, crc32 + write + fsync + rename` });
  metrics.push({ metric: 'storage.snapshot_write_ms', value: writeSeconds * 1000, unit: 'ms', note: 'appends issued meanwhile wait this long (FIFO)' });
  heapUsedAfterGc();
  const reader = new FileStorage({ dir });
  const t1 = performance.now();
  const state = reader.open();
  const readSeconds = (performance.now() - t1) / 1000;
  if (state.snapshot?.bytes.length !== SNAPSHOT_BYTES) throw new Error('snapshot read back with the wrong size');
  reader.close();
  metrics.push({ metric: 'storage.snapshot_read_MB_per_s', value: mb / readSeconds, unit: 'MB/s', note: 'open(): read + crc32 check' });
}

for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
report('storage', metrics);
