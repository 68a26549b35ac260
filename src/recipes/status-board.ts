/**
 * The status board / sync group: the synchronization framework of the design's seed.
 * Members register a typed status under a shared root, everyone sees the live
 * membership and statuses, and a member that needs to synchronize asks for an exclusive
 * sync turn; while one member syncs, the others pause their own sync work until it
 * finishes. Leaving, or dying, releases everything; watches are removed on leave.
 *
 * ```ts
 * const a = await joinStatusBoard<string>(clientA, '/status', 'A', 'idle');
 * a.on('paused', (by) => console.log(`A pauses: ${by} is syncing`));
 * await a.sync(async (turn) => {            // waits for the turn, then runs
 *   await copyData(turn.signal, turn.token);
 * });
 * for await (const board of a.board.snapshots()) console.log(board.syncing, board.members);
 * await a.leave();
 * ```
 *
 * Layout under the root:
 * - `members/<name>`: ephemeral, JSON `{ name, phase, status }` where `phase` is the
 *   member's place in the protocol (`ready`, `waiting`, `syncing`, `paused`) and
 *   `status` is the application's typed value (`setStatus`);
 * - `turns/_c_<uuid>-turn-<n>`: ephemeral-sequential sync requests, JSON `{ member }`.
 *   Simultaneous requests are ordered by the server's counter: the lowest syncs, the
 *   others wait in line, each watching only the request just ahead (the lock recipe).
 *
 * Guarantees and failure behaviour:
 * - At most one member syncs at a time, provided it honours `turn.signal` (aborted on
 *   SUSPENDED, LOST/EXPIRED and when its request node disappears), as for a lock.
 *   `turn.token` (the request node's czxid) increases strictly from turn to turn.
 * - Members see who syncs through the board's view (one persistent-recursive watch on
 *   the root): `paused` / `resumed` events and the `paused` phase follow it, and
 *   `untilClear()` waits until no one else syncs. The view is eventually consistent:
 *   a pause starts shortly after the turn does (use the turn itself for exclusion).
 * - A member whose session ends loses its nodes with the session, so its turn passes to
 *   the next in line and it disappears from the board; after a reconnect with the same
 *   session its member node is verified (and recreated if it vanished), and so is the
 *   request node of a turn it holds: a turn whose request vanished is lost, not
 *   reinstated.
 * - `requestTurn` takes `signal` and `timeout`; giving up deletes the request and
 *   removes the watch. `leave()` finishes a turn, deletes the member node and removes
 *   the board's watch (when the member owns its board view).
 * - Each member's life is a `statusBoard` participant machine: `member.ready` ⇄
 *   `member.paused`, `waiting` (turn requested), `holding` (syncing), `suspended`,
 *   `lost`, `left`.
 */
import { EventEmitter } from 'eventemitter3';
import { RecipeClosedError, RoleLostError, WaitTimeoutError } from './errors.js';
import { enterQueue, mutexRule, removeNode, tryOnce } from './lock-internals.js';
import type { Participant, ParticipantStatus } from './participant.js';
import { Registration } from './registration.js';
import { sortSequential } from './sequence.js';
import { eventStream, type EventSink, type EventStream } from './stream.js';
import { decodeJson, encodeJson, joinPath, ownsNode, recipeEnv, type RecipeClient, type RecipeEnv, type RecipeOptions } from './support.js';
import { TreeCache } from './tree-cache.js';
import { WaitScope, Wakeup, type WaitOptions } from './wait.js';

/** Directory of member nodes under the root. */
export const MEMBERS_DIR = 'members';
/** Directory of sync requests under the root. */
export const TURNS_DIR = 'turns';
/** Node name of sync requests. */
export const TURN_NODE_NAME = 'turn-';

/** A member's place in the sync protocol. */
export type BoardPhase = 'ready' | 'waiting' | 'syncing' | 'paused';

/** What a member node holds. */
export interface MemberRecord<S> {
  name: string;
  phase: BoardPhase;
  status: S | undefined;
}

/** The board as one member's view sees it. */
export interface BoardSnapshot<S> {
  /** Every member, by name (sorted). */
  members: MemberRecord<S>[];
  /** The member holding the sync turn, if any. */
  syncing: string | undefined;
  /** Members waiting for a turn, in order (after the one syncing). */
  queue: string[];
}

/** Events of a `StatusBoard`. */
export interface StatusBoardEvents<S> {
  /** The view's initial load is complete. */
  initialized: [snapshot: BoardSnapshot<S>];
  /** Something on the board changed. */
  change: [snapshot: BoardSnapshot<S>];
  error: [error: unknown];
}

/** The phase a member's participant status stands for. */
export function boardPhaseOf(status: ParticipantStatus): BoardPhase {
  switch (status.phase) {
    case 'waiting':
      return 'waiting';
    case 'holding':
      return 'syncing';
    case 'member':
      return status.substate === 'paused' ? 'paused' : 'ready';
    default:
      return 'ready';
  }
}

/**
 * Build a snapshot from the view's nodes: `members` from `members/*`, the turn queue
 * from `turns/*` in counter order (entries whose member is not on the board still
 * count, so a request is never skipped).
 */
export function boardSnapshot<S>(memberRecords: readonly MemberRecord<S>[], turns: readonly { name: string; member: string | undefined }[]): BoardSnapshot<S> {
  const members = [...memberRecords].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const order = sortSequential(turns.map((t) => t.name), TURN_NODE_NAME);
  const byName = new Map(turns.map((t) => [t.name, t.member]));
  const line = order.map((n) => byName.get(n.name) ?? '?');
  return { members, syncing: line[0], queue: line.slice(1) };
}

/** A live view of a status board (one persistent-recursive watch on the root). */
export class StatusBoard<S = unknown> extends EventEmitter<StatusBoardEvents<S>> {
  private readonly cache: TreeCache;
  private readonly sinks = new Set<EventSink<BoardSnapshot<S>>>();
  private last: BoardSnapshot<S> | undefined;

  constructor(
    private readonly client: RecipeClient,
    readonly root: string,
    options: RecipeOptions = {},
  ) {
    super();
    this.cache = new TreeCache(client, root, { ...options, maxDepth: 2 }, 'statusBoardView');
    this.cache.on('change', (event) => {
      if (event.type === 'initialized') return;
      this.refresh();
    });
    this.cache.on('error', (error) => this.emit('error', error));
  }

  /** Load the board and start watching; resolves after `initialized`. */
  async start(): Promise<void> {
    await this.cache.start();
    this.last = this.compute();
    this.emit('initialized', this.last);
  }

  /** The board now. */
  get snapshot(): BoardSnapshot<S> {
    return this.last ?? this.compute();
  }

  /** Snapshots after every change (the current one first), as an async iterator. */
  snapshots(options: { signal?: AbortSignal } = {}): EventStream<BoardSnapshot<S>> {
    const { stream, sink } = eventStream<BoardSnapshot<S>>(() => this.sinks.delete(sink), options.signal);
    this.sinks.add(sink);
    sink.push(this.snapshot);
    return stream;
  }

  /** Join the board as `name` with `status`, using this view. */
  join(name: string, status: S, options: RecipeOptions = {}): Promise<BoardMember<S>> {
    return BoardMember.join(this.client, this, name, status, options, false);
  }

  /** Stop watching (removes the server-side watch). */
  async close(): Promise<void> {
    for (const sink of [...this.sinks]) sink.end();
    await this.cache.close();
  }

  private refresh(): void {
    const next = this.compute();
    const before = this.last;
    this.last = next;
    if (before !== undefined && JSON.stringify(before) === JSON.stringify(next)) return;
    this.emit('change', next);
    for (const sink of this.sinks) sink.push(next);
  }

  private compute(): BoardSnapshot<S> {
    const membersDir = joinPath(this.root, MEMBERS_DIR);
    const turnsDir = joinPath(this.root, TURNS_DIR);
    const members: MemberRecord<S>[] = [];
    for (const name of this.cache.children(membersDir)) {
      const record = decodeJson<MemberRecord<S>>(this.cache.get(joinPath(membersDir, name))?.data ?? null);
      members.push({ name, phase: record?.phase ?? 'ready', status: record?.status });
    }
    const turns = this.cache.children(turnsDir).map((name) => ({
      name,
      member: decodeJson<{ member: string }>(this.cache.get(joinPath(turnsDir, name))?.data ?? null)?.member,
    }));
    return boardSnapshot(members, turns);
  }
}

/** A sync turn held by a member. */
export interface SyncTurn {
  /** Fencing token: the czxid of the request node. */
  token: number;
  /** Aborted when the turn may be lost (SUSPENDED, LOST, request deleted, leave). */
  signal: AbortSignal;
  /** The request node. */
  path: string;
  /** End the turn: the next member in line syncs. */
  finish(): Promise<void>;
}

/** Events of a `BoardMember`. */
export interface BoardMemberEvents {
  /** The member's phase changed. */
  phase: [phase: BoardPhase];
  /** Another member is syncing: pause sync work. */
  paused: [by: string];
  /** No one else is syncing any more. */
  resumed: [];
  /** This member's turn began (or was reinstated after a reconnect). */
  turn: [turn: SyncTurn];
  /** The turn may be lost (SUSPENDED) or is lost. */
  turnLost: [error: RoleLostError];
  error: [error: unknown];
}

/** One member of a status board; see the file header. */
export class BoardMember<S = unknown> extends EventEmitter<BoardMemberEvents> {
  /** The member's registration; its participant machine is `statusBoard`. */
  readonly registration: Registration;
  private readonly env: RecipeEnv;
  private statusValue: S;
  private published: string | undefined;
  private publishing = false;
  private turn: SyncTurn | undefined;
  private left = false;
  private readonly onBoardChange = (): void => this.followBoard();

  private constructor(
    private readonly client: RecipeClient,
    /** The board view this member uses. */
    readonly board: StatusBoard<S>,
    readonly name: string,
    status: S,
    options: RecipeOptions,
    private readonly ownsBoard: boolean,
  ) {
    super();
    this.env = recipeEnv(options);
    this.statusValue = status;
    this.registration = new Registration(client, joinPath(joinPath(board.root, MEMBERS_DIR), name), this.record('ready'), this.env, {
      recipe: 'statusBoard',
      name,
      // A turn (held or requested) survives a reconnect only if its request node does.
      verify: async () => this.turn === undefined || (await ownsNode(client, this.turn.path)),
    });
    let lastPhase: BoardPhase | undefined;
    this.participant.on('state', () => {
      this.followBoard();
      this.publish();
      const phase = this.phase; // current: followBoard may have moved it on

      if (phase !== lastPhase) {
        lastPhase = phase;
        this.emit('phase', phase);
      }
    });
    this.participant.on('granted', (signal) => {
      if (this.turn !== undefined) this.emit('turn', { ...this.turn, signal });
    });
    this.participant.on('revoked', (error) => {
      if (error.reason !== 'released') this.emit('turnLost', error);
    });
    board.on('change', this.onBoardChange);
  }

  /** @internal Use `joinStatusBoard` or `StatusBoard.join`. */
  static async join<S>(client: RecipeClient, board: StatusBoard<S>, name: string, status: S, options: RecipeOptions, ownsBoard: boolean): Promise<BoardMember<S>> {
    const member = new BoardMember<S>(client, board, name, status, options, ownsBoard);
    await member.registration.register();
    member.published = member.recordText('ready');
    member.followBoard();
    return member;
  }

  /** The member's participant machine. */
  get participant(): Participant {
    return this.registration.participant;
  }

  /** The member's phase now. */
  get phase(): BoardPhase {
    return boardPhaseOf(this.participant.status);
  }

  /** The application status last set. */
  get status(): S {
    return this.statusValue;
  }

  /** Who is syncing now, as this member's view sees it. */
  get syncing(): string | undefined {
    return this.board.snapshot.syncing;
  }

  /** Publish a new application status. */
  async setStatus(status: S): Promise<void> {
    this.statusValue = status;
    this.published = undefined;
    await this.registration.update(this.record(this.phase));
    this.published = this.recordText(this.phase);
  }

  /** Wait until no other member is syncing (the pause point of a member's own work). */
  async untilClear(options: WaitOptions = {}): Promise<void> {
    const scope = new WaitScope(this.env.clock, options, 'untilClear');
    const wake = new Wakeup();
    const onChange = (): void => wake.fire();
    this.board.on('change', onChange);
    try {
      const clear = (): boolean => {
        const syncing = this.board.snapshot.syncing;
        return syncing === undefined || syncing === this.name;
      };
      while (!clear()) await wake.wait(scope.signal);
    } finally {
      this.board.off('change', onChange);
      scope.dispose();
    }
  }

  /**
   * Ask for the sync turn and wait for it. Simultaneous requests are served in the
   * order the server numbered them.
   */
  requestTurn(options: WaitOptions = {}): Promise<SyncTurn> {
    return this.enterTurn(options, false);
  }

  /** Take the turn only if no one syncs or waits ahead; null otherwise (the request is discarded). */
  tryTurn(): Promise<SyncTurn | null> {
    return tryOnce(this.enterTurn({}, true));
  }

  /** Run `work` during a sync turn (requested, then finished whatever happens). */
  async sync<T>(work: (turn: SyncTurn) => Promise<T>, options: WaitOptions = {}): Promise<T> {
    const turn = await this.requestTurn(options);
    try {
      return await work(turn);
    } finally {
      await turn.finish();
    }
  }

  /** Leave the board: finish a turn, delete the member node, stop the view if owned. */
  async leave(): Promise<void> {
    if (this.left) return;
    this.left = true;
    this.board.off('change', this.onBoardChange);
    await this.turn?.finish();
    await this.registration.unregister();
    if (this.ownsBoard) await this.board.close();
  }

  private async enterTurn(options: WaitOptions, once: boolean): Promise<SyncTurn> {
    if (this.left) throw new RecipeClosedError(`status board member ${this.name}`);
    if (this.turn !== undefined) throw new Error(`${this.name} already holds or requested the sync turn`);
    const participant = this.participant;
    const scope = new WaitScope(this.env.clock, { signal: options.signal }, 'requestTurn');
    const onTimeout = (error: WaitTimeoutError): void => scope.abort(error);
    participant.on('timedOut', onTimeout);
    participant.send({ type: 'WAIT', ...(once ? {} : { timeout: options.timeout }) });
    const turnsDir = joinPath(this.board.root, TURNS_DIR);
    try {
      const node = await enterQueue({
        client: this.client,
        env: this.env,
        dir: turnsDir,
        name: TURN_NODE_NAME,
        filter: TURN_NODE_NAME,
        data: encodeJson({ member: this.name }),
        rule: mutexRule,
        participant,
        scope,
        once,
      });
      const turn: SyncTurn = {
        token: node.stat.czxid,
        get signal(): AbortSignal {
          return participant.signal!;
        },
        path: node.path,
        finish: () => this.finishTurn(turn),
      };
      this.turn = turn;
      participant.send({ type: 'ACQUIRED', token: node.stat.czxid });
      await participant.waitFor((s) => (s.phase === 'holding' && s.substate === 'active') || s.phase !== 'holding', scope.signal);
      if (!participant.holding) {
        await this.finishTurn(turn);
        throw new RoleLostError(participant.status.lossReason ?? 'lost', node.path);
      }
      return turn;
    } catch (error) {
      const timedOut = participant.status.timedOut;
      if (this.turn === undefined) {
        // Withdrawn before holding: enterQueue deleted the request already.
        if (participant.phase === 'waiting') participant.send({ type: 'WITHDRAW' });
        if (participant.phase === 'releasing') participant.send({ type: 'RELEASED' });
      }
      if (once && error instanceof WaitTimeoutError) throw error;
      throw timedOut && !(error instanceof WaitTimeoutError) ? new WaitTimeoutError(options.timeout ?? 0, 'requestTurn') : error;
    } finally {
      scope.dispose();
      participant.off('timedOut', onTimeout);
    }
  }

  private async finishTurn(turn: SyncTurn): Promise<void> {
    if (this.turn !== turn) return;
    this.turn = undefined;
    const participant = this.participant;
    if (participant.phase === 'holding') participant.send({ type: 'RELEASE' });
    await removeNode(this.client, turn.path);
    if (participant.phase === 'releasing') participant.send({ type: 'RELEASED' });
  }

  /** Pause or resume with the board: someone else syncing pauses a ready member. */
  private followBoard(): void {
    if (this.left) return;
    const status = this.participant.status;
    if (status.phase !== 'member') return;
    const syncing = this.board.snapshot.syncing;
    const other = syncing !== undefined && syncing !== this.name ? syncing : undefined;
    if (status.substate === 'ready' && other !== undefined) {
      this.participant.send({ type: 'PAUSE', by: other });
      this.emit('paused', other);
    } else if (status.substate === 'paused' && other === undefined) {
      this.participant.send({ type: 'RESUME' });
      this.emit('resumed');
    } else if (status.substate === 'paused' && other !== undefined && other !== status.pausedBy) {
      this.participant.send({ type: 'PAUSE', by: other });
      this.emit('paused', other);
    }
  }

  /** Write the member node when the phase changed (one write at a time, latest wins). */
  private publish(): void {
    if (this.publishing || this.left) return;
    const status = this.participant.status;
    const live = status.phase === 'member' || status.phase === 'waiting' || status.phase === 'holding' || status.phase === 'releasing';
    if (!live || !status.connected) return;
    const text = this.recordText(this.phase);
    if (text === this.published) return;
    this.publishing = true;
    let failed = false;
    // Through the registration, so a node created again after a loss gets the latest record.
    void this.registration
      .update(Buffer.from(text))
      .then(
        () => {
          this.published = text;
        },
        (error: unknown) => {
          // Retried at the next state change (a reconnect, a restored node), never in a loop.
          failed = true;
          if (!this.left && this.listenerCount('error') > 0) this.emit('error', error);
        },
      )
      .finally(() => {
        this.publishing = false;
        if (!failed && !this.left && this.recordText(this.phase) !== this.published) this.publish();
      });
  }

  private record(phase: BoardPhase): Buffer {
    return Buffer.from(this.recordText(phase));
  }

  private recordText(phase: BoardPhase): string {
    const record: MemberRecord<S> = { name: this.name, phase, status: this.statusValue };
    return JSON.stringify(record);
  }
}

/**
 * Join the board at `root` as `name` with its own view (started here, closed by
 * `leave()`): the common case of one member per process or client.
 */
export async function joinStatusBoard<S>(client: RecipeClient, root: string, name: string, status: S, options: RecipeOptions = {}): Promise<BoardMember<S>> {
  const board = new StatusBoard<S>(client, root, options);
  await board.start();
  try {
    return await BoardMember.join(client, board, name, status, options, true);
  } catch (error) {
    await board.close();
    throw error;
  }
}
