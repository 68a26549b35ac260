/**
 * Recipe workloads: lock contenders (src/recipes/lock.ts) and leader-election candidates
 * (src/recipes/leader-latch.ts, and selector-style ones, src/recipes/leader-selector.ts,
 * that lead for a while, relinquish and queue again), each a little "process" on its own
 * `ZooKeeperClient`
 * (several contenders may share one client, as threads of one process do), under the
 * same server faults plus client faults (a client cut off long enough for its session
 * to expire, or crashed).
 *
 * What each process records (`RecipeLedger`), in one logical order:
 * - a lock holder's lease starts when `acquire()` resolves with a lease whose signal is
 *   live (or when the lease is reinstated with a new signal) and ends when the holder
 *   invokes release, when the signal aborts (SUSPENDED, LOST, node gone: the recipe's
 *   contract is that the holder stops the moment it learns) or when its process
 *   crashes;
 * - every acquire invocation and how it ended (acquired, or the error that told the
 *   waiter why not);
 * - a leader's term starts at `isLeader` (signal live) and ends when its signal aborts,
 *   when it closes the latch, or when it crashes; with its fencing token. A selector's
 *   term runs while its `takeLeadership` does: from the call (signal live) until it
 *   returns (its time is up, or the signal aborted) or the process crashes.
 * The checkers (recipe-checkers.ts) judge the ledger.
 *
 * Test-only: `lockFactory` replaces the lock recipe (a deliberately broken one, built in
 * the test directory, must be caught).
 */
import { createClient, type ZooKeeperClient } from '../client/client.js';
import type { Random } from '../runtime/random.js';
import { InProcessLink, inProcessConnectString, type InProcessTarget } from '../server/inproc-channel.js';
import { LeaderLatch } from '../recipes/leader-latch.js';
import { LeaderSelector } from '../recipes/leader-selector.js';
import { Lock } from '../recipes/lock.js';
import type { ConnectionObserver } from './connections.js';
import type { ClientFaultTarget } from './nemesis.js';
import type { SimTrace } from './trace.js';
import type { VirtualClock } from './virtual-clock.js';

/** A lease as the workload uses it (the recipe's `Lease`, or a test variant's). */
export interface SimLease {
  /** Fencing token. */
  readonly token: number;
  /** Aborted the moment the lease may be gone. */
  readonly signal: AbortSignal;
  /** Register for reinstatement (a new term with a new signal), if the lock supports it. */
  onReinstated?(listener: (signal: AbortSignal) => void): void;
  /** Give the lock back. */
  release(): Promise<void>;
}

/** A lock as the workload uses it. */
export interface SimLock {
  acquire(options: { timeout?: number }): Promise<SimLease>;
}

/** Makes a contender's lock (test variants replace the recipe through this). */
export type LockFactory = (client: ZooKeeperClient, path: string, env: { clock: VirtualClock; random: Random }) => SimLock;

/** The recipe's lock, adapted. */
export const recipeLock: LockFactory = (client, path, env) => {
  const lock = new Lock(client, path, { clock: env.clock, random: env.random });
  return {
    acquire: async (options) => {
      const lease = await lock.acquire(options.timeout !== undefined ? { timeout: options.timeout } : {});
      return {
        token: lease.token,
        get signal() {
          return lease.signal;
        },
        onReinstated: (listener) => lease.on('reinstated', listener),
        release: () => lease.release(),
      };
    },
  };
};

/** The shape of a run's recipe processes. */
export interface RecipeWorkloadOptions {
  /** Lock contenders (0: no lock workload). */
  contenders: number;
  /** Clients the contenders share. */
  lockClients: number;
  /** Lock paths the contenders spread over. */
  locks: number;
  /** Largest hold and think times (ms). */
  holdMaxMs: number;
  thinkMaxMs: number;
  /** Probability that an acquire carries a timeout, and its range (ms). */
  timeoutChance: number;
  timeoutMaxMs: number;
  /** Election candidates (0: no election). */
  candidates: number;
  /** Largest time a candidate stays in the election, and pauses between (ms). */
  tenureMaxMs: number;
  pauseMaxMs: number;
  /** Selector-style candidates (`LeaderSelector`, 0: none); they lead up to `holdMaxMs` a term. */
  selectors: number;
  /** Sessions (ms). */
  sessionTimeoutMs: number;
  spinDelayMs: number;
  reconnectDelayMs: number;
}

/** Draw a recipe workload; `scale` 1 is the full one (up to 20 contenders), smaller for mixed runs. */
export function drawRecipeOptions(random: Random, scale: number, which: { locks: boolean; election: boolean }): RecipeWorkloadOptions {
  const contenders = which.locks ? 2 + random.int(Math.max(1, Math.round(19 * scale))) : 0;
  return {
    contenders,
    lockClients: contenders === 0 ? 0 : 1 + random.int(Math.min(contenders, 8)),
    locks: 1 + (random.chance(0.3) ? 1 : 0),
    holdMaxMs: 1 + random.int(300),
    thinkMaxMs: 1 + random.int(300),
    timeoutChance: random.next() * 0.3,
    timeoutMaxMs: 50 + random.int(2_000),
    candidates: which.election ? 2 + random.int(Math.max(1, Math.round(4 * scale))) : 0,
    tenureMaxMs: 50 + random.int(2_000),
    pauseMaxMs: 1 + random.int(500),
    sessionTimeoutMs: 1_500 + random.int(3_500),
    spinDelayMs: 20 + random.int(200),
    reconnectDelayMs: 10 + random.int(200),
    selectors: which.election ? random.int(4) : 0, // drawn last: earlier draws keep their seeds
  };
}

/** One recorded event of a recipe process. */
export interface RecipeEvent {
  /** Logical order. */
  seq: number;
  /** Virtual time. */
  time: number;
  /** `lock` or `leader`. */
  recipe: 'lock' | 'leader';
  /** The lock path (or the election path). */
  resource: string;
  /** The process. */
  who: string;
  kind: 'invoke' | 'acquired' | 'failed' | 'start' | 'end';
  /** For start: the fencing token; for end / failed: why. */
  token?: number;
  why?: string;
  /** Which acquire invocation (invoke / acquired / failed). */
  attempt?: number;
}

/** Every event of the recipe processes, in order. */
export class RecipeLedger {
  readonly events: RecipeEvent[] = [];
  private seq = 0;

  constructor(
    private readonly clock: VirtualClock,
    private readonly trace: SimTrace,
  ) {}

  record(event: Omit<RecipeEvent, 'seq' | 'time'>): void {
    const e = { ...event, seq: this.seq++, time: this.clock.now() };
    this.events.push(e);
    if (this.trace.enabled) {
      const extra = e.token !== undefined ? ` token ${e.token}` : '';
      this.trace.log(e.who, `${e.recipe} ${e.resource} ${e.kind}${e.attempt !== undefined ? ` #${e.attempt}` : ''}${extra}${e.why ? ` (${e.why})` : ''}`);
    }
  }
}

/** A recipe process's client (shared by its contenders), replaced when its session ends. */
class ProcessClient {
  client!: ZooKeeperClient;
  link!: InProcessLink;
  /** The process crashed: its contenders stop for good. */
  dead = false;
  /** End the process's roles in the ledger when it crashes. */
  readonly onCrash = new Set<() => void>();
  private generation = 0;

  constructor(
    readonly name: string,
    private readonly env: RecipeEnvironment,
    private readonly random: Random,
  ) {
    this.open();
  }

  /** Make sure the client has a live session (a new client after expiry). */
  ensure(): void {
    if (this.client.session.ended && !this.dead) this.open();
  }

  private open(): void {
    const o = this.env.options;
    this.link = new InProcessLink(this.env.target);
    this.generation++;
    this.client = createClient(inProcessConnectString(this.env.target.serverIds), {
      clock: this.env.clock,
      random: this.random.fork(`${this.name}.${this.generation}`),
      sessionTimeout: o.sessionTimeoutMs,
      spinDelay: o.spinDelayMs,
      reconnectDelay: o.reconnectDelayMs,
      channelFactory: this.env.observer.channelFactory(this.link.factory, {}),
    });
    this.client.on('error', (error) => this.env.fail(`${this.name}: a listener threw: ${String(error)}`));
    const client = this.client;
    if (this.env.trace.enabled) {
      client.on('state', (state) => this.env.trace.log(this.name, `${state}${state === 'CONNECTED' || state === 'RECONNECTED' ? ` ${client.currentServer ?? ''}` : ''}`));
    }
    this.env.clients.push(this.client);
    if (this.env.trace.enabled) this.env.trace.log(this.name, 'new client');
  }
}

/** What the recipe processes share. */
interface RecipeEnvironment {
  readonly target: InProcessTarget;
  readonly observer: ConnectionObserver;
  readonly clock: VirtualClock;
  readonly trace: SimTrace;
  readonly options: RecipeWorkloadOptions;
  readonly ledger: RecipeLedger;
  readonly lockFactory: LockFactory;
  /** Every client made, for the end of the run. */
  readonly clients: ZooKeeperClient[];
  fail(message: string): void;
}

/** Dependencies of a `RecipeWorkload`. */
export interface RecipeDeps {
  target: InProcessTarget;
  observer: ConnectionObserver;
  clock: VirtualClock;
  trace: SimTrace;
  random: Random;
  fail(message: string): void;
  /** Test-only: the lock to use (default the recipe's). */
  lockFactory?: LockFactory;
}

/** The lock contenders and election candidates of a run. */
export class RecipeWorkload {
  readonly ledger: RecipeLedger;
  readonly options: RecipeWorkloadOptions;
  /** Every client made (live or not). */
  readonly clients: ZooKeeperClient[] = [];
  private readonly env: RecipeEnvironment;
  private readonly random: Random;
  private readonly processes: ProcessClient[] = [];
  /** Each running process loop, with the process it runs in. */
  private readonly running = new Map<Promise<void>, ProcessClient>();
  private stopped = false;
  private nextProcess = 1;
  private attempts = 0;
  /** Acquire attempts not settled, by attempt number. */
  private readonly pendingAcquires = new Map<number, { process: ProcessClient; who: string }>();
  /** Latches in use (for the end-of-run election check). */
  private readonly latches = new Set<{ latch: LeaderLatch; process: ProcessClient }>();

  constructor(deps: RecipeDeps, options: RecipeWorkloadOptions) {
    this.options = options;
    this.random = deps.random;
    this.ledger = new RecipeLedger(deps.clock, deps.trace);
    this.env = {
      target: deps.target,
      observer: deps.observer,
      clock: deps.clock,
      trace: deps.trace,
      options,
      ledger: this.ledger,
      lockFactory: deps.lockFactory ?? recipeLock,
      clients: this.clients,
      fail: deps.fail,
    };
  }

  /** Start every process. */
  start(): void {
    const o = this.options;
    const lockProcesses: ProcessClient[] = [];
    for (let i = 0; i < o.lockClients; i++) lockProcesses.push(this.process());
    for (let i = 0; i < o.contenders; i++) {
      const path = `/locks/l${i % o.locks}`;
      const p = lockProcesses[i % lockProcesses.length]!;
      this.spawn(p, this.contend(p, `${p.name}.t${i}`, path, this.random.fork(`contender${i}`)));
    }
    for (let i = 0; i < o.candidates; i++) {
      const p = this.process();
      this.spawn(p, this.candidate(p, this.random.fork(`candidate${i}`)));
    }
    for (let i = 0; i < o.selectors; i++) {
      const p = this.process();
      this.spawn(p, this.selectorCandidate(p, this.random.fork(`selector${i}`)));
    }
  }

  /** Stop starting new acquisitions and terms; holders release, leaders step down. */
  stop(): void {
    this.stopped = true;
  }

  /** True once every live process finished (after `stop`); a crashed one never does. */
  get finished(): boolean {
    for (const p of this.running.values()) if (!p.dead) return false;
    return true;
  }

  /** Acquires still waiting, of processes that are alive. */
  unsettledAcquires(): { attempt: number; who: string }[] {
    return [...this.pendingAcquires].filter(([, a]) => !a.process.dead).map(([attempt, a]) => ({ attempt, who: a.who }));
  }

  /** Live (not crashed) processes, for the client nemesis. */
  targets(): ClientFaultTarget[] {
    return this.processes
      .filter((p) => !p.dead)
      .map((p) => ({
        name: p.name,
        cut: () => this.cut(p),
        crash: () => this.crash(p),
      }));
  }

  /** A live latch leads now (or no live latch is in the election). */
  electionSettled(): boolean {
    const live = [...this.latches].filter((l) => !l.process.dead && l.process.client.state === 'CONNECTED');
    return live.length === 0 || live.some((l) => l.latch.hasLeadership);
  }

  /** Close every live client (end of run); resolves when all ended. */
  async closeAll(): Promise<void> {
    await Promise.all(this.processes.filter((p) => !p.dead).map((p) => p.client.close().catch(() => undefined)));
  }

  // ------------------------------------------------------------------ processes

  private process(): ProcessClient {
    const p = new ProcessClient(`p${this.nextProcess++}`, this.env, this.random.fork(`process${this.nextProcess}`));
    this.processes.push(p);
    return p;
  }

  private spawn(p: ProcessClient, run: Promise<void>): void {
    const tracked = run.catch((error: unknown) => this.env.fail(`a recipe process threw: ${String(error)}${error instanceof Error && error.stack ? ` ${error.stack.split('\n')[1]?.trim()}` : ''}`));
    this.running.set(tracked, p);
    void tracked.finally(() => this.running.delete(tracked));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.env.clock.setTimeout(resolve, ms));
  }

  private cut(p: ProcessClient): () => void {
    const link = p.link;
    link.partition();
    if (this.env.trace.enabled) this.env.trace.log(p.name, 'cut off');
    return () => {
      if (p.dead) return; // crashed meanwhile: it stays silent
      link.heal();
      link.disconnect(); // the cut connections are reset, as TCP would after a long silence
    };
  }

  private crash(p: ProcessClient): void {
    if (p.dead) return;
    p.link.partition();
    if (this.env.trace.enabled) this.env.trace.log(p.name, 'crashes');
    for (const end of p.onCrash) end();
    p.onCrash.clear();
    p.dead = true;
    // Its work goes on in new processes (the crashed ones' contenders stop).
    const replacement = this.process();
    const contenders = [...this.contenderOf].filter(([, proc]) => proc === p).map(([args]) => args);
    for (const args of contenders) {
      this.contenderOf.delete(args);
      this.spawn(replacement, this.contend(replacement, `${replacement.name}.${args.id}`, args.path, args.random));
    }
    const candidates = [...this.candidateOf].filter(([, proc]) => proc === p).map(([args]) => args);
    for (const args of candidates) {
      this.candidateOf.delete(args);
      const fresh = this.process();
      this.spawn(fresh, args.kind === 'latch' ? this.candidate(fresh, args.random) : this.selectorCandidate(fresh, args.random));
    }
  }

  private readonly contenderOf = new Map<{ id: string; path: string; random: Random }, ProcessClient>();
  private readonly candidateOf = new Map<{ random: Random; kind: 'latch' | 'selector' }, ProcessClient>();

  /** One lock contender: think, acquire, hold, release, until stopped or its process dies. */
  private async contend(p: ProcessClient, who: string, path: string, random: Random): Promise<void> {
    const args = { id: who.slice(who.indexOf('.') + 1), path, random };
    this.contenderOf.set(args, p);
    const o = this.options;
    const ledger = this.ledger;
    let lock: SimLock | undefined;
    let lockClient: ZooKeeperClient | undefined;
    try {
      while (!this.stopped && !p.dead) {
        await this.sleep(random.int(o.thinkMaxMs + 1));
        if (this.stopped || p.dead) return;
        p.ensure();
        if (lock === undefined || lockClient !== p.client) {
          lockClient = p.client;
          lock = this.env.lockFactory(p.client, path, { clock: this.env.clock, random: random.fork('lock') });
        }
        const attempt = ++this.attempts;
        const timeout = random.chance(o.timeoutChance) ? 1 + random.int(o.timeoutMaxMs) : undefined;
        ledger.record({ recipe: 'lock', resource: path, who, kind: 'invoke', attempt });
        this.pendingAcquires.set(attempt, { process: p, who });
        let lease: SimLease;
        try {
          lease = await lock.acquire(timeout !== undefined ? { timeout } : {});
        } catch (error) {
          if (p.dead) return;
          this.pendingAcquires.delete(attempt);
          ledger.record({ recipe: 'lock', resource: path, who, kind: 'failed', attempt, why: errorName(error) });
          continue;
        }
        if (p.dead) return;
        this.pendingAcquires.delete(attempt);
        ledger.record({ recipe: 'lock', resource: path, who, kind: 'acquired', attempt, token: lease.token });
        await this.hold(p, who, 'lock', path, lease.token, lease.signal, (listener) => lease.onReinstated?.(listener), random.int(o.holdMaxMs + 1));
        if (p.dead) return;
        ledger.record({ recipe: 'lock', resource: path, who, kind: 'end', why: 'release' });
        await lease.release().catch(() => undefined);
      }
    } finally {
      this.contenderOf.delete(args);
    }
  }

  /**
   * Hold a role for `ms`: the term runs while `signal` is live, and again from each
   * reinstatement; records start and end. Resolves when the time is up (or the process died).
   */
  private async hold(
    p: ProcessClient,
    who: string,
    recipe: 'lock' | 'leader',
    resource: string,
    token: number,
    signal: AbortSignal,
    onReinstated: (listener: (signal: AbortSignal) => void) => void,
    ms: number,
  ): Promise<void> {
    const ledger = this.ledger;
    let holding = false;
    let over = false;
    const crashed = (): void => {
      if (!holding) return;
      holding = false;
      ledger.record({ recipe, resource, who, kind: 'end', why: 'crashed' });
    };
    p.onCrash.add(crashed);
    const begin = (s: AbortSignal): void => {
      if (over || p.dead || s.aborted) return;
      holding = true;
      ledger.record({ recipe, resource, who, kind: 'start', token });
      s.addEventListener(
        'abort',
        () => {
          if (!holding || over || p.dead) return;
          holding = false;
          ledger.record({ recipe, resource, who, kind: 'end', why: reasonOf(s) });
        },
        { once: true },
      );
    };
    onReinstated(begin);
    begin(signal);
    await this.sleep(ms);
    over = true;
    p.onCrash.delete(crashed);
    if (holding && !p.dead) {
      holding = false;
      ledger.record({ recipe, resource, who, kind: 'end', why: 'done' });
    }
  }

  /** One election candidate: join, lead or wait, leave after a tenure, pause, again. */
  private async candidate(p: ProcessClient, random: Random): Promise<void> {
    const args = { random, kind: 'latch' as const };
    this.candidateOf.set(args, p);
    const o = this.options;
    const ledger = this.ledger;
    const path = '/election';
    try {
      while (!this.stopped && !p.dead) {
        p.ensure();
        const who = p.name;
        const latch = new LeaderLatch(p.client, path, { clock: this.env.clock, random: random.fork('latch'), id: who });
        const entry = { latch, process: p };
        this.latches.add(entry);
        let holding = false;
        const crashed = (): void => {
          if (!holding) return;
          holding = false;
          ledger.record({ recipe: 'leader', resource: path, who, kind: 'end', why: 'crashed' });
        };
        p.onCrash.add(crashed);
        latch.on('isLeader', ({ token, signal }) => {
          if (p.dead || signal.aborted) return;
          holding = true;
          ledger.record({ recipe: 'leader', resource: path, who, kind: 'start', token });
          signal.addEventListener(
            'abort',
            () => {
              if (!holding || p.dead) return;
              holding = false;
              ledger.record({ recipe: 'leader', resource: path, who, kind: 'end', why: reasonOf(signal) });
            },
            { once: true },
          );
        });
        latch.on('error', () => {});
        try {
          await latch.start();
        } catch {
          p.onCrash.delete(crashed);
          this.latches.delete(entry);
          if (p.dead) return;
          await this.sleep(1 + random.int(o.pauseMaxMs + 1));
          continue;
        }
        await this.sleep(1 + random.int(o.tenureMaxMs + 1));
        if (p.dead) return;
        p.onCrash.delete(crashed);
        if (holding) {
          holding = false;
          ledger.record({ recipe: 'leader', resource: path, who, kind: 'end', why: 'close' });
        }
        await latch.close().catch(() => undefined);
        this.latches.delete(entry);
        if (p.dead) return;
        await this.sleep(1 + random.int(o.pauseMaxMs + 1));
      }
    } finally {
      this.candidateOf.delete(args);
    }
  }

  /**
   * One selector candidate: queue with `autoRequeue`; each time it is chosen, lead for up
   * to `holdMaxMs` (returning at once if the signal aborts), then relinquish; leave after
   * a tenure, pause, again.
   */
  private async selectorCandidate(p: ProcessClient, random: Random): Promise<void> {
    const args = { random, kind: 'selector' as const };
    this.candidateOf.set(args, p);
    const o = this.options;
    const path = '/selection';
    try {
      while (!this.stopped && !p.dead) {
        p.ensure();
        const who = p.name;
        const selector = new LeaderSelector(
          p.client,
          path,
          async ({ token, signal }) => {
            const term = this.hold(p, who, 'leader', path, token, signal, () => {}, 1 + random.int(o.holdMaxMs + 1));
            await Promise.race([term, aborted(signal)]); // the recipe's contract: return when the signal aborts
          },
          { clock: this.env.clock, random: random.fork('selector'), id: who },
        );
        selector.on('error', () => {});
        selector.start();
        await this.sleep(1 + random.int(o.tenureMaxMs + 1));
        if (p.dead) return;
        await selector.close().catch(() => undefined);
        if (p.dead) return;
        await this.sleep(1 + random.int(o.pauseMaxMs + 1));
      }
    } finally {
      this.candidateOf.delete(args);
    }
  }
}

/** Resolves when `signal` aborts. */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

function errorName(error: unknown): string {
  if (error instanceof Error) return `${error.name}${'reason' in error ? `:${String((error as { reason: unknown }).reason)}` : ''}`;
  return String(error);
}

function reasonOf(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return 'reason' in reason ? String((reason as { reason: unknown }).reason) : reason.name;
  return String(reason);
}
