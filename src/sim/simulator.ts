/**
 * One seeded simulation run: a pure function of (seed, options) — same seed, same code,
 * same history, byte for byte. Everything random is drawn from forks of
 * `seededRandom(seed)`; everything timed runs on one `VirtualClock`.
 *
 * Workloads (`workload`):
 * - `server`: server-level clients (workload.ts) on `QuorumServer.write/read/sync`;
 * - `clients`: session-level clients (session-client.ts), real `ZooKeeperClient`s over
 *   the in-process channel, with watches, expiry and client faults;
 * - `recipes`: lock contenders and election candidates (recipe-workload.ts);
 * - `mixed`: each seed draws some of each.
 *
 * The run:
 * 1. draw the fault plan and the workload shape; build the cluster (with each server's
 *    client pipeline when sessions take part); elect a leader;
 * 2. run the clients while the nemeses break servers, links and clients, until every
 *    operation was issued and answered (and the recipes ran their time);
 * 3. heal everything, restart every server, let the clients finish, and wait until the
 *    ensemble converges (pushing barrier writes through the leader so a lossy network's
 *    leftovers commit);
 * 4. a verifier session syncs and reads the whole key space; session clients, once
 *    connected again, have their pending watches judged; then every session is closed
 *    and the ensemble must expire the dead ones and hold no ephemeral of them;
 * 5. run the checkers (checkers.ts, recipe-checkers.ts) on the replicas, the recipes'
 *    ledger and the recorded history.
 *
 * Session-level workloads are Promise code: the clock is driven event by event with the
 * microtask queue drained in between (driver.ts), which is why `runSeed` is async.
 *
 * ```ts
 * const result = await runSeed(42, { servers: 3, faults: 'heavy', ops: 200, workload: 'clients' });
 * if (!result.ok) console.log(result.failures);
 * ```
 */
import type { ServerId } from '../protocol/peer.js';
import type { Clock } from '../runtime/clock.js';
import { seededRandom, type Random } from '../runtime/random.js';
import type { Membership } from '../machines/quorum.js';
import type { Storage } from '../storage/types.js';
import type { ClientService } from '../server/client-service.js';
import type { InProcessTarget } from '../server/inproc-channel.js';
import { ReplicaMonitor, checkLinearizability, checkSessionsGone, type CheckFailure } from './checkers.js';
import { SimCluster } from './cluster.js';
import { ConnectionObserver } from './connections.js';
import { Livelock, SimDriver } from './driver.js';
import { describeClientPlan, describePlan, drawClientFaultPlan, drawFaultPlan, type FaultPlan, type FaultProfile } from './faults-plan.js';
import type { History } from './history.js';
import { ClientNemesis, Nemesis, type ClientFaultTarget, type ClientNemesisStats, type NemesisStats } from './nemesis.js';
import { checkRecipes } from './recipe-checkers.js';
import { RecipeWorkload, drawRecipeOptions, type LockFactory, type RecipeEvent, type RecipeWorkloadOptions } from './recipe-workload.js';
import { SessionClient, SessionLedger, drawSessionOptions, type SessionEnv, type SessionWorkloadOptions } from './session-client.js';
import { SimTrace, formatTime, shortZxid } from './trace.js';
import { VirtualClock } from './virtual-clock.js';
import { WatchChecker } from './watch-checker.js';
import { Workload, drawWorkloadOptions, type WorkloadOptions } from './workload.js';

/** Test-only hooks to build deliberately broken variants (never used by the CLI). */
export interface SimVariant {
  /** Wrap each server's memory storage. */
  wrapStorage?: (id: ServerId, storage: Storage, clock: Clock) => Storage;
  /** The membership each server believes in. */
  membershipOf?: (id: ServerId, membership: Membership) => Membership;
  /** Alter each server's client service once built (e.g. swap its watch registry). */
  clientService?: (id: ServerId, service: ClientService) => void;
  /** The lock the recipe workload's contenders use. */
  lockFactory?: LockFactory;
}

/** The workloads of `--workload`. */
export const WORKLOAD_KINDS = ['server', 'clients', 'recipes', 'mixed'] as const;

/** A workload kind (see the module comment). */
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

/** The workload of `runSeed` and `npm run sim` when none is given. */
export const DEFAULT_WORKLOAD: WorkloadKind = 'mixed';

/** Options of one run. */
export interface SimOptions {
  /** Voting servers (3 or 5; default 3). */
  servers?: number;
  /** Observers (default: drawn per seed, 0 or 1). */
  observers?: number;
  /** Fault profile (default `mixed`). */
  faults?: FaultProfile;
  /** Workload (default `DEFAULT_WORKLOAD`). */
  workload?: WorkloadKind;
  /** Override parts of the drawn recipe workload (when the seed has one). */
  recipes?: Partial<RecipeWorkloadOptions>;
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
  /** Session-level activity (zero for server-level runs). */
  sessions: SessionStats;
}

/** Counters of the session-level part of a run. */
export interface SessionStats {
  /** Session clients and recipe processes at the start. */
  clients: number;
  /** Sessions seen (created by the clients, renewals included). */
  sessions: number;
  /** Watch registrations and watcher calls judged. */
  watches: number;
  watcherCalls: number;
  /** Notifications delivered to clients. */
  notifications: number;
  /** Lock leases and leader terms started. */
  leases: number;
  terms: number;
  clientFaults: ClientNemesisStats;
}

/** What a seed ran (drawn per seed for `mixed`). */
export interface Composition {
  kind: WorkloadKind;
  serverClients: number;
  session: SessionWorkloadOptions | null;
  recipes: RecipeWorkloadOptions | null;
  /** Virtual ms the recipes run (at least). */
  recipeMs: number;
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
  composition: Composition;
  /** The recipe processes' ledger (empty without recipes). */
  recipeEvents: RecipeEvent[];
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

/** Draw what a seed runs. */
function drawComposition(random: Random, kind: WorkloadKind, workload: WorkloadOptions): Composition {
  switch (kind) {
    case 'server':
      return { kind, serverClients: workload.clients, session: null, recipes: null, recipeMs: 0 };
    case 'clients':
      return { kind, serverClients: 0, session: drawSessionOptions(random, 2 + random.int(5)), recipes: null, recipeMs: 0 };
    case 'recipes': {
      const locks = random.chance(0.8);
      const election = !locks || random.chance(0.5);
      return { kind, serverClients: 0, session: null, recipes: drawRecipeOptions(random, 1, { locks, election }), recipeMs: 3_000 + random.int(9_000) };
    }
    case 'mixed': {
      // Swarm: about half the seeds stay server-level (the cheapest, and the densest in
      // ZAB faults per second of CPU); the rest add sessions, and some of those recipes.
      const roll = random.next();
      if (roll < 0.5) return { kind, serverClients: workload.clients, session: null, recipes: null, recipeMs: 0 };
      const serverClients = random.chance(0.5) ? 1 + random.int(3) : 0;
      if (roll < 0.8) return { kind, serverClients, session: drawSessionOptions(random, 1 + random.int(4)), recipes: null, recipeMs: 0 };
      const locks = random.chance(0.7);
      const election = !locks || random.chance(0.4);
      const session = random.chance(0.7) ? drawSessionOptions(random, 1 + random.int(2)) : null;
      return { kind, serverClients, session, recipes: drawRecipeOptions(random, 0.4, { locks, election }), recipeMs: session === null && serverClients === 0 ? 2_000 + random.int(4_000) : 0 };
    }
  }
}

/** Run one seed. See the module comment. */
export async function runSeed(seed: number, options: SimOptions = {}): Promise<SeedResult> {
  const started = performance.now();
  const root = seededRandom(seed);
  const voters = options.servers ?? 3;
  const shapeRandom = root.fork('shape');
  const observers = options.observers ?? (shapeRandom.chance(0.25) ? 1 : 0);
  const plan = drawFaultPlan(root.fork('plan'), options.faults ?? 'mixed', { servers: voters + observers, voters });
  const workloadOptions = drawWorkloadOptions(root.fork('workload-shape'), options.ops ?? 200);
  // Forked in this order for every workload, so a server-level seed runs as it always did.
  const clusterRandom = root.fork('cluster');
  const clientsRandom = root.fork('clients');
  const nemesisRandom = root.fork('nemesis');
  const sessionRandom = root.fork('sessions');
  const composition = drawComposition(sessionRandom.fork('composition'), options.workload ?? DEFAULT_WORKLOAD, workloadOptions);
  if (composition.recipes !== null && options.recipes !== undefined) composition.recipes = { ...composition.recipes, ...options.recipes };
  const sessionsOn = composition.session !== null || composition.recipes !== null;
  const clock = new VirtualClock();
  const sink = typeof options.trace === 'function' ? options.trace : undefined;
  const trace = new SimTrace(() => clock.now(), { enabled: options.trace !== undefined && options.trace !== false, ...(sink ? { sink } : {}) });
  trace.log('sim', `seed ${seed}: ${voters} voters, ${observers} observers; ${describePlan(plan)}`);
  trace.log(
    'sim',
    `workload: ${workloadOptions.ops} ops, ${workloadOptions.clients} clients, ${workloadOptions.parents} parents, think <=${workloadOptions.thinkMaxMs}ms, timeout ${workloadOptions.requestTimeoutMs}ms`,
  );
  if (composition.kind !== 'server') trace.log('sim', describeComposition(composition));

  const failures: CheckFailure[] = [];
  const counts = new Map<string, number>();
  const fail = (checker: CheckFailure['checker'], message: string): void => {
    const n = (counts.get(checker) ?? 0) + 1;
    counts.set(checker, n);
    if (n <= 3) failures.push({ checker, message });
    if (trace.enabled) trace.log('check', `VIOLATION ${checker}: ${message}`);
  };
  const observer = new ConnectionObserver((message) => fail('watches', message));
  let nemesis: Nemesis | null = null;
  const reaperMs = 500 + sessionRandom.int(5_000);
  const cluster = new SimCluster({
    voters,
    observers,
    clock,
    random: clusterRandom,
    traceNetwork: trace.enabled && (options.traceNetwork ?? false),
    // TCP under the peer protocol. Server-level runs keep silent loss and reordering on
    // live links (safety must hold under any loss; their clients time out); with client
    // sessions, liveness is judged too (waiters answered, sessions usable), which ZAB
    // promises only over TCP: a lost REQUEST would leave a session's queue on that
    // server waiting forever while the connection stays up.
    delivery: sessionsOn ? 'tcp' : 'at-most-once',
    storageLatency: plan.storageLatency,
    ...(shapeRandom.chance(0.5) ? { snapCount: 10 + shapeRandom.int(100) } : {}),
    ...(shapeRandom.chance(0.5) ? { historyCapacity: 5 + shapeRandom.int(60) } : {}),
    ...(options.variant?.wrapStorage ? { wrapStorage: options.variant.wrapStorage } : {}),
    ...(options.variant?.membershipOf ? { membershipOf: options.variant.membershipOf } : {}),
    ...(sessionsOn
      ? {
          // The leader's container sweep runs (recipe directories are containers); the
          // history's key space gets no containers, since the sweep's deletes are not in it.
          clientServices: { containerCheckIntervalMs: reaperMs },
          serviceObserver: observer,
          ...(options.variant?.clientService ? { clientService: options.variant.clientService } : {}),
        }
      : {}),
    onTrap: (id, trap) => nemesis?.trapFired(id, trap),
    onViolation: (id, message) => monitor.fail('epochs', `server ${id}: ${message}`),
  });
  const monitor = new ReplicaMonitor(cluster.servers, trace);
  const ledger = new SessionLedger();
  const workload = new Workload({ cluster, clock, random: clientsRandom, trace, containers: !sessionsOn, ledger }, workloadOptions);
  nemesis = new Nemesis(cluster, plan, nemesisRandom, clock, trace);
  const watches = new WatchChecker((message) => fail('watches', message), () => observer.current, trace.enabled ? (who, text) => trace.log(who, text) : undefined);
  if (sessionsOn) for (const server of cluster.servers) server.on('applied', (txn, result) => watches.logged(txn.header.zxid, result.events));
  const target: InProcessTarget = {
    clock,
    serverIds: cluster.ids(),
    clientService: (id) => {
      const service = cluster.services.get(id);
      return service === undefined ? undefined : observer.acceptor(id, service);
    },
  };
  const sessionClients: SessionClient[] = [];
  const env: SessionEnv | null =
    composition.session === null
      ? null
      : { target, observer, watches, ledger, options: composition.session, fail: (message) => fail('exception', message) };
  const recipes =
    composition.recipes === null
      ? null
      : new RecipeWorkload(
          {
            target,
            observer,
            clock,
            trace,
            random: sessionRandom.fork('recipes'),
            fail: (message) => fail('exception', message),
            ...(options.variant?.lockFactory ? { lockFactory: options.variant.lockFactory } : {}),
          },
          composition.recipes,
        );
  const sessionTimeout = composition.session?.sessionTimeoutMs ?? composition.recipes?.sessionTimeoutMs ?? 0;
  const clientPlan = drawClientFaultPlan(sessionRandom.fork('client-faults'), plan.profile, sessionTimeout);
  if (sessionsOn) trace.log('sim', describeClientPlan(clientPlan));
  const clientTargets = (): ClientFaultTarget[] => [
    ...sessionClients.filter((c) => c.live).map((c) => ({ name: c.name, cut: () => c.cut(), crash: () => c.crash() })),
    ...(recipes?.targets() ?? []),
  ];
  const clientNemesis = new ClientNemesis(clientPlan, clientTargets, sessionRandom.fork('client-nemesis'), clock, trace);
  const driver = new SimDriver(clock, { async: sessionsOn, pollMs: POLL_MS, livelockSteps: LIVELOCK_STEPS, describe: () => describeServers(cluster) });
  let linearizability: SimStats['linearizability'] = 'skipped';
  let checkStates = 0;
  let checkMs = 0;
  const maxSessionTimeout = Math.max(composition.session?.sessionTimeoutMs ?? 0, composition.recipes?.sessionTimeoutMs ?? 0);

  /** Push barrier writes through the leader until every replica agrees. */
  const converge = async (): Promise<boolean> => {
    let nextBarrier = clock.now();
    return driver.runUntil(() => {
      if (cluster.converged()) return true;
      const leader = cluster.leader();
      if (leader !== undefined && clock.now() >= nextBarrier) {
        workload.barrier(leader);
        nextBarrier = clock.now() + 200;
      }
      return false;
    }, CONVERGE_MS);
  };

  try {
    cluster.start();
    if (!(await driver.runUntil(() => cluster.leader() !== undefined, FIRST_LEADER_MS))) {
      failures.push({ checker: 'liveness', message: `no leader within ${FIRST_LEADER_MS} ms of a fault-free start` });
    } else {
      trace.log('sim', `leader s${cluster.leader()!.self}; workload and nemesis start`);
      workload.start(composition.serverClients);
      if (env !== null) {
        for (let i = 0; i < env.options.clients; i++) sessionClients.push(workload.addClient((ctx, random) => new SessionClient(ctx, env, random)) as SessionClient);
      }
      recipes?.start();
      const recipesUntil = clock.now() + composition.recipeMs;
      nemesis.start();
      clientNemesis.start();
      await driver.runUntil(() => workload.finished && clock.now() >= recipesUntil, WORKLOAD_MS);
      workload.stop();
      recipes?.stop();
      nemesis.stop();
      clientNemesis.stop();
      await driver.runUntil(() => workload.finished && (recipes?.finished ?? true), WORKLOAD_MS);
      // Every waiter of a live process has been answered by now (acquired or told why not).
      const unanswered = recipes?.unsettledAcquires() ?? [];
      const converged = await converge();
      if (!converged && settledButDiverged(cluster)) {
        // Everyone serves at the same zxid, yet the trees differ: a safety failure, not liveness.
        monitor.checkFinal(cluster.servers, workload.acknowledged);
      } else if (!converged) {
        failures.push({ checker: 'liveness', message: `no convergence within ${CONVERGE_MS} ms after healing: ${describeServers(cluster)}` });
      } else {
        trace.log('sim', `converged at ${shortZxid(cluster.servers[0]!.lastAppliedZxid)} digest ${cluster.servers[0]!.digest()}; final reads`);
        const reads = workload.finalReads();
        if (!(await driver.runUntil(reads.done, CONVERGE_MS))) failures.push({ checker: 'liveness', message: 'the final reads did not complete' });
        if (sessionsOn) await endSessions();
        monitor.checkFinal(cluster.servers, workload.acknowledged);
        monitor.checkEphemerals(cluster.servers);
        if (sessionsOn) failures.push(...checkSessionsGone(cluster.servers));
      }
      if (recipes !== null) failures.push(...checkRecipes(recipes.ledger.events, unanswered));
    }
  } catch (error) {
    const e = error as Error;
    if (e instanceof Livelock) failures.push({ checker: 'liveness', message: e.message });
    else failures.push({ checker: 'exception', message: `${e.name}: ${e.message}${stackTop(e)}` });
    trace.log('sim', `EXCEPTION ${e.name}: ${e.message}`);
  }

  /**
   * The end of a session-level run: judge the live clients' pending watches once they
   * are connected, close every session, wait for the dead ones to expire, converge.
   */
  async function endSessions(): Promise<void> {
    const alive = sessionClients.filter((c) => c.live && !c.client.session.ended);
    // Connected, with nothing outstanding on the connection (SetWatches included).
    const quiet = (c: SessionClient): boolean => c.client.state === 'CONNECTED' && c.connection?.open === true && c.connection.requests.size === 0;
    const settled = (): boolean => alive.every((c) => c.client.session.ended || quiet(c));
    if (!(await driver.runUntil(settled, 4 * maxSessionTimeout + 5_000))) {
      failures.push({ checker: 'liveness', message: `session clients did not reconnect after healing: ${alive.filter((c) => !quiet(c)).map((c) => `${c.name} ${c.client.state}`).join(', ')}` });
    }
    // Let in-flight notifications arrive, then judge the watches of quiet clients.
    await driver.runUntil(() => false, 50);
    for (const c of alive) {
      const server = c.connection === null ? undefined : cluster.servers.find((s) => s.self === c.connection!.server);
      if (quiet(c) && server !== undefined) watches.checkConnected(c.record.owner, c.connection!, server.lastAppliedZxid);
    }
    trace.log('sim', 'close every session');
    const closing = [...alive.map((c) => c.retire()), recipes?.closeAll() ?? Promise.resolve()];
    let closed = false;
    void Promise.all(closing).then(() => (closed = true));
    if (!(await driver.runUntil(() => closed, 4 * maxSessionTimeout + 5_000))) failures.push({ checker: 'liveness', message: 'closing the sessions did not finish' });
    for (const r of ledger.sessions) if (r.ended === 'expired' || r.ended === 'closed') watches.checkEnded(r.owner, r.ended);
    // The dead clients' sessions (and any session whose creation no client learned of) expire.
    const gone = (): boolean => cluster.servers.every((s) => !s.running || ![...s.tree.sessions.keys()].some((id) => id >> 56n !== 0n));
    if (!(await driver.runUntil(gone, 4 * maxSessionTimeout + 10_000))) trace.log('sim', 'sessions still live after the wait');
    if (!(await converge())) failures.push({ checker: 'liveness', message: `no convergence after the sessions ended: ${describeServers(cluster)}` });
  }

  failures.push(...monitor.failures);
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
  const recipeEvents = recipes?.ledger.events ?? [];
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
      sessions: {
        clients: (composition.session?.clients ?? 0) + (composition.recipes?.lockClients ?? 0) + (composition.recipes?.candidates ?? 0),
        sessions: ledger.sessions.length + (recipes?.clients.length ?? 0),
        watches: watches.registrations.length,
        watcherCalls: watches.fired,
        notifications: observer.delivered,
        leases: recipeEvents.filter((e) => e.recipe === 'lock' && e.kind === 'start').length,
        terms: recipeEvents.filter((e) => e.recipe === 'leader' && e.kind === 'start').length,
        clientFaults: { ...clientNemesis.stats },
      },
    },
    plan,
    workload: workloadOptions,
    composition,
    recipeEvents,
    traceDigest: trace.digest(),
    get historyDigest() {
      return (digest ??= historyDigest(history));
    },
    trace: networkTrace !== null && networkTrace.length > 0 ? mergeTraces(trace.lines, networkTrace) : trace.lines,
    history,
  };
}

/** `clients: 3 session clients (timeout 2400ms), ...`: a composition as one line. */
function describeComposition(c: Composition): string {
  const parts = [`workload ${c.kind}: ${c.serverClients} server-level clients`];
  if (c.session) parts.push(`${c.session.clients} session clients (timeout ${c.session.sessionTimeoutMs}ms, watch ${(c.session.watch * 100).toFixed(0)}%)`);
  if (c.recipes) {
    const r = c.recipes;
    if (r.contenders > 0) parts.push(`${r.contenders} lock contenders on ${r.lockClients} clients, ${r.locks} lock(s), hold <=${r.holdMaxMs}ms`);
    if (r.candidates > 0) parts.push(`${r.candidates} election candidates`);
  }
  return parts.join('; ');
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
