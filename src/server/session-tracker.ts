/**
 * The leader's session tracker: ZooKeeper's tick-bucketed expiry (`SessionTrackerImpl`,
 * `ExpiryQueue`, reference §9.1).
 *
 * Every touch moves a session to the bucket `roundUp(now + timeout)`, where buckets are
 * multiples of tickTime; the reaper expires whole buckets at their boundary. A session
 * therefore expires between `timeout` and `timeout + tickTime` after its last touch,
 * and the reaper wakes at most once per tick however many sessions there are.
 *
 * Pure data: time comes in as arguments, so the caller schedules the wake-ups on its
 * injected clock (`nextExpiration()` says when) and the simulator can replay it.
 */
import { ErrorCode, ZooKeeperError } from '../protocol/errors.js';
import { CONTAINER_EPHEMERAL_OWNER } from '../protocol/constants.js';
import type { SessionId } from '../protocol/records.js';
import { invariant } from '../runtime/assert.js';

/** What the tracker knows of one session. */
export interface TrackedSession {
  readonly id: SessionId;
  /** Negotiated timeout in ms. */
  timeout: number;
  /** Set once expiry or closeSession has been decided: touches fail from then on. */
  closing: boolean;
  /** The server (or connection owner token) the session is attached to; moves on reconnect elsewhere. */
  owner: unknown;
  /** The bucket (expiry time, ms) the session sits in. */
  expiresAt: number;
}

/** Timeout negotiation bounds (`minSessionTimeout`, `maxSessionTimeout`). */
export interface SessionTimeoutBounds {
  min: number;
  max: number;
}

/** ZooKeeper's defaults: [2, 20] × tickTime. */
export function defaultTimeoutBounds(tickTime: number): SessionTimeoutBounds {
  return { min: 2 * tickTime, max: 20 * tickTime };
}

/** Clamp a requested session timeout into the bounds (§4.2 step 6). */
export function negotiateTimeout(requested: number, bounds: SessionTimeoutBounds): number {
  return Math.min(bounds.max, Math.max(bounds.min, requested));
}

/**
 * The first session id a server hands out: `(serverId << 56) | ((now << 24) >>> 8)`
 * — the server id in the high byte, the low 40 bits of the clock in bits 16–55.
 */
export function initialSessionId(serverId: number, now: number): SessionId {
  invariant(Number.isInteger(serverId) && serverId >= 0 && serverId <= 255, `server id ${serverId} must fit in one byte`);
  const clockBits = BigInt.asUintN(64, BigInt(now) << 24n) >> 8n;
  return BigInt.asIntN(64, clockBits | (BigInt(serverId) << 56n));
}

/** Tracks sessions and their expiry buckets. */
export class SessionTracker {
  private readonly sessions = new Map<SessionId, TrackedSession>();
  private readonly buckets = new Map<number, Set<SessionId>>();
  private nextSessionId: SessionId;
  private nextBucket: number;

  /**
   * @param tickTime the bucket width, ms
   * @param serverId this server's id, placed in the high byte of the session ids it creates
   * @param now the current time on the clock every `now` of this tracker reads, ms (a
   *   monotonic one: `Clock.elapsed()`)
   * @param wallNow the wall time, ms, seeding the session ids (they must differ from the
   *   ids of an earlier run of this server, so not a clock whose origin is the process start)
   */
  constructor(
    readonly tickTime: number,
    serverId: number,
    now: number,
    wallNow: number = now,
  ) {
    invariant(tickTime > 0, 'tickTime must be positive');
    this.nextSessionId = initialSessionId(serverId, Math.floor(wallNow));
    this.nextBucket = this.roundUp(now);
  }

  /** Number of live sessions (closing ones included until removed). */
  get size(): number {
    return this.sessions.size;
  }

  /** Allocate a fresh session id (never the container marker, never 0). */
  allocateSessionId(): SessionId {
    let id = this.nextSessionId;
    if (id === CONTAINER_EPHEMERAL_OWNER || id === 0n) id = BigInt.asIntN(64, id + 1n);
    this.nextSessionId = BigInt.asIntN(64, id + 1n);
    return id;
  }

  /** Start tracking `id` (when its createSession txn is applied), touching it at `now`. */
  addSession(id: SessionId, timeout: number, now: number, owner?: unknown): TrackedSession {
    let session = this.sessions.get(id);
    if (!session) {
      session = { id, timeout, closing: false, owner, expiresAt: 0 };
      this.sessions.set(id, session);
    }
    session.timeout = timeout;
    this.moveToBucket(session, now);
    return session;
  }

  /** The session, if tracked. */
  get(id: SessionId): TrackedSession | undefined {
    return this.sessions.get(id);
  }

  /** Every tracked session. */
  all(): IterableIterator<TrackedSession> {
    return this.sessions.values();
  }

  /**
   * Record activity of `id` at `now`. False if the session is unknown or closing: the
   * request that caused the touch must then be dropped (§9.5).
   */
  touch(id: SessionId, now: number, timeout?: number): boolean {
    const session = this.sessions.get(id);
    if (!session || session.closing) return false;
    if (timeout !== undefined) session.timeout = timeout;
    this.moveToBucket(session, now);
    return true;
  }

  /** Mark `id` as closing (expiry decided or closeSession queued); later touches fail. */
  setClosing(id: SessionId): void {
    const session = this.sessions.get(id);
    if (session) session.closing = true;
  }

  /** Forget `id` (its closeSession txn was applied). */
  removeSession(id: SessionId): void {
    const session = this.sessions.get(id);
    if (!session) return;
    this.sessions.delete(id);
    this.buckets.get(session.expiresAt)?.delete(id);
  }

  /**
   * Check that `id` may issue a request from `owner` (`SessionTrackerImpl.checkSession`):
   * unknown → SessionExpired (ZooKeeper's UnknownSession surfaces as expiry to clients),
   * closing → SessionExpired, attached elsewhere → SessionMoved. A session with no owner
   * yet is attached to `owner`.
   */
  checkSession(id: SessionId, owner: unknown): void {
    const session = this.sessions.get(id);
    if (!session || session.closing) throw new ZooKeeperError(ErrorCode.SessionExpired);
    if (session.owner === undefined) session.owner = owner;
    else if (session.owner !== owner) throw new ZooKeeperError(ErrorCode.SessionMoved);
  }

  /** Attach `id` to a new owner (a client reconnected through another server). */
  setOwner(id: SessionId, owner: unknown): boolean {
    const session = this.sessions.get(id);
    if (!session || session.closing) return false;
    session.owner = owner;
    return true;
  }

  /** When the reaper must next run (the next bucket boundary), ms. */
  nextExpiration(): number {
    return this.nextBucket;
  }

  /**
   * Every session whose bucket ended at or before `now`, marked closing. The caller
   * submits a closeSession for each; they stay tracked until `removeSession`.
   */
  takeExpired(now: number): TrackedSession[] {
    const expired: TrackedSession[] = [];
    while (this.nextBucket <= now) {
      const bucket = this.buckets.get(this.nextBucket);
      if (bucket) {
        this.buckets.delete(this.nextBucket);
        for (const id of bucket) {
          const session = this.sessions.get(id)!;
          session.closing = true;
          expired.push(session);
        }
      }
      this.nextBucket += this.tickTime;
    }
    return expired;
  }

  private roundUp(time: number): number {
    return (Math.floor(time / this.tickTime) + 1) * this.tickTime;
  }

  private moveToBucket(session: TrackedSession, now: number): void {
    const expiresAt = this.roundUp(now + session.timeout);
    if (expiresAt === session.expiresAt) return;
    this.buckets.get(session.expiresAt)?.delete(session.id);
    let bucket = this.buckets.get(expiresAt);
    if (!bucket) this.buckets.set(expiresAt, (bucket = new Set()));
    bucket.add(session.id);
    session.expiresAt = expiresAt;
  }
}
