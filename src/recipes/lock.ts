/**
 * A distributed mutex (Curator's `InterProcessMutex`): at most one holder among all
 * `Lock` instances on the same path, in any process, on any client.
 *
 * ```ts
 * const lock = new Lock(client, '/app/locks/orders');
 * const lease = await lock.acquire({ timeout: 5000, signal });
 * try { await work(lease.signal, lease.token); } finally { await lease.release(); }
 * ```
 *
 * How: each acquisition creates a protected ephemeral-sequential node
 * `<path>/_c_<uuid>-lock-<n>`; the lowest counter holds; every other waiter watches only
 * the node just ahead of it (a data watch), so a release wakes exactly one waiter (no
 * herd effect) and a crashed waiter in the middle of the line only wakes its successor.
 *
 * Guarantees and failure behaviour:
 * - Mutual exclusion, as long as holders honour `lease.signal`: it is aborted on
 *   SUSPENDED (the session may expire and the node vanish while this process cannot
 *   hear of it), on LOST/EXPIRED and when the node is deleted (the holder watches its
 *   own node). On RECONNECTED with the node still present and owned by this session,
 *   the lease is reinstated with a new signal (no one else can have held it meanwhile).
 *   A lost lease is never reinstated: it gives its node up at once (after a LOST whose
 *   session survives, the node is deleted once reconnected), so waiters move on.
 * - Fencing: `lease.token` is the node's czxid, strictly increasing from holder to
 *   holder; pass it to downstream systems so they can refuse a stale holder.
 * - Reentrant within one `Lock` instance (the "holder", as a thread is in Curator):
 *   `acquire()` while held counts up and returns the same lease; each `release()` counts
 *   down, the last deletes the node. Two `Lock` instances contend like two processes.
 * - `acquire` accepts `signal` and `timeout`; when either ends the wait, the node is
 *   deleted and the watch removed before the promise rejects (`AbortError` /
 *   `WaitTimeoutError`). A waiter whose session is lost rejects with `RoleLostError`.
 * - A create whose reply is lost (ConnectionLoss) is found again by its GUID, never
 *   duplicated or leaked. The lock directory is a container node, removed by the
 *   server once empty.
 */
import { EventEmitter } from 'eventemitter3';
import type { Data } from '../client/types.js';
import { toBytes } from '../client/multi.js';
import type { RoleLostError } from './errors.js';
import type { Lease } from './lease.js';
import { acquireLease, mutexRule, tryOnce, type PositionRule } from './lock-internals.js';
import type { Participant } from './participant.js';
import { sortSequential } from './sequence.js';
import { recipeEnv, type RecipeClient, type RecipeEnv, type RecipeOptions } from './support.js';
import type { WaitOptions } from './wait.js';

/** Options of a `Lock`. */
export interface LockOptions extends RecipeOptions {
  /** Data stored in the lock node (e.g. the holder's identity); default empty. */
  data?: Data;
  /** Participant name shown in the inspector; default `'lock'`. */
  name?: string;
}

/** Events of a `Lock` (forwarded from the current lease). */
export interface LockEvents {
  acquired: [lease: Lease];
  suspended: [error: RoleLostError];
  reinstated: [signal: AbortSignal];
  lost: [error: RoleLostError];
  released: [];
}

/** The node name prefix of lock nodes (as Curator's). */
export const LOCK_NODE_NAME = 'lock-';

/** How a lock-like recipe names its nodes and decides who holds (for recipes built on `Lock`). */
export interface LockKind {
  /** Participant machine id. */
  recipe: string;
  /** Node name before the counter. */
  nodeName: string;
  /** Which children of the directory stand in this lock's line. */
  filter: string;
  /** The position rule. */
  rule: PositionRule;
}

const MUTEX: LockKind = { recipe: 'lock', nodeName: LOCK_NODE_NAME, filter: LOCK_NODE_NAME, rule: mutexRule };

/** A reentrant distributed mutex; see the file header. */
export class Lock extends EventEmitter<LockEvents> {
  private readonly env: RecipeEnv;
  private lease: Lease | undefined;
  private count = 0;
  private pending: Promise<Lease> | undefined;

  /**
   * @param client the client to use
   * @param path the lock's directory (created as a container if missing)
   * @param options data, name, clock, inspector
   * @param kind node naming and position rule (recipes built on the lock pass theirs)
   */
  constructor(
    private readonly client: RecipeClient,
    readonly path: string,
    private readonly options: LockOptions = {},
    private readonly kind: LockKind = MUTEX,
  ) {
    super();
    this.env = recipeEnv(options);
  }

  /** True while this instance holds the lock (and the connection is verified). */
  get isHeld(): boolean {
    return this.lease?.held ?? false;
  }

  /** How many times the current holder acquired without releasing. */
  get holdCount(): number {
    return this.count;
  }

  /** The current lease, while this instance holds the lock. */
  get currentLease(): Lease | undefined {
    return this.lease;
  }

  /** The holder's participant (for the inspector or status), while held. */
  get participant(): Participant | undefined {
    return this.lease?.participant;
  }

  /**
   * Wait until this instance holds the lock. Reentrant: while held, resolves at once
   * with the same lease and counts up.
   */
  async acquire(options: WaitOptions = {}): Promise<Lease> {
    return this.enter(options, false);
  }

  /** Hold the lock if it is free right now; null if someone else holds or waits ahead. */
  tryAcquire(options: Pick<WaitOptions, 'signal'> = {}): Promise<Lease | null> {
    return tryOnce(this.enter(options, true));
  }

  /** Count down one acquisition; the last one deletes the node. No-op when not held. */
  async release(): Promise<void> {
    await this.lease?.release();
  }

  /** The lock nodes in line, holder first (names relative to `path`). */
  async participantNodes(): Promise<string[]> {
    try {
      return sortSequential(await this.client.getChildren(this.path), this.kind.filter).map((n) => n.name);
    } catch {
      return [];
    }
  }

  private async enter(options: WaitOptions, once: boolean): Promise<Lease> {
    if (this.lease !== undefined && this.lease.status.phase === 'holding') {
      this.count++;
      return this.lease;
    }
    if (this.pending !== undefined) {
      // Another call of this holder is already waiting: share its outcome (reentrancy).
      const lease = await this.pending;
      this.count++;
      return lease;
    }
    const acquiring = acquireLease({
      client: this.client,
      env: this.env,
      recipe: this.kind.recipe,
      participantName: this.options.name ?? this.kind.recipe,
      dir: this.path,
      name: this.kind.nodeName,
      filter: this.kind.filter,
      data: toBytes(this.options.data),
      rule: this.kind.rule,
      once,
      wait: options,
    });
    this.pending = acquiring;
    try {
      const lease = await acquiring;
      this.lease = lease;
      this.count = 1;
      lease.on('suspended', (e) => this.emit('suspended', e));
      lease.on('reinstated', (s) => this.emit('reinstated', s));
      lease.on('lost', (e) => this.emit('lost', e));
      lease.on('released', () => {
        if (this.lease === lease) {
          this.lease = undefined;
          this.count = 0;
        }
        this.emit('released');
      });
      // Every release counts down; the last one deletes the node.
      lease.setReleaseGate(() => {
        if (this.lease !== lease) return true;
        if (this.count > 1) {
          this.count--;
          return false;
        }
        this.count = 0;
        this.lease = undefined;
        return true;
      });
      this.emit('acquired', lease);
      return lease;
    } finally {
      this.pending = undefined;
    }
  }
}
