/** zoostate: an embeddable ZooKeeper for Node.js. */

// The client (src/client): one API over the ZooKeeper wire protocol or an in-process channel.
export { createClient, ZooKeeperClient } from './client/client.js';
export type { ClientOptions, ClientEvents, CreateOptions, WatchOptions, GetChildrenOptions, VersionOptions, RemoveWatchesOptions, WatchStreamOptions, ProtectedCreateOptions } from './client/client.js';
export type * from './client/types.js';
export { ANYONE_ID_UNSAFE, AUTH_IDS, OPEN_ACL_UNSAFE, CREATOR_ALL_ACL, READ_ACL_UNSAFE, digestId, digestACL } from './client/acl.js';
export { AbortError, isAbortError } from './client/errors.js';
export { Transaction, isMultiError } from './client/multi.js';
export type { MultiOp, MultiResult, MultiError, MultiErrorDetails, MultiCreateOptions } from './client/multi.js';
export type { WatchStream } from './client/watch-stream.js';
export type { ChannelFactory, ChannelHandlers, ClientChannel, ClientResponse } from './client/channel.js';
export { parseConnectString } from './client/connect-string.js';
export type { ConnectString, HostAddress } from './client/connect-string.js';
export { wireChannelFactory } from './client/wire-channel.js';
export { ClientSession } from './client/session.js';
export { sessionMachine } from './client/session-machine.js';
export { PROTECTED_PREFIX } from './client/protected.js';
// What client code needs from the protocol: modes, permissions, watch types, typed errors.
export { CreateMode, AddWatchMode, WatcherType, EventType, KeeperState, Perms } from './protocol/constants.js';
export {
  ZooKeeperError,
  ErrorCode,
  NoNodeError,
  NodeExistsError,
  BadVersionError,
  NotEmptyError,
  NoAuthError,
  InvalidACLError,
  BadArgumentsError,
  NoChildrenForEphemeralsError,
  SessionExpiredError,
  ConnectionLossError,
  OperationTimeoutError,
  UnimplementedError,
  NoWatcherError,
  AuthFailedError,
  SessionMovedError,
  RuntimeInconsistencyError,
} from './protocol/errors.js';
export type { ACL, Id, Stat } from './protocol/records.js';
// Recipes (src/recipes): locks, leader election, barriers, queues, counters, caches,
// discovery and the status board, on the public client API only.
export * from './recipes/index.js';
// The replicated server (src/server, src/machines, src/storage): whole ensembles in one
// process, single servers of a multi-process ensemble, the ZAB machines and storage.
export { createEnsemble, startEnsemble } from './server/ensemble.js';
export type { Ensemble, EnsembleOptions, EnsembleTransport, InspectObserver, EnsembleMember, EnsembleView } from './server/ensemble.js';
export type { WorkerEnsemble, WorkerEnsembleOptions, WorkerServer, WorkerServerEvents } from './server/worker/worker-ensemble.js';
export { QuorumServer } from './server/quorum-server.js';
export type {
  ApplyConsumer,
  QuorumServerOptions,
  QuorumServerEvents,
  RequestContext,
  SyncResult,
  SubmitRequest,
  SessionHooks,
  ElectionMode,
  PeerState,
  ServerRole,
  ZabPhase,
} from './server/quorum-server.js';
export { createQuorumServer, startQuorumServer, membershipOf, DEFAULT_PEER_SECRET } from './server/server-config.js';
export type { QuorumServerConfig, ServerAddress } from './server/server-config.js';
export { MemoryStorage } from './storage/memory.js';
export { FileStorage, fileStorageFactory, StorageCorruptionError } from './storage/file.js';
export type { FileStorageOptions } from './storage/file.js';
// Injected time and chance: pass a VirtualClock and seededRandom(seed) to replay a run exactly.
export { systemClock, type Clock } from './runtime/clock.js';
export { seededRandom, systemRandom, type Random } from './runtime/random.js';
export { VirtualClock } from './sim/virtual-clock.js';
export type { MemoryStorageOptions, MemoryStorageStats } from './storage/memory.js';
export type { Storage, StorageFactory, StorageDone, Snapshot, DurableState } from './storage/types.js';
export { machineDefinitions, machineDefinition, DEFAULT_ZAB_TIMING } from './machines/index.js';
export type { ZabTiming, Membership, ZabOptions, ZabTraceEvent, SyncMode } from './machines/index.js';
// The session layer and request pipeline (src/server): per-server client service,
// sessions, the in-process connection, and the front-end contract.
export { ClientService } from './server/client-service.js';
export type { ClientServiceOptions } from './server/client-service.js';
export { SessionManager, sessionTimeoutBounds, isClientSessionId } from './server/sessions.js';
export type { SessionOptions, RevalidateCallback } from './server/sessions.js';
export { ContainerReaper } from './server/container-reaper.js';
export type { ContainerReaperOptions } from './server/container-reaper.js';
export { LatencyStats, SizeStats, ServerStats, opName, connectionSnapshot, isFrontEndConnection } from './server/client-stats.js';
export type { ConnectionStats, FrontEndConnection } from './server/client-stats.js';
export { proposalSize } from './server/proposal-size.js';
// ZooKeeper client ports (src/server): each server of an in-process ensemble, or one
// server of a multi-process ensemble, behind a TCP port speaking ZooKeeper 3.8's client
// protocol and four-letter words, so any ZooKeeper client or tool can use it.
export { serveEnsemble, serveServer, formatAddress } from './server/serve.js';
export type { ServeOptions, EnsemblePorts } from './server/serve.js';
export { ClientPort } from './server/client-port.js';
export type { ClientPortOptions, ServerInfoSource, ServingSignal, StatisticsSource } from './server/client-port.js';
export type { ClientPortLimits } from './server/limits.js';
export { serverInfoSource, lastProcessedZxid } from './server/server-info.js';
export type { ServerInfoOptions } from './server/server-info.js';
export { parseWhitelist, DEFAULT_FOUR_LETTER_WORD_WHITELIST } from './server/four-letter-words.js';
export type { FourLetterWordWhitelist, ServerMode } from './server/four-letter-words.js';
export type { ConnectionAcceptor, ConnectionInfo, ConnectionSink, ServerConnection } from './server/connection.js';
export { InProcessLink, connectInProcess, inProcessConnectString, IN_PROCESS_HOST } from './server/inproc-channel.js';
export type { InProcessTarget, InProcessLinkOptions, InProcessClientOptions } from './server/inproc-channel.js';
export { SessionTracker, negotiateTimeout, defaultTimeoutBounds, initialSessionId } from './server/session-tracker.js';
export type { TrackedSession, SessionTimeoutBounds } from './server/session-tracker.js';
export { sessionPassword, checkSessionPassword } from './server/session-password.js';
