/**
 * `SimCluster`: the ensemble a simulated run drives. It assembles the same parts as
 * `createEnsemble` (QuorumServers on one `InProcessNetwork`, memory storage, the
 * in-process election timing) with three additions a simulation needs:
 * - each server has its own view of the clock (`VirtualClock.skewed`), so the nemesis
 *   can jump one server's wall clock while timers stay on the shared queue;
 * - each server's storage is a `TrapStorage` over a `MemoryStorage` (crash points);
 * - test-only hooks (`wrapStorage`, `membershipOf`, `clientService`) to build
 *   deliberately broken variants outside the shipped code path;
 * - for session-level workloads, each server's `ClientService` (sessions, watches, the
 *   request pipeline the in-process channel talks to), with an observer told before and
 *   after the service handles each applied transaction (so the watch checker knows which
 *   transaction caused each notification).
 */
import type { ServerId } from '../protocol/peer.js';
import type { Clock } from '../runtime/clock.js';
import type { Random } from '../runtime/random.js';
import { IN_PROCESS_ELECTION_TIMING } from '../server/ensemble.js';
import { ClientService, type ClientServiceOptions } from '../server/client-service.js';
import { QuorumServer } from '../server/quorum-server.js';
import type { Txn } from '../protocol/txn.js';
import type { ApplyResult } from '../tree/data-tree.js';
import type { Membership } from '../machines/quorum.js';
import { MemoryStorage } from '../storage/memory.js';
import type { Storage } from '../storage/types.js';
import { InProcessNetwork, type Delivery } from '../transport/inproc.js';
import { TrapStorage, type StorageTrap } from './trap-storage.js';
import type { VirtualClock } from './virtual-clock.js';

/** Options of a `SimCluster`. */
export interface SimClusterOptions {
  voters: number;
  observers: number;
  clock: VirtualClock;
  /** Forked per server and for the network. */
  random: Random;
  /** Record network deliveries in `network.trace`. */
  traceNetwork?: boolean;
  /** What link faults may do to a live connection (default `at-most-once`: TCP never duplicates). */
  delivery?: Delivery;
  /** Storage write latency in ms, by server index (0-based). */
  storageLatency?: readonly number[];
  /** In-memory history for DIFF. */
  historyCapacity?: number;
  /** Snapshot interval in transactions. */
  snapCount?: number;
  /** Test-only: wrap each server's memory storage (below the trap). */
  wrapStorage?: (id: ServerId, storage: Storage, clock: Clock) => Storage;
  /** Test-only: the membership a server believes in (default: the real one). */
  membershipOf?: (id: ServerId, membership: Membership) => Membership;
  /** A storage trap fired on server `id` (the cluster has already stopped it). */
  onTrap?: (id: ServerId, trap: StorageTrap) => void;
  /** A safety violation seen by a storage wrapper. */
  onViolation?: (id: ServerId, message: string) => void;
  /** Give every server a `ClientService` with these options (session-level workloads). */
  clientServices?: ClientServiceOptions;
  /** Told around each service's handling of an applied transaction. */
  serviceObserver?: ServiceObserver;
  /** Test-only: alter each server's client service once built (e.g. swap its watch registry). */
  clientService?: (id: ServerId, service: ClientService) => void;
}

/** Hooks around a `ClientService`'s handling of each applied transaction. */
export interface ServiceObserver {
  /** Before the service fires the transaction's watches. */
  applying(id: ServerId, txn: Txn, result: ApplyResult): void;
  /** After it did. */
  applied(id: ServerId, txn: Txn, result: ApplyResult): void;
}

/** The servers of one simulated run, with their storages and clock skews. */
export class SimCluster {
  readonly servers: QuorumServer[] = [];
  readonly membership: Membership;
  readonly network: InProcessNetwork;
  /** Each server's trap (outermost storage layer). */
  readonly traps = new Map<ServerId, TrapStorage>();
  /** Each server's memory storage (innermost). */
  readonly memories = new Map<ServerId, MemoryStorage>();
  /** Each server's client pipeline (only with `clientServices`). */
  readonly services = new Map<ServerId, ClientService>();
  private readonly skews = new Map<ServerId, number>();
  private readonly byId = new Map<ServerId, QuorumServer>();

  constructor(options: SimClusterOptions) {
    const { clock, random } = options;
    const voters = Array.from({ length: options.voters }, (_, i) => i + 1);
    const observers = Array.from({ length: options.observers }, (_, i) => options.voters + i + 1);
    this.membership = { voters, observers };
    this.network = new InProcessNetwork({ clock, random: random.fork('network'), trace: options.traceNetwork ?? false, delivery: options.delivery ?? 'at-most-once' });
    [...voters, ...observers].forEach((id, index) => {
      this.skews.set(id, 0);
      const memory = new MemoryStorage({ clock, latency: options.storageLatency?.[index] ?? 0 });
      this.memories.set(id, memory);
      const base = options.wrapStorage ? options.wrapStorage(id, memory, clock) : memory;
      const trap = new TrapStorage(base, {
        clock,
        onCrash: (t) => {
          this.server(id).stop();
          options.onTrap?.(id, t);
        },
        onViolation: (message) => options.onViolation?.(id, message),
      });
      this.traps.set(id, trap);
      const server = new QuorumServer({
        id,
        membership: options.membershipOf ? options.membershipOf(id, this.membership) : this.membership,
        transport: () => this.network.endpoint(id),
        storage: trap,
        clock: clock.skewed(() => this.skews.get(id)!),
        random: random.fork(`server${id}`),
        timing: { election: { ...IN_PROCESS_ELECTION_TIMING } },
        ...(options.historyCapacity !== undefined ? { historyCapacity: options.historyCapacity } : {}),
        ...(options.snapCount !== undefined ? { snapCount: options.snapCount } : {}),
      });
      this.servers.push(server);
      this.byId.set(id, server);
      if (options.clientServices !== undefined) {
        const observer = options.serviceObserver;
        // Consumer order is the point: before the service's own consumer, then after it.
        if (observer) server.addApplyConsumer({ wantsResult: () => true, applied: (txn, result) => observer.applying(id, txn, result!) });
        const service = new ClientService(server, options.clientServices);
        if (observer) server.addApplyConsumer({ wantsResult: () => true, applied: (txn, result) => observer.applied(id, txn, result!) });
        options.clientService?.(id, service);
        this.services.set(id, service);
      }
    });
  }

  /** Start every server. */
  start(): void {
    for (const server of this.servers) server.start();
  }

  /** The server with id `id`. */
  server(id: ServerId): QuorumServer {
    const server = this.byId.get(id);
    if (server === undefined) throw new RangeError(`no server ${id}`);
    return server;
  }

  /** Every server id, voters first. */
  ids(): ServerId[] {
    return this.servers.map((s) => s.self);
  }

  /** The serving leader with the highest epoch (a deposed one may not know it yet). */
  leader(): QuorumServer | undefined {
    let best: QuorumServer | undefined;
    for (const s of this.servers) {
      if (s.state === 'LEADING' && s.serving && (best === undefined || s.epoch > best.epoch)) best = s;
    }
    return best;
  }

  /** Jump server `id`'s wall clock by `ms`. */
  jumpClock(id: ServerId, ms: number): void {
    this.skews.set(id, this.skews.get(id)! + ms);
  }

  /** Server `id`'s current clock skew (ms). */
  skewOf(id: ServerId): number {
    return this.skews.get(id)!;
  }

  /**
   * True when the ensemble has converged: every server runs and serves, exactly one
   * leader, and every server applied the same last zxid with the same tree digest.
   */
  converged(): boolean {
    let leaders = 0;
    const first = this.servers[0]!;
    if (!first.running) return false;
    const zxid = first.lastAppliedZxid;
    for (const s of this.servers) {
      if (!s.running || !s.serving) return false;
      if (s.state === 'LEADING') leaders++;
      if (s.lastAppliedZxid !== zxid) return false;
    }
    if (leaders !== 1) return false;
    const digest = first.digest();
    for (const s of this.servers) if (s.digest() !== digest) return false;
    return true;
  }

  /** Stop every server and the network. */
  close(): void {
    for (const s of this.servers) s.stop();
    void this.network.close();
  }
}
