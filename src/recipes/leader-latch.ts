/**
 * Leader election, latch style (Curator's `LeaderLatch`): every candidate joins once and
 * stays; the one with the lowest node leads until it closes, loses its session or its
 * connection is suspended; then the next in line leads.
 *
 * ```ts
 * const latch = new LeaderLatch(client, '/app/leader', { id: 'worker-1' });
 * latch.on('isLeader', ({ token, signal }) => runLeaderDuties(token, signal));
 * latch.on('notLeader', (reason) => stopLeaderDuties(reason));
 * await latch.start();
 * await latch.awaitLeadership({ timeout: 10_000 });   // optional
 * await latch.close();
 * ```
 *
 * How: a protected ephemeral-sequential node `<path>/_c_<uuid>-latch-<n>` holding the
 * candidate's id; the lowest counter leads; every other candidate watches only the node
 * just ahead of it (no herd effect).
 *
 * Guarantees and failure behaviour:
 * - At most one candidate believes it leads at any time, provided leaders honour
 *   `notLeader` / `leadership.signal`: on SUSPENDED the leader stops believing at once
 *   (its session may expire while it cannot hear of it); on RECONNECTED with its node
 *   intact (same session) it leads again with the same token (no one else can have led
 *   meanwhile); on LOST/EXPIRED or when its node is deleted it is no longer leader.
 * - Fencing token: `leadership.token` is the czxid of the leader's node. It increases
 *   strictly from one leader to the next (a later leader's node was created later), so
 *   downstream systems can refuse the writes of a deposed leader.
 * - After a LOST whose session turns out to survive (RECONNECTED), or a deleted node,
 *   the latch rejoins with a fresh node (new token, back of the line). After EXPIRED
 *   the client is finished; the latch stays `lost` (create a new client and latch).
 * - `close()` deletes the node and removes the watch; waits (`start`, `awaitLeadership`)
 *   accept `signal`/`timeout`. The leader watches its own node, so a deletion while
 *   connected ends its leadership at once (it then rejoins at the back of the line).
 */
import { EventEmitter } from 'eventemitter3';
import { CreateMode } from '../protocol/constants.js';
import { RecipeClosedError, RoleLostError, type LossReason } from './errors.js';
import { listCandidates, mutexRule, ownNodeWatch, removeNode, waitForTurn } from './lock-internals.js';
import { Participant, type ParticipantStatus } from './participant.js';
import { sortSequential } from './sequence.js';
import {
  bindConnection,
  encodeJson,
  isSessionEnded,
  nameOf,
  ownsNode,
  protectedCreate,
  recipeEnv,
  type CreatedNode,
  type RecipeClient,
  type RecipeEnv,
  type RecipeOptions,
} from './support.js';
import { WaitScope, Wakeup, raceSignal, sleep, type WaitOptions } from './wait.js';

/** Pause before retrying after an unexpected error, ms. */
const RETRY_DELAY = 1000;

/** Node name prefix of latch candidates (as Curator's). */
export const LATCH_NODE_NAME = 'latch-';

/** What a leader gets. */
export interface Leadership {
  /** Fencing token: the czxid of the leader's node. */
  token: number;
  /** Aborted the moment leadership may be gone (SUSPENDED, LOST, close). */
  signal: AbortSignal;
  /** The leader's node. */
  path: string;
}

/** A candidate as others see it. */
export interface Candidate {
  /** The id passed in the options. */
  id: string;
  /** Node name under the latch path. */
  node: string;
  /** True for the lowest node. */
  isLeader: boolean;
}

/** Options of a `LeaderLatch`. */
export interface LeaderLatchOptions extends RecipeOptions {
  /** This candidate's id, stored in its node (default: empty). */
  id?: string;
}

/** Events of a `LeaderLatch`. */
export interface LeaderLatchEvents {
  /** This candidate became leader (also after a reinstatement). */
  isLeader: [leadership: Leadership];
  /** This candidate stopped being leader, and why. */
  notLeader: [reason: LossReason];
  /** Every participant state change. */
  state: [status: ParticipantStatus];
  /** A ZooKeeper error the latch could not handle (it keeps trying while the session lives). */
  error: [error: unknown];
}

/** Leader election by latch; see the file header. */
export class LeaderLatch extends EventEmitter<LeaderLatchEvents> {
  /** The candidate's participant machine (`leaderLatch`). */
  readonly participant: Participant;
  private readonly env: RecipeEnv;
  private readonly id: string;
  private readonly closing = new AbortController();
  private readonly wake = new Wakeup();
  private unbind: (() => void) | undefined;
  private node: CreatedNode | undefined;
  private running: Promise<void> | undefined;
  private leadershipValue: Leadership | undefined;
  /** Arms the leader's watch on its own node (one per node). */
  private armOwnWatch: (() => void) | undefined;

  constructor(
    private readonly client: RecipeClient,
    readonly path: string,
    options: LeaderLatchOptions = {},
  ) {
    super();
    this.env = recipeEnv(options);
    this.id = options.id ?? '';
    this.participant = new Participant({ recipe: 'leaderLatch', name: this.id || 'candidate', member: true, clock: this.env.clock, inspect: this.env.inspect });
    this.participant.on('granted', (signal) => {
      const node = this.node!;
      this.armOwnWatch?.();
      this.leadershipValue = { token: node.stat.czxid, signal, path: node.path };
      this.emit('isLeader', this.leadershipValue);
    });
    this.participant.on('revoked', (error) => {
      this.emit('notLeader', error.reason);
    });
    this.participant.on('state', (status) => {
      this.wake.fire();
      this.emit('state', status);
    });
  }

  /** True while this candidate leads (connected, node verified). */
  get hasLeadership(): boolean {
    return this.participant.holding;
  }

  /** The current leadership, while leading. */
  get leadership(): Leadership | undefined {
    return this.hasLeadership ? this.leadershipValue : undefined;
  }

  /**
   * Join the election; resolves once this candidate's node exists. `signal` / `timeout`
   * give up joining (e.g. while disconnected): the latch is closed, leaving nothing
   * behind, and the call rejects.
   */
  async start(options: WaitOptions = {}): Promise<void> {
    if (this.running !== undefined) throw new Error('LeaderLatch already started');
    const scope = new WaitScope(this.env.clock, options, 'LeaderLatch.start');
    this.unbind = bindConnection(this.client, this.participant, async () => this.node === undefined || (await ownsNode(this.client, this.node.path)));
    const joined = this.participant.waitFor((s) => s.node !== undefined || s.phase === 'left', this.closing.signal);
    this.running = this.run().catch((error: unknown) => {
      if (!this.closing.signal.aborted) this.emit('error', error);
    });
    try {
      await scope.race(joined);
    } catch (error) {
      if (scope.aborted) await this.close();
      throw error;
    } finally {
      scope.dispose();
    }
    if (this.participant.phase === 'left') throw new RecipeClosedError('LeaderLatch');
  }

  /** Resolve once this candidate leads; rejects on timeout, abort or close. */
  async awaitLeadership(options: WaitOptions = {}): Promise<Leadership> {
    const scope = new WaitScope(this.env.clock, options, 'awaitLeadership');
    try {
      const status = await scope.race(
        this.participant.waitFor((s) => (s.phase === 'holding' && s.substate === 'active') || s.phase === 'left', this.closing.signal),
      );
      if (status.phase === 'left') throw new RecipeClosedError('LeaderLatch');
      return this.leadershipValue!;
    } finally {
      scope.dispose();
    }
  }

  /** Every candidate in line, leader first. */
  candidates(): Promise<Candidate[]> {
    return listCandidates(this.client, this.path, LATCH_NODE_NAME);
  }

  /** The current leader, if any. */
  async leader(): Promise<Candidate | undefined> {
    return (await this.candidates())[0];
  }

  /** Leave the election: delete the node, remove the watch, stop the machine. */
  async close(): Promise<void> {
    if (this.closing.signal.aborted) return this.running;
    this.closing.abort(new RecipeClosedError('LeaderLatch'));
    this.participant.send({ type: 'LEAVE' });
    await this.running;
    if (this.node !== undefined) await removeNode(this.client, this.node.path);
    this.node = undefined;
    this.unbind?.();
    this.participant.send({ type: 'LEFT' });
    this.participant.stop();
  }

  /** The driver: join, wait in line, lead, rejoin after a loss. */
  private async run(): Promise<void> {
    const signal = this.closing.signal;
    while (!signal.aborted) {
      const status = this.participant.status;
      if (status.phase === 'idle' || status.phase === 'joining' || (status.phase === 'lost' && status.connected && this.client.state === 'CONNECTED')) {
        await this.join();
        continue;
      }
      if ((status.phase === 'member' && status.substate === 'ready') || (status.phase === 'waiting' && status.substate === 'queued')) {
        await this.follow();
        continue;
      }
      if (status.phase === 'left') return;
      if (status.phase === 'lost' && status.lossReason === 'expired') return; // the client is finished
      await raceSignal(this.wake.wait(signal), signal).catch(() => undefined);
    }
  }

  private async join(): Promise<void> {
    const signal = this.closing.signal;
    const previous = this.node;
    this.node = undefined;
    if (previous !== undefined) await removeNode(this.client, previous.path);
    if (this.participant.phase !== 'joining') this.participant.send({ type: 'JOIN' });
    try {
      this.node = await protectedCreate(this.client, this.path, LATCH_NODE_NAME, encodeJson(this.id), {
        mode: CreateMode.EPHEMERAL_SEQUENTIAL,
        random: this.env.random,
        signal,
      });
    } catch (error) {
      if (signal.aborted) return;
      if (isSessionEnded(error)) {
        this.participant.send({ type: 'LOST', reason: 'expired' });
        return;
      }
      this.emit('error', error);
      await sleep(this.env.clock, RETRY_DELAY, signal).catch(() => undefined);
      return;
    }
    if (signal.aborted) {
      await removeNode(this.client, this.node.path);
      return;
    }
    const created = this.node;
    this.armOwnWatch = ownNodeWatch(this.client, this.participant, created.path, () => this.node !== created || this.closing.signal.aborted);
    this.participant.send({ type: 'JOINED', node: created.path });
  }

  /** Wait in line; lead when first. */
  private async follow(): Promise<void> {
    const node = this.node!;
    const scope = new WaitScope(this.env.clock, { signal: this.closing.signal });
    try {
      if (this.participant.phase === 'member') {
        // Already first? Then lead at once, without passing through `waiting`.
        const children = await this.client.getChildren(this.path);
        if (mutexRule(sortSequential(children, LATCH_NODE_NAME), nameOf(node.path)).kind === 'acquired') {
          this.participant.send({ type: 'ACQUIRED', token: node.stat.czxid });
          return;
        }
        this.participant.send({ type: 'WAIT' });
      }
      await waitForTurn(
        { client: this.client, env: this.env, dir: this.path, name: LATCH_NODE_NAME, filter: LATCH_NODE_NAME, data: null, rule: mutexRule, participant: this.participant, scope },
        node.path,
      );
      this.participant.send({ type: 'ACQUIRED', token: node.stat.czxid });
    } catch (error) {
      if (this.closing.signal.aborted) return;
      if (error instanceof RoleLostError) {
        if (error.reason === 'node-deleted') this.participant.send({ type: 'NODE_GONE' });
        if (this.participant.phase !== 'lost') this.participant.send({ type: 'LOST', reason: 'lost' });
        return;
      }
      if (isSessionEnded(error)) {
        this.participant.send({ type: 'LOST', reason: 'expired' });
        return;
      }
      this.emit('error', error);
      await sleep(this.env.clock, RETRY_DELAY, this.closing.signal).catch(() => undefined);
    } finally {
      scope.dispose();
    }
  }
}
