/**
 * Request statistics of a server's client connections, in the shape ZooKeeper's
 * four-letter words report them (`ServerStats`, `ServerCnxn` stats; reference §15):
 * plain counters updated on the request path, read through getters. Latencies are in
 * ms of the server's injected clock, measured from receiving a request to its reply.
 */
import { OpCode } from '../protocol/constants.js';

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

/** Per-server counters (`srvr`, `stat`, `mntr`). */
export class ServerStats {
  /** Frames received from clients (handshakes included). */
  packetsReceived = 0;
  /** Frames sent to clients (replies, notifications, handshake answers). */
  packetsSent = 0;
  /** Auth packets rejected (`zk_auth_failed_count`). */
  authFailed = 0;
  /** Requests dropped because their session was closing or gone (§9.5). */
  dropped = 0;
  /** Request latencies. */
  readonly latency = new LatencyStats();

  /** Reset the counters (`srst`). */
  reset(): void {
    this.packetsReceived = 0;
    this.packetsSent = 0;
    this.authFailed = 0;
    this.dropped = 0;
    this.latency.reset();
  }
}

/** A read-only view of one connection's statistics (`cons`). */
export interface ConnectionStats {
  /** Server-local connection number. */
  readonly id: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
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
  /** xid of the last answered request (-1 before any). */
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
  [OpCode.whoAmI, 'WHOA'],
  [OpCode.auth, 'AUTH'],
  [OpCode.sasl, 'SASL'],
]);

/** The `lastOp` name of an opcode (`NA` for anything else). */
export function opName(opcode: number): string {
  return OP_NAMES.get(opcode) ?? 'NA';
}
