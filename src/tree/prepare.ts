/**
 * The prepare step (ZooKeeper's `PrepRequestProcessor`): turns a write request into a
 * fully determined transaction, validating it against the tree PLUS the changes of
 * requests prepared but not yet applied ("outstanding"), with ZooKeeper's exact check
 * order (§11). A failed write still becomes a transaction (an error txn) that consumes
 * its zxid (§11.6). Runs on the leader only; followers just apply.
 */
import { CONTAINER_EPHEMERAL_OWNER, OpCode, Perms, isEphemeralMode, isSequentialMode } from '../protocol/constants.js';
import { ErrorCode, ZooKeeperError } from '../protocol/errors.js';
import type { ACL, CreateRequest, Id, MultiWriteOp, SessionId, WriteRequest } from '../protocol/records.js';
import type { CloseSessionTxn, CreateTxn, MultiTxn, MultiTxnOp, Txn, TxnBody, TxnHeader } from '../protocol/txn.js';
import type { Zxid } from '../protocol/zxid.js';
import { invariant } from '../runtime/assert.js';
import { checkACL, fixupACL } from './acl.js';
import type { DataTree, NodeInfo } from './data-tree.js';
import { SYSTEM_PATHS } from './data-tree.js';
import { NodeKind, isValidTtl, nodeKindOf, ttlOwner } from './ephemeral.js';
import { validatePath } from './path.js';

/** A new session; its id is the header's sessionId. */
export interface CreateSessionRequest {
  type: typeof OpCode.createSession;
  /** Negotiated session timeout, ms. */
  timeout: number;
}

/** The end of the header's session (explicit close or expiry). */
export interface CloseSessionRequest {
  type: typeof OpCode.closeSession;
}

/** The container/TTL reaper's delete (opcode 20), issued with session 0. */
export interface DeleteContainerRequest {
  type: typeof OpCode.deleteContainer;
  path: string;
}

/** Everything `prepare` accepts. */
export type PrepareRequest = WriteRequest | CreateSessionRequest | CloseSessionRequest | DeleteContainerRequest;

/** Options of a {@link RequestPreparer}. */
export interface RequestPreparerOptions {
  /** `zookeeper.extendedTypesEnabled`: allow TTL nodes. Default false (TTL → Unimplemented). */
  extendedTypesEnabled?: boolean;
  /**
   * The session check each write op runs at its place in §11's order (step 3 of create,
   * step 1 of the others): return 0 to pass or an error code (e.g. SessionExpired for a
   * closing session). Default: every session passes (the server's tracker decides).
   */
  checkSession?: (sessionId: SessionId) => number;
}

/** An outstanding change: a node's state as prepared requests will leave it. */
interface ChangeRecord extends NodeInfo {
  readonly zxid: Zxid;
  readonly path: string;
  /** False for a node an outstanding delete removes. */
  readonly exists: boolean;
  /** Position in recording order; the record is outstanding while pos ≥ `liveFrom`. */
  readonly pos: number;
}

/** A validation failure inside prepare; thrown without an Error's stack-capture cost. */
class PrepFailure {
  constructor(readonly code: number) {}
}

function fail(code: number): never {
  throw new PrepFailure(code);
}

/** The error code a failure carries; anything else is a bug and propagates. */
function codeOf(e: unknown): number {
  if (e instanceof PrepFailure) return e.code;
  if (e instanceof ZooKeeperError) return e.code;
  throw e;
}

/**
 * Java's `String.format("%010d", n)`: zero-padded to 10 characters including the sign,
 * so a negative counter (after 2^31 creates) reads `-000000001`.
 */
export function formatSequence(n: number): string {
  return n < 0 ? '-' + String(-n).padStart(9, '0') : String(n).padStart(10, '0');
}

const NO_ACL: readonly ACL[] = Object.freeze([]);

function parentPathOf(path: string, lastSlash: number): string {
  return lastSlash === 0 ? '/' : path.slice(0, lastSlash);
}

/**
 * Prepares transactions for one tree (on the leader). Keeps the outstanding changes of
 * prepared requests until the tree applies them: each `prepare` first drops every change
 * with zxid ≤ `tree.lastProcessedZxid` (or call {@link applied}); {@link reset} drops
 * them all (leadership lost, proposals abandoned).
 */
export class RequestPreparer {
  private readonly extendedTypesEnabled: boolean;
  private readonly sessionCheck: ((sessionId: SessionId) => number) | undefined;
  // Outstanding records in zxid order: queue[head..tail). Indexes move instead of the
  // array's length, so a queue that drains after every request allocates nothing.
  private queue: (ChangeRecord | undefined)[] = [];
  private head = 0;
  private tail = 0;
  // The newest record per path. An applied record is not deleted from the map at once
  // (a hot path's next record just replaces it, with no Map churn): it is stale once
  // its pos < liveFrom, and stale entries are dropped in bulk when they outnumber the
  // outstanding records, so applied records still die young. Dropping builds a new Map
  // rather than calling delete/clear: V8 reallocates a Map's table in the generation of
  // the old one, so shrinking or clearing a long-lived map makes old-space garbage,
  // which measurably raised GC work; a fresh map's tables start young.
  private byPath = new Map<string, ChangeRecord>();
  private nextPos = 0;
  private liveFrom = 0;
  // Set while preparing a multi: (path, previous record) pairs to restore on failure.
  private undo: [string, ChangeRecord | undefined][] | null = null;

  constructor(
    private readonly tree: DataTree,
    options: RequestPreparerOptions = {},
  ) {
    this.extendedTypesEnabled = options.extendedTypesEnabled ?? false;
    this.sessionCheck = options.checkSession;
  }

  /** Number of outstanding change records (for tests and metrics). */
  get outstandingCount(): number {
    return this.tail - this.head;
  }

  /**
   * The transaction for `request` under `header` (zxid and time already assigned by the
   * leader). Failures become error txns: `{kind: 'error', err}` for a single write, a
   * multi of error ops for a multi (§12.2: 0 before the failing op, its code, -2 after).
   * `authIds` are the connection's ids for ACL checks and `auth` ACL expansion.
   *
   * @throws InvariantError if `header.zxid` is not above `tree.lastProcessedZxid`
   *   (a caller bug); nothing else for well-typed requests.
   */
  prepare(header: TxnHeader, request: PrepareRequest, authIds: readonly Id[] = []): Txn {
    if (header.zxid <= this.tree.lastProcessedZxid) {
      invariant(false, `prepare zxid ${header.zxid} is not above the applied ${this.tree.lastProcessedZxid}`);
    }
    this.applied(this.tree.lastProcessedZxid);
    let body: TxnBody;
    switch (request.type) {
      case OpCode.multi:
        body = this.prepareMulti(header, request.ops, authIds);
        break;
      case OpCode.createSession:
        body = { kind: 'createSession', timeout: request.timeout };
        break;
      case OpCode.closeSession:
        body = this.prepareCloseSession(header);
        break;
      default:
        try {
          body = this.prepareOp(header, request, authIds);
        } catch (e) {
          body = { kind: 'error', err: codeOf(e) };
        }
    }
    return { header, body };
  }

  /** Forget outstanding changes with zxid ≤ `zxid` (the tree has applied them). */
  applied(zxid: Zxid): void {
    const queue = this.queue;
    const tail = this.tail;
    let head = this.head;
    if (head === tail || queue[head]!.zxid > zxid) return;
    do {
      queue[head] = undefined;
      head++;
    } while (head < tail && queue[head]!.zxid <= zxid);
    const byPath = this.byPath;
    if (head === tail) {
      this.head = 0;
      this.tail = 0;
      this.liveFrom = this.nextPos;
      if (queue.length > 65536) this.queue = []; // release a burst's backing store
      if (byPath.size > 64) this.byPath = new Map();
      return;
    }
    this.liveFrom = queue[head]!.pos;
    if (head > 1024 && head * 2 > tail) {
      queue.copyWithin(0, head, tail);
      queue.fill(undefined, tail - head, tail);
      this.head = 0;
      this.tail = tail - head;
    } else {
      this.head = head;
    }
    if (byPath.size > 2 * (this.tail - this.head) + 64) this.dropStale();
  }

  /** Keep only the outstanding entries of `byPath` (see its comment). */
  private dropStale(): void {
    const live = new Map<string, ChangeRecord>();
    const liveFrom = this.liveFrom;
    this.byPath.forEach((record, path) => {
      if (record.pos >= liveFrom) live.set(path, record);
    });
    this.byPath = live;
  }

  /** Forget every outstanding change (the prepared transactions will never be applied). */
  reset(): void {
    this.queue = [];
    this.head = 0;
    this.tail = 0;
    this.liveFrom = this.nextPos;
    this.byPath = new Map();
  }

  // ------------------------------------------------------------------ state

  /** The outstanding record of a path, if any. */
  private outstanding(path: string): ChangeRecord | undefined {
    const change = this.byPath.get(path);
    return change !== undefined && change.pos >= this.liveFrom ? change : undefined;
  }

  /** The node as outstanding changes leave it, or undefined if it does not exist. */
  private record(path: string): NodeInfo | undefined {
    const change = this.outstanding(path);
    if (change !== undefined) return change.exists ? change : undefined;
    return this.tree.peek(path);
  }

  /** True if the node exists once outstanding changes apply (no allocation). */
  private exists(path: string): boolean {
    const change = this.outstanding(path);
    return change !== undefined ? change.exists : this.tree.exists(path);
  }

  /** Record a node's state as of `zxid` (every record is built here: one object shape). */
  private addChange(
    path: string,
    zxid: Zxid,
    exists: boolean,
    version: number,
    cversion: number,
    aversion: number,
    ephemeralOwner: bigint,
    numChildren: number,
    acl: readonly ACL[],
  ): void {
    const record: ChangeRecord = { zxid, path, exists, version, cversion, aversion, ephemeralOwner, numChildren, acl, pos: this.nextPos++ };
    if (this.undo !== null) this.undo.push([path, this.byPath.get(path)]);
    this.queue[this.tail++] = record;
    this.byPath.set(path, record);
  }

  /** Record `base` with new versions, child count and ACL (its owner stays). */
  private change(
    path: string,
    zxid: Zxid,
    base: NodeInfo,
    version: number,
    cversion: number,
    aversion: number,
    numChildren: number,
    acl: readonly ACL[],
  ): void {
    this.addChange(path, zxid, true, version, cversion, aversion, base.ephemeralOwner, numChildren, acl);
  }

  /** Record a parent with one child less. */
  private childGone(path: string, zxid: Zxid, parent: NodeInfo): void {
    this.change(path, zxid, parent, parent.version, parent.cversion, parent.aversion, parent.numChildren - 1, parent.acl);
  }

  private removal(path: string, zxid: Zxid): void {
    this.addChange(path, zxid, false, -1, 0, 0, 0n, 0, NO_ACL);
  }

  private checkPerm(acl: readonly ACL[], perm: number, authIds: readonly Id[]): void {
    if (!this.tree.skipACL && !checkACL(acl, perm, authIds)) fail(ErrorCode.NoAuth);
  }

  private checkSession(sessionId: SessionId): void {
    if (this.sessionCheck === undefined) return;
    const code = this.sessionCheck(sessionId);
    if (code !== 0) fail(code);
  }

  // ------------------------------------------------------------------ ops

  private prepareOp(header: TxnHeader, op: PrepareRequest | MultiWriteOp, authIds: readonly Id[]): MultiTxnOp {
    switch (op.type) {
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createContainer:
      case OpCode.createTTL:
        return this.prepareCreate(header, op, authIds);
      case OpCode.delete:
        return this.prepareDelete(header, op.path, op.version, authIds);
      case OpCode.deleteContainer:
        return this.prepareDeleteContainer(header, op.path);
      case OpCode.setData: {
        this.checkSession(header.sessionId);
        const path = op.path;
        const node = this.record(path) ?? missing(path);
        this.checkPerm(node.acl, Perms.WRITE, authIds);
        const version = nextVersion(node.version, op.version);
        this.change(path, header.zxid, node, version, node.cversion, node.aversion, node.numChildren, node.acl);
        return { kind: 'setData', path, data: op.data ?? null, version };
      }
      case OpCode.setACL: {
        this.checkSession(header.sessionId);
        const path = op.path;
        const found = this.record(path);
        if (found === undefined) validatePath(path); // (an existing node's path is valid)
        const acl = fixupACL(op.acl ?? [], authIds, path);
        const node = found ?? fail(ErrorCode.NoNode);
        this.checkPerm(node.acl, Perms.ADMIN, authIds);
        const version = nextVersion(node.aversion, op.version);
        this.change(path, header.zxid, node, node.version, node.cversion, version, node.numChildren, acl);
        return { kind: 'setACL', path, acl, version };
      }
      case OpCode.check: {
        this.checkSession(header.sessionId);
        const path = op.path;
        const node = this.record(path) ?? missing(path);
        this.checkPerm(node.acl, Perms.READ, authIds);
        // As ZooKeeper's CheckVersionTxn: the version a write would have produced.
        return { kind: 'check', path, version: nextVersion(node.version, op.version) };
      }
      default:
        return fail(ErrorCode.Unimplemented);
    }
  }

  /** §11.1, in order. */
  private prepareCreate(header: TxnHeader, op: CreateRequest, authIds: readonly Id[]): CreateTxn {
    const flags = op.flags;
    if (!Number.isInteger(flags) || flags < 0 || flags > 6) fail(ErrorCode.BadArguments);
    const ttlMode = flags === 5 || flags === 6;
    const ttl = op.type === OpCode.createTTL ? (op.ttl ?? -1) : -1;
    if (ttlMode && !this.extendedTypesEnabled) fail(ErrorCode.Unimplemented);
    if (ttlMode ? !isValidTtl(ttl) : op.type === OpCode.createTTL || ttl >= 0) fail(ErrorCode.BadArguments);
    this.checkSession(header.sessionId);

    const path = op.path;
    if (typeof path !== 'string') fail(ErrorCode.BadArguments);
    const lastSlash = path.lastIndexOf('/');
    if (lastSlash < 0 || path.indexOf('\0') >= 0) fail(ErrorCode.BadArguments);
    const acl = fixupACL(op.acl ?? [], authIds, path);
    const parentPath = parentPathOf(path, lastSlash);
    const parent = this.record(parentPath) ?? fail(ErrorCode.NoNode);
    this.checkPerm(parent.acl, Perms.CREATE, authIds);
    const finalPath = isSequentialMode(flags) ? path + formatSequence(parent.cversion) : path;
    validatePath(finalPath);
    if (this.exists(finalPath)) fail(ErrorCode.NodeExists);
    if (parent.ephemeralOwner !== 0n && nodeKindOf(parent.ephemeralOwner) === NodeKind.EPHEMERAL) {
      fail(ErrorCode.NoChildrenForEphemerals);
    }

    // What the applied txn will store (opcode decides container/TTL, flags decide ephemeral).
    const ephemeralOwner =
      op.type === OpCode.createContainer
        ? CONTAINER_EPHEMERAL_OWNER
        : op.type === OpCode.createTTL
          ? ttlOwner(ttl)
          : isEphemeralMode(flags)
            ? header.sessionId
            : 0n;
    const parentCVersion = (parent.cversion + 1) | 0;
    const zxid = header.zxid;
    this.change(parentPath, zxid, parent, parent.version, parentCVersion, parent.aversion, parent.numChildren + 1, parent.acl);
    this.addChange(finalPath, zxid, true, 0, 0, 0, ephemeralOwner, 0, acl);
    return { kind: 'create', path: finalPath, data: op.data ?? null, acl, ephemeralOwner, parentCVersion };
  }

  /** §11.2, in order. */
  private prepareDelete(header: TxnHeader, path: string, version: number, authIds: readonly Id[]): MultiTxnOp {
    this.checkSession(header.sessionId);
    const parentPath = deletableParent(path);
    const parent = this.record(parentPath) ?? fail(ErrorCode.NoNode);
    this.checkPerm(parent.acl, Perms.DELETE, authIds);
    const node = this.record(path) ?? fail(ErrorCode.NoNode);
    nextVersion(node.version, version);
    if (node.numChildren > 0) fail(ErrorCode.NotEmpty);
    this.childGone(parentPath, header.zxid, parent);
    this.removal(path, header.zxid);
    return { kind: 'delete', path };
  }

  /** The reaper's delete: no session or ACL check; NotEmpty, then BadVersion for a normal ephemeral. */
  private prepareDeleteContainer(header: TxnHeader, path: string): MultiTxnOp {
    const parentPath = deletableParent(path);
    const node = this.record(path) ?? fail(ErrorCode.NoNode);
    if (node.numChildren > 0) fail(ErrorCode.NotEmpty);
    if (node.ephemeralOwner !== 0n && nodeKindOf(node.ephemeralOwner) === NodeKind.EPHEMERAL) fail(ErrorCode.BadVersion);
    const parent = this.record(parentPath) ?? fail(ErrorCode.NoNode);
    this.childGone(parentPath, header.zxid, parent);
    this.removal(path, header.zxid);
    return { kind: 'delete', path };
  }

  /** §12.2: ops validated in order against outstanding state; all or nothing. */
  private prepareMulti(header: TxnHeader, ops: readonly MultiWriteOp[], authIds: readonly Id[]): MultiTxn {
    const mark = this.tail;
    const undo: [string, ChangeRecord | undefined][] = [];
    this.undo = undo;
    const out: MultiTxnOp[] = [];
    let failedAt = -1;
    let failCode = 0;
    try {
      for (let i = 0; i < ops.length; i++) {
        try {
          out.push(this.prepareOp(header, ops[i]!, authIds));
        } catch (e) {
          failCode = codeOf(e);
          failedAt = i;
          break;
        }
      }
    } finally {
      this.undo = null;
    }
    if (failedAt < 0) return { kind: 'multi', ops: out };

    // Roll back this multi's change records, newest first.
    this.queue.fill(undefined, mark, this.tail);
    this.tail = mark;
    for (let i = undo.length - 1; i >= 0; i--) {
      const [path, previous] = undo[i]!;
      if (previous === undefined) this.byPath.delete(path);
      else this.byPath.set(path, previous);
    }
    const errors: MultiTxnOp[] = [];
    for (let i = 0; i < ops.length; i++) {
      const err = i < failedAt ? ErrorCode.OK : i === failedAt ? failCode : ErrorCode.RuntimeInconsistency;
      errors.push({ kind: 'error', err });
    }
    return { kind: 'multi', ops: errors };
  }

  /** The session's ephemerals, in the tree and outstanding, each deleted under one zxid. */
  private prepareCloseSession(header: TxnHeader): CloseSessionTxn {
    const sessionId = header.sessionId;
    const paths = new Set(this.tree.ephemeralsOf(sessionId));
    for (let i = this.head; i < this.tail; i++) {
      const record = this.queue[i]!;
      if (!record.exists) paths.delete(record.path);
      else if (record.ephemeralOwner === sessionId) paths.add(record.path);
    }
    const sorted = [...paths].sort();
    for (const path of sorted) {
      const parentPath = parentPathOf(path, path.lastIndexOf('/'));
      const parent = this.record(parentPath);
      if (parent !== undefined) this.childGone(parentPath, header.zxid, parent);
      this.removal(path, header.zxid);
    }
    return { kind: 'closeSession', paths: sorted };
  }
}

/**
 * The failure for a node that does not exist: BadArguments for an invalid path, else
 * NoNode. Looking a node up before validating its path is safe because every node's
 * path (in the tree or outstanding) was validated when it was created, and the lookup
 * has no effect; it spares the common case (the node exists) the validation scan.
 */
function missing(path: string): never {
  validatePath(path);
  return fail(ErrorCode.NoNode);
}

/** `checkAndIncVersion`: -1 matches anything; returns the incremented (int-wrapped) version. */
function nextVersion(current: number, expected: number): number {
  if (expected !== -1 && expected !== current) fail(ErrorCode.BadVersion);
  return (current + 1) | 0;
}

/** `getParentPathAndValidate`: BadArguments for no `/`, NUL, or a system path. */
function deletableParent(path: string): string {
  if (typeof path !== 'string') fail(ErrorCode.BadArguments);
  const lastSlash = path.lastIndexOf('/');
  if (lastSlash < 0 || path.indexOf('\0') >= 0 || SYSTEM_PATHS.has(path)) fail(ErrorCode.BadArguments);
  return parentPathOf(path, lastSlash);
}
