/**
 * A distributed counting semaphore (Curator's `InterProcessSemaphoreV2`): at most
 * `maxLeases` leases are held at once across all participants on the same path.
 *
 * ```ts
 * const semaphore = new Semaphore(client, '/app/semaphores/db', 5);
 * const lease = await semaphore.acquire({ timeout: 2000 });
 * try { await query(lease.signal); } finally { await lease.release(); }
 * ```
 *
 * How: each lease is a protected ephemeral-sequential node `lease-<n>`; a node holds
 * while fewer than `maxLeases` nodes precede it. A holder's position only ever moves
 * forward (later nodes sort after it), so the holders are always among the first
 * `maxLeases` nodes and the bound holds. Unlike the mutex, any holder's release can
 * admit the first waiter, so waiters watch the directory's child list: a release wakes
 * every waiter of this semaphore (a bounded herd; use a Lock when `maxLeases` is 1).
 *
 * Every participant must pass the same `maxLeases`. Leases behave like lock leases
 * (lease.ts): fencing token, a signal aborted on SUSPENDED/LOST, reinstatement after a
 * reconnect with the node intact; waits take `signal` and `timeout` and leave nothing
 * behind; creates are protected.
 */
import { toBytes } from '../client/multi.js';
import type { Data } from '../client/types.js';
import type { Lease } from './lease.js';
import { acquireLease, tryOnce } from './lock-internals.js';
import { queuePosition, sortSequential } from './sequence.js';
import { recipeEnv, type RecipeClient, type RecipeEnv, type RecipeOptions } from './support.js';
import type { WaitOptions } from './wait.js';

/** Node name of semaphore leases (as Curator's). */
export const LEASE_NODE_NAME = 'lease-';

/** Options of a `Semaphore`. */
export interface SemaphoreOptions extends RecipeOptions {
  /** Data stored in each lease node. */
  data?: Data;
}

/** A counting semaphore; see the file header. */
export class Semaphore {
  private readonly env: RecipeEnv;
  private readonly held = new Set<Lease>();

  constructor(
    private readonly client: RecipeClient,
    readonly path: string,
    readonly maxLeases: number,
    private readonly options: SemaphoreOptions = {},
  ) {
    if (!Number.isInteger(maxLeases) || maxLeases < 1) throw new RangeError(`maxLeases must be a positive integer, got ${maxLeases}`);
    this.env = recipeEnv(options);
  }

  /** Leases this instance holds now. */
  get leases(): readonly Lease[] {
    return [...this.held];
  }

  /** Wait for a lease. */
  acquire(options: WaitOptions = {}): Promise<Lease> {
    return this.enter(options, false);
  }

  /** A lease if one is free right now, else null. */
  tryAcquire(options: Pick<WaitOptions, 'signal'> = {}): Promise<Lease | null> {
    return tryOnce(this.enter(options, true));
  }

  /** Every lease node in line (holders first). */
  async participantNodes(): Promise<string[]> {
    try {
      return sortSequential(await this.client.getChildren(this.path), LEASE_NODE_NAME).map((n) => n.name);
    } catch {
      return [];
    }
  }

  private async enter(options: WaitOptions, once: boolean): Promise<Lease> {
    let lease: Lease | undefined;
    lease = await acquireLease({
      client: this.client,
      env: this.env,
      recipe: 'semaphore',
      participantName: 'lease',
      dir: this.path,
      name: LEASE_NODE_NAME,
      filter: LEASE_NODE_NAME,
      data: toBytes(this.options.data),
      rule: (sorted, ours) => queuePosition(sorted, ours, this.maxLeases),
      watchChildren: true,
      once,
      wait: options,
      onEnd: () => {
        if (lease !== undefined) this.held.delete(lease);
      },
    });
    this.held.add(lease);
    return lease;
  }
}
