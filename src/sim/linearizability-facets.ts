/**
 * Which parts of the znode state each operation reads or writes ("facets"), and the
 * independent groups of operations they induce. Used by `checkHistory` to search
 * independent parts separately and to skip unknown writes nobody can observe.
 * Internal to the checker.
 */
import { isEphemeralMode, isSequentialMode } from '../protocol/constants.js';
import type { HistoryOp, MultiSubOp } from './history.js';
import type { Entry, Prepared } from './linearizability-search.js';
import { parentPath, type InitialNode } from './znode-model.js';

/**
 * Give every entry the facets of the state it reads or writes; entries sharing no
 * facet, directly or through others, are independent (see `partition`).
 *
 * The model state is a set of facets, per path p: `n:p` (whether p exists, its
 * ephemeral owner, data and version), `k:p` (p's set of children) and `s:p` (p's stored
 * cversion, which names sequential children). An entry's result depends only on the
 * facets it reads, and every entry that writes a facet which some entry reads is given
 * that facet too. Facets an entry writes but nobody ever reads are omitted, which lets
 * creates and deletes of siblings stay apart:
 * - `k:q` is read only by getChildren(q) and by delete(q) (NotEmpty), so creates and
 *   deletes under q get it only if such an entry exists;
 * - `s:q` is read only by sequential creates under q, so creates under q get it only if
 *   one exists;
 * - `n:q` for the parent of a create is read (NoNode, NoChildrenForEphemerals), but only
 *   matters if some entry creates or deletes q: otherwise it is the same in every order.
 * A sequential create whose name is not known (failed or unknown outcome) may create any
 * path `prefix + 10 digits`: it gets every such path the history mentions (a path it
 * never mentions is never read). closeSession(C) deletes C's ephemerals, so it gets
 * every node C may have created ephemerally. A sync touches no facet.
 */
export function assignFacets(entries: Entry[], initial: readonly InitialNode[]): void {
  const subOps = (op: HistoryOp): readonly (HistoryOp | MultiSubOp)[] => (op.type === 'multi' ? op.ops : [op]);
  const created = (e: Entry, k: number): string | undefined => {
    const o = e.op.outcome;
    if (o.status !== 'ok') return undefined;
    const r = e.op.op.type === 'multi' ? (o.result as readonly unknown[])[k] : o.result;
    return typeof r === 'string' ? r : undefined;
  };

  // Every path the history mentions, and which facets are read at all.
  const mentioned = new Set<string>();
  const childrenRead = new Set<string>();
  const seqParents = new Set<string>();
  for (const e of entries) {
    subOps(e.op.op).forEach((op, k) => {
      if ('path' in op) mentioned.add(op.path);
      const made = created(e, k);
      if (made !== undefined) mentioned.add(made);
      if (op.type === 'getChildren' || op.type === 'delete') childrenRead.add(op.path);
      if (op.type === 'create' && isSequentialMode(op.mode)) seqParents.add(parentPath(op.path));
    });
    if (e.op.op.type === 'getChildren' && e.op.outcome.status === 'ok') {
      const base = e.op.op.path === '/' ? '' : e.op.op.path;
      for (const c of e.op.outcome.result as readonly string[]) mentioned.add(`${base}/${c}`);
    }
  }
  const candidates = (prefix: string): string[] =>
    [...mentioned].filter((p) => p.length === prefix.length + 10 && p.startsWith(prefix) && /^-?\d+$/.test(p.slice(prefix.length)));
  // The nodes each create may have made: its path, its result, or every candidate name.
  const madeBy = (e: Entry, op: HistoryOp | MultiSubOp, k: number): string[] => {
    if (op.type !== 'create') return [];
    if (!isSequentialMode(op.mode)) return [op.path];
    const made = created(e, k);
    return made !== undefined ? [made] : candidates(op.path);
  };
  const dynamic = new Set<string>();
  const ephemeralsOf = new Map<number, Set<string>>();
  const addEphemeral = (client: number, path: string): void => {
    let set = ephemeralsOf.get(client);
    if (set === undefined) ephemeralsOf.set(client, (set = new Set()));
    set.add(path);
  };
  for (const n of initial) if (n.ephemeralOwner !== undefined) addEphemeral(n.ephemeralOwner, n.path);
  for (const e of entries) {
    subOps(e.op.op).forEach((op, k) => {
      if (op.type === 'delete') dynamic.add(op.path);
      for (const p of madeBy(e, op, k)) {
        dynamic.add(p);
        if (op.type === 'create' && isEphemeralMode(op.mode)) addEphemeral(e.client, p);
      }
    });
  }

  for (const e of entries) {
    const f = new Set<string>();
    const childrenOf = (q: string): void => {
      if (childrenRead.has(q)) f.add(`k:${q}`);
    };
    subOps(e.op.op).forEach((op, k) => {
      switch (op.type) {
        case 'getData':
        case 'exists':
        case 'setData':
        case 'check':
          f.add(`n:${op.path}`);
          break;
        case 'getChildren':
          f.add(`n:${op.path}`).add(`k:${op.path}`);
          break;
        case 'delete':
          f.add(`n:${op.path}`).add(`k:${op.path}`);
          childrenOf(parentPath(op.path));
          break;
        case 'create': {
          const q = parentPath(op.path);
          for (const p of madeBy(e, op, k)) f.add(`n:${p}`);
          if (seqParents.has(q)) f.add(`s:${q}`);
          if (dynamic.has(q)) f.add(`n:${q}`);
          childrenOf(q);
          break;
        }
        case 'closeSession':
          for (const p of ephemeralsOf.get(e.client) ?? []) {
            f.add(`n:${p}`);
            childrenOf(parentPath(p));
          }
          break;
        case 'sync':
          break;
      }
    });
    e.facets = [...f];
  }
}

/**
 * Split the entries into groups that share no facet (union-find over `assignFacets`):
 * all writers and readers of a facet end up in one group, so no group's results depend
 * on another group's effects. Entries without facets (syncs) form groups of their own.
 */
export function partition(prep: Prepared): number[][] {
  const { entries } = prep;
  const parent = entries.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  const owner = new Map<string, number>();
  entries.forEach((e, i) => {
    for (const facet of e.facets) {
      const j = owner.get(facet);
      if (j === undefined) owner.set(facet, i);
      else parent[find(i)] = find(j);
    }
  });
  const groups = new Map<number, number[]>();
  entries.forEach((_, i) => {
    const r = find(i);
    if (!groups.has(r)) groups.set(r, []);
    groups.get(r)!.push(i);
  });
  return [...groups.values()];
}
