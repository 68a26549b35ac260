/**
 * Leader election, selector style (Curator's `LeaderSelector`): candidates queue on a
 * lock; the holder runs `takeLeadership` and leads until that function returns, then
 * gives leadership to the next candidate (and, with `autoRequeue`, queues again).
 *
 * ```ts
 * const selector = new LeaderSelector(client, '/app/scheduler', async ({ token, signal }) => {
 *   while (!signal.aborted) await runOneRound(token, signal);   // return to relinquish
 * }, { id: 'node-1' });
 * selector.start();
 * ...
 * await selector.close();
 * ```
 *
 * Guarantees and failure behaviour:
 * - One leader at a time, as the lock guarantees (lock.ts), provided `takeLeadership`
 *   honours `signal`: it is aborted on SUSPENDED (leadership may be lost), LOST/EXPIRED,
 *   deletion of the node and `close()`. Curator interrupts the leader's thread at that
 *   point; here the function must return (or throw) when the signal aborts. Once it
 *   does, the node is deleted and, with `autoRequeue` (default true), the candidate
 *   queues again.
 * - `token` is the czxid of the leader's lock node: strictly increasing from leader to
 *   leader, to fence downstream systems.
 * - An error thrown by `takeLeadership` is emitted as `error`; leadership is released.
 * - After EXPIRED the client is finished: the selector stops (emits `error`).
 */
import { EventEmitter } from 'eventemitter3';
import { RecipeClosedError, RoleLostError, isAbortError } from './errors.js';
import type { Leadership } from './leader-latch.js';
import type { Lease } from './lease.js';
import { Lock } from './lock.js';
import { listCandidates, mutexRule } from './lock-internals.js';
import { encodeJson, isSessionEnded, recipeEnv, type RecipeClient, type RecipeEnv, type RecipeOptions } from './support.js';
import { Wakeup, sleep } from './wait.js';

/** Node name of selector candidates. */
export const SELECTOR_NODE_NAME = 'lock-';

/** The leader's work: resolve (or reject) to relinquish leadership. */
export type TakeLeadership = (leadership: Leadership) => Promise<void>;

/** Options of a `LeaderSelector`. */
export interface LeaderSelectorOptions extends RecipeOptions {
  /** This candidate's id, stored in its node. */
  id?: string;
  /** Queue again after relinquishing (default true). */
  autoRequeue?: boolean;
}

/** Events of a `LeaderSelector`. */
export interface LeaderSelectorEvents {
  isLeader: [leadership: Leadership];
  notLeader: [];
  error: [error: unknown];
}

/** A candidate of the selector as others see it. */
export interface SelectorParticipant {
  id: string;
  node: string;
  isLeader: boolean;
}

/** Leader election by selector; see the file header. */
export class LeaderSelector extends EventEmitter<LeaderSelectorEvents> {
  private readonly env: RecipeEnv;
  private readonly lock: Lock;
  private readonly closing = new AbortController();
  private readonly requeued = new Wakeup();
  private running: Promise<void> | undefined;
  private lease: Lease | undefined;

  constructor(
    private readonly client: RecipeClient,
    readonly path: string,
    private readonly takeLeadership: TakeLeadership,
    private readonly options: LeaderSelectorOptions = {},
  ) {
    super();
    this.env = recipeEnv(options);
    this.lock = new Lock(
      client,
      path,
      { ...options, data: encodeJson(options.id ?? ''), name: options.id ?? 'candidate' },
      { recipe: 'leaderSelector', nodeName: SELECTOR_NODE_NAME, filter: SELECTOR_NODE_NAME, rule: mutexRule },
    );
  }

  /** True while this candidate leads. */
  get hasLeadership(): boolean {
    return this.lease?.held ?? false;
  }

  /** Start queueing for leadership. */
  start(): void {
    if (this.running !== undefined) throw new Error('LeaderSelector already started');
    this.running = this.run();
  }

  /** Queue again (when not auto-requeueing and not queued). */
  requeue(): void {
    this.requeued.fire();
  }

  /** The candidates in line, leader first. */
  participants(): Promise<SelectorParticipant[]> {
    return listCandidates(this.client, this.path, SELECTOR_NODE_NAME);
  }

  /** Stop: abort the leader's signal, wait for `takeLeadership` to return, delete the node. */
  async close(): Promise<void> {
    if (!this.closing.signal.aborted) this.closing.abort(new RecipeClosedError('LeaderSelector'));
    await this.running;
  }

  private async run(): Promise<void> {
    const signal = this.closing.signal;
    while (!signal.aborted) {
      let lease: Lease;
      try {
        lease = await this.lock.acquire({ signal });
      } catch (error) {
        if (signal.aborted) break;
        if (isSessionEnded(error) || (error instanceof RoleLostError && (error.reason === 'expired' || error.reason === 'closed'))) {
          this.emit('error', error);
          break;
        }
        if (!(error instanceof RoleLostError) && !isAbortError(error)) this.emit('error', error);
        await sleep(this.env.clock, 100, signal).catch(() => undefined);
        continue;
      }
      this.lease = lease;
      // The leader's signal ends with the term or with close().
      const leaderSignal = AbortSignal.any([lease.signal, signal]);
      try {
        const leadership: Leadership = { token: lease.token, signal: leaderSignal, path: lease.path };
        this.emit('isLeader', leadership);
        await this.takeLeadership(leadership);
      } catch (error) {
        if (!leaderSignal.aborted) this.emit('error', error);
      } finally {
        this.lease = undefined;
        await lease.release();
        this.emit('notLeader');
      }
      if (this.options.autoRequeue === false) await this.requeued.wait(signal).catch(() => undefined);
    }
  }
}
