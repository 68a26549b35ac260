/**
 * zoostate's recipes: Curator-style coordination built only on the public client API,
 * so they run unchanged against an embedded zoostate ensemble and against Apache
 * ZooKeeper. Each party's life is an XState participant machine (participant.ts).
 */
export { Participant, participantMachine } from './participant.js';
export type {
  Inspector,
  ParticipantContext,
  ParticipantEmitted,
  ParticipantEvent,
  ParticipantEvents,
  ParticipantInput,
  ParticipantMachine,
  ParticipantOptions,
  ParticipantPhase,
  ParticipantStatus,
  ParticipantSubstate,
} from './participant.js';
export { RoleLostError, WaitTimeoutError, RecipeClosedError } from './errors.js';
export type { LossReason } from './errors.js';
export type { WaitOptions } from './wait.js';
export type { RecipeClient, RecipeOptions } from './support.js';
export type { EventStream } from './stream.js';
export { Lease } from './lease.js';
export type { LeaseEvents } from './lease.js';
export { Lock, LOCK_NODE_NAME } from './lock.js';
export type { LockOptions, LockEvents } from './lock.js';
export { ReadWriteLock, READ_LOCK_NAME, WRITE_LOCK_NAME } from './read-write-lock.js';
export { Semaphore, LEASE_NODE_NAME } from './semaphore.js';
export type { SemaphoreOptions } from './semaphore.js';
export { LeaderLatch, LATCH_NODE_NAME } from './leader-latch.js';
export type { Leadership, Candidate, LeaderLatchOptions, LeaderLatchEvents } from './leader-latch.js';
export { LeaderSelector } from './leader-selector.js';
export type { TakeLeadership, LeaderSelectorOptions, LeaderSelectorEvents, SelectorParticipant } from './leader-selector.js';
export { Barrier } from './barrier.js';
export { DoubleBarrier, READY_NODE } from './double-barrier.js';
export type { DoubleBarrierOptions } from './double-barrier.js';
export { DistributedQueue, DistributedPriorityQueue } from './queue.js';
export type { QueueOptions } from './queue.js';
export { SharedCounter } from './counter.js';
export type { VersionedValue, SharedCounterEvents } from './counter.js';
export { NodeCache } from './node-cache.js';
export type { NodeCacheEvent, NodeCacheEvents } from './node-cache.js';
export { TreeCache } from './tree-cache.js';
export type { CachedNode, CacheEvent, TreeCacheEvents, TreeCacheOptions } from './tree-cache.js';
export { ServiceDiscovery, ServiceCache, GroupMember } from './discovery.js';
export type { ServiceInstance, ServiceInstanceInput, Member, MembershipEvents } from './discovery.js';
export { Registration } from './registration.js';
export type { RegistrationOptions, RegistrationEvents } from './registration.js';
export { StatusBoard, BoardMember, joinStatusBoard } from './status-board.js';
export type { BoardPhase, BoardSnapshot, MemberRecord, SyncTurn, StatusBoardEvents, BoardMemberEvents } from './status-board.js';
