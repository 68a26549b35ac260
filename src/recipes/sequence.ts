/**
 * Sequential node names: parsing the 10-character counter the server appends
 * (reference §10.4), sorting a parent's children by it, and choosing what a waiter
 * watches. Pure functions; every recipe that queues (locks, semaphore, leader election,
 * sync turns, queues) uses them.
 *
 * Children are compared by their counter, never by their full name: protected names
 * (`_c_<uuid>-lock-0000000007`, see src/client/protected.ts) start with a random id, and a parent
 * may hold nodes of several kinds (`__READ__`, `__WRIT__`). Names that do not end with
 * a counter, or lack the recipe's prefix, are ignored, so foreign nodes never break a
 * recipe.
 */
import { stripProtectedPrefix } from '../client/protected.js';

/** Length of the server's sequence suffix (`%010d`). */
export const SEQUENCE_LENGTH = 10;

/**
 * The counter at the end of a sequential node name, or undefined if the name does not
 * end with one. Java formats a negative counter (after 2^31 creates) as `-` plus nine
 * digits, which is accepted too.
 */
export function parseSequence(name: string): number | undefined {
  if (name.length < SEQUENCE_LENGTH) return undefined;
  const suffix = name.slice(name.length - SEQUENCE_LENGTH);
  if (!/^(?:\d{10}|-\d{9})$/.test(suffix)) return undefined;
  return Number.parseInt(suffix, 10);
}

/** A child of a queueing recipe, parsed. */
export interface SequentialNode {
  /** The child's name (relative to its parent). */
  name: string;
  /** The name without a protected prefix: `lock-0000000007`. */
  base: string;
  /** The part of `base` before the counter: `lock-`. */
  prefix: string;
  /** The server's counter. */
  sequence: number;
}

/** Parse a child name; undefined unless it ends with a counter (and starts with `prefix`, if given). */
export function parseSequentialNode(name: string, prefix?: string): SequentialNode | undefined {
  const sequence = parseSequence(name);
  if (sequence === undefined) return undefined;
  const base = stripProtectedPrefix(name);
  if (base.length < SEQUENCE_LENGTH) return undefined;
  const nodePrefix = base.slice(0, base.length - SEQUENCE_LENGTH);
  if (prefix !== undefined && !nodePrefix.startsWith(prefix)) return undefined;
  return { name, base, prefix: nodePrefix, sequence };
}

/** Order by counter, then by name (equal counters only occur across different parents). */
export function compareSequentialNodes(a: SequentialNode, b: SequentialNode): number {
  return a.sequence - b.sequence || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/**
 * The children that belong to a recipe (`prefix` given: only those whose unprotected
 * name starts with it), sorted by counter. `getChildren` order is unspecified (§10.8).
 */
export function sortSequential(children: readonly string[], prefix?: string): SequentialNode[] {
  const nodes: SequentialNode[] = [];
  for (const name of children) {
    const node = parseSequentialNode(name, prefix);
    if (node !== undefined) nodes.push(node);
  }
  return nodes.sort(compareSequentialNodes);
}

/** Outcome of looking at the queue from one node's point of view. */
export type QueuePosition =
  | { kind: 'missing' }
  | { kind: 'acquired'; index: number }
  | { kind: 'wait'; index: number; watch: string };

/**
 * Where `ours` stands in a sorted queue with `leases` holders at once (1 for a lock):
 * it holds if fewer than `leases` nodes precede it; otherwise it watches the node
 * `leases` places ahead, so each release wakes exactly one waiter (no herd effect).
 *
 * With `leases` > 1 that node is not the only one whose deletion can admit `ours`;
 * `semaphore.ts` therefore watches the children list instead (documented there).
 */
export function queuePosition(sorted: readonly SequentialNode[], ours: string, leases = 1): QueuePosition {
  const index = sorted.findIndex((n) => n.name === ours);
  if (index < 0) return { kind: 'missing' };
  if (index < leases) return { kind: 'acquired', index };
  return { kind: 'wait', index, watch: sorted[index - leases]!.name };
}

/**
 * Read-write lock rules (as Curator's InterProcessReadWriteLock): a writer holds when it
 * is first; a reader holds when no writer precedes it, and otherwise waits for the
 * nearest preceding writer. `isWriter` tells the kinds apart by name.
 */
export function readWritePosition(
  sorted: readonly SequentialNode[],
  ours: string,
  isWriter: (node: SequentialNode) => boolean,
): QueuePosition {
  const index = sorted.findIndex((n) => n.name === ours);
  if (index < 0) return { kind: 'missing' };
  const self = sorted[index]!;
  if (isWriter(self)) {
    return index === 0 ? { kind: 'acquired', index } : { kind: 'wait', index, watch: sorted[index - 1]!.name };
  }
  for (let i = index - 1; i >= 0; i--) {
    if (isWriter(sorted[i]!)) return { kind: 'wait', index, watch: sorted[i]!.name };
  }
  return { kind: 'acquired', index };
}
