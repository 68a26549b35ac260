/**
 * The client's watch table, dispatching server events exactly as Java's
 * `ZKWatchManager.materialize` (reference §13.4):
 *
 * | event                          | fires and removes                 | also fires (kept)                          |
 * |--------------------------------|-----------------------------------|--------------------------------------------|
 * | NodeCreated, NodeDataChanged   | data and exist watchers of path   | persistent on path; recursive on path and every ancestor |
 * | NodeChildrenChanged            | child watchers of path            | persistent on path (never recursive ones)  |
 * | NodeDeleted                    | data, exist and child watchers    | persistent on path; recursive on path and ancestors |
 *
 * Recursive watchers never see NodeChildrenChanged (the branch-head Java client filters
 * it: the server only sends it because of a standard child watch on the same path).
 * A watcher registered several times (same function) fires once per event, as in
 * Java's `Set<Watcher>`. Paths here are client paths (chroot stripped).
 */
import { EventType, WatcherType } from '../protocol/constants.js';
import { selfAndAncestors } from './paths.js';
import type { WatchRemovedEventType, Watcher } from './types.js';

/** The five tables of the client. */
export type WatchKind = 'data' | 'exist' | 'child' | 'persistent' | 'recursive';

/** Every watched path per table, for SetWatches after a reconnect. */
export interface WatchLists {
  data: string[];
  exist: string[];
  child: string[];
  persistent: string[];
  recursive: string[];
}

/** A watcher removed by `remove`, with the local event it must receive. */
export interface RemovedWatcher {
  watcher: Watcher;
  type: WatchRemovedEventType;
}

type Table = Map<string, Set<Watcher>>;

/** Client-side watch registrations. */
export class WatchManager {
  private readonly tables: Record<WatchKind, Table> = {
    data: new Map(),
    exist: new Map(),
    child: new Map(),
    persistent: new Map(),
    recursive: new Map(),
  };

  /** Register `watcher` on `path` in table `kind`. */
  add(kind: WatchKind, path: string, watcher: Watcher): void {
    const table = this.tables[kind];
    let set = table.get(path);
    if (set === undefined) table.set(path, (set = new Set()));
    set.add(watcher);
  }

  /**
   * The watchers a server event fires (`type` is a node EventType). One-shot watchers
   * are removed from their tables; persistent ones stay.
   */
  materialize(type: number, path: string): Set<Watcher> {
    const result = new Set<Watcher>();
    const { data, exist, child } = this.tables;
    switch (type) {
      case EventType.NodeCreated:
      case EventType.NodeDataChanged:
        take(data, path, result);
        take(exist, path, result);
        break;
      case EventType.NodeChildrenChanged:
        take(child, path, result);
        break;
      case EventType.NodeDeleted:
        take(data, path, result);
        take(exist, path, result);
        take(child, path, result);
        break;
      default:
        return result; // unknown types fire nothing (a newer server's event)
    }
    addAll(this.tables.persistent.get(path), result);
    if (type !== EventType.NodeChildrenChanged && this.tables.recursive.size > 0) {
      for (const p of selfAndAncestors(path)) addAll(this.tables.recursive.get(p), result);
    }
    return result;
  }

  /**
   * True if `path` has a watcher (or `watcher`, if given) that `removeWatches` of this
   * type would address. As in Java, Children and Data also count persistent watchers.
   */
  contains(path: string, watcherType: WatcherType, watcher?: Watcher): boolean {
    const kinds: WatchKind[] =
      watcherType === WatcherType.Children
        ? ['child', 'persistent', 'recursive']
        : watcherType === WatcherType.Data
          ? ['data', 'exist', 'persistent', 'recursive']
          : ['child', 'data', 'exist', 'persistent', 'recursive'];
    return kinds.some((kind) => has(this.tables[kind], path, watcher));
  }

  /**
   * Remove the watchers of `watcherType` on `path` (only `watcher`, if given) and return
   * them with the event each must receive. Children removes child watchers; Data removes
   * data and exist watchers; Any removes those and the persistent and recursive ones.
   */
  remove(path: string, watcherType: WatcherType, watcher?: Watcher): RemovedWatcher[] {
    const removed: RemovedWatcher[] = [];
    const from = (kind: WatchKind, type: WatchRemovedEventType): void => {
      for (const w of drop(this.tables[kind], path, watcher)) removed.push({ watcher: w, type });
    };
    if (watcherType === WatcherType.Children || watcherType === WatcherType.Any) from('child', 'ChildWatchRemoved');
    if (watcherType === WatcherType.Data || watcherType === WatcherType.Any) {
      from('data', 'DataWatchRemoved');
      from('exist', 'DataWatchRemoved');
    }
    if (watcherType === WatcherType.Any) {
      from('persistent', 'PersistentWatchRemoved');
      from('recursive', 'PersistentWatchRemoved');
    }
    return removed;
  }

  /** True if `watcher` is registered on `path` and no other watcher is, in any table. */
  onlyWatcherOn(path: string, watcher: Watcher): boolean {
    let found = false;
    for (const table of Object.values(this.tables)) {
      const set = table.get(path);
      if (set === undefined) continue;
      for (const w of set) {
        if (w !== watcher) return false;
        found = true;
      }
    }
    return found;
  }

  /** Every watched path per table (for SetWatches). */
  lists(): WatchLists {
    const keys = (kind: WatchKind): string[] => [...this.tables[kind].keys()];
    return { data: keys('data'), exist: keys('exist'), child: keys('child'), persistent: keys('persistent'), recursive: keys('recursive') };
  }

  /** True when nothing is registered. */
  get isEmpty(): boolean {
    return Object.values(this.tables).every((t) => t.size === 0);
  }

  /** Number of (path, watcher) registrations over all tables. */
  get size(): number {
    let n = 0;
    for (const table of Object.values(this.tables)) for (const set of table.values()) n += set.size;
    return n;
  }

  /**
   * Remove every watcher and return each once, with one path it watched, for the
   * session-ended event.
   */
  clear(): Map<Watcher, string> {
    const all = new Map<Watcher, string>();
    for (const table of Object.values(this.tables)) {
      for (const [path, set] of table) for (const w of set) if (!all.has(w)) all.set(w, path);
      table.clear();
    }
    return all;
  }
}

function addAll(from: Set<Watcher> | undefined, to: Set<Watcher>): void {
  if (from !== undefined) for (const w of from) to.add(w);
}

function take(table: Table, path: string, to: Set<Watcher>): void {
  const set = table.get(path);
  if (set !== undefined) {
    table.delete(path);
    addAll(set, to);
  }
}

function has(table: Table, path: string, watcher: Watcher | undefined): boolean {
  const set = table.get(path);
  if (set === undefined || set.size === 0) return false;
  return watcher === undefined || set.has(watcher);
}

function drop(table: Table, path: string, watcher: Watcher | undefined): Watcher[] {
  const set = table.get(path);
  if (set === undefined) return [];
  if (watcher === undefined) {
    table.delete(path);
    return [...set];
  }
  if (!set.delete(watcher)) return [];
  if (set.size === 0) table.delete(path);
  return [watcher];
}
