/**
 * Distributed queues (Curator's `SimpleDistributedQueue` / `DistributedPriorityQueue`):
 * producers `offer` items, consumers `take` (blocking) or `poll` them; each item is
 * taken by exactly one consumer.
 *
 * ```ts
 * const queue = new DistributedQueue<Job>(client, '/app/queues/jobs');
 * await queue.offer({ id: 1 });
 * const job = await queue.take({ timeout: 5000 });
 *
 * const urgent = new DistributedPriorityQueue<Job>(client, '/app/queues/urgent');
 * await urgent.offer({ id: 2 }, 0);   // lower priority value is taken first
 * ```
 *
 * How: each item is a persistent sequential node `<path>/_c_<uuid>-qn-<n>` (FIFO by the
 * server's counter) or `..._c_<uuid>-qp-<priority>-<n>` (by priority, then counter),
 * holding the item as JSON (or bytes, with `raw: true`). A consumer lists the children
 * in order and tries to delete the first; the one whose delete succeeds owns the item
 * (a consumer that loses the race tries the next one).
 *
 * Guarantees and failure behaviour:
 * - FIFO for items offered one after another (the counter is assigned in commit order);
 *   concurrent offers are ordered by commit.
 * - At most once: an item is read then deleted, so a consumer that crashes after its
 *   delete loses that item (as Curator's simple queue). Offers are protected creates,
 *   so an offer retried after ConnectionLoss is never duplicated; an offer abandoned
 *   (`signal`, `timeout`) leaves no item behind.
 * - `take` waits with one child watch (every waiting consumer is woken by a new item
 *   and all but one find nothing: a herd bounded by the consumers), honours `signal`
 *   and `timeout` and removes its watch when it returns. Its life is a `queueConsumer`
 *   participant machine.
 * - The queue directory is a container: the server deletes it once it is empty.
 */
import { CreateMode, WatcherType } from '../protocol/constants.js';
import { ConnectionLossError, ErrorCode, NoNodeError } from '../protocol/errors.js';
import { stripProtectedPrefix } from '../client/protected.js';
import { parseSequence } from './sequence.js';
import {
  decodeJson,
  encodeJson,
  hasCode,
  joinPath,
  OneShotWatch,
  protectedCreate,
  recipeEnv,
  type RecipeClient,
  type RecipeEnv,
  type RecipeOptions,
} from './support.js';
import { WaitScope, type WaitOptions } from './wait.js';
import { participantWait } from './waiter.js';

/** Node name of FIFO items. */
export const QUEUE_NODE_NAME = 'qn-';
/** Node name of priority items. */
export const PRIORITY_NODE_NAME = 'qp-';

/** Options of a queue. */
export interface QueueOptions extends RecipeOptions {
  /** Items are bytes, stored as they are (default: JSON). */
  raw?: boolean;
}

/** An item's node name, parsed for ordering. */
export interface QueueItemName {
  name: string;
  priority: number;
  sequence: number;
}

/** Priorities are stored offset by 2^31 in 10 digits, so they sort as numbers. */
const PRIORITY_OFFSET = 2 ** 31;

/** The name part that encodes `priority` (an int32). */
export function encodePriority(priority: number): string {
  if (!Number.isInteger(priority) || priority < -PRIORITY_OFFSET || priority >= PRIORITY_OFFSET) {
    throw new RangeError(`priority must be a 32-bit integer, got ${priority}`);
  }
  return String(priority + PRIORITY_OFFSET).padStart(10, '0');
}

/** Parse a queue child: FIFO items get priority 0. Undefined for foreign nodes. */
export function parseQueueItem(name: string): QueueItemName | undefined {
  const base = stripProtectedPrefix(name);
  const sequence = parseSequence(base);
  if (sequence === undefined) return undefined;
  if (base.startsWith(QUEUE_NODE_NAME) && base.length === QUEUE_NODE_NAME.length + 10) return { name, priority: 0, sequence };
  if (base.startsWith(PRIORITY_NODE_NAME) && base.length === PRIORITY_NODE_NAME.length + 21) {
    const digits = base.slice(PRIORITY_NODE_NAME.length, PRIORITY_NODE_NAME.length + 10);
    if (!/^\d{10}$/.test(digits) || base[PRIORITY_NODE_NAME.length + 10] !== '-') return undefined;
    return { name, priority: Number(digits) - PRIORITY_OFFSET, sequence };
  }
  return undefined;
}

/** Queue children in taking order: priority, then counter. */
export function orderQueueItems(children: readonly string[]): QueueItemName[] {
  const items: QueueItemName[] = [];
  for (const child of children) {
    const item = parseQueueItem(child);
    if (item !== undefined) items.push(item);
  }
  return items.sort((a, b) => a.priority - b.priority || a.sequence - b.sequence || (a.name < b.name ? -1 : 1));
}

/** Shared implementation of both queues. */
abstract class QueueBase<T> {
  protected readonly env: RecipeEnv;

  constructor(
    protected readonly client: RecipeClient,
    readonly path: string,
    protected readonly options: QueueOptions = {},
  ) {
    this.env = recipeEnv(options);
  }

  /** Take the head item if there is one, else undefined. */
  async poll(): Promise<T | undefined> {
    const taken = await this.tryTake();
    return taken?.item;
  }

  /** The head item without taking it, else undefined. */
  async peek(): Promise<T | undefined> {
    for (const item of orderQueueItems(await this.children())) {
      try {
        const { data } = await this.client.getData(joinPath(this.path, item.name));
        return this.decode(data);
      } catch (error) {
        if (!(error instanceof NoNodeError)) throw error;
      }
    }
    return undefined;
  }

  /** Number of items now. */
  async size(): Promise<number> {
    return orderQueueItems(await this.children()).length;
  }

  /** Wait for an item and take it. */
  take(options: WaitOptions = {}): Promise<T> {
    return participantWait(this.client, this.env, 'queueConsumer', 'consumer', options, async (_participant, scope, wake) => {
      let watch: OneShotWatch | undefined;
      try {
        for (;;) {
          scope.throwIfAborted();
          let taken: { item: T } | undefined;
          try {
            taken = await this.tryTake();
          } catch (error) {
            // Suspended: wait for the reconnect (a state change wakes us), then look again.
            if (!(error instanceof ConnectionLossError)) throw error;
            await wake.wait(scope.signal);
            continue;
          }
          if (taken !== undefined) return taken.item;
          if (!watch?.pending) {
            try {
              watch = new OneShotWatch(this.path, WatcherType.Children, () => wake.fire());
              const children = await this.client.getChildren(this.path, { watch: watch.watcher });
              watch.registered = true;
              if (orderQueueItems(children).length > 0) continue;
            } catch (error) {
              if (error instanceof ConnectionLossError) {
                await wake.wait(scope.signal);
                continue;
              }
              if (!(error instanceof NoNodeError)) throw error;
              // No directory yet: wait for it to appear.
              watch = new OneShotWatch(this.path, WatcherType.Data, () => wake.fire());
              const stat = await this.client.exists(this.path, { watch: watch.watcher });
              watch.registered = true;
              if (stat !== null) continue;
            }
          }
          await wake.wait(scope.signal);
        }
      } finally {
        await watch?.remove(this.client);
      }
    });
  }

  protected async put(name: string, item: T, options: WaitOptions): Promise<string> {
    const data = this.options.raw ? (item as unknown as Uint8Array) : encodeJson(item);
    const scope = new WaitScope(this.env.clock, options, 'offer');
    try {
      const creating = protectedCreate(this.client, this.path, name, data, { mode: CreateMode.PERSISTENT_SEQUENTIAL, random: this.env.random, signal: scope.signal });
      return (await scope.race(creating)).path;
    } finally {
      scope.dispose();
    }
  }

  private async tryTake(): Promise<{ item: T } | undefined> {
    for (const entry of orderQueueItems(await this.children())) {
      const path = joinPath(this.path, entry.name);
      try {
        const { data, stat } = await this.client.getData(path);
        await this.client.delete(path, { version: stat.version });
        return { item: this.decode(data) };
      } catch (error) {
        if (error instanceof NoNodeError || hasCode(error, ErrorCode.BadVersion)) continue; // another consumer took it
        throw error;
      }
    }
    return undefined;
  }

  private async children(): Promise<string[]> {
    try {
      return await this.client.getChildren(this.path);
    } catch (error) {
      if (error instanceof NoNodeError) return [];
      throw error;
    }
  }

  private decode(data: Uint8Array | null): T {
    return (this.options.raw ? (data ?? new Uint8Array(0)) : decodeJson<T>(data)) as T;
  }
}

/** A FIFO queue; see the file header. */
export class DistributedQueue<T = unknown> extends QueueBase<T> {
  /**
   * Append an item; resolves to its node's path. While disconnected the offer waits for
   * the reconnect; `signal` / `timeout` give up (an item a lost create made is deleted).
   */
  offer(item: T, options: WaitOptions = {}): Promise<string> {
    return this.put(QUEUE_NODE_NAME, item, options);
  }
}

/** A priority queue (lower `priority` first, FIFO within a priority); see the file header. */
export class DistributedPriorityQueue<T = unknown> extends QueueBase<T> {
  /** Add an item with `priority` (a 32-bit integer; default 0); `options` as `DistributedQueue.offer`'s. */
  offer(item: T, priority = 0, options: WaitOptions = {}): Promise<string> {
    return this.put(`${PRIORITY_NODE_NAME}${encodePriority(priority)}-`, item, options);
  }
}
