/**
 * A stand-in for leader election that decides at once for a fixed leader: for tests and
 * benchmarks of discovery, synchronization and broadcast in isolation. It has the
 * election machine's input and output, so the peer machine runs it unchanged
 * (`peerMachine.provide({ actors: { election: staticElectionMachine(leader) } })`).
 */
import { setup } from 'xstate';
import type { ServerId } from '../protocol/peer.js';
import type { ElectionInput, ElectionResult } from './election.js';

/** An election that always elects `leader`. */
export function staticElectionMachine(leader: ServerId) {
  return setup({
    types: {
      context: {} as { input: ElectionInput },
      input: {} as ElectionInput,
      output: {} as ElectionResult,
    },
  }).createMachine({
    id: 'staticElection',
    context: ({ input }) => ({ input }),
    initial: 'decided',
    states: { decided: { type: 'final' } },
    output: ({ context }) => {
      const { self, observers, electionEpoch, currentEpoch, lastZxid } = context.input;
      const role = self === leader ? 'LEADING' : observers.includes(self) ? 'OBSERVING' : 'FOLLOWING';
      return { role, leader, electionEpoch: electionEpoch + 1, peerEpoch: currentEpoch, zxid: lastZxid };
    },
  });
}
