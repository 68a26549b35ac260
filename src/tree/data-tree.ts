/**
 * The znode tree (ZooKeeper's `DataTree`): a pure, deterministic state machine. `apply`
 * is its only mutator; times and zxids come from each transaction's header, so every
 * replica that applies the same transactions in the same order reaches the same tree and
 * the same digest. Reads never validate paths (§10.2): a malformed path is just missing.
 *
 * Storage is slot-based (see `node-store.ts`); this module holds the semantics: stat
 * update rules (§10.5), the initial tree (§10.1), watch events in ZooKeeper's order
 * (§13.2), indexes of ephemerals, containers and TTL nodes, and live sessions.
 */
import { EventType, OpCode, Perms } from '../protocol/constants.js';
import { ErrorCode } from '../protocol/errors.js';
import type { ACL, Id, MultiReadOp, OpResult, SessionId, Stat } from '../protocol/records.js';
import type { CloseSessionTxn, CreateTxn, MultiTxn, MultiTxnOp, SetACLTxn, SetDataTxn, Txn } from '../protocol/txn.js';
import type { Zxid } from '../protocol/zxid.js';
import { invariant } from '../runtime/assert.js';
import { OPEN_ACL_UNSAFE, READ_ACL_UNSAFE, checkACL, maskDigestIds } from './acl.js';
import { NodeKind, nodeKindOf, ttlOf } from './ephemeral.js';
import type { WatchEvent } from './events.js';
import { NodeStore } from './node-store.js';
import { decodeSnapshot, encodeSnapshot } from './snapshot.js';

const ROOT = '/';
const EMPTY_DATA = new Uint8Array(0);
const EMPTY_SET: ReadonlySet<string> = new Set<string>();

/** The node holding the dynamic configuration (ZooKeeper's `ZooDefs.CONFIG_NODE`). */
const CONFIG_PATH = '/zookeeper/config';

/** Paths that can never be deleted (`DataTree.isSpecialPath`): delete → BadArguments. */
export const SYSTEM_PATHS: ReadonlySet<string> = new Set(['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config']);

/** Options of a tree. */
export interface DataTreeOptions {
  /** Data of `/zookeeper/config`; empty by default (a server without dynamic reconfig). */
  configData?: Uint8Array;
  /** `zookeeper.skipACL=yes`: every permission check passes. */
  skipACL?: boolean;
}

/** Options of {@link DataTree.expiredContainersAndTtls}. */
export interface SweepOptions {
  /**
   * `znode.container.maxNeverUsedIntervalMs`: when > 0, empty containers that never had
   * a child are also expired once `now − mtime` exceeds it. Default 0 (off).
   */
  maxNeverUsedIntervalMs?: number;
}

/** The outcome of one applied operation, as the reply needs it. */
export type OpOutcome =
  | { readonly kind: 'create'; readonly path: string; readonly stat: Stat }
  | { readonly kind: 'delete' }
  | { readonly kind: 'setData'; readonly stat: Stat }
  | { readonly kind: 'setACL'; readonly stat: Stat }
  | { readonly kind: 'check' }
  | { readonly kind: 'error'; readonly err: number };

/** The outcome of one applied transaction. */
export type TxnOutcome =
  | OpOutcome
  | { readonly kind: 'multi'; readonly results: readonly OpOutcome[] }
  | { readonly kind: 'createSession' }
  | { readonly kind: 'closeSession'; readonly deleted: readonly string[] };

/** What `apply` returns. */
export interface ApplyResult {
  /** The transaction's zxid (the reply header's zxid). */
  readonly zxid: Zxid;
  /**
   * The error a reply header carries: the code of a failed single-op write (error txn),
   * else 0. A multi always replies 0 with per-op results, even when it failed.
   */
  readonly err: number;
  readonly outcome: TxnOutcome;
  /** Watch triggers in ZooKeeper's order (§13.2), for the watch registry. */
  readonly events: readonly WatchEvent[];
}

/** Options of {@link DataTree.apply}. */
export interface ApplyOptions {
  /**
   * `false`: build no {@link ApplyResult} (no outcome, Stats or watch events) and return
   * undefined; the tree changes exactly as with a result. For a replica whose caller
   * reads nothing from the result (no local client waits for the write, nobody watches).
   * Default true.
   */
  readonly result?: boolean;
}

/** A node's state as the prepare step needs it (raw values, not reported ones). */
export interface NodeInfo {
  readonly version: number;
  /** The STORED cversion (number of child creates). */
  readonly cversion: number;
  readonly aversion: number;
  /** Raw stored ephemeralOwner (session, container or TTL marker, or 0n). */
  readonly ephemeralOwner: bigint;
  readonly numChildren: number;
  readonly acl: readonly ACL[];
}

const DELETED: OpOutcome = Object.freeze({ kind: 'delete' });
const CHECKED: OpOutcome = Object.freeze({ kind: 'check' });
const SESSION_CREATED: TxnOutcome = Object.freeze({ kind: 'createSession' });
const ERRORS = new Map<number, OpOutcome>();
/** Stands for a successful op when no result is built (never returned to callers). */
const APPLIED: OpOutcome = CHECKED;
const NO_EVENTS: readonly WatchEvent[] = Object.freeze([]);

/**
 * The watch events of one apply, in a buffer kept across applies; `take()` hands out an
 * exact-size copy (a single-op write allocates a one- or two-slot array, not a growable one).
 */
class EventCollector {
  private buffer: WatchEvent[] = [];
  private count = 0;

  /** Start collecting (an earlier apply may have thrown midway). */
  begin(): this {
    this.clear();
    return this;
  }

  push(event: WatchEvent): void {
    this.buffer[this.count++] = event;
  }

  /** The events collected, in order; the collector is empty afterwards. */
  take(): readonly WatchEvent[] {
    const b = this.buffer;
    const n = this.count;
    const out = n === 0 ? NO_EVENTS : n === 1 ? [b[0]!] : n === 2 ? [b[0]!, b[1]!] : b.slice(0, n);
    this.clear();
    return out;
  }

  private clear(): void {
    const b = this.buffer;
    if (b.length > 1024) this.buffer = []; // a big closeSession's or multi's
    else for (let i = 0; i < this.count; i++) b[i] = undefined as unknown as WatchEvent; // retain nothing
    this.count = 0;
  }
}

/** A shared frozen error outcome per code (error outcomes carry nothing else). */
function failed(err: number): OpOutcome {
  let outcome = ERRORS.get(err);
  if (outcome === undefined) {
    outcome = Object.freeze({ kind: 'error', err });
    ERRORS.set(err, outcome);
  }
  return outcome;
}

/** The znode tree. See the module comment. */
export class DataTree {
  /** True when ACL checks are disabled (`skipACL`). */
  readonly skipACL: boolean;
  private store: NodeStore;
  private readonly ephemeralIndex = new Map<SessionId, Set<string>>();
  private readonly containerPaths = new Set<string>();
  private readonly ttlPaths = new Set<string>();
  private readonly sessionTable = new Map<SessionId, number>();
  /** Where `apply` collects watch events (reused: apply is never re-entered). */
  private readonly events = new EventCollector();
  private lastZxid: Zxid = 0;
  // Parent of the last create (path and slot), valid until that node is deleted.
  private lastParentPath: string | null = null;
  private lastParentSlot = 0;

  /** The initial tree of ZooKeeper 3.8 (§10.1): `/`, `/zookeeper`, its `quota` and `config`. */
  constructor(options: DataTreeOptions = {}) {
    this.skipACL = options.skipACL ?? false;
    const s = new NodeStore();
    const root = s.add(ROOT, EMPTY_DATA, OPEN_ACL_UNSAFE, 0n, 0, 0);
    const zk = s.add('/zookeeper', EMPTY_DATA, OPEN_ACL_UNSAFE, 0n, 0, 0);
    s.linkChild(root, 'zookeeper');
    s.add('/zookeeper/quota', EMPTY_DATA, OPEN_ACL_UNSAFE, 0n, 0, 0);
    s.linkChild(zk, 'quota');
    const config = s.add('/zookeeper/config', options.configData ?? EMPTY_DATA, READ_ACL_UNSAFE, 0n, 0, 0);
    s.linkChild(zk, 'config');
    // ZooKeeper sets the config ACL with setACL(version -1), leaving aversion -1.
    s.setAversion('/zookeeper/config', config, -1);
    this.store = s;
  }

  // ------------------------------------------------------------------ summary

  /** zxid of the last applied transaction (0 for a fresh tree). */
  get lastProcessedZxid(): Zxid {
    return this.lastZxid;
  }

  /** Number of znodes, including `/` and the `/zookeeper` subtree. */
  get nodeCount(): number {
    return this.store.size;
  }

  /** Sum of path length + data length over all znodes (ZooKeeper's `approximateDataSize`). */
  get approximateDataSize(): number {
    return this.store.dataSize;
  }

  /** Live sessions (id → timeout ms), as created/closed by applied transactions. */
  get sessions(): ReadonlyMap<SessionId, number> {
    return this.sessionTable;
  }

  /** Number of distinct ACL lists in use. */
  get aclCount(): number {
    return this.store.acls.size;
  }

  /**
   * The tree digest: 16 hex digits, maintained incrementally, equal for equal trees
   * (nodes with their paths, data, ACLs and stored stats) whatever their history.
   */
  digest(): string {
    return this.store.digest();
  }

  /** Every path, parents before children. */
  paths(): IterableIterator<string> {
    return this.store.slots.keys();
  }

  // ------------------------------------------------------------------ reads

  /** True if the node exists. */
  exists(path: string): boolean {
    return this.store.slots.has(path);
  }

  /** The node's Stat, or undefined if it does not exist. */
  stat(path: string): Stat | undefined {
    const slot = this.store.slots.get(path);
    return slot === undefined ? undefined : this.store.stat(slot);
  }

  /** Data and Stat (null data stays null), or undefined if the node does not exist. */
  getData(path: string): { data: Uint8Array | null; stat: Stat } | undefined {
    const slot = this.store.slots.get(path);
    if (slot === undefined) return undefined;
    return { data: this.store.data[slot] ?? null, stat: this.store.stat(slot) };
  }

  /**
   * {@link stat} written into `out` (no allocation, for a reply encoder that reuses one
   * Stat); returns `out`, or undefined (leaving `out` untouched) if the node does not exist.
   */
  statInto(path: string, out: Stat): Stat | undefined {
    const slot = this.store.slots.get(path);
    return slot === undefined ? undefined : this.store.statInto(slot, out);
  }

  /**
   * {@link getData} written into `out`: its `data` is replaced and its `stat` filled in
   * place (no allocation). Returns `out`, or undefined (leaving `out` untouched) if the
   * node does not exist.
   */
  getDataInto<T extends { data: Uint8Array | null; stat: Stat }>(path: string, out: T): T | undefined {
    const slot = this.store.slots.get(path);
    if (slot === undefined) return undefined;
    out.data = this.store.data[slot] ?? null;
    this.store.statInto(slot, out.stat);
    return out;
  }

  /** Child names (unordered, as in ZooKeeper), or undefined if the node does not exist. */
  getChildren(path: string): string[] | undefined {
    const slot = this.store.slots.get(path);
    if (slot === undefined) return undefined;
    const set = this.store.children[slot];
    return set === null || set === undefined ? [] : Array.from(set);
  }

  /**
   * ACL and Stat, or undefined if the node does not exist. With `authIds`, digest ids
   * are masked to `user:x` unless the caller has ADMIN (`FinalRequestProcessor`); the
   * caller checks READ|ADMIN first with {@link checkAccess}.
   */
  getACL(path: string, authIds?: readonly Id[]): { acl: readonly ACL[]; stat: Stat } | undefined {
    const slot = this.store.slots.get(path);
    if (slot === undefined) return undefined;
    let acl = this.store.aclOf(slot);
    if (authIds !== undefined && !this.skipACL && !checkACL(acl, Perms.ADMIN, authIds)) acl = maskDigestIds(acl);
    return { acl, stat: this.store.stat(slot) };
  }

  /** Number of descendants (all levels), or undefined if the node does not exist. */
  getAllChildrenNumber(path: string): number | undefined {
    const s = this.store;
    const slot = s.slots.get(path);
    if (slot === undefined) return undefined;
    if (path === ROOT) return s.size - 1;
    let count = 0;
    const stack = [path];
    while (stack.length > 0) {
      const parent = stack.pop()!;
      const set = s.children[s.slots.get(parent)!];
      if (set === null || set === undefined) continue;
      count += set.size;
      for (const name of set) stack.push(`${parent}/${name}`);
    }
    return count;
  }

  /**
   * getEphemerals (§6): the session's ephemerals whose path starts with `prefixPath`;
   * an empty, blank, null or `/` prefix lists all of them.
   */
  getEphemerals(sessionId: SessionId, prefixPath?: string | null): string[] {
    const own = this.ephemeralIndex.get(sessionId);
    if (own === undefined) return [];
    const prefix = prefixPath?.trim() ?? '';
    if (prefix === '' || prefix === ROOT) return Array.from(own);
    const out: string[] = [];
    for (const path of own) if (path.startsWith(prefixPath!)) out.push(path);
    return out;
  }

  /** The paths of a session's ephemerals (a live view; do not mutate). */
  ephemeralsOf(sessionId: SessionId): ReadonlySet<string> {
    return this.ephemeralIndex.get(sessionId) ?? EMPTY_SET;
  }

  /** Sessions that own at least one ephemeral. */
  ephemeralOwners(): IterableIterator<SessionId> {
    return this.ephemeralIndex.keys();
  }

  /** True if the node exists and its ACL grants any bit of `perm` to `authIds` (§10.7). */
  canAccess(path: string, perm: number, authIds: readonly Id[]): boolean {
    const slot = this.store.slots.get(path);
    if (slot === undefined) return false;
    return this.skipACL || checkACL(this.store.aclOf(slot), perm, authIds);
  }

  /** The check a read runs: OK, NoNode if missing, NoAuth if the ACL denies `perm`. */
  checkAccess(path: string, perm: number, authIds: readonly Id[]): ErrorCode {
    const slot = this.store.slots.get(path);
    if (slot === undefined) return ErrorCode.NoNode;
    if (this.skipACL || checkACL(this.store.aclOf(slot), perm, authIds)) return ErrorCode.OK;
    return ErrorCode.NoAuth;
  }

  /**
   * multiRead (§12.3): each op evaluated on its own against the current tree; a failing
   * op gives `{type: -1, err}` (NoNode, or NoAuth without READ), the others their data.
   */
  multiRead(ops: readonly MultiReadOp[], authIds: readonly Id[]): OpResult[] {
    const results: OpResult[] = [];
    for (const op of ops) {
      const err = this.checkAccess(op.path, Perms.READ, authIds);
      if (err !== ErrorCode.OK) {
        results.push({ type: OpCode.error, err });
      } else if (op.type === OpCode.getData) {
        const { data, stat } = this.getData(op.path)!;
        results.push({ type: OpCode.getData, data, stat });
      } else if (op.type === OpCode.getChildren) {
        results.push({ type: OpCode.getChildren, children: this.getChildren(op.path)! });
      } else {
        results.push({ type: OpCode.error, err: ErrorCode.Unimplemented });
      }
    }
    return results;
  }

  /** Raw node state for the prepare step, or undefined if the node does not exist. */
  peek(path: string): NodeInfo | undefined {
    const s = this.store;
    const slot = s.slots.get(path);
    if (slot === undefined) return undefined;
    return {
      version: s.version(slot),
      cversion: s.cversion(slot),
      aversion: s.aversion(slot),
      ephemeralOwner: s.owner[slot]!,
      numChildren: s.childCount(slot),
      acl: s.aclOf(slot),
    };
  }

  /** The raw stored ephemeralOwner (session id, container/TTL marker or 0n), or undefined. */
  rawEphemeralOwner(path: string): bigint | undefined {
    const slot = this.store.slots.get(path);
    return slot === undefined ? undefined : this.store.owner[slot];
  }

  // ------------------------------------------------------------------ sweep

  /**
   * Containers and TTL nodes due for deletion at `now` (ms, the leader's clock), sorted
   * (§10.6, `ContainerManager.getCandidates`): empty containers that had a child (stored
   * cversion > 0), or never-used ones older than `maxNeverUsedIntervalMs` by mtime when
   * that is > 0; empty TTL nodes with `now − mtime > ttl`. The leader prepares a
   * deleteContainer request for each.
   */
  expiredContainersAndTtls(now: number, options: SweepOptions = {}): string[] {
    const s = this.store;
    const maxNeverUsed = options.maxNeverUsedIntervalMs ?? 0;
    const out: string[] = [];
    for (const path of this.containerPaths) {
      const slot = s.slots.get(path)!;
      if (s.childCount(slot) !== 0) continue;
      if (s.cversion(slot) > 0 || (maxNeverUsed > 0 && now - s.mtime(slot) > maxNeverUsed)) out.push(path);
    }
    for (const path of this.ttlPaths) {
      const slot = s.slots.get(path)!;
      if (s.childCount(slot) !== 0) continue;
      const ttl = ttlOf(s.owner[slot]!);
      if (ttl !== 0 && now - s.mtime(slot) > ttl) out.push(path);
    }
    return out.sort();
  }

  // ------------------------------------------------------------------ apply

  /**
   * Apply one transaction: the only way the tree changes. Never throws for transactions
   * built by the prepare step; a transaction that does not fit the tree (which only a
   * bug or a diverged replica produces) yields error outcomes, as ZooKeeper's
   * `processTxn` does, without corrupting the tree. `lastProcessedZxid` becomes
   * `header.zxid` (if larger) after the whole transaction, error transactions included.
   *
   * With `{ result: false }` nothing is allocated for the result and undefined is returned.
   *
   * @throws InvariantError for a body of unknown kind.
   */
  apply(txn: Txn): ApplyResult;
  apply(txn: Txn, options: ApplyOptions & { readonly result: false }): undefined;
  apply(txn: Txn, options?: ApplyOptions): ApplyResult | undefined;
  apply(txn: Txn, options?: ApplyOptions): ApplyResult | undefined {
    const { header, body } = txn;
    const zxid = header.zxid;
    // null: no result wanted, so no events, Stats or outcomes are built.
    const events: EventCollector | null = options === undefined || options.result !== false ? this.events.begin() : null;
    let outcome: TxnOutcome;
    let err = 0;
    switch (body.kind) {
      case 'multi':
        outcome = this.applyMulti(body, zxid, header.time, events);
        break;
      case 'createSession':
        this.sessionTable.set(header.sessionId, body.timeout);
        outcome = SESSION_CREATED;
        break;
      case 'closeSession':
        outcome = this.applyCloseSession(body, header.sessionId, zxid, events);
        break;
      case 'reconfig': {
        // ZooKeeper applies its reconfig txn as a setData of the config node, version -1.
        const op = this.applySetData({ kind: 'setData', path: CONFIG_PATH, data: body.data, version: -1 }, zxid, header.time, events);
        if (op.kind === 'error') err = op.err;
        outcome = op;
        break;
      }
      default: {
        const op = this.applyOp(body, zxid, header.time, events);
        if (op.kind === 'error') err = op.err;
        outcome = op;
      }
    }
    if (zxid > this.lastZxid) this.lastZxid = zxid;
    return events === null ? undefined : { zxid, err, outcome, events: events.take() };
  }

  private applyOp(op: MultiTxnOp, zxid: Zxid, time: number, events: EventCollector | null): OpOutcome {
    switch (op.kind) {
      case 'create':
        return this.applyCreate(op, zxid, time, events);
      case 'delete':
        return this.applyDelete(op.path, zxid, events);
      case 'setData':
        return this.applySetData(op, zxid, time, events);
      case 'setACL':
        return this.applySetACL(op, events !== null);
      case 'check':
        return CHECKED;
      case 'error':
        return failed(op.err);
      default:
        invariant(false, () => `unknown txn kind ${(op as { kind: unknown }).kind}`);
    }
  }

  private applyMulti(body: MultiTxn, zxid: Zxid, time: number, events: EventCollector | null): TxnOutcome {
    const ops = body.ops;
    let anyError = false;
    for (let i = 0; i < ops.length; i++) {
      if (ops[i]!.kind === 'error') {
        anyError = true;
        break;
      }
    }
    if (events === null) {
      if (!anyError) for (let i = 0; i < ops.length; i++) this.applyOp(ops[i]!, zxid, time, null);
      return APPLIED;
    }
    const results: OpOutcome[] = [];
    if (anyError) {
      // A failed multi changes nothing; a real op in it (never produced by prepare) reads 0.
      for (const op of ops) results.push(failed(op.kind === 'error' ? op.err : ErrorCode.OK));
    } else {
      for (const op of ops) results.push(this.applyOp(op, zxid, time, events));
    }
    return { kind: 'multi', results };
  }

  private applyCloseSession(body: CloseSessionTxn, sessionId: SessionId, zxid: Zxid, events: EventCollector | null): TxnOutcome {
    const deleted: string[] | null = events === null ? null : [];
    for (const path of body.paths) {
      if (this.applyDelete(path, zxid, events).kind !== 'error' && deleted !== null) deleted.push(path);
    }
    this.sessionTable.delete(sessionId);
    return deleted === null ? APPLIED : { kind: 'closeSession', deleted };
  }

  private applyCreate(t: CreateTxn, zxid: Zxid, time: number, events: EventCollector | null): OpOutcome {
    const s = this.store;
    const path = t.path;
    const slash = path.lastIndexOf('/');
    if (slash < 0) return failed(ErrorCode.NoNode);
    let parentPath: string;
    let parent: number | undefined;
    // Bulk creates go to one parent: reuse its path string and slot (no slice, no lookup).
    const cached = this.lastParentPath;
    if (cached !== null && slash === (cached.length === 1 ? 0 : cached.length) && path.startsWith(cached)) {
      parentPath = cached;
      parent = this.lastParentSlot;
    } else {
      parentPath = slash === 0 ? ROOT : path.slice(0, slash);
      parent = s.slots.get(parentPath);
      if (parent === undefined) return failed(ErrorCode.NoNode);
      this.lastParentPath = parentPath;
      this.lastParentSlot = parent;
    }
    const name = path.slice(slash + 1);
    // The parent's child set is small and warm; the global map would be a cache miss.
    if (s.children[parent]?.has(name) === true || (name === '' && s.slots.has(path))) return failed(ErrorCode.NodeExists);
    let parentCVersion = t.parentCVersion;
    if (parentCVersion === -1) parentCVersion = (s.cversion(parent) + 1) | 0;
    // As ZooKeeper: only a larger cversion moves cversion and pzxid (replay safety).
    s.childCreated(parentPath, parent, name, parentCVersion, zxid);
    const slot = s.add(path, t.data, t.acl, t.ephemeralOwner, zxid, time);
    if (t.ephemeralOwner !== 0n) this.index(path, t.ephemeralOwner, true);
    if (events === null) return APPLIED;
    events.push({ type: EventType.NodeCreated, path });
    events.push({ type: EventType.NodeChildrenChanged, path: parentPath });
    return { kind: 'create', path, stat: s.stat(slot) };
  }

  private applyDelete(path: string, zxid: Zxid, events: EventCollector | null): OpOutcome {
    const s = this.store;
    const slot = s.slots.get(path);
    if (slot === undefined) return failed(ErrorCode.NoNode);
    if (path === ROOT) return failed(ErrorCode.BadArguments);
    const slash = path.lastIndexOf('/');
    const parentPath = slash === 0 ? ROOT : path.slice(0, slash);
    const parent = s.slots.get(parentPath);
    if (parent === undefined) return failed(ErrorCode.NoNode);
    // ZooKeeper would orphan the children; refuse instead (prepare never sends this).
    if (s.childCount(slot) !== 0) return failed(ErrorCode.NotEmpty);
    const owner = s.owner[slot]!;
    if (path === this.lastParentPath) this.lastParentPath = null;
    s.remove(path, slot);
    s.childDeleted(parentPath, parent, path.slice(slash + 1), zxid);
    if (owner !== 0n) this.index(path, owner, false);
    if (events !== null) {
      events.push({ type: EventType.NodeDeleted, path });
      events.push({ type: EventType.NodeChildrenChanged, path: parentPath });
    }
    return DELETED;
  }

  private applySetData(t: SetDataTxn, zxid: Zxid, time: number, events: EventCollector | null): OpOutcome {
    const s = this.store;
    const slot = s.slots.get(t.path);
    if (slot === undefined) return failed(ErrorCode.NoNode);
    s.setData(t.path, slot, t.data, t.version, zxid, time);
    if (events === null) return APPLIED;
    events.push({ type: EventType.NodeDataChanged, path: t.path });
    return { kind: 'setData', stat: s.stat(slot) };
  }

  private applySetACL(t: SetACLTxn, wantStat: boolean): OpOutcome {
    const s = this.store;
    const slot = s.slots.get(t.path);
    if (slot === undefined) return failed(ErrorCode.NoNode);
    s.setAcl(t.path, slot, t.acl, t.version);
    return wantStat ? { kind: 'setACL', stat: s.stat(slot) } : APPLIED;
  }

  /** Add or remove a node in the ephemeral/container/TTL index its owner puts it in. */
  private index(path: string, owner: bigint, add: boolean): void {
    switch (nodeKindOf(owner)) {
      case NodeKind.CONTAINER:
        if (add) this.containerPaths.add(path);
        else this.containerPaths.delete(path);
        return;
      case NodeKind.TTL:
        if (add) this.ttlPaths.add(path);
        else this.ttlPaths.delete(path);
        return;
      case NodeKind.EPHEMERAL: {
        let own = this.ephemeralIndex.get(owner);
        if (add) {
          if (own === undefined) {
            own = new Set<string>();
            this.ephemeralIndex.set(owner, own);
          }
          own.add(path);
        } else if (own !== undefined) {
          own.delete(path);
          if (own.size === 0) this.ephemeralIndex.delete(owner);
        }
        return;
      }
      default:
        return;
    }
  }

  // ------------------------------------------------------------------ snapshot

  /**
   * The whole tree as one snapshot: every node with its data, ACL and stored stat, the
   * live sessions, `lastProcessedZxid` and the digest (checked on load). The format is
   * zoostate's own (see `snapshot.ts`); a sender may cut it into chunks freely.
   */
  serialize(): Uint8Array {
    return encodeSnapshot(this.store, this.sessionTable, this.lastZxid);
  }

  /**
   * A tree from {@link serialize}'s bytes.
   *
   * @throws DecodeError for anything that is not a complete, consistent snapshot
   *   (bad magic or version, truncation, trailing bytes, a node without its parent,
   *   a duplicate path, an unknown ACL index, or a digest that does not match).
   */
  static deserialize(bytes: Uint8Array, options: Omit<DataTreeOptions, 'configData'> = {}): DataTree {
    const decoded = decodeSnapshot(bytes);
    const tree = new DataTree(options);
    tree.store = decoded.store;
    tree.lastZxid = decoded.lastProcessedZxid;
    for (const [id, timeout] of decoded.sessions) tree.sessionTable.set(id, timeout);
    const s = decoded.store;
    for (const [path, slot] of s.slots) {
      const owner = s.owner[slot]!;
      if (owner !== 0n) tree.index(path, owner, true);
    }
    return tree;
  }
}
