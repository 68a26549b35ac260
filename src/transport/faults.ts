/**
 * The fault controller of the in-process network: it breaks the network on purpose, for
 * ensemble tests and the simulator, and draws every choice from the network's injected
 * `Random` (timing from its `Clock`), so a seeded run replays exactly.
 *
 * What each fault does to the transport's guarantees:
 * - symmetric partition, crash: the connection breaks and both sides see `disconnected`
 *   (batches in flight on it are lost); heal/restart gives `connected` again. The FIFO
 *   guarantee holds.
 * - `delay`: batches arrive later but still in order (FIFO holds).
 * - on a network with `delivery: 'at-most-once'` a `duplicate` copy is discarded at the
 *   receiving end, as TCP discards a duplicated segment; with `delivery: 'tcp'` (the
 *   simulator's, for session-level runs) besides, `drop` becomes a retransmission (the
 *   batch and those behind it arrive late, in order) and `reorder` a delay in line. The
 *   guarantees then hold; the faults only slow the link. With `raw`, see below.
 * - `drop`, `duplicate`, `reorder`, one-way partitions: deliberately VIOLATE the
 *   transport's guarantees (a silent gap, a repeat, an overtaking batch, a link that
 *   stays "connected" but carries nothing one way). They model a broken network so the
 *   simulator can check that the protocol's own timeouts and checks cope; a production
 *   transport never does this.
 *
 * Faults act per batch (a batch is the transport's unit, as one TCP frame is).
 */
import type { PeerMessage, ServerId } from '../protocol/peer.js';
import type { DuplicatedBatch, InProcessEndpoint, InProcessNetwork, Link } from './inproc.js';

/** Probabilities and timings of faults on one direction of a link. */
export interface LinkFaults {
  /** Probability that a batch is lost silently. */
  drop?: number;
  /** Probability that a batch is delivered twice (the copy is a new array with the same messages). */
  duplicate?: number;
  /** Probability that a batch is delayed; delayed batches keep their order. */
  delay?: number;
  /** Delay range in ms, uniform in [min, max]; default 1..20. */
  delayMs?: { min: number; max: number };
  /** Probability that a batch is held back so later batches overtake it. */
  reorder?: number;
  /** Maximum hold-back in ms for a reordered batch; default 10. */
  reorderMs?: number;
}

function pairKey(a: ServerId, b: ServerId): string {
  return a < b ? `${a},${b}` : `${b},${a}`;
}

/** Partitions, per-link faults, crashes and restarts for an `InProcessNetwork`. */
export class FaultController {
  /** @internal Faults given to links created after `setDefaultFaults`. */
  defaultFaults: LinkFaults | null = null;
  private readonly network: InProcessNetwork;
  private readonly cuts = new Set<string>();

  /** @internal Created by the network. */
  constructor(network: InProcessNetwork) {
    this.network = network;
  }

  /** @internal Whether a symmetric partition separates `a` and `b`. */
  isCut(a: ServerId, b: ServerId): boolean {
    return this.cuts.size > 0 && this.cuts.has(pairKey(a, b));
  }

  /** Set the faults of the direction `from` → `to` (null clears them). */
  setLinkFaults(from: ServerId, to: ServerId, faults: LinkFaults | null): void {
    const link = this.requireLink(from, to);
    link.faults = normalize(faults);
  }

  /** Set the same faults on every link, existing and future (null clears them). */
  setDefaultFaults(faults: LinkFaults | null): void {
    this.defaultFaults = normalize(faults);
    for (const link of this.network.allLinks()) link.faults = this.defaultFaults;
  }

  /** Remove every link fault (partitions stay). */
  clearFaults(): void {
    this.setDefaultFaults(null);
  }

  /**
   * Symmetric partition: every pair of servers in different groups is cut (both sides see
   * `disconnected`). Servers in no group are not affected.
   */
  partition(...groups: ServerId[][]): void {
    for (let i = 0; i < groups.length; i++) {
      for (let j = i + 1; j < groups.length; j++) {
        for (const a of groups[i]!) for (const b of groups[j]!) if (a !== b) this.cut(a, b);
      }
    }
  }

  /** Cut `id` from every other known server. */
  isolate(id: ServerId): void {
    for (const other of this.network.ids()) if (other !== id) this.cut(id, other);
  }

  /** Cut the connection between `a` and `b` (symmetric). */
  cut(a: ServerId, b: ServerId): void {
    this.cuts.add(pairKey(a, b));
    const link = this.network.link(a, b);
    if (link) this.network.refresh(link.conn);
  }

  /**
   * One-way partition: batches from any of `from` to any of `to` vanish silently; the
   * connection stays up (no events) and the other direction works. Models a half-broken
   * route that only the protocol's timeouts can detect.
   */
  partitionOneWay(from: ServerId[], to: ServerId[]): void {
    for (const a of from) for (const b of to) if (a !== b) this.requireLink(a, b).blocked = true;
  }

  /** Remove every partition (symmetric and one-way); cut connections come back up. */
  heal(): void {
    const cut = [...this.cuts];
    this.cuts.clear();
    for (const link of this.network.allLinks()) link.blocked = false;
    for (const key of cut) {
      const [a, b] = key.split(',').map(Number) as [number, number];
      const link = this.network.link(a, b);
      if (link) this.network.refresh(link.conn);
    }
  }

  /** Remove partitions between `a` and `b` only (both directions). */
  healPair(a: ServerId, b: ServerId): void {
    this.cuts.delete(pairKey(a, b));
    const ab = this.network.link(a, b);
    const ba = this.network.link(b, a);
    if (ab) ab.blocked = false;
    if (ba) ba.blocked = false;
    if (ab) this.network.refresh(ab.conn);
  }

  /**
   * Crash server `id`: its endpoint stops sending and receiving at once (no event reaches
   * it), peers see `disconnected`, batches in flight to and from it are lost.
   */
  crash(id: ServerId): void {
    this.network.endpointOf(id)?.shutdown();
  }

  /** Restart a crashed (or closed) server: a fresh endpoint for the same id. */
  restart(id: ServerId): InProcessEndpoint {
    return this.network.endpoint(id);
  }

  /** @internal Slow path of `send` on a link with faults or a one-way block. */
  apply(link: Link, batch: PeerMessage[], receiver: InProcessEndpoint): void {
    const network = this.network;
    if (link.blocked) {
      network.record(`x${link.from}>${link.to} ${batch.length} blocked`);
      return;
    }
    const f: LinkFaults = link.faults ?? NO_FAULTS;
    const random = network.random;
    const tcp = network.delivery === 'tcp';
    if (f.drop !== undefined && random.chance(f.drop)) {
      if (!tcp) {
        network.record(`x${link.from}>${link.to} ${batch.length} dropped`);
        return;
      }
      // TCP retransmits the lost segment after a timeout; what follows waits behind it.
      network.record(`r${link.from}>${link.to} ${batch.length} retransmitted`);
      network.deliverDelayed(link, batch, network.clock.now() + RETRANSMIT_MIN_MS + random.int(RETRANSMIT_JITTER_MS + 1));
      return;
    }
    const copies = f.duplicate !== undefined && random.chance(f.duplicate) ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      const payload = c === 0 ? batch : batch.slice();
      if (c > 0) {
        network.record(`d${link.from}>${link.to} ${batch.length}`);
        if (network.atMostOnce) {
          const twins: DuplicatedBatch = { conn: link.conn, delivered: false };
          network.duplicates.set(batch, twins);
          network.duplicates.set(payload, twins);
        }
      }
      const now = network.clock.now();
      if (f.reorder !== undefined && random.chance(f.reorder)) {
        if (tcp) network.deliverDelayed(link, payload, now + 1 + random.int(f.reorderMs ?? 10)); // reassembled in order
        else network.deliverLater(link, payload, 1 + random.int(f.reorderMs ?? 10));
      } else if (f.delay !== undefined && random.chance(f.delay)) {
        const min = f.delayMs?.min ?? 1;
        const max = f.delayMs?.max ?? 20;
        network.deliverDelayed(link, payload, now + min + random.int(Math.max(0, max - min) + 1));
      } else if (link.delayed.length > 0) {
        network.deliverDelayed(link, payload, now); // behind the delayed ones, keeping FIFO
      } else {
        network.deliverSoon(receiver, link.from, payload, link.conn, link.conn.gen);
      }
    }
  }

  private requireLink(from: ServerId, to: ServerId): Link {
    const link = this.network.link(from, to);
    if (!link) throw new Error(`in-process network: no link ${from} -> ${to} (create both endpoints first)`);
    return link;
  }
}

const NO_FAULTS: LinkFaults = {};
/** A retransmission (with `delivery: 'tcp'`) arrives this much later (TCP's minimum RTO is 200 ms). */
const RETRANSMIT_MIN_MS = 200;
const RETRANSMIT_JITTER_MS = 200;

function normalize(faults: LinkFaults | null): LinkFaults | null {
  if (faults === null) return null;
  const any =
    (faults.drop ?? 0) > 0 || (faults.duplicate ?? 0) > 0 || (faults.delay ?? 0) > 0 || (faults.reorder ?? 0) > 0;
  return any ? { ...faults } : null;
}
