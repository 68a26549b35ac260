/**
 * The TCP transport: one authenticated connection per pair of servers, frames of
 * `length:u32` + a peer-codec batch (optionally over TLS).
 *
 * Frames: all batches sent to one peer in one tick travel in one frame
 * (`encodePeerBatches`), split at batch boundaries if it would pass `maxFrameBytes`.
 *
 * Connections (ZooKeeper's rule, reference §16.3): only a connection initiated by the
 * higher id survives. Both sides dial while disconnected; an authenticated connection
 * from a lower id is answered "I will dial you" and closed, and the higher side dials
 * back at once, so a restarted lower server reconnects without waiting out the higher
 * one's backoff. A connection is `connected` only once authenticated and chosen; at most
 * one is active per peer, and its break is reported once as `disconnected`, followed by
 * reconnection with exponential backoff and jitter.
 *
 * FIFO and gaps: batches go out in order on the active connection only. If a peer reads
 * too slowly and the socket's buffered bytes pass `maxBufferedBytes`, the connection is
 * closed (reported as a disconnect) rather than dropping a batch from its middle, so
 * FIFO-while-connected stays true.
 *
 * Untrusted input: a malformed frame, an oversized length prefix, a truncated frame, a
 * failed or slow handshake, an unknown id close that one connection with a `warning`;
 * the transport keeps serving everyone else.
 *
 * Unknown peers (`acceptUnknownPeers`, for dynamic reconfiguration): a server about to
 * join an ensemble knows the members, but they do not know it until the reconfig that
 * adds it commits, and that reconfig needs it connected and synchronized first. With the
 * option, an authenticated connection from an id missing from the address book is
 * accepted if that id is higher (the side that dials and wins); it has no address, so it
 * is never dialled and is forgotten when it disconnects, until an address book lists it.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { EventEmitter } from 'eventemitter3';
import { decodePeerBatches, decodePlain, encodePeerBatches, encodePlain, type PeerDecodeLimits } from '../protocol/peer-codec.js';
import type { PeerMessage, ServerId } from '../protocol/peer.js';
import { systemClock, type Clock, type TimerHandle } from '../runtime/clock.js';
import { systemRandom, type Random } from '../runtime/random.js';
import { FRAME_HEADER_BYTES, FrameError, FrameReader, sealFrame } from './frame.js';
import {
  HANDSHAKE_VERSION,
  MAX_HANDSHAKE_FRAME,
  handshakeMac,
  isMessage,
  isNonce,
  isServerId,
  macEquals,
  nonce,
  type Challenge,
  type Hello,
  type Proof,
  type Welcome,
} from './handshake.js';
import type { Transport, TransportEvents } from './types.js';

/** Where a server listens for its peers. */
export interface PeerAddress {
  host: string;
  port: number;
}

/** TLS settings: both sides of every connection use them. */
export interface TcpTlsOptions {
  /** Options of the listening side (key, cert, ca, requestCert...). */
  server: tls.TlsOptions;
  /** Options of the dialing side (ca, cert, key, servername, rejectUnauthorized...). */
  client: tls.ConnectionOptions;
}

/** Options of `TcpTransport.listen`. */
export interface TcpTransportOptions {
  /** This server's id. */
  self: ServerId;
  /** The shared ensemble secret (UTF-8 string or bytes); every peer must know it. */
  secret: string | Uint8Array;
  /** The address book; may be given later with `setPeers`. Entries for `self` are ignored. */
  peers?: Iterable<[ServerId, PeerAddress]>;
  /** Where to listen; default: this server's address-book entry, else 127.0.0.1 on a free port. */
  listen?: { host?: string; port?: number };
  /** Timers (handshake timeout, reconnect backoff) and the per-tick flush; default `systemClock`. */
  clock?: Clock;
  /** Backoff jitter; default `systemRandom()`. */
  random?: Random;
  /** Largest frame body accepted or sent; default 64 MiB (room for snapshot chunks). */
  maxFrameBytes?: number;
  /** Buffered outgoing bytes per connection beyond which it is closed as too slow; default 256 MiB. */
  maxBufferedBytes?: number;
  /** Handshake (including connect) deadline; default 5000 ms. */
  handshakeTimeoutMs?: number;
  /** First reconnect delay; default 50 ms. */
  reconnectInitialMs?: number;
  /** Largest reconnect delay; default 5000 ms. */
  reconnectMaxMs?: number;
  /** Inbound connections allowed to be mid-handshake at once; default 64. */
  maxPendingHandshakes?: number;
  /** Decoder limits for received batches (maxBytes is always the frame limit). */
  decodeLimits?: PeerDecodeLimits;
  /** Use TLS for every connection. */
  tls?: TcpTlsOptions;
  /**
   * Accept authenticated connections from higher ids missing from the address book (a
   * server joining by reconfiguration); see the module comment. Default false.
   */
  acceptUnknownPeers?: boolean;
}

/** Counters, for tests and monitoring. */
export interface TcpTransportStats {
  /** Connections closed because of bad input or a failed handshake. */
  rejected: number;
  /** Connections closed because the peer read too slowly. */
  overflows: number;
  /** Batches dropped because the peer was not connected. */
  droppedBatches: number;
  /** Connections closed because a single batch exceeded the frame limit. */
  oversized: number;
}

/** Socket errors that are expected while peers restart or move. */
const ROUTINE_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED', 'EADDRNOTAVAIL']);

type Phase = 'connecting' | 'awaitChallenge' | 'awaitWelcome' | 'awaitHello' | 'awaitProof' | 'active' | 'closed';

/** One socket, from connect/accept through handshake to active use. */
class Connection {
  readonly socket: net.Socket;
  readonly dialer: boolean;
  phase: Phase;
  /** The peer's id: the dial target, or the id claimed in `hello` (trusted once authenticated). */
  peer: ServerId | undefined;
  readonly reader: FrameReader;
  readonly myNonce = nonce();
  peerNonce: Uint8Array | undefined;
  /** Event sequence number when `hello` arrived / the connection became active. */
  helloSeq = 0;
  activeSeq = 0;
  timer: TimerHandle | null = null;
  /** Counted in the transport's pending inbound handshakes. */
  pendingInbound = false;
  /** Batches sent this tick, encoded together into one frame at the flush. */
  out: PeerMessage[][] = [];
  readonly closedPromise: Promise<void>;

  constructor(socket: net.Socket, dialer: boolean, peer: ServerId | undefined) {
    this.socket = socket;
    this.dialer = dialer;
    this.peer = peer;
    this.phase = dialer ? 'connecting' : 'awaitHello';
    this.reader = new FrameReader(MAX_HANDSHAKE_FRAME);
    this.closedPromise = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  describe(): string {
    const who = this.peer === undefined ? 'unidentified peer' : `peer ${this.peer}`;
    return `${who} (${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}, ${this.dialer ? 'outbound' : 'inbound'})`;
  }
}

interface PeerState {
  readonly id: ServerId;
  address: PeerAddress | undefined;
  active: Connection | null;
  dial: Connection | null;
  retry: TimerHandle | null;
  attempt: number;
}

/** A server's endpoint on a TCP peer network. Create it with `TcpTransport.listen`. */
export class TcpTransport extends EventEmitter<TransportEvents> implements Transport {
  /** This server's id. */
  readonly self: ServerId;
  /** Counters (rejected connections, overflows, dropped batches). */
  readonly stats: TcpTransportStats = { rejected: 0, overflows: 0, droppedBatches: 0, oversized: 0 };

  private readonly secret: Uint8Array;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly maxFrameBytes: number;
  private readonly maxBufferedBytes: number;
  private readonly handshakeTimeoutMs: number;
  private readonly reconnectInitialMs: number;
  private readonly reconnectMaxMs: number;
  private readonly maxPendingHandshakes: number;
  private readonly decodeLimits: PeerDecodeLimits;
  private readonly tlsOptions: TcpTlsOptions | undefined;
  private readonly acceptUnknownPeers: boolean;
  private readonly server: net.Server;
  private readonly peers = new Map<ServerId, PeerState>();
  private readonly connections = new Set<Connection>();
  private pendingInbound = 0;
  private seq = 0;
  private dirty: Connection[] = [];
  private scheduled = false;
  private closed = false;
  private closing: Promise<void> | null = null;
  private readonly flushFn = (): void => this.flush();

  private constructor(options: TcpTransportOptions) {
    super();
    this.self = options.self;
    this.secret = typeof options.secret === 'string' ? new TextEncoder().encode(options.secret) : options.secret;
    if (this.secret.length === 0) throw new Error('TcpTransport: the ensemble secret must not be empty');
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? systemRandom();
    this.maxFrameBytes = options.maxFrameBytes ?? 64 * 1024 * 1024;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 256 * 1024 * 1024;
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? 5000;
    this.reconnectInitialMs = options.reconnectInitialMs ?? 50;
    this.reconnectMaxMs = options.reconnectMaxMs ?? 5000;
    this.maxPendingHandshakes = options.maxPendingHandshakes ?? 64;
    this.decodeLimits = { ...options.decodeLimits, maxBytes: this.maxFrameBytes };
    this.tlsOptions = options.tls;
    this.acceptUnknownPeers = options.acceptUnknownPeers ?? false;
    const onSocket = (socket: net.Socket): void => this.accept(socket);
    if (this.tlsOptions) {
      const server = tls.createServer({ handshakeTimeout: this.handshakeTimeoutMs, ...this.tlsOptions.server }, onSocket);
      server.on('tlsClientError', (err) => this.warn(`TLS handshake with an inbound peer failed: ${err.message}`));
      this.server = server;
    } else {
      this.server = net.createServer(onSocket);
    }
    this.server.on('error', (err) => this.warn(`listener error: ${err.message}`));
  }

  /** Create a transport, listen, and start connecting to the address book. */
  static async listen(options: TcpTransportOptions): Promise<TcpTransport> {
    const transport = new TcpTransport(options);
    const book = new Map(options.peers ?? []);
    const own = book.get(options.self);
    const host = options.listen?.host ?? own?.host ?? '127.0.0.1';
    const port = options.listen?.port ?? own?.port ?? 0;
    await new Promise<void>((resolve, reject) => {
      transport.server.once('error', reject);
      transport.server.listen(port, host, () => {
        transport.server.off('error', reject);
        resolve();
      });
    });
    transport.setPeers(book);
    return transport;
  }

  /** The address this transport listens on (with the real port when 0 was asked). */
  address(): PeerAddress {
    const a = this.server.address() as net.AddressInfo;
    return { host: a.address, port: a.port };
  }

  /**
   * Replace the address book. New peers are dialled, peers no longer listed are
   * disconnected, a changed address applies to the next dial.
   */
  setPeers(book: Iterable<[ServerId, PeerAddress]>): void {
    if (this.closed) return;
    const next = new Map(book);
    next.delete(this.self);
    for (const [id, st] of this.peers) {
      if (!next.has(id) && st.address !== undefined) {
        this.clearRetry(st);
        if (st.dial) this.drop(st.dial);
        if (st.active) this.drop(st.active);
        this.peers.delete(id);
      }
    }
    for (const [id, address] of next) {
      let st = this.peers.get(id);
      if (!st) {
        st = { id, address, active: null, dial: null, retry: null, attempt: 0 };
        this.peers.set(id, st);
        this.dial(st);
      } else {
        const changed = st.address?.host !== address.host || st.address?.port !== address.port;
        st.address = address;
        if (changed && !st.active && !st.dial) {
          this.clearRetry(st);
          st.attempt = 0;
          this.dial(st);
        }
      }
    }
  }

  /** Add or update one address-book entry. */
  setPeer(id: ServerId, address: PeerAddress): void {
    const book = new Map<ServerId, PeerAddress>();
    for (const [pid, st] of this.peers) if (st.address) book.set(pid, st.address);
    book.set(id, address);
    this.setPeers(book);
  }

  /**
   * Queue a batch for `to`; the batches of one tick to one peer travel in one frame.
   * Dropped (and counted) if `to` is not connected.
   */
  send(to: ServerId, messages: readonly PeerMessage[]): void {
    if (this.closed) return;
    const conn = this.peers.get(to)?.active;
    if (!conn) {
      this.stats.droppedBatches++;
      return;
    }
    if (conn.out.length === 0) this.dirty.push(conn);
    conn.out.push(messages as PeerMessage[]);
    if (!this.scheduled) {
      this.scheduled = true;
      this.clock.defer(this.flushFn);
    }
  }

  /** Peers with an active connection. */
  connectedPeers(): ServerId[] {
    const out: ServerId[] = [];
    for (const st of this.peers.values()) if (st.active) out.push(st.id);
    return out;
  }

  /** Stop listening, close every connection (letting sent batches drain), cancel every timer; idempotent. */
  close(): Promise<void> {
    return this.shutdown(true);
  }

  /** Close abruptly, as a crash would: sockets are destroyed, unsent data is lost. */
  destroy(): Promise<void> {
    return this.shutdown(false);
  }

  private shutdown(graceful: boolean): Promise<void> {
    if (this.closing) return this.closing;
    if (graceful) this.flush(); // batches sent before close still go out
    this.closed = true;
    for (const st of this.peers.values()) this.clearRetry(st);
    const sockets = [...this.connections].map((c) => c.closedPromise);
    for (const conn of [...this.connections]) this.drop(conn, graceful);
    const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.closing = Promise.all([serverClosed, ...sockets]).then(() => undefined);
    return this.closing;
  }

  // ------------------------------------------------------------ connections

  private dial(st: PeerState): void {
    if (this.closed || st.active || st.dial || !st.address) return;
    const { host, port } = st.address;
    const socket = this.tlsOptions
      ? tls.connect({ ...this.tlsOptions.client, host, port })
      : net.connect({ host, port });
    const conn = new Connection(socket, true, st.id);
    st.dial = conn;
    this.track(conn);
    socket.once(this.tlsOptions ? 'secureConnect' : 'connect', () => {
      if (conn.phase !== 'connecting') return;
      conn.phase = 'awaitChallenge';
      this.write(conn, encodePlain({ t: 'hello', v: HANDSHAKE_VERSION, id: this.self, nonce: conn.myNonce } satisfies Hello));
    });
  }

  private accept(socket: net.Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    if (this.pendingInbound >= this.maxPendingHandshakes) {
      this.warn(`too many pending handshakes; refusing ${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`);
      socket.destroy();
      return;
    }
    this.pendingInbound++;
    const conn = new Connection(socket, false, undefined);
    conn.pendingInbound = true;
    this.track(conn);
  }

  /** Wire a new socket's events and its handshake deadline. */
  private track(conn: Connection): void {
    this.connections.add(conn);
    const socket = conn.socket;
    socket.setNoDelay(true);
    conn.timer = this.clock.setTimeout(() => {
      conn.timer = null;
      // An unreachable peer is routine while it is down (retry quietly); a peer that
      // connects and then stalls the handshake is worth a warning.
      if (conn.phase === 'connecting') this.drop(conn);
      else this.reject(conn, 'handshake timed out');
    }, this.handshakeTimeoutMs);
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    // Refused or reset connections are routine while a peer restarts: the disconnect
    // (or the retry) is the report. Anything else (a TLS certificate problem) is logged.
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (conn.phase !== 'closed' && !ROUTINE_ERRORS.has(err.code ?? '')) this.warn(`connection with ${conn.describe()} failed: ${err.message}`);
      this.drop(conn);
    });
    socket.on('end', () => {
      if (conn.reader.pendingBytes > 0) this.reject(conn, `connection closed in the middle of a frame (${conn.reader.pendingBytes} bytes pending)`);
      else this.drop(conn);
    });
    // A peer that never finishes a graceful close must not keep the socket forever.
    socket.on('timeout', () => socket.destroy());
    socket.once('close', () => {
      this.drop(conn);
      this.connections.delete(conn);
    });
  }

  private onData(conn: Connection, chunk: Buffer): void {
    if (conn.phase === 'closed') return;
    try {
      conn.reader.push(chunk, (body) => {
        this.onFrame(conn, body);
        return conn.phase !== 'closed';
      });
    } catch (err) {
      if (err instanceof FrameError) this.reject(conn, err.message);
      else throw err;
    }
  }

  private onFrame(conn: Connection, body: Buffer): void {
    if (conn.phase === 'active') {
      let batches: PeerMessage[][];
      try {
        batches = decodePeerBatches(body, this.decodeLimits);
      } catch (err) {
        this.reject(conn, `malformed batch: ${(err as Error).message}`);
        return;
      }
      const peer = conn.peer!;
      for (let i = 0; i < batches.length && conn.phase === 'active'; i++) this.emit('message', peer, batches[i]!);
      return;
    }
    let msg: unknown;
    try {
      msg = decodePlain(body, { maxBytes: MAX_HANDSHAKE_FRAME, maxDepth: 2, maxValues: 16 });
    } catch (err) {
      this.reject(conn, `malformed handshake: ${(err as Error).message}`);
      return;
    }
    switch (conn.phase) {
      case 'awaitHello':
        return this.onHello(conn, msg);
      case 'awaitChallenge':
        return this.onChallenge(conn, msg);
      case 'awaitProof':
        return this.onProof(conn, msg);
      case 'awaitWelcome':
        return this.onWelcome(conn, msg);
      default:
        this.reject(conn, `unexpected frame while ${conn.phase}`);
    }
  }

  private onHello(conn: Connection, msg: unknown): void {
    if (!isMessage<Hello>(msg, 'hello') || !isServerId(msg.id) || !isNonce(msg.nonce)) return this.reject(conn, 'bad hello');
    if (msg.v !== HANDSHAKE_VERSION) return this.reject(conn, `unsupported handshake version ${String(msg.v)}`);
    if (msg.id === this.self) return this.reject(conn, `unknown server id ${msg.id}`);
    if (!this.peers.has(msg.id)) {
      if (!this.acceptUnknownPeers || msg.id < this.self) return this.reject(conn, `unknown server id ${msg.id}`);
      // A joining server: known from now on, with no address (never dialled).
      this.peers.set(msg.id, { id: msg.id, address: undefined, active: null, dial: null, retry: null, attempt: 0 });
    }
    conn.peer = msg.id;
    conn.peerNonce = msg.nonce;
    conn.helloSeq = ++this.seq;
    conn.phase = 'awaitProof';
    const mac = handshakeMac(this.secret, 'acceptor', msg.nonce, conn.myNonce, msg.id, this.self);
    this.write(conn, encodePlain({ t: 'challenge', id: this.self, nonce: conn.myNonce, mac } satisfies Challenge));
  }

  private onChallenge(conn: Connection, msg: unknown): void {
    if (!isMessage<Challenge>(msg, 'challenge') || !isServerId(msg.id) || !isNonce(msg.nonce)) return this.reject(conn, 'bad challenge');
    if (msg.id !== conn.peer) return this.reject(conn, `dialled server ${conn.peer} but reached server ${msg.id}`);
    const expected = handshakeMac(this.secret, 'acceptor', conn.myNonce, msg.nonce, this.self, conn.peer);
    if (!macEquals(expected, msg.mac)) return this.reject(conn, 'authentication failed (wrong ensemble secret?)');
    const st = this.peers.get(conn.peer);
    if (!st || st.dial !== conn) return this.drop(conn);
    if (st.active) return this.drop(conn); // connected meanwhile (the higher id dialled us)
    conn.peerNonce = msg.nonce;
    conn.phase = 'awaitWelcome';
    const mac = handshakeMac(this.secret, 'dialer', conn.myNonce, msg.nonce, this.self, conn.peer);
    this.write(conn, encodePlain({ t: 'proof', mac } satisfies Proof));
  }

  private onProof(conn: Connection, msg: unknown): void {
    if (!isMessage<Proof>(msg, 'proof')) return this.reject(conn, 'bad proof');
    const peer = conn.peer!;
    const expected = handshakeMac(this.secret, 'dialer', conn.peerNonce!, conn.myNonce, peer, this.self);
    if (!macEquals(expected, msg.mac)) return this.reject(conn, 'authentication failed (wrong ensemble secret?)');
    this.leaveInbound(conn);
    const st = this.peers.get(peer);
    if (!st) return this.drop(conn);
    if (peer > this.self) {
      // The higher id dialled: this connection wins. A previous one is stale (the peer
      // only dials when it has none), and our own dial is redundant.
      if (st.active) this.drop(st.active);
      if (st.dial) this.drop(st.dial);
      this.clearRetry(st);
      conn.phase = 'active';
      this.write(conn, encodePlain({ t: 'welcome', ok: true } satisfies Welcome));
      this.activate(st, conn);
      return;
    }
    // A lower id dialled: tell it we dial back, and do so.
    this.write(conn, encodePlain({ t: 'welcome', ok: false } satisfies Welcome));
    this.drop(conn, true);
    if (st.active && st.active.activeSeq > conn.helloSeq) return; // its dial predates our connection
    if (st.active) this.drop(st.active); // the peer has no connection: ours is stale
    if (!st.dial) {
      this.clearRetry(st);
      st.attempt = 0;
      this.dial(st);
    }
  }

  private onWelcome(conn: Connection, msg: unknown): void {
    if (!isMessage<Welcome>(msg, 'welcome') || typeof msg.ok !== 'boolean') return this.reject(conn, 'bad welcome');
    const st = this.peers.get(conn.peer!);
    if (!st || st.dial !== conn) return this.drop(conn);
    if (!msg.ok) {
      this.drop(conn, true); // the higher id dials us; retry later in case it cannot
      return;
    }
    if (conn.peer! > this.self || st.active) return this.reject(conn, 'peer accepted a connection it should have refused');
    st.dial = null;
    conn.phase = 'active';
    this.activate(st, conn);
  }

  private activate(st: PeerState, conn: Connection): void {
    if (conn.timer !== null) this.clock.clearTimeout(conn.timer);
    conn.timer = null;
    conn.activeSeq = ++this.seq;
    conn.reader.maxFrameBytes = this.maxFrameBytes;
    st.active = conn;
    st.attempt = 0;
    this.clearRetry(st);
    this.emit('connected', st.id);
  }

  /** Close a connection because of bad input: one warning line, then drop. */
  private reject(conn: Connection, reason: string): void {
    if (conn.phase === 'closed') return;
    this.stats.rejected++;
    this.warn(`closing connection with ${conn.describe()}: ${reason}`);
    this.drop(conn);
  }

  /**
   * Close a connection (idempotent) and update the peer's state synchronously: an active
   * one is reported `disconnected` once and a reconnect is scheduled; a failed dial is
   * retried with backoff. `graceful` lets written frames drain first (bounded by a
   * socket timeout).
   */
  private drop(conn: Connection, graceful = false): void {
    this.leaveInbound(conn);
    conn.phase = 'closed';
    if (conn.timer !== null) {
      this.clock.clearTimeout(conn.timer);
      conn.timer = null;
    }
    conn.out = [];
    const socket = conn.socket;
    if (!socket.destroyed) {
      if (graceful) {
        socket.setTimeout(2000);
        socket.end(() => socket.destroy());
      } else {
        socket.destroy();
      }
    }
    const st = conn.peer === undefined ? undefined : this.peers.get(conn.peer);
    if (!st) return;
    if (st.dial === conn) {
      st.dial = null;
      if (!st.active) this.scheduleRetry(st);
    } else if (st.active === conn) {
      st.active = null;
      if (!this.closed) this.emit('disconnected', st.id);
      this.scheduleRetry(st);
    }
    // An accepted unknown peer cannot be dialled: forget it once it has no connection.
    if (st.address === undefined && st.active === null && st.dial === null) this.peers.delete(st.id);
  }

  private leaveInbound(conn: Connection): void {
    if (conn.pendingInbound) {
      conn.pendingInbound = false;
      this.pendingInbound--;
    }
  }

  private scheduleRetry(st: PeerState): void {
    if (this.closed || st.retry !== null || st.active || st.dial || this.peers.get(st.id) !== st) return;
    const base = Math.min(this.reconnectMaxMs, this.reconnectInitialMs * 2 ** Math.min(st.attempt, 30));
    st.attempt++;
    const delay = base / 2 + this.random.next() * (base / 2); // jitter: uniform in [base/2, base)
    st.retry = this.clock.setTimeout(() => {
      st.retry = null;
      this.dial(st);
    }, delay);
  }

  private clearRetry(st: PeerState): void {
    if (st.retry !== null) this.clock.clearTimeout(st.retry);
    st.retry = null;
  }

  // ------------------------------------------------------------ writing

  private write(conn: Connection, payload: Uint8Array): void {
    const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
    header.writeUInt32BE(payload.length, 0);
    conn.socket.write(Buffer.concat([header, payload]));
  }

  private flush(): void {
    this.scheduled = false;
    const dirty = this.dirty;
    this.dirty = [];
    for (const conn of dirty) {
      const batches = conn.out;
      conn.out = [];
      if (conn.phase !== 'active' || batches.length === 0) continue;
      const socket = conn.socket;
      socket.cork();
      const ok = this.writeBatches(conn, batches);
      socket.uncork();
      if (!ok) continue;
      if (socket.writableLength > this.maxBufferedBytes) {
        this.stats.overflows++;
        this.warn(`closing connection with ${conn.describe()}: peer reads too slowly (${socket.writableLength} bytes buffered)`);
        this.drop(conn);
      }
    }
  }

  /**
   * Write batches as one frame, or split at batch boundaries when the frame would pass
   * the limit. A single batch over the limit cannot be delivered, and skipping it would
   * leave a silent gap: the connection is closed with a warning instead.
   */
  private writeBatches(conn: Connection, batches: PeerMessage[][]): boolean {
    const frame = encodePeerBatches(batches, FRAME_HEADER_BYTES);
    const body = frame.length - FRAME_HEADER_BYTES;
    if (body <= this.maxFrameBytes) {
      conn.socket.write(sealFrame(frame));
      return true;
    }
    if (batches.length === 1) {
      this.stats.oversized++;
      this.warn(`closing connection with ${conn.describe()}: a batch of ${body} bytes exceeds the frame limit of ${this.maxFrameBytes}`);
      this.drop(conn);
      return false;
    }
    const half = batches.length >>> 1;
    return this.writeBatches(conn, batches.slice(0, half)) && this.writeBatches(conn, batches.slice(half));
  }

  private warn(message: string): void {
    this.emit('warning', `tcp transport ${this.self}: ${message}`);
  }
}
