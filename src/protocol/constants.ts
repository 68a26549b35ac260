/**
 * ZooKeeper 3.8 protocol constants (`ZooDefs.java`, `Watcher.java`, `CreateMode.java`).
 * Each is a frozen object plus a type of its values, so `OpCode.create` is both a
 * runtime number and a literal type usable as a discriminant.
 */

/** Request and transaction types (`ZooDefs.OpCode`). */
export const OpCode = {
  notification: 0,
  create: 1,
  delete: 2,
  exists: 3,
  getData: 4,
  setData: 5,
  getACL: 6,
  setACL: 7,
  getChildren: 8,
  sync: 9,
  ping: 11,
  getChildren2: 12,
  check: 13,
  multi: 14,
  create2: 15,
  reconfig: 16,
  checkWatches: 17,
  removeWatches: 18,
  createContainer: 19,
  deleteContainer: 20,
  createTTL: 21,
  multiRead: 22,
  auth: 100,
  setWatches: 101,
  sasl: 102,
  getEphemerals: 103,
  getAllChildrenNumber: 104,
  setWatches2: 105,
  addWatch: 106,
  whoAmI: 107,
  createSession: -10,
  closeSession: -11,
  error: -1,
} as const;
/** A ZooKeeper opcode. */
export type OpCode = (typeof OpCode)[keyof typeof OpCode];

/** Watch event types (`Watcher.Event.EventType`). */
export const EventType = {
  None: -1,
  NodeCreated: 1,
  NodeDeleted: 2,
  NodeDataChanged: 3,
  NodeChildrenChanged: 4,
  DataWatchRemoved: 5,
  ChildWatchRemoved: 6,
  PersistentWatchRemoved: 7,
} as const;
/** A watch event type. */
export type EventType = (typeof EventType)[keyof typeof EventType];

/** Connection states carried by watch events (`Watcher.Event.KeeperState`). */
export const KeeperState = {
  Unknown: -1,
  Disconnected: 0,
  NoSyncConnected: 1,
  SyncConnected: 3,
  AuthFailed: 4,
  ConnectedReadOnly: 5,
  SaslAuthenticated: 6,
  Expired: -112,
  Closed: 7,
} as const;
/** A keeper state. */
export type KeeperState = (typeof KeeperState)[keyof typeof KeeperState];

/** Create flags as sent on the wire (`CreateMode`). */
export const CreateMode = {
  PERSISTENT: 0,
  EPHEMERAL: 1,
  PERSISTENT_SEQUENTIAL: 2,
  EPHEMERAL_SEQUENTIAL: 3,
  CONTAINER: 4,
  PERSISTENT_WITH_TTL: 5,
  PERSISTENT_SEQUENTIAL_WITH_TTL: 6,
} as const;
/** A create mode flag value. */
export type CreateMode = (typeof CreateMode)[keyof typeof CreateMode];

/** True for the modes that append a `%010d` sequence suffix. */
export function isSequentialMode(mode: number): boolean {
  return (
    mode === CreateMode.PERSISTENT_SEQUENTIAL ||
    mode === CreateMode.EPHEMERAL_SEQUENTIAL ||
    mode === CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL
  );
}

/** True for the modes that need a TTL (`createTTL`, opcode 21). */
export function isTtlMode(mode: number): boolean {
  return mode === CreateMode.PERSISTENT_WITH_TTL || mode === CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL;
}

/** True for the modes owned by a session. */
export function isEphemeralMode(mode: number): boolean {
  return mode === CreateMode.EPHEMERAL || mode === CreateMode.EPHEMERAL_SEQUENTIAL;
}

/** ACL permission bits (`ZooDefs.Perms`). */
export const Perms = {
  READ: 1,
  WRITE: 2,
  CREATE: 4,
  DELETE: 8,
  ADMIN: 16,
  ALL: 31,
} as const;
/** A permission bit or mask. */
export type Perms = number;

/** Which table a checkWatches/removeWatches request addresses (`Watcher.WatcherType`). */
export const WatcherType = {
  Children: 1,
  Data: 2,
  Any: 3,
} as const;
/** A watcher type. */
export type WatcherType = (typeof WatcherType)[keyof typeof WatcherType];

/** Modes of addWatch (`AddWatchMode`). */
export const AddWatchMode = {
  PERSISTENT: 0,
  PERSISTENT_RECURSIVE: 1,
} as const;
/** An addWatch mode. */
export type AddWatchMode = (typeof AddWatchMode)[keyof typeof AddWatchMode];

/** A peer's role as carried in election notifications (`QuorumPeer.ServerState`). */
export const ServerState = {
  LOOKING: 0,
  FOLLOWING: 1,
  LEADING: 2,
  OBSERVING: 3,
} as const;
/** A server state. */
export type ServerState = (typeof ServerState)[keyof typeof ServerState];

/** Special xids of the client protocol (§5.3). */
export const Xid = {
  notification: -1,
  ping: -2,
  auth: -4,
  setWatches: -8,
} as const;

/** Default `jute.maxbuffer`: the largest frame or field length accepted (§1, §2). */
export const DEFAULT_MAX_BUFFER = 0xfffff;

/** `ephemeralOwner` marker of a container node (`EphemeralType.CONTAINER_EPHEMERAL_OWNER`). */
export const CONTAINER_EPHEMERAL_OWNER = -0x8000000000000000n;

/** High byte of `ephemeralOwner` that marks a TTL node; the low 56 bits hold the TTL (§10.6). */
export const TTL_EPHEMERAL_OWNER_MARK = -0x0100000000000000n; // 0xFF00000000000000 as a signed long

/** Largest TTL accepted: 2^40 − 1 ms. */
export const MAX_TTL = 2 ** 40 - 1;
