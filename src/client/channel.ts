/**
 * The boundary between the client's session layer and a connection to one server.
 *
 * A `ClientChannel` carries typed records, never bytes: the wire channel
 * (`wire-channel.ts`) frames and encodes them for a TCP socket; an in-process channel
 * can hand the objects to an embedded server directly. The session layer above is the
 * same for both.
 *
 * Contract for implementations:
 * - `sendConnect` is called once, first; `send` only after `connectResponse` arrived.
 * - Handlers are called asynchronously (never from inside `sendConnect`/`send`/`close`),
 *   in the order the server produced the messages.
 * - `reply` carries the decoded success body (`err == 0`) of the request that had this
 *   xid; for error replies and header-only opcodes the body is undefined. Pings (xid -2)
 *   and auth replies (xid -4) come through `reply` too.
 * - `closed` is called at most once, when the connection ends for any reason other than
 *   the session calling `close()` (after which no handler is called at all).
 */
import type { AnyResponse } from '../protocol/codec-responses.js';
import type { ClientRequest, ConnectRequest, ConnectResponse, ReplyHeader, WatcherEvent } from '../protocol/records.js';
import type { HostAddress } from './connect-string.js';

/** A decoded reply body (undefined for header-only replies). */
export type ClientResponse = AnyResponse | undefined;

/** What a channel reports to the session layer. */
export interface ChannelHandlers {
  /** The server answered the handshake. */
  connectResponse(response: ConnectResponse): void;
  /** A reply (xid > 0, or -2 ping, or -4 auth). */
  reply(header: ReplyHeader, response: ClientResponse): void;
  /** A watch notification (xid -1), path as the server sent it. */
  notification(event: WatcherEvent): void;
  /** The connection ended (refused, reset, closed by the server, undecodable bytes). */
  closed(error?: Error): void;
}

/** One connection to one server. */
export interface ClientChannel {
  /** Send the handshake (the first message). */
  sendConnect(request: ConnectRequest): void;
  /** Send a request with its xid (pings use -2, auth -4). */
  send(xid: number, request: ClientRequest): void;
  /** Close the connection; no handler is called afterwards. Idempotent. */
  close(): void;
}

/** Opens a channel to `address`; the attempt's outcome is reported through `handlers`. */
export type ChannelFactory = (address: HostAddress, handlers: ChannelHandlers) => ClientChannel;
