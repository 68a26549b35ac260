/**
 * What the role machines need from the server they run in (principle 1: the core does no
 * I/O of its own). `QuorumServer` implements `PeerHost`; tests may supply their own.
 */
import type { Id, ReconfigRequest, SessionId } from '../protocol/records.js';
import type { PeerMessage, ServerId, SessionTouch } from '../protocol/peer.js';
import type { Zxid } from '../protocol/zxid.js';
import type { Clock } from '../runtime/clock.js';
import type { PrepareRequest, RequestPreparerOptions } from '../tree/prepare.js';
import type { ZabDatabase } from './database.js';
import type { Outbox } from './outbox.js';
import type { Membership } from './quorum.js';
import type { QuorumConfig } from './reconfig-config.js';
import type { SyncMode } from './sync-plan.js';
import type { ZabTiming } from './timing.js';

/** Tunables of the replication core (all optional). */
export interface ZabOptions {
  /**
   * The zxid counter value at which a leader abdicates to force a new epoch
   * (ZooKeeper: 0xffffffff, ZOOKEEPER-1277). Lower it only to test the rollover.
   */
  maxCounter?: number;
  /** Largest SNAP chunk in bytes. Default 1 MiB. */
  snapChunkSize?: number;
  /** Options of the leader's prepare step (session checks, TTL nodes). */
  preparer?: RequestPreparerOptions;
  /**
   * ZooKeeper's `reconfigEnabled` (default false, as in 3.5.3+): the reconfig operation
   * is allowed, and a leader accepts learners that are not (yet) members as non-voting
   * ones (a server about to be added, or one that was removed).
   */
  reconfigEnabled?: boolean;
  /** ZooKeeper's `standaloneEnabled` (default true): a reconfig must leave at least 2 voters. */
  standaloneEnabled?: boolean;
}

/** What a role orders through the leader: a write, or a reconfig (opcode 16). */
export type SubmittedWrite = PrepareRequest | ReconfigRequest;

/** Something worth recording about replication (tests assert on these; metrics count them). */
export type ZabTraceEvent =
  | { type: 'sync'; side: 'leader' | 'learner'; peer: ServerId; mode: SyncMode; zxid: Zxid; txns: number }
  | { type: 'epoch'; epoch: number }
  | { type: 'roleFailed'; role: 'leader' | 'follower' | 'observer'; reason: string }
  | { type: 'roleEnded'; role: 'LEADING' | 'FOLLOWING' | 'OBSERVING'; reason: string };

/** A role's hot-path handler: peer messages go straight here, not through the machine. */
export interface RoleCore {
  /** A batch from `from` (election notifications are routed elsewhere). */
  onMessages(from: ServerId, messages: readonly PeerMessage[]): void;
  /** The connection to `peer` broke. */
  onDisconnected(peer: ServerId): void;
  /**
   * Order a client write (learners forward it to the leader). False if this role is not
   * serving; the caller answers ConnectionLoss.
   */
  submitWrite(sessionId: SessionId, cxid: number, request: SubmittedWrite, authIds: readonly Id[]): boolean;
  /** Order a sync: `host.syncReleased` fires once every write ordered before it is applied here. */
  submitSync(sessionId: SessionId, cxid: number, path: string): boolean;
  /**
   * Learners: ask the leader whether `sessionId` may attach here (REVALIDATE, §16.6);
   * the answer arrives as `host.sessionRevalidated`. False if not serving. Leaders do
   * not implement it (the session layer answers locally).
   */
  submitRevalidate?(sessionId: SessionId, timeout: number): boolean;
  /**
   * The current configuration changed (a reconfig was applied here, or a snapshot from
   * the leader brought another one): re-check this role against it.
   */
  onReconfig?(): void;
  /** Stop: no further sends, callbacks or events. Idempotent. */
  stop(): void;
}

/** The server side of the role machines. */
export interface PeerHost {
  readonly self: ServerId;
  /** The current (committed) membership: voters decide, observers only learn. */
  readonly membership: Membership;
  /**
   * The current configuration with addresses (the base of an incremental reconfig).
   * Optional: without it, one without addresses is made from `membership`.
   */
  readonly config?: QuorumConfig;
  readonly timing: ZabTiming;
  readonly clock: Clock;
  readonly db: ZabDatabase;
  readonly outbox: Outbox;
  readonly options: ZabOptions;
  /** `role` now receives peer messages. */
  setActiveRole(role: RoleCore): void;
  /** `role` stopped: if it is the active one, nothing receives peer messages. */
  clearActiveRole(role: RoleCore): void;
  /** Whether this server answers clients (true once in broadcast). */
  setServing(serving: boolean): void;
  /** A sync ordered by this server was released: every write before it is applied here. */
  syncReleased(sessionId: SessionId, cxid: number): void;
  /** Session touches to carry in a PING reply (learners). */
  collectTouches(): SessionTouch[];
  /** Session touches received from a learner (leader). */
  touchSessions(touches: readonly SessionTouch[]): void;
  /**
   * Leader: the session check of the prepare step (§11, `checkSession`) for a request of
   * `sessionId` that arrived through server `origin`: 0 to pass, SessionExpired for an
   * unknown or closing session, SessionMoved if the session is attached elsewhere.
   * Optional: without it every session passes.
   */
  checkSession?(sessionId: SessionId, origin: ServerId): number;
  /** Leader: REVALIDATE from learner `origin`; true if the session is valid (it is touched and attached to `origin`). */
  revalidateSession?(origin: ServerId, sessionId: SessionId, timeout: number): boolean;
  /** Learner: the leader's answer to a REVALIDATE. */
  sessionRevalidated?(sessionId: SessionId, valid: boolean): void;
  /** The new epoch is known: established servers report it in their election vote. */
  epochChanged(epoch: number): void;
  /** Record a replication event. */
  trace(event: ZabTraceEvent): void;
}
