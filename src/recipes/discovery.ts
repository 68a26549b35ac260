/**
 * Service discovery (Curator's `ServiceDiscovery` / `ServiceCache`) and group membership
 * (Curator's `GroupMember`): parties register themselves with their data as ephemeral
 * nodes; anyone lists them or watches the list.
 *
 * ```ts
 * const discovery = new ServiceDiscovery<{ zone: string }>(client, '/app/services');
 * await discovery.registerService({ name: 'api', id: 'api-1', address: '10.0.0.5', port: 8080, payload: { zone: 'a' } });
 * const instances = await discovery.queryForInstances('api');
 * const cache = discovery.serviceCache('api');
 * await cache.start();
 * cache.on('changed', (list) => rebalance(list));
 *
 * const member = new GroupMember(client, '/app/workers', 'worker-3', { slots: 4 });
 * await member.start();
 * member.currentMembers();        // Map id → payload, kept current
 * ```
 *
 * Layout (Curator's): `<base>/<serviceName>/<instanceId>`, each an ephemeral node with
 * the instance as JSON (`name`, `id`, `address`, `port`, `payload`,
 * `registrationTimeUTC`, `serviceType: "DYNAMIC"`). Group members are
 * `<groupPath>/<memberId>` with the payload as JSON.
 *
 * Guarantees and failure behaviour:
 * - A registration lives as long as its session; after a reconnect it is verified and
 *   created again if it vanished, also after a LOST whose session comes back (see
 *   registration.ts). After EXPIRED register again with a new client.
 * - Registering an id whose node is left by an older session replaces that node.
 * - Caches are tree caches (tree-cache.ts): an initial-load event, then changes; they
 *   resynchronise after reconnects and remove their watch on close.
 */
import { EventEmitter } from 'eventemitter3';
import { NoNodeError } from '../protocol/errors.js';
import { Registration } from './registration.js';
import { eventStream, type EventSink, type EventStream } from './stream.js';
import { decodeJson, encodeJson, joinPath, recipeEnv, type RecipeClient, type RecipeEnv, type RecipeOptions } from './support.js';
import { TreeCache, type CacheEvent } from './tree-cache.js';

/** A registered instance of a service. */
export interface ServiceInstance<T = unknown> {
  /** Service name. */
  name: string;
  /** Instance id (unique within the service). */
  id: string;
  address?: string;
  port?: number;
  payload?: T;
  /** When it registered (ms since the epoch, the registering client's clock). */
  registrationTimeUTC: number;
  serviceType: 'DYNAMIC';
}

/** What `registerService` takes. */
export type ServiceInstanceInput<T> = Pick<ServiceInstance<T>, 'name' | 'address' | 'port' | 'payload'> & { id?: string };

/** Service discovery; see the file header. */
export class ServiceDiscovery<T = unknown> {
  private readonly env: RecipeEnv;
  private readonly registrations = new Map<string, { instance: ServiceInstance<T>; registration: Registration }>();

  constructor(
    private readonly client: RecipeClient,
    readonly basePath: string,
    options: RecipeOptions = {},
  ) {
    this.env = recipeEnv(options);
  }

  /** Register an instance (kept registered across reconnects until unregistered). */
  async registerService(input: ServiceInstanceInput<T>): Promise<ServiceInstance<T>> {
    const id = input.id ?? randomId(this.env);
    const instance: ServiceInstance<T> = { ...input, id, registrationTimeUTC: this.env.clock.now(), serviceType: 'DYNAMIC' };
    const key = `${instance.name}/${id}`;
    if (this.registrations.has(key)) throw new Error(`instance ${key} is registered already`);
    const registration = new Registration(this.client, this.instancePath(instance.name, id), encodeJson(instance), this.env, {
      recipe: 'serviceInstance',
      name: key,
      replaceStale: true,
    });
    await registration.register();
    this.registrations.set(key, { instance, registration });
    return instance;
  }

  /** Replace a registered instance's data. */
  async updateService(instance: ServiceInstance<T>): Promise<void> {
    const entry = this.registrations.get(`${instance.name}/${instance.id}`);
    if (entry === undefined) throw new Error(`instance ${instance.name}/${instance.id} is not registered here`);
    entry.instance = instance;
    await entry.registration.update(encodeJson(instance));
  }

  /** Unregister an instance registered through this object. */
  async unregisterService(name: string, id: string): Promise<void> {
    const key = `${name}/${id}`;
    const entry = this.registrations.get(key);
    if (entry === undefined) return;
    this.registrations.delete(key);
    await entry.registration.unregister();
  }

  /** The participant of a registration (for the inspector). */
  registrationOf(name: string, id: string): Registration | undefined {
    return this.registrations.get(`${name}/${id}`)?.registration;
  }

  /** Names of every service with a directory. */
  async queryForNames(): Promise<string[]> {
    try {
      return (await this.client.getChildren(this.basePath)).sort();
    } catch (error) {
      if (error instanceof NoNodeError) return [];
      throw error;
    }
  }

  /** Every instance of `name`, by id. */
  async queryForInstances(name: string): Promise<ServiceInstance<T>[]> {
    let ids: string[];
    try {
      ids = await this.client.getChildren(joinPath(this.basePath, name));
    } catch (error) {
      if (error instanceof NoNodeError) return [];
      throw error;
    }
    const found = await Promise.all(ids.sort().map((id) => this.queryForInstance(name, id)));
    return found.filter((i): i is ServiceInstance<T> => i !== undefined);
  }

  /** One instance, or undefined. */
  async queryForInstance(name: string, id: string): Promise<ServiceInstance<T> | undefined> {
    try {
      const { data } = await this.client.getData(this.instancePath(name, id));
      return decodeJson<ServiceInstance<T>>(data);
    } catch (error) {
      if (error instanceof NoNodeError) return undefined;
      throw error;
    }
  }

  /** A live view of `name`'s instances (call `start()`). */
  serviceCache(name: string): ServiceCache<T> {
    return new ServiceCache<T>(this.client, joinPath(this.basePath, name), this.env);
  }

  /** Unregister everything registered through this object. */
  async close(): Promise<void> {
    const entries = [...this.registrations.values()];
    this.registrations.clear();
    await Promise.all(entries.map((e) => e.registration.unregister()));
  }

  private instancePath(name: string, id: string): string {
    return joinPath(joinPath(this.basePath, name), id);
  }
}

/** Events of a `ServiceCache` and a `GroupMember`'s view. */
export interface MembershipEvents<V> {
  /** The initial load is complete. */
  initialized: [members: V[]];
  /** The list changed. */
  changed: [members: V[]];
  error: [error: unknown];
}

/** A live list of the children of one path, decoded as JSON (shared by both views). */
class ChildrenView<V> extends EventEmitter<MembershipEvents<V>> {
  protected readonly cache: TreeCache;
  private readonly sinks = new Set<EventSink<V[]>>();

  constructor(client: RecipeClient, readonly path: string, env: RecipeEnv, recipe: string, private readonly decode: (id: string, data: Buffer | null) => V | undefined) {
    super();
    this.cache = new TreeCache(client, path, { maxDepth: 1, clock: env.clock, inspect: env.inspect, random: env.random }, recipe);
    this.cache.on('change', (event: CacheEvent) => {
      if (event.type === 'initialized') return;
      if (event.node.path === path) return; // the directory itself
      const list = this.list();
      this.emit('changed', list);
      for (const sink of this.sinks) sink.push(list);
    });
    this.cache.on('error', (error) => this.emit('error', error));
  }

  /** Load and start watching; resolves after `initialized`. */
  async start(): Promise<void> {
    await this.cache.start();
    this.emit('initialized', this.list());
  }

  /** The members now. */
  list(): V[] {
    const result: V[] = [];
    for (const id of this.cache.children(this.path)) {
      const node = this.cache.get(joinPath(this.path, id));
      const value = node === undefined ? undefined : this.decode(id, node.data);
      if (value !== undefined) result.push(value);
    }
    return result;
  }

  /** The list after every change, as an async iterator (the current list first). */
  changes(options: { signal?: AbortSignal } = {}): EventStream<V[]> {
    const { stream, sink } = eventStream<V[]>(() => this.sinks.delete(sink), options.signal);
    this.sinks.add(sink);
    sink.push(this.list());
    return stream;
  }

  /** Stop watching. */
  async close(): Promise<void> {
    for (const sink of [...this.sinks]) sink.end();
    await this.cache.close();
  }
}

/** A live list of one service's instances; see the file header. */
export class ServiceCache<T = unknown> extends ChildrenView<ServiceInstance<T>> {
  constructor(client: RecipeClient, path: string, env: RecipeEnv) {
    super(client, path, env, 'serviceCache', (_id, data) => decodeJson<ServiceInstance<T>>(data));
  }

  /** The instances now. */
  get instances(): ServiceInstance<T>[] {
    return this.list();
  }
}

/** A group member as others see it. */
export interface Member<T> {
  id: string;
  payload: T | undefined;
}

/** Group membership; see the file header. */
export class GroupMember<T = unknown> extends ChildrenView<Member<T>> {
  /** This member's registration (its participant machine is `groupMember`). */
  readonly registration: Registration;

  constructor(client: RecipeClient, readonly groupPath: string, readonly id: string, payload?: T, options: RecipeOptions = {}) {
    const env = recipeEnv(options);
    super(client, groupPath, env, 'groupView', (memberId, data) => ({ id: memberId, payload: decodeJson<T>(data) }));
    this.registration = new Registration(client, joinPath(groupPath, id), encodeJson(payload ?? null), env, {
      recipe: 'groupMember',
      name: id,
      replaceStale: true,
    });
  }

  /** Join the group and start watching it. */
  override async start(): Promise<void> {
    await this.registration.register();
    await super.start();
  }

  /** Change this member's payload. */
  async setPayload(payload: T): Promise<void> {
    await this.registration.update(encodeJson(payload));
  }

  /** Every member now, by id. */
  currentMembers(): Map<string, T | undefined> {
    return new Map(this.list().map((m) => [m.id, m.payload]));
  }

  /** Leave the group and stop watching. */
  override async close(): Promise<void> {
    await this.registration.unregister();
    await super.close();
  }
}

function randomId(env: RecipeEnv): string {
  let id = '';
  for (let i = 0; i < 16; i++) id += env.random.int(16).toString(16);
  return id;
}
