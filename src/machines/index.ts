/**
 * ZAB as XState machines: the peer lifecycle (LOOKING → LEADING / FOLLOWING / OBSERVING),
 * leader election, and each role's phases (discovery → synchronization → broadcast), with
 * the per-message work in plain cores (`LeaderCore`, `LearnerCore`) and the replica's
 * tree + log in `ZabDatabase`.
 */
export * from './timing.js';
export * from './quorum.js';
export * from './outbox.js';
export * from './history.js';
export * from './database.js';
export * from './sync-plan.js';
export type * from './host.js';
export * from './leader-core.js';
export * from './learner-core.js';
export * from './leader.js';
export * from './learner.js';
export * from './peer.js';
export * from './static-election.js';
export * from './definitions.js';
export * from './election.js';
