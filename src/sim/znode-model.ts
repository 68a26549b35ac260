/**
 * The sequential specification the linearizability checker runs operations against: a
 * znode tree reduced to what a history can observe (data, data version, the stored
 * child-creation counter that names sequential nodes, ephemeral owner, children), with
 * ZooKeeper 3.8's error precedence (reference §10, §11, §12).
 *
 * Built for a backtracking search: it is mutable, every change is logged so `undo(mark)`
 * restores an earlier state exactly, and it keeps an incremental 64-bit hash of the
 * whole state (XOR of one hash per node, as two 32-bit halves) so the search can
 * memoize states cheaply.
 */
import { isEphemeralMode, isSequentialMode } from '../protocol/constants.js';
import { ErrorCode } from '../protocol/errors.js';
import type { HistoryOp, MultiSubOp, MultiSubResult } from './history.js';

/**
 * A node present before the history starts (parents first). Listing `/` sets the
 * root's data and counter. Initial nodes do not advance their parent's counter, as
 * ZooKeeper's own `/zookeeper` nodes do not (§10.1, §10.3): give `cversion` where
 * children were created before the history.
 */
export interface InitialNode {
  path: string;
  data?: string;
  /** Data version (default 0). */
  version?: number;
  /** Stored cversion: child creations so far, which names the next sequential child (default 0). */
  cversion?: number;
  /** Session that owns it, for an ephemeral node. */
  ephemeralOwner?: number;
}

/** ZooKeeper's own nodes (reference §10.1); `/` always exists. */
export const ZOOKEEPER_INITIAL_NODES: readonly InitialNode[] = [
  { path: '/zookeeper' },
  { path: '/zookeeper/quota' },
  { path: '/zookeeper/config' },
];

/** What one node holds, as far as a history can tell. Immutable once stored. */
export interface ModelNode {
  readonly data: string;
  /** Data version. */
  readonly version: number;
  /** Stored cversion: child creations ever (names sequential children, §10.4). */
  readonly cversion: number;
  /** Owning session of an ephemeral node, else null. */
  readonly owner: number | null;
  /** This node's share of the state hash, low half. */
  readonly h1: number;
  /** This node's share of the state hash, high half. */
  readonly h2: number;
}

/** The answer the model gives to an operation. */
export type Observation = { ok: true; result: unknown } | { ok: false; code: number; index?: number };

const SYSTEM_PATHS = new Set(['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config']);

/** Parent of a path (`/a/b` -> `/a`, `/a` -> `/`, `/q/` -> `/q`); `/` has none. */
export function parentPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** Last segment of a path. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Java's `%010d` of the stored cversion (a minus sign plus 9 digits when negative). */
export function sequenceSuffix(n: number): string {
  return n < 0 ? `-${String(-n).padStart(9, '0')}` : String(n).padStart(10, '0');
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hashString(s: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return fmix(h ^ s.length);
}

const SEED_A = 0x9747b28c;
const SEED_B = 0x2545f491;

/** Per-path facts computed once: its hashes, parent and last segment. */
interface PathInfo {
  a: number;
  b: number;
  parent: string;
  base: string;
}

function nodeHash(pathHash: number, dataHash: number, version: number, cversion: number, owner: number | null): number {
  let h = fmix(pathHash ^ dataHash);
  h = fmix(h ^ Math.imul(version, 0xcc9e2d51));
  h = fmix(h ^ Math.imul(cversion + 0x3c6ef372, 0x1b873593));
  h = fmix(h ^ Math.imul(owner === null ? 0x7f4a7c15 : owner + 1, 0x85ebca6b));
  return h;
}

const failures = new Map<number, Observation>();
/** A failure observation; shared, so never mutate it. */
function fail(code: number): Observation {
  let f = failures.get(code);
  if (f === undefined) failures.set(code, (f = Object.freeze({ ok: false, code }) as Observation));
  return f;
}

/** A mutable znode tree with undo and an incremental state hash. */
export class ZnodeModel {
  private readonly nodes = new Map<string, ModelNode>();
  private readonly kids = new Map<string, Set<string>>();
  // The undo log, as parallel arrays: the path written and the node it held before.
  private readonly logPaths: string[] = [];
  private readonly logPrev: (ModelNode | undefined)[] = [];
  private readonly paths = new Map<string, PathInfo>();
  private readonly dataHashes = new Map<string, number>();
  /** Low half of the state hash. */
  h1 = 0;
  /** High half of the state hash. */
  h2 = 0;

  /** A tree with `/` plus `initial` (created in order, parents first). */
  constructor(initial: readonly InitialNode[] = ZOOKEEPER_INITIAL_NODES) {
    this.write('/', this.make('/', '', 0, 0, null));
    for (const n of initial) {
      if (n.path !== '/' && !this.nodes.has(parentPath(n.path))) throw new TypeError(`initial node ${n.path} has no parent`);
      this.write(n.path, this.make(n.path, n.data ?? '', n.version ?? 0, n.cversion ?? 0, n.ephemeralOwner ?? null));
    }
    this.logPaths.length = 0;
    this.logPrev.length = 0;
  }

  /** The node at `path`, if any. */
  get(path: string): ModelNode | undefined {
    return this.nodes.get(path);
  }

  /** Sorted child names of `path` (empty if it does not exist). */
  children(path: string): string[] {
    const set = this.kids.get(path);
    return set === undefined ? [] : [...set].sort();
  }

  /** The child names of `path` (undefined or empty when it has none); do not mutate. */
  childNames(path: string): ReadonlySet<string> | undefined {
    return this.kids.get(path);
  }

  /** The state hash as a string (64 bits). */
  hashKey(): string {
    return `${this.h1}:${this.h2}`;
  }

  /** A position in the undo log. */
  mark(): number {
    return this.logPaths.length;
  }

  /** True if the state was changed since `mark` (a no-op is not a change). */
  changedSince(mark: number): boolean {
    return this.logPaths.length > mark;
  }

  /** Restore the state as of `mark`. */
  undo(mark: number): void {
    while (this.logPaths.length > mark) this.store(this.logPaths.pop()!, this.logPrev.pop());
  }

  /**
   * Apply `op` issued by session `client` and return what ZooKeeper would answer. A
   * failing write or a failing multi leaves the state unchanged.
   */
  apply(op: HistoryOp, client: number): Observation {
    switch (op.type) {
      case 'getData': {
        const n = this.nodes.get(op.path);
        return n === undefined ? fail(ErrorCode.NoNode) : { ok: true, result: { data: n.data, version: n.version } };
      }
      case 'exists': {
        const n = this.nodes.get(op.path);
        return { ok: true, result: n === undefined ? null : n.version };
      }
      case 'getChildren':
        return this.nodes.has(op.path) ? { ok: true, result: this.children(op.path) } : fail(ErrorCode.NoNode);
      case 'sync':
        return { ok: true, result: null };
      case 'closeSession': {
        // Ephemerals cannot have children, so the deletion order does not matter.
        for (const [path, n] of [...this.nodes]) if (n.owner === client) this.remove(path);
        return { ok: true, result: null };
      }
      case 'multi': {
        const mark = this.mark();
        const results: MultiSubResult[] = [];
        for (let i = 0; i < op.ops.length; i++) {
          const r = this.applySub(op.ops[i]!, client);
          if (!r.ok) {
            this.undo(mark);
            return { ok: false, code: r.code, index: i };
          }
          results.push(r.result as MultiSubResult);
        }
        return { ok: true, result: results };
      }
      default:
        return this.applySub(op, client);
    }
  }

  private applySub(op: MultiSubOp, client: number): Observation {
    switch (op.type) {
      case 'create': {
        // Reference §11.1, rows 6-11 (the rows the model can decide).
        const parentName = this.info(op.path).parent;
        const parent = this.nodes.get(parentName);
        if (parent === undefined) return fail(ErrorCode.NoNode);
        const path = isSequentialMode(op.mode) ? op.path + sequenceSuffix(parent.cversion) : op.path;
        if (this.nodes.has(path)) return fail(ErrorCode.NodeExists);
        if (parent.owner !== null) return fail(ErrorCode.NoChildrenForEphemerals);
        this.write(parentName, this.make(parentName, parent.data, parent.version, (parent.cversion + 1) | 0, parent.owner));
        this.write(path, this.make(path, op.data, 0, 0, isEphemeralMode(op.mode) ? client : null));
        return { ok: true, result: path };
      }
      case 'delete': {
        // Reference §11.2: BadVersion wins over NotEmpty.
        if (SYSTEM_PATHS.has(op.path)) return fail(ErrorCode.BadArguments);
        if (!this.nodes.has(this.info(op.path).parent)) return fail(ErrorCode.NoNode);
        const n = this.nodes.get(op.path);
        if (n === undefined) return fail(ErrorCode.NoNode);
        if (op.version !== -1 && op.version !== n.version) return fail(ErrorCode.BadVersion);
        if ((this.kids.get(op.path)?.size ?? 0) > 0) return fail(ErrorCode.NotEmpty);
        this.remove(op.path);
        return { ok: true, result: null };
      }
      case 'setData': {
        const n = this.nodes.get(op.path);
        if (n === undefined) return fail(ErrorCode.NoNode);
        if (op.version !== -1 && op.version !== n.version) return fail(ErrorCode.BadVersion);
        const version = (n.version + 1) | 0;
        this.write(op.path, this.make(op.path, op.data, version, n.cversion, n.owner));
        return { ok: true, result: version };
      }
      case 'check': {
        const n = this.nodes.get(op.path);
        if (n === undefined) return fail(ErrorCode.NoNode);
        if (op.version !== -1 && op.version !== n.version) return fail(ErrorCode.BadVersion);
        return { ok: true, result: null };
      }
    }
  }

  private remove(path: string): void {
    this.write(path, undefined);
  }

  private info(path: string): PathInfo {
    let i = this.paths.get(path);
    if (i === undefined) {
      i = { a: hashString(path, SEED_A), b: hashString(path, SEED_B), parent: parentPath(path), base: baseName(path) };
      this.paths.set(path, i);
    }
    return i;
  }

  private make(path: string, data: string, version: number, cversion: number, owner: number | null): ModelNode {
    const p = this.info(path);
    let d = this.dataHashes.get(data);
    if (d === undefined) {
      d = hashString(data, SEED_B ^ SEED_A);
      if (this.dataHashes.size < 100_000) this.dataHashes.set(data, d);
    }
    return {
      data,
      version,
      cversion,
      owner,
      h1: nodeHash(p.a, d, version, cversion, owner),
      h2: nodeHash(p.b, d ^ 0x5bd1e995, version, cversion, owner),
    };
  }

  private write(path: string, node: ModelNode | undefined): void {
    this.logPaths.push(path);
    this.logPrev.push(this.nodes.get(path));
    this.store(path, node);
  }

  /** Set a node without logging; keeps the children index and the hash in step. */
  private store(path: string, node: ModelNode | undefined): void {
    const prev = this.nodes.get(path);
    if (prev !== undefined) {
      this.h1 ^= prev.h1;
      this.h2 ^= prev.h2;
    }
    if (node === undefined) {
      this.nodes.delete(path);
      if (prev !== undefined && path !== '/') {
        const i = this.info(path);
        this.kids.get(i.parent)?.delete(i.base);
      }
      return;
    }
    this.nodes.set(path, node);
    this.h1 ^= node.h1;
    this.h2 ^= node.h2;
    if (prev === undefined && path !== '/') {
      const i = this.info(path);
      let set = this.kids.get(i.parent);
      if (set === undefined) this.kids.set(i.parent, (set = new Set()));
      set.add(i.base);
    }
  }
}
