/**
 * Turns a failed search into a `CheckViolation` that names the operations involved.
 * Internal to the checker.
 */
import { isEphemeralMode, isSequentialMode } from '../protocol/constants.js';
import { errorCodeName } from '../protocol/errors.js';
import { formatOperation, formatResult, type HistoryOp, type OpResults } from './history.js';
import type { CheckViolation } from './linearizability.js';
import { matches, type Entry, type Prepared } from './linearizability-search.js';
import { ZnodeModel, parentPath, type InitialNode, type Observation } from './znode-model.js';

function quote(s: string): string {
  return JSON.stringify(s);
}

function formatObservation(op: HistoryOp, obs: Observation): string {
  if (!obs.ok) return `${errorCodeName(obs.code)}${obs.index === undefined ? '' : ` at op ${obs.index}`}`;
  return formatResult(op, obs.result);
}

/** Paths an entry reads or writes (parents included for creates and deletes). */
function pathsOf(e: Entry, ephemerals: (client: number) => string[]): Set<string> {
  const out = new Set<string>();
  const op = e.op.op;
  const subs = op.type === 'multi' ? op.ops : [op];
  subs.forEach((s, k) => {
    if (s.type === 'closeSession') {
      for (const p of ephemerals(e.client)) {
        out.add(p);
        out.add(parentPath(p));
      }
      return;
    }
    if (!('path' in s)) return;
    if (s.type === 'sync') return;
    out.add(s.path);
    if (s.type === 'create' || s.type === 'delete') out.add(parentPath(s.path));
    if (s.type === 'create' && e.op.outcome.status === 'ok') {
      const r = op.type === 'multi' ? (e.op.outcome.result as readonly unknown[])[k] : e.op.outcome.result;
      if (typeof r === 'string') out.add(r);
    }
  });
  return out;
}

/** Why x ≺ y, for one direct edge. */
function edgeReason(prep: Prepared, x: Entry, y: Entry): string {
  const base = `#${x.op.id} completed at t=${x.complete} before #${y.op.id} was invoked at t=${y.invoke}`;
  if (y.kind !== 'read') return base;
  if (x.client === y.client) {
    return `client ${y.client}'s own ${x.kind === 'read' ? 'earlier read' : x.op.op.type} #${x.op.id} completed at t=${x.complete} before its ${y.op.op.type} #${y.op.id} was invoked at t=${y.invoke}`;
  }
  const s = (prep.syncs.get(y.client) ?? []).find((s) => s.complete < y.invoke && x.complete < s.invoke);
  if (s !== undefined) {
    return `#${x.op.id} completed at t=${x.complete} before client ${y.client}'s sync #${s.id} was invoked at t=${s.invoke}, and that sync completed at t=${s.complete} before #${y.op.id} was invoked at t=${y.invoke}`;
  }
  return base;
}

/** A chain of direct `≺` edges from `from` to `to`, or null. */
function precedenceChain(prep: Prepared, from: number, to: number): number[] | null {
  const back = new Map<number, number>([[to, -1]]);
  const queue = [to];
  while (queue.length > 0) {
    const y = queue.shift()!;
    for (const x of prep.preds[y]!) {
      if (back.has(x)) continue;
      back.set(x, y);
      if (x === from) {
        const chain = [x];
        for (let c = y; c !== -1; c = back.get(c)!) chain.push(c);
        return chain;
      }
      queue.push(x);
    }
  }
  return null;
}

/**
 * Describe why `members` (global indices) have no valid order, given the longest valid
 * order `deepest` the search found: the operation that cannot come next, what the model
 * answers instead, and the operations that force it.
 */
export function violation(
  prep: Prepared,
  members: number[],
  deepest: number[],
  initial: readonly InitialNode[],
  states: number,
): CheckViolation {
  const { entries } = prep;
  const model = new ZnodeModel(initial);
  for (const g of deepest) model.apply(entries[g]!.op.op, entries[g]!.client);
  const placed = new Set(deepest);
  let culprit = -1;
  for (const g of members) {
    const e = entries[g]!;
    if (placed.has(g) || e.unknown) continue;
    const c = culprit < 0 ? undefined : entries[culprit]!;
    if (c === undefined || e.complete < c.complete || (e.complete === c.complete && e.invoke < c.invoke)) culprit = g;
  }
  const c = entries[culprit]!;
  const ephemerals = (client: number): string[] =>
    entries
      .filter((e) => e.client === client)
      .flatMap((e) => {
        const op = e.op.op;
        const subs = op.type === 'multi' ? op.ops : [op];
        return subs.filter((s) => s.type === 'create' && isEphemeralMode(s.mode)).map((s) => (s as { path: string }).path);
      });
  const cPaths = pathsOf(c, ephemerals);
  const touches = (e: Entry): boolean => [...pathsOf(e, ephemerals)].some((p) => cPaths.has(p));
  const named: Entry[] = [c];
  const name = (e: Entry): void => {
    if (!named.includes(e)) named.push(e);
  };

  const mark = model.mark();
  const obs = model.apply(c.op.op, c.client);
  model.undo(mark);
  const parts: string[] = [`${formatOperation(c.op)} cannot be placed in any valid order`];
  const op = c.op.op;
  const neverWritten =
    op.type === 'getData' && c.expected?.ok === true
      ? neverWrote(entries, initial, op.path, (c.expected.result as OpResults['getData']).data)
      : false;
  if (neverWritten && op.type === 'getData') {
    const data = (c.expected as { result: OpResults['getData'] }).result.data;
    parts.push(`: no operation ever wrote ${quote(data)} to ${op.path}.`);
  } else if (c.expected !== null && !matches(op, obs, c.expected)) {
    const n = deepest.length;
    const at = n === 0 ? 'in the initial state' : `after the longest valid order (${n} operation${n === 1 ? '' : 's'}, ending with #${entries[deepest.at(-1)!]!.op.id})`;
    parts.push(`: ${at} it would get ${formatObservation(op, obs)}.`);
  } else {
    parts.push(': every way of placing it leads to a dead end.');
  }

  // The latest placed operation on the same nodes that it must follow (else just the latest).
  let cause: number | undefined;
  let chain: number[] | null = null;
  for (let k = deepest.length - 1; k >= 0 && cause === undefined; k--) {
    const g = deepest[k]!;
    if (!touches(entries[g]!)) continue;
    chain = precedenceChain(prep, g, culprit);
    if (chain !== null) cause = g;
  }
  if (cause === undefined) {
    for (let k = deepest.length - 1; k >= 0; k--) {
      if (touches(entries[deepest[k]!]!)) {
        cause = deepest[k]!;
        break;
      }
    }
  }
  if (cause !== undefined && !neverWritten) {
    const e = entries[cause]!;
    name(e);
    if (chain !== null) {
      const reasons: string[] = [];
      for (let k = 0; k + 1 < chain.length; k++) {
        reasons.push(edgeReason(prep, entries[chain[k]!]!, entries[chain[k + 1]!]!));
        if (k > 0) name(entries[chain[k]!]!);
      }
      parts.push(` It must follow ${formatOperation(e.op)} (${reasons.join('; ')}).`);
    } else {
      parts.push(` The last operation on the same nodes in that order is ${formatOperation(e.op)}, which no rule orders after it; no order of the concurrent operations works.`);
    }
    if (e.kind === 'read' && e.expected?.ok === true) {
      const seen = deepest.slice(0, deepest.indexOf(cause)).reverse().find((g) => entries[g]!.kind === 'write' && touches(entries[g]!));
      if (seen !== undefined) {
        name(entries[seen]!);
        parts.push(` That read saw the state after ${formatOperation(entries[seen]!.op)}.`);
      }
    }
  }
  if (op.type === 'getData' && c.expected?.ok === true && !neverWritten) {
    const data = (c.expected.result as OpResults['getData']).data;
    const writers = entries.filter((e) => e !== c && wrote(e.op.op, op.path, data)).slice(0, 2);
    for (const w of writers) name(w);
    if (writers.length > 0) parts.push(` ${quote(data)} was written by ${writers.map((w) => formatOperation(w.op)).join(' and ')}.`);
  }
  const related = members
    .filter((g) => g !== culprit && !placed.has(g) && touches(entries[g]!))
    .slice(0, 3)
    .map((g) => entries[g]!);
  for (const r of related) name(r);
  if (related.length > 0) parts.push(` Not yet placed on the same nodes: ${related.map((r) => formatOperation(r.op)).join('; ')}.`);

  return {
    status: 'violation',
    message: parts.join(''),
    operations: named.map((e) => e.op),
    longestPrefix: deepest.map((g) => entries[g]!.op.id),
    states,
  };
}

function wrote(op: HistoryOp, path: string, data: string): boolean {
  const subs = op.type === 'multi' ? op.ops : [op];
  return subs.some(
    (s) =>
      (s.type === 'setData' && s.path === path && s.data === data) ||
      (s.type === 'create' && s.data === data && (s.path === path || (isSequentialMode(s.mode) && path.startsWith(s.path)))),
  );
}

function neverWrote(entries: Entry[], initial: readonly InitialNode[], path: string, data: string): boolean {
  if (initial.some((n) => n.path === path && (n.data ?? '') === data)) return false;
  if (path === '/' && data === '') return false;
  return !entries.some((e) => wrote(e.op.op, path, data));
}
