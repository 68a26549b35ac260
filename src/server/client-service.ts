/**
 * `ClientService`: one server's client-facing request pipeline (ZooKeeper's
 * `ZooKeeperServer` request path + `FinalRequestProcessor` + the connection factory's
 * bookkeeping). Front-ends (the TCP port, the in-process channel) open connections with
 * `accept(sink, info)` and feed it typed requests (see connection.ts); everything that
 * makes ZooKeeper's guarantees hold happens here:
 *
 * - Handshake (§4.2): not serving → close; client ahead of this server → close; timeout
 *   negotiated; a new session is a createSession transaction and the ConnectResponse goes
 *   out once this server applied it; a reconnect closes other connections of the session
 *   here, checks the password (wrong → the invalid response, then close) and revalidates
 *   at the leader. Requests that arrive before the answer wait.
 * - Per-session order: every request goes through the server's per-session FIFO
 *   (`QuorumServer.read/write/sync`): a read waits for its session's earlier writes, and
 *   replies leave in request order (auth and sasl are answered at once, as ZooKeeper's
 *   connection thread does).
 * - Reads run on the local tree with ACL checks and register watches (§13.1) in this
 *   server's `WatchRegistry`, keyed by connection. Writes go through ZAB and are answered
 *   after this server applied them. Watch notifications of an applied transaction are
 *   queued on every affected connection before that write's reply (the server emits
 *   `applied` before completing the write).
 * - Sessions (sessions.ts): every request touches its session; requests of a session the
 *   leader knows as closing or gone are dropped (§9.5); a write answered SessionMoved
 *   closes the connection without a reply; a closeSession applied here closes the
 *   session's connection without a message (unless it asked for the close: then the
 *   reply goes first).
 * - A connection silent for its session timeout is closed (ZooKeeper's connection expiry).
 * - Statistics for the four-letter words (`stats`, `connections()`).
 */
import { KeeperState, OpCode, Perms } from '../protocol/constants.js';
import { ErrorCode, ZooKeeperError } from '../protocol/errors.js';
import type {
  ClientRequest,
  ConnectRequest,
  ConnectResponse,
  Id,
  ReconfigRequest,
  SessionId,
  WatcherEvent,
  WriteRequest,
} from '../protocol/records.js';
import type { Txn } from '../protocol/txn.js';
import { epochOf } from '../protocol/zxid.js';
import type { TimerHandle } from '../runtime/clock.js';
import { authenticate, ipIdOf } from '../tree/acl.js';
import type { ApplyResult, DataTree, TxnOutcome } from '../tree/data-tree.js';
import type { WatchEvent } from '../tree/events.js';
import type { PrepareRequest } from '../tree/prepare.js';
import { toOpResults } from '../tree/results.js';
import { WatchRegistry } from '../tree/watches.js';
import { LatencyStats, ServerStats, isFrontEndConnection, opName, type ConnectionStats, type FrontEndConnection } from './client-stats.js';
import type { ConnectionAcceptor, ConnectionInfo, ConnectionSink, ServerConnection } from './connection.js';
import { ContainerReaper, type ContainerReaperOptions } from './container-reaper.js';
import type { QuorumServer } from './quorum-server.js';
import { SessionManager, type SessionOptions } from './sessions.js';
import { ExpiryQueue } from './expiry-queue.js';
import { proposalSize } from './proposal-size.js';
import { READ_ONLY_MIN_DELAY_MS, READ_ONLY_REFUSED, ReadOnlyMode } from './read-only.js';

/** Options of a server's client service. */
export interface ClientServiceOptions extends SessionOptions, ContainerReaperOptions {
  /**
   * `zookeeper.DigestAuthenticationProvider.superDigest`: `user:base64(sha1(user:password))`;
   * a connection that authenticates as that digest user passes every ACL check.
   */
  superDigest?: string;
  /**
   * ZooKeeper's `readonlymode.enabled` (read-only.ts): after `readOnlyDelayMs` of looking
   * for a quorum, serve clients that accept a read-only server (reads only; writes and
   * sync answer NotReadOnly). Default false.
   */
  readOnlyMode?: boolean;
  /** How long the server looks for a quorum before it turns read-only, ms (default: max(2000, tickTime), as ZooKeeper). */
  readOnlyDelayMs?: number;
}

/** A frame the front-end could not decode (see `ServerConnection.invalid`). */
interface InvalidFrame {
  type: 'invalid';
  opcode: number;
  err: number;
}

type Incoming = ClientRequest | InvalidFrame;

type ConnectionState = 'new' | 'connecting' | 'open' | 'closed';

const ZERO_PASSWORD = new Uint8Array(16);
const NO_IDS: readonly Id[] = Object.freeze([]);
const ADDWATCH_OK = Object.freeze({ err: 0 });
const SASL_NO_TOKEN = Object.freeze({ token: null });

/** One client connection as the pipeline sees it. */
class Connection implements ServerConnection, ConnectionStats {
  readonly id: number;
  readonly key: bigint;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly established: number;
  readonly sink: ConnectionSink;
  readonly frontEnd: FrontEndConnection | undefined;
  sessionId: SessionId = 0n;
  sessionTimeout = 0;
  packetsReceived = 0;
  packetsSent = 0;
  outstanding = 0;
  lastOp = 'NA';
  lastCxid = -1;
  lastZxid = -1;
  lastResponseTime = 0;
  lastLatency = 0;
  readonly latency = new LatencyStats();
  state: ConnectionState = 'new';
  /** The ConnectRequest carried the trailing readOnly byte: answer with one. */
  readOnlyByte = false;
  /** Established while the server was read-only: reads only, no session touches. */
  readOnlySession = false;
  /** The connection's ids; replaced (never mutated) on auth, since pending requests hold it. */
  authIds: readonly Id[];
  /** The `ip` id's address. */
  readonly ipAddress: string;
  /** Requests that arrived before the handshake finished (§4.2 step 7): xid, request, arrival time. */
  backlog: (number | Incoming)[] | null = null;
  /** closeSession received: nothing more is read; the reply comes before the close. */
  closeRequested = false;
  /** Idle-connection expiry bucket (ExpiryQueue). */
  expiresAt = 0;
  /** Session touches are sent at most once per (bucket, touch round): see `ClientService.touch`. */
  touchBucket = 0;
  touchRound = -1;
  /** The per-session FIFO's key (stable object, avoids one allocation per read). */
  readonly context = { sessionId: 0n as SessionId };
  private readonly service: ClientService;

  constructor(service: ClientService, sink: ConnectionSink, info: ConnectionInfo, id: number, now: number) {
    this.service = service;
    this.sink = sink;
    this.id = id;
    this.key = BigInt(id);
    this.remoteAddress = info.remoteAddress;
    this.remotePort = info.remotePort;
    this.established = now;
    this.frontEnd = isFrontEndConnection(sink) ? sink : undefined;
    this.ipAddress = ipIdOf(info.remoteAddress);
    this.authIds = [{ scheme: 'ip', id: this.ipAddress }];
  }

  get minLatency(): number {
    return this.latency.min;
  }

  get avgLatency(): number {
    return this.latency.avg;
  }

  get maxLatency(): number {
    return this.latency.max;
  }

  connect(request: ConnectRequest): void {
    this.service.onConnect(this, request);
  }

  request(xid: number, request: ClientRequest): void {
    this.service.onRequest(this, xid, request);
  }

  invalid(xid: number, opcode: number, err: number): void {
    this.service.onRequest(this, xid, { type: 'invalid', opcode, err });
  }

  closed(): void {
    this.service.onClosed(this);
  }
}

/** One server's client pipeline; see the module comment. */
export class ClientService implements ConnectionAcceptor {
  /** The server this pipeline fronts. */
  readonly server: QuorumServer;
  /** The session layer (ids, touches, leader expiry, revalidation). */
  readonly sessions: SessionManager;
  /** The leader's container/TTL sweep. */
  readonly containers: ContainerReaper;
  /** Server-side watches of this server's connections (`wchs`, `wchc`, `wchp`). */
  readonly watches = new WatchRegistry<ConnectionStats>();
  /**
   * This server's client statistics (`srvr`, `stat`, `mntr`; reset by `srst`): the one
   * set every front-end reports into (see client-stats.ts).
   */
  readonly stats = new ServerStats();
  /** Clock time this server began leading (-1 while it does not lead): `zk_leader_uptime`. */
  leadingSince = -1;
  /** Read-only mode (undefined unless `readOnlyMode` was asked for). */
  private readonly readOnlyMode: ReadOnlyMode | undefined;
  private readonly superDigest: string | undefined;
  private readonly connectionsByKey = new Map<bigint, Connection>();
  private readonly bySession = new Map<SessionId, Connection>();
  private readonly idle: ExpiryQueue<Connection>;
  private idleTimer: TimerHandle | undefined;
  private nextConnectionId = 1;
  // Watch delivery state for the current trigger (avoids a closure per event).
  private wireEvent: WatcherEvent | null = null;
  private readonly deliverFn = (watcher: ConnectionStats, event: WatchEvent): void => this.deliver(watcher as Connection, event);
  private readonly catchUpFn = (watcher: ConnectionStats, event: WatchEvent): void =>
    this.notify(watcher as Connection, { type: event.type, state: KeeperState.SyncConnected, path: event.path });
  private readonly nodeZxids = (path: string): { mzxid: number; pzxid: number } | undefined => this.server.tree.stat(path);

  constructor(server: QuorumServer, options: ClientServiceOptions = {}) {
    this.server = server;
    this.superDigest = options.superDigest;
    this.sessions = new SessionManager(server, options);
    this.containers = new ContainerReaper(server, options);
    this.idle = new ExpiryQueue<Connection>(server.timing.tickTime);
    // Results carry the watch events: needed only while a watch here could fire.
    server.addApplyConsumer({ wantsResult: () => !this.watches.isEmpty(), applied: (txn, result) => this.onApplied(txn, result) });
    server.on('serving', (serving) => {
      if (!serving) this.closeAll('the server stopped serving');
    });
    if (options.readOnlyMode === true) {
      const delay = options.readOnlyDelayMs ?? Math.max(READ_ONLY_MIN_DELAY_MS, server.timing.tickTime);
      this.readOnlyMode = new ReadOnlyMode(server.clock, delay, () => {}, () => this.closeAll('the server left read-only mode'));
      if (server.state === 'LOOKING') this.readOnlyMode.peerState(true);
    }
    server.on('state', (state) => {
      this.leadingSince = state === 'LEADING' ? server.clock.elapsed() : -1;
      this.readOnlyMode?.peerState(state === 'LOOKING');
      if (state === 'STOPPED') this.closeAll('the server stopped');
    });
  }

  /** True while this server has no quorum and serves read-only clients (`isro` says `ro`). */
  get readOnly(): boolean {
    return this.readOnlyMode?.enabled ?? false;
  }

  /** Sessions created while read-only, alive on this server only (`zk_local_sessions`). */
  get localSessionCount(): number {
    return this.readOnlyMode?.localSessionCount ?? 0;
  }

  /** Open a connection for a front-end (see connection.ts). */
  accept(sink: ConnectionSink, info: ConnectionInfo): ServerConnection {
    const connection = new Connection(this, sink, info, this.nextConnectionId++, this.server.clock.now());
    this.connectionsByKey.set(connection.key, connection);
    return connection;
  }

  /** Open connections (handshaking ones included). */
  get connectionCount(): number {
    return this.connectionsByKey.size;
  }

  /** Every open connection's statistics (`cons`, `stat`). */
  connections(): ConnectionStats[] {
    return [...this.connectionsByKey.values()];
  }

  /** Requests received and not answered, over all connections. */
  get outstanding(): number {
    let total = 0;
    for (const c of this.connectionsByKey.values()) total += c.outstanding;
    return total;
  }

  /** The connection of `sessionId` on this server, if any. */
  connectionOf(sessionId: SessionId): ConnectionStats | undefined {
    return this.bySession.get(sessionId);
  }

  /** Reset every connection's statistics (`crst`). */
  resetConnectionStats(): void {
    for (const c of this.connectionsByKey.values()) {
      c.packetsReceived = 0;
      c.packetsSent = 0;
      c.lastOp = 'NA';
      c.lastCxid = -1;
      c.lastZxid = -1;
      c.lastResponseTime = 0;
      c.lastLatency = 0;
      c.latency.reset();
    }
  }

  /** Close every connection (no message); sessions live on. */
  closeAll(reason: string): void {
    for (const c of [...this.connectionsByKey.values()]) this.abort(c, reason);
  }

  // ------------------------------------------------------------------ handshake

  /** @internal */
  onConnect(c: Connection, request: ConnectRequest): void {
    if (c.state !== 'new') {
      this.abort(c, 'a second ConnectRequest');
      return;
    }
    this.stats.packetsReceived++;
    this.stats.connectionRequests++;
    c.packetsReceived++;
    c.state = 'connecting';
    c.readOnlyByte = request.readOnly !== undefined;
    const server = this.server;
    if (!server.serving) {
      // A read-only server takes the clients that accept one (§4.2 step 4).
      if (this.readOnly && request.readOnly === true) this.connectReadOnly(c, request);
      else this.abort(c, 'this server is not serving');
      return;
    }
    if (request.lastZxidSeen > server.lastAppliedZxid) {
      // §4.2 step 5: the client has seen more than this server; it must try another.
      this.abort(c, `the client has seen zxid 0x${request.lastZxidSeen.toString(16)}, beyond this server's 0x${server.lastAppliedZxid.toString(16)}`);
      return;
    }
    const timeout = this.sessions.negotiate(request.timeOut);
    const start = server.clock.elapsed();
    if (request.sessionId === 0n) {
      const sessionId = this.sessions.allocate();
      server.write({ type: OpCode.createSession, timeout }, { sessionId, cxid: 0, authIds: NO_IDS }, (result) => {
        if (c.state !== 'connecting') return; // the client left: the session expires unused
        if (result instanceof ZooKeeperError) this.abort(c, 'the server stopped serving');
        else this.establish(c, sessionId, timeout, start);
      });
      return;
    }
    const sessionId = request.sessionId;
    const other = this.bySession.get(sessionId);
    if (other !== undefined) this.abort(other, 'the session reconnected');
    if (!this.sessions.checkPassword(sessionId, request.passwd)) {
      this.refuse(c);
      return;
    }
    this.sessions.revalidate(sessionId, timeout, (valid) => {
      if (c.state !== 'connecting') return;
      if (valid === undefined) this.abort(c, 'the server stopped serving');
      else if (valid) this.establish(c, sessionId, timeout, start);
      else this.refuse(c);
    });
  }

  /** The handshake on a read-only server: a new session lives here only; a tree session may reattach. */
  private connectReadOnly(c: Connection, request: ConnectRequest): void {
    const tree = this.server.tree;
    if (request.lastZxidSeen > tree.lastProcessedZxid) {
      this.abort(c, `the client has seen zxid 0x${request.lastZxidSeen.toString(16)}, beyond this server's 0x${tree.lastProcessedZxid.toString(16)}`);
      return;
    }
    const mode = this.readOnlyMode!;
    const timeout = this.sessions.negotiate(request.timeOut);
    const start = this.server.clock.elapsed();
    c.readOnlySession = true;
    let sessionId = request.sessionId;
    if (sessionId === 0n) {
      sessionId = this.sessions.allocate();
      mode.createSession(sessionId, timeout);
    } else {
      const other = this.bySession.get(sessionId);
      if (other !== undefined) this.abort(other, 'the session reconnected');
      if (!this.sessions.checkPassword(sessionId, request.passwd) || !(mode.attach(sessionId) || tree.sessions.has(sessionId))) {
        this.refuse(c);
        return;
      }
    }
    this.establish(c, sessionId, timeout, start);
  }

  /** A request on a read-only connection: reads on the local tree, NotReadOnly for the rest. */
  private processReadOnly(c: Connection, xid: number, request: Incoming, start: number): void {
    const tree = this.server.tree;
    const type = request.type;
    if (type === 'invalid') {
      const frame = request as InvalidFrame;
      const unimplemented = frame.err === ErrorCode.Unimplemented;
      this.reply(c, xid, unimplemented ? -1 : tree.lastProcessedZxid, frame.err, frame.opcode, undefined, start);
      if (unimplemented) this.abort(c, `unsupported request (opcode ${frame.opcode})`);
      return;
    }
    if (READ_ONLY_REFUSED.has(type)) {
      this.reply(c, xid, tree.lastProcessedZxid, ErrorCode.NotReadOnly, type, undefined, start);
      return;
    }
    if (type === OpCode.closeSession) {
      c.closeRequested = true;
      this.readOnlyMode?.close(c.sessionId);
      this.reply(c, xid, tree.lastProcessedZxid, 0, OpCode.closeSession, undefined, start);
      this.abort(c, 'the session was closed');
      return;
    }
    this.evaluate(c, xid, request, tree, start);
  }

  private establish(c: Connection, sessionId: SessionId, timeout: number, start: number): void {
    const other = this.bySession.get(sessionId);
    if (other !== undefined && other !== c) this.abort(other, 'the session reconnected');
    c.state = 'open';
    c.sessionId = sessionId;
    c.context.sessionId = sessionId;
    c.sessionTimeout = timeout;
    this.bySession.set(sessionId, c);
    const now = this.server.clock.elapsed();
    this.idle.touch(c, now, timeout);
    this.scheduleIdle();
    if (!c.readOnlySession) this.sessions.touch(sessionId, timeout);
    this.account(c, -1, this.server.lastAppliedZxid, OpCode.createSession, start, now);
    const response: ConnectResponse = {
      protocolVersion: 0,
      timeOut: timeout,
      sessionId,
      passwd: this.sessions.password(sessionId),
      readOnly: c.readOnlyByte ? c.readOnlySession : undefined,
    };
    c.sink.connectResponse(response);
    const backlog = c.backlog;
    c.backlog = null;
    if (backlog === null) return;
    for (let i = 0; i < backlog.length && c.state === 'open' && !c.closeRequested; i += 3) {
      this.process(c, backlog[i] as number, backlog[i + 1] as Incoming, backlog[i + 2] as number);
    }
  }

  /** §4.3: the invalid ConnectResponse (expired, unknown, wrong password), then close. */
  private refuse(c: Connection): void {
    this.stats.packetsSent++;
    c.packetsSent++;
    c.sink.connectResponse({ protocolVersion: 0, timeOut: 0, sessionId: 0n, passwd: ZERO_PASSWORD, readOnly: c.readOnlyByte ? false : undefined });
    this.abort(c, 'session expired or invalid');
  }

  // ------------------------------------------------------------------ requests

  /** @internal */
  onRequest(c: Connection, xid: number, request: Incoming): void {
    if (c.state === 'closed' || c.closeRequested) return;
    if (c.state === 'new') {
      this.abort(c, 'a request before the ConnectRequest');
      return;
    }
    this.stats.packetsReceived++;
    c.packetsReceived++;
    c.outstanding++;
    const now = this.server.clock.elapsed();
    if (c.state === 'connecting') {
      (c.backlog ??= []).push(xid, request, now);
      return;
    }
    this.process(c, xid, request, now);
  }

  /** @internal */
  onClosed(c: Connection): void {
    if (c.state === 'closed') return;
    c.state = 'closed';
    this.forget(c);
  }

  private process(c: Connection, xid: number, request: Incoming, start: number): void {
    this.idle.touch(c, start, c.sessionTimeout);
    const type = request.type;
    // Answered by the connection at once, as ZooKeeper's processPacket does (no touch).
    if (type === OpCode.auth) {
      this.auth(c, xid, request, start);
      return;
    }
    if (type === OpCode.sasl) {
      // Without SASL configured ZooKeeper answers OK with a null token (its SASL server is null).
      this.reply(c, xid, 0, 0, OpCode.sasl, SASL_NO_TOKEN, start);
      return;
    }
    if (c.readOnlySession) {
      this.processReadOnly(c, xid, request, start);
      return;
    }
    if (!this.touch(c, start)) {
      // §9.5: the leader has the session as closing or gone: drop the request.
      this.stats.dropped++;
      c.outstanding--;
      return;
    }
    switch (type) {
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createContainer:
      case OpCode.createTTL:
      case OpCode.delete:
      case OpCode.setData:
      case OpCode.setACL:
      case OpCode.multi:
        this.write(c, xid, request, start);
        return;
      case OpCode.closeSession:
        this.closeSession(c, xid, start);
        return;
      case OpCode.sync:
        this.sync(c, xid, request.path, start);
        return;
      case OpCode.exists:
      case OpCode.getData:
      case OpCode.getChildren:
      case OpCode.getChildren2:
      case OpCode.getACL:
      case OpCode.getAllChildrenNumber:
      case OpCode.getEphemerals:
      case OpCode.multiRead:
      case OpCode.whoAmI:
      case OpCode.ping:
      case OpCode.setWatches:
      case OpCode.setWatches2:
      case OpCode.addWatch:
      case OpCode.checkWatches:
      case OpCode.removeWatches:
        this.server.read(
          c.context,
          (tree) => this.evaluate(c, xid, request, tree, start),
          (result) => {
            if (result instanceof ZooKeeperError) this.abort(c, 'the server stopped serving');
          },
        );
        return;
      case OpCode.reconfig:
        if (this.server.reconfigEnabled) this.reconfig(c, xid, request, start);
        // reconfigEnabled=false (the default): answered here, in request order.
        else this.inOrder(c, xid, OpCode.reconfig, ErrorCode.ReconfigDisabled, false, start);
        return;
      case 'invalid': {
        const frame = request as InvalidFrame;
        this.inOrder(c, xid, frame.opcode, frame.err, frame.err === ErrorCode.Unimplemented, start);
        return;
      }
      default:
        // check (13) outside multi, and any opcode a client may not send: 3.8.5's answer.
        this.inOrder(c, xid, type as number, ErrorCode.Unimplemented, true, start);
    }
  }

  /**
   * Touch the session (§9.1): every request counts, but the session layer only needs to
   * hear of it when it changes something — a later expiry bucket (leader) or a new PING
   * round (learner) — so repeated touches within one tick cost a comparison.
   */
  private touch(c: Connection, now: number): boolean {
    const bucket = this.idle.bucketOf(now, c.sessionTimeout);
    const round = this.sessions.touchRound;
    if (bucket === c.touchBucket && round === c.touchRound) return true;
    if (!this.sessions.touch(c.sessionId, c.sessionTimeout)) return false;
    c.touchBucket = bucket;
    c.touchRound = round;
    return true;
  }

  /** A header-only error reply in request order; `close` ends the connection after it. */
  private inOrder(c: Connection, xid: number, opcode: number, err: number, close: boolean, start: number): void {
    this.server.read(
      c.context,
      (tree) => {
        // Unimplemented was never assigned a zxid: -1 (§5.2).
        this.reply(c, xid, err === ErrorCode.Unimplemented ? -1 : tree.lastProcessedZxid, err, opcode, undefined, start);
        if (close) this.abort(c, `unsupported request (opcode ${opcode})`);
      },
      (result) => {
        if (result instanceof ZooKeeperError) this.abort(c, 'the server stopped serving');
      },
    );
  }

  /** Reads and watch operations on the local tree (§13.1). */
  private evaluate(c: Connection, xid: number, request: ClientRequest, tree: DataTree, start: number): void {
    if (c.state === 'closed') return;
    const ids = c.authIds;
    let err = 0;
    let response: unknown;
    switch (request.type) {
      case OpCode.exists: {
        const path = request.path;
        if (path.indexOf('\0') >= 0) {
          err = ErrorCode.BadArguments;
          break;
        }
        const stat = tree.stat(path);
        // [3.8.4+] an existing node needs READ; then no watch is set.
        if (stat !== undefined && !tree.canAccess(path, Perms.READ, ids)) {
          err = ErrorCode.NoAuth;
          break;
        }
        if (request.watch) this.watches.addDataWatch(c, path);
        if (stat === undefined) err = ErrorCode.NoNode;
        else response = { stat };
        break;
      }
      case OpCode.getData: {
        err = tree.checkAccess(request.path, Perms.READ, ids);
        if (err !== 0) break;
        if (request.watch) this.watches.addDataWatch(c, request.path);
        response = tree.getData(request.path);
        break;
      }
      case OpCode.getChildren:
      case OpCode.getChildren2: {
        const path = request.path;
        err = tree.checkAccess(path, Perms.READ, ids);
        if (err !== 0) break;
        if (request.watch) this.watches.addChildWatch(c, path);
        const children = tree.getChildren(path)!;
        response = request.type === OpCode.getChildren ? { children } : { children, stat: tree.stat(path)! };
        break;
      }
      case OpCode.getACL:
        err = tree.checkAccess(request.path, Perms.READ | Perms.ADMIN, ids);
        if (err === 0) response = tree.getACL(request.path, ids);
        break;
      case OpCode.getAllChildrenNumber:
        err = tree.checkAccess(request.path, Perms.READ, ids);
        if (err === 0) response = { totalNumber: tree.getAllChildrenNumber(request.path)! };
        break;
      case OpCode.getEphemerals:
        response = { ephemerals: tree.getEphemerals(c.sessionId, request.prefixPath) };
        break;
      case OpCode.multiRead:
        response = { results: tree.multiRead(request.ops, ids) };
        break;
      case OpCode.whoAmI:
        response = { clientInfo: ids.map(clientInfoOf) };
        break;
      case OpCode.ping:
        // Always xid -2, whatever the request carried (§5.3).
        this.reply(c, -2, tree.lastProcessedZxid, 0, OpCode.ping, undefined, start);
        return;
      case OpCode.setWatches:
      case OpCode.setWatches2:
        // Catch-up events go out before the reply (§9.6).
        this.watches.setWatches(c, request, this.nodeZxids, this.catchUpFn);
        break;
      case OpCode.addWatch:
        if (request.mode === 0 || request.mode === 1) {
          this.watches.addPersistentWatch(c, request.path, request.mode === 1);
          response = ADDWATCH_OK;
        } else {
          err = ErrorCode.MarshallingError;
        }
        break;
      case OpCode.checkWatches:
      case OpCode.removeWatches:
        if (!this.watches.removeWatches(c, request.path, request.watcherType, { dryRun: request.type === OpCode.checkWatches })) {
          err = ErrorCode.NoWatcher;
        }
        break;
      default:
        err = ErrorCode.Unimplemented;
    }
    this.reply(c, xid, tree.lastProcessedZxid, err, request.type, response, start);
  }

  private write(c: Connection, xid: number, request: WriteRequest, start: number): void {
    this.server.write(request as PrepareRequest, { sessionId: c.sessionId, cxid: xid, authIds: c.authIds }, (result) => {
      if (c.state === 'closed') return;
      if (result instanceof ZooKeeperError) {
        this.abort(c, 'the server stopped serving');
        return;
      }
      if (result.err === ErrorCode.SessionMoved || movedInMulti(result.outcome)) {
        // The session belongs to another server now: close, no reply (FinalRequestProcessor).
        this.abort(c, 'the session moved to another server');
        return;
      }
      this.reply(c, xid, result.zxid, result.err, request.type, result.err === 0 ? responseOf(request, result.outcome) : undefined, start);
    });
  }

  /**
   * reconfig (16), ordered through the leader like a write (src/machines/reconfig.ts).
   * The reply is getData's: the configuration now current here and the Stat of
   * `/zookeeper/config` (ZooKeeper's FinalRequestProcessor).
   */
  private reconfig(c: Connection, xid: number, request: ReconfigRequest, start: number): void {
    this.server.write(request, { sessionId: c.sessionId, cxid: xid, authIds: c.authIds }, (result) => {
      if (c.state === 'closed') return;
      if (result instanceof ZooKeeperError) {
        this.abort(c, 'the server stopped serving');
        return;
      }
      if (result.err === ErrorCode.SessionMoved) {
        this.abort(c, 'the session moved to another server');
        return;
      }
      const node = result.err === 0 ? this.server.tree.getData('/zookeeper/config') : undefined;
      this.reply(c, xid, result.zxid, result.err, OpCode.reconfig, node, start);
    });
  }

  private closeSession(c: Connection, xid: number, start: number): void {
    c.closeRequested = true;
    this.sessions.setClosing(c.sessionId);
    this.server.write({ type: OpCode.closeSession }, { sessionId: c.sessionId, cxid: xid, authIds: c.authIds }, (result) => {
      if (c.state === 'closed') return;
      if (result instanceof ZooKeeperError) {
        this.abort(c, 'the server stopped serving');
        return;
      }
      // §9.4: reply, then close (the session's NodeDeleted events went out before).
      this.reply(c, xid, result.zxid, result.err, OpCode.closeSession, undefined, start);
      this.abort(c, 'the session was closed');
    });
  }

  private sync(c: Connection, xid: number, path: string, start: number): void {
    this.server.sync(path, { sessionId: c.sessionId, cxid: xid, authIds: c.authIds }, (result) => {
      if (c.state === 'closed') return;
      if (result instanceof ZooKeeperError) this.abort(c, 'the server stopped serving');
      else this.reply(c, xid, result.zxid, 0, OpCode.sync, { path }, start);
    });
  }

  private auth(c: Connection, xid: number, request: Extract<ClientRequest, { type: typeof OpCode.auth }>, start: number): void {
    let ids: Id[];
    try {
      ids = authenticate(request.scheme, request.auth, { superDigest: this.superDigest, remoteAddress: c.ipAddress });
    } catch {
      // §6: AuthFailed, then close. Auth replies carry zxid 0 (§5.2).
      this.stats.authFailed++;
      this.reply(c, xid, 0, ErrorCode.AuthFailed, OpCode.auth, undefined, start);
      this.abort(c, 'authentication failed');
      return;
    }
    const added = ids.filter((id) => !c.authIds.some((have) => have.scheme === id.scheme && have.id === id.id));
    if (added.length > 0) c.authIds = [...c.authIds, ...added];
    this.reply(c, xid, 0, 0, OpCode.auth, undefined, start);
  }

  // ------------------------------------------------------------------ output

  private reply(c: Connection, xid: number, zxid: number, err: number, opcode: number, response: unknown, start: number): void {
    if (c.state === 'closed') return;
    c.outstanding--;
    this.account(c, xid, zxid, opcode, start, this.server.clock.elapsed());
    c.sink.reply({ xid, zxid, err }, opcode, err === 0 ? response : undefined);
  }

  private account(c: Connection, xid: number, zxid: number, opcode: number, start: number, now: number): void {
    this.stats.packetsSent++;
    c.packetsSent++;
    // Auth and sasl are answered by the connection, outside the request pipeline: as in
    // ZooKeeper they leave lastOp, lastCxid and the latencies alone.
    if (opcode === OpCode.auth || opcode === OpCode.sasl) return;
    const latency = Math.floor(now - start); // whole ms, as ZooKeeper counts them
    this.stats.latency.add(latency);
    c.lastOp = opName(opcode);
    if (xid >= 0) c.lastCxid = xid;
    c.lastZxid = zxid;
    c.lastResponseTime = this.server.clock.now(); // shown as a timestamp (cons lresp)
    c.lastLatency = latency;
    c.latency.add(latency);
  }

  /** A trigger's delivery: every connection gets the same WatcherEvent object. */
  private deliver(c: Connection, event: WatchEvent): void {
    if (c.state === 'closed') return;
    const wire = this.wireEvent ?? (this.wireEvent = { type: event.type, state: KeeperState.SyncConnected, path: event.path });
    this.notify(c, wire);
  }

  private notify(c: Connection, event: WatcherEvent): void {
    if (c.state === 'closed') return;
    this.stats.packetsSent++;
    c.packetsSent++;
    c.sink.notification(event);
  }

  // ------------------------------------------------------------------ server events

  private onApplied(txn: Txn, result: ApplyResult | undefined): void {
    // The leader's proposals of its own epoch (not the history it committed on taking over).
    if (this.leadingSince >= 0 && epochOf(txn.header.zxid) === this.server.epoch) this.stats.proposalSizes.add(proposalSize(txn));
    if (result !== undefined) {
      const events = result.events;
      for (let i = 0; i < events.length; i++) {
        this.wireEvent = null; // one shared WatcherEvent per trigger, made on first delivery
        this.watches.trigger(events[i]!, this.deliverFn);
      }
    }
    if (txn.body.kind === 'closeSession') {
      // §9.1: every server closes the session's connection, without a message; the
      // connection that asked for the close gets its reply first (closeSession above).
      const c = this.bySession.get(txn.header.sessionId);
      if (c !== undefined && !c.closeRequested) this.abort(c, 'the session expired');
    }
  }

  /** Close `c` from the server side (the sink hears `close`). */
  private abort(c: Connection, reason: string): void {
    if (c.state === 'closed') return;
    c.state = 'closed';
    this.forget(c);
    c.sink.close(reason);
  }

  private forget(c: Connection): void {
    if (c.readOnlySession && c.sessionId !== 0n && !c.closeRequested) this.readOnlyMode?.detach(c.sessionId);
    this.connectionsByKey.delete(c.key);
    if (this.bySession.get(c.sessionId) === c) this.bySession.delete(c.sessionId);
    this.watches.removeWatcher(c);
    this.idle.remove(c);
    c.backlog = null;
  }

  /** Close connections silent for their session timeout (ZooKeeper's connection expiry). */
  private scheduleIdle(): void {
    if (this.idleTimer !== undefined || this.idle.size === 0) return;
    const clock = this.server.clock;
    this.idleTimer = clock.setTimeout(() => {
      this.idleTimer = undefined;
      for (const c of this.idle.takeExpired(clock.elapsed())) this.abort(c, 'the connection was idle for its session timeout');
      this.scheduleIdle();
    }, Math.max(0, this.idle.nextExpiration() - clock.elapsed()));
  }
}

/** The reply body of a successful write. */
function responseOf(request: WriteRequest, outcome: TxnOutcome): unknown {
  switch (request.type) {
    case OpCode.create:
      return { path: (outcome as { path: string }).path };
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL: {
      const created = outcome as Extract<TxnOutcome, { kind: 'create' }>;
      return { path: created.path, stat: created.stat };
    }
    case OpCode.setData:
    case OpCode.setACL:
      return { stat: (outcome as { stat: unknown }).stat };
    case OpCode.multi:
      return { results: toOpResults(request.ops, (outcome as Extract<TxnOutcome, { kind: 'multi' }>).results) };
    default:
      return undefined;
  }
}

/** A multi whose session check said SessionMoved (§12.2: the connection is closed). */
function movedInMulti(outcome: TxnOutcome): boolean {
  if (outcome.kind !== 'multi') return false;
  for (const r of outcome.results) if (r.kind === 'error' && r.err === ErrorCode.SessionMoved) return true;
  return false;
}

/** whoAmI's entry for an id: the digest user name, else the id (`AuthUtil.getClientInfos`). */
function clientInfoOf(id: Id): { authScheme: string; user: string } {
  if (id.scheme === 'digest') {
    const colon = id.id.indexOf(':');
    return { authScheme: 'digest', user: colon < 0 ? id.id : id.id.slice(0, colon) };
  }
  return { authScheme: id.scheme, user: id.id };
}
