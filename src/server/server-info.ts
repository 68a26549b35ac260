/**
 * The four-letter words' view of one server: a `ServerInfoSource` (client-port.ts) read
 * from a `QuorumServer` (role, zxid, tree) and its `ClientService` (watches, sessions).
 * Everything is computed when a command asks; nothing here is on the request path.
 */
import { arch, freemem, hostname, platform, release, totalmem, userInfo } from 'node:os';
import type { LeaderCore } from '../machines/leader-core.js';
import { makeZxid } from '../protocol/zxid.js';
import type { ClientService } from './client-service.js';
import type { ConfSnapshot, LeaderStats, ServerMode, SessionDump, WatchListing } from './four-letter-words.js';
import type { ServerInfoSource } from './client-port.js';
import type { QuorumServer } from './quorum-server.js';
import { fullVersion } from './version.js';

/** Configuration facts `conf` reports that the server objects do not know. */
export interface ServerInfoOptions {
  /** Data directory (file storage), '' for memory storage. */
  dataDir?: string;
  /** Transaction log directory (default: dataDir). */
  dataLogDir?: string;
  /** The peer (quorum) port of this server; -1 when peers talk in-process. */
  quorumPort?: number;
  /** The election port (zoostate elects over the quorum connection; reported as configured). */
  electionPort?: number;
  /** `server.N=...` membership lines (default: the server's current configuration, as `/zookeeper/config` holds it). */
  membership?: () => readonly string[];
  /** Client address `host:port` of each server (used where the configuration has none). */
  clientAddresses?: () => ReadonlyMap<number, string>;
  /** Data and log directory sizes (bytes), if known. */
  dirs?: () => { dataDirSize: number; logDirSize: number };
  /** Extra `envi` lines. */
  environment?: () => Array<readonly [string, string]>;
  /** The version line (default `fullVersion()`). */
  version?: string;
}

const PHASE_WORDS = { LEADING: 'leading', FOLLOWING: 'following', OBSERVING: 'observing' } as const;

/** Build the four-letter-word source of `server` and its pipeline `service`. */
export function serverInfoSource(server: QuorumServer, service: ClientService, options: ServerInfoOptions = {}): ServerInfoSource {
  const tree = () => (server.running ? server.tree : undefined);
  const startedAt = server.clock.now();
  return {
    mode: (): ServerMode => {
      if (service.readOnly) return 'read-only';
      const role = server.role;
      return role === 'leader' || role === 'follower' || role === 'observer' ? role : 'standalone';
    },
    peerState: () => {
      const state = server.state;
      if (state === 'LOOKING') return 'looking';
      if (state === 'STOPPED') return 'stopped';
      return `${PHASE_WORDS[state]} - ${server.phase ?? 'discovery'}`;
    },
    readOnly: () => service.readOnly,
    localSessions: () => service.localSessionCount,
    lastZxid: () => lastProcessedZxid(server),
    // ZooKeeper's DataTree maps the root under both "" and "/", so its count is one more.
    nodeCount: () => (tree()?.nodeCount ?? 0) + 1,
    approximateDataSize: () => tree()?.approximateDataSize ?? 0,
    watchSummary: () => service.watches.summary('data'),
    watchListing: (): WatchListing => ({
      byConnection: [...service.watches.byWatcher('data')].map(([watcher, paths]) => ({ sessionId: watcher.sessionId, paths })),
      byPath: [...service.watches.byPath('data')].map(([path, watchers]) => ({ path, sessionIds: watchers.map((w) => w.sessionId) })),
    }),
    watchCount: () => service.watches.size(),
    sessionDump: (): SessionDump => {
      const tracker = service.sessions.leaderTracker;
      if (tracker !== null) {
        const buckets = new Map<number, bigint[]>();
        for (const s of tracker.all()) {
          let list = buckets.get(s.expiresAt);
          if (list === undefined) buckets.set(s.expiresAt, (list = []));
          list.push(s.id);
        }
        return { kind: 'leader', buckets: [...buckets].map(([expiresAt, sessions]) => ({ expiresAt, sessions })) };
      }
      const sessions = tree()?.sessions ?? new Map<bigint, number>();
      return { kind: 'learner', sessions: [...sessions].map(([sessionId, timeout]) => ({ sessionId, timeout })) };
    },
    globalSessions: () => tree()?.sessions.size ?? 0,
    ephemerals: () => {
      const t = tree();
      if (t === undefined) return [];
      return [...t.ephemeralOwners()].map((sessionId) => ({ sessionId, paths: [...t.ephemeralsOf(sessionId)].sort() }));
    },
    conf: (): Partial<ConfSnapshot> => {
      const membership = server.membership;
      const observer = membership.observers.includes(server.id);
      const dataDir = options.dataDir ?? '';
      return {
        dataDir,
        dataLogDir: options.dataLogDir ?? dataDir,
        ...(options.dirs ? { dataDirSize: options.dirs().dataDirSize, dataLogSize: options.dirs().logDirSize } : {}),
        tickTime: server.timing.tickTime,
        minSessionTimeout: service.sessions.bounds.min,
        maxSessionTimeout: service.sessions.bounds.max,
        serverId: server.id,
        quorum: {
          initLimit: server.timing.initLimit,
          syncLimit: server.timing.syncLimit,
          electionPort: options.electionPort ?? -1,
          quorumPort: options.quorumPort ?? -1,
          peerType: observer ? 1 : 0,
          membership: options.membership?.() ?? defaultMembership(server, options.clientAddresses?.()),
          version: server.config.version.toString(16),
        },
      };
    },
    leader: () => leaderStats(server, service),
    quorumSize: () => server.membership.voters.length,
    ...(options.dirs ? { dirs: options.dirs } : {}),
    environment: () => [...defaultEnvironment(options.version ?? fullVersion()), ...(options.environment?.() ?? [])],
    startedAt: () => startedAt,
  };
}

/**
 * The current configuration's lines (ZooKeeper's `conf` prints its QuorumVerifier). A
 * member without a client address in the configuration (an in-process ensemble's) gets
 * the address its client port has, if known.
 */
function defaultMembership(server: QuorumServer, clients: ReadonlyMap<number, string> | undefined): string[] {
  const lines = server.configLines();
  if (clients === undefined || clients.size === 0) return lines;
  return lines.map((line, i) => {
    const member = server.config.servers[i]!;
    const client = clients.get(member.id);
    return member.clientPort === undefined && client !== undefined ? `${line};${client}` : line;
  });
}

/**
 * `srvr`'s Zxid: ZooKeeper's `DataTree.lastProcessedZxid`. An established leader sets it
 * to `(epoch << 32)` when it starts serving (`Leader.startZkServer`), so a new leader
 * reports its epoch before its first transaction; a learner reports the last zxid it
 * applied (observed on 3.8.0: a fresh ensemble's followers say 0x0, its leader
 * 0x100000000).
 */
export function lastProcessedZxid(server: QuorumServer): number {
  if (!server.running) return 0;
  const applied = server.lastAppliedZxid;
  if (server.role !== 'leader' || !server.serving) return applied;
  return Math.max(applied, makeZxid(server.epoch, 0));
}

function leaderStats(server: QuorumServer, service: ClientService): LeaderStats | undefined {
  if (server.role !== 'leader' || !server.serving) return undefined;
  const core = server.roleCore as LeaderCore | null;
  const learners = core !== null && core.learners instanceof Map ? [...core.learners.values()] : [];
  const synced = learners.filter((l) => l.stage === 'serving');
  const sizes = service.stats.proposalSizes;
  return {
    learners: learners.length,
    syncedFollowers: synced.filter((l) => l.voter).length,
    // Followers outside the configuration (joining, or removed by a reconfig).
    syncedNonVotingFollowers: synced.filter((l) => !l.voter && !l.observer).length,
    syncedObservers: synced.filter((l) => l.observer).length,
    pendingSyncs: 0,
    leaderUptimeMs: service.leadingSince >= 0 ? Math.floor(server.clock.elapsed() - service.leadingSince) : 0,
    proposalSizes: { last: sizes.last, min: sizes.min, max: sizes.max },
    proposalCount: sizes.count,
  };
}

/** `envi`'s lines: the version, then host, runtime and OS facts (Node's in place of Java's). */
export function defaultEnvironment(version: string): Array<readonly [string, string]> {
  const mb = (bytes: number): string => `${Math.round(bytes / (1024 * 1024))}MB`;
  const memory = process.memoryUsage();
  let user = { username: '', homedir: '' };
  try {
    user = userInfo();
  } catch {
    // no passwd entry (containers)
  }
  return [
    ['zookeeper.version', version],
    ['host.name', hostname()],
    ['node.version', process.version],
    ['node.execPath', process.execPath],
    ['os.name', platform() === 'linux' ? 'Linux' : platform()],
    ['os.arch', arch() === 'x64' ? 'amd64' : arch()],
    ['os.version', release()],
    ['user.name', user.username],
    ['user.home', user.homedir],
    ['user.dir', process.cwd()],
    ['os.memory.free', mb(freemem())],
    ['os.memory.max', mb(totalmem())],
    ['os.memory.total', mb(memory.rss)],
  ];
}
