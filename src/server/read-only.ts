/**
 * Read-only mode (ZooKeeper's `readonlymode.enabled`, reference §4.2 step 4 and the
 * ReadOnlyZooKeeperServer): a server that has been looking for a quorum for a while
 * keeps serving clients that accept a read-only server (the handshake's trailing
 * readOnly byte set): it answers their handshake with readOnly=true, serves reads from
 * its last state, answers every write (and sync) with NotReadOnly (-119), and says `ro`
 * to `isro`. Clients without the flag are refused. As soon as the server stops looking
 * (it follows or leads again) its read-only connections are closed and the clients
 * reconnect to a read-write server.
 *
 * This module keeps the mode's state: the delay before entering it (ZooKeeper waits
 * `max(2000 ms, tickTime)` of LOOKING) and the sessions created while read-only, which
 * live on this server only (ZooKeeper's local sessions): they are never written to the
 * tree, and expire a session timeout after their connection goes away. Sessions that
 * exist in the tree may reattach read-only (with their password); they are not touched
 * (no leader to tell) and expire at the next leader as usual.
 */
import { OpCode } from '../protocol/constants.js';
import type { SessionId } from '../protocol/records.js';
import type { Clock, TimerHandle } from '../runtime/clock.js';

/** ZooKeeper's minimum wait in LOOKING before a server turns read-only, ms. */
export const READ_ONLY_MIN_DELAY_MS = 2000;

/** Requests a read-only server refuses with NotReadOnly (`ReadOnlyRequestProcessor`). */
export const READ_ONLY_REFUSED: ReadonlySet<number> = new Set<number>([
  OpCode.sync,
  OpCode.create,
  OpCode.create2,
  OpCode.createTTL,
  OpCode.createContainer,
  OpCode.delete,
  OpCode.deleteContainer,
  OpCode.setData,
  OpCode.reconfig,
  OpCode.setACL,
  OpCode.multi,
  OpCode.check,
]);

interface LocalSession {
  timeout: number;
  /** Expiry timer, armed while no connection holds the session. */
  timer: TimerHandle | undefined;
}

/** The read-only mode of one server's client service. */
export class ReadOnlyMode {
  private readonly clock: Clock;
  private readonly delayMs: number;
  private readonly onEnter: () => void;
  private readonly onLeave: () => void;
  private timer: TimerHandle | undefined;
  private active = false;
  private readonly local = new Map<SessionId, LocalSession>();

  /**
   * `onEnter`/`onLeave` run when the mode turns on (after `delayMs` of looking) and off
   * (the server stopped looking).
   */
  constructor(clock: Clock, delayMs: number, onEnter: () => void, onLeave: () => void) {
    this.clock = clock;
    this.delayMs = delayMs;
    this.onEnter = onEnter;
    this.onLeave = onLeave;
  }

  /** True while the server serves read-only clients. */
  get enabled(): boolean {
    return this.active;
  }

  /** Sessions created while read-only and not expired yet. */
  get localSessionCount(): number {
    return this.local.size;
  }

  /** The server's peer state changed: start the delay when it looks, leave the mode otherwise. */
  peerState(looking: boolean): void {
    if (looking) {
      if (this.active || this.timer !== undefined) return;
      this.timer = this.clock.setTimeout(() => {
        this.timer = undefined;
        this.active = true;
        this.onEnter();
      }, this.delayMs);
      return;
    }
    if (this.timer !== undefined) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (!this.active) return;
    this.active = false;
    for (const session of this.local.values()) if (session.timer !== undefined) this.clock.clearTimeout(session.timer);
    this.local.clear();
    this.onLeave();
  }

  /** Record a session created read-only. */
  createSession(sessionId: SessionId, timeout: number): void {
    this.local.set(sessionId, { timeout, timer: undefined });
  }

  /** True if `sessionId` is a live read-only session of this server (a reconnect stops its expiry). */
  attach(sessionId: SessionId): boolean {
    const session = this.local.get(sessionId);
    if (session === undefined) return false;
    if (session.timer !== undefined) {
      this.clock.clearTimeout(session.timer);
      session.timer = undefined;
    }
    return true;
  }

  /** The connection of a read-only session went away: it expires after its timeout unless reattached. */
  detach(sessionId: SessionId): void {
    const session = this.local.get(sessionId);
    if (session === undefined || session.timer !== undefined) return;
    session.timer = this.clock.setTimeout(() => this.local.delete(sessionId), session.timeout);
  }

  /** closeSession of a read-only session. */
  close(sessionId: SessionId): void {
    const session = this.local.get(sessionId);
    if (session?.timer !== undefined) this.clock.clearTimeout(session.timer);
    this.local.delete(sessionId);
  }

  /** Stop every timer (the service shuts down). */
  dispose(): void {
    this.peerState(false);
  }
}
