/**
 * The nemesis carries out a seed's `FaultPlan`: at random intervals it draws an action
 * by the plan's weights and breaks something (crashes, storage traps, partitions,
 * swizzles, link faults, clock jumps); crashed servers restart and partitions heal
 * after drawn delays. `stop()` heals everything at once so the run can converge.
 * Every choice comes from its own `Random`, every delay from the virtual clock.
 */
import type { ServerId } from '../protocol/peer.js';
import type { TimerHandle } from '../runtime/clock.js';
import type { Random } from '../runtime/random.js';
import type { SimCluster } from './cluster.js';
import { NEMESIS_ACTIONS, type ClientFaultPlan, type FaultPlan, type NemesisAction } from './faults-plan.js';
import { PERSIST_STEPS, type PersistStep, type StorageTrap } from './trap-storage.js';
import type { SimTrace } from './trace.js';
import type { VirtualClock } from './virtual-clock.js';

/** Counters of what the nemesis did. */
export interface NemesisStats {
  steps: number;
  crashes: number;
  trapsFired: number;
  partitions: number;
}

/** See the module comment. */
export class Nemesis {
  readonly stats: NemesisStats = { steps: 0, crashes: 0, trapsFired: 0, partitions: 0 };
  private readonly cluster: SimCluster;
  private readonly plan: FaultPlan;
  private readonly random: Random;
  private readonly trace: SimTrace;
  private readonly clock: VirtualClock;
  private readonly timers = new Set<TimerHandle>();
  private running = false;
  private swizzling = false;
  private readonly totalWeight: number;

  constructor(cluster: SimCluster, plan: FaultPlan, random: Random, clock: VirtualClock, trace: SimTrace) {
    this.cluster = cluster;
    this.plan = plan;
    this.random = random;
    this.clock = clock;
    this.trace = trace;
    this.totalWeight = NEMESIS_ACTIONS.reduce((sum, a) => sum + plan.weights[a], 0);
  }

  /** Begin: link faults at start if the plan says so, then the first step. */
  start(): void {
    this.running = true;
    if (this.plan.linkFaultsAtStart) this.linkFaults();
    if (this.plan.meanIntervalMs > 0 && this.totalWeight > 0) this.schedule();
  }

  /** A trap fired on `id` (the cluster stopped it): restart it later. */
  trapFired(id: ServerId, trap: StorageTrap): void {
    this.stats.trapsFired++;
    this.log(`trap fired on s${id}: crash at ${trap.step} (${trap.when === 'issue' ? 'before it is durable' : 'durable, before its callback'})`);
    if (this.running) {
      this.restartLater(id);
      return;
    }
    // A crash deferred from before `stop()`: everything is healed by now, restart at once.
    this.clock.defer(() => {
      const server = this.cluster.server(id);
      if (!server.running) server.start();
    });
  }

  /**
   * Heal everything: no partitions, no link faults, no armed traps, every server running
   * (clock skews stay: they are not a fault to heal).
   */
  stop(): void {
    this.running = false;
    for (const t of this.timers) this.clock.clearTimeout(t);
    this.timers.clear();
    const faults = this.cluster.network.faults;
    faults.heal();
    faults.clearFaults();
    for (const trap of this.cluster.traps.values()) trap.disarm();
    for (const s of this.cluster.servers) if (!s.running) s.start();
    this.log('heal everything; restart every server');
  }

  private schedule(): void {
    const delay = Math.max(1, Math.round(this.random.next() * 2 * this.plan.meanIntervalMs));
    this.after(delay, () => {
      this.step();
      this.schedule();
    });
  }

  private after(ms: number, fn: () => void): void {
    const timer = this.clock.setTimeout(() => {
      this.timers.delete(timer);
      if (this.running) fn();
    }, ms);
    this.timers.add(timer);
  }

  private log(text: string): void {
    if (this.trace.enabled) this.trace.log('nem', text);
  }

  private pick(): NemesisAction {
    let x = this.random.next() * this.totalWeight;
    for (const action of NEMESIS_ACTIONS) {
      x -= this.plan.weights[action];
      if (x < 0) return action;
    }
    return 'heal';
  }

  private step(): void {
    this.stats.steps++;
    const action = this.pick();
    const cluster = this.cluster;
    const faults = cluster.network.faults;
    const ids = cluster.ids();
    const r = this.random;
    switch (action) {
      case 'crash': {
        const running = cluster.servers.filter((s) => s.running);
        if (running.length === 0) return;
        this.crash(running[r.int(running.length)]!.self);
        return;
      }
      case 'crashLeader': {
        const leader = cluster.leader();
        if (leader !== undefined) this.crash(leader.self);
        return;
      }
      case 'powerLoss': {
        if (this.plan.maxDown < ids.length) return;
        for (const s of cluster.servers) if (s.running) s.stop();
        this.stats.crashes++;
        this.log('power loss: every server crashes');
        this.after(this.delay(this.plan.restartDelayMs), () => {
          for (const s of cluster.servers) if (!s.running) s.start();
          this.log('power back: every server restarts');
        });
        return;
      }
      case 'trap': {
        const id = ids[r.int(ids.length)]!;
        const trap: StorageTrap = { step: this.trapStep(), when: r.chance(0.5) ? 'issue' : 'durable', skip: r.int(3) };
        cluster.traps.get(id)!.arm(trap);
        this.log(`arm trap on s${id}: crash at ${trap.when} of ${trap.step} #${trap.skip + 1}`);
        return;
      }
      case 'partition': {
        const shuffled = this.shuffle(ids);
        const cut = 1 + r.int(ids.length - 1);
        const a = shuffled.slice(0, cut);
        const b = shuffled.slice(cut);
        faults.partition(a, b);
        this.stats.partitions++;
        this.log(`partition [${a.join(',')}] | [${b.join(',')}]`);
        this.healLater();
        return;
      }
      case 'oneWay': {
        const shuffled = this.shuffle(ids);
        const cut = 1 + r.int(ids.length - 1);
        const from = shuffled.slice(0, cut);
        const to = shuffled.slice(cut);
        faults.partitionOneWay(from, to);
        this.stats.partitions++;
        this.log(`one-way partition [${from.join(',')}] -/-> [${to.join(',')}]`);
        this.healLater();
        return;
      }
      case 'isolateLeader': {
        const leader = cluster.leader();
        if (leader === undefined) return;
        faults.isolate(leader.self);
        this.stats.partitions++;
        this.log(`isolate leader s${leader.self}`);
        this.healLater();
        return;
      }
      case 'swizzle':
        this.swizzle();
        return;
      case 'heal':
        faults.heal();
        this.log('heal partitions');
        return;
      case 'linkFaults':
        this.linkFaults();
        return;
      case 'clearLinkFaults':
        faults.clearFaults();
        this.log('clear link faults');
        return;
      case 'clockJump': {
        if (this.plan.clockJumpMs <= 0) return;
        const id = ids[r.int(ids.length)]!;
        const ms = Math.round((r.next() * 2 - 1) * this.plan.clockJumpMs);
        cluster.jumpClock(id, ms);
        this.log(`clock of s${id} jumps ${ms >= 0 ? '+' : ''}${ms} ms (skew ${cluster.skewOf(id)} ms)`);
        return;
      }
    }
  }

  private crash(id: ServerId): void {
    const down = this.cluster.servers.filter((s) => !s.running).length;
    if (down >= this.plan.maxDown) return;
    this.cluster.server(id).stop();
    this.stats.crashes++;
    this.log(`crash s${id}`);
    this.restartLater(id);
  }

  private restartLater(id: ServerId): void {
    this.after(this.delay(this.plan.restartDelayMs), () => {
      const server = this.cluster.server(id);
      if (server.running) return;
      server.start();
      this.log(`restart s${id}`);
    });
  }

  private healLater(): void {
    this.after(this.delay(this.plan.partitionMs), () => {
      this.cluster.network.faults.heal();
      this.log('partitions heal');
    });
  }

  /** Cut links one by one, then restore them one by one in another random order. */
  private swizzle(): void {
    if (this.swizzling) return;
    const ids = this.cluster.ids();
    const pairs: [ServerId, ServerId][] = [];
    for (let i = 0; i < ids.length; i++) for (let j = i + 1; j < ids.length; j++) if (this.random.chance(0.6)) pairs.push([ids[i]!, ids[j]!]);
    if (pairs.length === 0) return;
    this.swizzling = true;
    const cutOrder = this.shuffle(pairs);
    const healOrder = this.shuffle(pairs);
    const stepMs = 5 + this.random.int(60);
    const faults = this.cluster.network.faults;
    this.log(`swizzle ${pairs.length} links every ${stepMs} ms`);
    let k = 0;
    const tick = (): void => {
      if (k < cutOrder.length) {
        const [a, b] = cutOrder[k]!;
        faults.cut(a, b);
        this.log(`swizzle: cut ${a}-${b}`);
      } else if (k < cutOrder.length + healOrder.length) {
        const [a, b] = healOrder[k - cutOrder.length]!;
        faults.healPair(a, b);
        this.log(`swizzle: restore ${a}-${b}`);
      } else {
        this.swizzling = false;
        return;
      }
      k++;
      this.after(stepMs, tick);
    };
    tick();
  }

  /** Put the seed's rates on a share of the links (both directions drawn separately). */
  private linkFaults(): void {
    const plan = this.plan;
    if (plan.drop + plan.duplicate + plan.delay + plan.reorder === 0) return;
    const faults = this.cluster.network.faults;
    const ids = this.cluster.ids();
    const rates = {
      drop: plan.drop,
      duplicate: plan.duplicate,
      delay: plan.delay,
      delayMs: { min: 1, max: plan.delayMaxMs },
      reorder: plan.reorder,
      reorderMs: plan.reorderMaxMs,
    };
    const links: string[] = [];
    for (const from of ids) {
      for (const to of ids) {
        if (from === to || !this.random.chance(plan.linkShare)) continue;
        if (this.cluster.network.link(from, to) === undefined) continue; // not created yet
        faults.setLinkFaults(from, to, rates);
        links.push(`${from}>${to}`);
      }
    }
    this.log(`link faults on ${links.join(' ') || 'no link'}`);
  }

  private trapStep(): PersistStep {
    // The interesting steps are the ACK-bearing ones; weigh append and the epochs up.
    const r = this.random.next();
    if (r < 0.4) return 'append';
    if (r < 0.6) return 'acceptedEpoch';
    if (r < 0.8) return 'currentEpoch';
    return PERSIST_STEPS[this.random.int(PERSIST_STEPS.length)]!;
  }

  private delay(range: readonly [number, number]): number {
    return range[0] + this.random.int(range[1] - range[0] + 1);
  }

  private shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.random.int(i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}

/** A client the client nemesis can break. */
export interface ClientFaultTarget {
  readonly name: string;
  /**
   * Cut the client off from every server. Returns what ends the cut: the link heals and
   * the cut connections are reset, as TCP would after a long silence (nothing, if the
   * client crashed meanwhile: it stays silent).
   */
  cut(): () => void;
  /** The client process dies without closing its session. */
  crash(): void;
}

/** Counters of the client nemesis. */
export interface ClientNemesisStats {
  cuts: number;
  crashes: number;
}

/**
 * Carries out a `ClientFaultPlan` on the session-level clients: at random intervals it
 * cuts a client off or crashes it. `stop()` ends the faults: cuts still running end at
 * once (the clients reconnect, so the final checks judge connected clients); crashed
 * clients stay dead: their sessions expire.
 */
export class ClientNemesis {
  readonly stats: ClientNemesisStats = { cuts: 0, crashes: 0 };
  private running = false;
  private timer: TimerHandle | undefined;
  /** Cuts in progress: the timer that ends each, and what ends it. */
  private readonly cuts = new Map<TimerHandle, () => void>();

  constructor(
    private readonly plan: ClientFaultPlan,
    private readonly targets: () => ClientFaultTarget[],
    private readonly random: Random,
    private readonly clock: VirtualClock,
    private readonly trace: SimTrace,
  ) {}

  start(): void {
    if (this.plan.meanIntervalMs <= 0 || this.plan.cut + this.plan.crash <= 0) return;
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.cuts.size > 0 && this.trace.enabled) this.trace.log('nem', `end ${this.cuts.size} client cut(s)`);
    for (const [timer, end] of this.cuts) {
      this.clock.clearTimeout(timer);
      end();
    }
    this.cuts.clear();
  }

  private schedule(): void {
    const delay = Math.max(1, Math.round(this.random.next() * 2 * this.plan.meanIntervalMs));
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (!this.running) return;
      this.step();
      this.schedule();
    }, delay);
  }

  private step(): void {
    const targets = this.targets();
    if (targets.length === 0) return;
    const target = targets[this.random.int(targets.length)]!;
    const plan = this.plan;
    const crash = this.stats.crashes < plan.maxCrashes ? plan.crash : 0;
    if (plan.cut + crash <= 0) return;
    if (this.random.next() * (plan.cut + crash) < plan.cut) {
      const ms = plan.cutMs[0] + this.random.int(plan.cutMs[1] - plan.cutMs[0] + 1);
      this.stats.cuts++;
      if (this.trace.enabled) this.trace.log('nem', `cut client ${target.name} off for ${ms} ms`);
      const end = target.cut();
      const timer = this.clock.setTimeout(() => {
        this.cuts.delete(timer);
        end();
      }, ms);
      this.cuts.set(timer, end);
    } else {
      this.stats.crashes++;
      if (this.trace.enabled) this.trace.log('nem', `crash client ${target.name}`);
      target.crash();
    }
  }
}
