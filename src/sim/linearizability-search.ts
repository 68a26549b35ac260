/**
 * The search behind `checkHistory` (see the module comment of `linearizability.ts`):
 * the entries it works on, a depth-first WGL search with memoization, and the guided
 * search that interleaves the orders found for independent parts. Internal to the
 * checker.
 */
import { ErrorCode } from '../protocol/errors.js';
import type { HistoryOp, Operation, OpResults } from './history.js';
import { ZnodeModel, type InitialNode, type Observation } from './znode-model.js';

/** How an entry takes part in the order. */
export type Kind = 'write' | 'read' | 'sync';

/** An operation as the search sees it. */
export class Entry {
  readonly client: number;
  readonly invoke: number;
  readonly unknown: boolean;
  /** The parts of the state it reads or writes (`assignFacets`). */
  facets: string[] = [];

  constructor(
    readonly op: Operation,
    readonly kind: Kind,
    /** Infinity when the outcome is unknown. */
    readonly complete: number,
    /** What the model must answer; null for unknown writes (anything). */
    readonly expected: Observation | null,
  ) {
    this.client = op.client;
    this.invoke = op.invoke;
    this.unknown = expected === null;
  }
}

/** A history ready for searching. */
export interface Prepared {
  entries: Entry[];
  /** Direct predecessors (`≺`) of each entry. */
  preds: number[][];
  /** Completed syncs per client (bound mode), for explanations. */
  syncs: Map<number, { invoke: number; complete: number; id: number }[]>;
}

/** Predecessors of each member among the members, as local indices. */
export function restrictPreds(members: number[], reach: Uint32Array[] | null, direct?: number[][]): number[][] {
  const local = new Map<number, number>();
  members.forEach((g, i) => local.set(g, i));
  return members.map((g) => {
    const out: number[] = [];
    if (reach !== null) {
      const r = reach[g]!;
      for (let i = 0; i < members.length; i++) {
        const x = members[i]!;
        if ((r[x >>> 5]! >>> (x & 31)) & 1) out.push(i);
      }
    } else {
      for (const x of direct![g]!) {
        const i = local.get(x);
        if (i !== undefined) out.push(i);
      }
    }
    return out;
  });
}

/** States memoized so far and the most allowed. */
export interface Budget {
  used: number;
  max: number;
}

/** Thrown when the budget runs out. */
export const BUDGET_EXHAUSTED = Symbol('budget exhausted');

/** A search that found a valid order. */
export interface SearchOk {
  kind: 'ok';
  /** Global entry indices in a valid order. */
  order: number[];
}

/** A search that proved there is none. */
export interface SearchFail {
  kind: 'fail';
  /** The longest valid order found (global indices). */
  deepest: number[];
}

function zobrist(i: number, seed: number): number {
  let h = Math.imul(i + 1, 0x9e3779b1) ^ seed;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A set of 128-bit keys (four 32-bit words): open addressing, linear probing, no allocation per key. */
class KeySet {
  private words = new Int32Array(4 << 10);
  private full = new Uint8Array(1 << 10);
  private size = 0;

  /** Add a key; false if it was already there. */
  add(a: number, b: number, c: number, d: number): boolean {
    if (2 * (this.size + 1) > this.full.length) this.grow();
    const mask = this.full.length - 1;
    let i = (a ^ Math.imul(b, 0x9e3779b1) ^ Math.imul(c, 0x85ebca6b) ^ Math.imul(d, 0xc2b2ae35)) & mask;
    const w = this.words;
    for (;;) {
      if (this.full[i] === 0) {
        this.full[i] = 1;
        w[4 * i] = a;
        w[4 * i + 1] = b;
        w[4 * i + 2] = c;
        w[4 * i + 3] = d;
        this.size++;
        return true;
      }
      if (w[4 * i] === (a | 0) && w[4 * i + 1] === (b | 0) && w[4 * i + 2] === (c | 0) && w[4 * i + 3] === (d | 0)) return false;
      i = (i + 1) & mask;
    }
  }

  private grow(): void {
    const { words, full } = this;
    this.words = new Int32Array(words.length * 2);
    this.full = new Uint8Array(full.length * 2);
    this.size = 0;
    for (let i = 0; i < full.length; i++) {
      if (full[i] === 1) this.add(words[4 * i]!, words[4 * i + 1]!, words[4 * i + 2]!, words[4 * i + 3]!);
    }
  }
}

/** Search order: by completion, so unknown writes (never completed) come last. */
function urgency(e: Entry): number {
  return e.complete;
}

/** WGL search over `members` (global indices) with local predecessor lists `preds`. */
export function search(
  prep: Prepared,
  members: number[],
  preds: number[][],
  initial: readonly InitialNode[],
  budget: Budget,
  pruneUnknown = true,
): SearchOk | SearchFail {
  const m = members.length;
  const es = members.map((g) => prep.entries[g]!);
  const model = new ZnodeModel(initial);
  const succs: number[][] = es.map(() => []);
  const waiting = new Int32Array(m);
  for (let y = 0; y < m; y++) {
    for (const x of preds[y]!) succs[x]!.push(y);
    waiting[y] = preds[y]!.length;
  }
  // Try the most urgent operations first; unknown writes last.
  // Rank by urgency: try the operations that must be placed soonest first.
  const rank = new Int32Array(m);
  es.map((_, i) => i)
    .sort((a, b) => urgency(es[a]!) - urgency(es[b]!) || es[a]!.invoke - es[b]!.invoke || a - b)
    .forEach((i, r) => (rank[i] = r));
  // The frontier: unplaced entries whose predecessors are all placed (an indexed set).
  const frontier = new Int32Array(m);
  const slot = new Int32Array(m).fill(-1);
  let size = 0;
  const enter = (i: number): void => {
    slot[i] = size;
    frontier[size++] = i;
  };
  const leave = (i: number): void => {
    const last = frontier[--size]!;
    frontier[slot[i]!] = last;
    slot[last] = slot[i]!;
    slot[i] = -1;
  };
  const z1 = es.map((_, i) => zobrist(members[i]!, 0x2f6b1d3a));
  const z2 = es.map((_, i) => zobrist(members[i]!, 0x51c3a7e9));
  const inert = es.map(isInert);
  const { watchers, open } = observers(es, pruneUnknown);
  const unknowns = es.flatMap((e, i) => (e.unknown ? [i] : []));
  const placed = new Uint8Array(m);
  const total = es.filter((e) => !e.unknown).length;
  const trail: number[] = [];
  const memo = new KeySet();
  let done = 0;
  let b1 = 0;
  let b2 = 0;
  let best: number[] = [];
  let bestDone = -1;

  for (let i = 0; i < m; i++) if (waiting[i] === 0) enter(i);
  const place = (i: number): void => {
    placed[i] = 1;
    leave(i);
    for (const s of succs[i]!) if (--waiting[s]! === 0) enter(s);
    for (const u of watchers[i]!) open[u]!--;
    b1 ^= z1[i]!;
    b2 ^= z2[i]!;
    if (!es[i]!.unknown) done++;
    trail.push(i);
  };
  const unplace = (): void => {
    const i = trail.pop()!;
    placed[i] = 0;
    for (const s of succs[i]!) if (waiting[s]!++ === 0) leave(s);
    enter(i);
    for (const u of watchers[i]!) open[u]!++;
    b1 ^= z1[i]!;
    b2 ^= z2[i]!;
    if (!es[i]!.unknown) done--;
  };

  const dfs = (): boolean => {
    const base = trail.length;
    const candidates: number[] = [];
    // Place every available inert entry whose result matches; collect the writes to branch on.
    for (let took = true; took; ) {
      took = false;
      candidates.length = 0;
      for (const i of frontier.slice(0, size)) {
        if (placed[i]) continue;
        const e = es[i]!;
        if (e.kind !== 'write') {
          if (observes(model, e.op.op, e.expected!)) {
            place(i);
            took = true;
          }
          continue;
        }
        // An unknown write nobody left could observe need not happen (now or ever).
        if (e.unknown && open[i] === 0) continue;
        const mark = model.mark();
        const obs = model.apply(e.op.op, e.client);
        const changed = model.changedSince(mark);
        model.undo(mark);
        if (e.expected === null) {
          if (changed) candidates.push(i); // an unknown write that changes nothing now may as well not happen now
        } else if (matches(e.op.op, obs, e.expected)) {
          if (inert[i]) {
            place(i);
            took = true;
          } else {
            candidates.push(i);
          }
        }
      }
    }
    if (done === total) return true;
    candidates.sort((a, b) => rank[a]! - rank[b]!);
    if (done > bestDone) {
      bestDone = done;
      best = trail.slice();
    }
    // A placed unknown write that no unplaced entry can observe any more only matters
    // through the model state, which the key has: leave it out so such states merge.
    let k1 = b1;
    let k2 = b2;
    for (const u of unknowns) {
      if (placed[u] && open[u] === 0) {
        k1 ^= z1[u]!;
        k2 ^= z2[u]!;
      }
    }
    if (memo.add(k1, k2, model.h1, model.h2)) {
      if (++budget.used > budget.max) throw BUDGET_EXHAUSTED;
      for (const i of candidates) {
        const mark = model.mark();
        model.apply(es[i]!.op.op, es[i]!.client);
        place(i);
        if (dfs()) return true;
        unplace();
        model.undo(mark);
      }
    }
    while (trail.length > base) unplace();
    return false;
  };

  if (dfs()) return { kind: 'ok', order: trail.map((i) => members[i]!) };
  return { kind: 'fail', deepest: best.map((i) => members[i]!) };
}

/**
 * For each unknown write u (local index), the completed entries that could observe its
 * effect: those sharing a facet with u, directly or through other unknown writes (u may
 * create the parent another unknown create needs). `open[u]` counts the ones not yet
 * placed; `watchers[x]` lists the unknown writes that completed entry x observes.
 */
function observers(es: Entry[], prune: boolean): { watchers: number[][]; open: Int32Array } {
  const watchers: number[][] = es.map(() => []);
  const open = new Int32Array(es.length);
  if (!prune) return { watchers, open: open.fill(1) };
  if (!es.some((e) => e.unknown)) return { watchers, open };
  const byFacet = new Map<string, number[]>();
  es.forEach((e, i) => {
    for (const f of e.facets) {
      let list = byFacet.get(f);
      if (list === undefined) byFacet.set(f, (list = []));
      list.push(i);
    }
  });
  es.forEach((e, u) => {
    if (!e.unknown) return;
    const seen = new Set<number>([u]);
    const queue = [u];
    while (queue.length > 0) {
      const x = queue.pop()!;
      for (const f of es[x]!.facets) {
        for (const y of byFacet.get(f)!) {
          if (seen.has(y)) continue;
          seen.add(y);
          if (es[y]!.unknown) {
            queue.push(y);
          } else {
            watchers[y]!.push(u);
            open[u]!++;
          }
        }
      }
    }
  });
  return { watchers, open };
}

/** Does a read or sync get its recorded result in the model's current state? (No allocation.) */
function observes(model: ZnodeModel, op: HistoryOp, expected: Observation): boolean {
  switch (op.type) {
    case 'getData': {
      const n = model.get(op.path);
      if (!expected.ok) return n === undefined && expected.code === ErrorCode.NoNode;
      const r = expected.result as OpResults['getData'];
      return n !== undefined && n.data === r.data && n.version === r.version;
    }
    case 'exists': {
      const n = model.get(op.path);
      return expected.ok && (n === undefined ? expected.result === null : n.version === expected.result);
    }
    case 'getChildren': {
      const exists = model.get(op.path) !== undefined;
      if (!expected.ok) return !exists && expected.code === ErrorCode.NoNode;
      if (!exists) return false;
      const names = expected.result as readonly string[];
      const kids = model.childNames(op.path);
      if ((kids?.size ?? 0) !== names.length) return false;
      for (const name of names) if (!kids!.has(name)) return false;
      return true;
    }
    default:
      return true; // sync
  }
}

/**
 * True if the entry leaves every state unchanged: reads, syncs, failed writes (their
 * recorded outcome is a failure, which changes nothing) and multis of checks only.
 * Only these may be placed greedily; a successful closeSession, say, changes nothing
 * while its session owns no node but would delete one placed later.
 */
export function isInert(e: Entry): boolean {
  if (e.expected === null) return false;
  if (e.kind !== 'write' || !e.expected.ok) return true;
  return e.op.op.type === 'multi' && e.op.op.ops.every((s) => s.type === 'check');
}

/** Does the model's answer `obs` equal the recorded `expected` one? */
export function matches(op: HistoryOp, obs: Observation, expected: Observation): boolean {
  if (!expected.ok) return !obs.ok && obs.code === expected.code && (expected.index === undefined || obs.index === expected.index);
  if (!obs.ok) return false;
  const a = obs.result;
  const b = expected.result;
  switch (op.type) {
    case 'getData': {
      const x = a as OpResults['getData'];
      const y = b as OpResults['getData'];
      return x.data === y.data && x.version === y.version;
    }
    case 'getChildren':
    case 'multi':
      return sameList(a as readonly unknown[], b as readonly unknown[]);
    case 'create':
    case 'setData':
    case 'exists':
      return a === b;
    default:
      return true;
  }
}

function sameList(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Search the whole history again, but with each part's order of non-inert entries
 * fixed (and its unknown writes taken or dropped as that part decided): only the
 * interleaving of the parts and the places of reads, syncs and failed writes are
 * searched, against the global state. A failure here proves nothing (the parts might
 * have chosen differently), so the caller then searches without a guide.
 */
export function guidedSearch(prep: Prepared, parts: SearchOk[], initial: readonly InitialNode[], budget: Budget): SearchOk | SearchFail {
  const members = parts.flatMap((p) => p.order).sort((a, b) => a - b);
  const preds = restrictPreds(members, null, prep.preds);
  const local = new Map<number, number>();
  members.forEach((g, i) => local.set(g, i));
  for (const p of parts) {
    let previous = -1;
    for (const g of p.order) {
      if (isInert(prep.entries[g]!)) continue;
      if (previous >= 0) preds[local.get(g)!]!.push(local.get(previous)!);
      previous = g;
    }
  }
  // The unknown writes a part took are fixed links of its chain: never prune them.
  return search(prep, members, preds, initial, budget, false);
}
