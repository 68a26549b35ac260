/**
 * A held role (a lock, a read or write lock, a semaphore lease, a sync turn), as the
 * holder sees it: the node that holds it, a fencing token, and an AbortSignal that is
 * aborted the moment the role may be gone.
 *
 * Connection states, as Curator's recipes recommend handling them:
 * - SUSPENDED: the lease may be lost (another party may hold it once the session
 *   expires). `signal` is aborted with a `RoleLostError('suspended')` and `suspended` is
 *   emitted: stop touching the protected resource.
 * - RECONNECTED with the same session: the node is checked (it must still exist and be
 *   this session's ephemeral). If so, no one else can have held the role meanwhile; a
 *   new term starts with a fresh `signal` and `reinstated` is emitted.
 * - LOST / EXPIRED / node deleted: the lease is gone (`lost`) and its node is given up
 *   (deleted once connected, if the session survived); `release()` is then harmless.
 *
 * The fencing token is the czxid of the holder's node: it increases strictly from one
 * holder to the next, so a downstream system that remembers the largest token it has
 * seen can reject a stale holder's writes.
 */
import { EventEmitter } from 'eventemitter3';
import { RoleLostError } from './errors.js';
import type { Participant, ParticipantStatus } from './participant.js';

/** Events of a lease. */
export interface LeaseEvents {
  /** The connection is suspended: the lease may be lost; `signal` was aborted. */
  suspended: [error: RoleLostError];
  /** The connection came back with the node intact: a new term, with a new signal. */
  reinstated: [signal: AbortSignal];
  /** The lease is lost for good (session lost or expired, node deleted, client closed). */
  lost: [error: RoleLostError];
  /** The lease was released. */
  released: [];
}

/** A held role; see the file header. */
export class Lease extends EventEmitter<LeaseEvents> {
  /** The node that holds the role. */
  readonly path: string;
  /** Fencing token: the czxid of `path`. */
  readonly token: number;
  private ended = false;
  private gate: (() => boolean) | undefined;

  /**
   * @param participant the holder's participant, in `holding`
   * @param doRelease what releasing means for the recipe (count down, delete the node,
   *   leave); called on every `release()`, so it must be idempotent
   */
  constructor(
    readonly participant: Participant,
    path: string,
    token: number,
    private readonly doRelease: () => Promise<void>,
  ) {
    super();
    this.path = path;
    this.token = token;
    participant.on('revoked', (error) => {
      if (error.reason === 'suspended') this.emit('suspended', error);
    });
    participant.on('granted', (signal, term) => {
      if (term > 1) this.emit('reinstated', signal);
    });
    participant.on('state', (status) => {
      if (this.ended) return;
      const lost = status.phase === 'lost' || (status.phase === 'left' && status.lossReason !== undefined && status.lossReason !== 'released');
      if (lost) {
        this.ended = true;
        this.emit('lost', new RoleLostError(status.lossReason ?? 'lost', path));
      } else if (status.phase === 'leaving' || status.phase === 'left' || status.phase === 'releasing') {
        this.ended = true;
        this.emit('released');
      }
    });
  }

  /** Aborted when the role may be gone (the current term's signal). */
  get signal(): AbortSignal {
    return this.participant.signal!;
  }

  /** True while the role is held for sure (connected, node verified). */
  get held(): boolean {
    return this.participant.holding;
  }

  /** The holder's participant state. */
  get status(): ParticipantStatus {
    return this.participant.status;
  }

  /** Give the role back (reentrant locks count down first). Idempotent once released. */
  release(): Promise<void> {
    if (this.gate !== undefined && !this.gate()) return Promise.resolve();
    return this.doRelease();
  }

  /**
   * For reentrant recipes: `gate` runs on every `release()` and returns true when this
   * release is the last one (the node must go), false when it only counted down.
   */
  setReleaseGate(gate: () => boolean): void {
    this.gate = gate;
  }
}
