/**
 * The leader as an XState machine: ZAB's phases as states, a person can watch in the
 * inspector (reference §16.5):
 *
 * ```
 * discovery:        collectingFollowers → persistingAcceptedEpoch → awaitingEpochAcks → persistingCurrentEpoch
 * synchronization:  awaitingNewLeaderAcks
 * broadcast:        serving (a half-tick timer pings learners and checks the quorum)
 * stopped           (final; the peer machine goes back to LOOKING)
 * ```
 *
 * Each of discovery and synchronization must finish within initLimit ticks. The per-
 * message work (learner handshakes, proposals, ACK counting, commits) is in `LeaderCore`,
 * referenced from the context; the core reports milestones as events.
 */
import { assign, fromCallback, setup } from 'xstate';
import type { PeerHost } from './host.js';
import { LeaderCore, type LeaderEvent } from './leader-core.js';

/** Input of the leader machine. */
export interface LeaderInput {
  host: PeerHost;
}

/** Context of the leader machine. */
export interface LeaderContext {
  /** The per-message core. */
  readonly core: LeaderCore;
  /** Why leadership ended. */
  reason: string | undefined;
}

/** Output of the leader machine (it only ends by failing or being stopped). */
export interface RoleOutput {
  reason: string;
}

/** Stops the core whenever the machine stops, however it stops. */
export const coreLifetime = fromCallback<{ type: string }, { stop: () => void }>(({ input }) => {
  return () => input.stop();
});

/** The leader machine (`id: 'leader'`). */
export const leaderMachine = setup({
  types: {
    context: {} as LeaderContext,
    events: {} as LeaderEvent,
    input: {} as LeaderInput,
    output: {} as RoleOutput,
  },
  actors: { coreLifetime },
  actions: {
    attachCore: ({ context, self }) => context.core.attach((event) => self.send(event)),
    startDiscovery: ({ context }) => context.core.startDiscovery(),
    persistAcceptedEpoch: ({ context }) => context.core.persistAcceptedEpoch(),
    sendLeaderInfo: ({ context }) => context.core.sendLeaderInfo(),
    persistCurrentEpoch: ({ context }) => context.core.persistCurrentEpoch(),
    startSync: ({ context }) => context.core.startSync(),
    establish: ({ context }) => context.core.establish(),
    tick: ({ context }) => context.core.tick(),
    stopCore: ({ context }) => context.core.stop(),
    recordFailure: assign({ reason: ({ event }) => (event.type === 'FAIL' ? event.reason : 'failed') }),
    discoveryTimedOut: assign({ reason: () => 'discovery did not finish within initLimit' }),
    synchronizationTimedOut: assign({ reason: () => 'synchronization did not finish within initLimit' }),
  },
  delays: {
    initLimit: ({ context }) => context.core.timing.initLimit * context.core.timing.tickTime,
    halfTick: ({ context }) => context.core.timing.tickTime / 2,
  },
}).createMachine({
  id: 'leader',
  context: ({ input }) => ({ core: new LeaderCore(input.host), reason: undefined }),
  entry: 'attachCore',
  invoke: { id: 'core', src: 'coreLifetime', input: ({ context }) => context.core },
  on: {
    FAIL: { target: '.stopped', actions: 'recordFailure' },
  },
  initial: 'discovery',
  states: {
    discovery: {
      initial: 'collectingFollowers',
      after: { initLimit: { target: 'stopped', actions: 'discoveryTimedOut' } },
      states: {
        collectingFollowers: {
          entry: 'startDiscovery',
          on: { EPOCH_QUORUM: 'persistingAcceptedEpoch' },
        },
        persistingAcceptedEpoch: {
          entry: 'persistAcceptedEpoch',
          on: { ACCEPTED_EPOCH_PERSISTED: 'awaitingEpochAcks' },
        },
        awaitingEpochAcks: {
          entry: 'sendLeaderInfo',
          on: { EPOCH_ACKED: 'persistingCurrentEpoch' },
        },
        persistingCurrentEpoch: {
          entry: 'persistCurrentEpoch',
          on: { CURRENT_EPOCH_PERSISTED: 'epochEstablished' },
        },
        epochEstablished: { type: 'final' },
      },
      onDone: 'synchronization',
    },
    synchronization: {
      initial: 'awaitingNewLeaderAcks',
      after: { initLimit: { target: 'stopped', actions: 'synchronizationTimedOut' } },
      states: {
        awaitingNewLeaderAcks: {
          entry: 'startSync',
          on: { NEWLEADER_QUORUM: '#leader.broadcast' },
        },
      },
    },
    broadcast: {
      entry: 'establish',
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
