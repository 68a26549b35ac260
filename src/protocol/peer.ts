/**
 * Messages between servers: fast leader election notifications and ZAB's quorum packets
 * (reference §16.3, §16.4), as one discriminated union on `type`.
 *
 * Every message is plain data built only from strings, numbers, bigints, booleans, null,
 * Uint8Array, arrays and plain objects, so each transport can carry it unchanged
 * (in-process by reference, worker_threads by structured clone, TCP by the generic
 * binary peer codec). Keep it that way when adding a message.
 */
import type { ServerState } from './constants.js';
import type { ClientRequest, Id, SessionId } from './records.js';
import type { Txn } from './txn.js';
import type { Zxid } from './zxid.js';

/** A server's id in the ensemble (`myid`, the `N` of `server.N`). */
export type ServerId = number;

/** A fast-leader-election notification (§16.3). */
export interface NotificationMessage {
  type: 'notification';
  /** The sender's state. */
  state: ServerState;
  /** The proposed (or established) leader. */
  leader: ServerId;
  /** The proposed leader's last logged zxid. */
  zxid: Zxid;
  /** The sender's election round (logical clock). */
  electionEpoch: number;
  /** The proposed leader's currentEpoch. */
  peerEpoch: number;
  /**
   * [reconfig] The sender's current dynamic configuration as text (ZooKeeper's
   * notification `config`): sent once a reconfig happened, so that a server with an
   * older configuration adopts it and elects among the right voters.
   */
  config?: Uint8Array;
}

/** Learner → leader: start of discovery (FOLLOWERINFO / OBSERVERINFO). */
export interface LearnerInfoMessage {
  type: 'followerInfo' | 'observerInfo';
  acceptedEpoch: number;
  lastZxid: Zxid;
}

/** Leader → learner: the proposed new epoch (LEADERINFO). */
export interface LeaderInfoMessage {
  type: 'leaderInfo';
  newEpoch: number;
}

/** Learner → leader: epoch accepted (ACKEPOCH); `currentEpoch` is -1 if it had already accepted this epoch. */
export interface AckEpochMessage {
  type: 'ackEpoch';
  currentEpoch: number;
  lastLoggedZxid: Zxid;
}

/** Leader → learner: how synchronization proceeds (DIFF, TRUNC). */
export interface SyncModeMessage {
  type: 'diff' | 'trunc';
  zxid: Zxid;
}

/** Leader → learner: one chunk of a snapshot (SNAP); `last` marks the final chunk. */
export interface SnapMessage {
  type: 'snap';
  zxid: Zxid;
  chunk: Uint8Array;
  last: boolean;
}

/** Leader → learner: end of sync data, the new epoch's start (NEWLEADER). */
export interface NewLeaderMessage {
  type: 'newLeader';
  zxid: Zxid;
}

/** Leader → learner: start serving (UPTODATE). */
export interface UpToDateMessage {
  type: 'upToDate';
}

/** Leader → follower: a proposed transaction (PROPOSAL); leader → observer: a committed one (INFORM). */
export interface TxnMessage {
  type: 'proposal' | 'inform';
  txn: Txn;
}

/** Follower → leader: logged (ACK); leader → follower: committed (COMMIT). */
export interface ZxidMessage {
  type: 'ack' | 'commit';
  zxid: Zxid;
}

/** A session kept alive by a learner (carried in PING replies). */
export interface SessionTouch {
  sessionId: SessionId;
  timeout: number;
}

/** Liveness in both directions; a learner's reply carries its sessions' touches. */
export interface PingMessage {
  type: 'ping';
  zxid: Zxid;
  touches: SessionTouch[];
}

/** Learner → leader: a client write (or createSession/closeSession/sync) to prepare (REQUEST). */
export interface ForwardedRequestMessage {
  type: 'request';
  sessionId: SessionId;
  cxid: number;
  request: ClientRequest | { type: -10; timeout: number; passwd: Uint8Array };
  /** The client connection's authenticated ids, for ACL checks at the leader. */
  authInfo: Id[];
}

/** Learner → leader: may this session attach here? (REVALIDATE) and the answer. */
export interface RevalidateMessage {
  type: 'revalidate';
  sessionId: SessionId;
  timeout: number;
}

/** Leader → learner: the answer to REVALIDATE. */
export interface RevalidateReplyMessage {
  type: 'revalidateReply';
  sessionId: SessionId;
  valid: boolean;
}

/** Leader → learner: a learner's sync request has been ordered (SYNC). */
export interface SyncMessage {
  type: 'sync';
  sessionId: SessionId;
  cxid: number;
}

/** Every message one server sends another. */
export type PeerMessage =
  | NotificationMessage
  | LearnerInfoMessage
  | LeaderInfoMessage
  | AckEpochMessage
  | SyncModeMessage
  | SnapMessage
  | NewLeaderMessage
  | UpToDateMessage
  | TxnMessage
  | ZxidMessage
  | PingMessage
  | ForwardedRequestMessage
  | RevalidateMessage
  | RevalidateReplyMessage
  | SyncMessage;

/** The `type` tag of a peer message. */
export type PeerMessageType = PeerMessage['type'];
