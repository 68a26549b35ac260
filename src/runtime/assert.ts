/**
 * Invariants, stated where they must hold (TigerBeetle style). A failed invariant is a
 * bug in zoostate, never bad input: input errors are `ZooKeeperError`s.
 */

/** Thrown when an internal invariant does not hold. */
export class InvariantError extends Error {
  override name = 'InvariantError';
}

/** Assert that `condition` holds; `message` says what the invariant is. */
export function invariant(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new InvariantError(typeof message === 'function' ? message() : message);
}
