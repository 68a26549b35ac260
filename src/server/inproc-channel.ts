/**
 * The in-process connection: a `ChannelFactory` for zoostate's client that talks to a
 * server of an embedded ensemble directly, handing typed records to its
 * `ClientService` — no sockets, no encoding. It stays asynchronous like a network: both
 * directions are queued and delivered through the clock's `defer`, in order, never from
 * inside the call that sent them. Data buffers are copied at the boundary (a client
 * can neither alias the tree's bytes nor change a node by reusing its buffer).
 *
 * Addressing: hosts `inproc:<server id>` in an ordinary connect string, e.g.
 * `inproc:1,inproc:2,inproc:3/app` (`inProcessConnectString`). A server that is
 * stopped or not serving closes the connection, and the client moves on to the next
 * host, as with TCP.
 *
 * ```ts
 * const client = connectInProcess(ensemble, { sessionTimeout: 10_000 });
 * await client.create('/jobs', 'x');
 *
 * // With fault control:
 * const link = new InProcessLink(ensemble);
 * const client = connectInProcess(ensemble, { link });
 * link.partition(); // silence in both directions: the client times out, the session may expire
 * ```
 */
import { createClient, type ClientOptions, type ZooKeeperClient } from '../client/client.js';
import type { ChannelFactory, ChannelHandlers, ClientChannel, ClientResponse } from '../client/channel.js';
import type { HostAddress } from '../client/connect-string.js';
import { OpCode } from '../protocol/constants.js';
import type { ServerId } from '../protocol/peer.js';
import type { ACL, ClientRequest, ConnectRequest, ConnectResponse, MultiWriteOp, OpResult, ReplyHeader, WatcherEvent } from '../protocol/records.js';
import type { Clock } from '../runtime/clock.js';
import { systemRandom, type Random } from '../runtime/random.js';
import type { ConnectionAcceptor, ConnectionSink, ServerConnection } from './connection.js';

/** The host name of in-process addresses (`inproc:<server id>`). */
export const IN_PROCESS_HOST = 'inproc';

/** What the in-process channel connects to: an ensemble, or anything that maps ids to acceptors. */
export interface InProcessTarget {
  /** The clock deliveries are deferred on (the ensemble's). */
  readonly clock: Clock;
  /** Server `id`'s client pipeline, or undefined if there is no such server. */
  clientService(id: ServerId): ConnectionAcceptor | undefined;
  /** Every server id, for the default connect string. */
  readonly serverIds: readonly ServerId[];
}

/** `inproc:1,inproc:2,...` for `ids`, with an optional chroot. */
export function inProcessConnectString(ids: readonly ServerId[], chroot = ''): string {
  return ids.map((id) => `${IN_PROCESS_HOST}:${id}`).join(',') + chroot;
}

/** Options of an `InProcessLink`. */
export interface InProcessLinkOptions {
  /** The address the server sees (for `ip` ACLs and whoAmI); default `127.0.0.1`. */
  remoteAddress?: string;
}

/**
 * The channels made by one factory, with a fault switch: `partition()` silently drops
 * everything in both directions (closes included) until `heal()`, like a cut cable;
 * `disconnect()` closes every open channel on both sides, like a reset.
 */
export class InProcessLink {
  /** The factory to pass as `ClientOptions.channelFactory`. */
  readonly factory: ChannelFactory;
  private readonly target: InProcessTarget;
  private readonly remoteAddress: string;
  private readonly open = new Set<InProcessChannel>();
  private cut = false;
  private nextPort = 1;

  constructor(target: InProcessTarget, options: InProcessLinkOptions = {}) {
    this.target = target;
    this.remoteAddress = options.remoteAddress ?? '127.0.0.1';
    this.factory = (address, handlers) => this.connect(address, handlers);
  }

  /** True while partitioned. */
  get partitioned(): boolean {
    return this.cut;
  }

  /** Channels currently open. */
  get openChannels(): number {
    return this.open.size;
  }

  /** Drop every message in both directions from now on (in flight ones too). */
  partition(): void {
    this.cut = true;
  }

  /** Deliver again. */
  heal(): void {
    this.cut = false;
  }

  /** Close every open channel: the client and the server both see the connection end. */
  disconnect(): void {
    for (const channel of [...this.open]) channel.reset();
  }

  private connect(address: HostAddress, handlers: ChannelHandlers): ClientChannel {
    const id = address.host === IN_PROCESS_HOST ? address.port : NaN;
    const acceptor = Number.isInteger(id) ? this.target.clientService(id) : undefined;
    const channel = new InProcessChannel(this, this.target.clock, handlers);
    if (acceptor === undefined) {
      channel.refuse(new Error(`no in-process server at ${address.host}:${address.port}`));
      return channel;
    }
    this.open.add(channel);
    channel.attach(acceptor.accept(channel.sink, { remoteAddress: this.remoteAddress, remotePort: this.nextPort++ }));
    return channel;
  }

  /** @internal */
  release(channel: InProcessChannel): void {
    this.open.delete(channel);
  }
}

type ToServer = { kind: 'connect'; request: ConnectRequest } | { kind: 'request'; xid: number; request: ClientRequest } | { kind: 'closed' };

type ToClient =
  | { kind: 'connect'; response: ConnectResponse }
  | { kind: 'reply'; header: ReplyHeader; response: ClientResponse }
  | { kind: 'notification'; event: WatcherEvent }
  | { kind: 'closed'; error: Error };

/** One in-process connection: the client's `ClientChannel` and the server's `ConnectionSink`. */
class InProcessChannel implements ClientChannel {
  /** The server's side of this connection. */
  readonly sink: ConnectionSink;
  private connection: ServerConnection | null = null;
  private readonly link: InProcessLink;
  private readonly clock: Clock;
  private readonly handlers: ChannelHandlers;
  private toServer: ToServer[] = [];
  private toClient: ToClient[] = [];
  private serverScheduled = false;
  private clientScheduled = false;
  /** The client closed the channel: no handler runs any more. */
  private clientDone = false;
  /** The server closed the connection: nothing more reaches it. */
  private serverDone = false;
  private readonly drainServerFn = (): void => this.drainServer();
  private readonly drainClientFn = (): void => this.drainClient();

  constructor(link: InProcessLink, clock: Clock, handlers: ChannelHandlers) {
    this.link = link;
    this.clock = clock;
    this.handlers = handlers;
    this.sink = {
      connectResponse: (response) => this.toClientPush({ kind: 'connect', response }),
      reply: (header, opcode, response) => this.toClientPush({ kind: 'reply', header, response: copyResponse(opcode, response) }),
      notification: (event) => this.toClientPush({ kind: 'notification', event }),
      close: (reason) => {
        if (this.serverDone) return;
        this.serverDone = true;
        this.link.release(this);
        this.toClientPush({ kind: 'closed', error: new Error(`server closed the connection: ${reason}`) });
      },
    };
  }

  attach(connection: ServerConnection): void {
    this.connection = connection;
  }

  /** No server to talk to: the attempt fails (asynchronously). */
  refuse(error: Error): void {
    this.serverDone = true;
    this.toClientPush({ kind: 'closed', error });
  }

  /** Both sides see the connection end. */
  reset(): void {
    if (!this.serverDone) {
      this.serverDone = true;
      this.link.release(this);
      const connection = this.connection;
      this.clock.defer(() => connection?.closed());
    }
    this.toClientPush({ kind: 'closed', error: new Error('in-process connection reset') });
  }

  sendConnect(request: ConnectRequest): void {
    this.toServerPush({ kind: 'connect', request });
  }

  send(xid: number, request: ClientRequest): void {
    this.toServerPush({ kind: 'request', xid, request: copyRequest(request) });
  }

  close(): void {
    if (this.clientDone) return;
    this.clientDone = true;
    this.toClient = [];
    this.toServerPush({ kind: 'closed' });
  }

  private toServerPush(message: ToServer): void {
    if (this.serverDone || this.link.partitioned) return;
    this.toServer.push(message);
    if (!this.serverScheduled) {
      this.serverScheduled = true;
      this.clock.defer(this.drainServerFn);
    }
  }

  private toClientPush(message: ToClient): void {
    if (this.clientDone || this.link.partitioned) return;
    this.toClient.push(message);
    if (!this.clientScheduled) {
      this.clientScheduled = true;
      this.clock.defer(this.drainClientFn);
    }
  }

  private drainServer(): void {
    this.serverScheduled = false;
    const batch = this.toServer;
    this.toServer = [];
    const connection = this.connection!;
    for (let i = 0; i < batch.length; i++) {
      if (this.serverDone || this.link.partitioned) return;
      const message = batch[i]!;
      if (message.kind === 'request') connection.request(message.xid, message.request);
      else if (message.kind === 'connect') connection.connect(message.request);
      else {
        this.serverDone = true;
        this.link.release(this);
        connection.closed();
      }
    }
  }

  private drainClient(): void {
    this.clientScheduled = false;
    const batch = this.toClient;
    this.toClient = [];
    const handlers = this.handlers;
    for (let i = 0; i < batch.length; i++) {
      if (this.clientDone || this.link.partitioned) return;
      const message = batch[i]!;
      switch (message.kind) {
        case 'reply':
          handlers.reply(message.header, message.response);
          break;
        case 'notification':
          handlers.notification(message.event);
          break;
        case 'connect':
          handlers.connectResponse(message.response);
          break;
        default:
          this.clientDone = true;
          handlers.closed(message.error);
      }
    }
  }
}

/** Copy the data buffers of a request (the tree keeps what it is given). */
function copyRequest(request: ClientRequest): ClientRequest {
  switch (request.type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
    case OpCode.setData:
      return request.data === null ? request : { ...request, data: copyBytes(request.data) };
    case OpCode.multi:
      return { ...request, ops: request.ops.map(copyOp) };
    default:
      return request;
  }
}

function copyOp(op: MultiWriteOp): MultiWriteOp {
  return 'data' in op && op.data !== null ? { ...op, data: copyBytes(op.data) } : op;
}

/** A private copy (not `slice`: on a Buffer that is a view). */
function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/** Copy what a reply shares with the tree (data buffers, ACL lists). */
function copyResponse(opcode: number, response: unknown): ClientResponse {
  if (response === undefined) return undefined;
  switch (opcode) {
    case OpCode.getData: {
      const r = response as { data: Uint8Array | null; stat: unknown };
      return { data: r.data === null ? null : Buffer.from(r.data), stat: r.stat } as ClientResponse;
    }
    case OpCode.getACL: {
      const r = response as { acl: readonly ACL[]; stat: unknown };
      return { acl: r.acl.map((a) => ({ perms: a.perms, id: { scheme: a.id.scheme, id: a.id.id } })), stat: r.stat } as ClientResponse;
    }
    case OpCode.multiRead: {
      const r = response as { results: OpResult[] };
      return {
        results: r.results.map((res) => (res.type === OpCode.getData && res.data !== null ? { ...res, data: Buffer.from(res.data) } : res)),
      } as ClientResponse;
    }
    default:
      return response as ClientResponse;
  }
}

/** Options of `connectInProcess`. */
export interface InProcessClientOptions extends ClientOptions {
  /** The connect string (default every server of the target: `inproc:1,inproc:2,...`), e.g. with a chroot. */
  connectString?: string;
  /** The link to use (default a fresh one); keep it to partition or reset the client. */
  link?: InProcessLink;
}

/**
 * A `ZooKeeperClient` connected in-process to `target` (an ensemble). Defaults: the
 * target's clock; randomness from `random` or the OS.
 */
export function connectInProcess(target: InProcessTarget & { clientRandom?: () => Random }, options: InProcessClientOptions = {}): ZooKeeperClient {
  const { connectString, link, ...rest } = options;
  const channels = link ?? new InProcessLink(target);
  return createClient(connectString ?? inProcessConnectString(target.serverIds), {
    clock: target.clock,
    random: rest.random ?? target.clientRandom?.() ?? systemRandom(),
    ...rest,
    channelFactory: channels.factory,
  });
}
