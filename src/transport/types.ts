/**
 * The transport contract: how one server exchanges typed peer messages with the others.
 * Three implementations (in-process, worker_threads, TCP) pass the same conformance
 * suite (test/unit/transport).
 *
 * Guarantees every implementation gives:
 * - Batches: `send(to, messages)` hands over several messages at once; the receiver gets
 *   them as one `message` event with the same array order. Machines pay per batch.
 * - FIFO per ordered pair of peers while a connection lasts. A broken connection is
 *   reported with `disconnected`; delivery never silently resumes after a gap: after a
 *   `disconnected(peer)`, a later `connected(peer)` marks a new connection.
 * - Asynchrony: `send` never calls a handler synchronously (no re-entrancy into the sender).
 * - Best effort: `send` to an unreachable peer drops the batch (the protocol retries
 *   through its own timeouts); it never throws for a network condition.
 */
import type { EventEmitter } from 'eventemitter3';
import type { PeerMessage, ServerId } from '../protocol/peer.js';

/** Events of a transport endpoint. */
export interface TransportEvents {
  /** A batch arrived from `from`. The array belongs to the receiver. */
  message: (from: ServerId, messages: PeerMessage[]) => void;
  /** A connection to `peer` is established (messages can flow both ways). */
  connected: (peer: ServerId) => void;
  /** The connection to `peer` broke; messages in flight may be lost. */
  disconnected: (peer: ServerId) => void;
  /** A problem worth one log line (a rejected peer, a malformed frame). */
  warning: (message: string) => void;
}

/** One server's endpoint on the peer network. */
export interface Transport extends EventEmitter<TransportEvents> {
  /** This server's id. */
  readonly self: ServerId;
  /**
   * Send a batch of messages to `to` (in order). The batch is handed over: the caller
   * must not modify the array or its messages afterwards (the in-process transport
   * delivers them by reference, possibly to several receivers; receivers treat
   * messages as immutable).
   */
  send(to: ServerId, messages: readonly PeerMessage[]): void;
  /** Peers currently connected. */
  connectedPeers(): ServerId[];
  /** Close every connection and stop; idempotent. */
  close(): Promise<void>;
}
