/**
 * The in-process transport: every server of an ensemble lives in one process and
 * exchanges batches by reference through one `InProcessNetwork`.
 *
 * Delivery is asynchronous (through `clock.defer`), never re-entrant and FIFO per ordered
 * pair. The hot path does no per-message work: a `send` appends one entry to the
 * network's queue (parallel arrays, no allocation once warm) and at most one deferred
 * flush per tick delivers everything queued, in send order, each batch as its own
 * `message` event.
 *
 * Zero copy: the batch array (and the messages in it) is handed to the receiver by
 * reference. The sender must not touch the array after `send`; receivers treat messages
 * as immutable values (a leader broadcasting one batch to several followers shares it).
 *
 * Faults (`network.faults`, see faults.ts) are drawn only from the injected `Random` and
 * timed only by the injected `Clock`, so a seeded run replays exactly.
 *
 * `delivery` says what the link faults may do to a live connection (see `Delivery`):
 * `raw` (the default, for transport tests) lets them break the guarantees; the
 * simulator models TCP below the peer protocol, which ZAB (like ZooKeeper's) relies on:
 * with `at-most-once` a batch the fault layer duplicates (an IP-level duplicate) reaches
 * the receiver once, whichever copy arrives first, the other being discarded at the
 * receiving end as TCP's sequence numbers discard a duplicated segment (a learner's
 * forwarded REQUEST carries nothing a leader could deduplicate it by); with `tcp`,
 * besides, a lost batch is retransmitted (it and everything behind it arrive late, in
 * order) and reordering is undone (held in line): a live connection delivers every
 * batch once and in order, and only breaking it (partition, crash) loses batches.
 */
import { EventEmitter } from 'eventemitter3';
import type { PeerMessage, ServerId } from '../protocol/peer.js';
import type { Clock, TimerHandle } from '../runtime/clock.js';
import type { Random } from '../runtime/random.js';
import { FaultController, type LinkFaults } from './faults.js';
import type { Transport, TransportEvents } from './types.js';

/** Options of an `InProcessNetwork`. */
export interface InProcessNetworkOptions {
  /** Time source: `defer` carries deliveries, `setTimeout` carries delayed ones. */
  clock: Clock;
  /** Randomness for the fault controller (unused while no fault is configured). */
  random: Random;
  /** Record every delivery, drop and connection change in `network.trace`. */
  trace?: boolean;
  /** What link faults may do to a live connection (default `raw`; see the module comment). */
  delivery?: Delivery;
}

/**
 * What link faults may do to a live connection: `raw` (loss, duplication and reordering
 * reach the receiver), `at-most-once` (duplicates are discarded), `tcp` (duplicates
 * discarded, losses retransmitted, order kept). See the module comment.
 */
export type Delivery = 'raw' | 'at-most-once' | 'tcp';

/** A batch the fault layer duplicated: both arrays map to one record. @internal */
export interface DuplicatedBatch {
  /** The connection it travels on (copies die with it). */
  readonly conn: Connection;
  /** One copy reached the receiver already. */
  delivered: boolean;
}

/** The connection between two servers (shared by both directions). @internal */
export interface Connection {
  readonly a: ServerId;
  readonly b: ServerId;
  /** Incremented on every break; a queued batch from an older generation is dropped. */
  gen: number;
  up: boolean;
  /** Timers of delayed batches on this connection, cleared when it breaks. */
  readonly timers: Set<TimerHandle>;
}

/** One direction of a connection. @internal */
export interface Link {
  readonly from: ServerId;
  readonly to: ServerId;
  readonly conn: Connection;
  /** Faults on this direction, or null (the fast path). */
  faults: LinkFaults | null;
  /** One-way partition: batches in this direction vanish silently. */
  blocked: boolean;
  /** The live receiving endpoint while the connection is up (saves a lookup per send). */
  receiver: InProcessEndpoint | null;
  /** Delayed batches in order (FIFO-preserving delays), released by one timer. */
  delayed: { at: number; batch: PeerMessage[] }[];
  /** The timer releasing the head of `delayed`, or null. */
  delayTimer: TimerHandle | null;
}

const KIND_MESSAGE = 0;
const KIND_CONNECTED = 1;
const KIND_DISCONNECTED = 2;

/**
 * A simulated network of in-process endpoints. `endpoint(id)` creates a server's
 * `Transport`; every two live endpoints are connected unless the fault controller
 * partitions them.
 */
export class InProcessNetwork {
  /** The injected clock. */
  readonly clock: Clock;
  /** The injected randomness (used by faults only). */
  readonly random: Random;
  /** Partitions, link faults, crashes and restarts. */
  readonly faults: FaultController;
  /**
   * With `trace: true`, one compact line per event: `<time> <from>><to> <n>:<firstType>`
   * for a delivered batch, `x` prefix for a dropped one, `+`/`-` for connect/disconnect.
   */
  readonly trace: string[] | null;
  /** What link faults may do to a live connection. */
  readonly delivery: Delivery;
  /** True when fault-injected duplicates are discarded at the receiver (`at-most-once`, `tcp`). */
  readonly atMostOnce: boolean;
  /** Duplicated batches in flight (both copies), when `atMostOnce`. @internal */
  readonly duplicates = new Map<PeerMessage[], DuplicatedBatch>();
  /** Duplicates discarded so far. */
  discardedDuplicates = 0;

  private readonly endpoints = new Map<ServerId, InProcessEndpoint>();
  /** links.get(from).get(to); created lazily, kept across crashes and restarts. */
  private readonly links = new Map<ServerId, Map<ServerId, Link>>();
  private readonly knownIds: ServerId[] = [];

  // The delivery queue: parallel arrays, drained from `head` by one deferred flush.
  private qTo: InProcessEndpoint[] = [];
  private qFrom: ServerId[] = [];
  private qBatch: (PeerMessage[] | null)[] = [];
  private qConn: (Connection | null)[] = [];
  private qGen: number[] = [];
  private qKind: number[] = [];
  private head = 0;
  private scheduled = false;
  private readonly flushFn = (): void => this.flush();

  constructor(options: InProcessNetworkOptions) {
    this.clock = options.clock;
    this.random = options.random;
    this.trace = options.trace ? [] : null;
    this.delivery = options.delivery ?? 'raw';
    this.atMostOnce = this.delivery !== 'raw';
    this.faults = new FaultController(this);
  }

  /**
   * Create the endpoint of server `id`. Throws if `id` already has a live endpoint; after
   * `close()` or a crash, calling it again is a restart (a fresh endpoint object).
   * Every two live endpoints are connected (unless partitioned); batches sent to an id
   * that has no endpoint yet are dropped.
   */
  endpoint(id: ServerId): InProcessEndpoint {
    if (this.endpoints.has(id)) throw new Error(`in-process network: server ${id} already has a live endpoint`);
    const endpoint = new InProcessEndpoint(this, id);
    if (!this.links.has(id)) {
      this.links.set(id, new Map());
      for (const other of this.knownIds) this.createConnection(id, other);
      this.knownIds.push(id);
    }
    this.endpoints.set(id, endpoint);
    endpoint.outgoing = this.links.get(id)!;
    for (const link of endpoint.outgoing.values()) this.refresh(link.conn);
    return endpoint;
  }

  /** The live endpoint of `id`, if any. */
  endpointOf(id: ServerId): InProcessEndpoint | undefined {
    return this.endpoints.get(id);
  }

  /** Ids of servers with a live endpoint. */
  liveIds(): ServerId[] {
    return [...this.endpoints.keys()];
  }

  /** Every server id that ever had an endpoint, in creation order. */
  ids(): readonly ServerId[] {
    return this.knownIds;
  }

  /** Close every endpoint and cancel delayed deliveries. */
  async close(): Promise<void> {
    for (const endpoint of [...this.endpoints.values()]) await endpoint.close();
  }

  /** A 32-bit FNV-1a hash of the trace (of an empty one when tracing is off), for determinism checks. */
  traceHash(): number {
    let h = 0x811c9dc5;
    for (const line of this.trace ?? []) {
      for (let i = 0; i < line.length; i++) h = Math.imul(h ^ line.charCodeAt(i), 0x01000193);
      h = Math.imul(h ^ 10, 0x01000193);
    }
    return h >>> 0;
  }

  // ---- internal, used by endpoints and the fault controller ----

  /** @internal The link from → to (both ids must have had an endpoint). */
  link(from: ServerId, to: ServerId): Link | undefined {
    return this.links.get(from)?.get(to);
  }

  /** @internal Every link, in a deterministic order. */
  allLinks(): Link[] {
    const out: Link[] = [];
    for (const from of this.knownIds) for (const link of this.links.get(from)!.values()) out.push(link);
    return out;
  }

  /** @internal Whether `id` has a live endpoint. */
  isLive(id: ServerId): boolean {
    return this.endpoints.has(id);
  }

  /** @internal Remove a closed or crashed endpoint and break its connections. */
  detach(endpoint: InProcessEndpoint): void {
    if (this.endpoints.get(endpoint.self) !== endpoint) return;
    this.endpoints.delete(endpoint.self);
    for (const link of endpoint.outgoing.values()) this.refresh(link.conn);
  }

  /**
   * @internal Recompute whether a connection is up (both live and not cut by the fault
   * controller) and announce a change to both live sides, in queue order.
   */
  refresh(conn: Connection): void {
    const up = this.endpoints.has(conn.a) && this.endpoints.has(conn.b) && !this.faults.isCut(conn.a, conn.b);
    if (up === conn.up) return;
    conn.up = up;
    const kind = up ? KIND_CONNECTED : KIND_DISCONNECTED;
    if (!up) {
      conn.gen++;
      for (const timer of conn.timers) this.clock.clearTimeout(timer);
      conn.timers.clear();
      this.clearDelayed(this.link(conn.a, conn.b)!);
      this.clearDelayed(this.link(conn.b, conn.a)!);
      if (this.duplicates.size > 0) for (const [batch, d] of this.duplicates) if (d.conn === conn) this.duplicates.delete(batch);
    }
    const ea = this.endpoints.get(conn.a);
    const eb = this.endpoints.get(conn.b);
    this.link(conn.a, conn.b)!.receiver = up ? eb! : null;
    this.link(conn.b, conn.a)!.receiver = up ? ea! : null;
    if (ea) this.enqueue(ea, conn.b, null, null, 0, kind);
    if (eb) this.enqueue(eb, conn.a, null, null, 0, kind);
  }

  /** @internal Send along a link, applying its faults. */
  sendOnLink(link: Link, batch: PeerMessage[]): void {
    const conn = link.conn;
    const receiver = link.receiver;
    if (receiver === null) return; // connection down: best effort, drop
    if (link.faults === null && !link.blocked && link.delayed.length === 0) {
      this.enqueue(receiver, link.from, batch, conn, conn.gen, KIND_MESSAGE);
      return;
    }
    this.faults.apply(link, batch, receiver);
  }

  /** @internal Queue a batch for delivery on the next flush. */
  deliverSoon(receiver: InProcessEndpoint, from: ServerId, batch: PeerMessage[], conn: Connection, gen: number): void {
    this.enqueue(receiver, from, batch, conn, gen, KIND_MESSAGE);
  }

  /**
   * @internal Deliver a batch at time `at` or later, after every batch delayed before it
   * on this link (FIFO), unless the connection breaks first.
   */
  deliverDelayed(link: Link, batch: PeerMessage[], at: number): void {
    const last = link.delayed[link.delayed.length - 1];
    link.delayed.push({ at: last !== undefined && last.at > at ? last.at : at, batch });
    if (link.delayTimer === null) this.armDelayTimer(link);
  }

  /** @internal Deliver a batch after `ms`, ignoring FIFO (reorder); lost if the connection breaks meanwhile. */
  deliverLater(link: Link, batch: PeerMessage[], ms: number): void {
    const conn = link.conn;
    const gen = conn.gen;
    const receiver = this.endpoints.get(link.to)!;
    const timer = this.clock.setTimeout(() => {
      conn.timers.delete(timer);
      this.enqueue(receiver, link.from, batch, conn, gen, KIND_MESSAGE);
    }, ms);
    conn.timers.add(timer);
  }

  /** @internal Record a trace line (no-op when tracing is off). */
  record(line: string): void {
    if (this.trace) this.trace.push(`${this.clock.now()} ${line}`);
  }

  private armDelayTimer(link: Link): void {
    const head = link.delayed[0]!;
    link.delayTimer = this.clock.setTimeout(() => {
      link.delayTimer = null;
      const now = this.clock.now();
      const conn = link.conn;
      const receiver = this.endpoints.get(link.to)!;
      while (link.delayed.length > 0 && link.delayed[0]!.at <= now) {
        this.enqueue(receiver, link.from, link.delayed.shift()!.batch, conn, conn.gen, KIND_MESSAGE);
      }
      if (link.delayed.length > 0) this.armDelayTimer(link);
    }, Math.max(0, head.at - this.clock.now()));
  }

  private clearDelayed(link: Link): void {
    if (link.delayTimer !== null) this.clock.clearTimeout(link.delayTimer);
    link.delayTimer = null;
    if (this.trace) for (const d of link.delayed) this.record(`x${link.from}>${link.to} ${d.batch.length} lost`);
    link.delayed.length = 0;
  }

  private createConnection(a: ServerId, b: ServerId): void {
    const conn: Connection = { a, b, gen: 0, up: false, timers: new Set() };
    const ab: Link = { from: a, to: b, conn, faults: this.faults.defaultFaults, blocked: false, delayed: [], delayTimer: null, receiver: null };
    const ba: Link = { from: b, to: a, conn, faults: this.faults.defaultFaults, blocked: false, delayed: [], delayTimer: null, receiver: null };
    this.links.get(a)!.set(b, ab);
    this.links.get(b)!.set(a, ba);
  }

  private enqueue(
    to: InProcessEndpoint,
    from: ServerId,
    batch: PeerMessage[] | null,
    conn: Connection | null,
    gen: number,
    kind: number,
  ): void {
    this.qTo.push(to);
    this.qFrom.push(from);
    this.qBatch.push(batch);
    this.qConn.push(conn);
    this.qGen.push(gen);
    this.qKind.push(kind);
    if (!this.scheduled) {
      this.scheduled = true;
      this.clock.defer(this.flushFn);
    }
  }

  /**
   * Deliver what was queued before this flush started; entries queued by handlers wait
   * for the next tick (no starvation, no re-entrancy). If a handler throws, the rest is
   * kept for the next flush and the error propagates.
   */
  private flush(): void {
    this.scheduled = false;
    const end = this.qTo.length;
    const tracing = this.trace !== null;
    try {
      while (this.head < end) {
        const i = this.head++;
        const to = this.qTo[i]!;
        const from = this.qFrom[i]!;
        const kind = this.qKind[i]!;
        const batch = this.qBatch[i]!;
        const conn = this.qConn[i]!;
        this.qBatch[i] = null; // release references early
        this.qConn[i] = null;
        if (to.closed) {
          if (tracing && kind === KIND_MESSAGE) this.record(`x${from}>${to.self} ${batch.length} dead`);
          continue;
        }
        if (kind === KIND_MESSAGE) {
          if (conn.gen !== this.qGen[i] || !conn.up) {
            if (tracing) this.record(`x${from}>${to.self} ${batch.length}:${batch[0]?.type ?? ''} stale`);
            continue;
          }
          if (this.duplicates.size > 0 && this.isRepeat(batch)) {
            if (tracing) this.record(`x${from}>${to.self} ${batch.length}:${batch[0]?.type ?? ''} repeat`);
            continue;
          }
          if (tracing) this.record(`${from}>${to.self} ${batch.length}:${batch[0]?.type ?? ''}`);
          to.emit('message', from, batch);
        } else if (kind === KIND_CONNECTED) {
          if (tracing) this.record(`+${to.self}:${from}`);
          to.peers.add(from);
          to.emit('connected', from);
        } else {
          if (tracing) this.record(`-${to.self}:${from}`);
          to.peers.delete(from);
          to.emit('disconnected', from);
        }
      }
    } finally {
      this.compact();
    }
  }

  /** A copy of a duplicated batch whose twin was delivered already (forgets both once settled). */
  private isRepeat(batch: PeerMessage[]): boolean {
    const d = this.duplicates.get(batch);
    if (d === undefined) return false;
    this.duplicates.delete(batch);
    const repeat = d.delivered;
    d.delivered = true;
    if (repeat) this.discardedDuplicates++;
    return repeat;
  }

  private compact(): void {
    const len = this.qTo.length;
    if (this.head >= len) {
      this.qTo.length = 0;
      this.qFrom.length = 0;
      this.qBatch.length = 0;
      this.qConn.length = 0;
      this.qGen.length = 0;
      this.qKind.length = 0;
      this.head = 0;
      return;
    }
    if (this.head > 1024 && this.head * 2 > len) {
      const h = this.head;
      this.qTo.splice(0, h);
      this.qFrom.splice(0, h);
      this.qBatch.splice(0, h);
      this.qConn.splice(0, h);
      this.qGen.splice(0, h);
      this.qKind.splice(0, h);
      this.head = 0;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      this.clock.defer(this.flushFn);
    }
  }
}

/** One server's endpoint on an `InProcessNetwork`. */
export class InProcessEndpoint extends EventEmitter<TransportEvents> implements Transport {
  /** This server's id. */
  readonly self: ServerId;
  /** @internal Peers this endpoint has been told are connected. */
  readonly peers = new Set<ServerId>();
  /** @internal Outgoing links (shared with the network). */
  outgoing: Map<ServerId, Link> = new Map();
  /** @internal True after close or crash. */
  closed = false;
  private readonly network: InProcessNetwork;

  /** @internal Use `network.endpoint(id)`. */
  constructor(network: InProcessNetwork, self: ServerId) {
    super();
    this.network = network;
    this.self = self;
  }

  /** Send a batch to `to`; the array is handed over by reference (do not reuse it). */
  send(to: ServerId, messages: readonly PeerMessage[]): void {
    if (this.closed) return;
    const link = this.outgoing.get(to);
    if (link === undefined) return; // no such peer (yet): best effort, drop
    this.network.sendOnLink(link, messages as PeerMessage[]);
  }

  /** Peers whose `connected` this endpoint has seen (and no `disconnected` since). */
  connectedPeers(): ServerId[] {
    return [...this.peers];
  }

  /** Leave the network: peers see `disconnected`; no event reaches this endpoint afterwards. */
  close(): Promise<void> {
    this.shutdown();
    return Promise.resolve();
  }

  /** @internal Stop without further events (close and crash). */
  shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    this.peers.clear();
    this.network.detach(this);
  }
}
