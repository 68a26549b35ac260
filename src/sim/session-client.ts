/**
 * Session-level simulated clients: real zoostate `ZooKeeperClient`s connected in-process
 * (the in-process channel of src/server, one `InProcessLink` per client so faults can
 * cut one client off), on the virtual clock, with seeded randomness. Each runs one
 * operation at a time on the shared key space, drawn like the server-level clients'
 * (creates of every mode, setData/delete with and without versions, reads, multi,
 * sync), plus what only a session has: watches (one-shot on reads; persistent and
 * recursive via addWatch; removeWatches), closeSession, expiry, reconnects.
 *
 * Every history operation is recorded invoke → ok / fail / unknown: ConnectionLoss and
 * the other "outcome open" codes are unknown. The client's requests and replies are
 * observed at the channel (connections.ts) to learn the xid and reply zxid of each
 * operation, which links a write to its transaction (`session:xid`, for the durability
 * checker and for resolving unknown outcomes) and a watch to the state it was set on.
 *
 * A history client is one session: when a session ends (closed, expired, or the client
 * crashed), the simulated client goes on with a new `ZooKeeperClient` under a new
 * number. `SessionLedger` remembers every session, for the history (the expiry of a
 * session that owned ephemerals is a closeSession the history must contain) and for the
 * end-of-run checks.
 */
import { createClient, type ZooKeeperClient } from '../client/client.js';
import { isMultiError, type MultiOp as ClientMultiOp, type MultiResult } from '../client/multi.js';
import type { ConnectionState, Watcher } from '../client/types.js';
import { AddWatchMode, OpCode, WatcherType, isEphemeralMode } from '../protocol/constants.js';
import { ErrorCode, ZooKeeperError } from '../protocol/errors.js';
import type { ClientRequest, ReplyHeader } from '../protocol/records.js';
import type { Random } from '../runtime/random.js';
import { InProcessLink, inProcessConnectString, type InProcessTarget } from '../server/inproc-channel.js';
import type { ConnectionObserver, ObservedConnection } from './connections.js';
import {
  UNKNOWN_OUTCOME_CODES,
  formatOp,
  formatOutcome,
  type HistoryOp,
  type MultiSubOp,
  type MultiSubResult,
  type Outcome,
  type PendingOperation,
} from './history.js';
import { shortZxid } from './trace.js';
import type { WatchChecker, WatchKind, WatchRegistration } from './watch-checker.js';
import { OpGenerator, type WorkloadClient, type WorkloadContext } from './workload.js';

/** The shape of the session-level clients of a run. */
export interface SessionWorkloadOptions {
  /** Concurrent session clients. */
  clients: number;
  /** Session timeout the clients ask for (ms). */
  sessionTimeoutMs: number;
  /** Client back-off after trying every server (ms). */
  spinDelayMs: number;
  /** Upper bound of the random delay before a reconnection attempt (ms). */
  reconnectDelayMs: number;
  /** Probability that a read sets a one-shot watch. */
  watch: number;
  /** Per-operation probability of an addWatch (persistent or recursive). */
  addWatch: number;
  /** Per-operation probability of removing one of the client's watches. */
  removeWatch: number;
  /** Per-operation probability of closing the session (then a new one starts). */
  closeSession: number;
}

/** Draw the session clients' shape. */
export function drawSessionOptions(random: Random, clients: number): SessionWorkloadOptions {
  return {
    clients,
    sessionTimeoutMs: 1_500 + random.int(3_500),
    spinDelayMs: 20 + random.int(200),
    reconnectDelayMs: 10 + random.int(200),
    watch: 0.2 + random.next() * 0.5,
    addWatch: random.next() * 0.04,
    removeWatch: random.next() * 0.04,
    closeSession: random.chance(0.6) ? random.next() * 0.02 : 0,
  };
}

/** How a session ended. */
export type SessionEnd = 'closed' | 'expired' | 'crashed';

/** One session of a simulated client (a history client). */
export interface SessionRecord {
  /** The history client number. */
  readonly number: number;
  /** The session id once the first handshake succeeded (0n before). */
  sessionId: bigint;
  /** A logical time no later than the session's creation. */
  readonly openedAt: number;
  /** Invoke time of its last write that completed (its txn precedes the session's end). */
  lastWriteInvoke: number;
  /** It tried to create an ephemeral node (so its end matters to the model). */
  ephemeral: boolean;
  /** How it ended, if it did. */
  ended: SessionEnd | undefined;
  /** The client and session are still the ones in use. */
  readonly owner: string;
}

/** Every session of a run. */
export class SessionLedger {
  readonly sessions: SessionRecord[] = [];
  private readonly byId = new Map<bigint, SessionRecord>();

  /** A new session of history client `number`. */
  start(number: number, openedAt: number, owner: string): SessionRecord {
    const record: SessionRecord = { number, sessionId: 0n, openedAt, lastWriteInvoke: openedAt, ephemeral: false, ended: undefined, owner };
    this.sessions.push(record);
    return record;
  }

  /** Bind a record to its session id (after the handshake). */
  bind(record: SessionRecord, sessionId: bigint): void {
    if (record.sessionId === sessionId) return;
    record.sessionId = sessionId;
    this.byId.set(sessionId, record);
  }

  /** The record of `sessionId`. */
  of(sessionId: bigint): SessionRecord | undefined {
    return this.byId.get(sessionId);
  }
}

/** What session clients share besides the workload context. */
export interface SessionEnv {
  /** The in-process target (every server's acceptor, observed). */
  readonly target: InProcessTarget;
  readonly observer: ConnectionObserver;
  readonly watches: WatchChecker;
  readonly ledger: SessionLedger;
  readonly options: SessionWorkloadOptions;
  /** Record a failure that is not a history (an exception in client code). */
  fail(message: string): void;
}

/** The operation in flight. */
interface Current {
  readonly pending: PendingOperation | null;
  readonly op: HistoryOp | null;
  /** What it is when not a history op. */
  readonly what: string;
  /** Opcodes its request may carry. */
  readonly opcodes: readonly number[];
  /** The request's xid and key (`session:xid`) once sent. */
  xid?: number;
  key?: string;
  /** The reply header, once it arrived. */
  reply?: ReplyHeader;
  /** The watch it registers, if any. */
  registration?: WatchRegistration;
  /** NoNode registers too (exists). */
  registersOnNoNode?: boolean;
}

const WRITE_OPCODES = new Set<number>([
  OpCode.create,
  OpCode.create2,
  OpCode.createContainer,
  OpCode.createTTL,
  OpCode.delete,
  OpCode.setData,
  OpCode.multi,
  OpCode.closeSession,
]);

/** One simulated session-level client; see the module comment. */
export class SessionClient implements WorkloadClient {
  busy = false;
  waiting = false;
  /** The client in use. */
  client!: ZooKeeperClient;
  /** Its link (cut it to partition this client). */
  link!: InProcessLink;
  /** The current session. */
  record!: SessionRecord;
  /** The connection the client uses (or used last). */
  connection: ObservedConnection | null = null;
  private readonly ctx: WorkloadContext;
  private readonly env: SessionEnv;
  private readonly random: Random;
  private readonly gen: OpGenerator;
  private current: Current | undefined;
  private generation = 0;
  private readonly watchers: WatchRegistration[] = [];
  private readonly clientRandom: Random;

  constructor(ctx: WorkloadContext, env: SessionEnv, random: Random) {
    this.ctx = ctx;
    this.env = env;
    this.random = random;
    this.clientRandom = random.fork('client');
    this.gen = new OpGenerator(random.fork('ops'), ctx, () => this.record.number, ctx.containers);
    this.open();
  }

  /** `c7`: the current session's history client. */
  get name(): string {
    return `c${this.record.number}`;
  }

  /** Issue the next operation, or schedule it. */
  next(): void {
    this.waiting = false;
    const ctx = this.ctx;
    if (this.retired) return;
    if (this.client.session.ended) this.renew(this.client.state === 'EXPIRED' ? 'expired' : 'closed');
    if (ctx.stopped || ctx.invoked >= ctx.options.ops) {
      ctx.onIdle();
      return;
    }
    ctx.invoked++;
    const o = this.env.options;
    const r = this.random;
    if (r.chance(o.closeSession)) this.issue({ type: 'closeSession' }, null);
    else if (r.chance(o.addWatch)) this.addWatch();
    else if (r.chance(o.removeWatch) && this.removeWatch()) return;
    else {
      const op = this.gen.next();
      const watch = (op.type === 'getData' || op.type === 'exists' || op.type === 'getChildren') && r.chance(o.watch);
      this.issue(op, watch ? (op.type === 'getChildren' ? 'child' : 'data') : null);
    }
  }

  /** Cut this client off from every server; see `ClientFaultTarget.cut`. */
  cut(): () => void {
    const link = this.link;
    link.partition();
    return () => {
      if (this.deadLinks.has(link)) return; // the client crashed meanwhile: it stays silent
      link.heal();
      link.disconnect();
    };
  }

  private readonly deadLinks = new WeakSet<InProcessLink>();

  /** True while the client is the live one of its session (not crashed, not retired). */
  get live(): boolean {
    return !this.retired;
  }

  /**
   * The client process dies: its link goes silent for good (the session expires on the
   * servers), its pending operation stays unknown, its watchers are no longer judged;
   * a new client takes its place after a pause.
   */
  crash(): void {
    this.link.partition();
    this.deadLinks.add(this.link);
    this.record.ended = 'crashed';
    this.env.watches.abandon(this.record.owner);
    if (this.ctx.trace.enabled) this.ctx.trace.log(this.name, `crashes (session ${hex(this.record.sessionId)} left to expire)`);
    this.current = undefined;
    this.busy = false;
    this.open();
    if (!this.waiting) this.later(1 + this.random.int(this.env.options.reconnectDelayMs + 1));
  }

  /**
   * End of run (the workload is stopped and this client idle): close the session as a
   * last history operation, start no other; resolves once the session ended.
   */
  retire(): Promise<void> {
    this.retired = true;
    if (this.record.ended === undefined && !this.client.session.ended) this.issue({ type: 'closeSession' }, null);
    return this.client.session.whenEnded();
  }

  private retired = false;

  // ------------------------------------------------------------------ sessions

  private open(): void {
    const ctx = this.ctx;
    const number = ctx.nextClient++;
    const owner = `c${number}`;
    this.record = this.env.ledger.start(number, ctx.recorder.tick(), owner);
    this.link = new InProcessLink(this.env.target);
    const generation = ++this.generation;
    const o = this.env.options;
    this.client = createClient(inProcessConnectString(this.env.target.serverIds), {
      clock: ctx.clock,
      random: this.clientRandom.fork(owner),
      sessionTimeout: o.sessionTimeoutMs,
      spinDelay: o.spinDelayMs,
      reconnectDelay: o.reconnectDelayMs,
      channelFactory: this.env.observer.channelFactory(this.link.factory, {
        connected: (c) => {
          if (generation === this.generation) this.connection = c;
        },
        sent: (c, xid, request) => {
          if (generation === this.generation) this.onSent(c, xid, request);
        },
        replied: (c, header) => {
          if (generation === this.generation) this.onReplied(c, header);
        },
      }),
    });
    this.client.on('error', (error) => this.env.fail(`${owner}: a watcher or listener threw: ${String(error)}`));
    this.client.on('state', (state) => {
      if (generation === this.generation) this.onState(state);
    });
    this.watchers.length = 0;
    if (ctx.trace.enabled) ctx.trace.log(owner, 'new session client');
  }

  /** The session ended: go on as a new session. */
  private renew(how: SessionEnd): void {
    const old = this.name;
    if (this.record.ended === undefined) this.record.ended = how;
    this.open();
    if (this.ctx.trace.enabled) this.ctx.trace.log(old, `session ${how}; continues as ${this.name}`);
  }

  private onState(state: ConnectionState): void {
    const ctx = this.ctx;
    if (state === 'CONNECTED' || state === 'RECONNECTED') this.env.ledger.bind(this.record, this.client.sessionId);
    if (state === 'EXPIRED' && this.record.ended === undefined) this.record.ended = 'expired';
    if (state === 'CLOSED' && this.record.ended === undefined) this.record.ended = 'closed';
    if (ctx.trace.enabled) {
      const where = this.client.currentServer ?? '';
      ctx.trace.log(this.name, `${state}${state === 'CONNECTED' || state === 'RECONNECTED' ? ` ${where} session ${hex(this.client.sessionId)}` : ''}`);
    }
  }

  // ------------------------------------------------------------------ operations

  private issue(op: HistoryOp, watch: WatchKind | null): void {
    const ctx = this.ctx;
    const client = this.client;
    const pending = ctx.recorder.invoke(this.record.number, op);
    let registration: WatchRegistration | undefined;
    let watcher: Watcher | undefined;
    if (watch !== null) {
      const kind: WatchKind = watch;
      registration = this.env.watches.register(this.record.owner, kind, (op as { path: string }).path);
      watcher = this.env.watches.watcher(registration);
      this.watchers.push(registration);
    }
    const current: Current = {
      pending,
      op,
      what: formatOp(op),
      opcodes: opcodesOf(op),
      ...(registration ? { registration, registersOnNoNode: op.type === 'exists' } : {}),
    };
    this.current = current;
    this.busy = true;
    if (op.type === 'create' && isEphemeralMode(op.mode)) this.record.ephemeral = true;
    if (op.type === 'multi' && op.ops.some((s) => s.type === 'create' && isEphemeralMode(s.mode))) this.record.ephemeral = true;
    if (ctx.trace.enabled) ctx.trace.log(this.name, `invoke #${pending.id} ${formatOp(op)}${watch ? ` +${watch} watch` : ''}`);
    let call: Promise<unknown>;
    switch (op.type) {
      case 'create':
        call = client.create(op.path, op.data, { mode: op.mode });
        break;
      case 'setData':
        call = client.setData(op.path, op.data, { version: op.version }).then((stat) => stat.version);
        break;
      case 'delete':
        call = client.delete(op.path, { version: op.version }).then(() => null);
        break;
      case 'getData':
        call = client.getData(op.path, watcher ? { watch: watcher } : {}).then((r) => {
          this.gen.versions.set(op.path, r.stat.version);
          return { data: r.data === null ? '' : r.data.toString('utf8'), version: r.stat.version };
        });
        break;
      case 'exists':
        call = client.exists(op.path, watcher ? { watch: watcher } : {}).then((stat) => {
          if (stat !== null) this.gen.versions.set(op.path, stat.version);
          return stat === null ? null : stat.version;
        });
        break;
      case 'getChildren':
        call = client.getChildren(op.path, watcher ? { watch: watcher } : {}).then((children) => {
          for (const c of children) if (c.startsWith('s-')) this.gen.learn(`${op.path}/${c}`);
          return children;
        });
        break;
      case 'multi':
        call = client.multi(op.ops.map(toClientOp)).then((results) => results.map(subResult));
        break;
      case 'sync':
        call = client.sync(op.path).then(() => null);
        break;
      case 'closeSession':
        call = client.close().then(() => {
          if (current.reply === undefined || current.reply.err !== 0) throw new ZooKeeperError(ErrorCode.ConnectionLoss, undefined, 'the close was not acknowledged');
          return null;
        });
        break;
    }
    call.then(
      (result) => this.settle(current, { status: 'ok', result }),
      (error: unknown) => this.settle(current, this.errorOutcome(error, op)),
    );
  }

  /** addWatch: a persistent or recursive watch on a parent (not a history op). */
  private addWatch(): void {
    const recursive = this.random.chance(0.5);
    const parents = this.ctx.parents;
    const path = this.random.chance(0.2) ? '/' : parents[this.random.int(parents.length)]!;
    const kind: WatchKind = recursive ? 'recursive' : 'persistent';
    const registration = this.env.watches.register(this.record.owner, kind, path);
    this.watchers.push(registration);
    const current: Current = { pending: null, op: null, what: `addWatch(${path}, ${kind})`, opcodes: [OpCode.addWatch], registration };
    this.current = current;
    this.busy = true;
    if (this.ctx.trace.enabled) this.ctx.trace.log(this.name, `invoke ${current.what}`);
    const mode = recursive ? AddWatchMode.PERSISTENT_RECURSIVE : AddWatchMode.PERSISTENT;
    this.client.addWatch(path, mode, this.env.watches.watcher(registration)).then(
      () => this.settle(current, { status: 'ok', result: null }),
      (error: unknown) => this.settle(current, this.errorOutcome(error, null)),
    );
  }

  /** removeWatches of one pending watcher; false if there is none to remove. */
  private removeWatch(): boolean {
    const candidates = this.watchers.filter((w) => w.pending);
    if (candidates.length === 0) return false;
    const r = candidates[this.random.int(candidates.length)]!;
    const type = r.kind === 'child' ? WatcherType.Children : r.kind === 'data' || r.kind === 'exist' ? WatcherType.Data : WatcherType.Any;
    const local = this.random.chance(0.3);
    const current: Current = { pending: null, op: null, what: `removeWatches(${r.path}, #${r.id}${local ? ', local' : ''})`, opcodes: [OpCode.removeWatches, OpCode.checkWatches] };
    this.current = current;
    this.busy = true;
    if (this.ctx.trace.enabled) this.ctx.trace.log(this.name, `invoke ${current.what}`);
    this.client.removeWatches(r.path, type, { watcher: this.env.watches.watcher(r), local }).then(
      () => this.settle(current, { status: 'ok', result: null }),
      (error: unknown) => this.settle(current, this.errorOutcome(error, null)),
    );
    return true;
  }

  private onSent(connection: ObservedConnection | null, xid: number, request: ClientRequest): void {
    if (connection !== null) this.connection = connection;
    const current = this.current;
    if (current === undefined || current.xid !== undefined || !current.opcodes.includes(request.type)) return;
    current.xid = xid;
    if (current.op !== null && WRITE_OPCODES.has(request.type)) {
      // The connection knows the session from the handshake; the client's own snapshot
      // may not have it yet while it flushes its queue right after connecting.
      const sessionId = connection !== null && connection.sessionId !== 0n ? connection.sessionId : this.client.sessionId;
      const key = `${sessionId}:${xid}`;
      current.key = key;
      this.ctx.issued.set(key, { id: current.pending!.id, op: current.op });
    }
  }

  private onReplied(connection: ObservedConnection | null, header: ReplyHeader): void {
    const current = this.current;
    if (current === undefined || current.xid === undefined || header.xid !== current.xid || current.reply !== undefined) return;
    current.reply = header;
    if (current.key !== undefined) this.ctx.acknowledged.push({ zxid: header.zxid, key: current.key });
    const r = current.registration;
    if (r !== undefined) {
      r.zxid = header.zxid;
      r.connection = connection;
      r.registered = header.err === 0 || (current.registersOnNoNode === true && header.err === ErrorCode.NoNode);
    }
  }

  private errorOutcome(error: unknown, op: HistoryOp | null): Outcome<unknown> {
    if (error instanceof ZooKeeperError) {
      if (UNKNOWN_OUTCOME_CODES.has(error.code)) return { status: 'unknown' };
      if (isMultiError(error)) return { status: 'fail', code: error.code, index: error.failedIndex };
      return { status: 'fail', code: error.code };
    }
    this.env.fail(`${this.name}: ${op === null ? 'a watch call' : formatOp(op)} threw ${String(error)}`);
    return { status: 'unknown' };
  }

  private settle(current: Current, outcome: Outcome<unknown>): void {
    if (current !== this.current) return; // abandoned (the client crashed)
    const ctx = this.ctx;
    this.current = undefined;
    this.busy = false;
    const { pending, op } = current;
    if (pending !== null && op !== null) {
      if (outcome.status === 'ok') (pending as PendingOperation<HistoryOp>).ok(outcome.result as never);
      else if (outcome.status === 'fail') pending.fail(outcome.code, outcome.index);
      else if (current.xid === undefined && op.type !== 'closeSession') pending.discard(); // never sent: no effect
      else pending.unknown();
      if (outcome.status === 'ok') this.gen.remember(op, outcome.result);
      const completedWrite = op.type !== 'closeSession' && current.reply !== undefined && WRITE_OPCODES.has(current.opcodes[0]!);
      if (completedWrite && pending.invokeTime > this.record.lastWriteInvoke) this.record.lastWriteInvoke = pending.invokeTime;
    }
    if (ctx.trace.enabled) {
      const text = op !== null ? `#${pending!.id} ${formatOutcome(op, outcome)}` : `${current.what} -> ${outcome.status === 'fail' ? `err ${outcome.code}` : outcome.status}`;
      const zxid = current.reply !== undefined ? ` (zxid ${shortZxid(current.reply.zxid)})` : '';
      ctx.trace.log(this.name, `${outcome.status} ${text}${zxid}`);
    }
    if (this.retired) return;
    if (op?.type === 'closeSession') this.renew('closed');
    else if (this.client.session.ended) this.renew(this.client.state === 'EXPIRED' ? 'expired' : 'closed');
    this.later(this.random.int(ctx.options.thinkMaxMs + 1));
  }

  private later(ms: number): void {
    this.waiting = true;
    this.ctx.clock.setTimeout(() => this.next(), ms);
  }
}

/** The opcodes a history op's request may go out with. */
function opcodesOf(op: HistoryOp): number[] {
  switch (op.type) {
    case 'create':
      return [OpCode.create, OpCode.create2, OpCode.createContainer, OpCode.createTTL];
    case 'setData':
      return [OpCode.setData];
    case 'delete':
      return [OpCode.delete];
    case 'getData':
      return [OpCode.getData];
    case 'exists':
      return [OpCode.exists];
    case 'getChildren':
      return [OpCode.getChildren, OpCode.getChildren2];
    case 'multi':
      return [OpCode.multi];
    case 'sync':
      return [OpCode.sync];
    case 'closeSession':
      return [OpCode.closeSession];
  }
}

function toClientOp(op: MultiSubOp): ClientMultiOp {
  switch (op.type) {
    case 'create':
      return { type: 'create', path: op.path, data: op.data, mode: op.mode };
    case 'setData':
      return { type: 'setData', path: op.path, data: op.data, version: op.version };
    case 'delete':
      return { type: 'delete', path: op.path, version: op.version };
    case 'check':
      return { type: 'check', path: op.path, version: op.version };
  }
}

function subResult(r: MultiResult): MultiSubResult {
  switch (r.type) {
    case 'create':
      return r.path;
    case 'setData':
      return r.stat.version;
    default:
      return null;
  }
}

/** A session id as hex. */
export function hex(sessionId: bigint): string {
  return `0x${BigInt.asUintN(64, sessionId).toString(16)}`;
}
