/**
 * Ensemble benchmark: an in-process 3-server ensemble (memory storage, real time).
 *
 * - committed writes/s at 1, 64 and 1024 outstanding writes (setData of 100 bytes on
 *   1000 nodes, issued on the leader, closed loop), p50/p99 commit latency;
 * - the bare tree rate (prepare + apply on a plain DataTree) measured in the same run, and
 *   the ensemble's overhead against it (a write is prepared once and applied three times).
 *   The 1024-outstanding rate and the overhead are medians of rounds that alternate a
 *   bare-tree run with an ensemble run, so a burst of machine noise skews one round, not
 *   the ratio;
 * - local reads/s (getData through a follower's read path);
 * - ready: createEnsemble to a serving leader; failover: leader killed to the next
 *   committed write, in wall time and in virtual time (a VirtualClock run).
 *
 * Fixed metric names: ensemble.writes_per_s (1024 outstanding), ensemble.reads_per_s,
 * ensemble.ready_ms, ensemble.failover_ms.
 */
import { performance } from 'node:perf_hooks';
import { OpCode, Perms } from '../../src/protocol/constants.js';
import { ZooKeeperError } from '../../src/protocol/errors.js';
import type { ACL, Id } from '../../src/protocol/records.js';
import { makeZxid } from '../../src/protocol/zxid.js';
import { systemClock } from '../../src/runtime/clock.js';
import { seededRandom } from '../../src/runtime/random.js';
import { createEnsemble, type Ensemble } from '../../src/server/ensemble.js';
import type { QuorumServer } from '../../src/server/quorum-server.js';
import { VirtualClock } from '../../src/sim/virtual-clock.js';
import { DataTree } from '../../src/tree/data-tree.js';
import { RequestPreparer } from '../../src/tree/prepare.js';
import { percentile, quick, report, type Metric } from '../report.js';

const ACL_OPEN: ACL[] = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];
const NODES = 1000;
const DATA = new Uint8Array(100).fill(7);
const WRITES = quick ? 20_000 : 300_000;
/** Alternating bare-tree / ensemble rounds at 1024 outstanding. */
const ROUNDS = quick ? 1 : 3;
const NO_AUTH: Id[] = [];

function paths(): string[] {
  return Array.from({ length: NODES }, (_, i) => `/bench/n${i}`);
}

/** prepare + apply on one plain tree: the baseline a replicated write is compared with. */
function bareTreeRate(count: number): number {
  const tree = new DataTree();
  const preparer = new RequestPreparer(tree);
  let zxid = 0;
  const step = (request: Parameters<RequestPreparer['prepare']>[1]): void => {
    zxid++;
    tree.apply(preparer.prepare({ sessionId: 1n, cxid: zxid, zxid: makeZxid(1, zxid), time: 0 }, request));
  };
  step({ type: OpCode.create, path: '/bench', data: null, acl: ACL_OPEN, flags: 0 });
  const all = paths();
  for (const path of all) step({ type: OpCode.create, path, data: DATA, acl: ACL_OPEN, flags: 0 });
  const start = performance.now();
  for (let i = 0; i < count; i++) step({ type: OpCode.setData, path: all[i % NODES]!, data: DATA, version: -1 });
  return count / ((performance.now() - start) / 1000);
}

/** Resolves once a leader and every follower serve (event-driven, no polling delay). */
function waitServing(ensemble: Ensemble): Promise<QuorumServer> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (!ensemble.allServing()) return;
      for (const s of ensemble.servers) s.off('serving', check);
      resolve(ensemble.leader()!);
    };
    for (const s of ensemble.servers) s.on('serving', check);
    check();
  });
}

/** Closed loop of `outstanding` writers on `server` until `count` writes committed. */
function runWrites(server: QuorumServer, outstanding: number, count: number): Promise<{ perSecond: number; latencies: number[] }> {
  const all = paths();
  return new Promise((resolve, reject) => {
    let issued = 0;
    let completed = 0;
    const latencies: number[] = [];
    // A session's id and auth ids are fixed, as on a client connection.
    const sessionIds = Array.from({ length: outstanding }, (_, s) => BigInt(s + 1));
    const start = performance.now();
    const issue = (session: number): void => {
      if (issued >= count) return;
      const i = issued++;
      const t0 = performance.now();
      server.write(
        { type: OpCode.setData, path: all[i % NODES]!, data: DATA, version: -1 },
        { sessionId: sessionIds[session]!, cxid: i, authIds: NO_AUTH },
        (result) => {
          if (result instanceof ZooKeeperError) {
            reject(result);
            return;
          }
          if ((i & 7) === 0) latencies.push(performance.now() - t0);
          completed++;
          if (completed === count) {
            resolve({ perSecond: count / ((performance.now() - start) / 1000), latencies: latencies.sort((a, b) => a - b) });
          } else {
            issue(session);
          }
        },
      );
    };
    for (let s = 0; s < outstanding; s++) issue(s);
  });
}

async function seed(leader: QuorumServer): Promise<void> {
  const all = paths();
  await leader.writeAsync({ type: OpCode.create, path: '/bench', data: null, acl: ACL_OPEN, flags: 0 }, { sessionId: 1n, cxid: 0, authIds: [] });
  await Promise.all(
    all.map((path, i) => leader.writeAsync({ type: OpCode.create, path, data: DATA, acl: ACL_OPEN, flags: 0 }, { sessionId: 2n, cxid: i, authIds: [] })),
  );
}

function localReads(server: QuorumServer, count: number): number {
  const all = paths();
  let bytes = 0;
  const start = performance.now();
  for (let i = 0; i < count; i++) bytes += server.getData(all[i % NODES]!)!.stat.dataLength;
  const perSecond = count / ((performance.now() - start) / 1000);
  if (bytes === 0) throw new Error('reads returned nothing');
  return perSecond;
}

/** Leader killed → next committed write, in wall time. */
async function failoverWall(ensemble: Ensemble): Promise<number> {
  const old = ensemble.leader()!;
  const start = performance.now();
  old.stop();
  for (;;) {
    const leader = ensemble.leader();
    if (leader !== undefined && leader !== old) {
      try {
        await leader.writeAsync({ type: OpCode.setData, path: '/bench', data: DATA, version: -1 }, { sessionId: 99n, cxid: 0, authIds: [] });
        return performance.now() - start;
      } catch {
        // not serving yet: retry
      }
    }
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** The same in virtual time (deterministic): the protocol's own delays, no CPU time. */
function failoverVirtual(): number {
  const clock = new VirtualClock();
  const ensemble = createEnsemble({ servers: 3, clock, random: seededRandom(5) });
  clock.runUntil(() => ensemble.allServing());
  const old = ensemble.leader()!;
  const start = clock.now();
  old.stop();
  let done = false;
  const attempt = (): void => {
    const leader = ensemble.leader();
    if (leader === undefined || leader === old) {
      clock.setTimeout(attempt, 1);
      return;
    }
    leader.write({ type: OpCode.create, path: '/after', data: null, acl: ACL_OPEN, flags: 0 }, { sessionId: 5n, cxid: 1, authIds: [] }, (r) => {
      if (r instanceof ZooKeeperError) clock.setTimeout(attempt, 1);
      else done = true;
    });
  };
  attempt();
  clock.runUntil(() => done);
  const elapsed = clock.now() - start;
  void ensemble.close();
  return elapsed;
}

async function main(): Promise<void> {
  const metrics: Metric[] = [];
  bareTreeRate(WRITES); // warm-up

  // Ready: the first ensemble of the process (cold: includes JIT warm-up), then the median
  // of five more (warm).
  const readies: number[] = [];
  for (let i = 0; i < 6; i++) {
    const readyStart = performance.now();
    const e = createEnsemble({ servers: 3, clock: systemClock });
    await waitServing(e);
    readies.push(performance.now() - readyStart);
    await e.close();
  }
  const readyCold = readies[0]!;
  const readyMs = percentile(readies.slice(1).sort((a, b) => a - b), 50);

  const ensemble = createEnsemble({ servers: 3, clock: systemClock });
  const leader = await waitServing(ensemble);
  await seed(leader);

  const results: Record<number, { perSecond: number; latencies: number[] }> = {};
  for (const outstanding of [1, 64]) {
    const count = outstanding === 1 ? Math.min(WRITES, quick ? 2_000 : 20_000) : WRITES;
    await runWrites(leader, outstanding, Math.min(count, 5_000)); // warm-up
    results[outstanding] = await runWrites(leader, outstanding, count);
  }
  await runWrites(leader, 1024, 5_000); // warm-up
  const rounds: { bare: number; run: { perSecond: number; latencies: number[] } }[] = [];
  for (let r = 0; r < ROUNDS; r++) rounds.push({ bare: bareTreeRate(WRITES), run: await runWrites(leader, 1024, WRITES) });
  const byRate = [...rounds].sort((a, b) => a.run.perSecond - b.run.perSecond);
  results[1024] = byRate[Math.floor(ROUNDS / 2)]!.run;
  const bare = percentile(rounds.map((r) => r.bare).sort((a, b) => a - b), 50);
  const overhead = percentile(rounds.map((r) => r.bare / r.run.perSecond).sort((a, b) => a - b), 50);
  const follower = ensemble.servers.find((s) => s !== leader)!;
  await new Promise((r) => setTimeout(r, 50));
  localReads(follower, 200_000); // warm-up
  const reads = localReads(follower, quick ? 500_000 : 5_000_000);
  const failMs = await failoverWall(ensemble);
  await ensemble.close();
  const failVirtual = failoverVirtual();

  const w1024 = results[1024]!;
  metrics.push({ metric: 'ensemble.writes_per_s', value: Math.round(w1024.perSecond), unit: 'writes/s', note: `1024 outstanding, 3 servers, median of ${ROUNDS}` });
  for (const o of [1, 64, 1024]) {
    const r = results[o]!;
    if (o !== 1024) metrics.push({ metric: `ensemble.writes_per_s_${o}`, value: Math.round(r.perSecond), unit: 'writes/s', note: `${o} outstanding` });
    metrics.push({ metric: `ensemble.commit_p50_ms_${o}`, value: percentile(r.latencies, 50), unit: 'ms' });
    metrics.push({ metric: `ensemble.commit_p99_ms_${o}`, value: percentile(r.latencies, 99), unit: 'ms' });
  }
  metrics.push({ metric: 'ensemble.tree_baseline_per_s', value: Math.round(bare), unit: 'writes/s', note: 'prepare+apply on one DataTree' });
  metrics.push({ metric: 'ensemble.overhead_x', value: overhead, unit: 'x', note: 'bare tree rate / ensemble rate, median of rounds (target <= 10)' });
  metrics.push({ metric: 'ensemble.reads_per_s', value: Math.round(reads), unit: 'reads/s', note: 'getData on a follower' });
  metrics.push({ metric: 'ensemble.ready_ms', value: readyMs, unit: 'ms', note: 'createEnsemble to a serving leader, median of 5 warm runs' });
  metrics.push({ metric: 'ensemble.ready_cold_ms', value: readyCold, unit: 'ms', note: 'the first ensemble of the process' });
  metrics.push({ metric: 'ensemble.failover_ms', value: failMs, unit: 'ms', note: 'wall time, leader killed to next commit' });
  metrics.push({ metric: 'ensemble.failover_virtual_ms', value: failVirtual, unit: 'ms', note: 'virtual time, same scenario' });
  report('ensemble', metrics);
}

await main();
