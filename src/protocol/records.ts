/**
 * The records of ZooKeeper 3.8's client protocol (`zookeeper.jute`, reference §3) as
 * TypeScript types. Requests form a discriminated union on `type` (the opcode of the
 * RequestHeader), so a server can `switch (request.type)`; responses are plain records,
 * since the caller always knows which request it sent.
 *
 * Representation: jute `long` zxids and times are `number` (see `zxid.ts`), session ids
 * and `ephemeralOwner` are `bigint`; jute `buffer` is `Uint8Array | null` (null is a
 * distinct value on the wire, §1).
 */
import type { OpCode } from './constants.js';
import type { Zxid } from './zxid.js';

/** A session id: 64 bits, server id in the high byte. */
export type SessionId = bigint;

/** An identity: scheme plus id, e.g. `world:anyone`, `digest:user:hash`, `ip:10.0.0.1`. */
export interface Id {
  scheme: string;
  id: string;
}

/** One ACL entry. */
export interface ACL {
  perms: number;
  id: Id;
}

/** A znode's metadata as clients see it (68 bytes on the wire). */
export interface Stat {
  czxid: Zxid;
  mzxid: Zxid;
  ctime: number;
  mtime: number;
  version: number;
  /** Reported cversion: `2 × creates − numChildren` (§10.3). */
  cversion: number;
  aversion: number;
  /** Owning session of an ephemeral; 0 otherwise (containers and TTL nodes report 0). */
  ephemeralOwner: SessionId;
  dataLength: number;
  numChildren: number;
  pzxid: Zxid;
}

// ---------------------------------------------------------------- handshake and headers

/** The first frame from a client (§4.1). */
export interface ConnectRequest {
  protocolVersion: number;
  lastZxidSeen: Zxid;
  timeOut: number;
  sessionId: SessionId;
  passwd: Uint8Array;
  /** The optional trailing byte; `undefined` when the client did not send it. */
  readOnly: boolean | undefined;
}

/** The first frame from the server (§4.3). */
export interface ConnectResponse {
  protocolVersion: number;
  timeOut: number;
  sessionId: SessionId;
  passwd: Uint8Array;
  /** Written only if the client sent the trailing byte. */
  readOnly: boolean | undefined;
}

/** Precedes every request after the handshake. */
export interface RequestHeader {
  xid: number;
  type: number;
}

/** Precedes every reply after the handshake. */
export interface ReplyHeader {
  xid: number;
  zxid: Zxid;
  err: number;
}

/** A watch notification (sent with xid -1). */
export interface WatcherEvent {
  type: number;
  state: number;
  path: string;
}

// ---------------------------------------------------------------- requests

/** create (1), create2 (15), createContainer (19), createTTL (21). */
export interface CreateRequest {
  type: typeof OpCode.create | typeof OpCode.create2 | typeof OpCode.createContainer | typeof OpCode.createTTL;
  path: string;
  data: Uint8Array | null;
  acl: ACL[];
  flags: number;
  /** Only for createTTL; milliseconds. */
  ttl?: number;
}

/** delete (2). */
export interface DeleteRequest {
  type: typeof OpCode.delete;
  path: string;
  version: number;
}

/** setData (5). */
export interface SetDataRequest {
  type: typeof OpCode.setData;
  path: string;
  data: Uint8Array | null;
  version: number;
}

/** setACL (7). */
export interface SetACLRequest {
  type: typeof OpCode.setACL;
  path: string;
  acl: ACL[];
  version: number;
}

/** check (13), only inside multi. */
export interface CheckVersionRequest {
  type: typeof OpCode.check;
  path: string;
  version: number;
}

/** An op allowed inside multi (14). */
export type MultiWriteOp = CreateRequest | DeleteRequest | SetDataRequest | CheckVersionRequest;

/** multi (14). */
export interface MultiRequest {
  type: typeof OpCode.multi;
  ops: MultiWriteOp[];
}

/** exists (3), getData (4), getChildren (8), getChildren2 (12). */
export interface PathWatchRequest {
  type: typeof OpCode.exists | typeof OpCode.getData | typeof OpCode.getChildren | typeof OpCode.getChildren2;
  path: string;
  watch: boolean;
}

/** An op allowed inside multiRead (22). */
export interface MultiReadOp {
  type: typeof OpCode.getData | typeof OpCode.getChildren;
  path: string;
}

/** multiRead (22). */
export interface MultiReadRequest {
  type: typeof OpCode.multiRead;
  ops: MultiReadOp[];
}

/** getACL (6), sync (9), getAllChildrenNumber (104). */
export interface PathRequest {
  type: typeof OpCode.getACL | typeof OpCode.sync | typeof OpCode.getAllChildrenNumber;
  path: string;
}

/** getEphemerals (103). */
export interface GetEphemeralsRequest {
  type: typeof OpCode.getEphemerals;
  prefixPath: string;
}

/** checkWatches (17), removeWatches (18). */
export interface WatchesRequest {
  type: typeof OpCode.checkWatches | typeof OpCode.removeWatches;
  path: string;
  watcherType: number;
}

/** addWatch (106). */
export interface AddWatchRequest {
  type: typeof OpCode.addWatch;
  path: string;
  mode: number;
}

/** setWatches (101) and setWatches2 (105); the last two lists are empty for 101. */
export interface SetWatchesRequest {
  type: typeof OpCode.setWatches | typeof OpCode.setWatches2;
  relativeZxid: Zxid;
  dataWatches: string[];
  existWatches: string[];
  childWatches: string[];
  persistentWatches: string[];
  persistentRecursiveWatches: string[];
}

/** auth (100). */
export interface AuthRequest {
  type: typeof OpCode.auth;
  authType: number;
  scheme: string;
  auth: Uint8Array | null;
}

/** reconfig (16); zoostate answers ReconfigDisabled. */
export interface ReconfigRequest {
  type: typeof OpCode.reconfig;
  joiningServers: string | null;
  leavingServers: string | null;
  newMembers: string | null;
  curConfigId: bigint;
}

/** sasl (102). */
export interface SaslRequest {
  type: typeof OpCode.sasl;
  token: Uint8Array | null;
}

/** Requests with no body: ping (11), closeSession (-11), whoAmI (107). */
export interface EmptyRequest {
  type: typeof OpCode.ping | typeof OpCode.closeSession | typeof OpCode.whoAmI;
}

/** Every request a client can send after the handshake. */
export type ClientRequest =
  | CreateRequest
  | DeleteRequest
  | SetDataRequest
  | SetACLRequest
  | CheckVersionRequest
  | MultiRequest
  | PathWatchRequest
  | MultiReadRequest
  | PathRequest
  | GetEphemeralsRequest
  | WatchesRequest
  | AddWatchRequest
  | SetWatchesRequest
  | AuthRequest
  | ReconfigRequest
  | SaslRequest
  | EmptyRequest;

/** The requests that go through consensus (they consume a zxid, even when they fail). */
export type WriteRequest = CreateRequest | DeleteRequest | SetDataRequest | SetACLRequest | CheckVersionRequest | MultiRequest;

// ---------------------------------------------------------------- responses

/** create (1). */
export interface CreateResponse {
  path: string;
}
/** create2, createContainer, createTTL. */
export interface Create2Response {
  path: string;
  stat: Stat;
}
/** exists, setData, setACL. */
export interface StatResponse {
  stat: Stat;
}
/** getData. */
export interface GetDataResponse {
  data: Uint8Array | null;
  stat: Stat;
}
/** getACL. */
export interface GetACLResponse {
  acl: ACL[];
  stat: Stat;
}
/** getChildren. */
export interface GetChildrenResponse {
  children: string[];
}
/** getChildren2. */
export interface GetChildren2Response {
  children: string[];
  stat: Stat;
}
/** getAllChildrenNumber. */
export interface GetAllChildrenNumberResponse {
  totalNumber: number;
}
/** getEphemerals. */
export interface GetEphemeralsResponse {
  ephemerals: string[];
}
/** sync. */
export interface SyncResponse {
  path: string;
}
/** whoAmI: one entry per auth id of the connection. */
export interface WhoAmIResponse {
  clientInfo: { authScheme: string; user: string }[];
}
/** `ErrorResponse`: the addWatch reply body (always `{ err: 0 }`, 4 zero bytes) and the body of a multi error result. */
export interface ErrorResponse {
  err: number;
}
/** sasl. */
export interface SaslResponse {
  token: Uint8Array | null;
}

/** One result of a multi or multiRead (§12.1). */
export type OpResult =
  | { type: typeof OpCode.create; path: string }
  | { type: typeof OpCode.create2; path: string; stat: Stat }
  | { type: typeof OpCode.delete }
  | { type: typeof OpCode.setData; stat: Stat }
  | { type: typeof OpCode.check }
  | { type: typeof OpCode.getData; data: Uint8Array | null; stat: Stat }
  | { type: typeof OpCode.getChildren; children: string[] }
  | { type: typeof OpCode.error; err: number };

/** multi and multiRead. */
export interface MultiResponse {
  results: OpResult[];
}
