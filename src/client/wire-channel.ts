/**
 * A `ClientChannel` over TCP speaking ZooKeeper's client wire protocol (reference §2–§5):
 * length-prefixed frames; ConnectRequest/ConnectResponse first (with the trailing
 * readOnly byte); then RequestHeader+body out, ReplyHeader+body in, notifications with
 * xid -1. Reply bodies are decoded by the opcode of the request that had the same xid.
 *
 * Requests written in the same tick are coalesced into one socket write.
 */
import { connect, type Socket } from 'node:net';
import { decodeConnectResponse, encodeConnectRequest, readReplyHeader, readWatcherEvent } from '../protocol/codec-records.js';
import { writeRequest } from '../protocol/codec-requests.js';
import { decodeResponse } from '../protocol/codec-responses.js';
import { DEFAULT_MAX_BUFFER, Xid } from '../protocol/constants.js';
import { FrameDecoder } from '../protocol/frame.js';
import { JuteReader, JuteWriter } from '../protocol/jute.js';
import type { ClientRequest, ConnectRequest, ConnectResponse, ReplyHeader, WatcherEvent } from '../protocol/records.js';
import type { ChannelFactory, ChannelHandlers, ClientChannel, ClientResponse } from './channel.js';
import type { HostAddress } from './connect-string.js';

/** Options of the wire channel. */
export interface WireChannelOptions {
  /** Largest reply frame accepted (jute.maxbuffer); default 0xfffff. */
  maxBuffer?: number;
}

/** A factory of TCP channels for `ClientOptions.channelFactory`. */
export function wireChannelFactory(options: WireChannelOptions = {}): ChannelFactory {
  return (address, handlers) => new WireChannel(address, handlers, options);
}

type Decoded =
  | { kind: 'connect'; response: ConnectResponse }
  | { kind: 'reply'; header: ReplyHeader; response: ClientResponse }
  | { kind: 'notification'; event: WatcherEvent };

/** One TCP connection to one server. */
export class WireChannel implements ClientChannel {
  private readonly socket: Socket | undefined;
  private readonly decoder: FrameDecoder;
  private readonly maxBuffer: number;
  private readonly handlers: ChannelHandlers;
  /** Opcode of each request in flight, to decode its reply. */
  private readonly opcodes = new Map<number, number>();
  private out = new JuteWriter(1024);
  private flushScheduled = false;
  private handshaken = false;
  private done = false;

  constructor(address: HostAddress, handlers: ChannelHandlers, options: WireChannelOptions = {}) {
    this.handlers = handlers;
    this.maxBuffer = options.maxBuffer ?? DEFAULT_MAX_BUFFER;
    this.decoder = new FrameDecoder({ maxBuffer: this.maxBuffer });
    try {
      const socket = connect({ host: address.host, port: address.port });
      socket.setNoDelay(true);
      socket.on('data', (chunk: Buffer) => this.onData(chunk));
      socket.on('error', (error) => this.fail(error));
      socket.on('close', () => this.fail(new Error(`connection to ${address.host}:${address.port} closed`)));
      this.socket = socket;
    } catch (error) {
      // e.g. an invalid port: report it asynchronously like any connection failure.
      queueMicrotask(() => this.fail(error instanceof Error ? error : new Error(String(error))));
    }
  }

  sendConnect(request: ConnectRequest): void {
    if (this.done || this.socket === undefined) return;
    this.socket.write(encodeConnectRequest(request));
  }

  send(xid: number, request: ClientRequest): void {
    if (this.done || this.socket === undefined) return;
    if (xid > 0) this.opcodes.set(xid, request.type);
    writeRequest(this.out, xid, request);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    this.socket?.destroy();
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.done || this.out.length === 0) return;
    const bytes = this.out.finish();
    this.socket!.write(bytes);
  }

  private onData(chunk: Buffer): void {
    if (this.done) return;
    this.decoder.push(chunk);
    for (;;) {
      if (this.done) return; // a handler may have closed the channel
      let decoded: Decoded | undefined;
      try {
        const frame = this.decoder.next();
        if (frame === undefined) return;
        decoded = this.decode(frame);
      } catch (error) {
        this.fail(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      switch (decoded.kind) {
        case 'connect':
          this.handlers.connectResponse(decoded.response);
          break;
        case 'notification':
          this.handlers.notification(decoded.event);
          break;
        default:
          this.handlers.reply(decoded.header, decoded.response);
      }
    }
  }

  private decode(frame: Uint8Array): Decoded {
    if (!this.handshaken) {
      this.handshaken = true;
      return { kind: 'connect', response: decodeConnectResponse(frame, { maxBuffer: this.maxBuffer }) };
    }
    const reader = new JuteReader(frame, { maxBuffer: this.maxBuffer });
    const header = readReplyHeader(reader);
    if (header.xid === Xid.notification) return { kind: 'notification', event: readWatcherEvent(reader) };
    if (header.xid <= 0) return { kind: 'reply', header, response: undefined }; // ping, auth
    const opcode = this.opcodes.get(header.xid);
    this.opcodes.delete(header.xid);
    const response = header.err === 0 && opcode !== undefined ? decodeResponse(opcode, reader) : undefined;
    return { kind: 'reply', header, response };
  }

  private fail(error: Error): void {
    if (this.done) return;
    this.done = true;
    this.socket?.destroy();
    this.handlers.closed(error);
  }
}
