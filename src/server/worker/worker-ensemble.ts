/**
 * A ZooKeeper ensemble with every server in its own worker_thread: the `QuorumServer`,
 * its `ClientService` and a ZooKeeper client port on TCP all live in the worker
 * (worker-host.ts); peers talk over the `WorkerHub`'s MessageChannels. This thread keeps
 * only a thin controller: one `WorkerServer` proxy per server, whose role, serving flag
 * and epoch are pushed by the worker and cached, so they read synchronously.
 *
 * ```ts
 * const ensemble = await startEnsemble({ servers: 3, transport: 'worker' });
 * const client = ensemble.client(); // zoostate's wire client, on ensemble.connectString
 * await client.create('/app', 'x');
 * await ensemble.leader()!.restart();
 * await client.close();
 * await ensemble.close(); // terminates every worker
 * ```
 *
 * Stop and restart keep the server's storage:
 * - memory storage: the worker stays; the server stops in place (like a crash: peers see
 *   the connection drop, sessions on it move on) and starts again inside it. Its client
 *   port stays open and refuses sessions meanwhile.
 * - file storage (`dataDir`, server `id` in `<dataDir>/<id>`): `stop()` releases the
 *   storage and ends the worker; `restart()` spawns a new worker that reopens the data
 *   directory and listens on the same client address.
 *
 * Functions do not cross threads, so the options are plain data: no injected clock
 * (workers run on real time), no storage factory, no XState inspection.
 */
import { join } from 'node:path';
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import { EventEmitter } from 'eventemitter3';
import { createClient, type ClientOptions, type ZooKeeperClient } from '../../client/client.js';
import type { ServerId } from '../../protocol/peer.js';
import type { Zxid } from '../../protocol/zxid.js';
import { systemClock } from '../../runtime/clock.js';
import { systemRandom, type Random } from '../../runtime/random.js';
import { WorkerHub } from '../../transport/worker.js';
import type { ElectionTiming } from '../../machines/election.js';
import type { ZabTraceEvent } from '../../machines/host.js';
import type { Membership } from '../../machines/quorum.js';
import type { DataTreeOptions } from '../../tree/data-tree.js';
import type { ClientServiceOptions } from '../client-service.js';
import { IN_PROCESS_ELECTION_TIMING, type EnsembleMember, type EnsembleOptions, type EnsembleView } from '../ensemble.js';
import type { FourLetterWordWhitelist } from '../four-letter-words.js';
import type { ClientPortLimits } from '../limits.js';
import type { ElectionMode, PeerState, ServerRole } from '../quorum-server.js';
import { formatAddress } from '../serve.js';
import type { ControlRequest, ServerWorkerConfig, ServerWorkerData, UnnumberedCall, WorkerMessage, WorkerServerStatus, WorkerZabOptions } from './protocol.js';

export type { WorkerServerStatus } from './protocol.js';

/** Options of a worker ensemble (`startEnsemble({ transport: 'worker', ... })`). */
export interface WorkerEnsembleOptions {
  /** Voting servers (default 3). */
  servers?: number;
  /** Observers (default 0). */
  observers?: number;
  /** Always `worker` (the discriminant of `startEnsemble`'s options). */
  transport?: 'worker';
  /** Seeds each server's random stream (default from the OS). */
  random?: Random;
  /** ms per tick (default 50). */
  tickTime?: number;
  /** Ticks for discovery and for synchronization (default 10). */
  initLimit?: number;
  /** Ticks a learner may stay silent (default 5). */
  syncLimit?: number;
  /** Election timers (default `IN_PROCESS_ELECTION_TIMING`: the threads share a host). */
  electionTiming?: Partial<ElectionTiming>;
  /** Election mode (default 'fast'). */
  election?: ElectionMode;
  /** In-memory history per server for DIFF (default 500). */
  historyCapacity?: number;
  /** Snapshot interval in transactions (default 100 000). */
  snapCount?: number;
  /** Replication tunables (plain data only). */
  zab?: WorkerZabOptions;
  /** Tree options (skipACL). */
  treeOptions?: Omit<DataTreeOptions, 'configData'>;
  /** Options of every server's client pipeline. */
  session?: ClientServiceOptions;
  /** `zookeeper.extendedTypesEnabled`: allow TTL nodes. Default false. */
  extendedTypesEnabled?: boolean;
  /** Durable storage: server `id` keeps its log and snapshots in `<dataDir>/<id>`. Default: memory. */
  dataDir?: string;
  /** With `dataDir`: fsync before acknowledging (default true). */
  fsync?: boolean;
  /** Client port address (default 127.0.0.1). */
  host?: string;
  /** First client port; server i (0-based, voters then observers) gets port + i. Default 0: any free port each. */
  port?: number;
  /** Client port limits. */
  limits?: Partial<ClientPortLimits>;
  /** Enabled four-letter words (default `*`). */
  fourLetterWords?: FourLetterWordWhitelist;
  /** Version reported by srvr/stat/mntr/envi. */
  version?: string;
  /** Client-port log lines of every server (default: silent). */
  log?: (line: string) => void;
  /**
   * Addresses of server `id` for the configuration (`/zookeeper/config`), as
   * `EnsembleOptions.addresses`; called in this thread, its results are sent to the workers.
   */
  addresses?: EnsembleOptions['addresses'];
  /** Give up starting (and terminate the workers) after this many ms without a serving leader (default 30 000). */
  startTimeoutMs?: number;
}

/** Events of a `WorkerServer`. */
export interface WorkerServerEvents {
  /** The ZAB state changed. */
  state: (state: PeerState) => void;
  /** The server started or stopped serving clients. */
  serving: (serving: boolean) => void;
  /** Any status report from the worker. */
  status: (status: WorkerServerStatus) => void;
  /** A replication event in the worker (as `QuorumServer`'s `trace`). */
  trace: (event: ZabTraceEvent) => void;
  /** The worker ended: stopped, closed, or crashed (`error`: what it died of, if anything). */
  exit: (error: Error | undefined) => void;
}

/** A running worker ensemble; see the module comment. */
export interface WorkerEnsemble extends EnsembleView<WorkerServer> {
  readonly transport: 'worker';
  /** Every server, voters first (ids 1..N), then observers. */
  readonly servers: readonly WorkerServer[];
  /** `host:port` of every server's client port, in `servers` order. */
  readonly addresses: readonly string[];
  /** `addresses` joined with commas: the connect string for any ZooKeeper client. */
  readonly connectString: string;
  /** A zoostate client over the wire protocol, connected to `connectString`. */
  client(options?: ClientOptions): ZooKeeperClient;
  /** Resolves once a leader serves and every running server serves. */
  whenAllServing(): Promise<void>;
  /** Stop every server and terminate every worker. Idempotent. */
  close(): Promise<void>;
}

const CLOSE_TIMEOUT_MS = 5_000;
const TRACE_LIMIT = 256;
/** A respawned worker retries its client port this many times (20 ms apart). */
const REBIND_RETRIES = 100;

interface Pending {
  resolve: (status: WorkerServerStatus) => void;
  reject: (error: Error) => void;
}

/** The entry module beside this one: TypeScript under tsx, JavaScript once built. */
function workerEntry(): URL {
  return new URL(import.meta.url.endsWith('.ts') ? './server-worker.ts' : './server-worker.js', import.meta.url);
}

function stoppedStatus(id: ServerId, previous?: WorkerServerStatus): WorkerServerStatus {
  return {
    id,
    threadId: -1,
    state: 'STOPPED',
    role: 'stopped',
    phase: undefined,
    serving: false,
    running: false,
    epoch: previous?.epoch ?? 0,
    acceptedEpoch: previous?.acceptedEpoch ?? 0,
    lastZxid: previous?.lastZxid ?? 0,
    lastAppliedZxid: previous?.lastAppliedZxid ?? 0,
    leaderId: undefined,
  };
}

/**
 * The controller's proxy of one server in a worker. Getters read the status the worker
 * last pushed (role, serving and epoch changes are pushed at once; zxids are as of the
 * last push or `status()` call); `status()` asks the worker.
 */
export class WorkerServer extends EventEmitter<WorkerServerEvents> implements EnsembleMember {
  /** This server's id (`myid`). */
  readonly id: ServerId;
  /** Recent replication events reported by the worker, oldest first (bounded). */
  readonly traces: ZabTraceEvent[] = [];
  private readonly hub: WorkerHub;
  private readonly config: ServerWorkerConfig;
  private readonly log: ((line: string) => void) | undefined;
  private readonly book: () => Array<[ServerId, string]>;
  private cached: WorkerServerStatus;
  private workerRef: Worker | undefined;
  private control: MessagePort | undefined;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private address: string | undefined;
  private exitWaiters: Array<() => void> = [];
  /** What the current worker died of (a fatal start error or an uncaught exception). */
  private failure: Error | undefined;

  /**
   * @internal Created by the worker ensemble; `book` lists the client addresses known so
   * far (handed to a respawned worker for `conf`).
   */
  constructor(hub: WorkerHub, config: ServerWorkerConfig, log: ((line: string) => void) | undefined, book: () => Array<[ServerId, string]>) {
    super();
    this.id = config.id;
    this.hub = hub;
    this.config = config;
    this.log = log;
    this.book = book;
    this.cached = stoppedStatus(config.id);
  }

  /** The ZAB state. */
  get state(): PeerState {
    return this.cached.state;
  }

  /** `leader`, `follower`, `observer`, `looking` or `stopped`. */
  get role(): ServerRole {
    return this.cached.role;
  }

  /** True while this server answers clients. */
  get serving(): boolean {
    return this.cached.serving;
  }

  /** True while the server runs (started and not stopped). */
  get running(): boolean {
    return this.cached.running;
  }

  /** currentEpoch. */
  get epoch(): number {
    return this.cached.epoch;
  }

  /** The last zxid in the history, as of the last report. */
  get lastZxid(): Zxid {
    return this.cached.lastZxid;
  }

  /** The last applied zxid, as of the last report. */
  get lastAppliedZxid(): Zxid {
    return this.cached.lastAppliedZxid;
  }

  /** The leader of the last election (undefined while LOOKING or stopped). */
  get leaderId(): ServerId | undefined {
    return this.cached.leaderId;
  }

  /** The worker's `threadId` (-1 while no worker runs). */
  get threadId(): number {
    return this.workerRef?.threadId ?? -1;
  }

  /** The worker running this server, if any. */
  get worker(): Worker | undefined {
    return this.workerRef;
  }

  /** `host:port` of this server's ZooKeeper client port (the same across restarts). */
  get clientAddress(): string {
    if (this.address === undefined) throw new Error(`server ${this.id} has not listened yet`);
    return this.address;
  }

  /** True once the client port has listened once (`clientAddress` is known). */
  get addressKnown(): boolean {
    return this.address !== undefined;
  }

  /** The last status the worker reported. */
  get lastStatus(): WorkerServerStatus {
    return this.cached;
  }

  /** Ask the worker for its current status (with the tree's digest and node count). */
  status(): Promise<WorkerServerStatus> {
    return this.call({ type: 'status' });
  }

  /** The tree's digest (equal digests: equal trees). */
  async digest(): Promise<string> {
    return (await this.status()).digest ?? '';
  }

  /** Resolves once this server serves. */
  whenServing(): Promise<void> {
    if (this.serving) return Promise.resolve();
    return new Promise((resolve) => {
      const on = (serving: boolean): void => {
        if (!serving) return;
        this.off('serving', on);
        resolve();
      };
      this.on('serving', on);
    });
  }

  /**
   * Stop the server, keeping its storage: in place with memory storage; with file
   * storage the worker releases the data directory and exits.
   */
  async stop(): Promise<void> {
    if (this.workerRef === undefined) return;
    if (this.config.storage.kind === 'memory') await this.call({ type: 'stop' });
    else await this.shutdown();
  }

  /**
   * Start after `stop()` (same storage, same client address); resolves once it runs.
   * Does nothing while running. After a crash of a memory-storage worker the new worker
   * starts empty (its memory died with it) and catches up from the leader.
   */
  async start(): Promise<void> {
    if (this.workerRef === undefined) {
      await this.spawn();
      return;
    }
    // A new hub registration would cut the running server's links: only for a stopped one.
    if (this.cached.running) return;
    const transport = this.hub.register(this.id);
    await this.call({ type: 'start', transport }, [transport]);
  }

  /** `stop()` then `start()`. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** @internal Spawn the worker; resolves once its client port listens. */
  spawn(): Promise<void> {
    const { port1: control, port2: remote } = new MessageChannel();
    const address = this.address;
    // A respawn listens on the address it had (retrying while the old socket closes).
    const client = address === undefined ? this.config.client : { ...this.config.client, port: Number(address.slice(address.lastIndexOf(':') + 1)), bindRetries: REBIND_RETRIES };
    const config: ServerWorkerConfig = { ...this.config, client, clientAddresses: this.book() };
    const data: ServerWorkerData = { zoostateServer: config, zoostateControl: remote };
    const worker = this.hub.spawn(this.id, workerEntry(), { workerData: data, transferList: [remote], name: `zoostate server ${this.id}` });
    this.workerRef = worker;
    this.control = control;
    // Starting counts as running (LOOKING) at once, so `allServing()` waits for this server.
    this.apply({ ...stoppedStatus(this.id, this.cached), state: 'LOOKING', role: 'looking', running: true });
    this.failure = undefined;
    const listening = new Promise<void>((resolve, reject) => {
      const done = (error?: Error): void => {
        this.off('status', onStatus);
        if (error) reject(error);
        else resolve();
      };
      const onStatus = (): void => {
        if (this.address !== undefined) done();
      };
      this.on('status', onStatus);
      this.exitWaiters.push(() => done(this.failure ?? new Error(`server ${this.id}: worker exited before listening`)));
    });
    control.on('message', (message: WorkerMessage) => {
      switch (message.type) {
        case 'reply': {
          const p = this.pending.get(message.seq);
          if (p === undefined) return;
          this.pending.delete(message.seq);
          if (message.ok) {
            this.apply(message.status);
            p.resolve(message.status);
          } else {
            p.reject(new Error(`server ${this.id}: ${message.error}`));
          }
          return;
        }
        case 'listening':
          this.address = formatAddress(this.config.client.host, message.port);
          this.emit('status', this.cached);
          return;
        case 'status':
          this.apply(message.status);
          return;
        case 'log':
          this.log?.(message.line);
          return;
        case 'trace':
          this.traces.push(message.event);
          if (this.traces.length > TRACE_LIMIT) this.traces.splice(0, this.traces.length - TRACE_LIMIT);
          this.emit('trace', message.event);
          return;
        case 'fatal':
          this.failure = new Error(`server ${this.id}: ${message.error}`);
          void worker.terminate();
          return;
      }
    });
    worker.on('error', (error) => {
      this.failure ??= error;
    });
    worker.once('exit', () => this.onExit(worker));
    return listening;
  }

  /** @internal Ask the worker to release everything, then end it. */
  async shutdown(): Promise<void> {
    const worker = this.workerRef;
    if (worker === undefined) return;
    const exited = new Promise<void>((resolve) => this.exitWaiters.push(resolve));
    let timer: unknown;
    const timeout = new Promise<void>((resolve) => (timer = systemClock.setTimeout(resolve, CLOSE_TIMEOUT_MS)));
    try {
      await Promise.race([this.call({ type: 'close' }).catch(() => {}), timeout]);
    } finally {
      systemClock.clearTimeout(timer);
    }
    await worker.terminate();
    await exited;
  }

  private onExit(worker: Worker): void {
    if (this.workerRef !== worker) return;
    this.workerRef = undefined;
    this.control?.close();
    this.control = undefined;
    this.hub.kill(this.id); // a registration made for an in-place restart is not watched by the hub
    const error = new Error(`server ${this.id}: worker exited`);
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
    this.apply(stoppedStatus(this.id, this.cached));
    const waiters = this.exitWaiters;
    this.exitWaiters = [];
    for (const w of waiters) w();
    this.emit('exit', this.failure);
  }

  private call(request: UnnumberedCall, transfer?: MessagePort[]): Promise<WorkerServerStatus> {
    const control = this.control;
    if (control === undefined) {
      for (const port of transfer ?? []) port.close();
      return Promise.reject(new Error(`server ${this.id}: no worker running`));
    }
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      const numbered: ControlRequest = { ...request, seq };
      control.postMessage(numbered, transfer);
    });
  }

  /** @internal Tell the worker every server's client address (for `conf`). */
  announce(addresses: Array<[ServerId, string]>): void {
    const message: ControlRequest = { type: 'addresses', addresses };
    this.control?.postMessage(message);
  }

  private apply(status: WorkerServerStatus): void {
    const before = this.cached;
    this.cached = status;
    if (status.state !== before.state) this.emit('state', status.state);
    if (status.serving !== before.serving) this.emit('serving', status.serving);
    this.emit('status', status);
  }
}

class WorkerEnsembleImpl implements WorkerEnsemble {
  readonly transport = 'worker' as const;
  readonly servers: WorkerServer[];
  readonly membership: Membership;
  private readonly hub: WorkerHub;
  private closing: Promise<void> | undefined;

  constructor(hub: WorkerHub, membership: Membership, servers: WorkerServer[]) {
    this.hub = hub;
    this.membership = membership;
    this.servers = servers;
  }

  get serverIds(): ServerId[] {
    return [...this.membership.voters, ...this.membership.observers];
  }

  get addresses(): string[] {
    return this.servers.map((s) => s.clientAddress);
  }

  get connectString(): string {
    return this.addresses.join(',');
  }

  server(id: ServerId): WorkerServer {
    const server = this.servers.find((s) => s.id === id);
    if (server === undefined) throw new RangeError(`no server ${id} in the ensemble`);
    return server;
  }

  leader(): WorkerServer | undefined {
    return this.servers.find((s) => s.state === 'LEADING' && s.serving);
  }

  allServing(): boolean {
    return this.leader() !== undefined && this.servers.every((s) => !s.running || s.serving);
  }

  whenServing(): Promise<WorkerServer> {
    return this.until(() => this.leader());
  }

  whenAllServing(): Promise<void> {
    return this.until(() => (this.allServing() ? true : undefined)).then(() => {});
  }

  client(options: ClientOptions = {}): ZooKeeperClient {
    return createClient(this.connectString, options);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all(this.servers.map((s) => s.shutdown()));
      await this.hub.close();
    })();
    return this.closing;
  }

  /** Resolves with `probe()` once it is defined, re-checking on every status report. */
  private until<T>(probe: () => T | undefined): Promise<T> {
    const now = probe();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise((resolve) => {
      const check = (): void => {
        const value = probe();
        if (value === undefined) return;
        for (const s of this.servers) s.off('status', check);
        resolve(value);
      };
      for (const s of this.servers) s.on('status', check);
    });
  }
}

/**
 * Start an ensemble with one worker_thread per server and resolve once every client port
 * listens and a leader serves (see the module comment). Rejects, leaving nothing
 * running, if a worker fails to start or no leader serves within `startTimeoutMs`.
 */
export async function startWorkerEnsemble(options: WorkerEnsembleOptions = {}): Promise<WorkerEnsemble> {
  rejectFunctions(options);
  const voterCount = options.servers ?? 3;
  const observerCount = options.observers ?? 0;
  if (!Number.isInteger(voterCount) || voterCount < 1) throw new RangeError(`servers must be >= 1, got ${voterCount}`);
  if (!Number.isInteger(observerCount) || observerCount < 0) throw new RangeError(`observers must be >= 0, got ${observerCount}`);
  const basePort = options.port ?? 0;
  if (!Number.isInteger(basePort) || basePort < 0 || (basePort > 0 && basePort + voterCount + observerCount - 1 > 65535)) {
    throw new RangeError(`port ${basePort} leaves no room for ${voterCount + observerCount} servers`);
  }
  const voters = Array.from({ length: voterCount }, (_, i) => i + 1);
  const observers = Array.from({ length: observerCount }, (_, i) => voterCount + i + 1);
  const membership: Membership = { voters, observers };
  const random = options.random ?? systemRandom();
  const zab: WorkerZabOptions | undefined =
    options.extendedTypesEnabled === undefined
      ? options.zab
      : { ...options.zab, preparer: { ...options.zab?.preparer, extendedTypesEnabled: options.extendedTypesEnabled } };
  const configAddresses = options.addresses === undefined ? undefined : [...voters, ...observers].map((id) => ({ ...options.addresses!(id), id }));
  const hub = new WorkerHub();
  const book = (): Array<[ServerId, string]> => servers.flatMap((s): Array<[ServerId, string]> => (s.addressKnown ? [[s.id, s.clientAddress]] : []));
  const servers: WorkerServer[] = [...voters, ...observers].map((id, index) => {
    const config: ServerWorkerConfig = {
      id,
      membership,
      timing: {
        ...(options.tickTime !== undefined ? { tickTime: options.tickTime } : {}),
        ...(options.initLimit !== undefined ? { initLimit: options.initLimit } : {}),
        ...(options.syncLimit !== undefined ? { syncLimit: options.syncLimit } : {}),
        election: { ...IN_PROCESS_ELECTION_TIMING, ...options.electionTiming },
      },
      storage:
        options.dataDir === undefined
          ? { kind: 'memory' }
          : { kind: 'file', dir: join(options.dataDir, String(id)), ...(options.fsync !== undefined ? { fsync: options.fsync } : {}) },
      seed: random.fork(`server${id}`).int(0x1_0000_0000),
      ...(options.historyCapacity !== undefined ? { historyCapacity: options.historyCapacity } : {}),
      ...(options.snapCount !== undefined ? { snapCount: options.snapCount } : {}),
      ...(zab !== undefined ? { zab } : {}),
      ...(options.treeOptions !== undefined ? { treeOptions: options.treeOptions } : {}),
      ...(options.election !== undefined ? { election: options.election } : {}),
      ...(options.session !== undefined ? { session: options.session } : {}),
      client: {
        host: options.host ?? '127.0.0.1',
        port: basePort === 0 ? 0 : basePort + index,
        bindRetries: 0,
        ...(options.limits !== undefined ? { limits: options.limits } : {}),
        ...(options.fourLetterWords !== undefined ? { fourLetterWords: options.fourLetterWords } : {}),
        ...(options.version !== undefined ? { version: options.version } : {}),
        log: options.log !== undefined,
      },
      clientAddresses: [],
      ...(configAddresses !== undefined ? { configAddresses } : {}),
    };
    return new WorkerServer(hub, config, options.log, book);
  });
  const ensemble = new WorkerEnsembleImpl(hub, membership, servers);
  let timer: unknown;
  try {
    await Promise.all(servers.map((s) => s.spawn()));
    const addresses = book();
    for (const s of servers) s.announce(addresses);
    const limit = options.startTimeoutMs ?? 30_000;
    const timeout = new Promise<never>((_, reject) => {
      timer = systemClock.setTimeout(() => reject(new Error(`worker ensemble: no leader served within ${limit} ms`)), limit);
    });
    await Promise.race([ensemble.whenServing(), timeout]);
  } catch (error) {
    await ensemble.close();
    throw error;
  } finally {
    systemClock.clearTimeout(timer);
  }
  return ensemble;
}

/** Options that only make sense in one thread get a clear error instead of a DataCloneError. */
function rejectFunctions(options: WorkerEnsembleOptions): void {
  const o = options as Record<string, unknown>;
  for (const key of ['clock', 'storage', 'inspect', 'inspectServer', 'traceNetwork']) {
    if (o[key] !== undefined) {
      throw new TypeError(`transport 'worker': option '${key}' cannot cross into a worker thread (use dataDir for durable storage; workers run on real time)`);
    }
  }
  if (typeof options.zab?.preparer === 'object' && 'checkSession' in (options.zab.preparer as object)) {
    throw new TypeError("transport 'worker': zab.preparer.checkSession cannot cross into a worker thread");
  }
}
