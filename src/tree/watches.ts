/**
 * The server-side watch registry (reference §13, §9.6): ZooKeeper's two `WatchManager`s
 * (data table, child table) with their `WatcherModeManager`, in one structure.
 *
 * A watch is keyed by (watcher, path, table). Each key carries one or more modes:
 * STANDARD (one-shot), PERSISTENT, PERSISTENT_RECURSIVE. Registering the same key and
 * mode twice is one watch. Unlike 3.8.0's WatcherModeManager (where a later standard
 * registration silently turned a persistent watch one-shot), modes on one key coexist,
 * as in ZooKeeper after ZOOKEEPER-4466: a getData watch never cancels a persistent one.
 *
 * Hot path: `trigger` iterates the watcher sets directly, passes one shared event object
 * to every delivery, deduplicates only when more than one set is involved, and walks
 * ancestors only while a recursive watch exists in that table. The per-watcher index
 * (for `removeWatcher` and `wchc`) is not touched by `trigger`: it may hold paths whose
 * one-shot watches already fired, is checked against the tables when read, and is
 * compacted when it grows.
 */
import { EventType, WatcherType } from '../protocol/constants.js';
import type { SetWatchesRequest } from '../protocol/records.js';
import type { WatchEvent } from './events.js';
import { ROOT } from './path.js';

/** Delivery callback: queue `event` on `watcher` (a connection). Must not throw. */
export type Deliver<W> = (watcher: W, event: WatchEvent) => void;

/** What `setWatches` needs to know about a node: its mzxid and pzxid, or undefined if missing. */
export type NodeZxids = (path: string) => { mzxid: number; pzxid: number } | undefined;

/** The watch modes of §13.1. */
export const WatchMode = {
  /** One-shot: fires once, then is removed (getData, exists, getChildren). */
  STANDARD: 0,
  /** Stays after firing; events on the path only (addWatch PERSISTENT). */
  PERSISTENT: 1,
  /** Stays; events on the path and all descendants, never NodeChildrenChanged. */
  PERSISTENT_RECURSIVE: 2,
} as const;
/** A watch mode. */
export type WatchMode = (typeof WatchMode)[keyof typeof WatchMode];

/** The `wchs` numbers: connections with watches, watched paths, watches (data table). */
export interface WatchSummary {
  /** Distinct watchers (connections) with at least one watch. */
  watchers: number;
  /** Distinct watched paths. */
  paths: number;
  /** (watcher, path) pairs. */
  total: number;
}

/** Which of the two tables. */
export type WatchTableName = 'data' | 'child';

/** The watchers of one path in one table, by mode. A null set is empty. */
class PathWatches<W> {
  standard: Set<W> | null = null;
  persistent: Set<W> | null = null;
  recursive: Set<W> | null = null;

  has(watcher: W): boolean {
    return (
      (this.standard !== null && this.standard.has(watcher)) ||
      (this.persistent !== null && this.persistent.has(watcher)) ||
      (this.recursive !== null && this.recursive.has(watcher))
    );
  }

  isEmpty(): boolean {
    return this.standard === null && this.persistent === null && this.recursive === null;
  }

  /** Each watcher once: standard, then persistent, then recursive order. */
  forEachWatcher(fn: (watcher: W) => void): void {
    const { standard, persistent, recursive } = this;
    if (standard !== null) for (const w of standard) fn(w);
    if (persistent !== null) for (const w of persistent) if (standard === null || !standard.has(w)) fn(w);
    if (recursive !== null) {
      for (const w of recursive) {
        if ((standard === null || !standard.has(w)) && (persistent === null || !persistent.has(w))) fn(w);
      }
    }
  }
}

/** One table: path → watchers, plus the number of recursive (watcher, path) entries. */
class WatchTable<W> {
  readonly byPath = new Map<string, PathWatches<W>>();
  recursiveCount = 0;

  has(path: string, watcher: W): boolean {
    const entry = this.byPath.get(path);
    return entry !== undefined && entry.has(watcher);
  }

  /** Add `watcher` with `mode`; true if the (watcher, path) key is new in this table. */
  add(path: string, watcher: W, mode: WatchMode): boolean {
    let entry = this.byPath.get(path);
    if (entry === undefined) {
      entry = new PathWatches<W>();
      this.byPath.set(path, entry);
    }
    const isNew = !entry.has(watcher);
    if (mode === WatchMode.STANDARD) {
      (entry.standard ??= new Set()).add(watcher);
    } else if (mode === WatchMode.PERSISTENT) {
      (entry.persistent ??= new Set()).add(watcher);
    } else {
      const set = (entry.recursive ??= new Set());
      if (!set.has(watcher)) {
        set.add(watcher);
        this.recursiveCount++;
      }
    }
    return isNew;
  }

  /** Remove every mode of (watcher, path); true if there was one. */
  remove(path: string, watcher: W): boolean {
    const entry = this.byPath.get(path);
    if (entry === undefined) return false;
    let found = false;
    if (entry.standard !== null && entry.standard.delete(watcher)) {
      found = true;
      if (entry.standard.size === 0) entry.standard = null;
    }
    if (entry.persistent !== null && entry.persistent.delete(watcher)) {
      found = true;
      if (entry.persistent.size === 0) entry.persistent = null;
    }
    if (entry.recursive !== null && entry.recursive.delete(watcher)) {
      found = true;
      this.recursiveCount--;
      if (entry.recursive.size === 0) entry.recursive = null;
    }
    if (entry.isEmpty()) this.byPath.delete(path);
    return found;
  }

  /**
   * Append to `sources` the sets that fire for `type` on `path`, detaching the one-shot
   * set (so re-registrations made while delivering are kept). Returns the new length.
   */
  collect(path: string, type: EventType, sources: Set<W>[], n: number): number {
    const childEvent = type === EventType.NodeChildrenChanged;
    const entry = this.byPath.get(path);
    if (entry !== undefined) {
      if (entry.standard !== null) {
        sources[n++] = entry.standard;
        entry.standard = null;
      }
      if (entry.persistent !== null) sources[n++] = entry.persistent;
      if (entry.recursive !== null && !childEvent) sources[n++] = entry.recursive;
      if (entry.isEmpty()) this.byPath.delete(path);
    }
    if (this.recursiveCount > 0 && !childEvent && path !== ROOT) {
      let ancestor = path;
      do {
        const slash = ancestor.lastIndexOf('/');
        ancestor = slash <= 0 ? ROOT : ancestor.slice(0, slash);
        const recursive = this.byPath.get(ancestor)?.recursive;
        if (recursive != null) sources[n++] = recursive;
      } while (ancestor !== ROOT);
    }
    return n;
  }

  /** Number of (watcher, path) pairs. */
  size(): number {
    let total = 0;
    for (const entry of this.byPath.values()) total += uniqueCount(entry);
    return total;
  }
}

function uniqueCount<W>(entry: PathWatches<W>): number {
  const { standard, persistent, recursive } = entry;
  let count = standard === null ? 0 : standard.size;
  if (persistent !== null) {
    if (standard === null) count += persistent.size;
    else for (const w of persistent) if (!standard.has(w)) count++;
  }
  if (recursive !== null) {
    if (standard === null && persistent === null) count += recursive.size;
    else for (const w of recursive) if (!(standard?.has(w) ?? false) && !(persistent?.has(w) ?? false)) count++;
  }
  return count;
}

/** The paths a watcher registered, per table; may include paths whose one-shot watch fired. */
interface WatcherPaths {
  data: Set<string> | null;
  child: Set<string> | null;
  /** Compact (drop fired paths) when data + child sizes exceed this. */
  limit: number;
}

const MIN_COMPACT_LIMIT = 64;

/**
 * Server-side watches of every connection. `W` identifies a watcher: the server uses
 * its connection object, tests use strings. Not thread-safe and not re-entrant:
 * `deliver` callbacks should only queue the event.
 */
export class WatchRegistry<W> {
  private readonly data = new WatchTable<W>();
  private readonly child = new WatchTable<W>();
  private readonly watchers = new Map<W, WatcherPaths>();

  /**
   * A one-shot watch in the data table: getData(watch) on success, exists(watch) on any
   * outcome (a missing node's exist watch fires on NodeCreated). Returns true if
   * (watcher, path) had no data watch before.
   */
  addDataWatch(watcher: W, path: string): boolean {
    return this.add('data', watcher, path, WatchMode.STANDARD);
  }

  /** A one-shot watch in the child table: getChildren/getChildren2(watch) on success. */
  addChildWatch(watcher: W, path: string): boolean {
    return this.add('child', watcher, path, WatchMode.STANDARD);
  }

  /**
   * addWatch (opcode 106): a PERSISTENT or PERSISTENT_RECURSIVE watch in both tables,
   * whether or not the node exists. Returns true if either table gained a new key.
   */
  addPersistentWatch(watcher: W, path: string, recursive: boolean): boolean {
    const mode = recursive ? WatchMode.PERSISTENT_RECURSIVE : WatchMode.PERSISTENT;
    const a = this.add('data', watcher, path, mode);
    const b = this.add('child', watcher, path, mode);
    return a || b;
  }

  /**
   * Fire the watches for one logical event of the tree's apply (§13.2), calling
   * `deliver(watcher, event)` at most once per watcher, with `event` itself:
   * NodeCreated / NodeDataChanged P → data table; NodeChildrenChanged P → child table;
   * NodeDeleted P → data table, then child table. Per table, in order: one-shot
   * watchers of P (removed), persistent watchers of P, recursive watchers of P and of
   * each ancestor nearest first (never for NodeChildrenChanged); each set in
   * registration order. Returns the number of deliveries.
   */
  trigger(event: WatchEvent, deliver: Deliver<W>): number {
    const { type, path } = event;
    if (this.isEmpty()) return 0;
    const sources: Set<W>[] = [];
    let n = 0;
    if (type !== EventType.NodeChildrenChanged) n = this.data.collect(path, type, sources, n);
    if (type === EventType.NodeChildrenChanged || type === EventType.NodeDeleted) {
      n = this.child.collect(path, type, sources, n);
    }
    if (n === 0) return 0;
    let delivered = 0;
    const first = sources[0]!;
    for (const w of first) {
      deliver(w, event);
      delivered++;
    }
    for (let i = 1; i < n; i++) {
      const set = sources[i]!;
      next: for (const w of set) {
        for (let j = 0; j < i; j++) if (sources[j]!.has(w)) continue next;
        deliver(w, event);
        delivered++;
      }
    }
    return delivered;
  }

  /**
   * removeWatches (`dryRun` false) and checkWatches (`dryRun` true), §13.3: Children →
   * child table, Data → data table, Any → both. The (watcher, path) key is removed
   * whatever its modes, as 3.8's `WatchManager.removeWatcher(path, watcher)` does, so
   * Data on a persistent watch leaves its child-table half. Returns whether a watch
   * was found (false → the server answers NoWatcher, -121). Unknown types find nothing.
   */
  removeWatches(watcher: W, path: string, watcherType: number, options: { dryRun?: boolean } = {}): boolean {
    const dryRun = options.dryRun === true;
    const useChild = watcherType === WatcherType.Children || watcherType === WatcherType.Any;
    const useData = watcherType === WatcherType.Data || watcherType === WatcherType.Any;
    let found = false;
    if (useChild) found = (dryRun ? this.child.has(path, watcher) : this.removeKey('child', watcher, path)) || found;
    if (useData) found = (dryRun ? this.data.has(path, watcher) : this.removeKey('data', watcher, path)) || found;
    return found;
  }

  /** Drop every watch of `watcher` (its connection closed). */
  removeWatcher(watcher: W): void {
    const paths = this.watchers.get(watcher);
    if (paths === undefined) return;
    if (paths.data !== null) for (const path of paths.data) this.data.remove(path, watcher);
    if (paths.child !== null) for (const path of paths.child) this.child.remove(path, watcher);
    this.watchers.delete(watcher);
  }

  /**
   * SetWatches / SetWatches2 after a reconnect (`DataTree.setWatches`, §9.6): deliver
   * catch-up events now for nodes that changed after `relativeZxid`, were deleted, or
   * (exist watches) were created; register the rest. Persistent and recursive paths
   * are registered in both tables with no catch-up.
   */
  setWatches(watcher: W, request: SetWatchesRequest, lookup: NodeZxids, deliver: Deliver<W>): void {
    const relativeZxid = request.relativeZxid;
    for (const path of request.dataWatches) {
      const node = lookup(path);
      if (node === undefined) deliver(watcher, { type: EventType.NodeDeleted, path });
      else if (node.mzxid > relativeZxid) deliver(watcher, { type: EventType.NodeDataChanged, path });
      else this.addDataWatch(watcher, path);
    }
    for (const path of request.existWatches) {
      if (lookup(path) !== undefined) deliver(watcher, { type: EventType.NodeCreated, path });
      else this.addDataWatch(watcher, path);
    }
    for (const path of request.childWatches) {
      const node = lookup(path);
      if (node === undefined) deliver(watcher, { type: EventType.NodeDeleted, path });
      else if (node.pzxid > relativeZxid) deliver(watcher, { type: EventType.NodeChildrenChanged, path });
      else this.addChildWatch(watcher, path);
    }
    for (const path of request.persistentWatches) this.addPersistentWatch(watcher, path, false);
    for (const path of request.persistentRecursiveWatches) this.addPersistentWatch(watcher, path, true);
  }

  /** True if `watcher` has at least one watch in either table. */
  hasWatches(watcher: W): boolean {
    const paths = this.watchers.get(watcher);
    if (paths === undefined) return false;
    if (paths.data !== null) for (const path of paths.data) if (this.data.has(path, watcher)) return true;
    if (paths.child !== null) for (const path of paths.child) if (this.child.has(path, watcher)) return true;
    this.watchers.delete(watcher); // only fired one-shot paths were left
    return false;
  }

  /** True if (watcher, path) has a watch in `table`, of `mode` if given. */
  hasWatch(watcher: W, path: string, table: WatchTableName, mode?: WatchMode): boolean {
    const entry = (table === 'data' ? this.data : this.child).byPath.get(path);
    if (entry === undefined) return false;
    if (mode === undefined) return entry.has(watcher);
    const set = mode === WatchMode.STANDARD ? entry.standard : mode === WatchMode.PERSISTENT ? entry.persistent : entry.recursive;
    return set !== null && set.has(watcher);
  }

  /**
   * The `wchs` numbers. Like ZooKeeper (`DataTree.getWatchesSummary` reads the data
   * table only) this counts the data table unless `table` says otherwise.
   */
  summary(table: WatchTableName = 'data'): WatchSummary {
    const t = table === 'data' ? this.data : this.child;
    const watchers = new Set<W>();
    let total = 0;
    for (const entry of t.byPath.values()) {
      entry.forEachWatcher((w) => {
        watchers.add(w);
        total++;
      });
    }
    return { watchers: watchers.size, paths: t.byPath.size, total };
  }

  /**
   * True when no watch is registered (O(1)): an apply's watch events would fire nothing,
   * so a server may apply without building them (`DataTree.apply(txn, { result: false })`).
   */
  isEmpty(): boolean {
    return this.data.byPath.size === 0 && this.child.byPath.size === 0;
  }

  /** Every watch in both tables (mntr `zk_watch_count`: data size + child size). */
  size(): number {
    return this.data.size() + this.child.size();
  }

  /** Number of recursive (watcher, path) entries per table (ZooKeeper's recursiveWatchQty). */
  recursiveWatchCount(table: WatchTableName = 'data'): number {
    return (table === 'data' ? this.data : this.child).recursiveCount;
  }

  /** `wchc`: each watcher's watched paths (data table by default), in registration order. */
  byWatcher(table: WatchTableName = 'data'): Map<W, string[]> {
    const t = table === 'data' ? this.data : this.child;
    const result = new Map<W, string[]>();
    for (const [watcher, paths] of this.watchers) {
      const set = table === 'data' ? paths.data : paths.child;
      if (set === null) continue;
      const live: string[] = [];
      for (const path of set) if (t.has(path, watcher)) live.push(path);
      if (live.length > 0) result.set(watcher, live);
    }
    return result;
  }

  /** `wchp`: each watched path's watchers (data table by default). */
  byPath(table: WatchTableName = 'data'): Map<string, W[]> {
    const t = table === 'data' ? this.data : this.child;
    const result = new Map<string, W[]>();
    for (const [path, entry] of t.byPath) {
      const list: W[] = [];
      entry.forEachWatcher((w) => list.push(w));
      result.set(path, list);
    }
    return result;
  }

  /** Drop everything. */
  clear(): void {
    this.data.byPath.clear();
    this.data.recursiveCount = 0;
    this.child.byPath.clear();
    this.child.recursiveCount = 0;
    this.watchers.clear();
  }

  private add(table: WatchTableName, watcher: W, path: string, mode: WatchMode): boolean {
    const isNew = (table === 'data' ? this.data : this.child).add(path, watcher, mode);
    let paths = this.watchers.get(watcher);
    if (paths === undefined) {
      paths = { data: null, child: null, limit: MIN_COMPACT_LIMIT };
      this.watchers.set(watcher, paths);
    }
    const set = table === 'data' ? (paths.data ??= new Set()) : (paths.child ??= new Set());
    const before = set.size;
    set.add(path);
    if (set.size !== before && (paths.data?.size ?? 0) + (paths.child?.size ?? 0) > paths.limit) {
      this.compact(watcher, paths);
    }
    return isNew;
  }

  /** Drop index paths whose watches have fired; amortised O(1) per registration. */
  private compact(watcher: W, paths: WatcherPaths): void {
    if (paths.data !== null) for (const path of paths.data) if (!this.data.has(path, watcher)) paths.data.delete(path);
    if (paths.child !== null) for (const path of paths.child) if (!this.child.has(path, watcher)) paths.child.delete(path);
    paths.limit = Math.max(MIN_COMPACT_LIMIT, 2 * ((paths.data?.size ?? 0) + (paths.child?.size ?? 0)));
  }

  private removeKey(table: WatchTableName, watcher: W, path: string): boolean {
    const found = (table === 'data' ? this.data : this.child).remove(path, watcher);
    const paths = this.watchers.get(watcher);
    if (paths !== undefined) {
      (table === 'data' ? paths.data : paths.child)?.delete(path);
      if ((paths.data?.size ?? 0) + (paths.child?.size ?? 0) === 0) this.watchers.delete(watcher);
    }
    return found;
  }
}
