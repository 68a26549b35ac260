/**
 * The client port's resource limits, with ZooKeeper's names and defaults where ZooKeeper
 * has the limit. Every limit affects only the connection (or remote address) that hits
 * it; the server keeps serving everyone else.
 *
 * | limit | ZooKeeper name | default | on hitting it |
 * |---|---|---|---|
 * | `maxBuffer` | `jute.maxbuffer` | 0xfffff | a frame length < 0 or > maxBuffer closes the connection |
 * | `maxClientCnxns` | `maxClientCnxns` | 60 | a new connection from an address already holding that many is closed at once (0 = unlimited) |
 * | `maxOutstandingPerConnection` | — | 1000 | stop reading that socket until replies bring it below |
 * | `globalOutstandingLimit` | `zookeeper.globalOutstandingLimit` | 1000 | stop reading every socket that sends more until the server is below |
 * | `handshakeTimeoutMs` | `zookeeper.nio.sessionlessCnxnTimeout` | 10 000 | a connection without a completed handshake (or four-letter word) is closed |
 * | `maxPendingOutputBytes` | — | 4 MiB | stop reading a socket whose client does not read its replies, until they drain |
 * | `closeGraceMs` | — | 2 000 | after the server ends a connection, the socket is destroyed if the client has not closed it |
 */
import { DEFAULT_MAX_BUFFER } from '../protocol/constants.js';

/** Limits of a client port (see the module comment). */
export interface ClientPortLimits {
  /** Largest frame accepted, bytes (`jute.maxbuffer`). */
  maxBuffer: number;
  /** Connections per remote IP address; 0 = unlimited (`maxClientCnxns`). */
  maxClientCnxns: number;
  /** Requests in flight per connection before its socket stops being read. */
  maxOutstandingPerConnection: number;
  /** Requests in flight on the whole port before sockets stop being read. */
  globalOutstandingLimit: number;
  /** Time from accept to a completed handshake or four-letter word, ms. */
  handshakeTimeoutMs: number;
  /** Reply bytes queued on a socket before it stops being read, bytes. */
  maxPendingOutputBytes: number;
  /** Time the server waits for a client to close after the server ended the connection, ms. */
  closeGraceMs: number;
}

/** The defaults (ZooKeeper's where ZooKeeper has the limit). */
export const DEFAULT_CLIENT_PORT_LIMITS: Readonly<ClientPortLimits> = Object.freeze({
  maxBuffer: DEFAULT_MAX_BUFFER,
  maxClientCnxns: 60,
  maxOutstandingPerConnection: 1000,
  globalOutstandingLimit: 1000,
  handshakeTimeoutMs: 10_000,
  maxPendingOutputBytes: 4 * 1024 * 1024,
  closeGraceMs: 2_000,
});

/** Fill in defaults and check every value (throws RangeError naming the bad one). */
export function resolveLimits(partial: Partial<ClientPortLimits> = {}): ClientPortLimits {
  const limits: ClientPortLimits = { ...DEFAULT_CLIENT_PORT_LIMITS };
  for (const key of Object.keys(DEFAULT_CLIENT_PORT_LIMITS) as (keyof ClientPortLimits)[]) {
    const value = partial[key];
    if (value === undefined) continue;
    const min = key === 'maxClientCnxns' || key === 'closeGraceMs' ? 0 : 1;
    if (!Number.isInteger(value) || value < min) throw new RangeError(`client port limit ${key} must be an integer >= ${min}, got ${value}`);
    limits[key] = value;
  }
  return limits;
}
