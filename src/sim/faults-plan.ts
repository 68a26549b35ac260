/**
 * Per-seed fault plans. As TigerBeetle's VOPR does, every seed draws its own fault
 * rates and its own mix of fault actions ("swarm testing"): one seed loses 25% of its
 * batches and never crashes, the next crashes servers between logging and ACK on a
 * clean network. A profile only bounds the ranges the seed draws from.
 *
 * The plan is pure data drawn from a `Random`; `nemesis.ts` carries it out.
 */
import type { Random } from '../runtime/random.js';

/** The named fault profiles of `--faults`. */
export const FAULT_PROFILES = ['none', 'light', 'heavy', 'network', 'crash', 'mixed', 'chaos'] as const;

/**
 * A fault profile name. `mixed` (the default) draws one of none/light/network/crash/heavy
 * per seed; `chaos` is `heavy` plus batches duplicated on the wire. TCP never hands a
 * duplicate to the application, and ZAB (like ZooKeeper) relies on that: a learner's
 * forwarded REQUEST carries nothing a leader could deduplicate it by. So the
 * simulator's network delivers at most once per connection (`atMostOnce`, TCP's
 * sequence numbers), and `chaos` checks that the duplicates are discarded there.
 */
export type FaultProfile = (typeof FAULT_PROFILES)[number];

/** What the nemesis can do at one of its steps. */
export type NemesisAction =
  /** Crash a random running server; it restarts after `restartDelayMs`. */
  | 'crash'
  /** Crash the leader. */
  | 'crashLeader'
  /** Crash every server at once (power loss), then restart them all. */
  | 'powerLoss'
  /** Arm a storage trap: crash a server when a chosen persistence step happens. */
  | 'trap'
  /** Split the servers into two groups (symmetric). */
  | 'partition'
  /** A one-way partition: batches from one group to another vanish. */
  | 'oneWay'
  /** Cut the leader from everyone. */
  | 'isolateLeader'
  /** Cut links one by one, then restore them in random order. */
  | 'swizzle'
  /** Remove every partition. */
  | 'heal'
  /** Put the seed's loss/duplication/delay/reorder rates on some links. */
  | 'linkFaults'
  /** Take every link fault off. */
  | 'clearLinkFaults'
  /** Jump one server's wall clock. */
  | 'clockJump';

/** Every nemesis action, in a fixed order (draws iterate it). */
export const NEMESIS_ACTIONS: readonly NemesisAction[] = [
  'crash',
  'crashLeader',
  'powerLoss',
  'trap',
  'partition',
  'oneWay',
  'isolateLeader',
  'swizzle',
  'heal',
  'linkFaults',
  'clearLinkFaults',
  'clockJump',
];

/** The fault rates and nemesis schedule of one seed. */
export interface FaultPlan {
  /** The profile the seed drew from (for `mixed`, the one it picked). */
  profile: Exclude<FaultProfile, 'mixed'>;
  /** Per-batch loss probability on a faulty link (0–0.3). */
  drop: number;
  /** Per-batch duplication probability on a faulty link. */
  duplicate: number;
  /** Per-batch delay probability (FIFO kept) and the maximum delay. */
  delay: number;
  delayMaxMs: number;
  /** Per-batch reordering probability and the maximum hold-back. */
  reorder: number;
  reorderMaxMs: number;
  /** Share of links a `linkFaults` step puts the rates on (1: every link). */
  linkShare: number;
  /** Link faults in place from the start (else only after a `linkFaults` step). */
  linkFaultsAtStart: boolean;
  /** Mean virtual ms between nemesis steps (0: no nemesis). */
  meanIntervalMs: number;
  /** Relative weight of each action (0: never). */
  weights: Record<NemesisAction, number>;
  /** At most this many servers down at once (crash actions skip beyond it). */
  maxDown: number;
  /** A crashed server restarts after a delay in this range (ms). */
  restartDelayMs: readonly [number, number];
  /** A partition heals by itself after a delay in this range (ms). */
  partitionMs: readonly [number, number];
  /** Largest clock jump (ms, either direction). */
  clockJumpMs: number;
  /** Simulated storage write latency per server, by server index (ms). */
  storageLatency: number[];
}

/** Options that shape a plan beyond the profile. */
export interface PlanShape {
  /** Number of servers (voters + observers). */
  servers: number;
  /** Number of voters. */
  voters: number;
}

/** Uniform in [lo, hi). */
function between(random: Random, lo: number, hi: number): number {
  return lo + random.next() * (hi - lo);
}

/** `max * U` with probability `p`, else 0 (a fault kind is often off entirely). */
function maybe(random: Random, p: number, max: number): number {
  return random.chance(p) ? random.next() * max : 0;
}

const NO_WEIGHTS = (): Record<NemesisAction, number> =>
  Object.fromEntries(NEMESIS_ACTIONS.map((a) => [a, 0])) as Record<NemesisAction, number>;

/** Draw the fault plan of one seed from `random` within `profile`. */
export function drawFaultPlan(random: Random, profileName: FaultProfile, shape: PlanShape): FaultPlan {
  let profile: Exclude<FaultProfile, 'mixed'>;
  if (profileName === 'mixed') {
    const r = random.next();
    profile = r < 0.05 ? 'none' : r < 0.3 ? 'light' : r < 0.45 ? 'network' : r < 0.6 ? 'crash' : 'heavy';
  } else {
    profile = profileName;
  }
  const minority = Math.floor((shape.voters - 1) / 2);
  const plan: FaultPlan = {
    profile,
    drop: 0,
    duplicate: 0,
    delay: 0,
    delayMaxMs: 1 + random.int(50),
    reorder: 0,
    reorderMaxMs: 1 + random.int(20),
    linkShare: between(random, 0.2, 1),
    linkFaultsAtStart: false,
    meanIntervalMs: 0,
    weights: NO_WEIGHTS(),
    maxDown: 0,
    restartDelayMs: [5, 300],
    partitionMs: [50, 1000],
    clockJumpMs: 0,
    storageLatency: Array.from({ length: shape.servers }, () => (random.chance(0.5) ? 0 : random.int(6))),
  };
  const w = plan.weights;
  const weight = (p = 1): number => (random.chance(p) ? between(random, 0.05, 1) : 0);
  switch (profile) {
    case 'none':
      break;
    case 'light':
      plan.drop = maybe(random, 0.5, 0.02);
      plan.delay = maybe(random, 0.7, 0.2);
      plan.reorder = maybe(random, 0.3, 0.01);
      plan.meanIntervalMs = between(random, 200, 800);
      plan.maxDown = Math.max(1, minority);
      plan.clockJumpMs = 60_000;
      w.crash = weight();
      w.crashLeader = weight();
      w.partition = weight();
      w.isolateLeader = weight(0.5);
      w.heal = weight() + 0.2;
      w.linkFaults = weight();
      w.clearLinkFaults = weight();
      w.clockJump = weight(0.5);
      break;
    case 'network':
      plan.drop = maybe(random, 0.8, 0.3);
      plan.duplicate = 0;
      plan.delay = maybe(random, 0.8, 0.3);
      plan.reorder = maybe(random, 0.5, 0.05);
      plan.linkFaultsAtStart = random.chance(0.5);
      plan.meanIntervalMs = between(random, 30, 400);
      w.partition = weight();
      w.oneWay = weight();
      w.isolateLeader = weight();
      w.swizzle = weight();
      w.heal = weight() + 0.2;
      w.linkFaults = weight();
      w.clearLinkFaults = weight();
      break;
    case 'crash':
      plan.meanIntervalMs = between(random, 30, 400);
      plan.maxDown = shape.servers;
      for (let i = 0; i < plan.storageLatency.length; i++) plan.storageLatency[i] = random.int(8);
      w.crash = weight();
      w.crashLeader = weight();
      w.powerLoss = weight(0.5);
      w.trap = weight() + 0.2;
      w.clockJump = weight(0.3);
      plan.clockJumpMs = 3_600_000;
      break;
    case 'heavy':
    case 'chaos':
      plan.drop = maybe(random, 0.6, 0.3);
      // Duplicates on the wire, discarded by the at-most-once delivery as TCP would: only `chaos`.
      plan.duplicate = profile === 'chaos' ? maybe(random, 0.7, 0.05) : 0;
      plan.delay = maybe(random, 0.7, 0.3);
      plan.reorder = maybe(random, 0.5, 0.05);
      plan.linkFaultsAtStart = random.chance(0.3);
      plan.meanIntervalMs = between(random, 30, 300);
      plan.maxDown = random.chance(0.5) ? shape.servers : Math.max(1, minority);
      plan.clockJumpMs = 3_600_000;
      for (const action of NEMESIS_ACTIONS) w[action] = weight(0.7);
      w.heal += 0.2;
      w.trap += 0.1;
      break;
  }
  return plan;
}

/** A one-line summary of a plan, for traces and failure reports. */
export function describePlan(plan: FaultPlan): string {
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
  const actions = NEMESIS_ACTIONS.filter((a) => plan.weights[a] > 0);
  return (
    `profile ${plan.profile}; drop ${pct(plan.drop)} dup ${pct(plan.duplicate)} delay ${pct(plan.delay)}<=${plan.delayMaxMs}ms ` +
    `reorder ${pct(plan.reorder)}; nemesis every ~${Math.round(plan.meanIntervalMs)}ms: ${actions.join(',') || '-'}; ` +
    `maxDown ${plan.maxDown}; storage latency [${plan.storageLatency.join(',')}]ms`
  );
}

/**
 * Client faults of one seed (session-level workloads only; drawn from their own stream,
 * so server-level seeds keep their plans): a client cut off from every server for a
 * while (shorter than its session timeout: it reconnects with the same session; longer:
 * the session expires and the client learns it on reconnecting), and client crashes (the
 * process dies without closing its session, which the leader expires).
 */
export interface ClientFaultPlan {
  /** Mean virtual ms between client faults (0: none). */
  meanIntervalMs: number;
  /** Relative weights of a cut and a crash. */
  cut: number;
  crash: number;
  /** A cut lasts this many ms (uniform), drawn against the client's session timeout. */
  cutMs: readonly [number, number];
  /** Crashes at most (then only cuts). */
  maxCrashes: number;
}

/** Draw the client faults for a fault profile (`none` has none). */
export function drawClientFaultPlan(random: Random, profile: Exclude<FaultProfile, 'mixed'>, sessionTimeoutMs: number): ClientFaultPlan {
  if (profile === 'none' || random.chance(0.2)) return { meanIntervalMs: 0, cut: 0, crash: 0, cutMs: [0, 0], maxCrashes: 0 };
  return {
    meanIntervalMs: between(random, 300, 3_000),
    cut: random.chance(0.8) ? between(random, 0.1, 1) : 0,
    crash: random.chance(0.6) ? between(random, 0.05, 0.4) : 0,
    cutMs: [50, Math.round(sessionTimeoutMs * (0.5 + random.next() * 1.5))],
    maxCrashes: 1 + random.int(4),
  };
}

/** A one-line summary of a client fault plan. */
export function describeClientPlan(plan: ClientFaultPlan): string {
  if (plan.meanIntervalMs === 0) return 'no client faults';
  return `client faults every ~${Math.round(plan.meanIntervalMs)}ms: cut ${plan.cut.toFixed(2)} (${plan.cutMs[0]}..${plan.cutMs[1]}ms), crash ${plan.crash.toFixed(2)}`;
}
