/**
 * Checks a history (`history.ts`) against ZooKeeper's consistency guarantees
 * (reference §16.6, §16.9): writes are linearizable; reads are sequentially consistent
 * per session, not linearizable.
 *
 * ## The encoding
 *
 * ZooKeeper orders every write (including the error txns of failed writes, §11.6) in
 * one zxid order, applied at a point between invocation and reply. A read served by a
 * follower returns the state after some prefix of that order. So a valid execution is
 * one total order over the writes *and* the reads, where each read is placed right
 * after the prefix it saw, and where the model (`znode-model.ts`) run along that order
 * produces every recorded result. Writes are placed by real time; reads are placed by
 * the weaker rules ZooKeeper actually promises. Concretely the order must respect the
 * precedence `x ≺ y` defined for every pair with `x.complete < y.invoke` (x completed
 * before y was invoked) as follows:
 *
 * | x \ y | write                | read by client C                                     |
 * |-------|----------------------|------------------------------------------------------|
 * | write | always (real time)   | if x is C's own write, or x completed before C invoked a sync that completed before y was invoked |
 * | read  | always: a read cannot see a write invoked after it returned | if x is C's own earlier read (monotonic reads) |
 *
 * and no precedence otherwise: in particular a read may be placed *before* a write of
 * another client that completed before the read was invoked (a lagging follower). This
 * is exactly (1)-(3) of the spec:
 * (1) "at least as new as C's previous observations": C's completed writes (ok or
 *     failed: error txns are ordered too) and C's completed reads precede its later
 *     reads, and since reads are points in the one order, later reads see a superset;
 * (2) "at least as new as every write that completed before C's sync was invoked, once
 *     that sync completed": the sync rows above (`sync: 'bound'`, the default);
 * (3) "not newer than its linearization point": a write invoked after the read
 *     returned comes after the read; a write in the prefix a read sees was invoked
 *     before the read returned (else the read ≺ write rule is violated), so its commit
 *     point can be placed before the read's reply.
 * Every rule has `x.complete < y.invoke`, so `≺` is acyclic.
 *
 * `sync: 'point'` is stricter (and what §16.9 describes: the leader orders the sync in
 * its stream): a sync is then a no-op write placed in the order like a write, and C's
 * reads after it follow it.
 *
 * Unknown outcomes: an unknown write has `complete = ∞`, so nothing must follow it; it
 * may be placed anywhere after its invocation or nowhere ("never happened" is the same
 * as "happened after everything else"). Unknown reads and syncs observe nothing and are
 * dropped.
 *
 * ## The search
 *
 * Wing & Gong / Lowe (WGL) depth-first search over orders respecting `≺`, memoizing
 * (set of placed operations, model state) as Porcupine does: the set as a 64-bit
 * Zobrist hash, the state as the model's incremental 64-bit hash (128-bit keys).
 * - Operations that leave *every* state unchanged (reads, syncs, failed writes, multis
 *   of checks) are placed greedily as soon as all their predecessors are placed and
 *   their result matches: if any valid continuation exists, moving such an operation to
 *   the front of it keeps it valid (it changes no state wherever it stands, and none of
 *   the operations it jumps over precede it), so no solution is lost. The search
 *   therefore branches only on writes.
 * - An unknown write is only tried while some unplaced completed operation could
 *   observe its effect (shares a facet with it, see `assignFacets`, directly or through
 *   other unknown writes); otherwise "never" is as good as any time. Once it can no
 *   longer be observed, whether it was placed is dropped from the memo key (its effect
 *   is in the state hash).
 * - A budget of memoized states bounds the work; exhausting it answers `unknown`.
 *
 * The steps: (1) search the whole history with a small budget (`quickStates`), which
 * settles most histories; (2) otherwise search each independent part (`partition`): a
 * part without a valid order is a violation of the whole, since restricting a valid
 * global order to a part gives a valid order of the part; (3) search the whole history
 * again with each part's order of writes fixed, placing reads against the global
 * state, which passes in almost every case; (4) if that fails, search the whole
 * history with the rest of the budget. Step 3 is needed because sequential consistency,
 * unlike linearizability (Herlihy & Wing's locality), is not compositional: two
 * clients may each see two independent keys change in opposite orders, which is fine
 * per key and impossible globally. Every pass rests on a complete order found by a
 * search of the whole history (steps 1, 3 or 4), never on the parts alone.
 */
import { ErrorCode } from '../protocol/errors.js';
import { UNKNOWN_OUTCOME_CODES, isReadOp, type History, type HistoryOp, type Operation } from './history.js';
import { violation } from './linearizability-explain.js';
import { assignFacets, partition } from './linearizability-facets.js';
import {
  BUDGET_EXHAUSTED,
  Entry,
  guidedSearch,
  restrictPreds,
  search,
  type Budget,
  type Kind,
  type Prepared,
  type SearchOk,
} from './linearizability-search.js';
import { ZOOKEEPER_INITIAL_NODES, type InitialNode, type Observation } from './znode-model.js';

/** Options of `checkHistory`. */
export interface CheckOptions {
  /** Stop after memoizing this many search states and answer `unknown`. Default 200 000. */
  maxStates?: number;
  /**
   * What a completed `sync` guarantees to the same client's later reads: `bound` (the
   * default) every write that completed before the sync was invoked; `point` every
   * write ordered before the sync, which is placed like a write.
   */
  sync?: 'bound' | 'point';
  /** Nodes present before the history (default: ZooKeeper's `/zookeeper` nodes). */
  initial?: readonly InitialNode[];
  /** Search independent parts separately when the first attempt does not settle it (default true). */
  partition?: boolean;
  /**
   * States for the first attempt, a search of the whole history, which settles most
   * histories; 0 goes straight to the partitioned search. Default 2 000.
   */
  quickStates?: number;
}

/** The history is consistent. */
export interface CheckPass {
  status: 'ok';
  /**
   * Ids in a valid order: every completed operation except syncs in `bound` mode and
   * failures that say nothing about the state, plus the unknown writes that took effect
   * in this order.
   */
  witness: number[];
  /** Search states memoized. */
  states: number;
  /** Independent parts searched (1 when the whole history was searched at once). */
  partitions: number;
}

/** The history violates ZooKeeper's guarantees. */
export interface CheckViolation {
  status: 'violation';
  /** What went wrong, naming the operations. */
  message: string;
  /** The operation that cannot be placed first, then those that explain why. */
  operations: Operation[];
  /** Ids of the longest valid order of the part that failed. */
  longestPrefix: number[];
  states: number;
}

/** The search budget ran out: neither pass nor violation. */
export interface CheckUnknown {
  status: 'unknown';
  reason: string;
  states: number;
}

/** The verdict of `checkHistory`. */
export type CheckResult = CheckPass | CheckViolation | CheckUnknown;

/** Default `maxStates`. */
export const DEFAULT_MAX_STATES = 200_000;

const NO = ErrorCode;
/** Error codes the model decides, per operation type; other errors mean "did not happen". */
const MODELED_FAILURES: Record<HistoryOp['type'], ReadonlySet<number>> = {
  create: new Set([NO.NoNode, NO.NodeExists, NO.NoChildrenForEphemerals]),
  setData: new Set([NO.NoNode, NO.BadVersion]),
  delete: new Set([NO.NoNode, NO.BadVersion, NO.NotEmpty]),
  multi: new Set([NO.NoNode, NO.NodeExists, NO.NoChildrenForEphemerals, NO.BadVersion, NO.NotEmpty]),
  getData: new Set([NO.NoNode]),
  getChildren: new Set([NO.NoNode]),
  exists: new Set(),
  sync: new Set(),
  closeSession: new Set(),
};

/**
 * Check `history` against ZooKeeper's guarantees (see the module comment for exactly
 * which). Throws `TypeError` for a malformed history (duplicate ids, completion before
 * invocation, a completed outcome without a completion time).
 */
export function checkHistory(history: History, options: CheckOptions = {}): CheckResult {
  const initial = options.initial ?? ZOOKEEPER_INITIAL_NODES;
  const prep = prepare(history, options.sync ?? 'bound', initial);
  const budget: Budget = { used: 0, max: options.maxStates ?? DEFAULT_MAX_STATES };
  const all = prep.entries.map((_, i) => i);
  const direct = () => restrictPreds(all, null, prep.preds);
  try {
    // 1. Most histories are settled by a short search of the whole history.
    const quickStates = options.quickStates ?? QUICK_STATES;
    const quick = quickStates > 0 ? attempt(budget, quickStates, () => search(prep, all, direct(), initial, budget)) : null;
    if (quick !== null) return quick.kind === 'ok' ? pass(prep, quick.order, budget.used, 1) : violation(prep, all, quick.deepest, initial, budget.used);
    // 2. Search each independent part; a part without a valid order is a violation.
    const parts = options.partition === false ? [] : partition(prep);
    if (parts.length > 1) {
      const reach = closure(prep);
      const found: SearchOk[] = [];
      for (const part of parts) {
        const res = search(prep, part, restrictPreds(part, reach), initial, budget);
        if (res.kind === 'fail') return violation(prep, part, res.deepest, initial, budget.used);
        found.push(res);
      }
      // 3. Interleave the parts' write orders, placing reads against the global state.
      const guided = attempt(budget, Math.max(GUIDED_STATES, 10 * all.length), () => guidedSearch(prep, found, initial, budget));
      if (guided !== null && guided.kind === 'ok') return pass(prep, guided.order, budget.used, parts.length);
    }
    // 4. Search the whole history with the rest of the budget.
    const res = search(prep, all, direct(), initial, budget);
    if (res.kind === 'fail') return violation(prep, all, res.deepest, initial, budget.used);
    return pass(prep, res.order, budget.used, 1);
  } catch (e) {
    if (e === BUDGET_EXHAUSTED) {
      return { status: 'unknown', reason: `search budget of ${budget.max} states exhausted`, states: budget.used };
    }
    throw e;
  }
}

/** Default states for the first whole-history attempt. */
const QUICK_STATES = 2_000;
/** Minimum states for the guided interleaving of the parts' orders. */
const GUIDED_STATES = 2_000;

/** Run `fn` with at most `states` more states; null if that ran out before the global budget. */
function attempt<R>(budget: Budget, states: number, fn: () => R): R | null {
  const max = budget.max;
  budget.max = Math.min(max, budget.used + states);
  try {
    return fn();
  } catch (e) {
    if (e !== BUDGET_EXHAUSTED || budget.used >= max) throw e;
    return null;
  } finally {
    budget.max = max;
  }
}

function pass(prep: Prepared, order: number[], states: number, partitions: number): CheckPass {
  return { status: 'ok', witness: order.map((i) => prep.entries[i]!.op.id), states, partitions };
}

function prepare(history: History, syncMode: 'bound' | 'point', initial: readonly InitialNode[]): Prepared {
  const entries: Entry[] = [];
  const syncs = new Map<number, { invoke: number; complete: number; id: number }[]>();
  const ids = new Set<number>();
  for (const o of history) {
    if (ids.has(o.id)) throw new TypeError(`malformed history: duplicate id ${o.id}`);
    ids.add(o.id);
    let status = o.outcome.status;
    if (status !== 'unknown') {
      if (o.complete === null) throw new TypeError(`malformed history: #${o.id} has an outcome but no completion time`);
      if (o.complete < o.invoke) throw new TypeError(`malformed history: #${o.id} completes before it is invoked`);
    }
    if (o.outcome.status === 'fail' && UNKNOWN_OUTCOME_CODES.has(o.outcome.code)) status = 'unknown';
    const kind: Kind = isReadOp(o.op) ? 'read' : o.op.type === 'sync' ? 'sync' : 'write';
    if (status === 'unknown') {
      if (kind !== 'write') continue; // observed nothing
      entries.push(new Entry(o, kind, Infinity, null));
      continue;
    }
    let expected: Observation;
    if (o.outcome.status === 'fail') {
      const { code, index } = o.outcome;
      if (o.op.type === 'exists' && code === ErrorCode.NoNode) expected = { ok: true, result: null };
      else if (!MODELED_FAILURES[o.op.type].has(code)) continue; // rejected without effect
      else expected = index === undefined ? { ok: false, code } : { ok: false, code, index };
    } else if (o.outcome.status === 'ok') {
      expected = { ok: true, result: normalizeResult(o.op, o.outcome.result) };
    } else {
      continue;
    }
    if (kind === 'sync' && syncMode === 'bound') {
      let list = syncs.get(o.client);
      if (list === undefined) syncs.set(o.client, (list = []));
      list.push({ invoke: o.invoke, complete: o.complete!, id: o.id });
      continue;
    }
    entries.push(new Entry(o, kind, o.complete!, expected));
  }
  // Sorting by invocation makes every `≺` edge point forward (x.complete < y.invoke).
  entries.sort((a, b) => a.invoke - b.invoke || a.complete - b.complete || a.op.id - b.op.id);
  assignFacets(entries, initial);
  return { entries, preds: precedence(entries, syncs), syncs };
}

function normalizeResult(op: HistoryOp, result: unknown): unknown {
  if (op.type === 'getChildren') return [...(result as readonly string[])].sort();
  return result;
}

/** The latest invocation of a sync by `client` that completed before `time`. */
function syncBound(syncs: Prepared['syncs'], client: number, time: number): number {
  let bound = -Infinity;
  for (const s of syncs.get(client) ?? []) if (s.complete < time && s.invoke > bound) bound = s.invoke;
  return bound;
}

/** Direct predecessors under `≺` (the table in the module comment). */
function precedence(entries: Entry[], syncs: Prepared['syncs']): number[][] {
  const n = entries.length;
  const complete = Float64Array.from(entries, (e) => e.complete);
  const client = Float64Array.from(entries, (e) => e.client);
  const isWrite = Uint8Array.from(entries, (e) => (e.kind === 'write' ? 1 : 0));
  const preds: number[][] = [];
  for (let y = 0; y < n; y++) {
    const ey = entries[y]!;
    const out: number[] = [];
    preds.push(out);
    // Entries are sorted by invocation and x.invoke <= x.complete, so only x < y qualify.
    if (ey.kind !== 'read') {
      for (let x = 0; x < y; x++) if (complete[x]! < ey.invoke) out.push(x);
      continue;
    }
    const bound = syncBound(syncs, ey.client, ey.invoke);
    for (let x = 0; x < y; x++) {
      const c = complete[x]!;
      if (c < ey.invoke && (client[x] === ey.client || (isWrite[x] === 1 && c < bound))) out.push(x);
    }
  }
  return preds;
}

/** Transitive closure of `≺` as one bitset per entry. */
function closure(prep: Prepared): Uint32Array[] {
  const n = prep.entries.length;
  const words = (n + 31) >>> 5;
  const reach: Uint32Array[] = [];
  for (let y = 0; y < n; y++) {
    const r = new Uint32Array(words);
    for (const x of prep.preds[y]!) {
      const rx = reach[x]!;
      for (let w = 0; w < words; w++) r[w]! |= rx[w]!;
      r[x >>> 5]! |= 1 << (x & 31);
    }
    reach.push(r);
  }
  return reach;
}
