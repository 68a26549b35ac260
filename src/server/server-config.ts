/**
 * One server of a multi-process ensemble, from a ZooKeeper-style configuration: the
 * member list of `zoo.cfg` (`server.N=host:quorumPort:electionPort[:participant|:observer]`),
 * `myid`, and the timing settings. The CLI's `zoostate server --config zoo.cfg` builds
 * this from a parsed zoo.cfg (src/cli/zoo-cfg.ts) plus the `myid` file.
 *
 * Transport: every member listens on its `quorumPort` over TCP (`TcpTransport`);
 * zoostate carries election notifications and ZAB packets on that one authenticated
 * connection per pair of servers, so `electionPort` is accepted but unused.
 *
 * Dynamic reconfiguration (`reconfigEnabled`): the member list is the static
 * configuration; `/zookeeper/config` and `conf` render it with these addresses. The TCP
 * address book follows the current configuration, keeping the configured members (a
 * removed one may go on following as a non-voting learner). The new
 * configuration is persisted with the tree and log in the storage, not by rewriting
 * zoo.cfg: a restart with the same dataDir uses it.
 */
import type { ServerId } from '../protocol/peer.js';
import { systemClock, type Clock } from '../runtime/clock.js';
import { systemRandom, type Random } from '../runtime/random.js';
import { MemoryStorage } from '../storage/memory.js';
import type { Storage } from '../storage/types.js';
import { TcpTransport, type PeerAddress } from '../transport/tcp.js';
import type { Transport } from '../transport/types.js';
import type { DataTreeOptions } from '../tree/data-tree.js';
import type { ElectionTiming } from '../machines/election.js';
import type { ZabOptions } from '../machines/host.js';
import type { Membership } from '../machines/quorum.js';
import type { InspectObserver } from './ensemble.js';
import { QuorumServer, type SessionHooks } from './quorum-server.js';

/** One `server.N` line (structurally compatible with the CLI's `ZooCfgServer`). */
export interface ServerAddress {
  id: ServerId;
  host: string;
  quorumPort: number;
  /** Accepted for compatibility; zoostate elects over the quorum connection. */
  electionPort: number;
  /** Default `participant` (a voter). */
  role?: 'participant' | 'observer';
  /** The client address and port after `;` (used by the client front-end). */
  clientAddress?: string;
  clientPort?: number;
}

/** Everything one server of a multi-process ensemble needs. */
export interface QuorumServerConfig {
  /** This server's id (the `myid` file). */
  myid: ServerId;
  /** Every member, this one included. */
  servers: readonly ServerAddress[];
  /** ms per tick (default 50; zoo.cfg usually says 2000). */
  tickTime?: number;
  initLimit?: number;
  syncLimit?: number;
  /** Election timers. */
  electionTiming?: Partial<ElectionTiming>;
  /** The shared secret of the peer connections (every member must use the same). */
  secret?: string | Uint8Array;
  /** Where to listen (default: this server's host and quorum port). */
  listen?: { host?: string; port?: number };
  /** Override the transport (default: TCP as described in the module comment). */
  transport?: () => Transport | Promise<Transport>;
  /** Durable state (default: memory, i.e. none across process restarts). */
  storage?: Storage;
  clock?: Clock;
  random?: Random;
  inspect?: InspectObserver;
  historyCapacity?: number;
  snapCount?: number;
  zab?: ZabOptions;
  treeOptions?: Omit<DataTreeOptions, 'configData'>;
  sessions?: SessionHooks;
  /** ZooKeeper's `reconfigEnabled` (default false): allow the reconfig operation. */
  reconfigEnabled?: boolean;
  /** ZooKeeper's `standaloneEnabled` (default true): a reconfig must leave 2 voters or more. */
  standaloneEnabled?: boolean;
}

/** The development secret used when none is configured (set one in production). */
export const DEFAULT_PEER_SECRET = 'zoostate-development-secret';

/** Voters and observers of a member list. */
export function membershipOf(servers: readonly ServerAddress[]): Membership {
  return {
    voters: servers.filter((s) => (s.role ?? 'participant') === 'participant').map((s) => s.id),
    observers: servers.filter((s) => s.role === 'observer').map((s) => s.id),
  };
}

/** Build (without starting) the server `config.myid` of the configured ensemble. */
export function createQuorumServer(config: QuorumServerConfig): QuorumServer {
  const self = config.servers.find((s) => s.id === config.myid);
  if (self === undefined) throw new RangeError(`myid ${config.myid} is not among the configured servers`);
  const clock = config.clock ?? systemClock;
  const random = config.random ?? systemRandom();
  const book = new Map<ServerId, PeerAddress>(config.servers.map((s) => [s.id, { host: s.host, port: s.quorumPort }]));
  let tcp: TcpTransport | null = null;
  const transport =
    config.transport ??
    (async () => {
      tcp = await TcpTransport.listen({
        self: config.myid,
        secret: config.secret ?? DEFAULT_PEER_SECRET,
        peers: book,
        listen: { host: config.listen?.host ?? self.host, port: config.listen?.port ?? self.quorumPort },
        clock,
        random: random.fork('tcp'),
        // A server joining by reconfig connects before the members know its address.
        acceptUnknownPeers: config.reconfigEnabled === true || config.zab?.reconfigEnabled === true,
      });
      return tcp;
    });
  const zab: ZabOptions | undefined =
    config.reconfigEnabled === undefined && config.standaloneEnabled === undefined
      ? config.zab
      : {
          ...config.zab,
          ...(config.reconfigEnabled !== undefined ? { reconfigEnabled: config.reconfigEnabled } : {}),
          ...(config.standaloneEnabled !== undefined ? { standaloneEnabled: config.standaloneEnabled } : {}),
        };
  const server = new QuorumServer({
    id: config.myid,
    membership: membershipOf(config.servers),
    transport,
    storage: config.storage ?? new MemoryStorage({ clock }),
    clock,
    random,
    timing: {
      ...(config.tickTime !== undefined ? { tickTime: config.tickTime } : {}),
      ...(config.initLimit !== undefined ? { initLimit: config.initLimit } : {}),
      ...(config.syncLimit !== undefined ? { syncLimit: config.syncLimit } : {}),
      ...(config.electionTiming !== undefined ? { election: config.electionTiming } : {}),
    },
    ...(config.inspect !== undefined ? { inspect: config.inspect } : {}),
    ...(config.historyCapacity !== undefined ? { historyCapacity: config.historyCapacity } : {}),
    ...(config.snapCount !== undefined ? { snapCount: config.snapCount } : {}),
    ...(zab !== undefined ? { zab } : {}),
    ...(config.treeOptions !== undefined ? { treeOptions: config.treeOptions } : {}),
    ...(config.sessions !== undefined ? { sessions: config.sessions } : {}),
    addresses: config.servers,
  });
  server.on('config', (next) => {
    // The address book: the configured members plus the current configuration's (which
    // wins where they differ). A configured member that a reconfig removed stays, so it
    // can go on following as a non-voting learner.
    const current = new Map<ServerId, PeerAddress>(config.servers.map((s) => [s.id, { host: s.host, port: s.quorumPort }]));
    for (const s of next.servers) if (s.quorumPort !== 0) current.set(s.id, { host: s.host, port: s.quorumPort });
    const same = current.size === book.size && [...current].every(([id, a]) => book.get(id)?.host === a.host && book.get(id)?.port === a.port);
    if (same) return;
    book.clear();
    for (const [id, a] of current) book.set(id, a);
    tcp?.setPeers(book);
  });
  return server;
}

/** Build and start the server; resolves once it runs (LOOKING; it serves after election and sync). */
export async function startQuorumServer(config: QuorumServerConfig): Promise<QuorumServer> {
  const server = createQuorumServer(config);
  await server.startAsync();
  return server;
}
