/**
 * One replica of an ensemble: a transport endpoint, a storage, a `ZabDatabase` (tree +
 * log), and the peer machine actor, glued together (principle 1: the machines do no I/O;
 * this class is their I/O).
 *
 * The request API is deliberately small (sessions and connections come next, on top of it):
 * - `write(request, ctx, done)`: ordered through the leader (forwarded as REQUEST from a
 *   learner); `done` gets the `ApplyResult` once THIS server applied the committed
 *   transaction (read-your-writes here), or `ConnectionLossError` if the server is not
 *   serving or stops serving while the write is pending (outcome unknown);
 * - `sync(path, ctx, done)`: §16.9; afterwards this server has applied every write
 *   committed before the sync was issued;
 * - `read(ctx, fn, done)`: runs `fn` on the local tree, after the session's pending
 *   requests (per-session FIFO);
 * - the same as Promises (`writeAsync`, `syncAsync`, `readAsync`), for tests at the edge.
 *
 * Callbacks run synchronously when the outcome is known (inside the commit step), except
 * immediate ConnectionLoss answers, which are deferred through the clock. For every
 * applied transaction the `applied` event fires BEFORE the write's callback, so watch
 * notifications precede the reply of the write that caused them.
 *
 * The session layer (`ClientService`, sessions.ts) plugs in through `setSessionHooks`:
 * touches in PINGs, the leader's session check, REVALIDATE.
 *
 * Applied transactions reach `ApplyConsumer`s (`addApplyConsumer`, in registration
 * order), then `applied` listeners. A result (outcome, Stats, watch events) is built only
 * when someone reads it: a local write waits for it, an `applied` listener exists, or a
 * consumer asks (the client service, while it holds watches). A follower with no local
 * client and no watches applies without building one, as most replicas do most of the time.
 *
 * Configuration (dynamic reconfiguration, src/machines/reconfig.ts): `config` is the
 * current configuration, `membership` its voters and observers. A fresh tree's
 * `/zookeeper/config` holds the static configuration (the options' membership with the
 * addresses given, version 0; empty for a standalone server, as ZooKeeper's); a reconfig
 * transaction replaces it on every replica and, once applied here, becomes current
 * (`config` event). On start the configuration in the tree wins over the static one if a
 * reconfig wrote it, so a restart keeps a reconfigured membership (storage persists it
 * with the tree and log).
 */
import { EventEmitter } from 'eventemitter3';
import { createActor, type Actor, type InspectionEvent, type Observer } from 'xstate';
import { OpCode } from '../protocol/constants.js';
import { ConnectionLossError, ZooKeeperError } from '../protocol/errors.js';
import type { NotificationMessage, PeerMessage, ServerId, SessionTouch } from '../protocol/peer.js';
import type { Id, ReconfigRequest, SessionId } from '../protocol/records.js';
import type { Txn } from '../protocol/txn.js';
import type { Zxid } from '../protocol/zxid.js';
import type { Clock } from '../runtime/clock.js';
import type { Random } from '../runtime/random.js';
import type { Storage } from '../storage/types.js';
import type { Transport } from '../transport/types.js';
import type { ApplyResult, DataTree, DataTreeOptions } from '../tree/data-tree.js';
import type { PrepareRequest } from '../tree/prepare.js';
import { ZabDatabase } from '../machines/database.js';
import { electionMachine, establishedVote, voteReply, type ElectionInput, type ElectionResult, type EstablishedVote } from '../machines/election.js';
import type { RoleCore, SubmittedWrite, ZabOptions, ZabTraceEvent } from '../machines/host.js';
import { Outbox } from '../machines/outbox.js';
import { peerMachine, type PeerServerHost } from '../machines/peer.js';
import { validateMembership, type Membership } from '../machines/quorum.js';
import {
  configLines,
  decodeConfig,
  encodeConfig,
  membershipOfConfig,
  staticConfig,
  type QuorumConfig,
  type ServerAddressLike,
} from '../machines/reconfig-config.js';
import { staticElectionMachine } from '../machines/static-election.js';
import { resolveTiming, type ZabTiming } from '../machines/timing.js';
import { PendingRequests, type PendingEntry } from './pending-requests.js';

/** A server's ZAB state: ZooKeeper's ServerState, plus STOPPED when not running. */
export type PeerState = 'LOOKING' | 'LEADING' | 'FOLLOWING' | 'OBSERVING' | 'STOPPED';

/** A server's role in words (ZooKeeper's `srvr` "Mode", plus looking/stopped). */
export type ServerRole = 'leader' | 'follower' | 'observer' | 'looking' | 'stopped';

const ROLE_NAMES: Record<PeerState, ServerRole> = {
  LOOKING: 'looking',
  LEADING: 'leader',
  FOLLOWING: 'follower',
  OBSERVING: 'observer',
  STOPPED: 'stopped',
};

/** ZAB phase of the current role (undefined while LOOKING or stopped). */
export type ZabPhase = 'discovery' | 'synchronization' | 'broadcast';

/** Who asks: the session, its request counter, and the connection's authenticated ids. */
export interface RequestContext {
  sessionId: SessionId;
  cxid: number;
  authIds: readonly Id[];
}

/** The answer to a sync. */
export interface SyncResult {
  readonly path: string;
  /** This server's last applied zxid when the sync completed (the reply header's zxid). */
  readonly zxid: Zxid;
}

/** A write request (or a reconfig), or a sync (`{ type: OpCode.sync, path }`). */
export type SubmitRequest = PrepareRequest | ReconfigRequest | { type: typeof OpCode.sync; path: string };

/** Hooks of the session layer (optional; the defaults do nothing). */
export interface SessionHooks {
  /** Touches a learner reports in its PING replies. */
  collectTouches(): SessionTouch[];
  /** Touches the leader received from learners. */
  touch(touches: readonly SessionTouch[]): void;
  /**
   * Leader: the prepare step's session check for a request that came through server
   * `origin` (0 passes; SessionExpired, SessionMoved). Absent: every session passes.
   */
  checkSession?(sessionId: SessionId, origin: ServerId): number;
  /** Leader: a learner's REVALIDATE; true if valid (the session is then touched and owned by `origin`). */
  revalidate?(origin: ServerId, sessionId: SessionId, timeout: number): boolean;
  /** Learner: the leader's answer to this server's REVALIDATE. */
  revalidated?(sessionId: SessionId, valid: boolean): void;
}

/** How a server finds its leader: fast leader election (default) or a fixed leader (tests). */
export type ElectionMode = 'fast' | { staticLeader: ServerId };

/** Options of a `QuorumServer`. */
export interface QuorumServerOptions {
  /** This server's id (`myid`). */
  id: ServerId;
  /** Voters and observers of the ensemble. */
  membership: Membership;
  /**
   * Creates this server's transport endpoint; called on every start. May return a
   * Promise (a TCP listener): the server then finishes starting when it resolves.
   */
  transport: () => Transport | Promise<Transport>;
  /** Durable state; reused across restarts. */
  storage: Storage;
  clock: Clock;
  random: Random;
  /** ZAB timing; see `DEFAULT_ZAB_TIMING`. */
  timing?: Partial<ZabTiming>;
  /** XState inspection of every machine of this server (off by default). */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** In-memory history for DIFF (default 500 transactions). */
  historyCapacity?: number;
  /** Snapshot every this many applied transactions (default 100 000). */
  snapCount?: number;
  /** Options of the tree (skipACL). */
  treeOptions?: Omit<DataTreeOptions, 'configData'>;
  /** Replication tunables. */
  zab?: ZabOptions;
  /** Election mode (default 'fast'). */
  election?: ElectionMode;
  /** Session layer hooks. */
  sessions?: SessionHooks;
  /**
   * Members' addresses for the static configuration (`/zookeeper/config`, `conf`),
   * read at every start; members without one are rendered without network addresses
   * (see reconfig-config.ts). Every member must be given the same.
   */
  addresses?: Iterable<ServerAddressLike> | (() => Iterable<ServerAddressLike>);
}

/**
 * A consumer of every transaction a server applies (the session layer, the client
 * service, the simulator's observers). Unlike an `applied` listener, it says per
 * transaction whether it reads the result, so results nobody reads are never built.
 */
export interface ApplyConsumer {
  /** True if `applied` will read the result of `txn` (watch events, Stats, outcome). */
  wantsResult(txn: Txn): boolean;
  /** `txn` was applied; `result` is undefined unless someone wanted it. */
  applied(txn: Txn, result: ApplyResult | undefined): void;
}

/** Events of a `QuorumServer`. */
export interface QuorumServerEvents {
  /** The ZAB state changed. */
  state: (state: PeerState) => void;
  /** The server started or stopped serving clients. */
  serving: (serving: boolean) => void;
  /**
   * A transaction was applied to the tree (every server, in zxid order), after the
   * `ApplyConsumer`s saw it. Listening makes the server build every result.
   */
  applied: (txn: Txn, result: ApplyResult) => void;
  /** The tree object was replaced (a SNAP from the leader). */
  treeReplaced: (tree: DataTree) => void;
  /** A replication event (sync mode chosen, epoch, role failure). */
  trace: (event: ZabTraceEvent) => void;
  /** A new configuration became current here (a reconfig applied, or one found in the tree). */
  config: (config: QuorumConfig) => void;
}

const NO_TOUCHES: SessionTouch[] = [];
const TRACE_LIMIT = 256;

/** One replica: transport + storage + database + peer machine. See the module comment. */
export class QuorumServer extends EventEmitter<QuorumServerEvents> implements PeerServerHost {
  readonly self: ServerId;
  readonly timing: ZabTiming;
  readonly clock: Clock;
  readonly random: Random;
  readonly options: ZabOptions;
  /** Recent replication events, oldest first (bounded). */
  readonly traces: ZabTraceEvent[] = [];

  private readonly opts: QuorumServerOptions;
  private dbRef: ZabDatabase | null = null;
  private outboxRef: Outbox | null = null;
  private transport: Transport | null = null;
  private actor: Actor<typeof peerMachine> | null = null;
  private activeRole: RoleCore | null = null;
  private servingFlag = false;
  private looking = false;
  private vote: EstablishedVote | undefined;
  private lastState: PeerState = 'STOPPED';
  private pending = new PendingRequests();
  private readonly consumers: ApplyConsumer[] = [];
  private starting = false;
  private closing: Promise<void> = Promise.resolve();
  private generation = 0;
  private sessions: SessionHooks;
  /** The membership this server was configured with. */
  private readonly staticMembership: Membership;
  /** The static configuration (membership + addresses, version 0), made at each start. */
  private staticCfg: QuorumConfig;
  private currentConfig: QuorumConfig;
  private currentMembership: Membership;
  /** The current configuration's text, sent with election notifications once reconfigured. */
  private configBytes: Uint8Array | undefined;

  constructor(options: QuorumServerOptions) {
    super();
    validateMembership(options.membership);
    const { id, membership } = options;
    if (!membership.voters.includes(id) && !membership.observers.includes(id)) {
      throw new RangeError(`server ${id} is not a member of the ensemble`);
    }
    this.opts = options;
    this.self = id;
    this.staticMembership = membership;
    this.staticCfg = this.makeStaticConfig(); // made again at each start (addresses may come later)
    this.currentConfig = this.staticCfg;
    this.currentMembership = membership;
    this.timing = resolveTiming(options.timing);
    this.clock = options.clock;
    this.random = options.random;
    this.options = options.zab ?? {};
    this.sessions = options.sessions ?? { collectTouches: () => NO_TOUCHES, touch: () => {} };
  }

  // ------------------------------------------------------------------ lifecycle

  /** True between `start()` and `stop()`. */
  get running(): boolean {
    return this.actor !== null;
  }

  /**
   * Start (or restart after `stop()`): recover from storage, connect, elect. With an
   * asynchronous transport factory the start completes later; `startAsync` waits for it.
   */
  start(): void {
    void this.startAsync();
  }

  /** `start`, resolving once the server runs (its transport is up and its peer machine started). */
  async startAsync(): Promise<void> {
    if (this.actor !== null || this.starting) return;
    this.starting = true;
    const generation = ++this.generation;
    let transport: Transport;
    try {
      const made = this.opts.transport();
      transport = made instanceof Promise ? await made : made;
    } finally {
      this.starting = false;
    }
    if (generation !== this.generation) {
      void transport.close(); // stopped while the transport was being created
      return;
    }
    this.launch(transport);
  }

  /** `stop`, resolving once the transport has released its resources (sockets, ports). */
  async stopAsync(): Promise<void> {
    this.stop();
    await this.closing;
  }

  /** Stop (if running) and start again on the same storage. */
  restart(): void {
    this.stop();
    this.start();
  }

  private launch(transport: Transport): void {
    this.staticCfg = this.makeStaticConfig();
    this.setConfig(this.staticCfg, false); // a restart remembers nothing: storage decides below
    this.dbRef = new ZabDatabase({
      storage: this.opts.storage,
      historyCapacity: this.opts.historyCapacity,
      snapCount: this.opts.snapCount,
      treeOptions: this.opts.treeOptions,
      // A standalone server's /zookeeper/config is empty, as ZooKeeper's.
      ...(this.standalone(this.staticCfg) ? {} : { configData: encodeConfig(this.staticCfg) }),
      onApplied: (txn, result) => this.onApplied(txn, result),
      wantsResult: (txn) => this.wantsResult(txn),
      onTreeReplaced: (tree) => {
        this.adoptTreeConfig(true);
        this.emit('treeReplaced', tree);
      },
    });
    this.adoptTreeConfig(false);
    this.transport = transport;
    this.outboxRef = new Outbox(this.clock, (to, messages) => transport.send(to, messages));
    transport.on('message', (from, messages) => this.onTransportMessage(from, messages));
    transport.on('connected', (peer) => {
      if (this.looking) this.actor?.send({ type: 'peerConnected', peer });
    });
    transport.on('disconnected', (peer) => this.activeRole?.onDisconnected(peer));
    const mode = this.opts.election ?? 'fast';
    const machine =
      mode === 'fast'
        ? peerMachine
        : peerMachine.provide({ actors: { election: staticElectionMachine(mode.staticLeader) as unknown as typeof electionMachine } });
    const actor = createActor(machine as typeof peerMachine, {
      input: { host: this },
      clock: this.clock,
      ...(this.opts.inspect ? { inspect: this.opts.inspect } : {}),
    });
    this.actor = actor;
    actor.subscribe((snapshot) => {
      const state = snapshot.value as PeerState;
      if (state !== this.lastState) {
        this.lastState = state;
        this.emit('state', state);
      }
    });
    actor.start();
  }

  /**
   * Stop at once, like a crash: pending storage writes may be lost (memory storage loses
   * them), peers see the connection drop, pending requests get ConnectionLoss.
   */
  stop(): void {
    this.generation++;
    const actor = this.actor;
    if (actor === null) return;
    this.actor = null;
    actor.stop();
    this.activeRole?.stop();
    this.activeRole = null;
    this.setServing(false);
    this.looking = false;
    this.vote = undefined;
    this.outboxRef?.close();
    const transport = this.transport;
    this.transport = null;
    if (transport) {
      transport.removeAllListeners();
      this.closing = transport.close().catch(() => {});
    }
    this.opts.storage.close();
    this.lastState = 'STOPPED';
    this.emit('state', 'STOPPED');
  }

  // ------------------------------------------------------------------ status

  /** The ZAB state. */
  get state(): PeerState {
    return this.actor === null ? 'STOPPED' : this.lastState;
  }

  /** The current role's phase, if any. */
  get phase(): ZabPhase | undefined {
    const role = this.actor?.getSnapshot().children['role'];
    if (role === undefined) return undefined;
    const value = role.getSnapshot().value as unknown;
    const top = typeof value === 'string' ? value : Object.keys(value as object)[0];
    return top === 'discovery' || top === 'synchronization' || top === 'broadcast' ? top : undefined;
  }

  /** True while this server answers clients (its role is in broadcast). */
  get serving(): boolean {
    return this.servingFlag;
  }

  /** The leader of the last election (undefined while LOOKING or stopped). */
  get leaderId(): ServerId | undefined {
    return this.looking || this.actor === null ? undefined : this.vote?.leader;
  }

  /** The database (tree, log, history); throws if never started. */
  get db(): ZabDatabase {
    if (this.dbRef === null) throw new Error(`server ${this.self} has not been started`);
    return this.dbRef;
  }

  /** The outbox (for the role machines). */
  get outbox(): Outbox {
    if (this.outboxRef === null) throw new Error(`server ${this.self} has not been started`);
    return this.outboxRef;
  }

  /** The local tree (reads; never mutate it). */
  get tree(): DataTree {
    return this.db.tree;
  }

  /** currentEpoch. */
  get epoch(): number {
    return this.db.currentEpoch;
  }

  /** acceptedEpoch. */
  get acceptedEpoch(): number {
    return this.db.acceptedEpoch;
  }

  /** The last zxid in this server's history (logged, committed or not). */
  get lastZxid(): Zxid {
    return this.db.lastZxid;
  }

  /** The last applied (committed) zxid. */
  get lastAppliedZxid(): Zxid {
    return this.db.lastAppliedZxid;
  }

  /** The tree's digest. */
  digest(): string {
    return this.db.tree.digest();
  }

  /** The peer actor (for tests and tools). */
  get peerActor(): Actor<typeof peerMachine> | null {
    return this.actor;
  }

  /** The active role core (for tests and tools). */
  get roleCore(): RoleCore | null {
    return this.activeRole;
  }

  /** This server's role in words: `leader`, `follower`, `observer`, `looking` or `stopped`. */
  get role(): ServerRole {
    return ROLE_NAMES[this.state];
  }

  /** This server's id (`myid`). */
  get id(): ServerId {
    return this.self;
  }

  // ------------------------------------------------------------------ configuration

  /** The current membership (voters decide, observers only learn); changes on reconfig. */
  get membership(): Membership {
    return this.currentMembership;
  }

  /** The current configuration: members with addresses, and its version (a zxid, 0 if static). */
  get config(): QuorumConfig {
    return this.currentConfig;
  }

  /** The current configuration's `server.N=...` lines, as `conf` prints them. */
  configLines(): string[] {
    return configLines(this.currentConfig);
  }

  /** ZooKeeper's `reconfigEnabled`: this server takes reconfig requests. */
  get reconfigEnabled(): boolean {
    return this.options.reconfigEnabled === true;
  }

  private makeStaticConfig(): QuorumConfig {
    const given = this.opts.addresses;
    const list = given === undefined ? [] : typeof given === 'function' ? given() : given;
    const book = new Map<ServerId, ServerAddressLike>();
    for (const a of list) book.set(a.id, a);
    return staticConfig(this.staticMembership, (id) => book.get(id));
  }

  /** One voter, no observers, standaloneEnabled: ZooKeeper would run it standalone. */
  private standalone(config: QuorumConfig): boolean {
    return (this.options.standaloneEnabled ?? true) && config.servers.length === 1 && config.servers[0]!.role === 'participant';
  }

  /** Make the configuration in the tree current if a reconfig wrote it and it is newer. */
  private adoptTreeConfig(notify: boolean): void {
    const node = this.db.tree.getData('/zookeeper/config');
    const written = node !== undefined && node.stat.mzxid !== 0 ? decodeConfig(node.data) : undefined;
    if (written !== undefined) this.adoptConfig(written, notify);
  }

  /**
   * Make `config` current if it is newer. Every configuration offered here is committed
   * (applied here, or current at a peer), and versions are zxids, so they only go forward.
   */
  private adoptConfig(config: QuorumConfig, notify: boolean): boolean {
    if (config.version <= this.currentConfig.version) return false;
    this.setConfig(config, notify);
    return true;
  }

  private setConfig(config: QuorumConfig, notify: boolean): void {
    this.currentConfig = config;
    this.currentMembership = membershipOfConfig(config);
    this.configBytes = config.version > 0 ? encodeConfig(config) : undefined;
    this.emit('config', config);
    if (notify) this.activeRole?.onReconfig?.();
  }

  /** `message` with this server's configuration attached, once reconfigured (ZooKeeper's notifications carry it). */
  private withConfig(message: NotificationMessage): NotificationMessage {
    return this.configBytes === undefined || !this.reconfigEnabled ? message : { ...message, config: this.configBytes };
  }

  // ------------------------------------------------------------------ requests

  /** Install the session layer's hooks (replaces those given to the constructor). */
  setSessionHooks(hooks: SessionHooks): void {
    this.sessions = hooks;
  }

  /**
   * Learners: send REVALIDATE for `sessionId` to the leader (§16.6); the answer reaches
   * the session hooks' `revalidated`. False if this server is not a serving learner.
   */
  revalidate(sessionId: SessionId, timeout: number): boolean {
    const role = this.activeRole;
    if (!this.servingFlag || role === null || role.submitRevalidate === undefined) return false;
    return role.submitRevalidate(sessionId, timeout);
  }

  /** Order a write (or a reconfig) through the leader; see the module comment. */
  write(request: SubmittedWrite, context: RequestContext, done: (result: ApplyResult | ZooKeeperError) => void): void {
    const role = this.activeRole;
    if (!this.servingFlag || role === null) {
      this.connectionLoss(done);
      return;
    }
    const entry: PendingEntry = { cxid: context.cxid, kind: 'write', deliver: done as (v: unknown) => void, done: false, value: undefined };
    this.pending.add(context.sessionId, entry);
    if (!role.submitWrite(context.sessionId, context.cxid, request, context.authIds)) {
      this.pending.complete(context.sessionId, context.cxid, 'write', new ConnectionLossError());
    }
  }

  /** Order a sync; see the module comment. */
  sync(path: string, context: RequestContext, done: (result: SyncResult | ZooKeeperError) => void): void {
    const role = this.activeRole;
    if (!this.servingFlag || role === null) {
      this.connectionLoss(done);
      return;
    }
    const entry: PendingEntry = { cxid: context.cxid, kind: 'sync', path, deliver: done as (v: unknown) => void, done: false, value: undefined };
    this.pending.add(context.sessionId, entry);
    if (!role.submitSync(context.sessionId, context.cxid, path)) {
      this.pending.complete(context.sessionId, context.cxid, 'sync', new ConnectionLossError());
    }
  }

  /** A write or a sync: the brief's single entry point. */
  submit(request: SubmitRequest, context: RequestContext, done: (result: ApplyResult | SyncResult | ZooKeeperError) => void): void {
    if (request.type === OpCode.sync) this.sync(request.path, context, done);
    else this.write(request, context, done);
  }

  /** Run `fn` on the local tree once the session's earlier requests are answered. */
  read<T>(context: Pick<RequestContext, 'sessionId'>, fn: (tree: DataTree) => T, done: (result: T | ZooKeeperError) => void): void {
    if (!this.servingFlag) {
      this.connectionLoss(done);
      return;
    }
    if (!this.pending.has(context.sessionId)) {
      done(fn(this.db.tree));
      return;
    }
    this.pending.add(context.sessionId, {
      cxid: -1,
      kind: 'read',
      read: () => fn(this.db.tree),
      deliver: done as (v: unknown) => void,
      done: false,
      value: undefined,
    });
  }

  /** `getData` on the local tree (no session ordering): the fast read path. */
  getData(path: string): ReturnType<DataTree['getData']> {
    return this.db.tree.getData(path);
  }

  /** `write` as a Promise (rejects with a `ZooKeeperError`). */
  writeAsync(request: SubmittedWrite, context: RequestContext): Promise<ApplyResult> {
    return new Promise((resolve, reject) => this.write(request, context, (r) => (r instanceof ZooKeeperError ? reject(r) : resolve(r))));
  }

  /** `sync` as a Promise. */
  syncAsync(path: string, context: RequestContext): Promise<SyncResult> {
    return new Promise((resolve, reject) => this.sync(path, context, (r) => (r instanceof ZooKeeperError ? reject(r) : resolve(r))));
  }

  /** `read` as a Promise. */
  readAsync<T>(context: Pick<RequestContext, 'sessionId'>, fn: (tree: DataTree) => T): Promise<T> {
    return new Promise((resolve, reject) => this.read(context, fn, (r) => (r instanceof ZooKeeperError ? reject(r) : resolve(r as T))));
  }

  // ------------------------------------------------------------------ PeerServerHost

  setActiveRole(role: RoleCore): void {
    this.activeRole = role;
  }

  clearActiveRole(role: RoleCore): void {
    if (this.activeRole === role) this.activeRole = null;
  }

  setServing(serving: boolean): void {
    if (serving === this.servingFlag) return;
    this.servingFlag = serving;
    if (!serving) this.pending.failAll(() => new ConnectionLossError());
    this.emit('serving', serving);
  }

  syncReleased(sessionId: SessionId, cxid: number): void {
    this.pending.complete(sessionId, cxid, 'sync', { path: '', zxid: this.db.lastAppliedZxid });
  }

  collectTouches(): SessionTouch[] {
    return this.sessions.collectTouches();
  }

  touchSessions(touches: readonly SessionTouch[]): void {
    this.sessions.touch(touches);
  }

  checkSession(sessionId: SessionId, origin: ServerId): number {
    const check = this.sessions.checkSession;
    return check === undefined ? 0 : check.call(this.sessions, sessionId, origin);
  }

  revalidateSession(origin: ServerId, sessionId: SessionId, timeout: number): boolean {
    return this.sessions.revalidate?.(origin, sessionId, timeout) ?? false;
  }

  sessionRevalidated(sessionId: SessionId, valid: boolean): void {
    this.sessions.revalidated?.(sessionId, valid);
  }

  epochChanged(epoch: number): void {
    if (this.vote !== undefined) this.vote = { ...this.vote, peerEpoch: epoch };
  }

  trace(event: ZabTraceEvent): void {
    this.traces.push(event);
    if (this.traces.length > TRACE_LIMIT) this.traces.splice(0, this.traces.length - TRACE_LIMIT);
    this.emit('trace', event);
  }

  electionInput(electionEpoch: number): ElectionInput {
    const db = this.db;
    const { voters, observers } = this.currentMembership;
    // Not a member (removed by a reconfig): elect like an observer, to learn the leader
    // and follow it as a non-voting learner, as ZooKeeper's removed servers do.
    const member = voters.includes(this.self) || observers.includes(this.self);
    return {
      self: this.self,
      voters,
      observers: member ? observers : [...observers, this.self],
      lastZxid: db.lastZxid,
      currentEpoch: db.currentEpoch,
      electionEpoch,
      send: (to: ServerId, message: NotificationMessage) => this.outboxRef?.push(to, this.withConfig(message)),
      ...(this.timing.election ? { timing: this.timing.election } : {}),
    };
  }

  enterLooking(): void {
    this.looking = true;
    this.activeRole = null;
    this.setServing(false);
  }

  electionDecided(result: ElectionResult): void {
    this.looking = false;
    this.vote = establishedVote(result);
  }

  roleEnded(role: 'LEADING' | 'FOLLOWING' | 'OBSERVING', reason: string): void {
    this.trace({ type: 'roleEnded', role, reason });
  }

  // ------------------------------------------------------------------ internals

  private onTransportMessage(from: ServerId, messages: PeerMessage[]): void {
    let hasNotification = false;
    for (let i = 0; i < messages.length; i++) {
      if (messages[i]!.type === 'notification') {
        hasNotification = true;
        break;
      }
    }
    if (!hasNotification) {
      this.activeRole?.onMessages(from, messages);
      return;
    }
    const rest: PeerMessage[] = [];
    for (const message of messages) {
      if (message.type === 'notification') this.onNotification(from, message);
      else rest.push(message);
    }
    if (rest.length > 0) this.activeRole?.onMessages(from, rest);
  }

  private onNotification(from: ServerId, message: NotificationMessage): void {
    if (this.actor === null) return;
    if (this.looking) {
      // A peer knows a newer configuration (this server missed a reconfig): adopt it and
      // elect among its voters, as ZooKeeper's FastLeaderElection does.
      if (message.config instanceof Uint8Array && this.reconfigEnabled) {
        const config = decodeConfig(message.config);
        if (config !== undefined && this.adoptConfig(config, false)) this.actor.send({ type: 'reconfigured' });
      }
      this.actor.send({ type: 'notification', from, message });
      return;
    }
    if (this.vote === undefined) return;
    const reply = voteReply(this.vote, message);
    if (reply !== undefined) this.outboxRef?.push(from, this.withConfig(reply));
  }

  /**
   * Feed every transaction applied from now on to `consumer` (after the consumers added
   * before it, before the `applied` listeners). Returns a function that removes it.
   */
  addApplyConsumer(consumer: ApplyConsumer): () => void {
    this.consumers.push(consumer);
    return () => {
      const index = this.consumers.indexOf(consumer);
      if (index >= 0) this.consumers.splice(index, 1);
    };
  }

  /** Does anyone read the result of applying `txn` here? See the module comment. */
  private wantsResult(txn: Txn): boolean {
    if (this.pending.has(txn.header.sessionId) || this.listenerCount('applied') > 0) return true;
    const consumers = this.consumers;
    for (let i = 0; i < consumers.length; i++) if (consumers[i]!.wantsResult(txn)) return true;
    return false;
  }

  private onApplied(txn: Txn, result: ApplyResult | undefined): void {
    if (txn.body.kind === 'reconfig') {
      // Activate at once: the reply (and whatever the listeners do) sees the new configuration.
      const config = decodeConfig(txn.body.data);
      if (config !== undefined) this.adoptConfig(config, true);
      this.db.requestSnapshot(); // persist it in the tree: a restart starts from it
    }
    // Listeners first: the session layer queues the watch notifications this txn causes
    // on every connection BEFORE the write's own reply goes out (§13.2), and closes the
    // connections of a closed session.
    const consumers = this.consumers;
    for (let i = 0; i < consumers.length; i++) consumers[i]!.applied(txn, result);
    if (result === undefined) return; // nobody here reads it: no local request, no listener
    if (this.listenerCount('applied') > 0) this.emit('applied', txn, result);
    if (this.pending.size > 0) this.pending.complete(txn.header.sessionId, txn.header.cxid, 'write', result);
  }

  private connectionLoss(done: (error: ZooKeeperError) => void): void {
    this.clock.defer(() => done(new ConnectionLossError()));
  }
}
