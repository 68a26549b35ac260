/**
 * A local copy of one node kept current by a persistent watch (Curator's `NodeCache`),
 * with an `initialized` event after the first read and a `changed` event for every
 * change seen (created, data changed, deleted).
 *
 * ```ts
 * const cache = new NodeCache(client, '/app/config/flags');
 * cache.on('changed', (node) => apply(node?.data));
 * await cache.start();
 * for await (const event of cache.events({ signal })) { ... }
 * await cache.close();
 * ```
 *
 * How: `addWatch(path, PERSISTENT)` (it works whether or not the node exists), then a
 * read; every NodeCreated / NodeDataChanged / NodeDeleted triggers a new read, and only
 * the newest read is applied.
 *
 * Failure behaviour: as the tree cache's (tree-cache.ts): eventually consistent; on
 * RECONNECTED (and after a LOST whose session survives) the node is read again, since
 * persistent watches get no catch-up events (mirror.ts); `close()` removes the watch.
 * Its life is a `nodeCache` participant machine.
 */
import { EventEmitter } from 'eventemitter3';
import type { WatchEvent, Watcher } from '../client/types.js';
import { AddWatchMode } from '../protocol/constants.js';
import { NoNodeError } from '../protocol/errors.js';
import { PersistentMirror } from './mirror.js';
import type { Participant } from './participant.js';
import type { EventStream } from './stream.js';
import { recipeEnv, type RecipeClient, type RecipeOptions } from './support.js';
import type { CachedNode } from './tree-cache.js';

/** What a node cache reports: the node now (undefined: it does not exist). */
export type NodeCacheEvent = { type: 'initialized'; node: CachedNode | undefined } | { type: 'changed'; node: CachedNode | undefined };

/** Events of a `NodeCache`. */
export interface NodeCacheEvents {
  initialized: [node: CachedNode | undefined];
  changed: [node: CachedNode | undefined];
  error: [error: unknown];
}

/** A single-node cache; see the file header. */
export class NodeCache extends EventEmitter<NodeCacheEvents> {
  private readonly mirror: PersistentMirror<NodeCacheEvent>;
  private node: CachedNode | undefined;
  private ticket = 0;
  private readonly watcher: Watcher = (event: WatchEvent) => {
    if (event.type === 'NodeCreated' || event.type === 'NodeDataChanged' || event.type === 'NodeDeleted') void this.read();
  };

  constructor(
    private readonly client: RecipeClient,
    readonly path: string,
    options: RecipeOptions = {},
  ) {
    super();
    this.mirror = new PersistentMirror(client, path, {
      recipe: 'nodeCache',
      env: recipeEnv(options),
      mode: AddWatchMode.PERSISTENT,
      watcher: this.watcher,
      resync: () => this.read(),
      onError: (error) => this.report(error),
    });
  }

  /** The cache's participant machine (`nodeCache`). */
  get participant(): Participant {
    return this.mirror.participant;
  }

  /** Register the watch and read the node; resolves after `initialized`. */
  async start(): Promise<void> {
    await this.mirror.start(() => this.read(false));
    this.emit('initialized', this.node);
    this.mirror.publish({ type: 'initialized', node: this.node });
  }

  /** The node as last seen (undefined: it does not exist). */
  get current(): CachedNode | undefined {
    return this.node;
  }

  /** The cache's events from now on, as an async iterator. */
  events(options: { signal?: AbortSignal } = {}): EventStream<NodeCacheEvent> {
    return this.mirror.events(options);
  }

  /** Remove the watch and stop. */
  close(): Promise<void> {
    return this.mirror.close();
  }

  private async read(notify = true): Promise<void> {
    const ticket = ++this.ticket;
    let next: CachedNode | undefined;
    try {
      const { data, stat } = await this.client.getData(this.path);
      next = { path: this.path, data, stat };
    } catch (error) {
      if (!(error instanceof NoNodeError)) {
        if (this.mirror.watching) this.report(error);
        return;
      }
    }
    if (ticket !== this.ticket || !this.mirror.watching) return;
    const before = this.node;
    this.node = next;
    const changed = before?.stat.czxid !== next?.stat.czxid || before?.stat.mzxid !== next?.stat.mzxid;
    if (notify && changed) {
      this.emit('changed', next);
      this.mirror.publish({ type: 'changed', node: next });
    }
  }

  private report(error: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }
}
