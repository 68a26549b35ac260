/**
 * The boundary between a server's client-facing front-ends and its request pipeline.
 *
 * A front-end (the ZooKeeper TCP port, or the in-process channel an embedded client
 * uses) owns the bytes or objects of one client connection. The pipeline
 * (`ClientService`) owns sessions, ordering, watches and replies. They meet here, at the
 * level of typed records, so both front-ends share one pipeline and behave identically:
 *
 *   front-end --connect/request/closed--> ServerConnection (pipeline side)
 *   front-end <--connectResponse/reply/notification/close-- ConnectionSink (front-end side)
 *
 * Ordering contract (what makes ZooKeeper's guarantees hold end to end):
 * - The front-end calls `request` in the order the client sent the frames.
 * - The pipeline calls the sink in the order the client must observe: replies in request
 *   order (auth replies excepted, §5.1), and every watch notification caused by a write
 *   before that write's reply and before any later reply on this connection (§13.2).
 * - Sink calls may be made synchronously from inside pipeline processing; a front-end
 *   that needs asynchrony (the in-process channel) queues them itself.
 * - After `sink.close` the pipeline calls the sink no more and ignores the connection's
 *   later calls; the front-end need not call `closed()` for it (it may).
 *
 * Additive changes by the session layer: `ServerConnection.invalid`, `ConnectionAcceptor`.
 */
import type { ClientRequest, ConnectRequest, ConnectResponse, ReplyHeader, WatcherEvent } from '../protocol/records.js';

/** Facts about a client connection the pipeline needs (ACLs, four-letter words). */
export interface ConnectionInfo {
  /** Remote address as `ipIdOf` expects it (e.g. `127.0.0.1`), or `inproc`. */
  remoteAddress: string;
  /** Remote port, for `cons`/`stat` output (0 for in-process). */
  remotePort: number;
}

/** Implemented by a front-end: how the pipeline talks back to one client connection. */
export interface ConnectionSink {
  /** The handshake answer. A response with `timeOut` 0 (expired/invalid) is followed by `close`. */
  connectResponse(response: ConnectResponse): void;
  /**
   * A reply. `opcode` is the request's type (how to encode the body); `response` is the
   * body record, undefined when `header.err != 0` or the opcode has none.
   */
  reply(header: ReplyHeader, opcode: number, response?: unknown): void;
  /** A watch notification (sent with xid -1, zxid -1 on the wire). */
  notification(event: WatcherEvent): void;
  /** The server ends the connection (expired, moved, closeSession done, not serving, protocol violation). */
  close(reason: string): void;
}

/** Implemented by the pipeline: one client connection as the server sees it. */
export interface ServerConnection {
  /** The first frame: a ConnectRequest. Called once. */
  connect(request: ConnectRequest): void;
  /** Every later frame, decoded, with its xid. */
  request(xid: number, request: ClientRequest): void;
  /** The client's side went away (socket closed); drop watches, keep the session. */
  closed(): void;
  /**
   * (Added by the session layer.) A frame the front-end could not decode into a
   * request: `err` -5 (MarshallingError: the body did not parse; the connection stays
   * open) or -6 (Unimplemented: an opcode clients may not send; the connection is closed
   * after the reply). The error reply goes out in order with the other replies.
   */
  invalid(xid: number, opcode: number, err: number): void;
  /** Requests received and not yet answered (front-ends throttle reads on it). */
  readonly outstanding: number;
  /** The session, once the handshake succeeded (0n before). */
  readonly sessionId: bigint;
}

/**
 * (Added by the session layer.) How a front-end opens a connection: `ClientService`
 * implements it, one per server. `accept` never fails; a server that does not serve
 * closes the connection when the ConnectRequest arrives (§4.2 step 1).
 */
export interface ConnectionAcceptor {
  accept(sink: ConnectionSink, info: ConnectionInfo): ServerConnection;
}
