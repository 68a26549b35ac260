/**
 * Four-letter words (reference §15): ZooKeeper 3.8's monitoring commands, sent as the
 * first 4 bytes of a connection instead of a handshake. The answer is plain text written
 * raw (no length prefix), then the server closes the connection.
 *
 * This module is pure: `format*` functions turn snapshots into ZooKeeper's exact text,
 * and `runFourLetterWord` picks the command, applies the whitelist and the
 * "not serving" rule, and asks a `FourLetterWordContext` (the client port plus the
 * server behind it) for the numbers. The formats follow ZooKeeper 3.8.0 as observed on
 * a running server (srvr/stat/cons/wchs/wchc/wchp/dump/conf/envi/mntr/isro/ruok/dirs/
 * crst/srst/gtmk/stmk/hash).
 *
 * Whitelist: zoostate enables every command by default (ZooKeeper 3.8 enables only
 * `srvr`); `4lw.commands.whitelist` in zoo.cfg (or the port's `fourLetterWords` option)
 * narrows it, with ZooKeeper's answer for a known but disabled command.
 */
import { FOUR_LETTER_WORDS } from '../protocol/frame.js';
import { opName } from './client-stats.js';

/** What ZooKeeper prints when it is not serving (election, no quorum). */
export const ZK_NOT_SERVING = 'This ZooKeeper instance is not currently serving requests\n';

/** ZooKeeper's default trace mask (`gtmk` prints it). */
export const DEFAULT_TRACE_MASK = 306n;

/** The words enabled when no whitelist is configured: all of them (ZooKeeper: only `srvr`). */
export const DEFAULT_FOUR_LETTER_WORD_WHITELIST = '*';

/** A whitelist: `*` (every word) or the enabled words. */
export type FourLetterWordWhitelist = '*' | readonly string[];

/** The `Mode:` of `srvr`. */
export type ServerMode = 'leader' | 'follower' | 'observer' | 'standalone' | 'read-only';

/** min/avg/max in ms. */
export interface LatencySummary {
  min: number;
  avg: number;
  max: number;
}

/** `Proposal sizes last/min/max` (leader only), bytes; -1 before the first proposal. */
export interface ProposalSizes {
  last: number;
  min: number;
  max: number;
}

/** The numbers of `srvr` and `stat` (ZooKeeper's `ServerStats` plus the node count). */
export interface ServerStatsSnapshot {
  /** The full version, e.g. `3.8.0-zoostate-0.1.0, built on 2025-01-01 12:00 UTC`. */
  version: string;
  /** A read-only server adds a line after the version. */
  readOnly: boolean;
  latency: LatencySummary;
  packetsReceived: number;
  packetsSent: number;
  connections: number;
  outstanding: number;
  zxid: number;
  mode: ServerMode;
  nodeCount: number;
  /** Leaders only. */
  proposalSizes?: ProposalSizes;
}

/** A client connection's session fields (present once the handshake succeeded). */
export interface ConnectionSessionSnapshot {
  sessionId: bigint;
  /** Last operation, ZooKeeper's 4-letter code (`GETD`, `CREA`, ...) or `NA`. */
  lastOp: string;
  /** When the connection was established, ms since the epoch. */
  established: number;
  /** Negotiated session timeout, ms. */
  timeout: number;
  /** Last non-negative xid replied to (-1: none). */
  lastCxid: number;
  /** zxid of the last reply (-1: none). */
  lastZxid: number;
  /** When the last reply was sent, ms. */
  lastResponseTime: number;
  lastLatency: number;
  minLatency: number;
  /** Integer ms, as ZooKeeper prints it in `cons`. */
  avgLatency: number;
  maxLatency: number;
}

/** One connection as `stat` and `cons` list it. */
export interface ConnectionSnapshot {
  remoteAddress: string;
  remotePort: number;
  /** Java NIO interest ops: 1 = reading, 0 = not reading (throttled, or this 4lw connection), +4 = output pending. */
  interestOps: number;
  /** Requests received and not yet answered. */
  queued: number;
  /** Packets received and sent on this connection. */
  received: number;
  sent: number;
  session?: ConnectionSessionSnapshot;
}

/** `wchs` numbers (the data-watch table, as ZooKeeper counts it). */
export interface WatchSummary {
  /** Connections holding at least one watch. */
  watchers: number;
  paths: number;
  total: number;
}

/** Watch listings for `wchc` / `wchp`, by session id of the watching connection. */
export interface WatchListing {
  byConnection: ReadonlyArray<{ sessionId: bigint; paths: readonly string[] }>;
  byPath: ReadonlyArray<{ path: string; sessionIds: readonly bigint[] }>;
}

/** The session part of `dump`: the leader's expiry buckets, or a learner's session list. */
export type SessionDump =
  | { kind: 'leader'; buckets: ReadonlyArray<{ expiresAt: number; sessions: readonly bigint[] }> }
  | { kind: 'learner'; sessions: ReadonlyArray<{ sessionId: bigint; timeout: number }> };

/** The connection part of `dump`: connections grouped by the time they expire if idle. */
export interface ConnectionExpiryDump {
  buckets: ReadonlyArray<{ expiresAt: number; connections: ReadonlyArray<{ remoteAddress: string; remotePort: number; sessionId: bigint }> }>;
}

/** Everything `dump` prints. */
export interface DumpSnapshot {
  sessions: SessionDump;
  ephemerals: ReadonlyArray<{ sessionId: bigint; paths: readonly string[] }>;
  connections: ConnectionExpiryDump;
}

/** `conf` (ZooKeeper's `ZooKeeperServer.dumpConf` and `QuorumPeer` additions). */
export interface ConfSnapshot {
  clientPort: number;
  secureClientPort?: number;
  dataDir: string;
  dataDirSize: number;
  dataLogDir: string;
  dataLogSize: number;
  tickTime: number;
  maxClientCnxns: number;
  minSessionTimeout: number;
  maxSessionTimeout: number;
  clientPortListenBacklog?: number;
  serverId: number;
  /** Present for a member of a quorum. */
  quorum?: {
    initLimit: number;
    syncLimit: number;
    electionAlg?: number;
    electionPort: number;
    quorumPort: number;
    /** 0 participant, 1 observer (`LearnerType`). */
    peerType: number;
    /** `server.N=host:quorumPort:electionPort:role[;clientHost:clientPort]` lines. */
    membership: readonly string[];
    /** The configuration version (hex, as ZooKeeper prints it). */
    version: string;
  };
}

/** Leader-only `mntr` values. */
export interface LeaderStats {
  learners: number;
  syncedFollowers: number;
  syncedNonVotingFollowers: number;
  syncedObservers: number;
  pendingSyncs: number;
  leaderUptimeMs: number;
  proposalSizes: ProposalSizes;
  proposalCount: number;
}

/** `mntr` values beyond `srvr`'s. */
export interface MonitorSnapshot {
  stats: ServerStatsSnapshot;
  /** e.g. `following - broadcast`. */
  peerState: string;
  ephemeralsCount: number;
  globalSessions: number;
  localSessions: number;
  watchCount: number;
  approximateDataSize: number;
  uptimeMs: number;
  quorumSize: number;
  openFileDescriptors?: number;
  maxFileDescriptors?: number;
  authFailed: number;
  lastClientResponseSize: number;
  minClientResponseSize: number;
  maxClientResponseSize: number;
  bytesReceived: number;
  responseBytes: number;
  connectionRequests: number;
  connectionsRejected: number;
  unsuccessfulHandshakes: number;
  throttledOps: number;
  largeRequestsRejected: number;
  leader?: LeaderStats;
}

// ---------------------------------------------------------------- formatting helpers

/** Java's `Long.toHexString`: two's complement for negatives, no padding. */
export function hex64(value: bigint | number): string {
  const big = typeof value === 'bigint' ? value : BigInt(Math.trunc(value));
  return BigInt.asUintN(64, big).toString(16);
}

/** A double as Java's `Double.toString` prints small values: `6.2`, `0.0`, `2.6667`. */
export function javaDouble(value: number): string {
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : value < 0 ? '-Infinity' : 'NaN';
  const rounded = Math.round(value * 10_000) / 10_000;
  return Number.isInteger(rounded) ? `${rounded}.0` : String(rounded);
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number): string => String(n).padStart(2, '0');

/** Java's `Date.toString()` in UTC: `Sun Nov 22 05:04:21 UTC 2026`. */
export function javaDate(ms: number): string {
  const d = new Date(ms);
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}

/** `3.8.0-zoostate-<version>, built on <yyyy-MM-dd HH:mm> UTC` (tools parse the leading x.y.z). */
export function zooKeeperVersion(packageVersion: string, builtOn: number): string {
  const d = new Date(builtOn);
  return `3.8.0-zoostate-${packageVersion}, built on ${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())} UTC`;
}

/** ZooKeeper's 4-letter name of an opcode for `cons`'s `lop=` (FinalRequestProcessor; `NA` for others). */
export function lastOpName(opcode: number): string {
  return opName(opcode);
}

// ---------------------------------------------------------------- formats

/** `ServerStats.toString()` plus `Node count` and the leader's proposal sizes (srvr, and stat after the client list). */
function statsBody(s: ServerStatsSnapshot): string {
  let out =
    `Latency min/avg/max: ${s.latency.min}/${javaDouble(s.latency.avg)}/${s.latency.max}\n` +
    `Received: ${s.packetsReceived}\n` +
    `Sent: ${s.packetsSent}\n` +
    `Connections: ${s.connections}\n` +
    `Outstanding: ${s.outstanding}\n` +
    `Zxid: 0x${hex64(s.zxid)}\n` +
    `Mode: ${s.mode}\n` +
    `Node count: ${s.nodeCount}\n`;
  if (s.mode === 'leader' && s.proposalSizes !== undefined) {
    out += `Proposal sizes last/min/max: ${s.proposalSizes.last}/${s.proposalSizes.min}/${s.proposalSizes.max}\n`;
  }
  return out;
}

function versionLines(s: ServerStatsSnapshot): string {
  return `Zookeeper version: ${s.version}\n` + (s.readOnly ? 'READ-ONLY mode; serving only read-only clients\n' : '');
}

/** `srvr`. */
export function formatSrvr(s: ServerStatsSnapshot): string {
  return versionLines(s) + statsBody(s);
}

/** One connection as `ServerCnxn.dumpConnectionInfo` prints it (no newline). */
export function formatConnection(c: ConnectionSnapshot, brief: boolean): string {
  let out = ` /${c.remoteAddress}:${c.remotePort}[${c.interestOps}](queued=${c.queued},recved=${c.received},sent=${c.sent}`;
  const s = c.session;
  if (!brief && s !== undefined && s.sessionId !== 0n) {
    out +=
      `,sid=0x${hex64(s.sessionId)},lop=${s.lastOp},est=${s.established},to=${s.timeout}` +
      `,lcxid=0x${hex64(s.lastCxid)}` +
      `,lzxid=0x${hex64(s.lastZxid)},lresp=${s.lastResponseTime},llat=${s.lastLatency},minlat=${s.minLatency},avglat=${s.avgLatency},maxlat=${s.maxLatency}`;
  }
  return out + ')';
}

/** `stat`. */
export function formatStat(s: ServerStatsSnapshot, connections: readonly ConnectionSnapshot[]): string {
  let out = versionLines(s) + 'Clients:\n';
  for (const c of connections) out += formatConnection(c, true) + '\n';
  return out + '\n' + statsBody(s);
}

/** `cons`. */
export function formatCons(connections: readonly ConnectionSnapshot[]): string {
  let out = '';
  for (const c of connections) out += formatConnection(c, false) + '\n';
  return out + '\n';
}

/** `wchs`. */
export function formatWchs(summary: WatchSummary): string {
  return `${summary.watchers} connections watching ${summary.paths} paths\nTotal watches:${summary.total}\n`;
}

/** `wchc`: each watching session and its paths. */
export function formatWchc(listing: WatchListing): string {
  let out = '';
  for (const entry of listing.byConnection) {
    out += `0x${hex64(entry.sessionId)}\n`;
    for (const path of entry.paths) out += `\t${path}\n`;
  }
  return out + '\n';
}

/** `wchp`: each watched path and its sessions. */
export function formatWchp(listing: WatchListing): string {
  let out = '';
  for (const entry of listing.byPath) {
    out += `${entry.path}\n`;
    for (const id of entry.sessionIds) out += `\t0x${hex64(id)}\n`;
  }
  return out + '\n';
}

/** `dump`. */
export function formatDump(d: DumpSnapshot): string {
  let out = 'SessionTracker dump:\n';
  if (d.sessions.kind === 'leader') {
    const buckets = [...d.sessions.buckets].sort((a, b) => a.expiresAt - b.expiresAt);
    const total = buckets.reduce((n, b) => n + b.sessions.length, 0);
    out += `Session Sets (${buckets.length})/(${total}):\n`;
    for (const b of buckets) {
      out += `${b.sessions.length} expire at ${javaDate(b.expiresAt)}:\n`;
      for (const id of b.sessions) out += `\t0x${hex64(id)}\n`;
    }
  } else {
    out += `Global Sessions(${d.sessions.sessions.length}):\n`;
    for (const s of d.sessions.sessions) out += `0x${hex64(s.sessionId)}\t${s.timeout}ms\n`;
  }
  out += 'ephemeral nodes dump:\n';
  out += `Sessions with Ephemerals (${d.ephemerals.length}):\n`;
  for (const e of d.ephemerals) {
    out += `0x${hex64(e.sessionId)}:\n`;
    for (const path of e.paths) out += `\t${path}\n`;
  }
  out += 'Connections dump:\n';
  const buckets = [...d.connections.buckets].sort((a, b) => a.expiresAt - b.expiresAt);
  const total = buckets.reduce((n, b) => n + b.connections.length, 0);
  out += `Connections Sets (${buckets.length})/(${total}):\n`;
  for (const b of buckets) {
    out += `${b.connections.length} expire at ${javaDate(b.expiresAt)}:\n`;
    for (const c of b.connections) out += `\tip: /${c.remoteAddress}:${c.remotePort} sessionId: 0x${hex64(c.sessionId)}\n`;
  }
  return out;
}

/** `conf` (a quorum member's ends with the membership and no final newline, as ZooKeeper's does). */
export function formatConf(c: ConfSnapshot): string {
  let out =
    `clientPort=${c.clientPort}\n` +
    `secureClientPort=${c.secureClientPort ?? -1}\n` +
    `dataDir=${c.dataDir}\n` +
    `dataDirSize=${c.dataDirSize}\n` +
    `dataLogDir=${c.dataLogDir}\n` +
    `dataLogSize=${c.dataLogSize}\n` +
    `tickTime=${c.tickTime}\n` +
    `maxClientCnxns=${c.maxClientCnxns}\n` +
    `minSessionTimeout=${c.minSessionTimeout}\n` +
    `maxSessionTimeout=${c.maxSessionTimeout}\n` +
    `clientPortListenBacklog=${c.clientPortListenBacklog ?? -1}\n` +
    `serverId=${c.serverId}\n`;
  const q = c.quorum;
  if (q !== undefined) {
    out +=
      `initLimit=${q.initLimit}\n` +
      `syncLimit=${q.syncLimit}\n` +
      `electionAlg=${q.electionAlg ?? 3}\n` +
      `electionPort=${q.electionPort}\n` +
      `quorumPort=${q.quorumPort}\n` +
      `peerType=${q.peerType}\n` +
      'membership: \n' +
      q.membership.map((line) => `${line}\n`).join('') +
      `version=${q.version}`;
  }
  return out;
}

/** `envi`. */
export function formatEnvi(entries: ReadonlyArray<readonly [string, string]>): string {
  return 'Environment:\n' + entries.map(([k, v]) => `${k}=${v}\n`).join('');
}

/** `mntr`: `zk_<key>\t<value>` lines, ZooKeeper's keys (monitoring tools read them by name). */
export function formatMntr(m: MonitorSnapshot): string {
  const s = m.stats;
  // A read-only server is no quorum member while it serves: no peer state, no quorum size.
  const quorumMember = s.mode !== 'read-only';
  const lines: Array<[string, string | number]> = [
    ['version', s.version],
    ['server_state', s.mode],
    ...(quorumMember ? [['peer_state', m.peerState] as [string, string]] : []),
    ['ephemerals_count', m.ephemeralsCount],
    ['num_alive_connections', s.connections],
    ['avg_latency', javaDouble(s.latency.avg)],
    ['outstanding_requests', s.outstanding],
    ['znode_count', s.nodeCount],
    ['global_sessions', m.globalSessions],
    ['non_mtls_remote_conn_count', 0],
    ['last_client_response_size', m.lastClientResponseSize],
    ['packets_sent', s.packetsSent],
    ['packets_received', s.packetsReceived],
    ['max_client_response_size', m.maxClientResponseSize],
    ['connection_drop_probability', '0.0'],
    ['watch_count', m.watchCount],
    ['auth_failed_count', m.authFailed],
    ['min_latency', s.latency.min],
  ];
  if (m.maxFileDescriptors !== undefined) lines.push(['max_file_descriptor_count', m.maxFileDescriptors]);
  lines.push(['approximate_data_size', m.approximateDataSize]);
  if (m.openFileDescriptors !== undefined) lines.push(['open_file_descriptor_count', m.openFileDescriptors]);
  lines.push(
    ['local_sessions', m.localSessions],
    ['uptime', m.uptimeMs],
    ['max_latency', s.latency.max],
    ['outstanding_tls_handshake', 0],
    ['min_client_response_size', m.minClientResponseSize],
    ['non_mtls_local_conn_count', 0],
    ...(quorumMember ? [['quorum_size', m.quorumSize] as [string, number]] : []),
    ['throttled_ops', m.throttledOps],
    ['large_requests_rejected', m.largeRequestsRejected],
    ['connection_rejected', m.connectionsRejected],
    ['unsuccessful_handshake', m.unsuccessfulHandshakes],
    ['bytes_received_count', m.bytesReceived],
    ['connection_request_count', m.connectionRequests],
    ['response_bytes', m.responseBytes],
  );
  const l = m.leader;
  if (l !== undefined) {
    lines.push(
      ['learners', l.learners],
      ['synced_followers', l.syncedFollowers],
      ['synced_non_voting_followers', l.syncedNonVotingFollowers],
      ['synced_observers', l.syncedObservers],
      ['pending_syncs', l.pendingSyncs],
      ['leader_uptime', l.leaderUptimeMs],
      ['last_proposal_size', l.proposalSizes.last],
      ['min_proposal_size', l.proposalSizes.min],
      ['max_proposal_size', l.proposalSizes.max],
      ['proposal_count', l.proposalCount],
    );
  }
  return lines.map(([k, v]) => `zk_${k}\t${v}\n`).join('');
}

/** `isro`: `ro`, `rw`, or `null` when not serving (no newline). */
export function formatIsro(serving: boolean, readOnly: boolean): string {
  return !serving ? 'null' : readOnly ? 'ro' : 'rw';
}

/** `dirs`. */
export function formatDirs(dataDirSize: number, logDirSize: number): string {
  return `datadir_size: ${dataDirSize}\nlogdir_size: ${logDirSize}\n`;
}

// ---------------------------------------------------------------- execution

/** What the commands read and reset: the client port and the server behind it. */
export interface FourLetterWordContext {
  /** True while the server answers clients. */
  serving(): boolean;
  /** True for a read-only server. */
  readOnly(): boolean;
  /** srvr/stat numbers. */
  stats(): ServerStatsSnapshot;
  /** Every connection of the port, this one included. */
  connections(): ConnectionSnapshot[];
  watchSummary(): WatchSummary;
  watchListing(): WatchListing;
  dump(): DumpSnapshot;
  conf(): ConfSnapshot;
  environment(): Array<readonly [string, string]>;
  monitor(): MonitorSnapshot;
  /** Data and log directory sizes, bytes. */
  dirs(): { dataDirSize: number; logDirSize: number };
  /** `srst`. */
  resetServerStats(): void;
  /** `crst`. */
  resetConnectionStats(): void;
  /** `gtmk`/`stmk`. */
  traceMask: bigint;
}

/** Is `word` enabled by `whitelist`? */
export function isWhitelisted(word: string, whitelist: FourLetterWordWhitelist): boolean {
  return whitelist === '*' || whitelist.includes(word);
}

/**
 * Parse `4lw.commands.whitelist` (`*`, or comma-separated words; unknown words are
 * ignored as ZooKeeper ignores them).
 */
export function parseWhitelist(value: string | undefined): FourLetterWordWhitelist {
  if (value === undefined || value.trim() === '*') return '*';
  const words = value.split(',').map((w) => w.trim());
  if (words.includes('*')) return '*';
  return words.filter((w) => FOUR_LETTER_WORDS.includes(w));
}

/**
 * Run one four-letter word and return the text to write. `argument` is the 8 raw bytes
 * `stmk` reads after its code. Unknown words are never passed here (they are frame
 * lengths to the caller).
 */
export function runFourLetterWord(word: string, context: FourLetterWordContext, whitelist: FourLetterWordWhitelist, argument?: Uint8Array): string {
  if (!isWhitelisted(word, whitelist)) return `${word} is not executed because it is not in the whitelist.\n`;
  const serving = context.serving();
  switch (word) {
    case 'ruok':
      return 'imok';
    case 'isro':
      return formatIsro(serving, context.readOnly());
    case 'envi':
      return formatEnvi(context.environment());
    case 'gtmk':
      return String(context.traceMask);
    case 'stmk': {
      if (argument !== undefined && argument.length >= 8) {
        context.traceMask = Buffer.from(argument.buffer, argument.byteOffset, 8).readBigInt64BE(0);
      }
      return String(context.traceMask);
    }
    default:
      break;
  }
  if (!serving) return ZK_NOT_SERVING;
  switch (word) {
    case 'srvr':
      return formatSrvr(context.stats());
    case 'stat':
      return formatStat(context.stats(), context.connections());
    case 'cons':
      return formatCons(context.connections());
    case 'crst':
      context.resetConnectionStats();
      return 'Connection stats reset.\n';
    case 'srst':
      context.resetServerStats();
      return 'Server stats reset.\n';
    case 'conf':
      return formatConf(context.conf());
    case 'mntr':
      return formatMntr(context.monitor());
    case 'wchs':
      return formatWchs(context.watchSummary());
    case 'wchc':
      return formatWchc(context.watchListing());
    case 'wchp':
      return formatWchp(context.watchListing());
    case 'dump':
      return formatDump(context.dump());
    case 'dirs': {
      const d = context.dirs();
      return formatDirs(d.dataDirSize, d.logDirSize);
    }
    case 'hash':
      return '';
    default:
      return '';
  }
}
