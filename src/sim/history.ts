/**
 * The history of a simulated workload: what each client asked for, when, and what it
 * was told. The linearizability checker (`linearizability.ts`) judges such histories.
 *
 * Times are logical integers: `a` happened before `b` iff `a.complete < b.invoke`;
 * equal or overlapping times mean "concurrent". `HistoryRecorder` numbers every
 * invocation and completion event with one counter, which keeps the exact real-time
 * order the workload observed.
 *
 * Outcomes:
 * - `ok`: the operation took effect once, between invoke and complete, with `result`.
 * - `fail`: ZooKeeper answered an error code. Errors of writes that depend on state
 *   (NoNode, NodeExists, BadVersion, NotEmpty, NoChildrenForEphemerals) went through
 *   consensus as error transactions: they changed nothing but are ordered observations
 *   of the state, and are checked. Errors the model cannot predict (NoAuth,
 *   BadArguments, ...) are taken as "did not happen"; errors that leave the outcome open
 *   (ConnectionLoss, OperationTimeout, SessionExpired, ...) as `unknown`
 *   (see `UNKNOWN_OUTCOME_CODES`).
 * - `unknown`: the client never learned the outcome (ConnectionLoss): a write may or
 *   may not have taken effect, at any time after invoke; `complete` is null.
 */
import type { CreateMode } from '../protocol/constants.js';
import { ErrorCode, errorCodeName } from '../protocol/errors.js';

/** Creates a znode; `path` is the requested path (the prefix, for sequential modes). */
export interface CreateOp {
  type: 'create';
  path: string;
  data: string;
  /**
   * The create flags. Sequential and ephemeral modes are modeled exactly; container and
   * TTL modes are treated as persistent (their reapers' deletes are not in the history).
   */
  mode: CreateMode;
}

/** Sets a znode's data; `version` -1 matches any version. */
export interface SetDataOp {
  type: 'setData';
  path: string;
  data: string;
  version: number;
}

/** Deletes a znode; `version` -1 matches any version. */
export interface DeleteOp {
  type: 'delete';
  path: string;
  version: number;
}

/** A version check; only inside `multi`. */
export interface CheckOp {
  type: 'check';
  path: string;
  version: number;
}

/** Reads a znode's data and data version. */
export interface GetDataOp {
  type: 'getData';
  path: string;
}

/** Reads whether a znode exists, and its data version. */
export interface ExistsOp {
  type: 'exists';
  path: string;
}

/** Lists a znode's children. */
export interface GetChildrenOp {
  type: 'getChildren';
  path: string;
}

/** One operation inside a `multi`. */
export type MultiSubOp = CreateOp | SetDataOp | DeleteOp | CheckOp;

/** All-or-nothing writes (opcode 14). */
export interface MultiOp {
  type: 'multi';
  ops: readonly MultiSubOp[];
}

/** `sync(path)`: later reads of the same client see every write that completed before it. */
export interface SyncOp {
  type: 'sync';
  path: string;
}

/**
 * The end of the client's session (close or expiry): every ephemeral node it owns is
 * deleted atomically. Record an expiry the client did not ask for as `unknown`, with
 * `invoke` no later than the earliest moment the leader could have expired the session
 * (for example the completion of the session's last successful request): the checker
 * lets it take effect at any time after `invoke`, but never before.
 * A client id is one session: after its session ends, a client continues under a new id.
 */
export interface CloseSessionOp {
  type: 'closeSession';
}

/** Any operation of a history. */
export type HistoryOp =
  | CreateOp
  | SetDataOp
  | DeleteOp
  | GetDataOp
  | ExistsOp
  | GetChildrenOp
  | MultiOp
  | SyncOp
  | CloseSessionOp;

/** The result of one op inside a successful multi: created path, new version, or null. */
export type MultiSubResult = string | number | null;

/** The `ok` result of each operation type. */
export interface OpResults {
  /** The created path (with the sequence suffix for sequential modes). */
  create: string;
  /** The new data version. */
  setData: number;
  delete: null;
  check: null;
  /** Data and data version. */
  getData: { data: string; version: number };
  /** The data version, or null when the node does not exist. */
  exists: number | null;
  /** Child names (any order; the checker sorts). */
  getChildren: readonly string[];
  /** One result per op, in op order. */
  multi: readonly MultiSubResult[];
  sync: null;
  closeSession: null;
}

/** The `ok` result type of an operation. */
export type ResultOf<O extends { type: keyof OpResults }> = OpResults[O['type']];

/** What the client was told. */
export type Outcome<R = OpResults[keyof OpResults]> =
  | { status: 'ok'; result: R }
  /** `index`: for a failed multi, the index of the op that failed (optional). */
  | { status: 'fail'; code: number; index?: number }
  | { status: 'unknown' };

/** One recorded operation. */
export interface Operation<O extends HistoryOp = HistoryOp> {
  /** Unique within the history. */
  id: number;
  /** The session that issued it. Ephemeral nodes are owned by this id. */
  client: number;
  op: O;
  /** Logical time of the invocation. */
  invoke: number;
  /** Logical time of the completion; null when the outcome is unknown. */
  complete: number | null;
  outcome: Outcome<ResultOf<O>>;
}

/** A history: the operations of one run, in any order. */
export type History = readonly Operation[];

/**
 * Error codes after which the client cannot know whether the operation took effect:
 * the checker treats such a `fail` like `unknown`.
 */
export const UNKNOWN_OUTCOME_CODES: ReadonlySet<number> = new Set<number>([
  ErrorCode.SystemError,
  ErrorCode.ConnectionLoss,
  ErrorCode.MarshallingError,
  ErrorCode.OperationTimeout,
  ErrorCode.UnknownSession,
  ErrorCode.SessionExpired,
  ErrorCode.SessionMoved,
  ErrorCode.RequestTimeout,
]);

/** True for getData, exists and getChildren. */
export function isReadOp(op: HistoryOp): op is GetDataOp | ExistsOp | GetChildrenOp {
  return op.type === 'getData' || op.type === 'exists' || op.type === 'getChildren';
}

/** True for operations that go through consensus and may change the tree. */
export function isWriteOp(op: HistoryOp): op is CreateOp | SetDataOp | DeleteOp | MultiOp | CloseSessionOp {
  return op.type === 'create' || op.type === 'setData' || op.type === 'delete' || op.type === 'multi' || op.type === 'closeSession';
}

/** A pending operation of a `HistoryRecorder`; complete it exactly once. */
export class PendingOperation<O extends HistoryOp = HistoryOp> {
  /** The operation's id in the history. */
  readonly id: number;
  private readonly recorder: HistoryRecorder;
  private readonly record: Operation<O>;
  private done = false;

  /** @internal use `HistoryRecorder.invoke`. */
  constructor(recorder: HistoryRecorder, record: Operation<O>) {
    this.recorder = recorder;
    this.record = record;
    this.id = record.id;
  }

  /** The operation succeeded with `result`. */
  ok(result: ResultOf<O>): void {
    this.finish({ status: 'ok', result }, true);
  }

  /** ZooKeeper answered error `code` (for a multi, `index` is the failing op). */
  fail(code: number, index?: number): void {
    this.finish(index === undefined ? { status: 'fail', code } : { status: 'fail', code, index }, true);
  }

  /** The client will never learn the outcome (connection loss, timeout). */
  unknown(): void {
    this.finish({ status: 'unknown' }, false);
  }

  /**
   * The request never left the client (it failed while queued for a connection): it
   * cannot have taken effect, so it is left out of the history.
   */
  discard(): void {
    this.finish({ status: 'unknown' }, false);
    this.recorder.discarded.add(this.id);
  }

  /** The logical time of the invocation. */
  get invokeTime(): number {
    return this.record.invoke;
  }

  /** True once ok/fail/unknown was called. */
  get settled(): boolean {
    return this.done;
  }

  private finish(outcome: Outcome<ResultOf<O>>, completes: boolean): void {
    if (this.done) throw new Error(`operation #${this.id} completed twice`);
    this.done = true;
    this.record.outcome = outcome;
    this.record.complete = completes ? this.recorder.tick() : null;
  }
}

/**
 * Builds a history as a workload runs: `invoke` when a request is issued, then exactly
 * one of `ok`, `fail`, `unknown` on its handle. Operations still pending when
 * `history()` is called are reported as `unknown`.
 */
export class HistoryRecorder {
  private readonly records: Operation[] = [];
  private time = 0;
  private nextId = 0;

  /** Record the invocation of `op` by session `client`. */
  invoke<O extends HistoryOp>(client: number, op: O): PendingOperation<O> {
    const record: Operation<O> = {
      id: this.nextId++,
      client,
      op,
      invoke: this.tick(),
      complete: null,
      outcome: { status: 'unknown' },
    };
    this.records.push(record as unknown as Operation);
    return new PendingOperation(this, record);
  }

  /** @internal the next logical time. */
  tick(): number {
    return ++this.time;
  }

  /** The number of operations recorded so far. */
  get size(): number {
    return this.records.length;
  }

  /** Ids of operations `discard`ed. @internal */
  readonly discarded = new Set<number>();

  /** A snapshot of the history (pending operations appear as `unknown`; discarded ones are left out). */
  history(): Operation[] {
    const out: Operation[] = [];
    for (const r of this.records) if (!this.discarded.has(r.id)) out.push({ ...r });
    return out;
  }
}

/** `"abc"` with JSON escaping, for messages. */
function q(s: string): string {
  return JSON.stringify(s);
}

const modeNames: Record<number, string> = {
  0: 'PERSISTENT',
  1: 'EPHEMERAL',
  2: 'PERSISTENT_SEQUENTIAL',
  3: 'EPHEMERAL_SEQUENTIAL',
  4: 'CONTAINER',
  5: 'PERSISTENT_WITH_TTL',
  6: 'PERSISTENT_SEQUENTIAL_WITH_TTL',
};

/** `setData(/a, "x", -1)`: an op as text. */
export function formatOp(op: HistoryOp | MultiSubOp): string {
  switch (op.type) {
    case 'create':
      return `create(${op.path}, ${q(op.data)}, ${modeNames[op.mode] ?? op.mode})`;
    case 'setData':
      return `setData(${op.path}, ${q(op.data)}, ${op.version})`;
    case 'delete':
      return `delete(${op.path}, ${op.version})`;
    case 'check':
      return `check(${op.path}, ${op.version})`;
    case 'getData':
    case 'exists':
    case 'getChildren':
    case 'sync':
      return `${op.type}(${op.path})`;
    case 'multi':
      return `multi[${op.ops.map(formatOp).join(', ')}]`;
    case 'closeSession':
      return 'closeSession()';
  }
}

/** A result value as text (`"x" v2` for getData). */
export function formatResult(op: HistoryOp, result: unknown): string {
  switch (op.type) {
    case 'getData': {
      const r = result as OpResults['getData'];
      return `${q(r.data)} v${r.version}`;
    }
    case 'exists':
      return result === null ? 'null' : `v${String(result)}`;
    case 'setData':
      return `v${String(result)}`;
    case 'getChildren':
      return `[${(result as readonly string[]).join(', ')}]`;
    case 'multi':
      return `[${(result as readonly MultiSubResult[]).map((r) => (r === null ? 'ok' : typeof r === 'number' ? `v${r}` : r)).join(', ')}]`;
    case 'create':
      return String(result);
    default:
      return 'ok';
  }
}

/** An outcome as text: `-> "x" v2`, `-> NoNode`, `-> unknown`. */
export function formatOutcome(op: HistoryOp, outcome: Outcome<unknown>): string {
  switch (outcome.status) {
    case 'ok':
      return `-> ${formatResult(op, outcome.result)}`;
    case 'fail':
      return `-> ${errorCodeName(outcome.code)}${outcome.index === undefined ? '' : ` at op ${outcome.index}`}`;
    case 'unknown':
      return '-> unknown';
  }
}

/** `#3 client 2 getData(/a) -> "x" v1 @40..45`: one operation as text, for messages. */
export function formatOperation(o: Operation): string {
  const when = o.complete === null ? `@${o.invoke}..` : `@${o.invoke}..${o.complete}`;
  return `#${o.id} client ${o.client} ${formatOp(o.op)} ${formatOutcome(o.op, o.outcome as Outcome<unknown>)} ${when}`;
}
