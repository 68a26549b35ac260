/**
 * The learner machines (follower and observer): ZAB's phases as states (reference §16.5):
 *
 * ```
 * discovery:        connecting (FOLLOWERINFO / OBSERVERINFO every half tick until LEADERINFO)
 * synchronization:  receiving → persisting (NEWLEADER: log everything, write currentEpoch) → awaitingUpToDate
 * broadcast:        serving (a half-tick timer watches the leader's silence, syncLimit)
 * stopped           (final; the peer machine goes back to LOOKING)
 * ```
 *
 * Discovery and synchronization each have initLimit ticks. Per-message work is in
 * `LearnerCore`; the machine only moves between phases on the core's milestones.
 */
import { assign, setup } from 'xstate';
import type { ServerId } from '../protocol/peer.js';
import type { PeerHost } from './host.js';
import { coreLifetime, type RoleOutput } from './leader.js';
import { LearnerCore, type LearnerEvent } from './learner-core.js';

/** Input of a learner machine. */
export interface LearnerInput {
  host: PeerHost;
  /** The elected leader. */
  leader: ServerId;
}

/** Context of a learner machine. */
export interface LearnerContext {
  readonly core: LearnerCore;
  reason: string | undefined;
}

/** Build the follower (`observer: false`) or observer machine. */
function learnerMachine(id: 'follower' | 'observer') {
  const observer = id === 'observer';
  return setup({
    types: {
      context: {} as LearnerContext,
      events: {} as LearnerEvent,
      input: {} as LearnerInput,
      output: {} as RoleOutput,
    },
    actors: { coreLifetime },
    actions: {
      attachCore: ({ context, self }) => context.core.attach((event) => self.send(event)),
      sendLearnerInfo: ({ context }) => context.core.sendLearnerInfo(),
      tick: ({ context }) => context.core.tick(),
      stopCore: ({ context }) => context.core.stop(),
      recordFailure: assign({ reason: ({ event }) => (event.type === 'FAIL' ? event.reason : 'failed') }),
      discoveryTimedOut: assign({ reason: () => 'no LEADERINFO within initLimit' }),
      synchronizationTimedOut: assign({ reason: () => 'synchronization did not finish within initLimit' }),
    },
    delays: {
      initLimit: ({ context }) => context.core.timing.initLimit * context.core.timing.tickTime,
      halfTick: ({ context }) => context.core.timing.tickTime / 2,
    },
  }).createMachine({
    id,
    context: ({ input }) => ({ core: new LearnerCore(input.host, input.leader, observer), reason: undefined }),
    entry: 'attachCore',
    invoke: { id: 'core', src: 'coreLifetime', input: ({ context }) => context.core },
    on: {
      FAIL: { target: '.stopped', actions: 'recordFailure' },
    },
    initial: 'discovery',
    states: {
      discovery: {
        initial: 'connecting',
        after: { initLimit: { target: 'stopped', actions: 'discoveryTimedOut' } },
        on: { EPOCH_ACCEPTED: 'synchronization' },
        states: {
          connecting: {
            entry: 'sendLearnerInfo',
            after: { halfTick: { target: 'connecting', reenter: true } },
          },
        },
      },
      synchronization: {
        initial: 'receiving',
        after: { initLimit: { target: 'stopped', actions: 'synchronizationTimedOut' } },
        on: { UPTODATE: 'broadcast' },
        states: {
          receiving: { on: { NEWLEADER: 'persisting' } },
          persisting: { on: { NEWLEADER_ACKED: 'awaitingUpToDate' } },
          awaitingUpToDate: {},
        },
      },
      broadcast: {
        initial: 'serving',
        states: {
          serving: {
            after: { halfTick: { target: 'serving', reenter: true, actions: 'tick' } },
          },
        },
      },
      stopped: {
        type: 'final',
        entry: 'stopCore',
      },
    },
    output: ({ context }) => ({ reason: context.reason ?? 'stopped' }),
  });
}

/** The follower machine (`id: 'follower'`). */
export const followerMachine = learnerMachine('follower');

/** The observer machine (`id: 'observer'`). */
export const observerMachine = learnerMachine('observer');
