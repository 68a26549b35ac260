/**
 * Worker ensemble benchmark: the same wire workload against two 3-server ensembles
 * (memory storage, real time), measured in this run:
 *
 * - baseline: the in-process ensemble (every server in this thread) with `serveEnsemble`
 *   client ports;
 * - workers: `startEnsemble({ transport: 'worker' })`, every server and its client port
 *   in its own worker_thread.
 *
 * Workload: zoostate's wire client, 6 sessions spread over the three servers (two each,
 * so followers forward writes to the leader), 64 requests in flight per session (closed
 * loop), setData (committed writes) then getData of 100 bytes on 100 nodes. The clients
 * run in this thread, so on the baseline they share one core with all three servers.
 *
 * Metrics: committed writes/s and reads/s of each, and the ratios workers / in-process
 * (`ensemble_workers.writes_ratio`, `ensemble_workers.reads_ratio`); the worker
 * ensemble's start time (includes loading the modules in every worker: under tsx that is
 * transpiling, a built package loads far faster).
 *
 * Run: node --expose-gc --import tsx bench/ensemble-workers/index.ts [--quick] [--json]
 */
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createClient, type ZooKeeperClient } from '../../src/client/client.js';
import { startEnsemble } from '../../src/server/ensemble.js';
import { serveEnsemble } from '../../src/server/serve.js';
import { quick, report, type Metric } from '../report.js';

const SESSIONS = 6;
const OUTSTANDING = 64;
const NODES = 100;
const DATA = Buffer.alloc(100, 7);
const DURATION_MS = quick ? 500 : 3000;
const WARMUP_MS = quick ? 300 : 1500;
const ROUNDS = quick ? 1 : 2;

/** A running ensemble to measure. */
interface Target {
  addresses: readonly string[];
  close(): Promise<void>;
}

async function inThread(): Promise<Target> {
  const ensemble = await startEnsemble({ servers: 3 });
  const ports = await serveEnsemble(ensemble, { port: 0, limits: { maxClientCnxns: 0 } });
  await until(() => ensemble.allServing());
  return {
    addresses: ports.addresses,
    close: async () => {
      await ports.close();
      await ensemble.close();
    },
  };
}

async function inWorkers(): Promise<Target & { readyMs: number }> {
  const start = performance.now();
  const ensemble = await startEnsemble({ servers: 3, transport: 'worker', limits: { maxClientCnxns: 0 } });
  const readyMs = performance.now() - start;
  await ensemble.whenAllServing();
  return { addresses: ensemble.addresses, readyMs, close: () => ensemble.close() };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 5));
}

const paths = Array.from({ length: NODES }, (_, i) => `/bench/n${i}`);

async function connectAll(target: Target): Promise<ZooKeeperClient[]> {
  const clients = Array.from({ length: SESSIONS }, (_, i) => createClient(target.addresses[i % target.addresses.length]!, { sessionTimeout: 30_000 }));
  await Promise.all(clients.map((c) => c.waitUntilConnected()));
  const first = clients[0]!;
  if ((await first.exists('/bench')) === null) {
    await first.create('/bench');
    await Promise.all(paths.map((p) => first.create(p, DATA)));
  }
  await Promise.all(clients.map((c) => c.sync('/bench')));
  return clients;
}

/** Requests that failed (ConnectionLoss: a connection dropped under load), per target kind. */
const failures = { inproc: 0, worker: 0 };

/**
 * Closed loop: OUTSTANDING requests per client for `ms`; returns completed operations per
 * second. A failed request (its connection dropped) is counted in `failures` and the lane
 * goes on once its client has reconnected.
 */
async function load(kind: 'inproc' | 'worker', clients: ZooKeeperClient[], op: 'setData' | 'getData', ms: number): Promise<number> {
  let done = 0;
  const end = performance.now() + ms;
  const loop = async (client: ZooKeeperClient, lane: number): Promise<void> => {
    let i = lane;
    while (performance.now() < end) {
      const path = paths[i++ % NODES]!;
      try {
        if (op === 'setData') await client.setData(path, DATA);
        else await client.getData(path);
        done++;
      } catch {
        failures[kind]++;
        await client.waitUntilConnected();
      }
    }
  };
  const start = performance.now();
  await Promise.all(clients.flatMap((c, ci) => Array.from({ length: OUTSTANDING }, (_, lane) => loop(c, ci * OUTSTANDING + lane))));
  return done / ((performance.now() - start) / 1000);
}

async function measure(kind: 'inproc' | 'worker', target: Target): Promise<{ writes: number; reads: number }> {
  const clients = await connectAll(target);
  try {
    await load(kind, clients, 'setData', WARMUP_MS);
    const writes = await load(kind, clients, 'setData', DURATION_MS);
    await load(kind, clients, 'getData', WARMUP_MS / 2);
    const reads = await load(kind, clients, 'getData', DURATION_MS);
    return { writes, reads };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

async function main(): Promise<void> {
  const best = { inproc: { writes: 0, reads: 0 }, worker: { writes: 0, reads: 0 } };
  let readyMs = Number.POSITIVE_INFINITY;
  // Alternate the order across rounds so neither target always runs on a colder JIT.
  for (let round = 0; round < ROUNDS; round++) {
    const order: Array<'inproc' | 'worker'> = round % 2 === 0 ? ['inproc', 'worker'] : ['worker', 'inproc'];
    for (const kind of order) {
      let target: Target;
      if (kind === 'worker') {
        const workers = await inWorkers();
        readyMs = Math.min(readyMs, workers.readyMs);
        target = workers;
      } else {
        target = await inThread();
      }
      try {
        const r = await measure(kind, target);
        best[kind].writes = Math.max(best[kind].writes, r.writes);
        best[kind].reads = Math.max(best[kind].reads, r.reads);
      } finally {
        await target.close();
      }
    }
  }
  const metrics: Metric[] = [
    { metric: 'ensemble_workers.inproc_writes_per_s', value: Math.round(best.inproc.writes), unit: 'writes/s', note: `baseline: servers in this thread, ${SESSIONS} sessions x ${OUTSTANDING} in flight over TCP` },
    { metric: 'ensemble_workers.worker_writes_per_s', value: Math.round(best.worker.writes), unit: 'writes/s', note: 'one worker thread per server' },
    { metric: 'ensemble_workers.writes_ratio', value: best.worker.writes / best.inproc.writes, unit: 'x', note: 'workers / in-process, same run' },
    { metric: 'ensemble_workers.inproc_reads_per_s', value: Math.round(best.inproc.reads), unit: 'reads/s', note: 'getData over TCP' },
    { metric: 'ensemble_workers.worker_reads_per_s', value: Math.round(best.worker.reads), unit: 'reads/s' },
    { metric: 'ensemble_workers.reads_ratio', value: best.worker.reads / best.inproc.reads, unit: 'x', note: 'workers / in-process, same run' },
    { metric: 'ensemble_workers.ready_ms', value: readyMs, unit: 'ms', note: 'startEnsemble to a serving leader, worker transport' },
    { metric: 'ensemble_workers.failed_requests', value: failures.inproc + failures.worker, unit: 'requests', note: `connection losses under load: in-process ${failures.inproc}, workers ${failures.worker}` },
    { metric: 'ensemble_workers.cpus', value: availableParallelism(), unit: 'cpus', note: 'the ratio depends on the cores available' },
  ];
  report('ensemble-workers', metrics);
}

await main();
