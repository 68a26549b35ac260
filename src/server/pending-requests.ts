/**
 * Client requests a server has ordered but not answered yet, per session, answered in
 * issue order (ZooKeeper's per-session FIFO, reference §16.6): a request completes when
 * its own outcome is known AND every earlier request of its session has completed; a
 * read waits behind its session's pending writes.
 */
import type { SessionId } from '../protocol/records.js';

/** One pending request. */
export interface PendingEntry {
  readonly cxid: number;
  readonly kind: 'write' | 'sync' | 'read';
  /** Called once, with the outcome (or the error). */
  readonly deliver: (value: unknown) => void;
  /** For reads: computes the value when the read reaches the head of its session. */
  readonly read?: () => unknown;
  /** For syncs: the path to echo. */
  readonly path?: string;
  done: boolean;
  value: unknown;
}

/** A session's queue: an array with a moving head (no O(n) shifts). */
class Queue {
  head = 0;
  /** Starts exactly one entry long: most sessions have one request in flight. */
  constructor(public items: PendingEntry[]) {}

  get size(): number {
    return this.items.length - this.head;
  }
}

/** Pending requests of every session on one server. */
export class PendingRequests {
  private readonly sessions = new Map<SessionId, Queue>();
  private count = 0;

  /** Number of requests waiting. */
  get size(): number {
    return this.count;
  }

  /** True if `sessionId` has requests waiting. */
  has(sessionId: SessionId): boolean {
    // A bigint-keyed lookup is not free; a replica with nothing pending answers at once.
    return this.count > 0 && this.sessions.has(sessionId);
  }

  /** Queue a request behind the session's earlier ones. */
  add(sessionId: SessionId, entry: PendingEntry): void {
    const queue = this.sessions.get(sessionId);
    if (queue === undefined) this.sessions.set(sessionId, new Queue([entry]));
    else queue.items.push(entry);
    this.count++;
  }

  /**
   * The outcome of (`sessionId`, `cxid`) of `kind` is known. Returns false if no such
   * request is pending here (it was issued on another server).
   */
  complete(sessionId: SessionId, cxid: number, kind: 'write' | 'sync', value: unknown): boolean {
    const queue = this.sessions.get(sessionId);
    if (queue === undefined) return false;
    const items = queue.items;
    for (let i = queue.head; i < items.length; i++) {
      const entry = items[i]!;
      if (entry.cxid === cxid && entry.kind === kind && !entry.done) {
        entry.done = true;
        // A sync echoes its own path.
        entry.value = kind === 'sync' && entry.path !== undefined && !(value instanceof Error) ? { ...(value as object), path: entry.path } : value;
        if (i === queue.head) this.drain(sessionId, queue);
        return true;
      }
    }
    return false;
  }

  /** Fail every pending request (the server stopped serving): `error` for each, in order. */
  failAll(error: () => unknown): void {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    this.count = 0;
    for (const queue of sessions) {
      for (let i = queue.head; i < queue.items.length; i++) {
        const entry = queue.items[i]!;
        entry.deliver(entry.done ? entry.value : error());
      }
    }
  }

  /** Answer the head of the queue while it is complete (reads run when they reach it). */
  private drain(sessionId: SessionId, queue: Queue): void {
    const items = queue.items;
    while (queue.head < items.length) {
      const entry = items[queue.head]!;
      if (entry.kind === 'read') {
        entry.done = true;
        entry.value = entry.read!();
      }
      if (!entry.done) break;
      items[queue.head] = undefined as unknown as PendingEntry;
      queue.head++;
      this.count--;
      entry.deliver(entry.value);
      if (this.sessions.get(sessionId) !== queue) return; // failAll ran in the callback
    }
    if (queue.head === items.length) {
      if (this.sessions.get(sessionId) === queue) this.sessions.delete(sessionId);
    } else if (queue.head > 1024 && queue.head * 2 > items.length) {
      queue.items = items.slice(queue.head);
      queue.head = 0;
    }
  }
}
