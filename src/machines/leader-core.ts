/**
 * The leader's plain-data core (ZooKeeper's `Leader` + `LearnerHandler`s): everything the
 * leader does per message, outside the machine. The leader machine (leader.ts) owns the
 * lifecycle: it calls the phase methods below on entry to its states and moves on when
 * the core reports a milestone (`LeaderEvent`).
 *
 * Batching (reference §16.6, adapted):
 * - Proposals: every write prepared in one turn is sent to each follower in the same
 *   transport batch and logged locally with one storage append; the leader's own ACK is
 *   the completion of that append.
 * - ACKs are cumulative: a follower's ACK of zxid z acknowledges every proposal of the
 *   epoch up to z (it logs in order, and storage completes in order).
 * - COMMITs are cumulative: COMMIT z commits every proposal up to z; the leader sends one
 *   per commit step however many proposals it covers, and INFORMs (with the transactions)
 *   to observers.
 * - A proposal commits when a quorum of voters (leader included) has acked it and every
 *   lower zxid has committed: the commit point is the quorum-th highest acked zxid.
 * - Reconfiguration (reconfig.ts): a reconfig proposal and every proposal after it need
 *   a quorum of the current voters AND of the proposed ones until it commits; learners
 *   that are not members are accepted as non-voting ones when reconfig is enabled.
 */
import { OpCode, Perms } from '../protocol/constants.js';
import { ErrorCode } from '../protocol/errors.js';
import type {
  AckEpochMessage,
  ForwardedRequestMessage,
  LearnerInfoMessage,
  PeerMessage,
  ServerId,
} from '../protocol/peer.js';
import type { Id, ReconfigRequest, SessionId } from '../protocol/records.js';
import type { Txn, TxnHeader } from '../protocol/txn.js';
import { MAX_COUNTER, counterOf, epochOf, makeZxid, type Zxid } from '../protocol/zxid.js';
import { RequestPreparer, type PrepareRequest, type RequestPreparerOptions } from '../tree/prepare.js';
import type { PeerHost, RoleCore, SubmittedWrite } from './host.js';
import type { ZabTiming } from './timing.js';
import { isQuorum, quorumSize, type Membership } from './quorum.js';
import { configOfTxn, planReconfig } from './reconfig.js';
import { encodeConfig, membershipOfConfig, staticConfig, type QuorumConfig } from './reconfig-config.js';
import { planSync, type SyncMode } from './sync-plan.js';

/** Milestones the core reports to the leader machine. */
export type LeaderEvent =
  | { type: 'EPOCH_QUORUM' }
  | { type: 'ACCEPTED_EPOCH_PERSISTED' }
  | { type: 'EPOCH_ACKED' }
  | { type: 'CURRENT_EPOCH_PERSISTED' }
  | { type: 'NEWLEADER_QUORUM' }
  | { type: 'FAIL'; reason: string };

/** Where a learner is in its handshake with this leader. */
export type LearnerStage =
  /** FOLLOWERINFO/OBSERVERINFO received. */
  | 'info'
  /** LEADERINFO sent. */
  | 'epochSent'
  /** ACKEPOCH received, waiting for the leader's synchronization phase. */
  | 'epochAcked'
  /** Sync data and NEWLEADER sent; forwarding live traffic. */
  | 'syncing'
  /** NEWLEADER ACKed, waiting for the leader to be established. */
  | 'synced'
  /** UPTODATE sent: in broadcast. */
  | 'serving';

/** The leader's view of one learner (ZooKeeper's `LearnerHandler`). */
export interface LearnerHandle {
  readonly id: ServerId;
  /** It sent OBSERVERINFO: it gets INFORMs and never ACKs. */
  readonly observer: boolean;
  /** A follower that votes in the current configuration (recomputed on reconfig). */
  voter: boolean;
  stage: LearnerStage;
  acceptedEpoch: number;
  /** Last logged zxid (from FOLLOWERINFO, then ACKEPOCH). */
  lastZxid: Zxid;
  /** A follower whose ACKEPOCH carried a real currentEpoch (not -1): counts toward the epoch quorum (if it votes). */
  countsForEpoch: boolean;
  /** Highest proposal of this epoch it acknowledged. */
  acked: Zxid;
  /** The leader's half-tick count at the last message from it. */
  lastHeard: number;
  /** How it was synchronized. */
  syncMode: SyncMode | undefined;
}

interface PendingSync {
  zxid: Zxid;
  origin: ServerId;
  sessionId: SessionId;
  cxid: number;
}

/** Per-phase status, for tests and the four-letter words. */
export interface LeaderStatus {
  epoch: number;
  established: boolean;
  lastProposed: Zxid;
  lastCommitted: Zxid;
  outstanding: number;
  learners: { id: ServerId; stage: LearnerStage; acked: Zxid; syncMode: SyncMode | undefined }[];
}

/** The leader's per-message work. See the module comment. */
export class LeaderCore implements RoleCore {
  /** ZAB timing (the machine's delays read it). */
  readonly timing: ZabTiming;
  /** The epoch being established (-1 until a quorum of learners connected). */
  newEpoch = -1;
  /** Learners by id. */
  readonly learners = new Map<ServerId, LearnerHandle>();

  private readonly host: PeerHost;
  private notify: (event: LeaderEvent) => void = () => {};
  private stopped = false;
  private failed = false;
  /** (currentEpoch, lastZxid) when leadership began: learners ahead of it are refused. */
  private readonly summaryEpoch: number;
  private readonly summaryZxid: Zxid;
  private maxAcceptedEpoch: number;
  private epochPersisted = false;
  private epochAckQuorum = false;
  private syncStarted = false;
  private newLeaderQuorum = false;
  private established = false;
  private readonly maxCounter: number;
  private readonly snapChunkSize: number;
  private preparer: RequestPreparer | null = null;
  /** The server the request being prepared came through (for the session check's owner). */
  private origin: ServerId;
  /** The prepare step's session check (with the origin), for reconfig requests. */
  private sessionCheck: ((sessionId: SessionId) => number) | undefined;
  /**
   * Configurations of reconfig transactions in this leader's unapplied history when it
   * began ("last seen", maybe not committed): discovery and NEWLEADER need a quorum of
   * each, besides one of the current configuration. Empty once established.
   */
  private historyConfigs: Membership[] = [];
  /** The reconfig proposed and not committed yet (then: ReconfigInProgress, dual quorums). */
  private pendingReconfig: { zxid: Zxid; membership: Membership } | null = null;
  /** This server votes in the current configuration. */
  private selfVoter: boolean;
  /** No longer a voter after a reconfig: stepping down, no more proposals or commits. */
  private retiring = false;

  // Broadcast state.
  private nextCounter = 1;
  private proposals: Txn[] = [];
  private pHead = 0;
  private lastProposed: Zxid = 0;
  private lastCommitted: Zxid = 0;
  private selfLogged: Zxid = 0;
  private pendingLog: Txn[] = [];
  private logScheduled = false;
  private pendingSyncs: PendingSync[] = [];
  private followers: LearnerHandle[] = [];
  private observers: LearnerHandle[] = [];
  private readonly flushLogFn = (): void => this.flushLog();
  private readonly ackValues: Zxid[] = [];
  /** Half ticks since leading began. */
  private ticks = 0;

  constructor(host: PeerHost) {
    this.host = host;
    this.timing = host.timing;
    this.summaryEpoch = host.db.currentEpoch;
    this.summaryZxid = host.db.lastZxid;
    this.maxAcceptedEpoch = host.db.acceptedEpoch;
    this.maxCounter = host.options.maxCounter ?? MAX_COUNTER;
    this.snapChunkSize = host.options.snapChunkSize ?? 1 << 20;
    this.origin = host.self;
    this.selfVoter = host.membership.voters.includes(host.self);
    const db = host.db;
    for (const txn of db.unappliedSlice(db.lastAppliedZxid)) {
      const config = configOfTxn(txn);
      if (config !== undefined) this.historyConfigs.push(membershipOfConfig(config));
    }
  }

  /** Connect the core to its machine and start receiving messages. */
  attach(notify: (event: LeaderEvent) => void): void {
    this.notify = notify;
    this.host.setActiveRole(this);
  }

  /** True once a quorum ACKed NEWLEADER and the leader serves. */
  get isEstablished(): boolean {
    return this.established;
  }

  /** A snapshot of the leader's state. */
  status(): LeaderStatus {
    return {
      epoch: this.newEpoch,
      established: this.established,
      lastProposed: this.lastProposed,
      lastCommitted: this.lastCommitted,
      outstanding: this.proposals.length - this.pHead,
      learners: [...this.learners.values()].map((h) => ({ id: h.id, stage: h.stage, acked: h.acked, syncMode: h.syncMode })),
    };
  }

  // ------------------------------------------------------------------ phases (machine actions)

  /** Discovery begins: wait for a quorum of FOLLOWERINFO (maybe already there: one voter). */
  startDiscovery(): void {
    this.checkEpochQuorum();
  }

  /** The new epoch is fixed: persist it as acceptedEpoch. */
  persistAcceptedEpoch(): void {
    this.host.db.writeAcceptedEpoch(this.newEpoch, () => {
      if (!this.stopped) this.notify({ type: 'ACCEPTED_EPOCH_PERSISTED' });
    });
  }

  /** Send LEADERINFO to every learner that asked (later ones get it on arrival). */
  sendLeaderInfo(): void {
    this.epochPersisted = true;
    this.host.epochChanged(this.newEpoch);
    this.host.trace({ type: 'epoch', epoch: this.newEpoch });
    for (const handle of this.learners.values()) {
      if (handle.stage === 'info') this.sendLeaderInfoTo(handle);
    }
    this.checkEpochAckQuorum();
  }

  /** A quorum accepted the epoch: persist it as currentEpoch. */
  persistCurrentEpoch(): void {
    this.host.db.writeCurrentEpoch(this.newEpoch, () => {
      if (!this.stopped) this.notify({ type: 'CURRENT_EPOCH_PERSISTED' });
    });
  }

  /** Synchronization: sync every learner that acked the epoch (later ones on arrival). */
  startSync(): void {
    this.syncStarted = true;
    for (const handle of this.learners.values()) {
      if (handle.stage === 'epochAcked') this.syncLearner(handle);
    }
    this.checkNewLeaderQuorum();
  }

  /**
   * A quorum has the new epoch's history: it is committed. Apply it, send UPTODATE, serve.
   */
  establish(): void {
    const db = this.host.db;
    this.established = true;
    db.applyThrough(db.lastZxid);
    this.lastCommitted = db.lastZxid;
    this.selfLogged = makeZxid(this.newEpoch, 0);
    this.lastProposed = makeZxid(this.newEpoch, 0);
    this.nextCounter = 1;
    this.historyConfigs = []; // applied above: every one of them is committed now
    const options = this.preparerOptions();
    this.sessionCheck = options?.checkSession;
    this.preparer = new RequestPreparer(db.tree, options);
    for (const handle of this.learners.values()) {
      if (handle.stage === 'synced') this.sendUpToDate(handle);
    }
    this.host.setServing(true);
  }

  /**
   * The current configuration changed (a reconfig this leader committed, or one in the
   * history it established): recount who votes; a leader that no longer votes steps
   * down (ZooKeeper hands over to a designated leader; here the new voters elect one).
   */
  onReconfig(): void {
    if (this.stopped || this.failed) return;
    const membership = this.host.membership;
    const pending = this.pendingReconfig;
    if (pending !== null && this.host.db.lastAppliedZxid >= pending.zxid) this.pendingReconfig = null;
    for (const handle of this.learners.values()) handle.voter = !handle.observer && membership.voters.includes(handle.id);
    this.selfVoter = membership.voters.includes(this.host.self);
    if (!this.selfVoter && !this.retiring) {
      this.retiring = true;
      // Deferred: this runs inside the commit that applied the reconfig.
      this.host.clock.defer(() => this.fail('no longer a voter after a reconfig: stepping down'));
    }
  }

  /** The prepare options, with the host's session check (which needs the request's origin) added. */
  private preparerOptions(): RequestPreparerOptions | undefined {
    const base = this.host.options.preparer;
    const host = this.host;
    if (host.checkSession === undefined) return base;
    const own = base?.checkSession;
    const checkSession = (sessionId: SessionId): number => {
      const code = own === undefined ? 0 : own(sessionId);
      return code !== 0 ? code : host.checkSession!(sessionId, this.origin);
    };
    return { ...base, checkSession };
  }

  /**
   * Every half tick: ping learners, drop silent ones, check the quorum is still there.
   *
   * Silence is counted in half ticks of this timer, not in wall time (as ZooKeeper
   * counts its `tick`): if this process stalls (a GC pause, a long batch), the stall
   * counts as one late tick, not as everyone's silence.
   */
  tick(): void {
    if (this.stopped || this.failed) return;
    const now = ++this.ticks;
    const timing = this.host.timing;
    const syncWindow = timing.syncLimit * 2;
    const initWindow = timing.initLimit * 2;
    const ping: PeerMessage = { type: 'ping', zxid: this.lastProposed, touches: [] };
    // COMMIT is cumulative and idempotent: repeating the commit point with each ping
    // costs one small message and lets a follower recover a lost last COMMIT.
    const commit: PeerMessage | null = this.established ? { type: 'commit', zxid: this.lastCommitted } : null;
    const heard: ServerId[] = [this.host.self];
    for (const handle of [...this.learners.values()]) {
      const inSync = handle.stage === 'syncing' || handle.stage === 'synced' || handle.stage === 'serving';
      const silence = now - handle.lastHeard;
      if (silence > (handle.stage === 'serving' ? syncWindow : initWindow)) {
        this.dropLearner(handle);
        continue;
      }
      if (inSync) this.host.outbox.push(handle.id, ping);
      if (commit !== null && !handle.observer && handle.stage === 'serving') this.host.outbox.push(handle.id, commit);
      if (!handle.observer && (handle.stage === 'synced' || handle.stage === 'serving') && silence <= syncWindow) heard.push(handle.id);
    }
    if (this.established && !this.quorumOfAll(heard)) {
      this.fail('lost the quorum: too few followers heard from within syncLimit');
    }
  }

  /** Stop leading: no more messages, callbacks or events. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.preparer?.reset();
    this.host.setServing(false);
    this.host.clearActiveRole(this);
  }

  // ------------------------------------------------------------------ client path

  submitWrite(sessionId: SessionId, cxid: number, request: SubmittedWrite, authIds: readonly Id[]): boolean {
    if (!this.established || this.stopped || this.failed || this.retiring) return false;
    const counter = this.nextCounter;
    if (counter >= this.maxCounter) {
      // ZOOKEEPER-1277: the counter would roll over; a new election starts a new epoch.
      this.fail('zxid counter exhausted: forcing a new epoch');
      return false;
    }
    const header = { sessionId, cxid, zxid: makeZxid(this.newEpoch, counter), time: this.host.clock.now() };
    let txn: Txn;
    try {
      txn =
        request.type === OpCode.reconfig
          ? this.prepareReconfig(header, request, authIds)
          : this.preparer!.prepare(header, request, authIds);
    } catch {
      // A request prepare cannot handle (malformed, or a bug): it still gets an answer,
      // as a failed write that consumes its zxid, and nothing else breaks (principle 7).
      txn = { header, body: { kind: 'error', err: ErrorCode.MarshallingError } };
    }
    this.nextCounter = counter + 1;
    this.propose(txn);
    return true;
  }

  submitSync(sessionId: SessionId, cxid: number): boolean {
    if (!this.established || this.stopped || this.failed || this.retiring) return false;
    this.orderSync(this.host.self, sessionId, cxid);
    return true;
  }

  // ------------------------------------------------------------------ messages

  onMessages(from: ServerId, messages: readonly PeerMessage[]): void {
    if (this.stopped || this.failed) return;
    const handle0 = this.learners.get(from);
    if (handle0 !== undefined) handle0.lastHeard = this.ticks;
    let acked = false;
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i]!;
      switch (message.type) {
        case 'followerInfo':
        case 'observerInfo':
          this.onLearnerInfo(from, message);
          break;
        case 'ackEpoch':
          this.onAckEpoch(from, message);
          break;
        case 'ack':
          if (this.onAck(from, message.zxid)) acked = true;
          break;
        case 'ping':
          if (message.touches.length > 0) this.host.touchSessions(message.touches);
          break;
        case 'request':
          this.onRequest(from, message);
          break;
        case 'revalidate':
          this.onRevalidate(from, message.sessionId, message.timeout);
          break;
        default:
          break; // anything else is not for a leader (stale or misdirected): ignore
      }
      if (this.stopped || this.failed) return;
    }
    if (acked) this.tryCommit();
  }

  onDisconnected(peer: ServerId): void {
    const handle = this.learners.get(peer);
    if (handle !== undefined) this.dropLearner(handle);
  }

  private onLearnerInfo(from: ServerId, message: LearnerInfoMessage): void {
    const membership = this.host.membership;
    const observer = message.type === 'observerInfo';
    const known = observer ? membership.observers.includes(from) : membership.voters.includes(from);
    if (from === this.host.self) return;
    // Not a member in that role: refused, unless reconfig is on (ZooKeeper then takes it
    // as a non-voting learner: a server about to be added, or one that was removed).
    if (!known && this.host.options.reconfigEnabled !== true) return;
    if (this.newEpoch >= 0 && message.acceptedEpoch > this.newEpoch) {
      // It promised a later epoch (to a leader attempt that never got established) and
      // must refuse this one, so it cannot join while this leader lasts (ZooKeeper's
      // learner throws and elects this leader again, and again). Step down: every new
      // epoch exceeds what its quorum accepted, so the voter gets in within a round or two.
      this.fail(`server ${from} accepted epoch ${message.acceptedEpoch}, above this leader's ${this.newEpoch}`);
      return;
    }
    let handle = this.learners.get(from);
    if (handle !== undefined && (handle.stage === 'info' || handle.stage === 'epochSent')) {
      // A repeat of the same handshake (learners resend until LEADERINFO arrives).
      handle.acceptedEpoch = message.acceptedEpoch;
      handle.lastZxid = message.lastZxid;
      if (handle.stage === 'epochSent') this.sendLeaderInfoTo(handle);
    } else {
      if (handle !== undefined) this.dropLearner(handle); // a new attempt: start over
      handle = {
        id: from,
        observer,
        voter: !observer && membership.voters.includes(from),
        stage: 'info',
        acceptedEpoch: message.acceptedEpoch,
        lastZxid: message.lastZxid,
        countsForEpoch: false,
        acked: 0,
        lastHeard: this.ticks,
        syncMode: undefined,
      };
      this.learners.set(from, handle);
      if (this.epochPersisted) this.sendLeaderInfoTo(handle);
    }
    if (this.newEpoch < 0) {
      if (message.acceptedEpoch > this.maxAcceptedEpoch) this.maxAcceptedEpoch = message.acceptedEpoch;
      this.checkEpochQuorum();
    }
  }

  private onAckEpoch(from: ServerId, message: AckEpochMessage): void {
    const handle = this.learners.get(from);
    if (handle === undefined || handle.stage !== 'epochSent') return;
    if (message.currentEpoch !== -1) {
      const ahead =
        message.currentEpoch > this.summaryEpoch ||
        (message.currentEpoch === this.summaryEpoch && message.lastLoggedZxid > this.summaryZxid);
      if (ahead) {
        // The election should not have chosen this leader; refuse the learner (ZooKeeper
        // closes its connection). It times out and elects again.
        this.dropLearner(handle);
        return;
      }
    }
    handle.stage = 'epochAcked';
    handle.lastZxid = message.lastLoggedZxid;
    handle.countsForEpoch = !handle.observer && message.currentEpoch !== -1;
    if (this.syncStarted) {
      this.syncLearner(handle);
    } else {
      this.checkEpochAckQuorum();
    }
  }

  /** Returns true if a proposal ACK may move the commit point. */
  private onAck(from: ServerId, zxid: Zxid): boolean {
    const handle = this.learners.get(from);
    if (handle === undefined || epochOf(zxid) !== this.newEpoch) return false;
    if (counterOf(zxid) === 0) {
      if (handle.stage !== 'syncing') return false; // NEWLEADER ACK (or the UPTODATE one)
      handle.stage = 'synced';
      if (this.established) this.sendUpToDate(handle);
      else this.checkNewLeaderQuorum();
      return false;
    }
    if (handle.observer || (handle.stage !== 'synced' && handle.stage !== 'serving')) return false;
    if (zxid > handle.acked) {
      handle.acked = zxid;
      return true;
    }
    return false;
  }

  private onRequest(from: ServerId, message: ForwardedRequestMessage): void {
    const handle = this.learners.get(from);
    if (!this.established || handle === undefined || handle.stage !== 'serving') return;
    const request = message.request;
    if (request.type === OpCode.sync) {
      this.orderSync(from, message.sessionId, message.cxid);
      return;
    }
    this.origin = from; // read by the session check during prepare (submitWrite does not throw)
    this.submitWrite(message.sessionId, message.cxid, request as SubmittedWrite, message.authInfo);
    this.origin = this.host.self;
  }

  /** REVALIDATE (§16.6): the session layer checks, touches and re-owns the session. */
  private onRevalidate(from: ServerId, sessionId: SessionId, timeout: number): void {
    const handle = this.learners.get(from);
    if (!this.established || handle === undefined || handle.stage !== 'serving') return;
    const valid = this.host.revalidateSession?.(from, sessionId, timeout) ?? false;
    this.host.outbox.push(from, { type: 'revalidateReply', sessionId, valid });
  }

  // ------------------------------------------------------------------ discovery and sync

  private checkEpochQuorum(): void {
    if (this.newEpoch >= 0) return;
    const ids: ServerId[] = [this.host.self];
    for (const handle of this.learners.values()) if (!handle.observer) ids.push(handle.id);
    if (!this.quorumOfAll(ids)) return;
    this.newEpoch = this.maxAcceptedEpoch + 1;
    this.notify({ type: 'EPOCH_QUORUM' });
  }

  private sendLeaderInfoTo(handle: LearnerHandle): void {
    handle.stage = 'epochSent';
    this.host.outbox.push(handle.id, { type: 'leaderInfo', newEpoch: this.newEpoch });
  }

  private checkEpochAckQuorum(): void {
    if (this.epochAckQuorum || !this.epochPersisted) return;
    const ids: ServerId[] = [this.host.self];
    for (const handle of this.learners.values()) if (handle.countsForEpoch) ids.push(handle.id);
    if (!this.quorumOfAll(ids)) return;
    this.epochAckQuorum = true;
    this.notify({ type: 'EPOCH_ACKED' });
  }

  private checkNewLeaderQuorum(): void {
    if (this.newLeaderQuorum || !this.syncStarted) return;
    const ids: ServerId[] = [this.host.self];
    for (const handle of this.learners.values()) {
      if (!handle.observer && (handle.stage === 'synced' || handle.stage === 'serving')) ids.push(handle.id);
    }
    if (!this.quorumOfAll(ids)) return;
    this.newLeaderQuorum = true;
    this.notify({ type: 'NEWLEADER_QUORUM' });
  }

  /**
   * Send one learner what it lacks (DIFF/TRUNC/SNAP and PROPOSALs with a closing COMMIT),
   * then the outstanding proposals, then NEWLEADER, and start forwarding live traffic to
   * it (ZooKeeper's `syncFollower` + `startForwarding`): all in one turn, so nothing
   * proposed in between is missed.
   */
  private syncLearner(handle: LearnerHandle): void {
    const db = this.host.db;
    const outbox = this.host.outbox;
    if (this.pendingLog.length > 0) this.flushLog();
    const end = this.established ? this.lastCommitted : db.lastZxid;
    const plan = planSync(db, handle.lastZxid, end);
    if (plan.mode === 'snap') {
      const bytes = plan.snapshot;
      const size = this.snapChunkSize;
      for (let offset = 0; offset < bytes.length || offset === 0; offset += size) {
        const last = offset + size >= bytes.length;
        outbox.push(handle.id, { type: 'snap', zxid: plan.zxid, chunk: bytes.subarray(offset, offset + size), last });
        if (last) break;
      }
    } else {
      outbox.push(handle.id, { type: plan.mode, zxid: plan.zxid });
    }
    const txns = plan.txns;
    for (let i = 0; i < txns.length; i++) outbox.push(handle.id, { type: 'proposal', txn: txns[i]! });
    if (txns.length > 0) outbox.push(handle.id, { type: 'commit', zxid: txns[txns.length - 1]!.header.zxid });
    if (!handle.observer) {
      for (let i = this.pHead; i < this.proposals.length; i++) outbox.push(handle.id, { type: 'proposal', txn: this.proposals[i]! });
      this.followers.push(handle);
    } else {
      this.observers.push(handle);
    }
    outbox.push(handle.id, { type: 'newLeader', zxid: makeZxid(this.newEpoch, 0) });
    handle.stage = 'syncing';
    handle.syncMode = plan.mode;
    handle.acked = makeZxid(this.newEpoch, 0);
    this.host.trace({ type: 'sync', side: 'leader', peer: handle.id, mode: plan.mode, zxid: plan.zxid, txns: txns.length });
  }

  private sendUpToDate(handle: LearnerHandle): void {
    handle.stage = 'serving';
    this.host.outbox.push(handle.id, { type: 'upToDate' });
  }

  private dropLearner(handle: LearnerHandle): void {
    this.learners.delete(handle.id);
    const list = handle.observer ? this.observers : this.followers;
    const index = list.indexOf(handle);
    if (index >= 0) list.splice(index, 1);
    for (let i = this.pendingSyncs.length - 1; i >= 0; i--) {
      if (this.pendingSyncs[i]!.origin === handle.id) this.pendingSyncs.splice(i, 1);
    }
  }

  // ------------------------------------------------------------------ broadcast

  private propose(txn: Txn): void {
    this.proposals.push(txn);
    this.lastProposed = txn.header.zxid;
    const message: PeerMessage = { type: 'proposal', txn };
    const outbox = this.host.outbox;
    const followers = this.followers;
    for (let i = 0; i < followers.length; i++) outbox.push(followers[i]!.id, message);
    this.pendingLog.push(txn);
    if (!this.logScheduled) {
      this.logScheduled = true;
      this.host.clock.defer(this.flushLogFn);
    }
  }

  /** Log every proposal of this turn with one append; its completion is the leader's ACK. */
  private flushLog(): void {
    this.logScheduled = false;
    if (this.stopped || this.pendingLog.length === 0) return;
    const batch = this.pendingLog;
    this.pendingLog = [];
    const last = batch[batch.length - 1]!.header.zxid;
    this.host.db.append(batch, () => {
      if (this.stopped || this.failed) return;
      if (last > this.selfLogged) this.selfLogged = last;
      this.tryCommit();
    });
  }

  /**
   * Commit everything a quorum of voters has acked (the quorum-th highest ACK). While a
   * reconfig is outstanding, what lies at or after it also needs a quorum of the new voters.
   */
  private tryCommit(): void {
    if (this.retiring) return;
    let point = this.quorumPoint(null);
    if (point < 0) return;
    const pending = this.pendingReconfig;
    if (pending !== null && point >= pending.zxid) {
      const next = this.quorumPoint(pending.membership);
      point = next >= pending.zxid ? Math.min(point, next) : pending.zxid - 1;
    }
    const commitTo = Math.min(point, this.lastProposed);
    // (epoch, 0) is no proposal: nothing to commit until a quorum acked a real one.
    if (commitTo > this.lastCommitted && counterOf(commitTo) > 0) this.commit(commitTo);
  }

  /**
   * The highest zxid a quorum of `next`'s voters (null: the current configuration's) has
   * logged, or -1 if too few of them are synced.
   */
  private quorumPoint(next: Membership | null): Zxid {
    const values = this.ackValues;
    values.length = 0;
    const voters = next === null ? this.host.membership.voters : next.voters;
    if (next === null ? this.selfVoter : voters.includes(this.host.self)) values.push(this.selfLogged);
    const followers = this.followers;
    for (let i = 0; i < followers.length; i++) {
      const handle = followers[i]!;
      if (handle.stage !== 'serving' && handle.stage !== 'synced') continue;
      if (next === null ? handle.voter : voters.includes(handle.id)) values.push(handle.acked);
    }
    const need = quorumSize(voters.length);
    if (values.length < need) return -1;
    values.sort(descending);
    return values[need - 1]!;
  }

  /** A quorum of the current configuration, of every one in the unapplied history, and of an outstanding reconfig's. */
  private quorumOfAll(ids: readonly ServerId[]): boolean {
    if (!isQuorum(ids, this.host.membership)) return false;
    for (const membership of this.historyConfigs) if (!isQuorum(ids, membership)) return false;
    return this.pendingReconfig === null || isQuorum(ids, this.pendingReconfig.membership);
  }

  // ------------------------------------------------------------------ reconfig

  /** ZooKeeper's reconfig prepare step (see reconfig.ts for the checks and their order). */
  private prepareReconfig(header: TxnHeader, request: ReconfigRequest, authIds: readonly Id[]): Txn {
    const fail = (err: number): Txn => ({ header, body: { kind: 'error', err } });
    const options = this.host.options;
    if (options.reconfigEnabled !== true) return fail(ErrorCode.ReconfigDisabled);
    const session = this.sessionCheck?.(header.sessionId) ?? 0;
    if (session !== 0) return fail(session);
    const membership = this.host.membership;
    const standaloneEnabled = options.standaloneEnabled ?? true;
    // A standalone ZooKeeper (one server) cannot reconfigure.
    if (standaloneEnabled && membership.voters.length === 1 && membership.observers.length === 0) return fail(ErrorCode.Unimplemented);
    if (this.pendingReconfig !== null) return fail(ErrorCode.ReconfigInProgress);
    const current: QuorumConfig = this.host.config ?? staticConfig(membership);
    if (request.curConfigId !== -1n && request.curConfigId !== BigInt(current.version)) return fail(ErrorCode.BadVersion);
    const plan = planReconfig(current, request, { standaloneEnabled });
    if (!plan.ok) return fail(plan.err);
    const next: QuorumConfig = { servers: plan.servers, version: header.zxid };
    const nextMembership = membershipOfConfig(next);
    if (!this.quorumSynced(nextMembership)) return fail(ErrorCode.NewConfigNoQuorum);
    if (this.host.db.tree.checkAccess(CONFIG_NODE, Perms.WRITE, authIds) !== ErrorCode.OK) return fail(ErrorCode.NoAuth);
    this.pendingReconfig = { zxid: header.zxid, membership: nextMembership };
    return { header, body: { kind: 'reconfig', data: encodeConfig(next) } };
  }

  /** ZooKeeper's `isQuorumSynced`: this leader and its synced followers hold a quorum of `membership`. */
  private quorumSynced(membership: Membership): boolean {
    const ids: ServerId[] = [this.host.self];
    const window = this.host.timing.syncLimit * 2;
    for (const handle of this.learners.values()) {
      if (handle.observer || (handle.stage !== 'serving' && handle.stage !== 'synced')) continue;
      if (this.ticks - handle.lastHeard <= window) ids.push(handle.id);
    }
    return isQuorum(ids, membership);
  }

  private commit(commitTo: Zxid): void {
    if (this.pendingLog.length > 0) this.flushLog(); // the log (and db) must hold what is applied
    const first = this.pHead;
    let end = first;
    while (end < this.proposals.length && this.proposals[end]!.header.zxid <= commitTo) end++;
    const committed = this.observers.length > 0 ? this.proposals.slice(first, end) : null;
    for (let i = first; i < end; i++) this.proposals[i] = undefined as unknown as Txn;
    this.pHead = end;
    if (this.pHead === this.proposals.length) {
      this.proposals = [];
      this.pHead = 0;
    } else if (this.pHead > 4096 && this.pHead * 2 > this.proposals.length) {
      this.proposals = this.proposals.slice(this.pHead);
      this.pHead = 0;
    }
    this.lastCommitted = commitTo;
    const db = this.host.db;
    db.applyThrough(commitTo);
    const outbox = this.host.outbox;
    const commitMessage: PeerMessage = { type: 'commit', zxid: commitTo };
    for (const handle of this.followers) outbox.push(handle.id, commitMessage);
    if (committed !== null) {
      const informs: PeerMessage[] = committed.map((txn) => ({ type: 'inform', txn }));
      for (const handle of this.observers) outbox.pushAll(handle.id, informs);
    }
    const syncs = this.pendingSyncs;
    let released = 0;
    while (released < syncs.length && syncs[released]!.zxid <= commitTo) {
      const s = syncs[released++]!;
      this.releaseSync(s.origin, s.sessionId, s.cxid);
    }
    if (released > 0) syncs.splice(0, released);
    db.maybeSnapshot();
  }

  /** §16.9: answer now if nothing is outstanding, else once the last proposal commits. */
  private orderSync(origin: ServerId, sessionId: SessionId, cxid: number): void {
    // lastProposed starts the epoch at (epoch, 0), the NEWLEADER marker, which is never
    // committed as a proposal: comparing it with the previous epoch's last commit would
    // hold every sync until the epoch's first write (forever, in a quiet ensemble).
    if (this.lastProposed > this.lastCommitted && counterOf(this.lastProposed) !== 0) {
      this.pendingSyncs.push({ zxid: this.lastProposed, origin, sessionId, cxid });
    } else {
      this.releaseSync(origin, sessionId, cxid);
    }
  }

  private releaseSync(origin: ServerId, sessionId: SessionId, cxid: number): void {
    if (origin === this.host.self) this.host.syncReleased(sessionId, cxid);
    else this.host.outbox.push(origin, { type: 'sync', sessionId, cxid });
  }

  private fail(reason: string): void {
    if (this.failed || this.stopped) return;
    this.failed = true;
    this.host.setServing(false);
    this.host.trace({ type: 'roleFailed', role: 'leader', reason });
    this.notify({ type: 'FAIL', reason });
  }

  /** Used by the machine for timeouts, so every failure goes through one path. */
  abdicate(reason: string): void {
    this.fail(reason);
  }
}

const CONFIG_NODE = '/zookeeper/config';

function descending(a: number, b: number): number {
  return b - a;
}
