/**
 * One server's client statistics, in the shape ZooKeeper's four-letter words report
 * them (`ServerStats`, `ServerCnxn` stats, the leader's proposal sizes; reference §15).
 *
 * There is one set per server, owned by its `ClientService`: the pipeline counts every
 * packet, reply and latency of every connection it serves, whichever front-end the
 * connection came through (the TCP client port or the in-process channel). A front-end
 * adds only what the pipeline cannot see into the same `ServerStats` — bytes on the
 * wire, four-letter-word packets, connections refused before a handshake, throttling —
 * and may tell `cons` about its socket through `FrontEndConnection`. Latencies are in ms
 * of the server's injected clock, from receiving a request to its reply.
 */
import { OpCode } from '../protocol/constants.js';
import type { ConnectionSnapshot } from './four-letter-words.js';

/** min/avg/max latency and the count behind the average. */
export class LatencyStats {
  /** Requests answered. */
  count = 0;
  /** Sum of their latencies, ms. */
  total = 0;
  private minValue = Number.POSITIVE_INFINITY;
  /** Largest latency, ms (0 before any request). */
  max = 0;

  /** Record one answered request. */
  add(latency: number): void {
    this.count++;
    this.total += latency;
    if (latency < this.minValue) this.minValue = latency;
    if (latency > this.max) this.max = latency;
  }

  /** Smallest latency, ms (0 before any request, as ZooKeeper prints it). */
  get min(): number {
    return this.count === 0 ? 0 : this.minValue;
  }

  /** Average latency, ms (0 before any request). */
  get avg(): number {
    return this.count === 0 ? 0 : this.total / this.count;
  }

  /** Start over (`srst`, `crst`). */
  reset(): void {
    this.count = 0;
    this.total = 0;
    this.minValue = Number.POSITIVE_INFINITY;
    this.max = 0;
  }
}

/** last/min/max of a size in bytes, -1 before the first (ZooKeeper's `BufferStats`). */
export class SizeStats {
  /** The last size recorded (-1: none). */
  last = -1;
  /** The smallest (-1: none). */
  min = -1;
  /** The largest (-1: none). */
  max = -1;
  /** Sizes recorded. */
  count = 0;
  /** Their sum. */
  total = 0;

  /** Record one size. */
  add(bytes: number): void {
    this.last = bytes;
    if (this.min < 0 || bytes < this.min) this.min = bytes;
    if (bytes > this.max) this.max = bytes;
    this.count++;
    this.total += bytes;
  }

  /** Start over (`srst`). */
  reset(): void {
    this.last = -1;
    this.min = -1;
    this.max = -1;
    this.count = 0;
    this.total = 0;
  }
}

/** Per-server counters (`srvr`, `stat`, `mntr`), reset by `srst`. */
export class ServerStats {
  /** Packets received from clients (handshakes and four-letter words included). */
  packetsReceived = 0;
  /** Packets sent to clients (replies, notifications, handshake answers, four-letter-word answers). */
  packetsSent = 0;
  /** Auth packets rejected (`zk_auth_failed_count`). */
  authFailed = 0;
  /** Requests dropped because their session was closing or gone (§9.5). */
  dropped = 0;
  /** Request latencies. */
  readonly latency = new LatencyStats();
  /** Bytes read from client sockets (`zk_bytes_received_count`; TCP only). */
  bytesReceived = 0;
  /** Sizes of the frames written to client sockets (`zk_*_client_response_size`, `zk_response_bytes`; TCP only). */
  readonly responseSizes = new SizeStats();
  /** ConnectRequests received (`zk_connection_request_count`). */
  connectionRequests = 0;
  /** Connections refused for `maxClientCnxns` (`zk_connection_rejected`). */
  connectionsRejected = 0;
  /** Handshakes that failed or never came (`zk_unsuccessful_handshake`). */
  unsuccessfulHandshakes = 0;
  /** Times a connection stopped being read because of a limit (`zk_throttled_ops`). */
  throttledOps = 0;
  /** Requests refused as too large (`zk_large_requests_rejected`). */
  largeRequestsRejected = 0;
  /** Serialized sizes of the transactions this server proposed as leader (`Proposal sizes`, `zk_*_proposal_size`, `zk_proposal_count`). */
  readonly proposalSizes = new SizeStats();

  /** Reset the counters (`srst`). */
  reset(): void {
    this.packetsReceived = 0;
    this.packetsSent = 0;
    this.authFailed = 0;
    this.dropped = 0;
    this.latency.reset();
    this.bytesReceived = 0;
    this.responseSizes.reset();
    this.connectionRequests = 0;
    this.connectionsRejected = 0;
    this.unsuccessfulHandshakes = 0;
    this.throttledOps = 0;
    this.largeRequestsRejected = 0;
    this.proposalSizes.reset();
  }
}

/**
 * What a front-end connection can tell `cons`/`stat` beyond the pipeline's numbers. A
 * `ConnectionSink` that also implements this (the TCP port's connections do) is listed
 * with its socket's address; one that does not (the in-process channel) as
 * `/inproc:<connection id>`.
 */
export interface FrontEndConnection {
  /** Java NIO interest ops as `cons` prints them: 1 while reading, +4 while output is pending. */
  interestOps(): number;
}

/** True if `sink` implements `FrontEndConnection`. */
export function isFrontEndConnection(sink: object): sink is FrontEndConnection {
  return typeof (sink as Partial<FrontEndConnection>).interestOps === 'function';
}

/** A read-only view of one connection's statistics (`cons`, `stat`). */
export interface ConnectionStats {
  /** Server-local connection number. */
  readonly id: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** The socket side, for a front-end that reports one (undefined: in-process). */
  readonly frontEnd: FrontEndConnection | undefined;
  /** The session (0n before the handshake completed). */
  readonly sessionId: bigint;
  /** Negotiated session timeout, ms (0 before the handshake). */
  readonly sessionTimeout: number;
  readonly packetsReceived: number;
  readonly packetsSent: number;
  /** Requests received and not answered yet. */
  readonly outstanding: number;
  /** Clock time the connection was opened, ms. */
  readonly established: number;
  /** ZooKeeper's short name of the last answered operation (`GETD`, `PING`, ...; `NA` before any). */
  readonly lastOp: string;
  /** xid of the last answered request (-1 before any; pings and notifications do not count). */
  readonly lastCxid: number;
  /** zxid of the last reply (-1 before any). */
  readonly lastZxid: number;
  /** Clock time of the last reply, ms (0 before any). */
  readonly lastResponseTime: number;
  /** Latency of the last answered request, ms. */
  readonly lastLatency: number;
  readonly minLatency: number;
  readonly avgLatency: number;
  readonly maxLatency: number;
  /** Clock time this connection expires if it stays silent (0: not tracked yet). */
  readonly expiresAt: number;
}

/** The host part `cons` prints for in-process connections (`/inproc:<connection id>`). */
export const IN_PROCESS_ADDRESS = 'inproc';

/** One pipeline connection as `stat` and `cons` list it. */
export function connectionSnapshot(c: ConnectionStats): ConnectionSnapshot {
  const frontEnd = c.frontEnd;
  const snapshot: ConnectionSnapshot = {
    remoteAddress: frontEnd !== undefined ? c.remoteAddress : IN_PROCESS_ADDRESS,
    remotePort: frontEnd !== undefined ? c.remotePort : c.id,
    interestOps: frontEnd !== undefined ? frontEnd.interestOps() : 1,
    queued: c.outstanding,
    received: c.packetsReceived,
    sent: c.packetsSent,
  };
  if (c.sessionId !== 0n) {
    snapshot.session = {
      sessionId: c.sessionId,
      lastOp: c.lastOp,
      established: c.established,
      timeout: c.sessionTimeout,
      lastCxid: c.lastCxid,
      lastZxid: c.lastZxid,
      lastResponseTime: c.lastResponseTime,
      lastLatency: c.lastLatency,
      minLatency: c.minLatency,
      avgLatency: Math.trunc(c.avgLatency),
      maxLatency: c.maxLatency,
    };
  }
  return snapshot;
}

/** ZooKeeper's `lastOp` names (`FinalRequestProcessor`), by opcode. */
const OP_NAMES = new Map<number, string>([
  [OpCode.ping, 'PING'],
  [OpCode.createSession, 'SESS'],
  [OpCode.multi, 'MULT'],
  [OpCode.multiRead, 'MLTR'],
  [OpCode.create, 'CREA'],
  [OpCode.create2, 'CREA'],
  [OpCode.createTTL, 'CREA'],
  [OpCode.createContainer, 'CREA'],
  [OpCode.delete, 'DELE'],
  [OpCode.deleteContainer, 'DELE'],
  [OpCode.setData, 'SETD'],
  [OpCode.reconfig, 'RECO'],
  [OpCode.setACL, 'SETA'],
  [OpCode.closeSession, 'CLOS'],
  [OpCode.sync, 'SYNC'],
  [OpCode.check, 'CHEC'],
  [OpCode.exists, 'EXIS'],
  [OpCode.getData, 'GETD'],
  [OpCode.setWatches, 'SETW'],
  [OpCode.setWatches2, 'STW2'],
  [OpCode.addWatch, 'ADDW'],
  [OpCode.getACL, 'GETA'],
  [OpCode.getChildren, 'GETC'],
  [OpCode.getChildren2, 'GETC'],
  [OpCode.getAllChildrenNumber, 'GETACN'],
  [OpCode.checkWatches, 'CHKW'],
  [OpCode.removeWatches, 'REMW'],
  [OpCode.getEphemerals, 'GETE'],
  [OpCode.whoAmI, 'HOMI'],
]);

/** The `lastOp` name of an opcode (`NA` for anything else; auth and sasl never set it). */
export function opName(opcode: number): string {
  return OP_NAMES.get(opcode) ?? 'NA';
}
