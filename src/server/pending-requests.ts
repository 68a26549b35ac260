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

/**
 * A session's queue: entries `items[head..tail)`, moving head (no O(n) shifts). An idle
 * queue rewinds to 0 and keeps its array, so a session's next request allocates nothing.
 */
class Queue {
  head = 0;
  tail = 1;
  /** Set when `failAll` dropped the queue (a callback may still hold it). */
  dropped = false;
  /** Starts exactly one entry long: most sessions have one request in flight. */
  constructor(public items: PendingEntry[]) {}

  get size(): number {
    return this.tail - this.head;
  }

  push(entry: PendingEntry): void {
    this.items[this.tail++] = entry;
  }
}

/**
 * Pending requests of every session on one server.
 *
 * Session ids are bigints, and a bigint-keyed lookup costs several times a numeric one,
 * so the write path keeps them few: a session's queue stays in the map while idle (until
 * idle queues outnumber busy ones, see `sweep`), and the last lookup is remembered, as
 * the applied path asks `has` and then `complete` for the same session.
 */
export class PendingRequests {
  private sessions = new Map<SessionId, Queue>();
  private count = 0;
  /** Queues with at least one entry. */
  private busy = 0;
  private cachedId: SessionId | undefined = undefined;
  private cachedQueue: Queue | undefined = undefined;

  /** Number of requests waiting. */
  get size(): number {
    return this.count;
  }

  /** True if `sessionId` has requests waiting. */
  has(sessionId: SessionId): boolean {
    if (this.count === 0) return false;
    const queue = this.lookup(sessionId);
    return queue !== undefined && queue.size > 0;
  }

  /** Queue a request behind the session's earlier ones. */
  add(sessionId: SessionId, entry: PendingEntry): void {
    const queue = this.lookup(sessionId);
    if (queue === undefined) {
      const fresh = new Queue([entry]);
      this.sessions.set(sessionId, fresh);
      this.cachedId = sessionId;
      this.cachedQueue = fresh;
      this.busy++;
    } else {
      if (queue.size === 0) this.busy++;
      queue.push(entry);
    }
    this.count++;
  }

  /**
   * The outcome of (`sessionId`, `cxid`) of `kind` is known. Returns false if no such
   * request is pending here (it was issued on another server).
   */
  complete(sessionId: SessionId, cxid: number, kind: 'write' | 'sync', value: unknown): boolean {
    if (this.count === 0) return false;
    const queue = this.lookup(sessionId);
    if (queue === undefined) return false;
    const items = queue.items;
    for (let i = queue.head; i < queue.tail; i++) {
      const entry = items[i]!;
      if (entry.cxid === cxid && entry.kind === kind && !entry.done) {
        entry.done = true;
        // A sync echoes its own path.
        entry.value = kind === 'sync' && entry.path !== undefined && !(value instanceof Error) ? { ...(value as object), path: entry.path } : value;
        if (i === queue.head) this.drain(queue);
        return true;
      }
    }
    return false;
  }

  /** Fail every pending request (the server stopped serving): `error` for each, in order. */
  failAll(error: () => unknown): void {
    const sessions = [...this.sessions.values()];
    this.sessions = new Map();
    this.count = 0;
    this.busy = 0;
    this.cachedId = undefined;
    this.cachedQueue = undefined;
    for (const queue of sessions) {
      queue.dropped = true;
      for (let i = queue.head; i < queue.tail; i++) {
        const entry = queue.items[i]!;
        entry.deliver(entry.done ? entry.value : error());
      }
    }
  }

  /** The queue of `sessionId` (idle ones included), through the one-entry cache. */
  private lookup(sessionId: SessionId): Queue | undefined {
    if (sessionId === this.cachedId) return this.cachedQueue;
    const queue = this.sessions.get(sessionId);
    this.cachedId = sessionId;
    this.cachedQueue = queue;
    return queue;
  }

  /** Answer the head of the queue while it is complete (reads run when they reach it). */
  private drain(queue: Queue): void {
    // `queue.items` is read afresh each time: a callback may complete a request of this
    // session (an immediate ConnectionLoss), draining the queue re-entrantly.
    while (queue.head < queue.tail) {
      const items = queue.items;
      const entry = items[queue.head]!;
      if (entry.kind === 'read') {
        entry.done = true;
        entry.value = entry.read!();
      }
      if (!entry.done) break;
      items[queue.head] = undefined as unknown as PendingEntry;
      queue.head++;
      this.count--;
      if (queue.head === queue.tail) this.busy--; // before the callback, which may add again
      entry.deliver(entry.value);
      if (queue.dropped) return; // failAll ran in the callback
    }
    const items = queue.items;
    if (queue.head === queue.tail) {
      // Idle: keep the queue (and its map entry) for the session's next request.
      queue.head = 0;
      queue.tail = 0;
      if (items.length > 1024) queue.items = []; // a burst's backing store
      if (this.sessions.size > 2 * this.busy + 1024) this.sweep();
    } else if (queue.head > 1024 && queue.head * 2 > queue.tail) {
      queue.items = items.slice(queue.head, queue.tail);
      queue.tail -= queue.head;
      queue.head = 0;
    }
  }

  /** Forget idle queues (sessions that ended leave theirs behind). */
  private sweep(): void {
    for (const [sessionId, queue] of this.sessions) if (queue.size === 0) this.sessions.delete(sessionId);
    this.cachedId = undefined;
    this.cachedQueue = undefined;
  }
}
