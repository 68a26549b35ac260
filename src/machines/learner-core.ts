/**
 * The plain-data core of a learner (ZooKeeper's `Learner`, `Follower`, `Observer`): per
 * message work for followers and observers, outside the machine. The follower and
 * observer machines own the lifecycle and call the phase methods; the core reports
 * milestones (`LearnerEvent`).
 *
 * Stream handling, in every phase after discovery:
 * - The first message after ACKEPOCH must be DIFF, TRUNC or SNAP (as in ZooKeeper's
 *   `syncWithLeader`); anything else means the batch carrying the sync data was lost and
 *   fails the role. A DIFF's history must have fully arrived by NEWLEADER.
 * - PROPOSAL / INFORM: must extend the history without a gap (next counter of the same
 *   epoch, or counter 1 of a later one); repeats are ignored, a gap fails the role (the
 *   transport lost something: resynchronize). All transactions of one batch are logged
 *   with one storage append; a follower ACKs the batch's last zxid once it is durable
 *   (cumulative ACK), observers never ACK.
 * - COMMIT z (cumulative) and INFORM move the commit watermark; committed transactions
 *   are applied in zxid order, but only from UPTODATE on: until then the leader is not
 *   established and its history not yet committed.
 * - NEWLEADER: every proposal received so far and currentEpoch are made durable before
 *   the ACK (the ZOOKEEPER-4785 ordering; storage completes in order, so one callback on
 *   the currentEpoch write covers all of it).
 */
import { OpCode } from '../protocol/constants.js';
import type { PeerMessage, ServerId, SnapMessage } from '../protocol/peer.js';
import type { Id, SessionId } from '../protocol/records.js';
import type { Txn } from '../protocol/txn.js';
import { counterOf, epochOf, formatZxid, makeZxid, type Zxid } from '../protocol/zxid.js';
import type { PeerHost, RoleCore, SubmittedWrite } from './host.js';
import type { ZabTiming } from './timing.js';
import type { SyncMode } from './sync-plan.js';

/** Milestones the core reports to the follower/observer machine. */
export type LearnerEvent =
  | { type: 'EPOCH_ACCEPTED' }
  | { type: 'NEWLEADER' }
  | { type: 'NEWLEADER_ACKED' }
  | { type: 'UPTODATE' }
  | { type: 'FAIL'; reason: string };

/** The learner's phase as its core sees it. */
export type LearnerPhase = 'discovery' | 'synchronization' | 'broadcast';

interface SyncMarker {
  zxid: Zxid;
  sessionId: SessionId;
  cxid: number;
}

/** True if `next` directly follows `last` in a history (ZAB zxids have no holes). */
export function followsDirectly(last: Zxid, next: Zxid): boolean {
  if (next === last + 1 && counterOf(next) !== 0) return true;
  return epochOf(next) > epochOf(last) && counterOf(next) === 1;
}

/** A follower's or observer's per-message work. See the module comment. */
export class LearnerCore implements RoleCore {
  /** ZAB timing (the machine's delays read it). */
  readonly timing: ZabTiming;
  /** The leader this learner follows. */
  readonly leader: ServerId;
  /** Observers send OBSERVERINFO, never ACK proposals and receive INFORMs. */
  readonly observer: boolean;
  /** The epoch from LEADERINFO (-1 before). */
  newEpoch = -1;
  /** How the leader synchronized this learner. */
  syncMode: SyncMode | undefined;
  phase: LearnerPhase = 'discovery';

  private readonly host: PeerHost;
  private notify: (event: LearnerEvent) => void = () => {};
  private stopped = false;
  private failed = false;
  private reportedZxid: Zxid = 0;
  /** The zxid of the DIFF/TRUNC/SNAP message. */
  private syncZxid: Zxid = 0;
  private committed: Zxid;
  private durable: Zxid = 0;
  private applyEnabled = false;
  private newLeaderSeen = false;
  private newLeaderAcked = false;
  private pending: Txn[] = [];
  private snapChunks: Uint8Array[] | null = null;
  /** Half ticks since the last message from the leader. */
  private silentTicks = 0;
  private markers: SyncMarker[] = [];

  constructor(host: PeerHost, leader: ServerId, observer: boolean) {
    this.host = host;
    this.timing = host.timing;
    this.leader = leader;
    this.observer = observer;
    this.committed = host.db.lastAppliedZxid;
  }

  /** Connect the core to its machine and start receiving messages. */
  attach(notify: (event: LearnerEvent) => void): void {
    this.notify = notify;
    this.host.setActiveRole(this);
  }

  // ------------------------------------------------------------------ phases (machine actions)

  /** Discovery: (re)send FOLLOWERINFO / OBSERVERINFO until LEADERINFO arrives. */
  sendLearnerInfo(): void {
    if (this.stopped || this.failed || this.newEpoch >= 0) return;
    const db = this.host.db;
    this.host.outbox.push(this.leader, {
      type: this.observer ? 'observerInfo' : 'followerInfo',
      acceptedEpoch: db.acceptedEpoch,
      lastZxid: db.lastZxid,
    });
  }

  /**
   * Broadcast timer (every half tick): fail if the leader has been silent for syncLimit
   * ticks, counted in half ticks of this timer so that a stall of this process counts
   * as one late tick (see LeaderCore.tick).
   */
  tick(): void {
    if (this.stopped || this.failed) return;
    const timing = this.host.timing;
    if (++this.silentTicks > timing.syncLimit * 2) {
      this.fail(`nothing from leader ${this.leader} for syncLimit (${timing.syncLimit} ticks)`);
    }
  }

  /** Stop following: no more sends, callbacks or events. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.host.setServing(false);
    this.host.clearActiveRole(this);
  }

  /**
   * The current configuration changed (reconfig.ts): if the leader no longer votes, or
   * this server's role changed (participant ↔ observer), leave and elect again, as
   * ZooKeeper's learners do on COMMITANDACTIVATE. A server that was removed keeps
   * following as a non-voting learner (ZooKeeper 3.8's removed followers do).
   */
  onReconfig(): void {
    if (this.stopped || this.failed) return;
    const { voters, observers } = this.host.membership;
    const self = this.host.self;
    let reason: string | undefined;
    if (!voters.includes(this.leader)) reason = `leader ${this.leader} is no longer a voter`;
    else if (this.observer && voters.includes(self)) reason = 'this observer became a participant';
    else if (!this.observer && observers.includes(self)) reason = 'this follower became an observer';
    // Deferred: this runs inside the apply of the reconfig transaction.
    if (reason !== undefined) this.host.clock.defer(() => this.fail(`reconfig: ${reason}`));
  }

  /** Fail the role from outside the core (a machine timeout). */
  abandon(reason: string): void {
    this.fail(reason);
  }

  // ------------------------------------------------------------------ client path

  submitWrite(sessionId: SessionId, cxid: number, request: SubmittedWrite, authIds: readonly Id[]): boolean {
    if (this.phase !== 'broadcast' || this.stopped || this.failed) return false;
    this.host.outbox.push(this.leader, {
      type: 'request',
      sessionId,
      cxid,
      request: request as Extract<PeerMessage, { type: 'request' }>['request'],
      authInfo: authIds as Id[],
    });
    return true;
  }

  submitSync(sessionId: SessionId, cxid: number, path: string): boolean {
    if (this.phase !== 'broadcast' || this.stopped || this.failed) return false;
    this.host.outbox.push(this.leader, { type: 'request', sessionId, cxid, request: { type: OpCode.sync, path }, authInfo: [] });
    return true;
  }

  submitRevalidate(sessionId: SessionId, timeout: number): boolean {
    if (this.phase !== 'broadcast' || this.stopped || this.failed) return false;
    this.host.outbox.push(this.leader, { type: 'revalidate', sessionId, timeout });
    return true;
  }

  // ------------------------------------------------------------------ messages

  onMessages(from: ServerId, messages: readonly PeerMessage[]): void {
    if (from !== this.leader || this.stopped || this.failed) return;
    this.silentTicks = 0;
    let advanced = false;
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i]!;
      if (this.phase === 'discovery') {
        if (message.type === 'leaderInfo' && this.newEpoch < 0) this.onLeaderInfo(message.newEpoch);
        continue; // anything else predates this handshake
      }
      if (this.syncMode === undefined && !this.beginsSync(message)) {
        // The leader sends nothing else before its DIFF/TRUNC/SNAP (Learner.syncWithLeader
        // exits on any other first packet): the sync data was lost. Accepting this would
        // log live proposals after a hole in the history.
        this.fail(`${message.type} before DIFF/TRUNC/SNAP: the leader's sync data was lost`);
        return;
      }
      switch (message.type) {
        case 'proposal':
          if (this.observer && this.phase === 'broadcast') break; // observers only take INFORM then
          this.receive(message.txn);
          if (message.txn.header.zxid <= this.committed) advanced = true; // its COMMIT came first
          break;
        case 'inform':
          this.receive(message.txn);
          if (message.txn.header.zxid > this.committed) {
            this.committed = message.txn.header.zxid;
            advanced = true;
          }
          break;
        case 'commit':
          if (message.zxid > this.committed) {
            this.committed = message.zxid;
            advanced = true;
          }
          break;
        case 'ping':
          this.host.outbox.push(this.leader, { type: 'ping', zxid: message.zxid, touches: this.host.collectTouches() });
          break;
        case 'revalidateReply':
          if (this.phase === 'broadcast') this.host.sessionRevalidated?.(message.sessionId, message.valid);
          break;
        case 'sync':
          this.markers.push({ zxid: this.committed, sessionId: message.sessionId, cxid: message.cxid });
          advanced = true;
          break;
        case 'diff':
        case 'trunc':
        case 'snap':
          if (this.phase === 'synchronization' && !this.newLeaderSeen) this.onSyncData(message);
          break;
        case 'newLeader':
          if (this.phase === 'synchronization' && !this.newLeaderSeen) this.onNewLeader(message.zxid);
          break;
        case 'upToDate':
          if (this.phase === 'synchronization' && this.newLeaderAcked) this.onUpToDate();
          break;
        default:
          break; // not for a learner: ignore
      }
      if (this.stopped || this.failed) return;
    }
    this.flushAppends();
    if (advanced) this.applyCommitted();
  }

  onDisconnected(peer: ServerId): void {
    if (peer === this.leader) this.fail(`connection to leader ${peer} broke`);
  }

  /** True for what may arrive in synchronization before the sync mode is known. */
  private beginsSync(message: PeerMessage): boolean {
    return message.type === 'diff' || message.type === 'trunc' || message.type === 'snap' || message.type === 'leaderInfo'; // a repeat
  }

  private onLeaderInfo(newEpoch: number): void {
    const db = this.host.db;
    if (newEpoch < db.acceptedEpoch) {
      this.fail(`leader proposed epoch ${newEpoch}, below the accepted ${db.acceptedEpoch}`);
      return;
    }
    this.newEpoch = newEpoch;
    this.reportedZxid = db.lastZxid;
    const ackEpoch = (currentEpoch: number): void => {
      if (this.stopped || this.failed) return;
      this.phase = 'synchronization';
      this.host.outbox.push(this.leader, { type: 'ackEpoch', currentEpoch, lastLoggedZxid: this.reportedZxid });
      this.host.epochChanged(newEpoch);
      this.notify({ type: 'EPOCH_ACCEPTED' });
    };
    if (newEpoch > db.acceptedEpoch) {
      // Persist acceptedEpoch before acknowledging it (ZAB phase 1).
      db.writeAcceptedEpoch(newEpoch, () => ackEpoch(db.currentEpoch));
    } else {
      ackEpoch(-1); // already accepted exactly this epoch: the leader will not count it
    }
  }

  private onSyncData(message: Extract<PeerMessage, { type: 'diff' | 'trunc' | 'snap' }>): void {
    const db = this.host.db;
    if (message.type === 'snap') {
      this.onSnapChunk(message);
      return;
    }
    if (this.syncMode !== undefined) return; // a repeat
    this.flushAppends();
    if (message.type === 'diff') {
      // My whole log is in the leader's history.
      if (this.reportedZxid > this.committed) this.committed = this.reportedZxid;
    } else {
      if (!db.truncate(message.zxid)) {
        db.wipe();
        this.fail(`cannot truncate to ${formatZxid(message.zxid)} below the applied state; wiped for a snapshot`);
        return;
      }
      if (message.zxid > this.committed) this.committed = message.zxid;
    }
    this.setSyncMode(message.type, message.zxid);
  }

  private onSnapChunk(message: SnapMessage): void {
    if (this.syncMode !== undefined) return; // a repeat
    (this.snapChunks ??= []).push(message.chunk);
    if (!message.last) return;
    const chunks = this.snapChunks;
    this.snapChunks = null;
    const bytes = chunks.length === 1 ? chunks[0]! : concat(chunks);
    this.flushAppends();
    this.host.db.installSnapshot(bytes);
    this.committed = this.host.db.lastAppliedZxid;
    this.setSyncMode('snap', message.zxid);
  }

  private setSyncMode(mode: SyncMode, zxid: Zxid): void {
    this.syncMode = mode;
    this.syncZxid = zxid;
    this.host.trace({ type: 'sync', side: 'learner', peer: this.leader, mode, zxid, txns: 0 });
  }

  private onNewLeader(zxid: Zxid): void {
    if (epochOf(zxid) !== this.newEpoch || this.syncMode === undefined) {
      this.fail(`unexpected NEWLEADER ${formatZxid(zxid)} (epoch ${this.newEpoch})`);
      return;
    }
    if (this.syncMode === 'diff' && this.lastReceived() < this.syncZxid) {
      // A DIFF's zxid is the end of the history it brings: some of it never arrived.
      this.fail(`NEWLEADER before the DIFF reached ${formatZxid(this.syncZxid)} (have ${formatZxid(this.lastReceived())})`);
      return;
    }
    this.newLeaderSeen = true;
    this.flushAppends();
    this.notify({ type: 'NEWLEADER' });
    // Storage completes in order: once currentEpoch is durable, so is every proposal
    // received before NEWLEADER (ZOOKEEPER-4785).
    this.host.db.writeCurrentEpoch(this.newEpoch, () => {
      if (this.stopped || this.failed) return;
      this.newLeaderAcked = true;
      this.host.outbox.push(this.leader, { type: 'ack', zxid: makeZxid(this.newEpoch, 0) });
      this.notify({ type: 'NEWLEADER_ACKED' });
    });
  }

  private onUpToDate(): void {
    this.phase = 'broadcast';
    this.applyEnabled = true;
    this.flushAppends();
    this.applyCommitted();
    // ACK what was logged during synchronization (cumulative).
    if (!this.observer && epochOf(this.durable) === this.newEpoch && counterOf(this.durable) > 0) {
      this.host.outbox.push(this.leader, { type: 'ack', zxid: this.durable });
    }
    this.host.setServing(true);
    this.notify({ type: 'UPTODATE' });
  }

  // ------------------------------------------------------------------ the stream

  /** Queue a transaction for logging; it must extend the history without a gap. */
  private receive(txn: Txn): void {
    const zxid = txn.header.zxid;
    const last = this.lastReceived();
    if (zxid <= last) return; // a repeat
    if (!followsDirectly(last, zxid) || epochOf(zxid) > this.newEpoch) {
      this.fail(`gap in the leader's stream: ${formatZxid(zxid)} after ${formatZxid(last)}`);
      return;
    }
    this.pending.push(txn);
  }

  /** The last zxid of this learner's history, counting what is queued for logging. */
  private lastReceived(): Zxid {
    const pending = this.pending;
    return pending.length > 0 ? pending[pending.length - 1]!.header.zxid : this.host.db.lastZxid;
  }

  /** Log the transactions received in this batch with one append; ACK when durable. */
  private flushAppends(): void {
    if (this.pending.length === 0 || this.stopped || this.failed) return;
    const batch = this.pending;
    this.pending = [];
    const last = batch[batch.length - 1]!.header.zxid;
    this.host.db.append(batch, () => {
      if (this.stopped || this.failed) return;
      if (last > this.durable) this.durable = last;
      if (this.phase === 'broadcast' && !this.observer && epochOf(last) === this.newEpoch) {
        this.host.outbox.push(this.leader, { type: 'ack', zxid: last });
      }
    });
  }

  /** Apply committed transactions in order (from UPTODATE on) and release syncs. */
  private applyCommitted(): void {
    if (!this.applyEnabled) return;
    const db = this.host.db;
    db.applyThrough(this.committed);
    const markers = this.markers;
    if (markers.length > 0) {
      const applied = db.lastAppliedZxid;
      let released = 0;
      while (released < markers.length && markers[released]!.zxid <= applied) {
        const m = markers[released++]!;
        this.host.syncReleased(m.sessionId, m.cxid);
      }
      if (released > 0) markers.splice(0, released);
    }
    db.maybeSnapshot();
  }

  private fail(reason: string): void {
    if (this.failed || this.stopped) return;
    this.failed = true;
    this.host.setServing(false);
    this.host.trace({ type: 'roleFailed', role: this.observer ? 'observer' : 'follower', reason });
    this.notify({ type: 'FAIL', reason });
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const c of chunks) size += c.length;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}
