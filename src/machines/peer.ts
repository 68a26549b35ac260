/**
 * The peer machine (`id: 'peer'`): one server's ZAB lifecycle, ZooKeeper's
 * `QuorumPeer.run` loop (reference §16.2):
 *
 * ```
 * LOOKING  ──election decided──▶ LEADING | FOLLOWING | OBSERVING
 *    ▲                                       │
 *    └────────── the role machine ends ──────┘  (failure, timeout, lost quorum)
 * ```
 *
 * LOOKING invokes the election machine; each role invokes its own machine (leader.ts,
 * learner.ts), whose completion or error returns the peer to LOOKING. While not LOOKING,
 * the server itself answers LOOKING peers' notifications with its vote (`voteReply`), so
 * election notifications only reach this machine while it is LOOKING.
 */
import { assign, sendTo, setup } from 'xstate';
import type { NotificationMessage, ServerId } from '../protocol/peer.js';
import { electionMachine, type ElectionInput, type ElectionResult } from './election.js';
import type { PeerHost } from './host.js';
import { leaderMachine, type RoleOutput } from './leader.js';
import { followerMachine, observerMachine } from './learner.js';

/** What the peer machine needs beyond what the roles need. */
export interface PeerServerHost extends PeerHost {
  /** The election's input for round `electionEpoch` + 1. */
  electionInput(electionEpoch: number): ElectionInput;
  /** LOOKING begins: stop serving, fail pending client requests. */
  enterLooking(): void;
  /** The election decided (the server now answers notifications with this vote). */
  electionDecided(result: ElectionResult): void;
  /** A role ended (for traces). */
  roleEnded(role: 'LEADING' | 'FOLLOWING' | 'OBSERVING', reason: string): void;
}

/** Input of the peer machine. */
export interface PeerInput {
  host: PeerServerHost;
}

/** Context of the peer machine. */
export interface PeerContext {
  readonly host: PeerServerHost;
  /** The round of the last election (ZooKeeper's logicalclock). */
  electionEpoch: number;
  /** The last election's decision. */
  election: ElectionResult | undefined;
  /** Why the last role ended. */
  lastExit: string | undefined;
}

/** Events of the peer machine. */
export type PeerEvent =
  | { type: 'notification'; from: ServerId; message: NotificationMessage }
  | { type: 'peerConnected'; peer: ServerId }
  /** LOOKING learned a newer configuration (from a peer's notification): elect again among its voters. */
  | { type: 'reconfigured' };

type DoneEvent = { type: string; output?: unknown; error?: unknown };

function exitReason(event: DoneEvent): string {
  if (event.output !== undefined) return (event.output as RoleOutput).reason;
  return event.error instanceof Error ? `error: ${event.error.message}` : 'error';
}

/** The peer machine. */
export const peerMachine = setup({
  types: {
    context: {} as PeerContext,
    events: {} as PeerEvent,
    input: {} as PeerInput,
  },
  actors: {
    election: electionMachine,
    leader: leaderMachine,
    follower: followerMachine,
    observer: observerMachine,
  },
  actions: {
    enterLooking: ({ context }) => context.host.enterLooking(),
    forwardToElection: sendTo('election', ({ event }) => event),
    recordElection: assign(({ event }) => {
      const result = (event as unknown as { output: ElectionResult }).output;
      return { election: result, electionEpoch: result.electionEpoch };
    }),
    announceDecision: ({ context }) => context.host.electionDecided(context.election!),
    recordExit: assign({ lastExit: ({ event }) => exitReason(event as DoneEvent) }),
    announceExit: ({ context }, params: { role: 'LEADING' | 'FOLLOWING' | 'OBSERVING' }) =>
      context.host.roleEnded(params.role, context.lastExit ?? 'stopped'),
  },
  guards: {
    electedLeading: ({ event }) => (event as unknown as { output: ElectionResult }).output.role === 'LEADING',
    electedObserving: ({ event }) => (event as unknown as { output: ElectionResult }).output.role === 'OBSERVING',
  },
}).createMachine({
  id: 'peer',
  context: ({ input }) => ({ host: input.host, electionEpoch: 0, election: undefined, lastExit: undefined }),
  initial: 'LOOKING',
  states: {
    LOOKING: {
      entry: 'enterLooking',
      invoke: {
        id: 'election',
        src: 'election',
        input: ({ context }) => context.host.electionInput(context.electionEpoch),
        onDone: [
          { guard: 'electedLeading', target: 'LEADING', actions: ['recordElection', 'announceDecision'] },
          { guard: 'electedObserving', target: 'OBSERVING', actions: ['recordElection', 'announceDecision'] },
          { target: 'FOLLOWING', actions: ['recordElection', 'announceDecision'] },
        ],
      },
      on: {
        notification: { actions: 'forwardToElection' },
        peerConnected: { actions: 'forwardToElection' },
        reconfigured: { target: 'LOOKING', reenter: true },
      },
    },
    LEADING: {
      invoke: {
        id: 'role',
        src: 'leader',
        input: ({ context }) => ({ host: context.host }),
        onDone: { target: 'LOOKING', actions: ['recordExit', { type: 'announceExit', params: { role: 'LEADING' } }] },
        onError: { target: 'LOOKING', actions: ['recordExit', { type: 'announceExit', params: { role: 'LEADING' } }] },
      },
    },
    FOLLOWING: {
      invoke: {
        id: 'role',
        src: 'follower',
        input: ({ context }) => ({ host: context.host, leader: context.election!.leader }),
        onDone: { target: 'LOOKING', actions: ['recordExit', { type: 'announceExit', params: { role: 'FOLLOWING' } }] },
        onError: { target: 'LOOKING', actions: ['recordExit', { type: 'announceExit', params: { role: 'FOLLOWING' } }] },
      },
    },
    OBSERVING: {
      invoke: {
        id: 'role',
        src: 'observer',
        input: ({ context }) => ({ host: context.host, leader: context.election!.leader }),
        onDone: { target: 'LOOKING', actions: ['recordExit', { type: 'announceExit', params: { role: 'OBSERVING' } }] },
        onError: { target: 'LOOKING', actions: ['recordExit', { type: 'announceExit', params: { role: 'OBSERVING' } }] },
      },
    },
  },
});
