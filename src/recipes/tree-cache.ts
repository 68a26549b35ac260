/**
 * A local copy of a subtree kept current by one persistent-recursive watch (Curator's
 * `CuratorCache`), with `added` / `updated` / `removed` events and an `initialized`
 * event once the initial load is complete.
 *
 * ```ts
 * const cache = new TreeCache(client, '/app/config');
 * cache.on('updated', (node) => reload(node.path, node.data));
 * await cache.start();                 // resolves after `initialized`
 * cache.get('/app/config/db')?.data;
 * for await (const event of cache.events({ signal })) { ... }
 * await cache.close();
 * ```
 *
 * How: `addWatch(root, PERSISTENT_RECURSIVE)` first, then a walk (getData and
 * getChildren of every node). Each watch event re-reads the node it names; a delete
 * removes it with its descendants. Reads are tagged per path and only the newest read
 * of a path is applied, so a reply overtaken by a later event never resurrects a
 * deleted node (replies and events of one connection arrive in server order, but the
 * client hands watch events out synchronously and read results a microtask later).
 *
 * Guarantees and failure behaviour:
 * - Eventually consistent with the server: after the last change, the cache converges.
 *   Intermediate states may be skipped (two quick writes can give one `updated`).
 * - Persistent watches get no catch-up events after a reconnect (reference §9.6), so on
 *   RECONNECTED, and after a LOST whose session survives, the cache walks the tree again
 *   (mirror.ts) and emits the differences. After EXPIRED it stops changing (the client
 *   is finished).
 * - `close()` removes the watch (nothing stays registered on the server).
 * - The cache's life is a `treeCache` participant machine (`joining` = initial load,
 *   `member` = live).
 */
import { EventEmitter } from 'eventemitter3';
import type { WatchEvent, Watcher } from '../client/types.js';
import { AddWatchMode } from '../protocol/constants.js';
import { NoNodeError } from '../protocol/errors.js';
import type { Stat } from '../protocol/records.js';
import { PersistentMirror } from './mirror.js';
import type { Participant } from './participant.js';
import type { EventStream } from './stream.js';
import { joinPath, recipeEnv, type RecipeClient, type RecipeOptions } from './support.js';

/** A cached node. */
export interface CachedNode {
  path: string;
  data: Buffer | null;
  stat: Stat;
}

/** What a cache reports. */
export type CacheEvent =
  | { type: 'added'; node: CachedNode }
  | { type: 'updated'; node: CachedNode; previous: CachedNode }
  | { type: 'removed'; node: CachedNode }
  | { type: 'initialized'; size: number };

/** Events of a `TreeCache`. */
export interface TreeCacheEvents {
  added: [node: CachedNode];
  updated: [node: CachedNode, previous: CachedNode];
  removed: [node: CachedNode];
  /** The initial load is complete. */
  initialized: [size: number];
  /** Every event above, as one union. */
  change: [event: CacheEvent];
  /** A read failed for a reason other than the node's absence. */
  error: [error: unknown];
}

/** Options of a `TreeCache`. */
export interface TreeCacheOptions extends RecipeOptions {
  /** Levels below the root to cache (0: the root only); default unlimited. */
  maxDepth?: number;
}

/** Depth of `path` below `root` (0 for the root itself). */
export function depthBelow(root: string, path: string): number {
  if (path === root) return 0;
  const rest = root === '/' ? path.slice(1) : path.slice(root.length + 1);
  return rest.split('/').length;
}

/** True if `path` is `root` or below it. */
export function isWithin(root: string, path: string): boolean {
  if (root === '/') return path.startsWith('/');
  return path === root || path.startsWith(`${root}/`);
}

/** A subtree cache; see the file header. */
export class TreeCache extends EventEmitter<TreeCacheEvents> {
  private readonly mirror: PersistentMirror<CacheEvent>;
  private readonly nodes = new Map<string, CachedNode>();
  /** Newest read ticket per path (deletes take one too). */
  private readonly tickets = new Map<string, number>();
  private ticket = 0;
  private readonly maxDepth: number;
  private readonly watcher: Watcher = (event) => this.onWatch(event);

  constructor(
    private readonly client: RecipeClient,
    readonly root: string,
    options: TreeCacheOptions = {},
    recipe = 'treeCache',
  ) {
    super();
    this.maxDepth = options.maxDepth ?? Number.POSITIVE_INFINITY;
    this.mirror = new PersistentMirror(client, root, {
      recipe,
      env: recipeEnv(options),
      mode: AddWatchMode.PERSISTENT_RECURSIVE,
      watcher: this.watcher,
      resync: () => this.walk(),
      onError: (error) => this.report(error),
    });
  }

  /** The cache's participant machine (`treeCache`). */
  get participant(): Participant {
    return this.mirror.participant;
  }

  /** Register the watch and load the tree; resolves after `initialized`. */
  async start(): Promise<void> {
    await this.mirror.start(() => this.walk());
    this.publish({ type: 'initialized', size: this.nodes.size });
  }

  /** The cached node at `path`. */
  get(path: string): CachedNode | undefined {
    return this.nodes.get(path);
  }

  /** Names of the cached children of `path`, sorted. */
  children(path: string): string[] {
    const prefix = path === '/' ? '/' : `${path}/`;
    const names: string[] = [];
    for (const key of this.nodes.keys()) {
      if (key.startsWith(prefix) && key !== path && !key.slice(prefix.length).includes('/')) names.push(key.slice(prefix.length));
    }
    return names.sort();
  }

  /** Every cached node. */
  entries(): IterableIterator<CachedNode> {
    return this.nodes.values();
  }

  /** Number of cached nodes. */
  get size(): number {
    return this.nodes.size;
  }

  /** True once the initial load is complete and the cache is live. */
  get initialized(): boolean {
    return this.participant.phase === 'member';
  }

  /** The cache's events from now on, as an async iterator. */
  events(options: { signal?: AbortSignal } = {}): EventStream<CacheEvent> {
    return this.mirror.events(options);
  }

  /** Remove the watch and stop. */
  close(): Promise<void> {
    return this.mirror.close();
  }

  private onWatch(event: WatchEvent): void {
    if (!this.mirror.watching || !isWithin(this.root, event.path)) return;
    if (depthBelow(this.root, event.path) > this.maxDepth) return;
    switch (event.type) {
      case 'NodeCreated':
      case 'NodeDataChanged':
        void this.read(event.path, event.type === 'NodeCreated');
        break;
      case 'NodeDeleted':
        this.tickets.set(event.path, ++this.ticket);
        this.removeTree(event.path);
        break;
      default:
        break; // NodeChildrenChanged never reaches recursive watchers; None: the session ended
    }
  }

  /** Read one node (and, with `listChildren`, discover its children). */
  private async read(path: string, listChildren: boolean): Promise<void> {
    const ticket = ++this.ticket;
    this.tickets.set(path, ticket);
    try {
      const { data, stat } = await this.client.getData(path);
      if (this.tickets.get(path) !== ticket || !this.mirror.watching) return;
      this.put({ path, data, stat });
      if (listChildren && stat.numChildren > 0 && depthBelow(this.root, path) < this.maxDepth) {
        const children = await this.client.getChildren(path);
        await Promise.all(children.filter((c) => !this.nodes.has(joinPath(path, c))).map((c) => this.read(joinPath(path, c), true)));
      }
    } catch (error) {
      if (error instanceof NoNodeError) {
        if (this.tickets.get(path) === ticket) this.removeTree(path);
        return;
      }
      if (this.mirror.watching) this.report(error);
    }
  }

  /** Walk the whole subtree; nodes no longer found are removed. */
  private async walk(): Promise<void> {
    const seen = new Set<string>();
    const visit = async (path: string, depth: number): Promise<void> => {
      seen.add(path);
      const ticket = ++this.ticket;
      this.tickets.set(path, ticket);
      let children: string[] = [];
      try {
        const reading = this.client.getData(path);
        // Pipelined with the read; a missing node fails both, so the listing's NoNode is quiet.
        const listing = (depth < this.maxDepth ? this.client.getChildren(path) : Promise.resolve([])).catch((error: unknown) => {
          if (error instanceof NoNodeError) return [] as string[];
          throw error;
        });
        listing.catch(() => undefined);
        const { data, stat } = await reading;
        if (this.tickets.get(path) === ticket) this.put({ path, data, stat });
        children = await listing;
      } catch (error) {
        if (error instanceof NoNodeError) {
          if (this.tickets.get(path) === ticket) this.removeTree(path);
          return;
        }
        throw error;
      }
      await Promise.all(children.map((child) => visit(joinPath(path, child), depth + 1)));
    };
    await visit(this.root, 0);
    await Promise.all([...this.nodes.keys()].filter((p) => !seen.has(p)).map((p) => this.read(p, false)));
  }

  private put(node: CachedNode): void {
    const previous = this.nodes.get(node.path);
    if (previous !== undefined) {
      // An older read of the same incarnation never replaces a newer one.
      if (previous.stat.czxid === node.stat.czxid && previous.stat.mzxid > node.stat.mzxid) return;
      this.nodes.set(node.path, node);
      if (previous.stat.mzxid !== node.stat.mzxid || previous.stat.czxid !== node.stat.czxid) {
        this.emit('updated', node, previous);
        this.publish({ type: 'updated', node, previous });
      }
      return;
    }
    this.nodes.set(node.path, node);
    this.emit('added', node);
    this.publish({ type: 'added', node });
  }

  private removeTree(path: string): void {
    const prefix = path === '/' ? '/' : `${path}/`;
    const doomed = [...this.nodes.keys()].filter((p) => p === path || p.startsWith(prefix));
    // Deepest first, as the server deletes them.
    doomed.sort((a, b) => b.length - a.length);
    for (const p of doomed) {
      const node = this.nodes.get(p)!;
      this.nodes.delete(p);
      this.emit('removed', node);
      this.publish({ type: 'removed', node });
    }
  }

  private publish(event: CacheEvent): void {
    if (event.type === 'initialized') this.emit('initialized', event.size);
    this.emit('change', event);
    this.mirror.publish(event);
  }

  private report(error: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }
}
