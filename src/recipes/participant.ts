/**
 * The participant machine: the life of one party in a recipe (a lock waiter, a leader
 * candidate, a status-board member, a barrier member, a cache) as an XState v5 machine,
 * so that joining, waiting, holding, pausing, suspension, loss and leaving are explicit
 * states a person can watch in the inspector. The per-event work (creating nodes,
 * reading children, choosing a predecessor) is plain code in each recipe, which drives
 * the machine with events and reads its state back; the machine never does I/O.
 *
 * ## States
 *
 * ```
 * idle ─JOIN→ joining ─JOINED→ member{ready ⇄ paused}
 * idle | member ─WAIT→ waiting{queued} ─ACQUIRED→ holding{active}
 * member ─ACQUIRED→ holding
 * waiting | holding ─WITHDRAW / RELEASE→ releasing ─RELEASED→ member   (members)
 *                                       → leaving                       (one-shot participants)
 * member | waiting | holding: {…} ─SUSPENDED→ ….suspended ─RECONNECTED→ ….verifying
 *                                 ….verifying ─VERIFIED→ ….ready | queued | active
 *                                 ….verifying ─NODE_GONE→ lost
 * any ─LOST / NODE_GONE→ lost ─JOIN→ joining    any ─LEAVE→ leaving ─LEFT→ left (final)
 * any ─CLOSED→ left
 * ```
 *
 * - `holding.active` is the only state in which the role is held. Entering it emits
 *   `granted` (a new term); leaving it emits `revoked` with the reason (`suspended`,
 *   `lost`, `expired`, `node-deleted`, `released`, `closed`). The `Participant` wrapper
 *   turns these into an AbortSignal per term: a holder hands `signal` to its work, and
 *   the work stops as soon as the role may be gone.
 * - Suspension is a child of the state it interrupts, so a wait's timeout (the named
 *   delay `waitTimeout` on `waiting`) keeps running while the connection is down, and
 *   the inspector shows what was interrupted (`{ holding: 'suspended' }`).
 * - A `member` participant (status board, latch, discovery) stays in the group when it
 *   gives up a role or a wait (`releasing` → `member`); a one-shot participant (a lock
 *   acquisition) leaves (`leaving` → `left`).
 * - The `connected` flag in the context remembers a SUSPENDED that arrived outside the
 *   interruptible states (while joining, or before a wait), so a node created or a role
 *   granted during a disconnection lands in `….suspended` and is verified before it is
 *   trusted (`JOINED` → `member.suspended`, `ACQUIRED` → `holding.suspended`).
 * - The wait timeout leads members to `releasing` and one-shot participants to
 *   `leaving`, emitting `timedOut`; the recipe aborts its wait and deletes its node.
 *
 * Machine ids per recipe: `lock`, `readLock`, `writeLock`, `semaphore`, `leaderLatch`,
 * `leaderSelector`, `barrier`, `doubleBarrier`, `queueConsumer`, `sharedCount`,
 * `nodeCache`, `treeCache`, `statusBoard` (a member), `statusBoardView`,
 * `serviceInstance`, `serviceCache`, `groupMember`, `groupView`.
 */
import { EventEmitter } from 'eventemitter3';
import { and, assign, createActor, emit, setup, type Actor, type InspectionEvent, type Observer } from 'xstate';
import { systemClock, type Clock } from '../runtime/clock.js';
import { RoleLostError, WaitTimeoutError, type LossReason } from './errors.js';
import { raceSignal } from './wait.js';

/** Top-level phases of a participant. */
export type ParticipantPhase =
  | 'idle'
  | 'joining'
  | 'member'
  | 'waiting'
  | 'holding'
  | 'releasing'
  | 'lost'
  | 'leaving'
  | 'left';

/** Sub-states of `member`, `waiting` and `holding`. */
export type ParticipantSubstate = 'ready' | 'paused' | 'queued' | 'active' | 'suspended' | 'verifying';

/** Events a recipe sends to its participant. */
export type ParticipantEvent =
  | { type: 'JOIN' }
  | { type: 'JOINED'; node?: string }
  | { type: 'NODE'; node: string | undefined }
  | { type: 'WAIT'; timeout?: number }
  | { type: 'ACQUIRED'; token?: number }
  | { type: 'PAUSE'; by: string }
  | { type: 'RESUME' }
  | { type: 'WITHDRAW' }
  | { type: 'RELEASE' }
  | { type: 'RELEASED' }
  | { type: 'SUSPENDED' }
  | { type: 'RECONNECTED' }
  | { type: 'VERIFIED' }
  | { type: 'NODE_GONE' }
  | { type: 'LOST'; reason: 'lost' | 'expired' }
  | { type: 'LEAVE' }
  | { type: 'LEFT' }
  | { type: 'CLOSED' };

/** Events the machine emits (see `actor.on`). */
export type ParticipantEmitted =
  | { type: 'granted'; term: number }
  | { type: 'revoked'; term: number; reason: LossReason }
  | { type: 'timedOut'; timeout: number };

/** What a participant starts from. */
export interface ParticipantInput {
  /** The participant's name in its group (member name, node name prefix, ...). */
  name: string;
  /** True for members that stay in the group after giving up a wait or a role. */
  member?: boolean;
}

/** The machine's context: plain data only. */
export interface ParticipantContext {
  readonly name: string;
  readonly member: boolean;
  /** The participant's main node (full path), once created. */
  node: string | undefined;
  /** The fencing token of the current or last term (czxid of the winning node). */
  token: number | undefined;
  /** Who the participant is paused for (status board). */
  pausedBy: string | undefined;
  /** The wait's timeout in ms, from the WAIT event (undefined: no timeout). */
  waitTimeout: number | undefined;
  /** Terms of holding so far (each entry into `holding.active` is one). */
  terms: number;
  /** False between SUSPENDED and RECONNECTED. */
  connected: boolean;
  /** Why the participant last lost its role or node. */
  lossReason: LossReason | undefined;
  /** True once a wait timed out. */
  timedOut: boolean;
}

/** Longest delay a timer accepts (about 24.8 days); used when a wait has no timeout. */
const MAX_DELAY = 2 ** 31 - 1;

function lossReasonOf(event: ParticipantEvent): LossReason {
  switch (event.type) {
    case 'SUSPENDED':
      return 'suspended';
    case 'LOST':
      return event.reason;
    case 'NODE_GONE':
      return 'node-deleted';
    case 'CLOSED':
      return 'closed';
    default:
      return 'released';
  }
}

/** The suspended/verifying children shared by `member`, `waiting` and `holding`. */
function interrupted(id: string, live: 'ready' | 'queued' | 'active') {
  return {
    suspended: {
      on: { RECONNECTED: { target: 'verifying', actions: 'markConnected' } },
    },
    verifying: {
      on: {
        VERIFIED: { target: live },
        SUSPENDED: { target: 'suspended', actions: 'markDisconnected' },
        NODE_GONE: { target: `#${id}.lost`, actions: 'recordLoss' },
      },
    },
  } as const;
}

const participantSetup = setup({
  types: {
    context: {} as ParticipantContext,
    events: {} as ParticipantEvent,
    input: {} as ParticipantInput,
    emitted: {} as ParticipantEmitted,
  },
  actions: {
    assignNode: assign({
      node: ({ context, event }) => ('node' in event && typeof event.node === 'string' ? event.node : event.type === 'NODE' ? event.node : context.node),
    }),
    assignWait: assign({
      waitTimeout: ({ event }) => (event.type === 'WAIT' ? event.timeout : undefined),
      timedOut: false,
    }),
    assignToken: assign({
      token: ({ context, event }) => (event.type === 'ACQUIRED' && event.token !== undefined ? event.token : context.token),
    }),
    assignPause: assign({ pausedBy: ({ event }) => (event.type === 'PAUSE' ? event.by : undefined) }),
    clearPause: assign({ pausedBy: undefined }),
    markConnected: assign({ connected: true }),
    markDisconnected: assign({ connected: false }),
    recordLoss: assign({ lossReason: ({ event }) => lossReasonOf(event), connected: ({ context, event }) => (event.type === 'LOST' ? false : context.connected) }),
    recordTimeout: assign({ timedOut: true }),
    emitTimedOut: emit(({ context }) => ({ type: 'timedOut' as const, timeout: context.waitTimeout ?? 0 })),
    beginTerm: assign({ terms: ({ context }) => context.terms + 1 }),
    grantRole: emit(({ context }) => ({ type: 'granted' as const, term: context.terms })),
    revokeRole: emit(({ context, event }) => ({ type: 'revoked' as const, term: context.terms, reason: lossReasonOf(event) })),
  },
  guards: {
    isMember: ({ context }) => context.member,
    isDisconnected: ({ context }) => !context.connected,
    hasWaitTimeout: ({ context }) => context.waitTimeout !== undefined,
  },
  delays: {
    waitTimeout: ({ context }) => Math.min(context.waitTimeout ?? MAX_DELAY, MAX_DELAY),
  },
});

const machineCache = new Map<string, ReturnType<typeof buildMachine>>();

function buildMachine(id: string) {
  return participantSetup.createMachine({
    id,
    context: ({ input }) => ({
      name: input.name,
      member: input.member ?? false,
      node: undefined,
      token: undefined,
      pausedBy: undefined,
      waitTimeout: undefined,
      terms: 0,
      connected: true,
      lossReason: undefined,
      timedOut: false,
    }),
    initial: 'idle',
    on: {
      NODE: { actions: 'assignNode' },
      SUSPENDED: { actions: 'markDisconnected' },
      RECONNECTED: { actions: 'markConnected' },
      LOST: { target: '.lost', actions: 'recordLoss' },
      NODE_GONE: { target: '.lost', actions: 'recordLoss' },
      LEAVE: { target: '.leaving' },
      CLOSED: { target: '.left', actions: 'recordLoss' },
    },
    states: {
      idle: {
        on: {
          JOIN: { target: 'joining' },
          WAIT: { target: 'waiting', actions: 'assignWait' },
          LEAVE: { target: 'left' },
        },
      },
      joining: {
        on: {
          JOINED: [
            { guard: 'isDisconnected', target: 'member.suspended', actions: 'assignNode' },
            { target: 'member', actions: 'assignNode' },
          ],
        },
      },
      member: {
        initial: 'ready',
        on: {
          WAIT: { target: 'waiting', actions: 'assignWait' },
          ACQUIRED: [
            { guard: 'isDisconnected', target: 'holding.suspended', actions: 'assignToken' },
            { target: 'holding', actions: 'assignToken' },
          ],
        },
        states: {
          ready: {
            on: {
              PAUSE: { target: 'paused', actions: 'assignPause' },
              SUSPENDED: { target: 'suspended', actions: 'markDisconnected' },
            },
          },
          paused: {
            on: {
              PAUSE: { actions: 'assignPause' },
              RESUME: { target: 'ready', actions: 'clearPause' },
              SUSPENDED: { target: 'suspended', actions: 'markDisconnected' },
            },
          },
          ...interrupted(id, 'ready'),
        },
      },
      waiting: {
        initial: 'queued',
        after: {
          waitTimeout: [
            { guard: and(['hasWaitTimeout', 'isMember']), target: 'releasing', actions: ['recordTimeout', 'emitTimedOut'] },
            { guard: 'hasWaitTimeout', target: 'leaving', actions: ['recordTimeout', 'emitTimedOut'] },
          ],
        },
        on: {
          WITHDRAW: [{ guard: 'isMember', target: 'releasing' }, { target: 'leaving' }],
        },
        states: {
          queued: {
            on: {
              ACQUIRED: [
                { guard: 'isDisconnected', target: `#${id}.holding.suspended`, actions: 'assignToken' },
                { target: `#${id}.holding`, actions: 'assignToken' },
              ],
              SUSPENDED: { target: 'suspended', actions: 'markDisconnected' },
            },
          },
          suspended: {
            on: {
              RECONNECTED: { target: 'verifying', actions: 'markConnected' },
              ACQUIRED: { target: `#${id}.holding.suspended`, actions: 'assignToken' },
            },
          },
          verifying: {
            on: {
              VERIFIED: { target: 'queued' },
              SUSPENDED: { target: 'suspended', actions: 'markDisconnected' },
              NODE_GONE: { target: `#${id}.lost`, actions: 'recordLoss' },
            },
          },
        },
      },
      holding: {
        initial: 'active',
        on: {
          RELEASE: [{ guard: 'isMember', target: 'releasing' }, { target: 'leaving' }],
          WITHDRAW: [{ guard: 'isMember', target: 'releasing' }, { target: 'leaving' }],
        },
        states: {
          active: {
            entry: ['beginTerm', 'grantRole'],
            exit: 'revokeRole',
            on: { SUSPENDED: { target: 'suspended', actions: 'markDisconnected' } },
          },
          ...interrupted(id, 'active'),
        },
      },
      releasing: {
        on: {
          RELEASED: [
            { guard: 'isDisconnected', target: 'member.suspended' },
            { target: 'member' },
          ],
        },
      },
      lost: {
        on: {
          NODE_GONE: {},
          JOIN: { target: 'joining' },
          WAIT: { target: 'waiting', actions: 'assignWait' },
        },
      },
      leaving: {
        on: {
          LEFT: { target: 'left' },
          LEAVE: {},
          LOST: { actions: 'recordLoss' },
          NODE_GONE: {},
        },
      },
      left: { type: 'final' },
    },
  });
}

/** The participant machine of recipe `id` (e.g. `'lock'`, `'leaderLatch'`); one per id. */
export function participantMachine(id: string) {
  let machine = machineCache.get(id);
  if (machine === undefined) {
    machine = buildMachine(id);
    machineCache.set(id, machine);
  }
  return machine;
}

/** The participant machine's type. */
export type ParticipantMachine = ReturnType<typeof participantMachine>;

/** An XState inspector: an observer or a function of inspection events. */
export type Inspector = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

/** Options of a participant. */
export interface ParticipantOptions extends ParticipantInput {
  /** Recipe id, used as the machine id (`'lock'`, `'leaderLatch'`, `'statusBoard'`, ...). */
  recipe: string;
  /** Clock for the machine's delays (default `systemClock`). */
  clock?: Clock;
  /** XState inspector, to watch the participant's life. */
  inspect?: Inspector;
}

/** A participant's state, flattened for applications. */
export interface ParticipantStatus {
  phase: ParticipantPhase;
  /** The child state of `member`, `waiting` or `holding`. */
  substate: ParticipantSubstate | undefined;
  node: string | undefined;
  token: number | undefined;
  pausedBy: string | undefined;
  terms: number;
  connected: boolean;
  lossReason: LossReason | undefined;
  timedOut: boolean;
}

/** Events of a `Participant`. */
export interface ParticipantEvents {
  /** Every state change. */
  state: [status: ParticipantStatus];
  /** The role was granted: a new term, with the signal that stays live for it. */
  granted: [signal: AbortSignal, term: number];
  /** The role was revoked (or may be lost): the term's signal was aborted with `error`. */
  revoked: [error: RoleLostError];
  /** A wait's timeout passed. */
  timedOut: [error: WaitTimeoutError];
}

/**
 * A running participant machine plus the plain state a recipe needs around it: the
 * AbortSignal of the current term, and promises for state changes. Recipes create one
 * per party and drive it with `send`.
 */
export class Participant extends EventEmitter<ParticipantEvents> {
  /** The XState actor (for `inspect`, snapshots, or `actor.getSnapshot().value`). */
  readonly actor: Actor<ParticipantMachine>;
  private role: AbortController | undefined;
  private last: ParticipantStatus;

  constructor(options: ParticipantOptions) {
    super();
    this.actor = createActor(participantMachine(options.recipe), {
      input: { name: options.name, member: options.member ?? false },
      clock: options.clock ?? systemClock,
      ...(options.inspect ? { inspect: options.inspect } : {}),
    });
    this.actor.on('granted', (event) => {
      this.role = new AbortController();
      this.emit('granted', this.role.signal, event.term);
    });
    this.actor.on('revoked', (event) => {
      const error = new RoleLostError(event.reason, this.actor.getSnapshot().context.node);
      this.role?.abort(error);
      this.emit('revoked', error);
    });
    this.actor.on('timedOut', (event) => {
      this.emit('timedOut', new WaitTimeoutError(event.timeout, `${options.recipe} wait`));
    });
    this.actor.start();
    this.last = this.read();
    this.actor.subscribe(() => {
      const status = this.read();
      if (!sameStatus(status, this.last)) {
        this.last = status;
        this.emit('state', status);
      }
    });
  }

  /** Send an event (ignored once the participant has left). */
  send(event: ParticipantEvent): void {
    if (this.actor.getSnapshot().status === 'active') this.actor.send(event);
  }

  /** The current state. */
  get status(): ParticipantStatus {
    return this.read();
  }

  /** The current phase. */
  get phase(): ParticipantPhase {
    return this.read().phase;
  }

  /** True while the role is held (`holding.active`). */
  get holding(): boolean {
    const status = this.read();
    return status.phase === 'holding' && status.substate === 'active';
  }

  /** The signal of the current (or last) term; undefined before the first grant. */
  get signal(): AbortSignal | undefined {
    return this.role?.signal;
  }

  /**
   * Resolve with the first status (the current one included) for which `predicate`
   * holds; reject when `signal` aborts.
   */
  waitFor(predicate: (status: ParticipantStatus) => boolean, signal?: AbortSignal): Promise<ParticipantStatus> {
    const now = this.read();
    if (predicate(now)) return Promise.resolve(now);
    let listener: ((status: ParticipantStatus) => void) | undefined;
    const reached = new Promise<ParticipantStatus>((resolve) => {
      listener = (status) => {
        if (predicate(status)) resolve(status);
      };
      this.on('state', listener);
    });
    const done = signal ? raceSignal(reached, signal) : reached;
    return done.finally(() => {
      if (listener) this.off('state', listener);
    });
  }

  /** Stop the machine (after `left`, or when the recipe is discarded). */
  stop(): void {
    this.actor.stop();
  }

  private read(): ParticipantStatus {
    const snapshot = this.actor.getSnapshot();
    const value = snapshot.value as ParticipantPhase | Partial<Record<ParticipantPhase, ParticipantSubstate>>;
    let phase: ParticipantPhase;
    let substate: ParticipantSubstate | undefined;
    if (typeof value === 'string') {
      phase = value;
    } else {
      const [key, child] = Object.entries(value)[0]!;
      phase = key as ParticipantPhase;
      substate = child;
    }
    const c = snapshot.context;
    return {
      phase,
      substate,
      node: c.node,
      token: c.token,
      pausedBy: c.pausedBy,
      terms: c.terms,
      connected: c.connected,
      lossReason: c.lossReason,
      timedOut: c.timedOut,
    };
  }
}

function sameStatus(a: ParticipantStatus, b: ParticipantStatus): boolean {
  return (
    a.phase === b.phase &&
    a.substate === b.substate &&
    a.node === b.node &&
    a.token === b.token &&
    a.pausedBy === b.pausedBy &&
    a.terms === b.terms &&
    a.connected === b.connected &&
    a.lossReason === b.lossReason &&
    a.timedOut === b.timedOut
  );
}
