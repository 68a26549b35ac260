/**
 * A distributed read-write lock (Curator's `InterProcessReadWriteLock`): any number of
 * readers, or one writer. Both locks stand in one line under the same directory, as
 * protected ephemeral-sequential nodes named `__READ__<n>` and `__WRIT__<n>`, so the
 * line is fair: a writer waits for every earlier node, a reader only for the nearest
 * earlier writer (and watches only that writer).
 *
 * ```ts
 * const rw = new ReadWriteLock(client, '/app/locks/catalog');
 * const lease = await rw.readLock.acquire({ timeout: 1000 });
 * try { await read(lease.signal); } finally { await lease.release(); }
 * ```
 *
 * Guarantees and failure behaviour are the mutex's (see lock.ts): leases carry a
 * fencing token and a signal aborted on SUSPENDED/LOST, waits take `signal` and
 * `timeout` and leave nothing behind, creates are protected. Each lock is reentrant
 * within its own instance. A holder of the write lock may also take the read lock of
 * the same `ReadWriteLock` (downgrade: its own writer does not block its reader).
 */
import { Lock, type LockOptions } from './lock.js';
import type { PositionRule } from './lock-internals.js';
import { readWritePosition, type SequentialNode } from './sequence.js';
import { nameOf, type RecipeClient } from './support.js';

/** Node name of readers (as Curator's). */
export const READ_LOCK_NAME = '__READ__';
/** Node name of writers (as Curator's). */
export const WRITE_LOCK_NAME = '__WRIT__';

/** A reader and a writer lock over one path; see the file header. */
export class ReadWriteLock {
  /** Shared: held by many readers at once while no writer is ahead of them. */
  readonly readLock: Lock;
  /** Exclusive: held alone. */
  readonly writeLock: Lock;

  constructor(client: RecipeClient, readonly path: string, options: LockOptions = {}) {
    const isWriter = (node: SequentialNode): boolean => node.prefix === WRITE_LOCK_NAME;
    const writeRule: PositionRule = (sorted, ours) => readWritePosition(sorted, ours, isWriter);
    const readRule: PositionRule = (sorted, ours) => {
      // Our own write lock does not block our read lock.
      const ownWriter = this.writeLock.currentLease?.path;
      const own = ownWriter === undefined ? undefined : nameOf(ownWriter);
      return readWritePosition(sorted, ours, (node) => isWriter(node) && node.name !== own);
    };
    this.writeLock = new Lock(client, path, { ...options, name: options.name ?? 'writeLock' }, {
      recipe: 'writeLock',
      nodeName: WRITE_LOCK_NAME,
      filter: '__',
      rule: writeRule,
    });
    this.readLock = new Lock(client, path, { ...options, name: options.name ?? 'readLock' }, {
      recipe: 'readLock',
      nodeName: READ_LOCK_NAME,
      filter: '__',
      rule: readRule,
    });
  }
}
