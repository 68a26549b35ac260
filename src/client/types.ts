/**
 * Public types of the client: watch events, connection states, options and results.
 */
import type { ACL, Stat } from '../protocol/records.js';

/** Node events sent by the server. */
export type NodeEventType = 'NodeCreated' | 'NodeDeleted' | 'NodeDataChanged' | 'NodeChildrenChanged';

/** Events raised locally by `removeWatches`. */
export type WatchRemovedEventType = 'DataWatchRemoved' | 'ChildWatchRemoved' | 'PersistentWatchRemoved';

/** Every watch event type; `None` marks a session event (see `WatchEvent.state`). */
export type WatchEventType = NodeEventType | WatchRemovedEventType | 'None';

/**
 * The session state carried by a watch event: `SyncConnected` for node events;
 * `Expired`, `Closed` or `AuthFailed` (with type `None`) when the session ended, which
 * tells a watcher that it will never fire for a node change.
 */
export type WatchEventState = 'SyncConnected' | 'Expired' | 'Closed' | 'AuthFailed';

/** A watch event, with the path relative to the client's chroot. */
export interface WatchEvent {
  type: WatchEventType;
  state: WatchEventState;
  path: string;
}

/** A watch callback. One-shot watchers are called once; persistent ones for every event. */
export type Watcher = (event: WatchEvent) => void;

/**
 * Connection state changes, named as in Apache Curator:
 * - `CONNECTED`: the first session was established;
 * - `SUSPENDED`: the connection dropped; requests in flight failed with ConnectionLoss;
 *   the client is reconnecting with the same session;
 * - `RECONNECTED`: the session was re-established (watches re-registered);
 * - `LOST`: the session timeout elapsed while disconnected, or the session expired;
 * - `EXPIRED`: the server reported the session expired (terminal);
 * - `READ_ONLY`: connected to a read-only server (only with `canBeReadOnly`);
 * - `CLOSED`: `close()` finished (terminal);
 * - `AUTH_FAILED`: the server rejected an auth packet (terminal).
 */
export type ConnectionState = 'CONNECTED' | 'SUSPENDED' | 'RECONNECTED' | 'LOST' | 'EXPIRED' | 'READ_ONLY' | 'CLOSED' | 'AUTH_FAILED';

/** The session machine's state, as `client.state` reports it. */
export type SessionState = 'CONNECTING' | 'CONNECTED' | 'DISCONNECTED' | 'CLOSING' | 'CLOSED' | 'EXPIRED' | 'AUTH_FAILED';

/** Options accepted by every client method. */
export interface CallOptions {
  /** Abort the wait: the promise rejects with an `AbortError`; a reply that still comes is dropped. */
  signal?: AbortSignal;
}

/** Data accepted by create/setData: bytes, or a string (UTF-8). */
export type Data = Uint8Array | string | null;

/** `getData` result. */
export interface DataResult {
  /** The node's bytes (null if it was created with null data). */
  data: Buffer | null;
  stat: Stat;
}

/** `getACL` result. */
export interface ACLResult {
  acl: ACL[];
  stat: Stat;
}

/** `create` result when `stat: true` was asked for. */
export interface CreateResult {
  path: string;
  stat: Stat;
}

/** `getChildren` result when `stat: true` was asked for. */
export interface ChildrenResult {
  children: string[];
  stat: Stat;
}

/** One identity of the connection, as `whoAmI` reports it. */
export interface ClientInfo {
  authScheme: string;
  user: string;
}
