/**
 * `createEnsemble`: a whole ZooKeeper ensemble in one process, for applications that
 * embed one, tests and benchmarks.
 *
 * ```ts
 * // Real time: resolves once a leader serves.
 * const ensemble = await startEnsemble({ servers: 3 });
 *
 * // Virtual time (deterministic tests): drive the clock yourself.
 * const clock = new VirtualClock();
 * const ensemble = createEnsemble({ servers: 3, clock, random: seededRandom(1) });
 * clock.runUntil(() => ensemble.leader() !== undefined);
 * ```
 *
 * Servers 1..N vote; N+1..N+M are observers. Each server is a `QuorumServer` (role,
 * epoch, lastZxid, digest(), stop(), restart() — a restart reuses the server's storage)
 * with its `ClientService` (sessions, request pipeline, watches): `ensemble.client()`
 * connects zoostate's client in-process (`inproc:<id>` hosts, see inproc-channel.ts),
 * and a TCP front-end accepts ZooKeeper clients through `ensemble.clientService(id)`.
 *
 * ```ts
 * const client = ensemble.client({ sessionTimeout: 10_000 });
 * await client.create('/app', 'x');
 * ```
 *
 * Transports:
 * - `inproc` (default): the in-process network; `ensemble.network.faults` partitions,
 *   crashes and delays links.
 * - `worker`: with `startEnsemble`, every server (its `QuorumServer`, `ClientService`
 *   and a ZooKeeper client port on TCP) runs in its own worker_thread and this thread
 *   keeps a `WorkerEnsemble` controller (src/server/worker/worker-ensemble.ts):
 *   `ensemble.connectString` is a `host:port` list and `ensemble.client()` a wire
 *   client. With `createEnsemble` (synchronous, so no threads), the servers stay in this
 *   thread, each with a `WorkerHub` MessagePort endpoint: a test of the worker transport.
 * - `tcp`: every server in this process over loopback TCP (`TcpTransport`, port 0);
 *   only with `startEnsemble` (listening is asynchronous).
 *
 * Code that works with either kind reads the members through `EnsembleMember` and
 * `EnsembleView`, which `QuorumServer`/`Ensemble` and `WorkerServer`/`WorkerEnsemble`
 * both satisfy.
 */
import type { InspectionEvent, Observer } from 'xstate';
import type { ServerId } from '../protocol/peer.js';
import { systemClock, type Clock } from '../runtime/clock.js';
import { systemRandom, type Random } from '../runtime/random.js';
import { MemoryStorage } from '../storage/memory.js';
import type { StorageFactory } from '../storage/types.js';
import { InProcessNetwork } from '../transport/inproc.js';
import { TcpTransport, type PeerAddress } from '../transport/tcp.js';
import type { Transport } from '../transport/types.js';
import { WorkerHub } from '../transport/worker.js';
import type { DataTreeOptions } from '../tree/data-tree.js';
import type { ElectionTiming } from '../machines/election.js';
import type { ZabOptions } from '../machines/host.js';
import type { Membership } from '../machines/quorum.js';
import type { ServerAddressLike } from '../machines/reconfig-config.js';
import { QuorumServer, type ElectionMode } from './quorum-server.js';
import { DEFAULT_PEER_SECRET } from './server-config.js';
import { ClientService, type ClientServiceOptions } from './client-service.js';
import { connectInProcess, inProcessConnectString, type InProcessClientOptions } from './inproc-channel.js';
import type { ClientOptions, ZooKeeperClient } from '../client/client.js';
import type { Zxid } from '../protocol/zxid.js';
import type { PeerState, ServerRole } from './quorum-server.js';
import type { WorkerEnsemble, WorkerEnsembleOptions } from './worker/worker-ensemble.js';

/** Which peer transport an ensemble uses. */
export type EnsembleTransport = 'inproc' | 'worker' | 'tcp';

/** Options of `createEnsemble` / `startEnsemble`. */
export interface EnsembleOptions {
  /** Voting servers (default 3). */
  servers?: number;
  /** Observers (default 0). */
  observers?: number;
  /** Peer transport (default `inproc`). */
  transport?: EnsembleTransport;
  /** Time source (default the system clock); a `VirtualClock` makes the run deterministic. */
  clock?: Clock;
  /** Randomness (default from the OS); `seededRandom(n)` makes the run replay. */
  random?: Random;
  /** XState inspection of every server's machines. Off by default. */
  inspect?: InspectObserver;
  /** XState inspection per server (overrides `inspect` where it returns an observer). */
  inspectServer?: (id: ServerId) => InspectObserver | undefined;
  /** ms per tick (default 50). */
  tickTime?: number;
  /** Ticks for discovery and for synchronization (default 10). */
  initLimit?: number;
  /** Ticks a learner may stay silent (default 5). */
  syncLimit?: number;
  /** Election timers (default `IN_PROCESS_ELECTION_TIMING`). */
  electionTiming?: Partial<ElectionTiming>;
  /** Election mode (default 'fast'; `{ staticLeader }` for tests of broadcast alone). */
  election?: ElectionMode;
  /** Each server's storage (default: a `MemoryStorage` on the ensemble's clock). */
  storage?: StorageFactory;
  /** In-memory history per server for DIFF (default 500). */
  historyCapacity?: number;
  /** Snapshot interval in transactions (default 100 000). */
  snapCount?: number;
  /** Replication tunables. */
  zab?: ZabOptions;
  /** Tree options (skipACL). */
  treeOptions?: Omit<DataTreeOptions, 'configData'>;
  /** Record every in-process delivery in `network.trace`. */
  traceNetwork?: boolean;
  /** Shared secret of the TCP transport (default: a fixed development secret). */
  secret?: string;
  /** Options of every server's client pipeline (session timeout bounds, superDigest, container sweep). */
  session?: ClientServiceOptions;
  /** `zookeeper.extendedTypesEnabled`: allow TTL nodes (createTTL). Default false. */
  extendedTypesEnabled?: boolean;
  /**
   * Addresses of server `id` for the configuration (`/zookeeper/config`, `conf`): e.g.
   * its client address. Default: the TCP transport's peer address, else none (see
   * src/machines/reconfig-config.ts). Dynamic reconfiguration: `zab.reconfigEnabled`.
   */
  addresses?: (id: ServerId) => Omit<ServerAddressLike, 'id'> | undefined;
}

/** An XState inspection observer. */
export type InspectObserver = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

/**
 * One server of an ensemble as generic code sees it: a `QuorumServer` in this thread, or
 * a `WorkerServer` proxy of a server in a worker (whose `digest`, `stop` and `restart`
 * are asynchronous and whose zxid is as of its last report).
 */
export interface EnsembleMember {
  /** The server id (`myid`). */
  readonly id: ServerId;
  /** The ZAB state. */
  readonly state: PeerState;
  /** `leader`, `follower`, `observer`, `looking` or `stopped`. */
  readonly role: ServerRole;
  /** True while it answers clients. */
  readonly serving: boolean;
  /** True between start and stop. */
  readonly running: boolean;
  /** currentEpoch. */
  readonly epoch: number;
  /** The last zxid in its history. */
  readonly lastZxid: Zxid;
  /** The tree's digest. */
  digest(): string | Promise<string>;
  /** Stop, keeping the storage. */
  stop(): void | Promise<void>;
  /** Stop and start again on the same storage. */
  restart(): void | Promise<void>;
  /** `host:port` of its ZooKeeper client port, when it has one of its own. */
  readonly clientAddress?: string;
}

/** What every kind of ensemble offers (`Ensemble`, `WorkerEnsemble`). */
export interface EnsembleView<M extends EnsembleMember = EnsembleMember> {
  /** The transport in use. */
  readonly transport: EnsembleTransport;
  /** Every server, voters first (ids 1..N), then observers. */
  readonly servers: readonly M[];
  /** Voters and observers. */
  readonly membership: Membership;
  /** Every server id, voters then observers. */
  readonly serverIds: readonly ServerId[];
  /** The server with id `id`. */
  server(id: ServerId): M;
  /** The leader, if one is serving. */
  leader(): M | undefined;
  /** True when a leader serves and every running server serves. */
  allServing(): boolean;
  /** Resolves with the leader once one serves. */
  whenServing(): Promise<M>;
  /** The connect string of this ensemble's clients. */
  readonly connectString: string;
  /** A client connected to this ensemble. */
  client(options?: ClientOptions): ZooKeeperClient;
  /** Stop every server and release the transport. */
  close(): Promise<void>;
}

/** A running ensemble. */
export interface Ensemble extends EnsembleView<QuorumServer> {
  /** Every server, voters first (ids 1..N), then observers. */
  readonly servers: readonly QuorumServer[];
  /** Voters and observers. */
  readonly membership: Membership;
  /** The ensemble's clock. */
  readonly clock: Clock;
  /** The transport in use. */
  readonly transport: EnsembleTransport;
  /** The in-process network and its fault controller (`inproc` only). */
  readonly network: InProcessNetwork | undefined;
  /** The server with id `id`. */
  server(id: ServerId): QuorumServer;
  /** The leader, if one is serving. */
  leader(): QuorumServer | undefined;
  /** True when a leader serves and every running server serves. */
  allServing(): boolean;
  /** Resolves with the leader once one serves (needs a clock that advances by itself). */
  whenServing(): Promise<QuorumServer>;
  /** Stop every server and release the transport. */
  close(): Promise<void>;
  /** Every server id, voters then observers. */
  readonly serverIds: readonly ServerId[];
  /** Server `id`'s client pipeline (undefined if there is no such server). */
  clientService(id: ServerId): ClientService | undefined;
  /** `inproc:1,inproc:2,...`: the connect string of in-process clients. */
  readonly connectString: string;
  /** A client connected in-process (see `connectInProcess`); defaults to the ensemble's clock. */
  client(options?: InProcessClientOptions): ZooKeeperClient;
  /** A fresh random stream for a client (derived from the ensemble's). */
  clientRandom(): Random;
}

class EnsembleImpl implements Ensemble {
  readonly servers: QuorumServer[] = [];
  readonly services = new Map<ServerId, ClientService>();
  random: Random = systemRandom();
  private clients = 0;
  readonly membership: Membership;
  readonly clock: Clock;
  readonly transport: EnsembleTransport;
  readonly network: InProcessNetwork | undefined;
  hub: WorkerHub | undefined;
  /** TCP: each server's address, and the listeners made before the first start. */
  readonly tcpBook = new Map<ServerId, PeerAddress>();
  readonly tcpFirst = new Map<ServerId, TcpTransport>();
  tcpSecret = DEFAULT_PEER_SECRET;
  tcpRandom: Random | undefined;
  private closed = false;

  constructor(membership: Membership, clock: Clock, transport: EnsembleTransport, network: InProcessNetwork | undefined) {
    this.membership = membership;
    this.clock = clock;
    this.transport = transport;
    this.network = network;
  }

  server(id: ServerId): QuorumServer {
    const server = this.servers.find((s) => s.self === id);
    if (server === undefined) throw new RangeError(`no server ${id} in the ensemble`);
    return server;
  }

  leader(): QuorumServer | undefined {
    return this.servers.find((s) => s.state === 'LEADING' && s.serving);
  }

  get serverIds(): ServerId[] {
    return [...this.membership.voters, ...this.membership.observers];
  }

  clientService(id: ServerId): ClientService | undefined {
    return this.services.get(id);
  }

  get connectString(): string {
    return inProcessConnectString(this.serverIds);
  }

  client(options: InProcessClientOptions = {}): ZooKeeperClient {
    return connectInProcess(this, options);
  }

  clientRandom(): Random {
    return this.random.fork(`client${++this.clients}`);
  }

  allServing(): boolean {
    return this.leader() !== undefined && this.servers.every((s) => !s.running || s.serving);
  }

  whenServing(): Promise<QuorumServer> {
    const now = this.leader();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise((resolve) => {
      const check = (): void => {
        const leader = this.leader();
        if (leader === undefined) return;
        for (const s of this.servers) s.off('serving', check);
        resolve(leader);
      };
      for (const s of this.servers) s.on('serving', check);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.servers.map((server) => server.stopAsync()));
    for (const t of this.tcpFirst.values()) await t.close();
    await this.network?.close();
    await this.hub?.close();
  }
}

/**
 * Election timers of an ensemble that lives in one process (or on one host): round
 * trips take microseconds, so a 10 ms finalize wait still leaves a wide margin while
 * saving 20 ms on every election against the general default (30 ms). A shorter wait
 * only risks electing a server that is not the best candidate, never safety (discovery
 * still requires a quorum to accept the new epoch).
 */
export const IN_PROCESS_ELECTION_TIMING: Readonly<Partial<ElectionTiming>> = Object.freeze({
  finalizeWaitMs: 10,
  minNotificationTimeoutMs: 10,
});

/**
 * Create and start an ensemble; returns at once (servers are LOOKING). With the system
 * clock, `await ensemble.whenServing()`; with a `VirtualClock`, advance it until
 * `ensemble.leader()` is defined. Transport `tcp` needs `startEnsemble`.
 */
export function createEnsemble(options: EnsembleOptions = {}): Ensemble {
  const transport = options.transport ?? 'inproc';
  if (transport === 'tcp') throw new Error("createEnsemble: transport 'tcp' listens asynchronously; use startEnsemble");
  const ensemble = build(options, transport);
  for (const server of ensemble.servers) server.start();
  return ensemble;
}

/**
 * Create and start an ensemble and resolve once a leader serves (any transport). Needs a
 * clock that advances by itself (the system clock); with a `VirtualClock` use
 * `createEnsemble` and drive the clock. With `transport: 'worker'` every server runs in
 * its own worker_thread and the result is a `WorkerEnsemble` (see worker-ensemble.ts).
 */
export function startEnsemble(options: WorkerEnsembleOptions & { transport: 'worker' }): Promise<WorkerEnsemble>;
export function startEnsemble(options?: EnsembleOptions & { transport?: 'inproc' | 'tcp' }): Promise<Ensemble>;
export async function startEnsemble(options: EnsembleOptions | (WorkerEnsembleOptions & { transport: 'worker' }) = {}): Promise<Ensemble | WorkerEnsemble> {
  if (options.transport === 'worker') {
    const { startWorkerEnsemble } = await import('./worker/worker-ensemble.js');
    return startWorkerEnsemble(options as WorkerEnsembleOptions);
  }
  return startInThisThread(options as EnsembleOptions);
}

async function startInThisThread(options: EnsembleOptions): Promise<Ensemble> {
  const transport = options.transport ?? 'inproc';
  const ensemble = build(options, transport);
  if (transport === 'tcp') {
    ensemble.tcpSecret = options.secret ?? DEFAULT_PEER_SECRET;
    ensemble.tcpRandom = (options.random ?? systemRandom()).fork('tcp');
    for (const server of ensemble.servers) {
      const t = await TcpTransport.listen({
        self: server.self,
        secret: ensemble.tcpSecret,
        listen: { host: '127.0.0.1', port: 0 },
        clock: ensemble.clock,
        random: ensemble.tcpRandom.fork(`tcp${server.self}`),
      });
      ensemble.tcpFirst.set(server.self, t);
      ensemble.tcpBook.set(server.self, t.address());
    }
    for (const t of ensemble.tcpFirst.values()) t.setPeers(ensemble.tcpBook);
  }
  await Promise.all(ensemble.servers.map((s) => s.startAsync()));
  await ensemble.whenServing();
  return ensemble;
}

function build(options: EnsembleOptions, transport: EnsembleTransport): EnsembleImpl {
  const voterCount = options.servers ?? 3;
  const observerCount = options.observers ?? 0;
  if (!Number.isInteger(voterCount) || voterCount < 1) throw new RangeError(`servers must be >= 1, got ${voterCount}`);
  if (!Number.isInteger(observerCount) || observerCount < 0) throw new RangeError(`observers must be >= 0, got ${observerCount}`);
  const clock = options.clock ?? systemClock;
  const random = options.random ?? systemRandom();
  const voters = Array.from({ length: voterCount }, (_, i) => i + 1);
  const observers = Array.from({ length: observerCount }, (_, i) => voterCount + i + 1);
  const membership: Membership = { voters, observers };
  const network = transport === 'inproc' ? new InProcessNetwork({ clock, random: random.fork('network'), trace: options.traceNetwork ?? false }) : undefined;
  const ensemble = new EnsembleImpl(membership, clock, transport, network);
  ensemble.random = random.fork('clients');
  if (transport === 'worker') ensemble.hub = new WorkerHub();
  const zab: ZabOptions | undefined =
    options.extendedTypesEnabled === undefined
      ? options.zab
      : { ...options.zab, preparer: { ...options.zab?.preparer, extendedTypesEnabled: options.extendedTypesEnabled } };
  const storageFactory: StorageFactory = options.storage ?? (() => new MemoryStorage({ clock }));
  for (const id of [...voters, ...observers]) {
    const inspect = options.inspectServer?.(id) ?? options.inspect;
    ensemble.servers.push(
      new QuorumServer({
        id,
        membership,
        transport: transportFactory(ensemble, id, clock),
        storage: storageFactory(id),
        clock,
        random: random.fork(`server${id}`),
        timing: {
          ...(options.tickTime !== undefined ? { tickTime: options.tickTime } : {}),
          ...(options.initLimit !== undefined ? { initLimit: options.initLimit } : {}),
          ...(options.syncLimit !== undefined ? { syncLimit: options.syncLimit } : {}),
          election: { ...IN_PROCESS_ELECTION_TIMING, ...options.electionTiming },
        },
        ...(inspect !== undefined ? { inspect } : {}),
        ...(options.historyCapacity !== undefined ? { historyCapacity: options.historyCapacity } : {}),
        ...(options.snapCount !== undefined ? { snapCount: options.snapCount } : {}),
        ...(zab !== undefined ? { zab } : {}),
        ...(options.treeOptions !== undefined ? { treeOptions: options.treeOptions } : {}),
        ...(options.election !== undefined ? { election: options.election } : {}),
        addresses: () => [...voters, ...observers].map((sid) => configAddress(ensemble, sid, options)),
      }),
    );
  }
  for (const server of ensemble.servers) ensemble.services.set(server.id, new ClientService(server, options.session));
  return ensemble;
}

/** Server `id`'s addresses for the configuration (read when a server starts: TCP listeners exist by then). */
function configAddress(ensemble: EnsembleImpl, id: ServerId, options: EnsembleOptions): ServerAddressLike {
  const tcp = ensemble.tcpBook.get(id);
  return { id, ...(tcp !== undefined ? { host: tcp.host, quorumPort: tcp.port, electionPort: tcp.port } : {}), ...options.addresses?.(id) };
}

function transportFactory(ensemble: EnsembleImpl, id: ServerId, clock: Clock): () => Transport | Promise<Transport> {
  switch (ensemble.transport) {
    case 'inproc':
      return () => ensemble.network!.endpoint(id);
    case 'worker':
      return async () => {
        // A restarted server registers again once the hub has seen its old endpoint close.
        for (let i = 0; i < 100 && ensemble.hub!.ids().includes(id); i++) await new Promise<void>((r) => clock.setTimeout(r, 5));
        return ensemble.hub!.endpoint(id, { clock });
      };
    case 'tcp':
      return async () => {
        const first = ensemble.tcpFirst.get(id);
        if (first !== undefined) {
          ensemble.tcpFirst.delete(id);
          return first;
        }
        // A restart listens on the same address; the old socket may still be closing.
        for (let attempt = 0; ; attempt++) {
          try {
            return await TcpTransport.listen({
              self: id,
              secret: ensemble.tcpSecret,
              listen: ensemble.tcpBook.get(id)!,
              peers: ensemble.tcpBook,
              clock,
              random: ensemble.tcpRandom!.fork(`tcp${id}`),
            });
          } catch (error) {
            if (attempt >= 50) throw error;
            await new Promise<void>((r) => clock.setTimeout(r, 10));
          }
        }
      };
  }
}
