/** A PeerHost for testing the role cores alone: real database and outbox, recorded effects. */
import type { PeerMessage, ServerId } from '../../../src/protocol/peer.js';
import { ZabDatabase } from '../../../src/machines/database.js';
import type { PeerHost, RoleCore, ZabTraceEvent } from '../../../src/machines/host.js';
import { Outbox } from '../../../src/machines/outbox.js';
import type { Membership } from '../../../src/machines/quorum.js';
import { resolveTiming } from '../../../src/machines/timing.js';
import { MemoryStorage } from '../../../src/storage/memory.js';
import { VirtualClock } from '../../../src/sim/virtual-clock.js';

/** The message type(s) whose `type` may be `T` (narrowed to `T`). */
type MessageOf<T extends PeerMessage['type']> = PeerMessage extends infer M ? (M extends { type: infer U } ? (T extends U ? M & { type: T } : never) : never) : never;

/** One message the core sent, with the durable state at the moment it left. */
export interface Sent {
  to: ServerId;
  message: PeerMessage;
  durable: { acceptedEpoch: number; currentEpoch: number; lastLoggedZxid: number };
}

export class FakeHost implements PeerHost {
  readonly clock = new VirtualClock();
  readonly storage: MemoryStorage;
  readonly db: ZabDatabase;
  readonly outbox: Outbox;
  readonly timing = resolveTiming();
  readonly options = {};
  readonly sent: Sent[] = [];
  readonly traces: ZabTraceEvent[] = [];
  readonly released: [bigint, number][] = [];
  serving = false;
  active: RoleCore | null = null;

  constructor(
    readonly self: ServerId,
    readonly membership: Membership,
    latency = 10,
  ) {
    this.storage = new MemoryStorage({ clock: this.clock, latency });
    this.db = new ZabDatabase({ storage: this.storage });
    this.outbox = new Outbox(this.clock, (to, messages) => {
      const durable = { ...this.storage.epochs(), lastLoggedZxid: this.storage.lastLoggedZxid };
      for (const message of messages) this.sent.push({ to, message, durable });
    });
  }

  /** Messages of `type` sent so far. */
  sentOf<T extends PeerMessage['type']>(type: T): (Sent & { message: MessageOf<T> })[] {
    return this.sent.filter((s) => s.message.type === type) as (Sent & { message: MessageOf<T> })[];
  }

  setActiveRole(role: RoleCore): void {
    this.active = role;
  }
  clearActiveRole(role: RoleCore): void {
    if (this.active === role) this.active = null;
  }
  setServing(serving: boolean): void {
    this.serving = serving;
  }
  syncReleased(sessionId: bigint, cxid: number): void {
    this.released.push([sessionId, cxid]);
  }
  collectTouches() {
    return [];
  }
  touchSessions(): void {}
  epochChanged(): void {}
  trace(event: ZabTraceEvent): void {
    this.traces.push(event);
  }
}
