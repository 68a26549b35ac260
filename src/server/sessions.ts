/**
 * The session layer of one server (ZooKeeper's `SessionTrackerImpl` on the leader,
 * `LearnerSessionTracker` on followers and observers, reference §9, §16.6).
 *
 * - Ids: every server allocates ids itself, with its own id in the high byte and the
 *   clock in bits 16–55 (`initialSessionId`), so ids from different servers never clash
 *   and a client can create its session through any server. Passwords are derived from
 *   the id (`sessionPassword`), optionally with an ensemble secret, so any server can
 *   check a reconnecting client's password without shared state.
 * - createSession and closeSession are transactions; the replicated session table is the
 *   tree's `sessions`.
 * - Leader: owns expiry with a `SessionTracker` (tick buckets), rebuilt from the tree
 *   whenever this server starts leading; wakes on the injected clock at each bucket
 *   boundary while sessions exist and submits a closeSession for every expired session.
 *   It also runs the prepare step's session check (unknown or closing → SessionExpired,
 *   attached to another server → SessionMoved) and answers REVALIDATE.
 * - Learner: records which of its sessions were touched since the last PING and reports
 *   them in the PING reply; reconnecting sessions are revalidated at the leader.
 *
 * Session ids whose high byte is 0 are not client sessions (this layer never issues
 * them): they belong to code that calls `QuorumServer.write` directly (tests, the
 * simulator, embedders) and to the container reaper (session 0). The session check lets
 * them pass.
 */
import { CONTAINER_EPHEMERAL_OWNER, OpCode } from '../protocol/constants.js';
import { ErrorCode } from '../protocol/errors.js';
import type { ServerId, SessionTouch } from '../protocol/peer.js';
import type { SessionId } from '../protocol/records.js';
import type { Txn } from '../protocol/txn.js';
import type { TimerHandle } from '../runtime/clock.js';
import type { QuorumServer, SessionHooks } from './quorum-server.js';
import { checkSessionPassword, sessionPassword } from './session-password.js';
import { SessionTracker, initialSessionId, negotiateTimeout, type SessionTimeoutBounds } from './session-tracker.js';

/** Options of the session layer. */
export interface SessionOptions {
  /**
   * Smallest negotiated session timeout, ms. Default `2 × tickTime` (ZooKeeper's).
   */
  minSessionTimeout?: number;
  /**
   * Largest negotiated session timeout, ms. Default `max(20 × tickTime, 60 000)`:
   * ZooKeeper's `20 × tickTime` assumes tickTime 2000; zoostate's default tickTime is
   * 50 ms, which would clamp every client to 1 s. With the default, a client asking for
   * 10–30 s gets what it asked for, as it would from a ZooKeeper with tickTime ≥ 1500.
   */
  maxSessionTimeout?: number;
  /**
   * Ensemble secret for session passwords (HMAC). Default none: ZooKeeper's derivation,
   * byte-for-byte. Every server of an ensemble must use the same setting.
   */
  sessionSecret?: string | Uint8Array;
}

/** The session timeout bounds for `tickTime` with `options` applied (see `SessionOptions`). */
export function sessionTimeoutBounds(tickTime: number, options: SessionOptions = {}): SessionTimeoutBounds {
  const min = options.minSessionTimeout ?? 2 * tickTime;
  const max = options.maxSessionTimeout ?? Math.max(20 * tickTime, 60_000);
  if (!(min > 0) || !(max >= min)) throw new RangeError(`invalid session timeout bounds [${min}, ${max}]`);
  return { min, max };
}

/** True for ids this layer issues (a server id in the high byte); see the module comment. */
export function isClientSessionId(sessionId: SessionId): boolean {
  // The high byte of the 64-bit id is non-zero: negative as a signed long, or ≥ 2^56.
  // (Comparisons allocate nothing; this runs in the leader's prepare of every write.)
  return sessionId < 0n || sessionId >= HIGH_BYTE_ONE;
}

const HIGH_BYTE_ONE = 1n << 56n;

/** Answer of a revalidation: valid, invalid, or undefined when the server stopped serving first. */
export type RevalidateCallback = (valid: boolean | undefined) => void;

const NO_TOUCHES: SessionTouch[] = [];

/** One server's session layer; see the module comment. */
export class SessionManager {
  /** Negotiation bounds in force. */
  readonly bounds: SessionTimeoutBounds;
  private readonly server: QuorumServer;
  private readonly secret: string | Uint8Array | undefined;
  private tracker: SessionTracker | null = null;
  private reaper: TimerHandle | undefined;
  private readonly touched = new Map<SessionId, number>();
  private readonly revalidations = new Map<SessionId, RevalidateCallback[]>();
  private nextId: SessionId;
  private expiredCount = 0;
  private round = 0;

  constructor(server: QuorumServer, options: SessionOptions = {}) {
    this.server = server;
    this.bounds = sessionTimeoutBounds(server.timing.tickTime, options);
    this.secret = options.sessionSecret;
    this.nextId = initialSessionId(server.id, server.clock.now());
    server.on('serving', (serving) => (serving ? this.onServing() : this.onStopped()));
    server.addApplyConsumer({ wantsResult: () => false, applied: (txn) => this.onApplied(txn) });
    server.setSessionHooks(this.hooks());
  }

  /** The leader's tracker while this server leads (for `dump` and tests); null otherwise. */
  get leaderTracker(): SessionTracker | null {
    return this.tracker;
  }

  /** Sessions the leader expired since this server started. */
  get expired(): number {
    return this.expiredCount;
  }

  /**
   * Changes whenever touches recorded so far have been reported (a learner's PING reply),
   * sessions start closing, or the role changed: a caller that touched a session in the
   * current round and expiry bucket need not touch it again (see `ClientService`).
   */
  get touchRound(): number {
    return this.round;
  }

  /** Clamp a requested timeout (§4.2 step 6). */
  negotiate(requested: number): number {
    return negotiateTimeout(requested, this.bounds);
  }

  /** A fresh session id: this server's id in the high byte, unused in the tree. */
  allocate(): SessionId {
    const live = this.server.tree.sessions;
    let id = this.nextId;
    while (id === 0n || id === CONTAINER_EPHEMERAL_OWNER || live.has(id)) id = BigInt.asIntN(64, id + 1n);
    this.nextId = BigInt.asIntN(64, id + 1n);
    return id;
  }

  /** The password of `sessionId`. */
  password(sessionId: SessionId): Uint8Array {
    return sessionPassword(sessionId, this.secret);
  }

  /** True iff `password` belongs to `sessionId`. */
  checkPassword(sessionId: SessionId, password: Uint8Array): boolean {
    return checkSessionPassword(sessionId, password, this.secret);
  }

  /**
   * A request of `sessionId` arrived on this server (every request touches its session,
   * §9.1). False when the leader knows the session as closing or gone: the request is
   * then dropped without a reply (§9.5).
   */
  touch(sessionId: SessionId, timeout: number): boolean {
    const tracker = this.tracker;
    if (tracker !== null) return tracker.touch(sessionId, this.server.clock.elapsed(), timeout);
    if (!this.server.serving) return false;
    this.touched.set(sessionId, timeout);
    return true;
  }

  /**
   * May `sessionId` attach to this server (a reconnect)? The leader answers from its
   * tracker (touching it and taking ownership); a learner asks the leader (REVALIDATE).
   */
  revalidate(sessionId: SessionId, timeout: number, done: RevalidateCallback): void {
    const tracker = this.tracker;
    if (tracker !== null) {
      const valid = tracker.touch(sessionId, this.server.clock.elapsed(), timeout) && tracker.setOwner(sessionId, this.server.id);
      done(valid);
      return;
    }
    if (!this.server.revalidate(sessionId, timeout)) {
      done(undefined);
      return;
    }
    this.touched.set(sessionId, timeout);
    const waiting = this.revalidations.get(sessionId);
    if (waiting === undefined) this.revalidations.set(sessionId, [done]);
    else waiting.push(done);
  }

  /** The session's closeSession was submitted (leader only): later touches fail (§9.5). */
  setClosing(sessionId: SessionId): void {
    if (this.tracker === null) return;
    this.tracker.setClosing(sessionId);
    this.round++; // callers re-touch, and so learn that the session is closing
  }

  // ------------------------------------------------------------------ internals

  private hooks(): SessionHooks {
    return {
      collectTouches: () => this.collectTouches(),
      touch: (touches) => this.touchFromLearner(touches),
      checkSession: (sessionId, origin) => this.checkSession(sessionId, origin),
      revalidate: (origin, sessionId, timeout) => this.revalidateFrom(origin, sessionId, timeout),
      revalidated: (sessionId, valid) => this.settleRevalidation(sessionId, valid),
    };
  }

  private collectTouches(): SessionTouch[] {
    if (this.touched.size === 0) return NO_TOUCHES;
    this.round++;
    const touches: SessionTouch[] = [];
    for (const [sessionId, timeout] of this.touched) touches.push({ sessionId, timeout });
    this.touched.clear();
    return touches;
  }

  private touchFromLearner(touches: readonly SessionTouch[]): void {
    const tracker = this.tracker;
    if (tracker === null) return;
    const now = this.server.clock.elapsed();
    for (let i = 0; i < touches.length; i++) tracker.touch(touches[i]!.sessionId, now, touches[i]!.timeout);
  }

  /** `SessionTrackerImpl.checkSession`, without exceptions (it runs for every write op). */
  private checkSession(sessionId: SessionId, origin: ServerId): number {
    const tracker = this.tracker;
    if (tracker === null || !isClientSessionId(sessionId)) return 0;
    const session = tracker.get(sessionId);
    if (session === undefined || session.closing) return ErrorCode.SessionExpired;
    if (session.owner === undefined) session.owner = origin;
    else if (session.owner !== origin) return ErrorCode.SessionMoved;
    return 0;
  }

  private revalidateFrom(origin: ServerId, sessionId: SessionId, timeout: number): boolean {
    const tracker = this.tracker;
    if (tracker === null) return false;
    return tracker.touch(sessionId, this.server.clock.elapsed(), timeout) && tracker.setOwner(sessionId, origin);
  }

  private settleRevalidation(sessionId: SessionId, valid: boolean | undefined): void {
    const waiting = this.revalidations.get(sessionId);
    if (waiting === undefined) return;
    this.revalidations.delete(sessionId);
    for (const done of waiting) done(valid);
  }

  private onServing(): void {
    if (this.server.role !== 'leader') return;
    // A new leader tracks every live session afresh: each gets a full timeout from now.
    const now = this.server.clock.elapsed();
    const tracker = new SessionTracker(this.server.timing.tickTime, this.server.id, now, this.server.clock.now());
    for (const [id, timeout] of this.server.tree.sessions) tracker.addSession(id, timeout, now);
    this.tracker = tracker;
    this.touched.clear();
    this.round++;
    this.scheduleReaper();
  }

  private onStopped(): void {
    this.tracker = null;
    this.round++;
    if (this.reaper !== undefined) {
      this.server.clock.clearTimeout(this.reaper);
      this.reaper = undefined;
    }
    this.touched.clear();
    const waiting = [...this.revalidations.values()];
    this.revalidations.clear();
    for (const list of waiting) for (const done of list) done(undefined);
  }

  private onApplied(txn: Txn): void {
    const kind = txn.body.kind;
    if (kind === 'createSession') {
      if (this.tracker !== null) {
        const now = this.server.clock.elapsed();
        // An empty tracker starts afresh, so its buckets never lag far behind the clock.
        if (this.tracker.size === 0 && this.reaper === undefined) this.tracker = new SessionTracker(this.server.timing.tickTime, this.server.id, now, this.server.clock.now());
        this.tracker.addSession(txn.header.sessionId, (txn.body as { timeout: number }).timeout, now);
        this.scheduleReaper();
      }
    } else if (kind === 'closeSession') {
      this.tracker?.removeSession(txn.header.sessionId);
      this.touched.delete(txn.header.sessionId);
    }
  }

  /** Wake at the next bucket boundary while there are sessions to expire. */
  private scheduleReaper(): void {
    const tracker = this.tracker;
    if (tracker === null || this.reaper !== undefined || tracker.size === 0) return;
    const clock = this.server.clock;
    const delay = Math.max(0, tracker.nextExpiration() - clock.elapsed());
    this.reaper = clock.setTimeout(() => this.reap(), delay);
  }

  private reap(): void {
    this.reaper = undefined;
    const tracker = this.tracker;
    if (tracker === null) return;
    const expired = tracker.takeExpired(this.server.clock.elapsed());
    if (expired.length > 0) this.round++; // callers re-touch and learn the sessions are closing
    for (const session of expired) {
      this.expiredCount++;
      // As ZooKeeper: a closeSession with no connection attached (cxid 0); its txn
      // deletes the ephemerals and every server closes the session's connection.
      this.server.write({ type: OpCode.closeSession }, { sessionId: session.id, cxid: 0, authIds: [] }, ignore);
    }
    this.scheduleReaper();
  }
}

function ignore(): void {}
