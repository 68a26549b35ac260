/**
 * The typed conversation between a worker ensemble's controller (main thread,
 * worker-ensemble.ts) and one server worker (server-worker.ts / worker-host.ts).
 *
 * Everything here crosses a thread boundary by structured clone, so it is plain data:
 * no functions, no class instances (MessagePorts travel in transfer lists).
 *
 * - `ServerWorkerConfig` (in `workerData.zoostateServer`): what to run.
 * - Requests (controller → worker) carry a `seq`; the worker answers each with exactly
 *   one `reply` of the same `seq`, in order.
 * - Events (worker → controller) arrive unasked: the client port is `listening`, a
 *   `status` push on every role/serving/epoch change (the controller caches it so its
 *   getters stay synchronous), a replication `trace` event, a client-port `log` line,
 *   or a `fatal` error.
 */
import type { MessagePort } from 'node:worker_threads';
import type { ServerId } from '../../protocol/peer.js';
import type { Zxid } from '../../protocol/zxid.js';
import type { ElectionMode, PeerState, ServerRole, ZabPhase } from '../quorum-server.js';
import type { ClientServiceOptions } from '../client-service.js';
import type { ClientPortLimits } from '../limits.js';
import type { FourLetterWordWhitelist } from '../four-letter-words.js';
import type { Membership } from '../../machines/quorum.js';
import type { ServerAddressLike } from '../../machines/reconfig-config.js';
import type { ZabTraceEvent } from '../../machines/host.js';
import type { ZabTiming } from '../../machines/timing.js';
import type { DataTreeOptions } from '../../tree/data-tree.js';

/** Where a server worker keeps its durable state. */
export type WorkerStorageConfig = { kind: 'memory' } | { kind: 'file'; dir: string; fsync?: boolean };

/** Replication tunables that can cross a thread (no session-check callback). */
export interface WorkerZabOptions {
  maxCounter?: number;
  snapChunkSize?: number;
  preparer?: { extendedTypesEnabled?: boolean };
  reconfigEnabled?: boolean;
  standaloneEnabled?: boolean;
}

/** The client port a server worker listens on. */
export interface WorkerClientPortConfig {
  host: string;
  /** 0 = any free port. */
  port: number;
  /** Retry a busy port this many times, 20 ms apart (a respawn re-binding its address). */
  bindRetries: number;
  limits?: Partial<ClientPortLimits>;
  fourLetterWords?: FourLetterWordWhitelist;
  version?: string;
  /** Forward client-port log lines to the controller. */
  log: boolean;
}

/** What one server worker runs (`workerData.zoostateServer`). */
export interface ServerWorkerConfig {
  id: ServerId;
  membership: Membership;
  timing: Partial<ZabTiming>;
  storage: WorkerStorageConfig;
  /** Seed of the server's random stream. */
  seed: number;
  historyCapacity?: number;
  snapCount?: number;
  zab?: WorkerZabOptions;
  treeOptions?: Omit<DataTreeOptions, 'configData'>;
  election?: ElectionMode;
  session?: ClientServiceOptions;
  client: WorkerClientPortConfig;
  /** Members' addresses for the static configuration (`/zookeeper/config`); the same for every member. */
  configAddresses?: ServerAddressLike[];
  /** Client address of every server, when already known (a respawn). */
  clientAddresses: Array<[ServerId, string]>;
}

/** `workerData` of a server worker (the hub adds `zoostateTransport`). */
export interface ServerWorkerData {
  zoostateServer: ServerWorkerConfig;
  /** The control RPC port (requests in, replies and events out). */
  zoostateControl: MessagePort;
}

/** A server's state as its worker reports it. */
export interface WorkerServerStatus {
  id: ServerId;
  /** The worker's `threadId`. */
  threadId: number;
  state: PeerState;
  role: ServerRole;
  phase: ZabPhase | undefined;
  serving: boolean;
  running: boolean;
  /** currentEpoch (0 before the first start). */
  epoch: number;
  acceptedEpoch: number;
  /** Last zxid in the history (logged). */
  lastZxid: Zxid;
  /** Last applied (committed) zxid. */
  lastAppliedZxid: Zxid;
  leaderId: ServerId | undefined;
  /** The tree's digest: only in replies to a `status` request. */
  digest?: string;
  /** Znodes in the tree: only in replies to a `status` request. */
  nodeCount?: number;
}

/** Controller → worker. */
export type ControlRequest =
  | { type: 'status'; seq: number }
  /** Stop the server in place (crash-like for the protocol); the client port stays open. */
  | { type: 'stop'; seq: number }
  /** Start it again on the same storage, over a fresh hub registration. */
  | { type: 'start'; seq: number; transport: MessagePort }
  /** Stop the server, close the client port and release the storage; the worker may then be terminated. */
  | { type: 'close'; seq: number }
  /** Every server's client address (for `conf`); no reply. */
  | { type: 'addresses'; addresses: Array<[ServerId, string]> };

/** The requests that get a reply. */
export type ControlCall = Exclude<ControlRequest, { type: 'addresses' }>;

type Unnumbered<T> = T extends unknown ? Omit<T, 'seq'> : never;

/** A call before the controller numbers it. */
export type UnnumberedCall = Unnumbered<ControlCall>;

/** The answer to one request. */
export type ControlReply = { type: 'reply'; seq: number; ok: true; status: WorkerServerStatus } | { type: 'reply'; seq: number; ok: false; error: string };

/** Worker → controller. */
export type WorkerMessage =
  | ControlReply
  | { type: 'listening'; port: number }
  | { type: 'status'; status: WorkerServerStatus }
  | { type: 'log'; line: string }
  /** A replication event (`QuorumServer`'s `trace`: sync mode, epoch, a role's end and why). */
  | { type: 'trace'; event: ZabTraceEvent }
  | { type: 'fatal'; error: string };
