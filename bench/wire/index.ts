/**
 * Wire benchmark: the same workload, with the same client (node-zookeeper-client), against
 *
 * - zoostate, memory storage: `zoostate start` (3 servers, in-process transport) in a child process;
 * - zoostate, file storage: the same with `--data-dir` (every write fsynced before it is
 *   acknowledged: the durability ZooKeeper gives);
 * - Apache ZooKeeper 3.8 (Debian's package): a 3-node ensemble on loopback, fsync on
 *   (its default), full JIT (C2) and a 1 GiB heap,
 *
 * all measured in this run. Workload: create, setData, getData, exists with 100-byte data,
 * 1 and 4 sessions, 1, 16 and 64 requests in flight per session (closed loop). Sessions
 * connect to followers first (session i to the i-th server of [follower, follower,
 * leader]), on every target alike. Prints ops/s, p50/p99 latency and the ratios
 * zoostate/ZooKeeper; `wire.ratio.writes` (file storage, geometric mean over the write
 * configurations) and `wire.ratio.reads` (geometric mean over the read configurations)
 * summarise them.
 *
 * Run: node --expose-gc --import tsx bench/wire/index.ts [--quick] [--json]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import zookeeper from 'node-zookeeper-client';
import type { Client } from 'node-zookeeper-client';
import { apacheZooKeeperAvailable, startEnsemble, type ApacheZooKeeper } from '../../test/support/apache-zookeeper.js';
import { percentile, quick, report, type Metric } from '../report.js';

type Op = 'create' | 'setData' | 'getData' | 'exists';
const OPS: readonly Op[] = ['create', 'setData', 'getData', 'exists'];
const WRITES: ReadonlySet<Op> = new Set(['create', 'setData']);
const SESSIONS = [1, 4];
const OUTSTANDING = quick ? [1, 64] : [1, 16, 64];
const DURATION_MS = quick ? 400 : 2000;
const WARMUP_MS = quick ? 500 : 4000;
const DATA = Buffer.alloc(100, 7);
const BIN = fileURLToPath(new URL('../../bin/zoostate.js', import.meta.url));

/** A running service to measure. */
interface Target {
  name: string;
  /** Client addresses, followers first. */
  addresses: string[];
  close(): Promise<void>;
}

function fourLetterWord(address: string, word: string): Promise<string> {
  const i = address.lastIndexOf(':');
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: address.slice(0, i), port: Number(address.slice(i + 1)) });
    socket.on('connect', () => socket.write(word));
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => resolve(''));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString()));
  });
}

/** Followers first, then the leader (and anything else). */
async function followersFirst(addresses: string[]): Promise<string[]> {
  const modes = await Promise.all(addresses.map(async (a) => /Mode: (\w+)/.exec(await fourLetterWord(a, 'srvr'))?.[1] ?? '?'));
  const rank = (mode: string): number => (mode === 'follower' ? 0 : mode === 'leader' ? 1 : 2);
  return addresses.map((a, i) => ({ a, r: rank(modes[i]!) })).sort((x, y) => x.r - y.r).map((x) => x.a);
}

async function startZoostate(dataDir: string | undefined): Promise<Target> {
  const args = [BIN, 'start', '--port', '0', '--quiet', ...(dataDir !== undefined ? ['--data-dir', dataDir] : [])];
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const kill = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', kill);
  let out = '';
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /^ready (\S+)$/m.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`zoostate start exited with ${code}`)));
  });
  return {
    name: dataDir === undefined ? 'zoostate (memory)' : 'zoostate (file, fsync)',
    addresses: await followersFirst(line.split(',')),
    close: async () => {
      process.off('exit', kill);
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

async function startApache(): Promise<Target> {
  const zk: ApacheZooKeeper = await startEnsemble(3, {
    tickTime: 2000,
    javaOptions: ['-XX:TieredStopAtLevel=4', '-Xms512m', '-Xmx1g', '-XX:-UseSerialGC', '-XX:+UseParallelGC'],
  });
  return { name: 'Apache ZooKeeper 3.8', addresses: await followersFirst(zk.servers.map((s) => s.address)), close: () => zk.close() };
}

function connectClient(address: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = zookeeper.createClient(address, { sessionTimeout: 30_000, spinDelay: 100, retries: 0 });
    const timer = setTimeout(() => reject(new Error(`cannot connect to ${address}`)), 30_000);
    client.once('connected', () => {
      clearTimeout(timer);
      resolve(client);
    });
    client.connect();
  });
}

const call = (fn: (cb: (error: unknown) => void) => void): Promise<void> => new Promise((resolve, reject) => fn((e) => (e ? reject(e) : resolve())));

/** Per-session nodes for setData/getData/exists (one per request slot). */
const nodePath = (root: string, session: number, slot: number): string => `${root}/s${session}n${slot}`;

interface Result {
  opsPerS: number;
  p50: number;
  p99: number;
}

/** Run one configuration: `sessions` clients, each keeping `outstanding` ops in flight for `ms`. */
async function measure(clients: Client[], root: string, op: Op, outstanding: number, ms: number, tag: string): Promise<Result> {
  const latencies: number[] = [];
  let completed = 0;
  let failed: unknown;
  const start = performance.now();
  const end = start + ms;
  await Promise.all(
    clients.map(
      (client, s) =>
        new Promise<void>((resolve) => {
          let inFlight = 0;
          let seq = 0;
          const issue = (slot: number): void => {
            inFlight++;
            const t0 = performance.now();
            const done = (error: unknown): void => {
              inFlight--;
              const t1 = performance.now();
              if (error) failed ??= error;
              else {
                latencies.push(t1 - t0);
                if (t1 <= end) completed++;
              }
              if (t1 < end && failed === undefined) issue(slot);
              else if (inFlight === 0) resolve();
            };
            const path = nodePath(root, s, slot);
            switch (op) {
              case 'create':
                client.create(`${root}/c-${tag}-${s}-${seq++}`, DATA, zookeeper.CreateMode.PERSISTENT, done);
                break;
              case 'setData':
                client.setData(path, DATA, -1, done);
                break;
              case 'getData':
                client.getData(path, done);
                break;
              case 'exists':
                client.exists(path, done);
                break;
            }
          };
          for (let slot = 0; slot < outstanding; slot++) issue(slot);
        }),
    ),
  );
  if (failed !== undefined) throw new Error(`${op} failed: ${String(failed)}`);
  const elapsed = Math.min(performance.now(), end) - start;
  latencies.sort((a, b) => a - b);
  return { opsPerS: (completed / elapsed) * 1000, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** Every configuration against one target. */
async function benchTarget(target: Target): Promise<Map<string, Result>> {
  const clients = await Promise.all(Array.from({ length: Math.max(...SESSIONS) }, (_, i) => connectClient(target.addresses[i % target.addresses.length]!)));
  const results = new Map<string, Result>();
  try {
    const root = `/wire-${process.pid}`;
    await call((cb) => clients[0]!.create(root, cb));
    const maxSlots = Math.max(...OUTSTANDING);
    for (let s = 0; s < clients.length; s++) {
      for (let slot = 0; slot < maxSlots; slot++) await call((cb) => clients[0]!.create(nodePath(root, s, slot), DATA, cb));
    }
    // Warm up (JIT on both sides, connection buffers).
    for (const op of OPS) await measure(clients, root, op, 16, WARMUP_MS / OPS.length, `warm-${op}`);
    for (const op of OPS) {
      for (const sessions of SESSIONS) {
        for (const outstanding of OUTSTANDING) {
          const key = `${op}.s${sessions}.o${outstanding}`;
          results.set(key, await measure(clients.slice(0, sessions), root, op, outstanding, DURATION_MS, key.replace(/\./g, '-')));
        }
      }
    }
  } finally {
    await Promise.all(clients.map((c) => new Promise<void>((resolve) => {
      c.once('disconnected', () => resolve());
      c.close();
      setTimeout(resolve, 1000).unref();
    })));
  }
  return results;
}

const geomean = (values: number[]): number => Math.exp(values.reduce((s, v) => s + Math.log(v), 0) / values.length);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'zoostate-wire-'));
  const all = new Map<string, Map<string, Result>>();
  const run = async (label: string, start: () => Promise<Target>): Promise<void> => {
    const target = await start();
    try {
      all.set(label, await benchTarget(target));
    } finally {
      await target.close();
    }
  };
  try {
    await run('zoostate_memory', () => startZoostate(undefined));
    await run('zoostate_file', () => startZoostate(join(dir, 'data')));
    if (apacheZooKeeperAvailable()) await run('zookeeper', startApache);
    else console.error('bench wire: Apache ZooKeeper is not installed; no baseline (apt-get install zookeeper)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const metrics: Metric[] = [];
  for (const [label, results] of all) {
    for (const [key, r] of results) {
      metrics.push({ metric: `wire.${label}.${key}.ops_per_s`, value: Math.round(r.opsPerS), unit: 'ops/s' });
      metrics.push({ metric: `wire.${label}.${key}.p50_ms`, value: Number(r.p50.toFixed(3)), unit: 'ms' });
      metrics.push({ metric: `wire.${label}.${key}.p99_ms`, value: Number(r.p99.toFixed(3)), unit: 'ms' });
    }
  }
  const zk = all.get('zookeeper');
  if (zk !== undefined) {
    const writes: number[] = [];
    const reads: number[] = [];
    for (const [key, base] of zk) {
      const op = key.split('.')[0] as Op;
      for (const label of ['zoostate_memory', 'zoostate_file']) {
        const ours = all.get(label)?.get(key);
        if (ours === undefined) continue;
        const ratio = ours.opsPerS / base.opsPerS;
        metrics.push({ metric: `wire.ratio.${label}.${key}`, value: Number(ratio.toFixed(3)), unit: 'x', note: `${label} / ZooKeeper` });
        if (WRITES.has(op) && label === 'zoostate_file') writes.push(ratio);
        if (!WRITES.has(op) && label === 'zoostate_memory') reads.push(ratio);
      }
    }
    metrics.push({ metric: 'wire.ratio.writes', value: Number(geomean(writes).toFixed(3)), unit: 'x', note: 'zoostate (file, fsync) / ZooKeeper, geometric mean of write configs; target >= 2' });
    metrics.push({ metric: 'wire.ratio.reads', value: Number(geomean(reads).toFixed(3)), unit: 'x', note: 'zoostate / ZooKeeper, geometric mean of read configs; target >= 1.2' });
  }
  report('wire', metrics);
}

await main();
process.exit(0);
