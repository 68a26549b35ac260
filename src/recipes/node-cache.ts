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
 * RECONNECTED the node is read again, since persistent watches get no catch-up events;
 * `close()` removes the watch. Its life is a `nodeCache` participant machine.
 */
import { EventEmitter } from 'eventemitter3';
import type { WatchEvent, Watcher } from '../client/types.js';
import { AddWatchMode, WatcherType } from '../protocol/constants.js';
import { NoNodeError } from '../protocol/errors.js';
import { Participant } from './participant.js';
import { eventStream, type EventSink, type EventStream } from './stream.js';
import { bindConnection, recipeEnv, removeWatcherQuietly, type RecipeClient, type RecipeEnv, type RecipeOptions } from './support.js';
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
  /** The cache's participant machine (`nodeCache`). */
  readonly participant: Participant;
  private readonly env: RecipeEnv;
  private node: CachedNode | undefined;
  private ticket = 0;
  private watching = false;
  private unbind: (() => void) | undefined;
  private readonly sinks = new Set<EventSink<NodeCacheEvent>>();
  private readonly watcher: Watcher = (event: WatchEvent) => {
    if (event.type === 'NodeCreated' || event.type === 'NodeDataChanged' || event.type === 'NodeDeleted') void this.read();
  };

  constructor(
    private readonly client: RecipeClient,
    readonly path: string,
    options: RecipeOptions = {},
  ) {
    super();
    this.env = recipeEnv(options);
    this.participant = new Participant({ recipe: 'nodeCache', name: path, member: true, clock: this.env.clock, inspect: this.env.inspect });
    this.participant.on('state', (status) => {
      if (status.phase === 'lost' && status.connected && this.watching) {
        this.participant.send({ type: 'JOIN' });
        void this.read().then(() => this.participant.send({ type: 'JOINED', node: this.path }));
      }
    });
  }

  /** Register the watch and read the node; resolves after `initialized`. */
  async start(): Promise<void> {
    if (this.participant.phase !== 'idle') throw new Error('NodeCache already started');
    this.participant.send({ type: 'JOIN' });
    this.unbind = bindConnection(this.client, this.participant, async () => {
      await this.read();
      return true;
    });
    await this.client.addWatch(this.path, AddWatchMode.PERSISTENT, this.watcher);
    this.watching = true;
    await this.read(false);
    this.participant.send({ type: 'JOINED', node: this.path });
    this.emit('initialized', this.node);
    this.publish({ type: 'initialized', node: this.node });
  }

  /** The node as last seen (undefined: it does not exist). */
  get current(): CachedNode | undefined {
    return this.node;
  }

  /** The cache's events from now on, as an async iterator. */
  events(options: { signal?: AbortSignal } = {}): EventStream<NodeCacheEvent> {
    const { stream, sink } = eventStream<NodeCacheEvent>(() => this.sinks.delete(sink), options.signal);
    this.sinks.add(sink);
    return stream;
  }

  /** Remove the watch and stop. */
  async close(): Promise<void> {
    if (this.participant.phase === 'left') return;
    this.participant.send({ type: 'LEAVE' });
    if (this.watching) {
      this.watching = false;
      await removeWatcherQuietly(this.client, this.path, WatcherType.Any, this.watcher);
    }
    this.unbind?.();
    for (const sink of [...this.sinks]) sink.end();
    this.participant.send({ type: 'LEFT' });
    this.participant.stop();
  }

  private async read(notify = true): Promise<void> {
    const ticket = ++this.ticket;
    let next: CachedNode | undefined;
    try {
      const { data, stat } = await this.client.getData(this.path);
      next = { path: this.path, data, stat };
    } catch (error) {
      if (!(error instanceof NoNodeError)) {
        if (this.watching && this.listenerCount('error') > 0) this.emit('error', error);
        return;
      }
    }
    if (ticket !== this.ticket || !this.watching) return;
    const before = this.node;
    this.node = next;
    const changed = before?.stat.czxid !== next?.stat.czxid || before?.stat.mzxid !== next?.stat.mzxid;
    if (notify && changed) {
      this.emit('changed', next);
      this.publish({ type: 'changed', node: next });
    }
  }

  private publish(event: NodeCacheEvent): void {
    for (const sink of this.sinks) sink.push(event);
  }
}
