/**
 * Transactions: what the leader proposes, every replica logs and applies (reference
 * §3.4). A transaction is fully determined: applying it needs nothing but the tree it is
 * applied to, so every replica reaches the same state. The leader's *prepare* step
 * (validation against the tree plus outstanding changes) turns a client request into a
 * transaction; a failed request becomes an `error` transaction that still consumes its
 * zxid (§11.6).
 */
import type { ACL, SessionId } from './records.js';
import type { Zxid } from './zxid.js';

/** Who caused a transaction, when, and its place in the total order. */
export interface TxnHeader {
  /** The client session (0n for server-internal transactions such as container reaping). */
  sessionId: SessionId;
  /** The client's xid, so the server holding the connection can match the reply. */
  cxid: number;
  zxid: Zxid;
  /** The leader's clock when the request was prepared, in ms; becomes ctime/mtime. */
  time: number;
}

/** Create a node. `ephemeralOwner` is the raw stored value (session id, container or TTL marker, or 0n). */
export interface CreateTxn {
  kind: 'create';
  path: string;
  data: Uint8Array | null;
  acl: ACL[];
  ephemeralOwner: bigint;
  /** The parent's stored cversion after this create (ZooKeeper's `parentCVersion`). */
  parentCVersion: number;
}

/** Delete a node (also used by the container/TTL reaper). */
export interface DeleteTxn {
  kind: 'delete';
  path: string;
}

/** Replace a node's data. */
export interface SetDataTxn {
  kind: 'setData';
  path: string;
  data: Uint8Array | null;
  /** The new version. */
  version: number;
}

/** Replace a node's ACL. */
export interface SetACLTxn {
  kind: 'setACL';
  path: string;
  acl: ACL[];
  /** The new aversion. */
  version: number;
}

/** A successful version check inside a multi; changes nothing. */
export interface CheckTxn {
  kind: 'check';
  path: string;
  version: number;
}

/** A failed write: changes nothing but still consumes its zxid. */
export interface ErrorTxn {
  kind: 'error';
  err: number;
}

/** An op inside a multi transaction. */
export type MultiTxnOp = CreateTxn | DeleteTxn | SetDataTxn | SetACLTxn | CheckTxn | ErrorTxn;

/** All-or-nothing: either every op is a real change, or every op is an `error` (§12.2). */
export interface MultiTxn {
  kind: 'multi';
  ops: MultiTxnOp[];
}

/** A new session (its id is `header.sessionId`). */
export interface CreateSessionTxn {
  kind: 'createSession';
  timeout: number;
}

/** The end of a session: deletes `paths` (its ephemerals) under one zxid. */
export interface CloseSessionTxn {
  kind: 'closeSession';
  paths: string[];
}

/**
 * A dynamic reconfiguration (ZooKeeper's reconfig txn, a SetDataTxn of
 * `/zookeeper/config`): `data` is the new configuration's text, whose `version=` is this
 * transaction's zxid. Applied as a setData of `/zookeeper/config` with version -1; every
 * server activates the new membership once it applies it (src/machines/reconfig.ts).
 */
export interface ReconfigTxn {
  kind: 'reconfig';
  data: Uint8Array;
}

/** What a transaction does. */
export type TxnBody = MultiTxnOp | MultiTxn | CreateSessionTxn | CloseSessionTxn | ReconfigTxn;

/** A transaction: header plus body. */
export interface Txn {
  header: TxnHeader;
  body: TxnBody;
}
