/**
 * Fast leader election as an XState machine (reference §16.3, ZooKeeper's
 * `FastLeaderElection.lookForLeader`). One actor runs one election of one server, from
 * LOOKING to a decision; the vote rules are the pure functions of election-logic.ts.
 *
 * ## Contract (what the peer machine codes against)
 *
 * ```ts
 * const actor = createActor(electionMachine, { input, clock, inspect }); // inspect optional
 * actor.subscribe({ complete: () => use(actor.getSnapshot().output!) }); // ElectionResult
 * actor.start();                       // announces the vote through input.send
 * actor.send({ type: 'notification', from, message });   // every notification received while LOOKING
 * actor.send({ type: 'peerConnected', peer });           // optional: a connection to `peer` (re)opened
 * actor.stop();                        // when the peer leaves LOOKING for another reason / shuts down
 * ```
 *
 * - `input.send(to, message)` is called synchronously from the machine's actions, never
 *   with `to === input.self` (the machine counts its own vote itself). The peer batches
 *   and sends through its transport; sends may be lost (the machine re-sends on timeouts).
 * - The machine reaches its final state `decided` with an `ElectionResult` output. Pass
 *   `result.electionEpoch` as `input.electionEpoch` of the next election (ZooKeeper keeps
 *   `logicalclock` in memory across elections); the machine starts at that + 1.
 * - Once decided (and while not LOOKING), the peer answers notifications itself with
 *   `voteReply(establishedVote(result), message)`: a LOOKING sender then learns the
 *   leader. After discovery fixes the new epoch, update the established vote's
 *   `peerEpoch` (ZooKeeper's `updateElectionVote`).
 * - `peerConnected` re-sends my current vote to that voter, as ZooKeeper's connection
 *   manager re-sends its last message on a new connection; without it a healed link
 *   waits for the next notification timeout.
 * - Every delay is a named XState delay (`finalizeWait`, `notificationTimeout`), so it
 *   runs on the actor's `clock`: always pass the injected one (without it XState uses
 *   real timers).
 * - While running, `actor.getSnapshot().context.election` holds the round and proposal
 *   (for four-letter words or logs).
 * - The decision is tentative, as in ZooKeeper: with delayed or lost messages, servers can
 *   decide on quorums that have since moved (two "leaders" of one round, or followers of
 *   a server that went on LOOKING). ZAB's discovery makes it safe; for liveness a
 *   follower whose leader does not answer within initLimit, and a leader that gets no
 *   quorum of followers, must return to LOOKING and start a new election.
 *
 * ## States
 *
 * `counting` (transient: where do the votes stand?) → `voting` (waiting for
 * notifications; after `notificationTimeout` of silence re-send my vote and double the
 * timeout, up to the maximum) → `finalizing` (a quorum holds my proposal; after
 * `finalizeWait` with no better vote, decide; a better vote goes back to counting) →
 * `decided` (final). A quorum of established FOLLOWING/LEADING votes for a leader that
 * itself reports LEADING decides at once from `counting`.
 *
 * ## Data
 *
 * The vote state (round, proposal, recvset, outofelection) is an immutable value in the
 * context: the pure logic returns a new one, installed by one `assign` per notification
 * (maps of at most one entry per voter are copied, which costs less than the actor's own
 * bookkeeping). Snapshots are therefore honest history: the inspector shows exactly the
 * votes each state was entered with. Side effects (sending) are separate named actions
 * that read the context the assign produced.
 */
import { setup, assign } from 'xstate';
import type { NotificationMessage, ServerId } from '../protocol/peer.js';
import type { Zxid } from '../protocol/zxid.js';
import { invariant } from '../runtime/assert.js';
import {
  announceTargets,
  answerWhileLooking,
  beatsProposal,
  concludeWithProposal,
  currentNotification,
  electionConfig,
  proposalHasQuorum,
  receiveNotification,
  startElection,
  type ElectionConfig,
  type ElectionResult,
  type ElectionState,
} from './election-logic.js';

export type { ElectionResult, ElectionRole, EstablishedVote } from './election-logic.js';
export { establishedVote, voteReply } from './election-logic.js';

/** The election's timers, in ms. */
export interface ElectionTiming {
  /** How long a quorum for my proposal must stand unchallenged before I decide (ZooKeeper: 200). */
  finalizeWaitMs: number;
  /** The first notification timeout: silence this long re-sends my vote (ZooKeeper: 200). */
  minNotificationTimeoutMs: number;
  /** The cap of the doubling notification timeout (ZooKeeper: 60 000). */
  maxNotificationTimeoutMs: number;
}

/**
 * zoostate's defaults, for loopback and LAN latencies (sub-millisecond to a few ms):
 * a 30 ms finalize wait is still ten times a LAN round trip plus event-loop jitter, and
 * saves 170 ms on every election (`ensemble.ready_ms`, `ensemble.failover_ms`); the first
 * re-send follows after the same 30 ms, as ZooKeeper ties its minimum to `finalizeWait`;
 * a 2 s cap bounds how long a healed link stays unused when no connection event re-sends.
 */
export const DEFAULT_ELECTION_TIMING: Readonly<ElectionTiming> = Object.freeze({
  finalizeWaitMs: 30,
  minNotificationTimeoutMs: 30,
  maxNotificationTimeoutMs: 2000,
});

/** Apache ZooKeeper's values, for WAN deployments. */
export const ZOOKEEPER_ELECTION_TIMING: Readonly<ElectionTiming> = Object.freeze({
  finalizeWaitMs: 200,
  minNotificationTimeoutMs: 200,
  maxNotificationTimeoutMs: 60_000,
});

/** What a server's election starts from. */
export interface ElectionInput {
  /** This server. */
  self: ServerId;
  /** The voting members, including `self` if it votes. */
  voters: readonly ServerId[];
  /** Non-voting members; an observer runs the election only to learn the leader. */
  observers: readonly ServerId[];
  /** `self`'s last logged zxid. */
  lastZxid: Zxid;
  /** `self`'s currentEpoch. */
  currentEpoch: number;
  /** The round of the previous election (0 at first); this election's round is one more. */
  electionEpoch: number;
  /** Hand a notification to the transport (never called with `self`). */
  send: (to: ServerId, message: NotificationMessage) => void;
  /** Timers; missing fields take `DEFAULT_ELECTION_TIMING`. */
  timing?: Partial<ElectionTiming>;
}

/** Events the election accepts. */
export type ElectionEvent =
  | { type: 'notification'; from: ServerId; message: NotificationMessage }
  | { type: 'peerConnected'; peer: ServerId };

/** The machine's context (plain data; see "Data" above). */
export interface ElectionContext {
  readonly config: ElectionConfig;
  readonly timing: ElectionTiming;
  readonly send: (to: ServerId, message: NotificationMessage) => void;
  /** Round, proposal and received votes. */
  readonly election: ElectionState;
  /** Set by `count` when my proposal or round changed. */
  readonly changed: boolean;
  /** The current notification timeout (doubles on every timeout). */
  readonly notificationTimeoutMs: number;
  /** The decision, once made. */
  readonly result: ElectionResult | undefined;
}

function resolveTiming(timing: Partial<ElectionTiming> | undefined): ElectionTiming {
  const t = { ...DEFAULT_ELECTION_TIMING, ...timing };
  invariant(t.finalizeWaitMs >= 0, 'election: finalizeWaitMs must be >= 0');
  invariant(t.minNotificationTimeoutMs > 0, 'election: minNotificationTimeoutMs must be > 0');
  invariant(t.maxNotificationTimeoutMs >= t.minNotificationTimeoutMs, 'election: maxNotificationTimeoutMs must be >= the minimum');
  return t;
}

function initialContext(input: ElectionInput): ElectionContext {
  const config = electionConfig(input);
  invariant(
    config.isVoter !== input.observers.includes(input.self),
    `election: server ${input.self} must be exactly one of voter or observer`,
  );
  const timing = resolveTiming(input.timing);
  return {
    config,
    timing,
    send: input.send,
    election: startElection(config, input.electionEpoch),
    changed: false,
    notificationTimeoutMs: timing.minNotificationTimeoutMs,
    result: undefined,
  };
}

function announce(context: ElectionContext): void {
  const message = currentNotification(context.election);
  for (const to of announceTargets(context.config)) context.send(to, message);
}

/**
 * The election machine. Input `ElectionInput`, events `ElectionEvent`, output
 * `ElectionResult` (in the final state `decided`). See the file header for the contract.
 */
export const electionMachine = setup({
  types: {
    context: {} as ElectionContext,
    events: {} as ElectionEvent,
    input: {} as ElectionInput,
    output: {} as ElectionResult,
  },
  actions: {
    /** Send my current vote to every other voter. */
    announceVote: ({ context }) => announce(context),
    /** Re-send only if `count` changed my vote or round. */
    announceIfChanged: ({ context }) => {
      if (context.changed) announce(context);
    },
    /** Answer a LOOKING non-voter or a voter in an older round with my vote. */
    answer: ({ context, event }) => {
      if (event.type !== 'notification') return;
      const reply = answerWhileLooking(context.config, context.election, event.from, event.message);
      if (reply) context.send(event.from, reply);
    },
    /** Count one notification (the pure step); installs the new vote state. */
    count: assign(({ context, event }) => {
      if (event.type !== 'notification') return {};
      const step = receiveNotification(context.config, context.election, event.from, event.message);
      return { election: step.state, changed: step.announce, result: step.decision };
    }),
    /** Exponential backoff of the notification timeout. */
    backOff: assign({
      notificationTimeoutMs: ({ context }) =>
        Math.min(context.notificationTimeoutMs * 2, context.timing.maxNotificationTimeoutMs),
    }),
    /** The finalize wait passed: my proposal is the decision. */
    adoptProposal: assign({ result: ({ context }) => concludeWithProposal(context.config, context.election) }),
    /** A connection opened: repeat my vote to that voter. */
    greetPeer: ({ context, event }) => {
      if (event.type !== 'peerConnected') return;
      if (event.peer !== context.config.self && context.config.voters.has(event.peer)) {
        context.send(event.peer, currentNotification(context.election));
      }
    },
  },
  guards: {
    /** Non-voters' notifications are answered, never counted. */
    fromNonVoter: ({ context, event }) => event.type === 'notification' && !context.config.voters.has(event.from),
    /** An established leader was recognized while counting. */
    leaderEstablished: ({ context }) => context.result !== undefined,
    /** A quorum of my round holds exactly my proposal. */
    proposalHasQuorum: ({ context }) => proposalHasQuorum(context.config, context.election),
    /** The notification proposes a better leader than mine. */
    beatsProposal: ({ context, event }) =>
      event.type === 'notification' && beatsProposal(context.config, context.election, event.message),
  },
  delays: {
    finalizeWait: ({ context }) => context.timing.finalizeWaitMs,
    notificationTimeout: ({ context }) => context.notificationTimeoutMs,
  },
}).createMachine({
  id: 'election',
  context: ({ input }) => initialContext(input),
  entry: 'announceVote',
  initial: 'counting',
  on: {
    peerConnected: { actions: 'greetPeer' },
  },
  states: {
    counting: {
      description: 'Transient: count the votes of my round and the established votes.',
      always: [
        { guard: 'leaderEstablished', target: 'decided' },
        { guard: 'proposalHasQuorum', target: 'finalizing' },
        { target: 'voting' },
      ],
    },
    voting: {
      description: 'LOOKING: exchange notifications; silence re-sends my vote with exponential backoff.',
      on: {
        notification: [
          { guard: 'fromNonVoter', actions: 'answer' },
          // Re-entering `voting` afterwards restarts the notification timeout.
          { target: 'counting', actions: ['answer', 'count', 'announceIfChanged'] },
        ],
      },
      after: {
        notificationTimeout: { target: 'counting', actions: ['announceVote', 'backOff'] },
      },
    },
    finalizing: {
      description: 'A quorum holds my proposal: decide unless a better vote arrives within finalizeWait.',
      on: {
        notification: [
          { guard: 'fromNonVoter', actions: 'answer' },
          { guard: 'beatsProposal', target: 'counting', actions: ['answer', 'count', 'announceIfChanged'] },
          // Not better: dropped, and the wait starts over (ZooKeeper polls again).
          { target: 'finalizing', reenter: true, actions: 'answer' },
        ],
      },
      after: {
        finalizeWait: { target: 'decided', actions: 'adoptProposal' },
      },
    },
    decided: {
      description: 'LEADING, FOLLOWING or OBSERVING: the output names the leader and the round.',
      type: 'final',
    },
  },
  output: ({ context }) => {
    invariant(context.result !== undefined, 'election: decided without a result');
    return context.result;
  },
});

/**
 * The machine's definition as `createMachine({...})` source that the Stately editor
 * imports (named actions, guards and delays; the context factory and output, being
 * functions, are left out).
 */
export function electionMachineDefinition(): string {
  return `createMachine(${JSON.stringify(electionMachine.config, null, 2)})`;
}
