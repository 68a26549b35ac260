/**
 * The `watches` checker at the client API: every watcher a simulated client registers is
 * a `WatchRegistration`, and every call of it is judged against what the connection
 * delivered (connections.ts) and against the committed log (the watch events of each
 * transaction, as the first replica to apply it produced them). ZooKeeper's guarantees,
 * as checked here:
 *
 * - A one-shot watcher (getData/exists/getChildren) is called at most once: with a node
 *   event, with `DataWatchRemoved`/`ChildWatchRemoved` after removeWatches, or with a
 *   `None` event when the session ends (Expired/Closed). A persistent watcher is called
 *   at most once per notification, and only with `PersistentWatchRemoved` or `None` at
 *   its end.
 * - A watcher is only called for events its kind covers (§13.4): data/exist watchers
 *   for NodeCreated/NodeDataChanged/NodeDeleted of their path, child watchers for
 *   NodeChildrenChanged/NodeDeleted of their path, persistent watchers for any event of
 *   their path, recursive ones for any event but NodeChildrenChanged of their subtree.
 * - Never stale: the change that fires it comes after the state its registering read
 *   saw (the reply's zxid). A one-shot watcher fired on the connection it was registered
 *   on fires for the first matching change after that zxid. After a reconnect, the event
 *   may be a SetWatches catch-up (§9.6), which must be explained by some change after
 *   that zxid (ZooKeeper then reports a delete-and-recreate as NodeDataChanged or
 *   NodeChildrenChanged, and misses a node created and deleted again while
 *   disconnected: the documented limits).
 * - None is missed (exactly once), checked at the end of the run on clients that are
 *   connected: a pending one-shot watcher registered on the current connection whose
 *   first matching change is already applied on that server missed its event; one
 *   registered before a reconnect must be registered again on the current connection
 *   (SetWatches), where the server-side check (connections.ts) takes over. A watcher of
 *   a session that ended must have been told (a `None` event) unless it fired before.
 */
import type { WatchEvent } from '../client/types.js';
import type { ObservedConnection } from './connections.js';
import { EVENT_NAMES } from './connections.js';
import { shortZxid } from './trace.js';
import { EventType } from '../protocol/constants.js';

/** The client-side kinds of watcher (the client's watch tables). */
export type WatchKind = 'data' | 'exist' | 'child' | 'persistent' | 'recursive';

const TYPE_BY_NAME: Record<string, number> = {
  NodeCreated: EventType.NodeCreated,
  NodeDeleted: EventType.NodeDeleted,
  NodeDataChanged: EventType.NodeDataChanged,
  NodeChildrenChanged: EventType.NodeChildrenChanged,
};

/** One watcher as a client registered it. */
export class WatchRegistration {
  /** The read's reply confirmed it (the client table holds it from then on). */
  registered = false;
  /** The zxid of the state the registering read saw (its reply header). */
  zxid = -1;
  /** The connection it was registered on. */
  connection: ObservedConnection | null = null;
  /** Node events it was called with. */
  fires = 0;
  /** Why it ended (a removal or session event), if it did. */
  ended: string | undefined;
  /** The notification it was last called for (persistent watchers). */
  last: unknown;
  /** The client it belongs to no longer acts (crashed): no further judgement. */
  abandoned = false;
  /** The watcher function handed to the client. */
  callback: ((event: WatchEvent) => void) | undefined;

  constructor(
    readonly id: number,
    readonly owner: string,
    readonly kind: WatchKind,
    readonly path: string,
  ) {}

  /** One-shot kinds. */
  get oneShot(): boolean {
    return this.kind === 'data' || this.kind === 'exist' || this.kind === 'child';
  }

  /** Still waiting for its event. */
  get pending(): boolean {
    return this.registered && this.ended === undefined && !(this.oneShot && this.fires > 0);
  }

  describe(): string {
    return `${this.owner}'s ${this.kind} watch #${this.id} on ${this.path} (registered at ${this.zxid >= 0 ? shortZxid(this.zxid) : '?'})`;
  }
}

/** One change in the committed log: the zxid and a watch event it caused. */
interface Change {
  zxid: number;
  type: number;
}

/** The watch checker; see the module comment. */
export class WatchChecker {
  /** Registrations made so far. */
  readonly registrations: WatchRegistration[] = [];
  /** Watcher calls judged. */
  fired = 0;
  private readonly changes = new Map<string, Change[]>();
  private lastLogged = -1;
  private readonly fail: (message: string) => void;
  private readonly current: () => { zxid: number | null; connection: ObservedConnection } | undefined;
  private readonly log: ((who: string, text: string) => void) | undefined;

  /**
   * @param fail records a violation
   * @param current the notification being dispatched right now (from the connection observer)
   * @param log traces each watcher call (when tracing)
   */
  constructor(
    fail: (message: string) => void,
    current: () => { zxid: number | null; connection: ObservedConnection } | undefined,
    log?: (who: string, text: string) => void,
  ) {
    this.fail = fail;
    this.current = current;
    this.log = log;
  }

  /** A transaction was applied for the first time (in zxid order): index its events. */
  logged(zxid: number, events: readonly { type: number; path: string }[]): void {
    if (zxid <= this.lastLogged) return;
    this.lastLogged = zxid;
    for (const e of events) {
      let list = this.changes.get(e.path);
      if (list === undefined) this.changes.set(e.path, (list = []));
      list.push({ zxid, type: e.type });
    }
  }

  /** A new watcher of `owner`; pass `watcher(registration)` to the client. */
  register(owner: string, kind: WatchKind, path: string): WatchRegistration {
    const r = new WatchRegistration(this.registrations.length + 1, owner, kind, path);
    this.registrations.push(r);
    return r;
  }

  /** The function to hand to the client for `r` (always the same one, for removeWatches). */
  watcher(r: WatchRegistration): (event: WatchEvent) => void {
    return (r.callback ??= (event) => this.called(r, event));
  }

  /** The first change of `path` after `zxid` that a watcher of `kind` reacts to. */
  firstChange(kind: WatchKind, path: string, zxid: number): Change | undefined {
    const list = this.changes.get(path);
    if (list === undefined) return undefined;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.zxid <= zxid) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < list.length; i++) if (matches(kind, list[i]!.type)) return list[i];
    return undefined;
  }

  private called(r: WatchRegistration, event: WatchEvent): void {
    if (r.abandoned) return;
    this.fired++;
    if (this.log) {
      const n = this.current();
      const cause = n === undefined ? event.state : n.zxid === null ? 'catch-up' : shortZxid(n.zxid);
      this.log(r.owner, `watch #${r.id} (${r.kind} ${r.path}) <- ${event.type} ${event.path} (${cause})`);
    }
    const who = r.describe();
    if (!r.registered) {
      this.fail(`${who} was called (${event.type} ${event.path}) before its read's reply registered it`);
      return;
    }
    if (event.type === 'None' || event.type.endsWith('Removed')) {
      if (r.ended !== undefined) this.fail(`${who} was told twice that it ended (${r.ended}, then ${event.type}/${event.state})`);
      else if (r.oneShot && r.fires > 0) this.fail(`${who} fired, then was told it ended (${event.type}/${event.state})`);
      r.ended = `${event.type}/${event.state}`;
      return;
    }
    const type = TYPE_BY_NAME[event.type];
    const notification = this.current();
    if (r.ended !== undefined) {
      this.fail(`${who} was called with ${event.type} ${event.path} after it ended (${r.ended})`);
      return;
    }
    if (r.oneShot && r.fires > 0) {
      this.fail(`${who} fired a second time (${event.type} ${event.path})`);
      return;
    }
    r.fires++;
    if (type === undefined || notification === undefined) {
      this.fail(`${who} was called with ${event.type} ${event.path} outside any notification`);
      return;
    }
    if (!r.oneShot) {
      if (r.last === notification) this.fail(`${who} was called twice for one notification (${event.type} ${event.path})`);
      r.last = notification;
    }
    if (!covers(r, type, event.path)) {
      this.fail(`${who} was called with ${event.type} ${event.path}, which a ${r.kind} watch does not cover`);
      return;
    }
    if (notification.zxid === null) {
      // A SetWatches catch-up: some change after the registration must explain it.
      if (r.oneShot && !this.explainsCatchUp(r, type)) {
        this.fail(`${who} got the catch-up ${event.type}, but no change of ${r.path} after ${shortZxid(r.zxid)} explains it`);
      }
      return;
    }
    if (notification.zxid <= r.zxid) {
      this.fail(`${who} fired for the change at ${shortZxid(notification.zxid)}, not after its registration`);
      return;
    }
    if (r.oneShot && notification.connection === r.connection) {
      const first = this.firstChange(r.kind, r.path, r.zxid);
      if (first === undefined || first.zxid !== notification.zxid || first.type !== type) {
        const was = first === undefined ? 'none is logged' : `it was ${EVENT_NAMES[first.type]} at ${shortZxid(first.zxid)}`;
        this.fail(`${who} fired for ${event.type} at ${shortZxid(notification.zxid)}, not for the first matching change after its registration (${was})`);
      }
    }
  }

  private explainsCatchUp(r: WatchRegistration, type: number): boolean {
    const list = this.changes.get(r.path) ?? [];
    const after = list.filter((c) => c.zxid > r.zxid);
    switch (type) {
      case EventType.NodeDeleted:
        return after.some((c) => c.type === EventType.NodeDeleted);
      case EventType.NodeDataChanged:
        return after.some((c) => c.type === EventType.NodeDataChanged || c.type === EventType.NodeCreated);
      case EventType.NodeCreated:
        return after.some((c) => c.type === EventType.NodeCreated);
      case EventType.NodeChildrenChanged:
        // pzxid moved: a child came or went, or the node was deleted and created again.
        return after.some((c) => c.type === EventType.NodeChildrenChanged || c.type === EventType.NodeCreated);
      default:
        return false;
    }
  }

  /**
   * End of run, for one live client connected on `connection` (see the module comment).
   * `appliedThrough` is that server's last applied zxid.
   */
  checkConnected(owner: string, connection: ObservedConnection, appliedThrough: number): void {
    for (const r of this.registrations) {
      if (r.owner !== owner || r.abandoned || !r.pending) continue;
      if (r.connection === connection) {
        if (!r.oneShot) continue;
        const first = this.firstChange(r.kind, r.path, r.zxid);
        if (first !== undefined && first.zxid <= appliedThrough) {
          this.fail(`${r.describe()} never fired, though ${EVENT_NAMES[first.type]} at ${shortZxid(first.zxid)} is applied on s${connection.server}`);
        }
      } else if (!connection.watches.holds(r.kind, r.path)) {
        this.fail(`${r.describe()} is pending in the client, but ${connection.describe()} does not hold it after the reconnect`);
      }
    }
  }

  /** End of run, for a client whose session ended: every watcher fired or was told. */
  checkEnded(owner: string, how: string): void {
    for (const r of this.registrations) {
      if (r.owner !== owner || r.abandoned || !r.pending) continue;
      this.fail(`${r.describe()} was neither fired nor told that its session ended (${how})`);
    }
  }

  /** The client crashed: its watchers are no longer judged. */
  abandon(owner: string): void {
    for (const r of this.registrations) if (r.owner === owner) r.abandoned = true;
  }
}

function matches(kind: WatchKind, type: number): boolean {
  switch (kind) {
    case 'data':
    case 'exist':
      return type === EventType.NodeCreated || type === EventType.NodeDataChanged || type === EventType.NodeDeleted;
    case 'child':
      return type === EventType.NodeChildrenChanged || type === EventType.NodeDeleted;
    case 'persistent':
      return true;
    case 'recursive':
      return type !== EventType.NodeChildrenChanged;
  }
}

function covers(r: WatchRegistration, type: number, path: string): boolean {
  if (r.kind === 'recursive') return type !== EventType.NodeChildrenChanged && (path === r.path || r.path === '/' || path.startsWith(`${r.path}/`));
  return path === r.path && matches(r.kind, type);
}
