/**
 * The machines' definitions as `createMachine({...})` source text, for the Stately editor
 * (stately.ai/registry: "Import from code") and for documentation. Every machine uses
 * `setup()` with named actions, guards, delays and actors, so its config is plain data;
 * functions (context factories, invoke inputs, outputs) are left out of the text.
 */
import type { AnyStateMachine } from 'xstate';
import { electionMachine } from './election.js';
import { leaderMachine } from './leader.js';
import { followerMachine, observerMachine } from './learner.js';
import { peerMachine } from './peer.js';

/** The machine behind each name. */
export const machines: Readonly<Record<string, AnyStateMachine>> = Object.freeze({
  peer: peerMachine,
  election: electionMachine,
  leader: leaderMachine,
  follower: followerMachine,
  observer: observerMachine,
});

/** `createMachine({...})` text of one machine's config (functions omitted). */
export function machineDefinition(machine: AnyStateMachine): string {
  return `createMachine(${JSON.stringify(machine.config, (_key, value: unknown) => (typeof value === 'function' ? undefined : value), 2)})`;
}

/** Every machine's definition, by name (peer, election, leader, follower, observer). */
export function machineDefinitions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, machine] of Object.entries(machines)) out[name] = machineDefinition(machine);
  return out;
}
