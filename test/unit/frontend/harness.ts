/**
 * Test harness for the client port: a scripted pipeline (`ScriptedAcceptor`, one
 * `ScriptedConnection` per socket, implementing the connection.ts contract) and a raw
 * TCP client that speaks frames, so framing, limits and four-letter words can be
 * tested without the real pipeline.
 */
import { connect, type Socket } from 'node:net';
import { afterEach } from 'node:test';
import { EventEmitter } from 'eventemitter3';
import { ClientPort, type ClientPortOptions } from '../../../src/server/client-port.js';
import type { ConnectionAcceptor, ConnectionInfo, ConnectionSink, ServerConnection } from '../../../src/server/connection.js';
import { encodeConnectRequest, readConnectResponse, readReplyHeader, readWatcherEvent } from '../../../src/protocol/codec-records.js';
import { encodeRequest } from '../../../src/protocol/codec-requests.js';
import { decodeResponse } from '../../../src/protocol/codec-responses.js';
import { OpCode } from '../../../src/protocol/constants.js';
import { FrameDecoder } from '../../../src/protocol/frame.js';
import { JuteReader } from '../../../src/protocol/jute.js';
import type { ClientRequest, ConnectRequest, ConnectResponse, ReplyHeader, WatcherEvent } from '../../../src/protocol/records.js';
import { systemClock } from '../../../src/runtime/clock.js';

/** A `ServingSignal` tests flip by hand. */
export class ServingFlag extends EventEmitter<{ serving: (serving: boolean) => void }> {
  serving = true;
  set(serving: boolean): void {
    this.serving = serving;
    this.emit('serving', serving);
  }
}

/** How the scripted pipeline answers a request: reply now, or hold it (for throttling tests). */
export type Answer = 'reply' | 'hold';

/** The pipeline side of one connection, scripted. */
export class ScriptedConnection implements ServerConnection {
  readonly sink: ConnectionSink;
  readonly info: ConnectionInfo;
  connectRequest: ConnectRequest | undefined;
  readonly requests: Array<{ xid: number; request: ClientRequest }> = [];
  readonly invalids: Array<{ xid: number; opcode: number; err: number }> = [];
  /** Requests not answered yet (held). */
  readonly held: Array<{ xid: number; request: ClientRequest }> = [];
  closedCalls = 0;
  sessionId = 0n;
  /** Largest `outstanding` ever seen. */
  maxOutstanding = 0;
  private readonly acceptor: ScriptedAcceptor;
  private answered = 0;

  constructor(acceptor: ScriptedAcceptor, sink: ConnectionSink, info: ConnectionInfo) {
    this.acceptor = acceptor;
    this.sink = sink;
    this.info = info;
  }

  get outstanding(): number {
    return this.requests.length + this.invalids.length - this.answered;
  }

  connect(request: ConnectRequest): void {
    this.connectRequest = request;
    if (this.acceptor.expireSessions) {
      this.sink.connectResponse({ protocolVersion: 0, timeOut: 0, sessionId: 0n, passwd: new Uint8Array(16), readOnly: request.readOnly === undefined ? undefined : false });
      this.sink.close('session expired');
      return;
    }
    this.sessionId = this.acceptor.nextSessionId++;
    this.sink.connectResponse({
      protocolVersion: 0,
      timeOut: Math.max(request.timeOut, 4000),
      sessionId: this.sessionId,
      passwd: new Uint8Array(16).fill(7),
      readOnly: request.readOnly === undefined ? undefined : false,
    });
  }

  request(xid: number, request: ClientRequest): void {
    this.requests.push({ xid, request });
    this.maxOutstanding = Math.max(this.maxOutstanding, this.outstanding);
    if (this.acceptor.answer(request) === 'hold') {
      this.held.push({ xid, request });
      return;
    }
    this.answer(xid, request);
  }

  invalid(xid: number, opcode: number, err: number): void {
    this.invalids.push({ xid, opcode, err });
    this.answered++;
    this.sink.reply({ xid, zxid: err === -6 ? -1 : this.acceptor.zxid, err }, opcode);
    if (err === -6) this.sink.close('unimplemented');
  }

  closed(): void {
    this.closedCalls++;
  }

  /** Answer the oldest held requests. */
  release(count = this.held.length): void {
    for (const { xid, request } of this.held.splice(0, count)) this.answer(xid, request);
  }

  private answer(xid: number, request: ClientRequest): void {
    this.answered++;
    const zxid = this.acceptor.zxid;
    switch (request.type) {
      case OpCode.ping:
        this.sink.reply({ xid: -2, zxid, err: 0 }, OpCode.ping);
        return;
      case OpCode.getData:
        if (request.path === '/missing') {
          this.sink.reply({ xid, zxid, err: -101 }, OpCode.getData);
          return;
        }
        this.sink.reply({ xid, zxid, err: 0 }, OpCode.getData, { data: new TextEncoder().encode(`data of ${request.path}`), stat: STAT });
        return;
      case OpCode.setData:
        // A write that fires a watch: the notification precedes the reply.
        this.sink.notification({ type: 3, state: 3, path: request.path });
        this.sink.reply({ xid, zxid: ++this.acceptor.zxid, err: 0 }, OpCode.setData, { stat: STAT });
        return;
      case OpCode.exists:
        if (request.path === '/broken') {
          this.sink.reply({ xid, zxid, err: 0 }, OpCode.exists); // a bug: no body
          return;
        }
        this.sink.reply({ xid, zxid, err: 0 }, OpCode.exists, { stat: STAT });
        return;
      case OpCode.sync:
        if (request.path === '/throw') throw new Error('a pipeline bug');
        this.sink.reply({ xid, zxid, err: 0 }, OpCode.sync, { path: request.path });
        return;
      case OpCode.closeSession:
        this.sink.reply({ xid, zxid, err: 0 }, OpCode.closeSession);
        this.sink.close('closeSession');
        return;
      default:
        this.sink.reply({ xid, zxid, err: 0 }, request.type as typeof OpCode.delete);
    }
  }
}

/** A Stat for replies. */
export const STAT = {
  czxid: 1,
  mzxid: 2,
  ctime: 3,
  mtime: 4,
  version: 5,
  cversion: 6,
  aversion: 7,
  ephemeralOwner: 0n,
  dataLength: 8,
  numChildren: 9,
  pzxid: 10,
};

/** The scripted pipeline. */
export class ScriptedAcceptor implements ConnectionAcceptor {
  readonly connections: ScriptedConnection[] = [];
  nextSessionId = 0x0100000000000001n;
  zxid = 0x100000005;
  /** Answer every handshake with an expired-session response. */
  expireSessions = false;
  /** How to answer each request (default: reply at once). */
  answer: (request: ClientRequest) => Answer = () => 'reply';

  accept(sink: ConnectionSink, info: ConnectionInfo): ServerConnection {
    const connection = new ScriptedConnection(this, sink, info);
    this.connections.push(connection);
    return connection;
  }
}

/** A client port on 127.0.0.1:0 in front of a scripted pipeline. */
export async function scriptedPort(options: Partial<ClientPortOptions> = {}): Promise<{ port: ClientPort; acceptor: ScriptedAcceptor; serving: ServingFlag; address: number }> {
  const acceptor = new ScriptedAcceptor();
  const serving = new ServingFlag();
  const port = await ClientPort.listen({
    acceptor,
    serving,
    clock: systemClock,
    host: '127.0.0.1',
    port: 0,
    ...options,
  });
  return { port, acceptor, serving, address: port.address().port };
}

/** A decoded server frame. */
export type ServerFrame = (
  | { kind: 'connect'; response: ConnectResponse }
  | { kind: 'reply'; header: ReplyHeader; body: unknown }
  | { kind: 'notification'; header: ReplyHeader; event: WatcherEvent }
) & {
  /** The frame's payload (after the length prefix). */
  bytes: Uint8Array;
};

/** A raw client: writes bytes, collects every byte, decodes server frames. */
export class RawClient {
  readonly socket: Socket;
  readonly chunks: Buffer[] = [];
  closed = false;
  private readonly decoder = new FrameDecoder();
  private readonly frames: ServerFrame[] = [];
  private readonly opcodes = new Map<number, number>();
  private handshaken = false;
  private waiters: Array<() => void> = [];
  private readonly ready: Promise<void>;

  /** @param raw do not decode frames (four-letter words answer in plain text) */
  constructor(port: number, raw = false) {
    this.socket = connect({ host: '127.0.0.1', port });
    this.ready = new Promise((resolve) => this.socket.once('connect', () => resolve()));
    this.socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      if (raw) {
        this.wake();
        return;
      }
      this.decoder.push(chunk);
      for (let f = this.decoder.next(); f !== undefined; f = this.decoder.next()) this.frames.push(this.decode(f));
      this.wake();
    });
    this.socket.on('error', () => {});
    this.socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  /** Resolves once the TCP connection is established. */
  connected(): Promise<void> {
    return this.ready;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private decode(frame: Uint8Array): ServerFrame {
    const bytes = Uint8Array.from(frame);
    const r = new JuteReader(frame);
    if (!this.handshaken) {
      this.handshaken = true;
      return { kind: 'connect', response: readConnectResponse(r), bytes };
    }
    const header = readReplyHeader(r);
    if (header.xid === -1) return { kind: 'notification', header, event: readWatcherEvent(r), bytes };
    const opcode = this.opcodes.get(header.xid);
    const body = header.err === 0 && opcode !== undefined && header.xid > 0 ? decodeResponse(opcode, r) : undefined;
    return { kind: 'reply', header, body, bytes };
  }

  write(bytes: Uint8Array | string): void {
    this.socket.write(bytes);
  }

  /** Send a ConnectRequest (readOnly byte iff given). */
  handshake(options: Partial<ConnectRequest> = {}): void {
    this.write(
      encodeConnectRequest({ protocolVersion: 0, lastZxidSeen: 0, timeOut: 30_000, sessionId: 0n, passwd: new Uint8Array(16), readOnly: false, ...options }),
    );
  }

  /** The bytes of a request frame (remembering its opcode to decode the reply). */
  requestBytes(xid: number, request: ClientRequest): Uint8Array {
    this.opcodes.set(xid, request.type);
    return encodeRequest(xid, request);
  }

  send(xid: number, request: ClientRequest): void {
    this.write(this.requestBytes(xid, request));
  }

  /** Wait until `predicate` holds (re-checked on every received chunk and on close). */
  async until(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(remaining, 100));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The next `n` frames (waits for them). */
  async next(n = 1): Promise<ServerFrame[]> {
    await this.until(() => this.frames.length >= n || this.closed, `${n} frame(s)`);
    if (this.frames.length < n) throw new Error(`connection closed after ${this.frames.length} of ${n} frames`);
    return this.frames.splice(0, n);
  }

  /** Frames received and not taken yet. */
  get pending(): number {
    return this.frames.length;
  }

  /** Wait for the server to close the connection. */
  async waitClosed(timeoutMs = 5000): Promise<void> {
    await this.until(() => this.closed, 'the server to close the connection', timeoutMs);
  }

  /** Everything received, as text (four-letter words). */
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Send a four-letter word on a fresh connection and return the whole answer. */
export async function fourLetterWord(port: number, word: string | Uint8Array): Promise<string> {
  const client = new RawClient(port, true);
  await client.connected();
  client.write(word);
  await client.waitClosed();
  return client.text();
}

/** Connect and complete the handshake. */
export async function openSession(port: number, options: Partial<ConnectRequest> = {}): Promise<RawClient> {
  const client = new RawClient(port);
  await client.connected();
  client.handshake(options);
  const [frame] = await client.next();
  if (frame?.kind !== 'connect') throw new Error('expected a ConnectResponse');
  return client;
}

/** Wait until `predicate` holds (polling). */
export async function eventually(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Per-file fixture: `setup` starts a scripted port (its log lines collected in `logs`),
 * `track` registers a raw client; both are closed after each test.
 */
export function scriptedPortFixture(): {
  setup: (options?: Partial<ClientPortOptions>) => Promise<Awaited<ReturnType<typeof scriptedPort>> & { logs: string[] }>;
  track: (client: RawClient) => RawClient;
} {
  const ports: ClientPort[] = [];
  const clients: RawClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    for (const p of ports.splice(0)) await p.close();
  });
  return {
    async setup(options = {}) {
      const logs: string[] = [];
      const s = await scriptedPort({ log: (line) => logs.push(line), ...options });
      ports.push(s.port);
      return { ...s, logs };
    },
    track(client) {
      clients.push(client);
      return client;
    },
  };
}
