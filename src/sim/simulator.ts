/**
 * One seeded simulation run: a pure function of (seed, options) — same seed, same code,
 * same history, byte for byte. Everything random is drawn from forks of
 * `seededRandom(seed)`; everything timed runs on one `VirtualClock`.
 *
 * The run:
 * 1. draw the fault plan and the workload shape; build the cluster; elect a leader;
 * 2. run the clients while the nemesis breaks things, until every operation was issued
 *    and answered (or timed out);
 * 3. heal everything, restart every server, and wait until the ensemble converges
 *    (pushing barrier writes through the leader so a lossy network's leftovers commit);
 * 4. a verifier session syncs and reads the whole key space;
 * 5. run the checkers (checkers.ts) on the replicas and on the recorded history.
 *
 * ```ts
 * const result = runSeed(42, { servers: 3, faults: 'heavy', ops: 200 });
 * if (!result.ok) console.log(result.failures);
 * ```
 */
import type { ServerId } from '../protocol/peer.js';
import type { Clock } from '../runtime/clock.js';
import { seededRandom } from '../runtime/random.js';
import type { Membership } from '../machines/quorum.js';
import type { Storage } from '../storage/types.js';
import { ReplicaMonitor, checkLinearizability, sessionChecks, type CheckFailure } from './checkers.js';
import { SimCluster } from './cluster.js';
import { describePlan, drawFaultPlan, type FaultPlan, type FaultProfile } from './faults-plan.js';
import type { History } from './history.js';
import { Nemesis, type NemesisStats } from './nemesis.js';
import { SimTrace, formatTime, shortZxid } from './trace.js';
import { VirtualClock } from './virtual-clock.js';
import { Workload, drawWorkloadOptions, type WorkloadOptions } from './workload.js';

/** Test-only hooks to build deliberately broken variants (never used by the CLI). */
export interface SimVariant {
  /** Wrap each server's memory storage. */
  wrapStorage?: (id: ServerId, storage: Storage, clock: Clock) => Storage;
  /** The membership each server believes in. */
  membershipOf?: (id: ServerId, membership: Membership) => Membership;
}

/** Options of one run. */
export interface SimOptions {
  /** Voting servers (3 or 5; default 3). */
  servers?: number;
  /** Observers (default: drawn per seed, 0 or 1). */
  observers?: number;
  /** Fault profile (default `mixed`). */
  faults?: FaultProfile;
  /** Client operations (default 200). */
  ops?: number;
  /** Record the readable trace (`result.trace`); a function also receives each line as it happens. */
  trace?: boolean | ((line: string) => void);
  /** Also record every network delivery (verbose; only with `trace`). */
  traceNetwork?: boolean;
  /** Run the linearizability checker (default true). */
  linearizability?: boolean;
  /** Search budget of the linearizability checker. */
  maxStates?: number;
  /** Test-only variants. */
  variant?: SimVariant;
}

/** Counters of one run. */
export interface SimStats {
  /** Operations in the history (final reads included). */
  operations: number;
  ok: number;
  failed: number;
  unknown: number;
  /** Writes with an unknown outcome that the replicas resolved: applied, or never applied. */
  resolvedApplied: number;
  resolvedDropped: number;
  /** Transactions applied over all replicas. */
  applied: number;
  /** Virtual ms the run took. */
  virtualMs: number;
  /** Wall ms the run took, and the part spent in the linearizability checker. */
  wallMs: number;
  checkMs: number;
  /** Linearizability search states, and its verdict (`unknown`: the search budget ran out). */
  checkStates: number;
  linearizability: 'ok' | 'violation' | 'unknown' | 'skipped';
  /** Epochs with an established leader. */
  epochs: number;
  nemesis: NemesisStats;
}

/** The outcome of one seed. */
export interface SeedResult {
  seed: number;
  ok: boolean;
  /** Failed checks; empty when ok. */
  failures: CheckFailure[];
  stats: SimStats;
  plan: FaultPlan;
  workload: WorkloadOptions;
  /** Hash of the readable trace (when traced) and of the history (computed on first read). */
  traceDigest: string;
  readonly historyDigest: string;
  /** The readable trace (when `trace` was set). */
  trace: string[];
  /** The recorded history (for replays and tests). */
  history: History;
}

/** Virtual ms for the first election. */
const FIRST_LEADER_MS = 30_000;
/** Virtual ms the workload may run before the nemesis is stopped anyway. */
const WORKLOAD_MS = 120_000;
/** Virtual ms allowed to converge once everything is healed. */
const CONVERGE_MS = 60_000;
/** Virtual ms per step of the driver loop (conditions are checked between steps). */
const POLL_MS = 5;
/**
 * Events allowed within one step: a healthy ensemble handles at most a few hundred per
 * 5 ms (300 at most over 400 seeds); beyond this, something loops without letting
 * virtual time pass.
 */
const LIVELOCK_STEPS = 20_000;

/** Raised when the ensemble keeps the clock busy without letting time pass. */
class Livelock extends Error {}

/** Run one seed. See the module comment. */
export function runSeed(seed: number, options: SimOptions = {}): SeedResult {
  const started = performance.now();
  const root = seededRandom(seed);
  const voters = options.servers ?? 3;
  const shapeRandom = root.fork('shape');
  const observers = options.observers ?? (shapeRandom.chance(0.25) ? 1 : 0);
  const plan = drawFaultPlan(root.fork('plan'), options.faults ?? 'mixed', { servers: voters + observers, voters });
  const workloadOptions = drawWorkloadOptions(root.fork('workload-shape'), options.ops ?? 200);
  const clock = new VirtualClock();
  const sink = typeof options.trace === 'function' ? options.trace : undefined;
  const trace = new SimTrace(() => clock.now(), { enabled: options.trace !== undefined && options.trace !== false, ...(sink ? { sink } : {}) });
  trace.log('sim', `seed ${seed}: ${voters} voters, ${observers} observers; ${describePlan(plan)}`);
  trace.log(
    'sim',
    `workload: ${workloadOptions.ops} ops, ${workloadOptions.clients} clients, ${workloadOptions.parents} parents, think <=${workloadOptions.thinkMaxMs}ms, timeout ${workloadOptions.requestTimeoutMs}ms`,
  );

  let nemesis: Nemesis | null = null;
  const cluster = new SimCluster({
    voters,
    observers,
    clock,
    random: root.fork('cluster'),
    traceNetwork: trace.enabled && (options.traceNetwork ?? false),
    storageLatency: plan.storageLatency,
    ...(shapeRandom.chance(0.5) ? { snapCount: 10 + shapeRandom.int(100) } : {}),
    ...(shapeRandom.chance(0.5) ? { historyCapacity: 5 + shapeRandom.int(60) } : {}),
    ...(options.variant?.wrapStorage ? { wrapStorage: options.variant.wrapStorage } : {}),
    ...(options.variant?.membershipOf ? { membershipOf: options.variant.membershipOf } : {}),
    onTrap: (id, trap) => nemesis?.trapFired(id, trap),
    onViolation: (id, message) => monitor.fail('epochs', `server ${id}: ${message}`),
  });
  const monitor = new ReplicaMonitor(cluster.servers, trace);
  const workload = new Workload({ cluster, clock, random: root.fork('clients'), trace }, workloadOptions);
  nemesis = new Nemesis(cluster, plan, root.fork('nemesis'), clock, trace);
  const failures: CheckFailure[] = [];
  let linearizability: SimStats['linearizability'] = 'skipped';
  let checkStates = 0;
  let checkMs = 0;

  const runUntil = (done: () => boolean, ms: number): boolean => {
    const deadline = clock.now() + ms;
    while (!done()) {
      if (clock.now() >= deadline) return false;
      const before = clock.now();
      try {
        clock.advance(POLL_MS, { maxSteps: LIVELOCK_STEPS });
      } catch (error) {
        if (!String((error as Error).message).startsWith('VirtualClock: more than')) throw error;
        throw new Livelock(`livelock: more than ${LIVELOCK_STEPS} events within ${POLL_MS} virtual ms at t=${before}: ${describeServers(cluster)}`);
      }
    }
    return true;
  };

  try {
    cluster.start();
    if (!runUntil(() => cluster.leader() !== undefined, FIRST_LEADER_MS)) {
      failures.push({ checker: 'liveness', message: `no leader within ${FIRST_LEADER_MS} ms of a fault-free start` });
    } else {
      trace.log('sim', `leader s${cluster.leader()!.self}; workload and nemesis start`);
      workload.start();
      nemesis.start();
      runUntil(() => workload.finished, WORKLOAD_MS);
      workload.stop();
      nemesis.stop();
      runUntil(() => workload.finished, WORKLOAD_MS);
      // Converge: barrier writes through the leader every so often until every replica agrees.
      let nextBarrier = clock.now();
      const converged = runUntil(() => {
        if (cluster.converged()) return true;
        const leader = cluster.leader();
        if (leader !== undefined && clock.now() >= nextBarrier) {
          workload.barrier(leader);
          nextBarrier = clock.now() + 200;
        }
        return false;
      }, CONVERGE_MS);
      if (!converged && settledButDiverged(cluster)) {
        // Everyone serves at the same zxid, yet the trees differ: a safety failure, not liveness.
        monitor.checkFinal(cluster.servers, workload.acknowledged);
      } else if (!converged) {
        failures.push({ checker: 'liveness', message: `no convergence within ${CONVERGE_MS} ms after healing: ${describeServers(cluster)}` });
      } else {
        trace.log('sim', `converged at ${shortZxid(cluster.servers[0]!.lastAppliedZxid)} digest ${cluster.servers[0]!.digest()}; final reads`);
        const reads = workload.finalReads();
        if (!runUntil(reads.done, CONVERGE_MS)) failures.push({ checker: 'liveness', message: 'the final reads did not complete' });
        monitor.checkFinal(cluster.servers, workload.acknowledged);
        monitor.checkEphemerals(cluster.servers);
      }
    }
  } catch (error) {
    const e = error as Error;
    if (e instanceof Livelock) failures.push({ checker: 'liveness', message: e.message });
    else failures.push({ checker: 'exception', message: `${e.name}: ${e.message}${stackTop(e)}` });
    trace.log('sim', `EXCEPTION ${e.name}: ${e.message}`);
  }
  failures.push(...monitor.failures, ...sessionChecks());
  const history = workload.history();
  const resolved = workload.resolvedCounts();
  if (options.linearizability !== false) {
    const t0 = performance.now();
    const { result, failure } = checkLinearizability(history, options.maxStates !== undefined ? { maxStates: options.maxStates } : {});
    checkMs = performance.now() - t0;
    linearizability = result.status;
    checkStates = result.states;
    if (failure !== null) failures.push(failure);
    if (result.status === 'unknown') trace.log('check', `linearizability inconclusive: ${result.reason}`);
  }
  const virtualMs = clock.now();
  const networkTrace = cluster.network.trace;
  trace.log('sim', 'end of run: every server stops');
  cluster.close();
  for (const f of failures) trace.log('check', `FAIL ${f.checker}: ${f.message}`);
  if (failures.length === 0) trace.log('check', `ok: ${history.length} operations, linearizability ${linearizability}`);

  let ok = 0;
  let failed = 0;
  let unknown = 0;
  for (const o of history) {
    if (o.outcome.status === 'ok') ok++;
    else if (o.outcome.status === 'fail') failed++;
    else unknown++;
  }
  let digest: string | undefined;
  return {
    seed,
    ok: failures.length === 0,
    failures,
    stats: {
      operations: history.length,
      ok,
      failed,
      unknown,
      resolvedApplied: resolved.applied,
      resolvedDropped: resolved.dropped,
      applied: monitor.appliedCount,
      virtualMs,
      wallMs: performance.now() - started,
      checkMs,
      checkStates,
      linearizability,
      epochs: monitor.leaderEpochs().length,
      nemesis: { ...nemesis.stats },
    },
    plan,
    workload: workloadOptions,
    traceDigest: trace.digest(),
    get historyDigest() {
      return (digest ??= historyDigest(history));
    },
    trace: networkTrace !== null && networkTrace.length > 0 ? mergeTraces(trace.lines, networkTrace) : trace.lines,
    history,
  };
}

/** Every server runs and serves under one leader at the same last zxid (digests aside). */
function settledButDiverged(cluster: SimCluster): boolean {
  const zxid = cluster.servers[0]!.lastAppliedZxid;
  let leaders = 0;
  for (const s of cluster.servers) {
    if (!s.running || !s.serving || s.lastAppliedZxid !== zxid) return false;
    if (s.state === 'LEADING') leaders++;
  }
  return leaders === 1;
}

function describeServers(cluster: SimCluster): string {
  return cluster.servers
    .map((s) => `s${s.self} ${s.state}${s.serving ? ' serving' : ''} applied ${shortZxid(s.running ? s.lastAppliedZxid : 0)}`)
    .join('; ');
}

function stackTop(e: Error): string {
  const lines = (e.stack ?? '').split('\n').slice(1, 4).map((l) => l.trim());
  return lines.length > 0 ? ` (${lines.join(' < ')})` : '';
}

/**
 * Interleave the network's own trace (`<time> <event>`) with the readable trace by
 * time; at equal times the simulator's lines come first.
 */
function mergeTraces(lines: readonly string[], network: readonly string[]): string[] {
  const out: string[] = [];
  let j = 0;
  const timeOf = (line: string): number => Number(line.slice(0, line.indexOf(' ')));
  for (const line of lines) {
    const t = Number(line.trimStart().split(' ', 1)[0]);
    while (j < network.length && timeOf(network[j]!) < t) {
      const n = network[j++]!;
      out.push(`${formatTime(timeOf(n))} net   ${n.slice(n.indexOf(' ') + 1)}`);
    }
    out.push(line);
  }
  for (; j < network.length; j++) {
    const n = network[j]!;
    out.push(`${formatTime(timeOf(n))} net   ${n.slice(n.indexOf(' ') + 1)}`);
  }
  return out;
}

/** A hash of a history's text form (ids, clients, ops, outcomes, times). */
export function historyDigest(history: History): string {
  let h = 0x811c9dc5;
  const text = JSON.stringify(history, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}
