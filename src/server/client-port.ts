/**
 * The ZooKeeper client port: a TCP listener speaking ZooKeeper 3.8's client wire protocol
 * byte for byte (reference §2–§6, §15), in front of the request pipeline.
 *
 * Each accepted socket becomes one `PortConnection`, which implements `ConnectionSink`
 * (src/server/connection.ts) and drives one `ServerConnection` of the pipeline:
 *
 * - Before the handshake the first 4 bytes are checked for a four-letter word (§15):
 *   its text is written raw and the connection closed. Anything else is a frame length
 *   (an unknown 4-letter string is a huge length, so the connection just closes).
 * - The first frame is the ConnectRequest (no header). No further frame is dispatched
 *   until the pipeline answered it; bytes the client pipelined wait in the socket.
 * - Later frames are `RequestHeader + body`, decoded and passed on in order. An unknown
 *   opcode or an unparsable body goes to the pipeline as `invalid(xid, opcode, err)`,
 *   which answers `-6` (zxid -1) then closes, or answers `-5` and keeps the connection
 *   (§6), in order with the other replies; nothing after an unknown opcode or a
 *   closeSession is read. A frame whose header cannot be read, or a length < 0 or
 *   > jute.maxbuffer, closes the connection.
 * - Replies, notifications (xid -1, zxid -1) and pings (xid -2) produced in one tick are
 *   coalesced into one socket write (flushed through the clock's `defer`).
 * - Limits (src/server/limits.ts): connections per address, requests in flight per
 *   connection and per port (the socket is paused while over, resumed after), unread
 *   reply bytes, and a handshake timeout. Hitting one affects only that connection; the
 *   port logs one line through the injected logger and keeps serving.
 * - While the server does not serve (election, no quorum) a ConnectRequest closes the
 *   connection without reply, and connections already open are closed when serving
 *   stops (§9.5). Four-letter words keep answering. A server in read-only mode
 *   (read-only.ts) passes ConnectRequests on: its pipeline takes read-only clients.
 * - Statistics (client-stats.ts): the server's `ClientService` keeps the one set of
 *   statistics of every connection, TCP and in-process alike; the port adds what only it
 *   sees (bytes, four-letter-word packets, refused connections, throttling) to the same
 *   `ServerStats`, and its four-letter words list the service's connections plus its own
 *   sockets that have no pipeline connection (a four-letter word, a refused handshake).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { writeConnectResponse } from '../protocol/codec-records.js';
import { decodeConnectRequest } from '../protocol/codec-records.js';
import { RequestDecodeError, UnknownOpcodeError, decodeRequest } from '../protocol/codec-requests.js';
import { writeNotification, writeReply, type ReplyOpCode, type ResponseOf } from '../protocol/codec-responses.js';
import { ErrorCode } from '../protocol/errors.js';
import { OpCode } from '../protocol/constants.js';
import { FrameDecoder, TELNET_CLOSE, fourLetterWordArgumentBytes, fourLetterWordOf } from '../protocol/frame.js';
import { JuteWriter } from '../protocol/jute.js';
import type { ConnectResponse, ReplyHeader, WatcherEvent } from '../protocol/records.js';
import type { Clock, TimerHandle } from '../runtime/clock.js';
import { ipIdOf } from '../tree/acl.js';
import { ServerStats, connectionSnapshot, type ConnectionStats, type FrontEndConnection } from './client-stats.js';
import type { ConnectionAcceptor, ConnectionSink, ServerConnection } from './connection.js';
import {
  DEFAULT_TRACE_MASK,
  runFourLetterWord,
  type ConfSnapshot,
  type ConnectionExpiryDump,
  type ConnectionSnapshot,
  type FourLetterWordContext,
  type FourLetterWordWhitelist,
  type LeaderStats,
  type MonitorSnapshot,
  type ServerMode,
  type ServerStatsSnapshot,
  type SessionDump,
  type WatchListing,
  type WatchSummary,
} from './four-letter-words.js';
import { resolveLimits, type ClientPortLimits } from './limits.js';
import { fullVersion } from './version.js';

/** Where the port learns whether its server serves (a `QuorumServer` fits). */
export interface ServingSignal {
  /** True while the server answers clients. */
  readonly serving: boolean;
  on(event: 'serving', listener: (serving: boolean) => void): unknown;
  off(event: 'serving', listener: (serving: boolean) => void): unknown;
}

/**
 * What the four-letter words read from the server behind the port. Everything is
 * optional; a missing piece prints as empty/zero.
 */
export interface ServerInfoSource {
  /** `srvr`'s Mode (when serving). */
  mode?(): ServerMode;
  /** `mntr`'s zk_peer_state, e.g. `following - broadcast`. */
  peerState?(): string;
  /** A read-only server (isro `ro`; it takes read-only clients while not serving). */
  readOnly?(): boolean;
  /** Sessions that live on this server only (`zk_local_sessions`: a read-only server's). */
  localSessions?(): number;
  /** The last applied zxid. */
  lastZxid?(): number;
  nodeCount?(): number;
  approximateDataSize?(): number;
  watchSummary?(): WatchSummary;
  watchListing?(): WatchListing;
  /** Every watch (data + child tables). */
  watchCount?(): number;
  sessionDump?(): SessionDump;
  globalSessions?(): number;
  ephemerals?(): Array<{ sessionId: bigint; paths: readonly string[] }>;
  /** `conf`, less the client-port fields the port fills in itself. */
  conf?(): Partial<ConfSnapshot>;
  leader?(): LeaderStats | undefined;
  quorumSize?(): number;
  dirs?(): { dataDirSize: number; logDirSize: number };
  environment?(): Array<readonly [string, string]>;
  /** File descriptors of the process (mntr), if known. */
  fileDescriptors?(): { open: number; max: number } | undefined;
  /** When the server started, ms (mntr zk_uptime). */
  startedAt?(): number;
}

/** Options of `ClientPort.listen`. */
export interface ClientPortOptions {
  /** Creates the pipeline side of each connection (the server's `ClientService`). */
  acceptor: ConnectionAcceptor;
  /** Whether the server serves; connections are refused/closed while it does not. */
  serving: ServingSignal;
  clock: Clock;
  /** Listen address (default: every interface, as ZooKeeper's clientPortAddress default). */
  host?: string;
  /** Listen port (default 2181; 0 = any free port, see `address()`). */
  port?: number;
  /** Resource limits (defaults in limits.ts). */
  limits?: Partial<ClientPortLimits>;
  /** Enabled four-letter words (default `*`: all of them). */
  fourLetterWords?: FourLetterWordWhitelist;
  /** Server facts for the four-letter words. */
  info?: ServerInfoSource;
  /**
   * The server's statistics, which the port reports into and its four-letter words read
   * (default: the acceptor itself when it is one, as a `ClientService` is; otherwise the
   * port counts packets alone in a private `ServerStats`).
   */
  statistics?: StatisticsSource;
  /** The version reported by srvr/stat/mntr/envi (default `fullVersion()`). */
  version?: string;
  /** One line per noteworthy event (bad input, a limit hit). Default: silent. */
  log?: (line: string) => void;
}

/**
 * The server side of the statistics (a `ClientService` fits): the counters the port
 * reports into, and every connection the pipeline serves, over any front-end.
 */
export interface StatisticsSource {
  readonly stats: ServerStats;
  connections(): ConnectionStats[];
  /** `crst`. */
  resetConnectionStats(): void;
}

function isStatisticsSource(value: unknown): value is StatisticsSource {
  const v = value as Partial<StatisticsSource>;
  return v.stats instanceof ServerStats && typeof v.connections === 'function' && typeof v.resetConnectionStats === 'function';
}

/** Replies queued past this many bytes are written at once rather than at the end of the tick. */
const FLUSH_AT = 256 * 1024;

type Phase = 'initial' | 'handshake' | 'open' | 'fourLetterWord' | 'closing' | 'closed';

/** One client socket. */
class PortConnection implements ConnectionSink, FrontEndConnection {
  readonly seq: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  phase: Phase = 'initial';
  server: ServerConnection | undefined;
  knownOutstanding = 0;

  private readonly port: ClientPort;
  private readonly socket: Socket;
  private readonly decoder: FrameDecoder;
  private out = new JuteWriter(0);
  private flushScheduled = false;
  private pumpScheduled = false;
  private pumping = false;
  private paused = false;
  private waitingDrain = false;
  /** closeSession or an unknown opcode was passed on: nothing more is dispatched. */
  private stopped = false;
  /** The first 4 bytes were checked for a four-letter word (only they can be one). */
  private wordChecked = false;
  private pipelineClosed = false;
  private pipelineNotified = false;
  private handshakeTimer: TimerHandle | undefined;
  private closeTimer: TimerHandle | undefined;

  // This socket's packets: what `cons` shows while no pipeline connection has the socket
  // (a four-letter word, a refused handshake), or for a pipeline without statistics.
  // Reset by `crst`.
  received = 0;
  sent = 0;
  sessionId = 0n;
  timeout = 0;
  established = 0;
  lastActivity: number;

  constructor(port: ClientPort, socket: Socket, seq: number, remoteAddress: string, remotePort: number) {
    this.port = port;
    this.socket = socket;
    this.seq = seq;
    this.remoteAddress = remoteAddress;
    this.remotePort = remotePort;
    this.decoder = new FrameDecoder({ maxBuffer: port.limits.maxBuffer });
    this.lastActivity = port.clock.now();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {}); // 'close' follows; resets are a client's business
    socket.on('close', () => this.finish());
    socket.on('drain', () => {
      this.waitingDrain = false;
      this.schedulePump();
    });
    this.handshakeTimer = port.clock.setTimeout(() => {
      this.handshakeTimer = undefined;
      if (this.phase !== 'initial' && this.phase !== 'handshake') return;
      this.port.stats.unsuccessfulHandshakes++;
      this.port.logLine(`closing connection from ${this.describe()}: no handshake within ${this.port.limits.handshakeTimeoutMs} ms`);
      this.beginClose();
    }, port.limits.handshakeTimeoutMs);
  }

  // ---------------------------------------------------------------- ConnectionSink

  connectResponse(response: ConnectResponse): void {
    if (this.phase !== 'handshake') return;
    const out = this.out;
    const before = out.length;
    const at = out.reserveLength();
    writeConnectResponse(out, response);
    out.patchLength(at);
    this.port.stats.responseSizes.add(out.length - before);
    this.clearHandshakeTimer();
    this.sent++;
    if (this.port.countsPackets) this.port.stats.packetsSent++;
    if (response.timeOut > 0) {
      this.sessionId = response.sessionId;
      this.timeout = response.timeOut;
      this.established = this.port.clock.now();
      this.phase = 'open';
      this.schedulePump();
    }
    // An invalid session (timeOut 0) is followed by `close` from the pipeline.
    this.scheduleFlush();
  }

  reply(header: ReplyHeader, opcode: number, response?: unknown): void {
    if (this.phase === 'closing' || this.phase === 'closed') return;
    if (opcode === OpCode.ping && header.xid !== -2) header = { xid: -2, zxid: header.zxid, err: header.err };
    const out = this.out;
    const before = out.length;
    try {
      writeReply(out, header, opcode as ReplyOpCode, response as ResponseOf<ReplyOpCode>);
    } catch (error) {
      // A pipeline bug: keep the replies queued before it, drop the partial frame, close.
      this.port.logLine(`closing connection from ${this.describe()}: cannot encode the reply to opcode ${opcode}: ${(error as Error).message}`);
      const queued = out.finish().subarray(0, before);
      if (queued.length > 0) this.socket.write(queued);
      this.beginClose();
      return;
    }
    const stats = this.port.stats;
    stats.responseSizes.add(out.length - before);
    if (this.port.countsPackets) stats.packetsSent++;
    this.sent++;
    this.scheduleFlush();
    this.port.syncOutstanding(this);
    if (this.paused) this.schedulePump();
  }

  notification(event: WatcherEvent): void {
    if (this.phase === 'closing' || this.phase === 'closed') return;
    const out = this.out;
    const before = out.length;
    writeNotification(out, event);
    this.port.stats.responseSizes.add(out.length - before);
    if (this.port.countsPackets) this.port.stats.packetsSent++;
    this.sent++;
    this.scheduleFlush();
  }

  close(_reason: string): void {
    this.pipelineClosed = true;
    this.beginClose();
  }

  // ---------------------------------------------------------------- input

  private onData(chunk: Buffer): void {
    if (this.phase === 'closing' || this.phase === 'closed' || this.phase === 'fourLetterWord') return;
    this.port.stats.bytesReceived += chunk.length;
    this.lastActivity = this.port.clock.now();
    this.decoder.push(chunk);
    this.pump();
  }

  /** Dispatch buffered frames while nothing blocks, then pause or resume the socket. */
  pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      this.dispatch();
    } finally {
      this.pumping = false;
    }
    this.updateReading();
  }

  private dispatch(): void {
    for (;;) {
      const phase = this.phase;
      if (phase === 'closing' || phase === 'closed' || phase === 'fourLetterWord' || phase === 'handshake') return;
      if (phase === 'initial' && !this.wordChecked) {
        const head = this.decoder.peek(4);
        if (head === undefined) return;
        const word = fourLetterWordOf(head);
        if (word !== undefined) {
          const bytes = this.decoder.take(4 + fourLetterWordArgumentBytes(word));
          if (bytes !== undefined) this.runFourLetterWord(word, bytes.subarray(4));
          return;
        }
        this.wordChecked = true;
      }
      if (this.stopped) return;
      if (this.throttled()) return;
      let frame: Uint8Array | undefined;
      try {
        frame = this.decoder.next();
      } catch (error) {
        this.protocolError((error as Error).message);
        return;
      }
      if (frame === undefined) return;
      if (this.phase === 'initial') this.handleConnect(frame);
      else this.handleRequest(frame);
    }
  }

  /** Over a limit that stops reading (records where to be woken up). */
  private throttled(): boolean {
    const limits = this.port.limits;
    if (this.server !== undefined && this.server.outstanding >= limits.maxOutstandingPerConnection) return true;
    if (this.port.totalOutstanding >= limits.globalOutstandingLimit) {
      this.port.waitForCapacity(this);
      return true;
    }
    if (this.out.length >= FLUSH_AT) this.flush();
    // Blocked on output only while the kernel refuses more (a 'drain' is then due).
    if (this.socket.writableNeedDrain && this.socket.writableLength > limits.maxPendingOutputBytes) {
      this.waitingDrain = true;
      return true;
    }
    return false;
  }

  /** True when no more input should be read now. */
  private blocked(): boolean {
    const phase = this.phase;
    if (phase === 'handshake') return true;
    if (phase !== 'open' && phase !== 'initial') return false; // closing: irrelevant
    if (this.stopped) return true;
    const limits = this.port.limits;
    return (
      (this.server !== undefined && this.server.outstanding >= limits.maxOutstandingPerConnection) ||
      this.port.totalOutstanding >= limits.globalOutstandingLimit ||
      this.waitingDrain
    );
  }

  private updateReading(): void {
    if (this.phase === 'closing' || this.phase === 'closed') return;
    const block = this.blocked();
    if (block && !this.paused) {
      this.paused = true;
      if (this.phase === 'open' && !this.stopped) this.port.stats.throttledOps++;
      this.socket.pause();
    } else if (!block && this.paused) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private handleConnect(frame: Uint8Array): void {
    const port = this.port;
    this.received++;
    let request;
    try {
      request = decodeConnectRequest(frame, { maxBuffer: port.limits.maxBuffer });
    } catch (error) {
      port.countRefusedConnect();
      this.protocolError(`unreadable ConnectRequest: ${(error as Error).message}`);
      return;
    }
    if (!port.options.serving.serving && !port.readOnly()) {
      // §4.2 step 1: not serving → close without reply (the client tries another server).
      // A read-only server hands the request on: the pipeline takes read-only clients.
      port.countRefusedConnect();
      this.beginClose();
      return;
    }
    if (port.countsPackets) {
      port.stats.packetsReceived++;
      port.stats.connectionRequests++;
    }
    this.phase = 'handshake';
    try {
      const server = port.options.acceptor.accept(this, { remoteAddress: this.remoteAddress, remotePort: this.remotePort });
      this.server = server;
      server.connect(request);
    } catch (error) {
      port.logLine(`closing connection from ${this.describe()}: the server failed to accept it: ${(error as Error).message}`);
      this.beginClose();
    }
  }

  private handleRequest(frame: Uint8Array): void {
    const port = this.port;
    this.received++;
    // The pipeline counts what it is handed (requests, and frames it answers as invalid).
    if (port.countsPackets) port.stats.packetsReceived++;
    let decoded;
    try {
      decoded = decodeRequest(frame, { maxBuffer: port.limits.maxBuffer });
    } catch (error) {
      if (error instanceof UnknownOpcodeError) {
        // §6: Unimplemented, in order with the other replies, then the pipeline closes.
        port.logLine(`connection from ${this.describe()}: unknown opcode ${error.opcode} (xid ${error.xid}); answering Unimplemented and closing`);
        this.stopped = true;
        this.invalid(error.xid, error.opcode, ErrorCode.Unimplemented);
      } else if (error instanceof RequestDecodeError) {
        port.logLine(`connection from ${this.describe()}: unparsable request body (${error.message}); answering MarshallingError`);
        this.invalid(error.xid, error.opcode, ErrorCode.MarshallingError);
      } else {
        if (!port.countsPackets) port.stats.packetsReceived++;
        this.protocolError(`unreadable request header: ${(error as Error).message}`);
      }
      return;
    }
    const { xid, type } = decoded.header;
    // §9.4: after closeSession nothing more is read.
    if (type === OpCode.closeSession) this.stopped = true;
    try {
      this.server!.request(xid, decoded.request);
    } catch (error) {
      this.pipelineFailure(type, error);
      return;
    }
    port.syncOutstanding(this);
  }

  private invalid(xid: number, opcode: number, err: number): void {
    try {
      this.server!.invalid(xid, opcode, err);
    } catch (error) {
      this.pipelineFailure(opcode, error);
      return;
    }
    this.port.syncOutstanding(this);
  }

  /** The pipeline threw on a request (a bug there): close this connection, keep the server up. */
  private pipelineFailure(opcode: number, error: unknown): void {
    this.port.logLine(`closing connection from ${this.describe()}: the server failed on opcode ${opcode}: ${error instanceof Error ? error.message : String(error)}`);
    this.beginClose();
  }

  private runFourLetterWord(word: string, argument: Uint8Array): void {
    const port = this.port;
    this.phase = 'fourLetterWord';
    this.clearHandshakeTimer();
    this.received = 1;
    port.stats.packetsReceived++;
    if (word === TELNET_CLOSE) {
      this.beginClose();
      return;
    }
    let text: string;
    try {
      text = runFourLetterWord(word, port.fourLetterWordContext(), port.whitelist, argument);
    } catch (error) {
      port.logLine(`four-letter word ${word} failed: ${(error as Error).message}`);
      text = '';
    }
    port.stats.packetsSent++;
    this.phase = 'closing';
    this.socket.end(text);
    this.armCloseTimer();
  }

  // ---------------------------------------------------------------- statistics

  /** `FrontEndConnection`: 1 while reading, +4 while output is pending (a four-letter word's connection reads no more). */
  interestOps(): number {
    const reading = this.phase === 'open' || this.phase === 'initial' || this.phase === 'handshake';
    return (reading && !this.paused ? 1 : 0) | (this.socket.writableLength + this.out.length > 0 ? 4 : 0);
  }

  /** True while the pipeline has this socket's connection (its statistics are the pipeline's). */
  get inPipeline(): boolean {
    return this.server !== undefined && !this.pipelineClosed && !this.pipelineNotified;
  }

  /** `crst`. */
  resetStats(): void {
    this.received = 0;
    this.sent = 0;
  }

  /** This socket as `cons` lists it from the port's own counters (no per-request fields: the pipeline keeps those). */
  snapshot(): ConnectionSnapshot {
    const snapshot: ConnectionSnapshot = {
      remoteAddress: this.remoteAddress,
      remotePort: this.remotePort,
      interestOps: this.interestOps(),
      queued: this.server?.outstanding ?? 0,
      received: this.received,
      sent: this.sent,
    };
    if (this.sessionId !== 0n) {
      snapshot.session = {
        sessionId: this.sessionId,
        lastOp: 'NA',
        established: this.established,
        timeout: this.timeout,
        lastCxid: -1,
        lastZxid: -1,
        lastResponseTime: 0,
        lastLatency: 0,
        minLatency: 0,
        avgLatency: 0,
        maxLatency: 0,
      };
    }
    return snapshot;
  }

  // ---------------------------------------------------------------- output and closing

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.port.clock.defer(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.out.length === 0 || this.phase === 'closed') return;
    this.port.socketWrites++;
    this.socket.write(this.out.finish());
  }

  schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    this.port.clock.defer(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private protocolError(message: string): void {
    this.port.logLine(`closing connection from ${this.describe()}: ${message}`);
    this.beginClose();
  }

  /** Stop reading, write what is queued, end the socket; the pipeline hears `closed()` unless it closed us. */
  beginClose(): void {
    if (this.phase === 'closing' || this.phase === 'closed') return;
    this.phase = 'closing';
    this.clearHandshakeTimer();
    this.notifyPipeline();
    if (this.out.length > 0) this.socket.write(this.out.finish());
    this.socket.end();
    // Drain (and ignore) whatever the client still sends, so its FIN completes the close.
    if (this.paused) this.socket.resume();
    this.armCloseTimer();
  }

  private armCloseTimer(): void {
    if (this.closeTimer !== undefined) return;
    this.closeTimer = this.port.clock.setTimeout(() => {
      this.closeTimer = undefined;
      this.socket.destroy();
    }, this.port.limits.closeGraceMs);
  }

  /** Close at once (port shutdown). */
  destroy(): void {
    this.beginClose();
    this.socket.destroy();
  }

  private notifyPipeline(): void {
    if (this.pipelineNotified || this.server === undefined) return;
    this.pipelineNotified = true;
    if (this.pipelineClosed) return;
    try {
      this.server.closed();
    } catch (error) {
      this.port.logLine(`connection from ${this.describe()}: the server failed to release it: ${(error as Error).message}`);
    }
  }

  private finish(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.clearHandshakeTimer();
    if (this.closeTimer !== undefined) {
      this.port.clock.clearTimeout(this.closeTimer);
      this.closeTimer = undefined;
    }
    this.notifyPipeline();
    this.out = new JuteWriter(0);
    this.port.removeConnection(this);
  }

  private clearHandshakeTimer(): void {
    if (this.handshakeTimer === undefined) return;
    this.port.clock.clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
  }

  describe(): string {
    return `/${this.remoteAddress}:${this.remotePort}${this.sessionId !== 0n ? ` (session 0x${BigInt.asUintN(64, this.sessionId).toString(16)})` : ''}`;
  }
}

/** A listening ZooKeeper client port. See the module comment. */
export class ClientPort {
  readonly options: ClientPortOptions;
  readonly limits: ClientPortLimits;
  readonly clock: Clock;
  readonly whitelist: FourLetterWordWhitelist;
  /** The server's statistics this port reports into (shared with every other front-end of the server). */
  readonly stats: ServerStats;
  /** Where the statistics come from (undefined: a pipeline without statistics; the port counts alone). */
  readonly statistics: StatisticsSource | undefined;
  /** @internal The port counts pipeline packets itself (no statistics source). */
  readonly countsPackets: boolean;
  /** Requests in flight over every connection. */
  totalOutstanding = 0;
  /** Socket writes of frames so far (replies of one tick share one write). */
  socketWrites = 0;

  private readonly listener: Server;
  private readonly connectionSet = new Set<PortConnection>();
  private readonly perAddress = new Map<string, number>();
  private readonly waiting = new Set<PortConnection>();
  private wakeScheduled = false;
  private seq = 0;
  private closed = false;
  private traceMask = DEFAULT_TRACE_MASK;
  private readonly startedAt: number;
  private readonly onServing = (serving: boolean): void => {
    if (serving) return;
    // §9.5: a server that stops serving closes its client connections.
    for (const c of [...this.connectionSet]) if (c.phase === 'open' || c.phase === 'handshake') c.beginClose();
  };

  private constructor(options: ClientPortOptions, listener: Server) {
    this.options = options;
    this.limits = resolveLimits(options.limits);
    this.clock = options.clock;
    this.whitelist = options.fourLetterWords ?? '*';
    this.statistics = options.statistics ?? (isStatisticsSource(options.acceptor) ? options.acceptor : undefined);
    this.stats = this.statistics?.stats ?? new ServerStats();
    this.countsPackets = this.statistics === undefined;
    this.listener = listener;
    this.startedAt = options.clock.now();
    options.serving.on('serving', this.onServing);
  }

  /** Listen and resolve once the port accepts connections. */
  static listen(options: ClientPortOptions): Promise<ClientPort> {
    const listener = createServer({ noDelay: true });
    const port = new ClientPort(options, listener);
    listener.on('connection', (socket) => port.accept(socket));
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => {
        options.serving.off('serving', port.onServing);
        reject(error);
      };
      listener.once('error', onError);
      listener.listen({ host: options.host, port: options.port ?? 2181 }, () => {
        listener.off('error', onError);
        listener.on('error', (error) => port.logLine(`client port error: ${error.message}`));
        resolve(port);
      });
    });
  }

  /** The address actually bound (the real port when 0 was asked for). */
  address(): { host: string; port: number } {
    const address = this.listener.address();
    if (address === null || typeof address === 'string') throw new Error('client port is not listening');
    return { host: address.address, port: address.port };
  }

  /** Open client connections (four-letter-word connections included). */
  get connectionCount(): number {
    return this.connectionSet.size;
  }

  /** Stop listening and close every connection; resolves once the listener closed. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.options.serving.off('serving', this.onServing);
    for (const c of [...this.connectionSet]) c.destroy();
    return new Promise((resolve) => this.listener.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const address = ipIdOf(socket.remoteAddress ?? '');
    const max = this.limits.maxClientCnxns;
    const count = this.perAddress.get(address) ?? 0;
    if (max > 0 && count >= max) {
      this.stats.connectionsRejected++;
      this.logLine(`Too many connections from /${address} - max is ${max}`);
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    this.perAddress.set(address, count + 1);
    const connection = new PortConnection(this, socket, ++this.seq, address, socket.remotePort ?? 0);
    this.connectionSet.add(connection);
  }

  /** @internal A connection's socket closed. */
  removeConnection(connection: PortConnection): void {
    if (!this.connectionSet.delete(connection)) return;
    this.waiting.delete(connection);
    const count = (this.perAddress.get(connection.remoteAddress) ?? 1) - 1;
    if (count <= 0) this.perAddress.delete(connection.remoteAddress);
    else this.perAddress.set(connection.remoteAddress, count);
    this.totalOutstanding -= connection.knownOutstanding;
    connection.knownOutstanding = 0;
    this.wakeWaiting();
  }

  /** @internal Track a connection's requests in flight in the port total. */
  syncOutstanding(connection: PortConnection): void {
    const now = connection.server?.outstanding ?? 0;
    if (now === connection.knownOutstanding) return;
    this.totalOutstanding += now - connection.knownOutstanding;
    connection.knownOutstanding = now;
    this.wakeWaiting();
  }

  /** @internal A connection stopped reading because the port is over its limit. */
  waitForCapacity(connection: PortConnection): void {
    this.waiting.add(connection);
  }

  private wakeWaiting(): void {
    if (this.waiting.size === 0 || this.wakeScheduled || this.totalOutstanding >= this.limits.globalOutstandingLimit) return;
    this.wakeScheduled = true;
    this.clock.defer(() => {
      this.wakeScheduled = false;
      const waiting = [...this.waiting];
      this.waiting.clear();
      for (const c of waiting) c.pump();
    });
  }

  /** @internal The server's last processed zxid (srvr's Zxid). */
  lastZxid(): number {
    return this.options.info?.lastZxid?.() ?? 0;
  }

  /** @internal True while the server serves read-only clients (no quorum, read-only mode on). */
  readOnly(): boolean {
    return this.options.info?.readOnly?.() ?? false;
  }

  /** @internal A ConnectRequest refused before the pipeline saw it (unreadable, or not serving). */
  countRefusedConnect(): void {
    this.stats.packetsReceived++;
    this.stats.connectionRequests++;
    this.stats.unsuccessfulHandshakes++;
  }

  /** This port's sockets that no pipeline connection stands for (four-letter words, refused handshakes). */
  private socketsOutsidePipeline(): PortConnection[] {
    if (this.statistics === undefined) return [...this.connectionSet];
    const list: PortConnection[] = [];
    for (const c of this.connectionSet) if (!c.inPipeline) list.push(c);
    return list;
  }

  /** @internal One log line (the injected logger; silent by default). */
  logLine(line: string): void {
    this.options.log?.(line);
  }

  // ---------------------------------------------------------------- four-letter words

  /** The numbers of `srvr`/`stat` right now. */
  serverStats(): ServerStatsSnapshot {
    const info = this.options.info;
    const s = this.stats;
    const leader = info?.leader?.();
    const pipeline = this.statistics?.connections() ?? [];
    let outstanding = 0;
    if (this.statistics !== undefined) for (const c of pipeline) outstanding += c.outstanding;
    else for (const c of this.connectionSet) outstanding += c.server?.outstanding ?? 0;
    return {
      version: this.options.version ?? fullVersion(),
      readOnly: info?.readOnly?.() ?? false,
      latency: { min: s.latency.min, avg: s.latency.avg, max: s.latency.max },
      packetsReceived: s.packetsReceived,
      packetsSent: s.packetsSent,
      connections: pipeline.length + this.socketsOutsidePipeline().length,
      outstanding,
      zxid: this.lastZxid(),
      mode: info?.mode?.() ?? 'standalone',
      nodeCount: info?.nodeCount?.() ?? 0,
      ...(leader !== undefined ? { proposalSizes: leader.proposalSizes } : {}),
    };
  }

  /** Every connection as `stat` and `cons` list it: the server's (any front-end), then this port's other sockets. */
  connectionSnapshots(): ConnectionSnapshot[] {
    const list = (this.statistics?.connections() ?? []).map(connectionSnapshot);
    for (const c of this.socketsOutsidePipeline()) list.push(c.snapshot());
    return list;
  }

  /** `dump`'s connections, grouped by when they expire if they stay silent. */
  private connectionExpiry(): ConnectionExpiryDump {
    const interval = this.limits.handshakeTimeoutMs;
    const bucketOf = (at: number): number => (Math.floor(at / interval) + 1) * interval;
    const buckets = new Map<number, Array<{ remoteAddress: string; remotePort: number; sessionId: bigint }>>();
    const add = (expiresAt: number, remoteAddress: string, remotePort: number, sessionId: bigint): void => {
      let list = buckets.get(expiresAt);
      if (list === undefined) buckets.set(expiresAt, (list = []));
      list.push({ remoteAddress, remotePort, sessionId });
    };
    for (const c of this.statistics?.connections() ?? []) {
      const shown = connectionSnapshot(c);
      add(bucketOf(c.expiresAt > 0 ? c.expiresAt : c.established + interval), shown.remoteAddress, shown.remotePort, c.sessionId);
    }
    for (const c of this.socketsOutsidePipeline()) {
      add(bucketOf(c.lastActivity + (c.timeout > 0 ? c.timeout : interval)), c.remoteAddress, c.remotePort, c.sessionId);
    }
    return { buckets: [...buckets].map(([expiresAt, connections]) => ({ expiresAt, connections })) };
  }

  /** @internal The context the four-letter words run in. */
  fourLetterWordContext(): FourLetterWordContext {
    const port = this;
    const info = this.options.info ?? {};
    return {
      // A read-only server answers the words as a serving one does.
      serving: () => port.options.serving.serving || port.readOnly(),
      readOnly: () => port.readOnly(),
      stats: () => port.serverStats(),
      connections: () => port.connectionSnapshots(),
      watchSummary: () => info.watchSummary?.() ?? { watchers: 0, paths: 0, total: 0 },
      watchListing: () => info.watchListing?.() ?? { byConnection: [], byPath: [] },
      dump: () => ({
        sessions: info.sessionDump?.() ?? { kind: 'learner', sessions: [] },
        ephemerals: info.ephemerals?.() ?? [],
        connections: port.connectionExpiry(),
      }),
      conf: () => port.conf(),
      environment: () => info.environment?.() ?? [['zookeeper.version', port.options.version ?? fullVersion()]],
      monitor: () => port.monitor(),
      dirs: () => info.dirs?.() ?? { dataDirSize: 0, logDirSize: 0 },
      resetServerStats: () => port.stats.reset(),
      resetConnectionStats: () => {
        port.statistics?.resetConnectionStats();
        for (const c of port.connectionSet) c.resetStats();
      },
      get traceMask() {
        return port.traceMask;
      },
      set traceMask(mask: bigint) {
        port.traceMask = mask;
      },
    };
  }

  private conf(): ConfSnapshot {
    const fromServer = this.options.info?.conf?.() ?? {};
    let clientPort = 0;
    try {
      clientPort = this.address().port;
    } catch {
      // closed
    }
    return {
      clientPort,
      dataDir: '',
      dataDirSize: 0,
      dataLogDir: '',
      dataLogSize: 0,
      tickTime: 0,
      minSessionTimeout: 0,
      maxSessionTimeout: 0,
      serverId: 0,
      ...fromServer,
      maxClientCnxns: this.limits.maxClientCnxns,
    };
  }

  private monitor(): MonitorSnapshot {
    const info = this.options.info ?? {};
    const s = this.stats;
    const fds = info.fileDescriptors?.();
    const leader = info.leader?.();
    return {
      stats: this.serverStats(),
      peerState: info.peerState?.() ?? '',
      ephemeralsCount: (info.ephemerals?.() ?? []).reduce((n, e) => n + e.paths.length, 0),
      globalSessions: info.globalSessions?.() ?? 0,
      localSessions: info.localSessions?.() ?? 0,
      watchCount: info.watchCount?.() ?? 0,
      approximateDataSize: info.approximateDataSize?.() ?? 0,
      uptimeMs: this.clock.now() - (info.startedAt?.() ?? this.startedAt),
      quorumSize: info.quorumSize?.() ?? 1,
      ...(fds !== undefined ? { openFileDescriptors: fds.open, maxFileDescriptors: fds.max } : {}),
      authFailed: s.authFailed,
      lastClientResponseSize: s.responseSizes.last,
      minClientResponseSize: s.responseSizes.min,
      maxClientResponseSize: s.responseSizes.max,
      bytesReceived: s.bytesReceived,
      responseBytes: s.responseSizes.total,
      connectionRequests: s.connectionRequests,
      connectionsRejected: s.connectionsRejected,
      unsuccessfulHandshakes: s.unsuccessfulHandshakes,
      throttledOps: s.throttledOps,
      largeRequestsRejected: s.largeRequestsRejected,
      ...(leader !== undefined ? { leader } : {}),
    };
  }
}
