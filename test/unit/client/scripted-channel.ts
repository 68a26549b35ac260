/**
 * A scripted server for client unit tests: a `ChannelFactory` whose connections record
 * what the client sends and let the test answer (handshake, replies, notifications,
 * drops), delivering every answer through the VirtualClock's `defer` as a real channel
 * delivers asynchronously.
 */
import { OpCode, Xid } from '../../../src/protocol/constants.js';
import type { ClientRequest, ConnectRequest, ConnectResponse } from '../../../src/protocol/records.js';
import type { VirtualClock } from '../../../src/sim/virtual-clock.js';
import type { ChannelFactory, ChannelHandlers, ClientChannel, ClientResponse } from '../../../src/client/channel.js';
import type { HostAddress } from '../../../src/client/connect-string.js';

/** One request the client wrote. */
export interface Sent {
  xid: number;
  request: ClientRequest;
}

/** One connection attempt, seen from the server side. */
export class ScriptedConnection implements ClientChannel {
  readonly sent: Sent[] = [];
  connectRequest: ConnectRequest | undefined;
  closedByClient = false;
  /** Answer pings automatically (default true). */
  autoPong = true;
  zxid = 0;

  constructor(
    readonly address: HostAddress,
    private readonly handlers: ChannelHandlers,
    private readonly clock: VirtualClock,
  ) {}

  sendConnect(request: ConnectRequest): void {
    this.connectRequest = request;
  }

  send(xid: number, request: ClientRequest): void {
    this.sent.push({ xid, request });
    if (xid === Xid.ping && this.autoPong) this.reply(Xid.ping, { zxid: this.zxid });
  }

  close(): void {
    this.closedByClient = true;
  }

  /** Requests other than pings. */
  get requests(): Sent[] {
    return this.sent.filter((s) => s.request.type !== OpCode.ping);
  }

  /** Pings sent. */
  get pings(): number {
    return this.sent.filter((s) => s.request.type === OpCode.ping).length;
  }

  /** Answer the handshake. */
  accept(response: Partial<ConnectResponse> = {}): void {
    const full: ConnectResponse = {
      protocolVersion: 0,
      timeOut: response.timeOut ?? 3000,
      sessionId: response.sessionId ?? 0x1234n,
      passwd: response.passwd ?? new Uint8Array(16).fill(7),
      readOnly: response.readOnly ?? false,
    };
    this.clock.defer(() => {
      if (!this.closedByClient) this.handlers.connectResponse(full);
    });
  }

  /** Answer the handshake as ZooKeeper does for an expired session. */
  expire(): void {
    this.accept({ timeOut: 0, sessionId: 0n, passwd: new Uint8Array(16) });
  }

  /** Send a reply. */
  reply(xid: number, options: { zxid?: number; err?: number; response?: ClientResponse } = {}): void {
    const header = { xid, zxid: options.zxid ?? this.zxid, err: options.err ?? 0 };
    this.clock.defer(() => {
      if (!this.closedByClient) this.handlers.reply(header, options.response);
    });
  }

  /** Reply to the `index`-th non-ping request (default: the oldest unanswered one is up to the test). */
  replyTo(sent: Sent, options: { zxid?: number; err?: number; response?: ClientResponse } = {}): void {
    this.reply(sent.xid, options);
  }

  /** Send a watch notification. */
  notify(type: number, path: string): void {
    this.clock.defer(() => {
      if (!this.closedByClient) this.handlers.notification({ type, state: 3, path });
    });
  }

  /** The server closes the connection. */
  drop(error?: Error): void {
    this.clock.defer(() => {
      if (!this.closedByClient) this.handlers.closed(error);
    });
  }
}

/** A factory recording every connection attempt. */
export class ScriptedServer {
  readonly connections: ScriptedConnection[] = [];
  /** Called for each new connection (e.g. to accept it at once). */
  onConnection: ((connection: ScriptedConnection) => void) | undefined;

  constructor(private readonly clock: VirtualClock) {}

  readonly factory: ChannelFactory = (address, handlers) => {
    const connection = new ScriptedConnection(address, handlers, this.clock);
    this.connections.push(connection);
    this.onConnection?.(connection);
    return connection;
  };

  /** The newest connection. */
  get last(): ScriptedConnection {
    const c = this.connections.at(-1);
    if (c === undefined) throw new Error('no connection yet');
    return c;
  }
}

/** Let promise callbacks run (after the clock delivered what is due). */
export async function settle(clock: VirtualClock): Promise<void> {
  for (let i = 0; i < 5; i++) {
    clock.flush();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
