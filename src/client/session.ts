/**
 * The session layer: one ZooKeeper session over a succession of channels.
 *
 * The lifecycle (connect, heartbeat, reconnect, expiry, close) is the XState
 * `sessionMachine`; this class is its `SessionPort` and keeps the per-request data the
 * machine must not pay for: xids, the FIFO of requests in flight, the queue of requests
 * waiting for a connection, auth packets, lastZxidSeen and the watch table.
 *
 * Guarantees:
 * - Requests go out in call order and complete in that order (the server is FIFO per
 *   connection; a reply whose xid is not the oldest in flight drops the connection).
 * - A request in flight when the connection drops fails with ConnectionLoss (its
 *   outcome is unknown). A request made while disconnected waits for the reconnect,
 *   at most one session timeout; then it fails with ConnectionLoss.
 * - After every (re)connect: auth packets, then SetWatches with every watch and
 *   lastZxidSeen, then the queued requests (reference §9.6).
 * - No watch is dropped silently: when the session ends every watcher gets one `None`
 *   event with state Expired, Closed or AuthFailed.
 */
import { EventEmitter } from 'eventemitter3';
import { createActor, type Actor, type InspectionEvent, type Observer } from 'xstate';
import { EventType, OpCode, Xid } from '../protocol/constants.js';
import { AuthFailedError, ConnectionLossError, ErrorCode, SessionExpiredError } from '../protocol/errors.js';
import type { AuthRequest, ClientRequest, ConnectRequest, ConnectResponse, ReplyHeader, SessionId, SetWatchesRequest, WatcherEvent } from '../protocol/records.js';
import type { Clock } from '../runtime/clock.js';
import type { Random } from '../runtime/random.js';
import type { ChannelFactory, ChannelHandlers, ClientChannel, ClientResponse } from './channel.js';
import type { HostAddress } from './connect-string.js';
import { AbortError } from './errors.js';
import { HostProvider } from './host-provider.js';
import { prependChroot, stripChroot } from './paths.js';
import { sessionMachine, type SessionMachine, type SessionPort } from './session-machine.js';
import type { ConnectionState, SessionState, WatchEvent, WatchEventState, WatchEventType, Watcher } from './types.js';
import { WatchManager } from './watch-manager.js';

/** Java splits SetWatches so that each frame carries at most this many path characters. */
export const SET_WATCHES_MAX_LENGTH = 128 * 1024;

/** Everything a session is built from (the client fills the defaults). */
export interface SessionOptions {
  hosts: readonly HostAddress[];
  chroot: string | undefined;
  /** Requested session timeout, ms. */
  sessionTimeout: number;
  canBeReadOnly: boolean;
  clock: Clock;
  random: Random;
  channelFactory: ChannelFactory;
  /** Back-off after trying every host without success, ms. */
  spinDelay: number;
  /** Upper bound of the random delay before each connection attempt but the first, ms. */
  reconnectDelay: number;
  /** Resume this session instead of creating one. */
  sessionId?: SessionId;
  passwd?: Uint8Array;
  /** XState inspection observer for the session machine. */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
}

/** Events of a session. */
export interface SessionEvents {
  /** A connection state change. */
  state: (state: ConnectionState) => void;
  /** A watcher or listener threw. */
  error: (error: unknown) => void;
}

/** One request: what to send and how to finish it. */
interface Call {
  request: ClientRequest;
  /** Client path, for errors. */
  path: string | undefined;
  xid: number;
  /** Finished (replied, failed or aborted): a later reply is dropped. */
  settled: boolean;
  onReply(err: number, response: ClientResponse): void;
  onFail(error: Error): void;
}

interface AuthWaiter {
  settled: boolean;
  resolve(): void;
  reject(error: Error): void;
}

interface AuthEntry {
  request: AuthRequest;
  /** addAuth calls waiting for this packet to be sent. */
  waiting: AuthWaiter[];
}

const MAX_XID = 0x7fffffff;

const eventTypeNames = new Map<number, WatchEventType>([
  [EventType.NodeCreated, 'NodeCreated'],
  [EventType.NodeDeleted, 'NodeDeleted'],
  [EventType.NodeDataChanged, 'NodeDataChanged'],
  [EventType.NodeChildrenChanged, 'NodeChildrenChanged'],
]);

/** A session over successive channels; see the file header. */
export class ClientSession extends EventEmitter<SessionEvents> {
  /** The watch table (client paths). */
  readonly watches = new WatchManager();
  /** The chroot prepended to every path. */
  readonly chroot: string | undefined;
  private readonly options: SessionOptions;
  private readonly clock: Clock;
  private readonly hosts: HostProvider;
  private readonly actor: Actor<SessionMachine>;
  private channel: ClientChannel | null = null;
  private generation = 0;
  private host: HostAddress | undefined;
  private xid = 0;
  private readonly inflight = new Fifo<Call>();
  private queue: Call[] = [];
  private readonly auths: AuthEntry[] = [];
  private readonly authReplies = new Fifo<AuthWaiter[]>();
  private zxid = 0;
  private sentAt = 0;
  private receivedAt = 0;
  /** Requests may be written to the channel. */
  private writable = false;
  /** A session timeout passed without a connection: fail requests at once. */
  private failFast = false;
  private closeRequested = false;
  private endState: 'closed' | 'expired' | 'authFailed' | undefined;
  private readonly endWaiters: (() => void)[] = [];
  /** Application callbacks raised by machine actions, run after the transition. */
  private callbacks: (() => void)[] = [];
  private connectWaiters: { resolve(): void; reject(error: Error): void }[] = [];

  constructor(options: SessionOptions) {
    super();
    this.options = options;
    this.chroot = options.chroot;
    this.clock = options.clock;
    this.hosts = new HostProvider(options.hosts, options.random);
    this.actor = createActor(sessionMachine, {
      clock: options.clock,
      inspect: options.inspect,
      input: {
        port: this.port(),
        requestedTimeout: options.sessionTimeout,
        canBeReadOnly: options.canBeReadOnly,
        sessionId: options.sessionId,
        passwd: options.passwd,
      },
    });
    // Application callbacks run once the machine's snapshot is updated, so a listener
    // sees `state` already matching the event it receives.
    this.actor.subscribe({ next: () => this.runCallbacks(), error: (error) => this.report(error) });
    this.actor.start();
  }

  // ------------------------------------------------------------ state

  /** The machine's state. */
  get state(): SessionState {
    const value = this.actor.getSnapshot().value;
    const top = typeof value === 'string' ? value : Object.keys(value)[0]!;
    switch (top) {
      case 'connecting':
        return 'CONNECTING';
      case 'connected':
        return 'CONNECTED';
      case 'disconnected':
        return 'DISCONNECTED';
      case 'closing':
        return 'CLOSING';
      case 'closed':
        return 'CLOSED';
      case 'expired':
        return 'EXPIRED';
      default:
        return 'AUTH_FAILED';
    }
  }

  /** The session id (0n before the first handshake). */
  get sessionId(): SessionId {
    return this.actor.getSnapshot().context.sessionId;
  }

  /** The session password (16 bytes; zeros before the first handshake). */
  get sessionPassword(): Uint8Array {
    return this.actor.getSnapshot().context.passwd;
  }

  /** The negotiated session timeout (0 before the first handshake). */
  get negotiatedTimeout(): number {
    return this.actor.getSnapshot().context.negotiatedTimeout;
  }

  /** True while connected to a read-only server. */
  get readOnly(): boolean {
    return this.actor.getSnapshot().context.readOnly;
  }

  /** The highest zxid seen in a reply. */
  get lastZxidSeen(): number {
    return this.zxid;
  }

  /** The server of the current connection or attempt. */
  get currentHost(): HostAddress | undefined {
    return this.host;
  }

  /** The server order (shuffled). */
  get hostOrder(): readonly HostAddress[] {
    return this.hosts.order;
  }

  /** The running session machine (for inspection and tests). */
  get machine(): Actor<SessionMachine> {
    return this.actor;
  }

  /** True once the session reached a final state. */
  get ended(): boolean {
    return this.endState !== undefined;
  }

  /** Resolves when connected; rejects if the session ends first or `signal` aborts. */
  waitUntilConnected(signal?: AbortSignal): Promise<void> {
    if (this.writable) return Promise.resolve();
    if (this.endState !== undefined) return Promise.reject(this.endError(undefined));
    if (signal?.aborted) return Promise.reject(new AbortError(signal.reason));
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (error: Error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      const onAbort = (): void => {
        this.connectWaiters = this.connectWaiters.filter((w) => w !== waiter);
        reject(new AbortError(signal!.reason));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.connectWaiters.push(waiter);
    });
  }

  /** Resolves when the session has ended (closed, expired or auth failed). */
  whenEnded(): Promise<void> {
    if (this.endState !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.endWaiters.push(resolve));
  }

  // ------------------------------------------------------------ requests

  /** Prepend the chroot. */
  serverPath(clientPath: string): string {
    return prependChroot(this.chroot, clientPath);
  }

  /** Strip the chroot. */
  clientPath(serverPath: string): string {
    return stripChroot(this.chroot, serverPath);
  }

  /**
   * Send `request` and settle with `handle(err, response)` when its reply arrives
   * (`handle` may throw to reject). `path` (a client path) goes into connection errors.
   */
  call<T>(request: ClientRequest, path: string | undefined, handle: (err: number, response: ClientResponse) => T, signal?: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const refusal = this.refusal(path, signal);
      if (refusal !== undefined) {
        reject(refusal);
        return;
      }
      let onAbort: (() => void) | undefined;
      const call: Call = {
        request,
        path,
        xid: 0,
        settled: false,
        onReply: (err, response) => {
          if (onAbort) signal!.removeEventListener('abort', onAbort);
          try {
            resolve(handle(err, response));
          } catch (error) {
            reject(error);
          }
        },
        onFail: (error) => {
          if (onAbort) signal!.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      if (signal) {
        onAbort = () => {
          if (call.settled) return;
          call.settled = true; // a queued call is skipped; a sent one's reply is dropped
          reject(new AbortError(signal.reason));
        };
        signal.addEventListener('abort', onAbort, { once: true });
      }
      this.enqueue(call);
    });
  }

  /** Register an auth packet; it is re-sent after every reconnect. */
  addAuth(scheme: string, auth: Uint8Array, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const refusal = this.refusal(undefined, signal);
      if (refusal !== undefined) {
        reject(refusal);
        return;
      }
      let onAbort: (() => void) | undefined;
      const waiter: AuthWaiter = {
        settled: false,
        resolve: () => {
          if (onAbort) signal!.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (error) => {
          if (onAbort) signal!.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      if (signal) {
        onAbort = () => {
          if (waiter.settled) return;
          waiter.settled = true;
          reject(new AbortError(signal.reason));
        };
        signal.addEventListener('abort', onAbort, { once: true });
      }
      const entry: AuthEntry = { request: { type: OpCode.auth, authType: 0, scheme, auth }, waiting: [] };
      this.auths.push(entry);
      if (this.writable) this.sendAuth(entry.request, [waiter]);
      else entry.waiting.push(waiter);
    });
  }

  /** Close the session (closeSession after everything queued); resolves when ended. */
  close(): Promise<void> {
    if (this.endState === undefined && !this.closeRequested) {
      this.closeRequested = true;
      this.actor.send({ type: 'close' });
    }
    return this.whenEnded();
  }

  /** Deliver a locally raised event (e.g. DataWatchRemoved) to `watcher`. */
  deliver(watcher: Watcher, event: WatchEvent): void {
    try {
      watcher(event);
    } catch (error) {
      this.report(error);
    }
  }

  private refusal(path: string | undefined, signal: AbortSignal | undefined): Error | undefined {
    if (signal?.aborted) return new AbortError(signal.reason);
    if (this.endState !== undefined) return this.endError(path);
    if (this.closeRequested) return new SessionExpiredError(path, 'The client is closing');
    if (this.failFast) return new ConnectionLossError(path, `Not connected for a whole session timeout${path === undefined ? '' : ` (${path})`}`);
    return undefined;
  }

  private endError(path: string | undefined): Error {
    switch (this.endState) {
      case 'expired':
        return new SessionExpiredError(path);
      case 'authFailed':
        return new AuthFailedError(path);
      default:
        return new SessionExpiredError(path, 'The client is closed');
    }
  }

  private enqueue(call: Call): void {
    if (this.writable) this.write(call);
    else this.queue.push(call);
  }

  private write(call: Call): void {
    this.xid = this.xid >= MAX_XID ? 1 : this.xid + 1;
    call.xid = this.xid;
    this.inflight.push(call);
    this.transmit(call.xid, call.request);
  }

  private transmit(xid: number, request: ClientRequest): void {
    this.sentAt = this.clock.now();
    this.channel!.send(xid, request);
  }

  private sendAuth(request: AuthRequest, waiters: AuthWaiter[]): void {
    this.authReplies.push(waiters);
    this.transmit(Xid.auth, request);
  }

  private internalCall(request: ClientRequest, onReply: () => void = () => {}): Call {
    return { request, path: undefined, xid: 0, settled: false, onReply, onFail: () => {} };
  }

  // ------------------------------------------------------------ channel events

  private handlers(generation: number): ChannelHandlers {
    const current = (): boolean => generation === this.generation;
    return {
      connectResponse: (response: ConnectResponse) => {
        if (!current()) return;
        this.receivedAt = this.clock.now();
        this.actor.send({ type: 'channel.connected', response });
      },
      reply: (header: ReplyHeader, response: ClientResponse) => {
        if (current()) this.onReply(header, response);
      },
      notification: (event: WatcherEvent) => {
        if (!current()) return;
        this.receivedAt = this.clock.now();
        this.onNotification(event);
      },
      closed: (error?: Error) => {
        if (!current()) return;
        this.forgetChannel();
        this.actor.send({ type: 'channel.closed', error });
      },
    };
  }

  private onReply(header: ReplyHeader, response: ClientResponse): void {
    this.receivedAt = this.clock.now();
    if (header.xid === Xid.ping) return;
    if (header.xid === Xid.auth) {
      const waiters = this.authReplies.shift() ?? [];
      if (header.err === ErrorCode.AuthFailed) {
        for (const w of waiters) settleAuth(w, new AuthFailedError());
        this.actor.send({ type: 'auth.failed' });
      } else {
        for (const w of waiters) settleAuth(w);
      }
      return;
    }
    const call = this.inflight.peek();
    if (call === undefined || call.xid !== header.xid) {
      // The server is FIFO per connection; anything else means the stream is broken.
      this.abandonChannel(new Error(`reply xid ${header.xid} out of order (expected ${call?.xid ?? 'none'})`));
      return;
    }
    this.inflight.shift();
    if (header.zxid > 0) this.zxid = header.zxid;
    if (call.settled) return;
    call.settled = true;
    call.onReply(header.err, response);
  }

  private onNotification(event: WatcherEvent): void {
    const path = this.clientPath(event.path);
    const type = eventTypeNames.get(event.type);
    if (type === undefined) return;
    const watchers = this.watches.materialize(event.type, path);
    if (watchers.size === 0) return;
    const watchEvent: WatchEvent = { type, state: 'SyncConnected', path };
    for (const watcher of watchers) this.deliver(watcher, watchEvent);
  }

  private abandonChannel(error: Error): void {
    this.channel?.close();
    this.forgetChannel();
    this.actor.send({ type: 'channel.closed', error });
  }

  private forgetChannel(): void {
    this.channel = null;
    this.generation++;
    this.writable = false;
  }

  private report(error: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else queueMicrotask(() => {
      throw error;
    });
  }

  private announce(state: ConnectionState): void {
    this.callbacks.push(() => {
      try {
        this.emit('state', state);
      } catch (error) {
        this.report(error);
      }
    });
  }

  private runCallbacks(): void {
    while (this.callbacks.length > 0) {
      const batch = this.callbacks;
      this.callbacks = [];
      for (const callback of batch) callback();
    }
  }

  // ------------------------------------------------------------ the machine's port

  private port(): SessionPort {
    return {
      now: () => this.clock.now(),
      nextHost: (firstAttempt) => {
        const { address, cycled } = this.hosts.next();
        const { spinDelay, reconnectDelay, random } = this.options;
        const jitter = firstAttempt || reconnectDelay <= 0 ? 0 : random.int(reconnectDelay);
        return { address, delay: (cycled ? spinDelay : 0) + jitter };
      },
      hostCount: () => this.hosts.size,
      open: (address, request) => this.openChannel(address, request),
      drop: () => {
        if (this.channel === null) return;
        this.channel.close();
        this.forgetChannel();
      },
      lastReceivedAt: () => this.receivedAt,
      lastSentAt: () => this.sentAt,
      lastZxidSeen: () => this.zxid,
      ping: () => {
        if (this.channel !== null) this.transmit(Xid.ping, { type: OpCode.ping });
      },
      connected: ({ reconnect, readOnly }) => this.onConnected(reconnect, readOnly),
      suspended: () => this.onSuspended(),
      timedOut: (lost) => this.onTimedOut(lost),
      sendClose: () => this.enqueue(this.internalCall({ type: OpCode.closeSession }, () => this.actor.send({ type: 'close.done' }))),
      ended: (how, lost) => this.onEnded(how, lost),
    };
  }

  private openChannel(address: HostAddress, request: ConnectRequest): void {
    const generation = ++this.generation;
    this.host = address;
    this.sentAt = this.receivedAt = this.clock.now();
    this.channel = this.options.channelFactory(address, this.handlers(generation));
    this.channel.sendConnect(request);
  }

  private onConnected(reconnect: boolean, readOnly: boolean): void {
    this.hosts.onConnected();
    this.failFast = false;
    this.writable = true;
    // §9.6 and the observed Java order: auth packets, SetWatches, then queued requests.
    for (const entry of this.auths) this.sendAuth(entry.request, entry.waiting.splice(0));
    for (const request of this.setWatchesRequests()) this.write(this.internalCall(request));
    const queued = this.queue;
    this.queue = [];
    for (const call of queued) if (!call.settled) this.write(call);
    const waiters = this.connectWaiters;
    this.connectWaiters = [];
    for (const w of waiters) w.resolve();
    this.announce(readOnly ? 'READ_ONLY' : reconnect ? 'RECONNECTED' : 'CONNECTED');
  }

  /** SetWatches frames for every watch, split like Java's at SET_WATCHES_MAX_LENGTH path characters. */
  private setWatchesRequests(): SetWatchesRequest[] {
    const lists = this.watches.lists();
    const sources: [keyof typeof lists, string[]][] = [
      ['data', lists.data],
      ['exist', lists.exist],
      ['child', lists.child],
      ['persistent', lists.persistent],
      ['recursive', lists.recursive],
    ];
    const requests: SetWatchesRequest[] = [];
    let batch = emptyBatch(this.zxid);
    let length = 0;
    let size = 0;
    const flush = (): void => {
      const persistent = batch.persistentWatches.length > 0 || batch.persistentRecursiveWatches.length > 0;
      requests.push({ ...batch, type: persistent ? OpCode.setWatches2 : OpCode.setWatches });
      batch = emptyBatch(this.zxid);
      length = 0;
      size = 0;
    };
    for (const [kind, paths] of sources) {
      for (const clientPath of paths) {
        const path = this.serverPath(clientPath);
        batchList(batch, kind).push(path);
        size++;
        length += path.length;
        if (length >= SET_WATCHES_MAX_LENGTH) flush();
      }
    }
    if (size > 0) flush();
    return requests;
  }

  private onSuspended(): void {
    this.writable = false;
    const lost = this.inflight.drain();
    for (const call of lost) failCall(call, new ConnectionLossError(call.path));
    for (const waiters of this.authReplies.drain()) for (const w of waiters) settleAuth(w, new ConnectionLossError());
    this.announce('SUSPENDED');
  }

  private onTimedOut(lost: boolean): void {
    this.failFast = true;
    const queued = this.queue;
    this.queue = [];
    for (const call of queued) failCall(call, new ConnectionLossError(call.path));
    for (const entry of this.auths) for (const w of entry.waiting.splice(0)) settleAuth(w, new ConnectionLossError());
    if (lost) this.announce('LOST');
  }

  private onEnded(how: 'closed' | 'expired' | 'authFailed', lost: boolean): void {
    this.endState = how;
    this.writable = false;
    const inflight = this.inflight.drain();
    const queued = this.queue;
    this.queue = [];
    // A request in flight when the client closed has an unknown outcome.
    for (const call of inflight) failCall(call, how === 'closed' ? new ConnectionLossError(call.path) : this.endError(call.path));
    for (const call of queued) failCall(call, this.endError(call.path));
    for (const waiters of this.authReplies.drain()) for (const w of waiters) settleAuth(w, this.endError(undefined));
    for (const entry of this.auths) for (const w of entry.waiting.splice(0)) settleAuth(w, this.endError(undefined));
    const connectWaiters = this.connectWaiters;
    this.connectWaiters = [];
    for (const w of connectWaiters) w.reject(this.endError(undefined));

    const state: WatchEventState = how === 'expired' ? 'Expired' : how === 'closed' ? 'Closed' : 'AuthFailed';
    for (const [watcher, path] of this.watches.clear()) this.callbacks.push(() => this.deliver(watcher, { type: 'None', state, path }));

    if (how === 'expired') {
      if (!lost) this.announce('LOST');
      this.announce('EXPIRED');
    } else {
      this.announce(how === 'closed' ? 'CLOSED' : 'AUTH_FAILED');
    }
    for (const resolve of this.endWaiters.splice(0)) resolve();
  }
}

function failCall(call: Call, error: Error): void {
  if (call.settled) return;
  call.settled = true;
  call.onFail(error);
}

function settleAuth(waiter: AuthWaiter, error?: Error): void {
  if (waiter.settled) return;
  waiter.settled = true;
  if (error) waiter.reject(error);
  else waiter.resolve();
}

function emptyBatch(relativeZxid: number): Omit<SetWatchesRequest, 'type'> {
  return { relativeZxid, dataWatches: [], existWatches: [], childWatches: [], persistentWatches: [], persistentRecursiveWatches: [] };
}

function batchList(batch: Omit<SetWatchesRequest, 'type'>, kind: 'data' | 'exist' | 'child' | 'persistent' | 'recursive'): string[] {
  switch (kind) {
    case 'data':
      return batch.dataWatches;
    case 'exist':
      return batch.existWatches;
    case 'child':
      return batch.childWatches;
    case 'persistent':
      return batch.persistentWatches;
    default:
      return batch.persistentRecursiveWatches;
  }
}

/** A FIFO queue with O(1) push and shift. */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head]!;
    this.items[this.head] = undefined as T; // let it be collected
    this.head++;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Remove and return everything, oldest first. */
  drain(): T[] {
    const rest = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return rest;
  }
}
