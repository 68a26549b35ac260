/**
 * The simulated clients and what they do. Each server-level client is a session that
 * talks to one server at a time through `QuorumServer.write/sync/read` (the server-level
 * request API), one request at a time, and records every operation in the
 * `HistoryRecorder` as invoke → ok / fail / unknown. Session-level clients (real
 * `ZooKeeperClient`s, session-client.ts) plug in through `Workload.addClient`, draw
 * their operations from the same `OpGenerator` and record into the same history.
 *
 * What a client models of a real ZooKeeper client:
 * - a connection to one server, which it only opens to a server that serves and has
 *   seen at least the client's last zxid (the handshake's `lastZxidSeen` check, §4.2),
 *   so its reads never go back in time;
 * - ConnectionLoss (the server stopped serving) and a request timeout (a request lost
 *   by the network): the outcome is unknown, the client reconnects elsewhere after a
 *   backoff and goes on with new requests (it never retries one: ZooKeeper clients do
 *   not either);
 * - occasional moves to another server, and session ends (closeSession), after which
 *   the client continues as a new session (a new history client).
 *
 * Operations: creates of every mode on a small key space (so clients conflict), setData
 * and delete with and without versions, getData/exists/getChildren, multi, sync.
 */
import { CreateMode, OpCode, Perms } from '../protocol/constants.js';
import { ErrorCode, ZooKeeperError } from '../protocol/errors.js';
import type { ACL, MultiWriteOp } from '../protocol/records.js';
import type { Random } from '../runtime/random.js';
import type { QuorumServer } from '../server/quorum-server.js';
import type { ApplyResult, DataTree, OpOutcome } from '../tree/data-tree.js';
import type { PrepareRequest } from '../tree/prepare.js';
import {
  HistoryRecorder,
  UNKNOWN_OUTCOME_CODES,
  formatOp,
  formatOutcome,
  type HistoryOp,
  type MultiSubOp,
  type MultiSubResult,
  type Operation,
  type Outcome,
  type PendingOperation,
} from './history.js';
import type { SimCluster } from './cluster.js';
import type { Txn } from '../protocol/txn.js';
import type { SessionLedger } from './session-client.js';
import { shortZxid, type SimTrace } from './trace.js';
import type { VirtualClock } from './virtual-clock.js';

/** The shape of a workload; `drawWorkloadOptions` draws one per seed. */
export interface WorkloadOptions {
  /** Operations to invoke in total (the final reads come on top). */
  ops: number;
  /** Concurrent clients. */
  clients: number;
  /** Top-level znodes of the key space (`/k0`, `/k1`, ...). */
  parents: number;
  /** Largest pause between a client's operations (ms). */
  thinkMaxMs: number;
  /** A request unanswered for this long has an unknown outcome (ms). */
  requestTimeoutMs: number;
  /** Largest backoff before reconnecting (ms). */
  reconnectMaxMs: number;
  /** Per-operation probability of moving to another server first. */
  migrate: number;
  /** Per-operation probability of ending the session instead. */
  closeSession: number;
  /**
   * Per-operation probability that the client crashes: it abandons its session without
   * closing it (its ephemerals stay: expiry needs the session tracker) and comes back as
   * a new session.
   */
  crash: number;
  /** Relative weights of the operation kinds. */
  mix: Record<OpKind, number>;
}

/** The operation kinds a client draws. */
export type OpKind = 'create' | 'setData' | 'delete' | 'getData' | 'exists' | 'getChildren' | 'multi' | 'sync';

const OP_KINDS: readonly OpKind[] = ['create', 'setData', 'delete', 'getData', 'exists', 'getChildren', 'multi', 'sync'];
const BASE_MIX: Record<OpKind, number> = { create: 20, setData: 18, delete: 10, getData: 15, exists: 8, getChildren: 8, multi: 8, sync: 5 };

/** Draw a workload shape for `ops` operations. */
export function drawWorkloadOptions(random: Random, ops: number): WorkloadOptions {
  const mix = {} as Record<OpKind, number>;
  for (const kind of OP_KINDS) mix[kind] = BASE_MIX[kind] * (0.3 + 1.4 * random.next());
  return {
    ops,
    clients: 2 + random.int(5),
    parents: 2 + random.int(3),
    thinkMaxMs: 1 + random.int(40),
    requestTimeoutMs: 1_000 + random.int(2_000),
    reconnectMaxMs: 5 + random.int(50),
    migrate: random.next() * 0.05,
    closeSession: random.chance(0.7) ? random.next() * 0.02 : 0,
    crash: random.chance(0.5) ? random.next() * 0.01 : 0,
    mix,
  };
}

/** A write the ensemble acknowledged (ok or a consensus error): it has a zxid. */
export interface Acknowledged {
  zxid: number;
  /** `sessionId:cxid` of the transaction. */
  key: string;
}

const OPEN_ACL: ACL[] = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];
const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** Session ids start here (history client n is session BASE + n). */
const SESSION_BASE = 0x1000n;
/** History clients of resolved unknown writes start here (see `Workload.history`). */
export const GHOST_CLIENT_BASE = 1_000_000;
/** The session of barrier writes (not in the history). */
const BARRIER_SESSION = 0xba77n;
const CHILD_NAMES = ['a', 'b'];

/**
 * What every simulated client shares: the cluster, the clock, the recorder and the key
 * space. Client kinds other than the server-level `SimClient` (real sessions over the
 * in-process client channel, recipes) get the same context through `Workload.addClient`
 * and record into the same history.
 */
export interface WorkloadContext {
  readonly cluster: SimCluster;
  readonly clock: VirtualClock;
  readonly trace: SimTrace;
  readonly recorder: HistoryRecorder;
  readonly options: WorkloadOptions;
  readonly acknowledged: Acknowledged[];
  /** Writes issued, by `session:cxid`, so an applied transaction can be matched to its op. */
  readonly issued: Map<string, { id: number; op: HistoryOp }>;
  readonly parents: string[];
  /** Clients may create CONTAINER nodes (false when a container reaper runs: its deletes are not in the history). */
  readonly containers: boolean;
  /** Sequential nodes clients have learned of (bounded). */
  readonly known: string[];
  nextClient: number;
  invoked: number;
  stopped: boolean;
  /** Called whenever a client becomes idle. */
  onIdle(): void;
}

/** A simulated client, as the workload drives it. */
export interface WorkloadClient {
  /** An operation is outstanding. */
  readonly busy: boolean;
  /** A timer will call `next()` (thinking, or waiting to reconnect). */
  readonly waiting: boolean;
  /** Issue the next operation, schedule it, or report idle through `ctx.onIdle`. */
  next(): void;
}

/** One simulated client session at the server level (see the module comment). */
class SimClient implements WorkloadClient {
  number: number;
  sessionId: bigint;
  server: QuorumServer | null = null;
  busy = false;
  /** Waiting to reconnect or to think: a timer is armed. */
  waiting = false;
  private lastZxid = 0;
  private cxid = 0;
  private token = 0;
  private readonly random: Random;
  private readonly ctx: WorkloadContext;
  private readonly gen: OpGenerator;
  /** Scripted clients run these operations, then stop. */
  private readonly script: HistoryOp[] | null;

  constructor(ctx: WorkloadContext, random: Random, script: HistoryOp[] | null = null) {
    this.ctx = ctx;
    this.random = random;
    this.script = script;
    this.number = ctx.nextClient++;
    this.sessionId = SESSION_BASE + BigInt(this.number);
    this.gen = new OpGenerator(random, ctx, () => this.number, ctx.containers);
  }

  get name(): string {
    return `c${this.number}`;
  }

  /** Issue the next operation, or schedule it. */
  next(): void {
    this.waiting = false;
    const ctx = this.ctx;
    if (this.script === null ? ctx.stopped || ctx.invoked >= ctx.options.ops : this.script.length === 0) {
      ctx.onIdle();
      return;
    }
    if (this.server === null || !this.server.serving) {
      if (!this.connect()) return;
    } else if (this.script === null && this.random.chance(ctx.options.migrate)) {
      this.server = null;
      if (!this.connect()) return;
    }
    if (this.script !== null) {
      this.issue(this.script.shift()!);
      return;
    }
    if (this.random.chance(ctx.options.crash)) {
      // The client process dies and restarts: a new session, a new connection.
      this.renew('crashed');
      this.server = null;
      this.lastZxid = 0; // a new process knows nothing of what the old one saw
      this.later(1 + this.random.int(ctx.options.reconnectMaxMs));
      return;
    }
    ctx.invoked++;
    if (this.random.chance(ctx.options.closeSession)) this.issue({ type: 'closeSession' });
    else this.issue(this.gen.next());
  }

  /** Connect to a serving server that has seen our last zxid; else retry later. */
  private connect(): boolean {
    const ctx = this.ctx;
    const candidates = ctx.cluster.servers.filter((s) => s.serving && s.lastAppliedZxid >= this.lastZxid);
    if (candidates.length === 0) {
      this.server = null;
      this.later(1 + this.random.int(ctx.options.reconnectMaxMs));
      return false;
    }
    const server = candidates[this.random.int(candidates.length)]!;
    this.server = server;
    if (ctx.trace.enabled) ctx.trace.log(this.name, `connect s${server.self} (seen ${shortZxid(this.lastZxid)})`);
    return true;
  }

  private later(ms: number): void {
    this.waiting = true;
    this.ctx.clock.setTimeout(() => this.next(), ms);
  }

  private issue(op: HistoryOp): void {
    const ctx = this.ctx;
    const server = this.server!;
    const pending = ctx.recorder.invoke(this.number, op);
    const token = ++this.token;
    this.busy = true;
    if (ctx.trace.enabled) ctx.trace.log(this.name, `invoke #${pending.id} ${formatOp(op)} @s${server.self}`);
    const timer = ctx.clock.setTimeout(() => {
      if (token !== this.token) return;
      this.settle(pending, op, { status: 'unknown' }, 'timeout');
    }, ctx.options.requestTimeoutMs);
    const answer = (outcome: Outcome<unknown>, zxid = 0): void => {
      if (token !== this.token) return; // timed out already: the client no longer listens
      ctx.clock.clearTimeout(timer);
      this.seen(zxid);
      this.settle(pending, op, outcome, undefined);
    };
    const cxid = ++this.cxid;
    const context = { sessionId: this.sessionId, cxid, authIds: [] };
    switch (op.type) {
      case 'getData':
      case 'exists':
      case 'getChildren':
        server.read(
          context,
          (tree) => ({ outcome: this.readOn(tree, op), zxid: tree.lastProcessedZxid }),
          (r) => (r instanceof ZooKeeperError ? answer(this.errorOutcome(r)) : answer(r.outcome, r.zxid)),
        );
        return;
      case 'sync':
        server.sync(op.path, context, (r) => {
          if (r instanceof ZooKeeperError) {
            answer(this.errorOutcome(r));
            return;
          }
          answer({ status: 'ok', result: null }, r.zxid);
        });
        return;
      default: {
        const key = `${this.sessionId}:${cxid}`;
        ctx.issued.set(key, { id: pending.id, op });
        server.write(toRequest(op), context, (r) => {
          if (r instanceof ZooKeeperError) {
            answer(this.errorOutcome(r));
            return;
          }
          ctx.acknowledged.push({ zxid: r.zxid, key });
          answer(writeOutcome(op, r), r.zxid);
        });
      }
    }
  }

  private readOn(tree: DataTree, op: HistoryOp): Outcome<unknown> {
    const path = (op as { path: string }).path;
    switch (op.type) {
      case 'getData': {
        const node = tree.getData(path);
        if (node === undefined) return { status: 'fail', code: ErrorCode.NoNode };
        this.gen.versions.set(path, node.stat.version);
        return { status: 'ok', result: { data: node.data === null ? '' : decoder.decode(node.data), version: node.stat.version } };
      }
      case 'exists': {
        const stat = tree.stat(path);
        if (stat !== undefined) this.gen.versions.set(path, stat.version);
        return { status: 'ok', result: stat === undefined ? null : stat.version };
      }
      default: {
        const children = tree.getChildren(path);
        if (children === undefined) return { status: 'fail', code: ErrorCode.NoNode };
        for (const c of children) if (c.startsWith('s-')) this.gen.learn(`${path}/${c}`);
        return { status: 'ok', result: [...children] };
      }
    }
  }

  private errorOutcome(error: ZooKeeperError): Outcome<unknown> {
    return UNKNOWN_OUTCOME_CODES.has(error.code) ? { status: 'unknown' } : { status: 'fail', code: error.code };
  }

  private settle(pending: PendingOperation, op: HistoryOp, outcome: Outcome<unknown>, why: string | undefined): void {
    const ctx = this.ctx;
    this.token++;
    this.busy = false;
    if (outcome.status === 'ok') (pending as PendingOperation<HistoryOp>).ok(outcome.result as never);
    else if (outcome.status === 'fail') pending.fail(outcome.code, outcome.index);
    else pending.unknown();
    if (ctx.trace.enabled) {
      const server = this.server === null ? '' : ` @s${this.server.self}`;
      ctx.trace.log(this.name, `${outcome.status} #${pending.id} ${why ?? formatOutcome(op, outcome)}${server}`);
    }
    if (outcome.status === 'ok') this.gen.remember(op, outcome.result);
    if (outcome.status === 'unknown') this.server = null; // connection lost: reconnect elsewhere
    if (op.type === 'closeSession') this.renew('session closed');
    this.later(this.random.int(ctx.options.thinkMaxMs + 1));
  }

  /** The session ended: go on as a new session (a new client of the history). */
  private renew(why: string): void {
    const ctx = this.ctx;
    const old = this.name;
    this.number = ctx.nextClient++;
    this.sessionId = SESSION_BASE + BigInt(this.number);
    this.cxid = 0;
    this.gen.versions.clear();
    if (ctx.trace.enabled) ctx.trace.log(old, `${why}; continues as ${this.name}`);
  }

  private seen(zxid: number): void {
    if (zxid > this.lastZxid) this.lastZxid = zxid;
  }

}

/**
 * Draws a client's operations on the shared key space (used by every client kind, so
 * they conflict with each other): creates of every mode, setData and delete with and
 * without versions (known versions are remembered from results), reads, multi, sync.
 */
export class OpGenerator {
  /** Data versions this client has seen, by path. */
  readonly versions = new Map<string, number>();
  /** The path the last generated op chose (versions are drawn for it). */
  private lastPath = '/';
  private dataCounter = 0;

  /**
   * @param random the client's stream
   * @param ctx the shared key space
   * @param number the history client number, for data values
   * @param containers draw CONTAINER creates (else they become PERSISTENT: a container
   *   reaper's deletes would not be in the history)
   */
  constructor(
    private readonly random: Random,
    private readonly ctx: WorkloadContext,
    private readonly number: () => number,
    private readonly containers = true,
  ) {}

  /** The next operation, by the workload's mix. */
  next(): HistoryOp {
    return this.generate();
  }

  /** Learn from an ok result (created sequential names, new versions). */
  remember(op: HistoryOp, result: unknown): void {
    if (op.type === 'create' && typeof result === 'string' && result !== op.path) this.learn(result);
    if (op.type === 'setData' && typeof result === 'number') this.versions.set(op.path, result);
    if (op.type === 'multi') {
      (result as readonly MultiSubResult[]).forEach((r, i) => {
        const sub = op.ops[i]!;
        if (sub.type === 'create' && typeof r === 'string' && r !== sub.path) this.learn(r);
        if (sub.type === 'setData' && typeof r === 'number') this.versions.set(sub.path, r);
      });
    }
  }

  learn(path: string): void {
    const known = this.ctx.known;
    if (known.includes(path)) return;
    known.push(path);
    if (known.length > 24) known.shift();
  }

  private generate(): HistoryOp {
    const r = this.random;
    const mix = this.ctx.options.mix;
    let total = 0;
    for (const kind of OP_KINDS) total += mix[kind];
    let x = r.next() * total;
    let kind: OpKind = 'getData';
    for (const k of OP_KINDS) {
      x -= mix[k];
      if (x < 0) {
        kind = k;
        break;
      }
    }
    switch (kind) {
      case 'create':
        return this.createOp();
      case 'setData':
        return { type: 'setData', path: this.anyPath(), data: this.data(), version: this.version(this.lastPath) };
      case 'delete':
        return { type: 'delete', path: r.chance(0.7) ? this.childPath() : this.parent(), version: this.version(this.lastPath) };
      case 'getData':
      case 'exists':
        return { type: kind, path: this.anyPath() };
      case 'getChildren':
        return { type: 'getChildren', path: this.parent() };
      case 'sync':
        return { type: 'sync', path: this.anyPath() };
      case 'multi': {
        const ops: MultiSubOp[] = [];
        const n = 2 + r.int(2);
        for (let i = 0; i < n; i++) {
          switch (r.int(4)) {
            case 0:
              ops.push(this.createOp());
              break;
            case 1:
              ops.push({ type: 'setData', path: this.anyPath(), data: this.data(), version: this.version(this.lastPath) });
              break;
            case 2:
              ops.push({ type: 'delete', path: this.childPath(), version: this.version(this.lastPath) });
              break;
            default:
              ops.push({ type: 'check', path: this.anyPath(), version: this.version(this.lastPath) });
          }
        }
        return { type: 'multi', ops };
      }
    }
  }

  private createOp(): MultiSubOp & { type: 'create' } {
    const r = this.random.next();
    const mode =
      r < 0.45
        ? CreateMode.PERSISTENT
        : r < 0.65
          ? CreateMode.EPHEMERAL
          : r < 0.8
            ? CreateMode.PERSISTENT_SEQUENTIAL
            : r < 0.9
              ? CreateMode.EPHEMERAL_SEQUENTIAL
              : this.containers
                ? CreateMode.CONTAINER
                : CreateMode.PERSISTENT;
    const sequential = mode === CreateMode.PERSISTENT_SEQUENTIAL || mode === CreateMode.EPHEMERAL_SEQUENTIAL;
    const path = sequential ? `${this.parent()}/s-` : this.random.chance(0.3) ? this.parent() : this.fixedChild();
    return { type: 'create', path, data: this.data(), mode };
  }

  private parent(): string {
    const parents = this.ctx.parents;
    return (this.lastPath = parents[this.random.int(parents.length)]!);
  }

  private fixedChild(): string {
    return (this.lastPath = `${this.parent()}/${CHILD_NAMES[this.random.int(CHILD_NAMES.length)]}`);
  }

  private childPath(): string {
    const known = this.ctx.known;
    if (known.length > 0 && this.random.chance(0.3)) return (this.lastPath = known[this.random.int(known.length)]!);
    return this.fixedChild();
  }

  private anyPath(): string {
    return this.random.chance(0.35) ? this.parent() : this.childPath();
  }

  private version(path: string): number {
    if (this.random.chance(0.5)) return -1;
    const known = this.versions.get(path);
    return known !== undefined && this.random.chance(0.8) ? known : this.random.int(3);
  }

  private data(): string {
    return `${this.number()}.${++this.dataCounter}`;
  }
}

/** True if the op's effect depends on its session (ephemeral creates, closeSession). */
function ownedBySession(op: HistoryOp): boolean {
  if (op.type === 'closeSession') return true;
  const subs: readonly (HistoryOp | MultiSubOp)[] = op.type === 'multi' ? op.ops : [op];
  return subs.some((sub) => sub.type === 'create' && (sub.mode === CreateMode.EPHEMERAL || sub.mode === CreateMode.EPHEMERAL_SEQUENTIAL));
}

/** Convert a history op to the server request. */
export function toRequest(op: HistoryOp | MultiSubOp): PrepareRequest {
  switch (op.type) {
    case 'multi':
      return { type: OpCode.multi, ops: op.ops.map((o) => toRequest(o) as MultiWriteOp) };
    case 'closeSession':
      return { type: OpCode.closeSession };
    case 'create':
      return {
        type: op.mode === CreateMode.CONTAINER ? OpCode.createContainer : OpCode.create,
        path: op.path,
        data: encoder.encode(op.data),
        acl: OPEN_ACL,
        flags: op.mode,
      };
    case 'setData':
      return { type: OpCode.setData, path: op.path, data: encoder.encode(op.data), version: op.version };
    case 'delete':
      return { type: OpCode.delete, path: op.path, version: op.version };
    case 'check':
      return { type: OpCode.check, path: op.path, version: op.version };
    default:
      throw new TypeError(`not a write: ${op.type}`);
  }
}

/** What the client was told for an applied write. */
export function writeOutcome(op: HistoryOp, result: ApplyResult): Outcome<unknown> {
  const outcome = result.outcome;
  if (outcome.kind === 'multi') {
    const results = outcome.results;
    for (let i = 0; i < results.length; i++) {
      const r = results[i]!;
      if (r.kind === 'error' && r.err !== ErrorCode.OK) return { status: 'fail', code: r.err, index: i };
    }
    return { status: 'ok', result: results.map(subResult) };
  }
  if (result.err !== 0) return { status: 'fail', code: result.err };
  switch (outcome.kind) {
    case 'create':
      return { status: 'ok', result: outcome.path };
    case 'setData':
      return { status: 'ok', result: outcome.stat.version };
    default:
      void op;
      return { status: 'ok', result: null };
  }
}

function subResult(r: OpOutcome): MultiSubResult {
  switch (r.kind) {
    case 'create':
      return r.path;
    case 'setData':
      return r.stat.version;
    default:
      return null;
  }
}

/** Dependencies of a `Workload`. */
export interface WorkloadDeps {
  cluster: SimCluster;
  clock: VirtualClock;
  random: Random;
  trace: SimTrace;
  /** Clients may create containers (default true; false when a container reaper runs). */
  containers?: boolean;
  /** The sessions of session-level clients (for the expiries the history must contain). */
  ledger?: SessionLedger;
}

/** The clients of one run: start them, wait for `finished`, then run `finalReads`. */
export class Workload {
  /** Every operation, as the checker reads it. */
  readonly recorder = new HistoryRecorder();
  /** Writes acknowledged with a zxid (clients' and barriers'). */
  readonly acknowledged: Acknowledged[] = [];
  readonly options: WorkloadOptions;
  private readonly deps: WorkloadDeps;
  private readonly ctx: WorkloadContext;
  private readonly clients: WorkloadClient[] = [];
  private barrierCxid = 0;

  constructor(deps: WorkloadDeps, options: WorkloadOptions) {
    this.deps = deps;
    this.options = options;
    const parents = Array.from({ length: options.parents }, (_, i) => `/k${i}`);
    const ctx: WorkloadContext = {
      cluster: deps.cluster,
      clock: deps.clock,
      trace: deps.trace,
      recorder: this.recorder,
      options,
      acknowledged: this.acknowledged,
      issued: new Map(),
      parents,
      containers: deps.containers ?? true,
      known: [],
      nextClient: 1,
      invoked: 0,
      stopped: false,
      onIdle: () => {},
    };
    this.ctx = ctx;
    for (const server of deps.cluster.servers) server.on('applied', (txn, result) => this.onApplied(txn, result));
  }

  /** The shared context (for client kinds added with `addClient`). */
  get context(): WorkloadContext {
    return this.ctx;
  }

  /**
   * The first time any replica applies a workload write, note what it did and when (a
   * logical time of the history): if the client never learns the outcome, the history
   * can still say that the write took effect, with which result, before this point.
   */
  private onApplied(txn: Txn, result: ApplyResult): void {
    const { sessionId, cxid } = txn.header;
    if (sessionId < SESSION_BASE) return;
    if (cxid === 0 && txn.body.kind === 'closeSession' && !this.expiries.has(sessionId)) {
      // A session the leader expired (no client request): the history needs its close.
      this.expiries.set(sessionId, this.recorder.tick());
    }
    const key = `${sessionId}:${cxid}`;
    if (this.effects.has(key)) return;
    const issued = this.ctx.issued.get(key);
    if (issued === undefined) return;
    this.effects.set(key, { outcome: writeOutcome(issued.op, result), time: this.recorder.tick(), zxid: result.zxid });
  }

  /** First-apply times of the closeSession of each session the leader expired. */
  private readonly expiries = new Map<bigint, number>();

  /** What each workload write did when first applied (see `onApplied`). */
  private readonly effects = new Map<string, { outcome: Outcome<unknown>; time: number; zxid: number }>();

  /**
   * The history to check. Writes whose outcome the client never learned are resolved
   * from what the replicas applied (checked separately by the replica checkers):
   * - one that no replica applied by the end of the run is left out (it took effect, if
   *   ever, after every read);
   * - one that was applied gets its applied result, completed at the moment it was
   *   first applied (it was committed then), but as the operation of a "ghost" client:
   *   its own session never learned of it, so ZooKeeper does not promise that session's
   *   later reads see it (it reconnected elsewhere with an older last zxid);
   * - except where the session matters to the model (an ephemeral create, closeSession):
   *   those keep their client and complete only at the end of the history.
   * This loses no violation and spares the checker from guessing about each unknown write.
   */
  history(): Operation[] {
    const byId = new Map<number, string>();
    for (const [key, { id }] of this.ctx.issued) byId.set(id, key);
    this.endTime ??= this.recorder.tick();
    const out: Operation[] = [];
    for (const o of this.recorder.history()) {
      const key = o.outcome.status === 'unknown' ? byId.get(o.id) : undefined;
      if (key === undefined) {
        out.push(o);
        continue;
      }
      const effect = this.effects.get(key);
      if (effect === undefined) continue; // never applied
      const outcome = effect.outcome as Operation['outcome'];
      if (ownedBySession(o.op)) out.push({ ...o, outcome, complete: this.endTime });
      else out.push({ ...o, client: GHOST_CLIENT_BASE + o.id, outcome, complete: Math.max(effect.time, o.invoke) });
    }
    // Sessions the leader expired (their client crashed, was cut off, or lost its close):
    // the expiry deleted their ephemerals, so it is a closeSession of theirs, committed
    // no earlier than their last completed write and first applied at `time`.
    let nextId = this.recorder.size;
    for (const record of this.deps.ledger?.sessions ?? []) {
      if (!record.ephemeral || record.sessionId === 0n) continue;
      const time = this.expiries.get(record.sessionId);
      if (time === undefined) continue;
      const invoke = Math.min(record.lastWriteInvoke, time);
      out.push({ id: nextId++, client: record.number, op: { type: 'closeSession' }, invoke, complete: time, outcome: { status: 'ok', result: null } });
    }
    return out;
  }

  /** The logical time the history ends at (taken by the first `history()` call). */
  private endTime: number | undefined;

  /** Unknown writes `history()` resolves: applied (completed) and dropped (never applied). */
  resolvedCounts(): { applied: number; dropped: number } {
    const keyOf = new Map<number, string>();
    for (const [key, { id }] of this.ctx.issued) keyOf.set(id, key);
    let applied = 0;
    let dropped = 0;
    for (const o of this.recorder.history()) {
      const key = o.outcome.status === 'unknown' ? keyOf.get(o.id) : undefined;
      if (key === undefined) continue;
      if (this.effects.has(key)) applied++;
      else dropped++;
    }
    return { applied, dropped };
  }

  /** Start `clients` server-level clients (default `options.clients`). */
  start(clients = this.options.clients): void {
    for (let i = 0; i < clients; i++) this.addClient((ctx, random) => new SimClient(ctx, random));
  }

  /** Add and start a client of any kind (the plug-in point for session-level clients). */
  addClient(make: (ctx: WorkloadContext, random: Random) => WorkloadClient): WorkloadClient {
    const client = make(this.ctx, this.deps.random.fork(`client${this.clients.length}`));
    this.clients.push(client);
    client.next();
    return client;
  }

  /** Operations invoked so far (final reads excluded). */
  get invoked(): number {
    return this.ctx.invoked;
  }

  /** True once every operation was invoked and every client is idle. */
  get finished(): boolean {
    if (this.clients.length === 0) return true; // no clients (a recipes-only run): nothing to do
    if (this.ctx.invoked < this.options.ops && !this.ctx.stopped) return false;
    return this.clients.every((c) => !c.busy && !c.waiting);
  }

  /** Stop issuing new operations (pending ones still complete or time out). */
  stop(): void {
    this.ctx.stopped = true;
  }

  /**
   * A verifier session reads the whole key space after a sync; `done()` becomes true
   * once it has (outcomes are recorded like any other client's).
   */
  finalReads(): { done: () => boolean } {
    const script: HistoryOp[] = [{ type: 'sync', path: '/' }];
    for (const p of this.ctx.parents) {
      script.push({ type: 'getChildren', path: p }, { type: 'getData', path: p });
      for (const c of CHILD_NAMES) script.push({ type: 'getData', path: `${p}/${c}` });
    }
    for (const k of this.ctx.known) script.push({ type: 'exists', path: k });
    const client = this.addClient((ctx, random) => new SimClient(ctx, random, script));
    return { done: () => script.length === 0 && !client.busy };
  }

  /**
   * Write through the leader with a session outside the history (setData on `/`): its
   * ACKs and COMMIT carry along anything a lossy network left uncommitted or unsent.
   */
  barrier(server: QuorumServer): void {
    const cxid = ++this.barrierCxid;
    const key = `${BARRIER_SESSION}:${cxid}`;
    server.write({ type: OpCode.setData, path: '/', data: encoder.encode(`barrier ${cxid}`), version: -1 }, { sessionId: BARRIER_SESSION, cxid, authIds: [] }, (r) => {
      if (!(r instanceof ZooKeeperError)) this.acknowledged.push({ zxid: r.zxid, key });
    });
  }

}
