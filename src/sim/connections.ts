/**
 * Both ends of every in-process client connection, observed without changing them: the
 * server end through a wrapped `ConnectionAcceptor` (requests in, replies and
 * notifications out), the client end through a wrapped `ChannelFactory` (requests out,
 * replies and notifications in). The two ends of one connection are linked at accept
 * time (the in-process link accepts synchronously inside the factory call).
 *
 * On top of what it sees, it keeps an independent model of each connection's
 * server-side watches (`ConnectionWatches`, ZooKeeper's rules of §13 and §9.6 written
 * out again, small and slow) and checks the server against it:
 * - every watch trigger of an applied transaction reaches exactly the connections the
 *   model says it must, once each (a registry that fires twice or drops a delivery is
 *   caught at that transaction);
 * - SetWatches catch-up events are exactly those the tree's state calls for, before the
 *   reply; no notification is sent outside an apply or a SetWatches;
 * - the client receives a connection's notifications in the order the server sent them,
 *   none twice, none out of turn (a prefix of what was sent, since a cut link drops the
 *   rest and the connection is reset).
 */
import type { ChannelFactory, ChannelHandlers, ClientChannel } from '../client/channel.js';
import { AddWatchMode, EventType, OpCode, WatcherType } from '../protocol/constants.js';
import { ErrorCode } from '../protocol/errors.js';
import type { ServerId } from '../protocol/peer.js';
import type { ClientRequest, ReplyHeader, SetWatchesRequest, WatcherEvent } from '../protocol/records.js';
import type { Txn } from '../protocol/txn.js';
import type { ClientService } from '../server/client-service.js';
import type { ConnectionAcceptor, ConnectionSink, ServerConnection } from '../server/connection.js';
import type { ApplyResult } from '../tree/data-tree.js';
import type { ServiceObserver } from './cluster.js';
import { shortZxid } from './trace.js';

/** Mode bits of a watch key in one table. */
const STANDARD = 1;
const PERSISTENT = 2;
const RECURSIVE = 4;

/** Names of the event types, for messages. */
export const EVENT_NAMES: Record<number, string> = {
  [EventType.NodeCreated]: 'NodeCreated',
  [EventType.NodeDeleted]: 'NodeDeleted',
  [EventType.NodeDataChanged]: 'NodeDataChanged',
  [EventType.NodeChildrenChanged]: 'NodeChildrenChanged',
};

/** `NodeDataChanged /a`. */
export function formatEvent(event: { type: number; path: string }): string {
  return `${EVENT_NAMES[event.type] ?? event.type} ${event.path}`;
}

/** What a connection's server-side watches should be (the model; see the module comment). */
export class ConnectionWatches {
  private readonly data = new Map<string, number>();
  private readonly child = new Map<string, number>();

  /** exists(watch) (any outcome) and getData(watch) (success): a one-shot data watch. */
  addData(path: string): void {
    this.data.set(path, (this.data.get(path) ?? 0) | STANDARD);
  }

  /** getChildren(watch) on success: a one-shot child watch. */
  addChild(path: string): void {
    this.child.set(path, (this.child.get(path) ?? 0) | STANDARD);
  }

  /** addWatch: both tables. */
  addPersistent(path: string, recursive: boolean): void {
    const bit = recursive ? RECURSIVE : PERSISTENT;
    this.data.set(path, (this.data.get(path) ?? 0) | bit);
    this.child.set(path, (this.child.get(path) ?? 0) | bit);
  }

  /** removeWatches: the key goes whatever its modes (Children → child table, Data → data, Any → both). */
  remove(path: string, watcherType: number): void {
    if (watcherType === WatcherType.Children || watcherType === WatcherType.Any) this.child.delete(path);
    if (watcherType === WatcherType.Data || watcherType === WatcherType.Any) this.data.delete(path);
  }

  /** True if a watch of `kind` (as the client names it) is registered on `path`. */
  holds(kind: 'data' | 'exist' | 'child' | 'persistent' | 'recursive', path: string): boolean {
    switch (kind) {
      case 'data':
      case 'exist':
        return ((this.data.get(path) ?? 0) & STANDARD) !== 0;
      case 'child':
        return ((this.child.get(path) ?? 0) & STANDARD) !== 0;
      case 'persistent':
        return ((this.data.get(path) ?? 0) & PERSISTENT) !== 0 && ((this.child.get(path) ?? 0) & PERSISTENT) !== 0;
      case 'recursive':
        return ((this.data.get(path) ?? 0) & RECURSIVE) !== 0 && ((this.child.get(path) ?? 0) & RECURSIVE) !== 0;
    }
  }

  /** Does one trigger reach this connection? One-shot watches it fires are removed. */
  fire(type: number, path: string): boolean {
    const childEvent = type === EventType.NodeChildrenChanged;
    let hit = false;
    if (!childEvent) hit = this.fireTable(this.data, path, false) || hit;
    if (childEvent || type === EventType.NodeDeleted) hit = this.fireTable(this.child, path, childEvent) || hit;
    return hit;
  }

  private fireTable(table: Map<string, number>, path: string, childEvent: boolean): boolean {
    let hit = false;
    const modes = table.get(path);
    if (modes !== undefined) {
      if (modes & STANDARD) {
        hit = true;
        const rest = modes & ~STANDARD;
        if (rest === 0) table.delete(path);
        else table.set(path, rest);
      }
      if (modes & PERSISTENT) hit = true;
      if (modes & RECURSIVE && !childEvent) hit = true;
    }
    if (!childEvent && path !== '/') {
      let p = path;
      while (p !== '/') {
        const slash = p.lastIndexOf('/');
        p = slash <= 0 ? '/' : p.slice(0, slash);
        if (((table.get(p) ?? 0) & RECURSIVE) !== 0) hit = true;
      }
    }
    return hit;
  }
}

/** A notification a server sent: the trigger's zxid, or null for a SetWatches catch-up. */
export interface SentNotification {
  readonly event: WatcherEvent;
  readonly zxid: number | null;
  readonly connection: ObservedConnection;
}

/** One client connection as the server and the client saw it. */
export class ObservedConnection {
  /** The session, once the handshake succeeded. */
  sessionId = 0n;
  /** The server end is open (not closed by either side as far as the server knows). */
  open = true;
  /** What the server sent, in order. */
  readonly sent: SentNotification[] = [];
  /** How many of `sent` the client received. */
  received = 0;
  /** The model of this connection's server-side watches. */
  readonly watches = new ConnectionWatches();
  /** Requests received by the server and not answered yet, by xid. */
  readonly requests = new Map<number, ClientRequest>();
  /** Notifications sent outside any apply since the last reply (SetWatches catch-up). */
  catchUp: WatcherEvent[] = [];
  /** Highest trigger zxid sent. */
  lastTrigger = 0;

  constructor(
    readonly id: number,
    readonly server: ServerId,
  ) {}

  /** `#3@s2 (session 1:7)`. */
  describe(): string {
    return `connection #${this.id}@s${this.server}${this.sessionId !== 0n ? ` (session 0x${BigInt.asUintN(64, this.sessionId).toString(16)})` : ''}`;
  }
}

/** What a client end reports to its owner (the simulated client). */
export interface ChannelListener {
  /** A handshake succeeded on `connection`. */
  connected?(connection: ObservedConnection | null): void;
  /** The client sent `request` with `xid` on `connection` (null: no server accepted it). */
  sent?(connection: ObservedConnection | null, xid: number, request: ClientRequest): void;
  /** A reply arrived (before the session layer sees it). */
  replied?(connection: ObservedConnection | null, header: ReplyHeader): void;
}

/** A violation found by the observer. */
export type ViolationSink = (message: string) => void;

interface Applying {
  server: ServerId;
  zxid: number;
  deliveries: { connection: ObservedConnection; event: WatcherEvent }[];
  /** Deliveries the model calls for, by `deliveryKey`. */
  expected: Map<string, number>;
}

function deliveryKey(c: ObservedConnection, event: { type: number; path: string }): string {
  return `${c.id}|${event.type}|${event.path}`;
}

/** Observes every connection; see the module comment. */
export class ConnectionObserver implements ServiceObserver {
  /** The notification being dispatched to the client's watchers right now, if any. */
  current: SentNotification | undefined;
  /** Notifications delivered to clients, for statistics. */
  delivered = 0;
  private nextId = 1;
  private readonly byServer = new Map<ServerId, Set<ObservedConnection>>();
  private inApply: Applying | undefined;
  private linking: { connection: ObservedConnection | null } | undefined;
  private readonly services = new Map<ServerId, ClientService>();
  private readonly fail: ViolationSink;

  constructor(fail: ViolationSink) {
    this.fail = fail;
  }

  /** Wrap server `id`'s acceptor. */
  acceptor(id: ServerId, service: ClientService): ConnectionAcceptor {
    this.services.set(id, service);
    return {
      accept: (sink, info) => {
        const observed = new ObservedConnection(this.nextId++, id);
        let set = this.byServer.get(id);
        if (set === undefined) this.byServer.set(id, (set = new Set()));
        set.add(observed);
        if (this.linking !== undefined) this.linking.connection = observed;
        const inner = service.accept(this.wrapSink(observed, sink), info);
        return this.wrapConnection(observed, inner);
      },
    };
  }

  /** Wrap a client's channel factory; `listener` hears of its requests and replies. */
  channelFactory(inner: ChannelFactory, listener: ChannelListener): ChannelFactory {
    return (address, handlers) => {
      const link: { connection: ObservedConnection | null } = { connection: null };
      let channel: ClientChannel;
      this.linking = link;
      try {
        channel = inner(address, this.wrapHandlers(link, handlers, listener));
      } finally {
        this.linking = undefined;
      }
      return {
        sendConnect: (request) => channel.sendConnect(request),
        send: (xid, request) => {
          listener.sent?.(link.connection, xid, request);
          channel.send(xid, request);
        },
        close: () => channel.close(),
      };
    };
  }

  /** The open connections of server `id`. */
  connectionsOf(id: ServerId): ReadonlySet<ObservedConnection> {
    return this.byServer.get(id) ?? new Set();
  }

  // ------------------------------------------------------------ ServiceObserver

  applying(id: ServerId, txn: Txn, result: ApplyResult): void {
    // The expectation is taken before the service fires anything: a closeSession's own
    // connection is closed right after its triggers, and must still receive them.
    const expected = new Map<string, number>();
    const open = this.byServer.get(id);
    if (open !== undefined && open.size > 0) {
      for (const event of result.events) {
        for (const c of open) {
          if (!c.open || !c.watches.fire(event.type, event.path)) continue;
          const k = deliveryKey(c, event);
          expected.set(k, (expected.get(k) ?? 0) + 1);
        }
      }
    }
    this.inApply = { server: id, zxid: txn.header.zxid, deliveries: [], expected };
  }

  applied(id: ServerId, txn: Txn): void {
    const applying = this.inApply;
    this.inApply = undefined;
    if (applying === undefined || (applying.expected.size === 0 && applying.deliveries.length === 0)) return;
    const actual = new Map<string, { n: number; connection: ObservedConnection; event: WatcherEvent }>();
    for (const d of applying.deliveries) {
      const k = deliveryKey(d.connection, d.event);
      const a = actual.get(k);
      if (a === undefined) actual.set(k, { n: 1, connection: d.connection, event: d.event });
      else a.n++;
    }
    const where = `server ${id}, txn ${shortZxid(txn.header.zxid)} (${txn.body.kind})`;
    for (const [k, a] of actual) {
      const want = applying.expected.get(k) ?? 0;
      if (a.n !== want) this.fail(`${where}: ${formatEvent(a.event)} reached ${a.connection.describe()} ${a.n} time(s), its watches call for ${want}`);
    }
    for (const [k, want] of applying.expected) {
      if (actual.has(k)) continue;
      const [cid, type, path] = k.split('|');
      this.fail(`${where}: ${formatEvent({ type: Number(type), path: path! })} never reached connection #${cid}, whose watches call for ${want}`);
    }
  }

  // ------------------------------------------------------------ wrappers

  private wrapSink(c: ObservedConnection, sink: ConnectionSink): ConnectionSink {
    return {
      connectResponse: (response) => {
        if (response.timeOut > 0) c.sessionId = response.sessionId;
        sink.connectResponse(response);
      },
      reply: (header, opcode, response) => {
        this.onServerReply(c, header, opcode);
        sink.reply(header, opcode, response);
      },
      notification: (event) => {
        const applying = this.inApply;
        if (applying !== undefined && applying.server === c.server) {
          applying.deliveries.push({ connection: c, event });
          if (applying.zxid < c.lastTrigger) this.fail(`${c.describe()}: a notification of ${shortZxid(applying.zxid)} after one of ${shortZxid(c.lastTrigger)}`);
          c.lastTrigger = applying.zxid;
          c.sent.push({ event, zxid: applying.zxid, connection: c });
        } else {
          c.catchUp.push(event);
          c.sent.push({ event, zxid: null, connection: c });
        }
        sink.notification(event);
      },
      close: (reason) => {
        this.close(c);
        sink.close(reason);
      },
    };
  }

  private wrapConnection(c: ObservedConnection, inner: ServerConnection): ServerConnection {
    return {
      connect: (request) => inner.connect(request),
      request: (xid, request) => {
        if (c.open) c.requests.set(xid, request);
        inner.request(xid, request);
      },
      closed: () => {
        this.close(c);
        inner.closed();
      },
      invalid: (xid, opcode, err) => inner.invalid(xid, opcode, err),
      get outstanding() {
        return inner.outstanding;
      },
      get sessionId() {
        return inner.sessionId;
      },
    };
  }

  private close(c: ObservedConnection): void {
    if (!c.open) return;
    c.open = false;
    c.requests.clear();
    this.byServer.get(c.server)?.delete(c);
  }

  private wrapHandlers(link: { connection: ObservedConnection | null }, handlers: ChannelHandlers, listener: ChannelListener): ChannelHandlers {
    return {
      connectResponse: (response) => {
        if (response.timeOut > 0) listener.connected?.(link.connection);
        handlers.connectResponse(response);
      },
      reply: (header, response) => {
        listener.replied?.(link.connection, header);
        handlers.reply(header, response);
      },
      notification: (event) => {
        const c = link.connection;
        let sent: SentNotification | undefined;
        if (c !== null) {
          sent = c.sent[c.received];
          if (sent === undefined || sent.event !== event) {
            this.fail(`${c.describe()}: the client received ${formatEvent(event)} as notification ${c.received + 1}, the server sent ${sent === undefined ? 'nothing more' : formatEvent(sent.event)} there`);
          } else {
            c.received++;
          }
        }
        this.delivered++;
        this.current = sent;
        try {
          handlers.notification(event);
        } finally {
          this.current = undefined;
        }
      },
      closed: (error) => handlers.closed(error),
    };
  }

  /** A reply leaves the server: the registration it confirms enters the model. */
  private onServerReply(c: ObservedConnection, header: ReplyHeader, opcode: number): void {
    const request = c.requests.get(header.xid);
    if (header.xid !== -4) c.requests.delete(header.xid);
    const isSetWatches = request !== undefined && (request.type === OpCode.setWatches || request.type === OpCode.setWatches2);
    if (!isSetWatches && c.catchUp.length > 0) {
      this.fail(`${c.describe()}: ${c.catchUp.map(formatEvent).join(', ')} sent outside any transaction and any SetWatches (before the reply to opcode ${opcode})`);
      c.catchUp = [];
    }
    if (request === undefined || !c.open) return;
    const ok = header.err === 0;
    switch (request.type) {
      case OpCode.exists:
        if (request.watch && (ok || header.err === ErrorCode.NoNode)) c.watches.addData(request.path);
        return;
      case OpCode.getData:
        if (request.watch && ok) c.watches.addData(request.path);
        return;
      case OpCode.getChildren:
      case OpCode.getChildren2:
        if (request.watch && ok) c.watches.addChild(request.path);
        return;
      case OpCode.addWatch:
        if (ok) c.watches.addPersistent(request.path, request.mode === AddWatchMode.PERSISTENT_RECURSIVE);
        return;
      case OpCode.removeWatches:
        if (ok) c.watches.remove(request.path, request.watcherType);
        return;
      case OpCode.setWatches:
      case OpCode.setWatches2:
        if (ok) this.onSetWatches(c, request);
        c.catchUp = [];
        return;
    }
  }

  /** §9.6 against the tree as the server saw it (the reply leaves in the same call). */
  private onSetWatches(c: ObservedConnection, request: SetWatchesRequest): void {
    const tree = this.services.get(c.server)!.server.tree;
    const expected: { type: number; path: string }[] = [];
    const rel = request.relativeZxid;
    for (const path of request.dataWatches) {
      const stat = tree.stat(path);
      if (stat === undefined) expected.push({ type: EventType.NodeDeleted, path });
      else if (stat.mzxid > rel) expected.push({ type: EventType.NodeDataChanged, path });
      else c.watches.addData(path);
    }
    for (const path of request.existWatches) {
      if (tree.stat(path) !== undefined) expected.push({ type: EventType.NodeCreated, path });
      else c.watches.addData(path);
    }
    for (const path of request.childWatches) {
      const stat = tree.stat(path);
      if (stat === undefined) expected.push({ type: EventType.NodeDeleted, path });
      else if (stat.pzxid > rel) expected.push({ type: EventType.NodeChildrenChanged, path });
      else c.watches.addChild(path);
    }
    for (const path of request.persistentWatches) c.watches.addPersistent(path, false);
    for (const path of request.persistentRecursiveWatches) c.watches.addPersistent(path, true);
    const got = c.catchUp.map(formatEvent).join(', ');
    const want = expected.map(formatEvent).join(', ');
    if (got !== want) this.fail(`${c.describe()}: SetWatches at ${shortZxid(rel)} sent catch-up [${got}], the tree calls for [${want}]`);
  }
}
