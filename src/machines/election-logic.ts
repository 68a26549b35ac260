/**
 * Fast leader election as pure functions (reference §16.3, ZooKeeper's
 * `FastLeaderElection`, `Vote`). The XState machine in election.ts owns the lifecycle
 * (voting → finalizing → decided, timers); everything it decides with lives here, over
 * plain immutable data, so each rule is tested directly.
 *
 * Vocabulary (ZooKeeper's in parentheses):
 * - a `Vote` is a proposal: who should lead, with that candidate's last zxid and
 *   currentEpoch (`proposedLeader/Zxid/Epoch`);
 * - `round` is the election round (`logicalclock`, `electionEpoch` on the wire);
 * - `recvset` holds the latest vote of each voter in my round, `outofelection` the votes
 *   of voters that already decided (FOLLOWING/LEADING), from any round.
 *
 * Two deliberate departures, both invisible on the wire:
 * - ZooKeeper sends its own notifications to itself through its queue (the loopback) so
 *   its vote counts in `recvset`; here a voter records its own vote directly whenever it
 *   announces one, and the machine re-counts after every received notification and
 *   every re-send (what processing the loopback would do).
 * - Answers never provoke answers. Only a voter answers (non-voters' notifications are
 *   answered, never counted, so an observer's reply would be pointless), and only a
 *   LOOKING notification is answered. ZooKeeper answers any non-voter message and an
 *   observer answers lagging voters, which can bounce replies between a LOOKING voter
 *   and an observer until the voter decides; on an in-process transport that would be a
 *   busy loop.
 */
import { ServerState } from '../protocol/constants.js';
import type { NotificationMessage, ServerId } from '../protocol/peer.js';
import type { Zxid } from '../protocol/zxid.js';

/** A proposal: the candidate leader and that candidate's last zxid and currentEpoch. */
export interface Vote {
  readonly leader: ServerId;
  readonly zxid: Zxid;
  readonly peerEpoch: number;
}

/**
 * The vote of a server that proposes nobody (an observer; ZooKeeper uses Long.MIN_VALUE
 * in all three fields). Every real vote beats it, and it never wins.
 */
export const NO_VOTE: Vote = Object.freeze({ leader: -1, zxid: -1, peerEpoch: -1 });

/** A vote as received: the proposal plus the sender's round and state (ZooKeeper's `Vote`). */
export interface ReceivedVote extends Vote {
  readonly electionEpoch: number;
  readonly state: ServerState;
}

/** The role a finished election gives this server. */
export type ElectionRole = 'LEADING' | 'FOLLOWING' | 'OBSERVING';

/** What an election decided (the election machine's output). */
export interface ElectionResult {
  /** This server's new role. */
  role: ElectionRole;
  /** The elected leader. */
  leader: ServerId;
  /** The round the decision belongs to: pass it as `electionEpoch` to the next election. */
  electionEpoch: number;
  /** The leader's currentEpoch as voted. */
  peerEpoch: number;
  /** The leader's last logged zxid as voted. */
  zxid: Zxid;
}

/** The fixed facts of one server's election. */
export interface ElectionConfig {
  /** This server. */
  readonly self: ServerId;
  /** The voting members (may or may not include `self`). */
  readonly voters: ReadonlySet<ServerId>;
  /** Whether `self` votes (false for an observer). */
  readonly isVoter: boolean;
  /** `self`'s own vote: (self, lastZxid, currentEpoch) for a voter, `NO_VOTE` for an observer. */
  readonly initialVote: Vote;
}

/** The changing state of one server's election; never mutated (new objects per change). */
export interface ElectionState {
  /** The current round (`logicalclock`). */
  readonly round: number;
  /** The current proposal. */
  readonly proposal: Vote;
  /** Latest vote of each voter in `round` (including my own when I vote). */
  readonly recvset: ReadonlyMap<ServerId, ReceivedVote>;
  /** Latest vote of each voter that reported FOLLOWING or LEADING, any round. */
  readonly outofelection: ReadonlyMap<ServerId, ReceivedVote>;
}

/** The result of handling one notification. */
export interface ElectionStep {
  /** The new state (the same object when nothing changed). */
  readonly state: ElectionState;
  /** True when my proposal or round changed: announce it to every voter. */
  readonly announce: boolean;
  /** Set when an established leader was recognized: the election is over. */
  readonly decision: ElectionResult | undefined;
}

/** The vote a server reports once an election is over (`QuorumPeer.getCurrentVote` plus its state). */
export interface EstablishedVote {
  /** FOLLOWING, LEADING or OBSERVING. */
  readonly state: ServerState;
  readonly leader: ServerId;
  readonly zxid: Zxid;
  readonly electionEpoch: number;
  readonly peerEpoch: number;
}

/** Build the fixed facts of an election; throws if `self` is neither a voter nor an observer. */
export function electionConfig(options: {
  self: ServerId;
  voters: Iterable<ServerId>;
  lastZxid: Zxid;
  currentEpoch: number;
}): ElectionConfig {
  const voters = new Set(options.voters);
  if (voters.size === 0) throw new RangeError('election: no voters');
  const isVoter = voters.has(options.self);
  const initialVote = isVoter
    ? { leader: options.self, zxid: options.lastZxid, peerEpoch: options.currentEpoch }
    : NO_VOTE;
  return { self: options.self, voters, isVoter, initialVote };
}

/**
 * ZooKeeper's `totalOrderPredicate`: does `candidate` beat `current`? Higher peerEpoch
 * wins, then higher zxid, then higher server id. A candidate that is not a voter never
 * wins (a zero-weight server in ZooKeeper).
 */
export function beats(candidate: Vote, current: Vote, voters: ReadonlySet<ServerId>): boolean {
  if (!voters.has(candidate.leader)) return false;
  if (candidate.peerEpoch !== current.peerEpoch) return candidate.peerEpoch > current.peerEpoch;
  if (candidate.zxid !== current.zxid) return candidate.zxid > current.zxid;
  return candidate.leader > current.leader;
}

/** The smallest number of voters that forms a quorum (majority, §16.2). */
export function quorumSize(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}

/** ZooKeeper's `Vote.equals`: all fields while either side is LOOKING, else (leader, peerEpoch) only. */
export function sameVote(a: ReceivedVote, b: ReceivedVote): boolean {
  if (a.state === ServerState.LOOKING || b.state === ServerState.LOOKING) {
    return a.leader === b.leader && a.zxid === b.zxid && a.electionEpoch === b.electionEpoch && a.peerEpoch === b.peerEpoch;
  }
  return a.leader === b.leader && a.peerEpoch === b.peerEpoch;
}

/** Whether the voters in `votes` that hold a vote equal to `vote` form a quorum. */
export function hasQuorum(votes: ReadonlyMap<ServerId, ReceivedVote>, vote: ReceivedVote, voters: ReadonlySet<ServerId>): boolean {
  let count = 0;
  for (const [sid, v] of votes) if (voters.has(sid) && sameVote(v, vote)) count++;
  return count >= quorumSize(voters.size);
}

/**
 * ZooKeeper's `checkLeader`: before joining `leader`, it must itself have said it is
 * LEADING (so a crashed leader is not elected again and again); if the leader is me, the
 * support must be from my current round.
 */
export function checkLeader(
  config: ElectionConfig,
  votes: ReadonlyMap<ServerId, ReceivedVote>,
  leader: ServerId,
  electionEpoch: number,
  round: number,
): boolean {
  if (leader === config.self) return round === electionEpoch;
  return votes.get(leader)?.state === ServerState.LEADING;
}

/** My role if `leader` wins. */
export function roleFor(config: ElectionConfig, leader: ServerId): ElectionRole {
  if (leader === config.self) return 'LEADING';
  return config.isVoter ? 'FOLLOWING' : 'OBSERVING';
}

/** A notification carrying `vote`. */
export function notification(state: ServerState, vote: Vote, electionEpoch: number): NotificationMessage {
  return { type: 'notification', state, leader: vote.leader, zxid: vote.zxid, electionEpoch, peerEpoch: vote.peerEpoch };
}

/** My LOOKING notification: current proposal in the current round. */
export function currentNotification(state: ElectionState): NotificationMessage {
  return notification(ServerState.LOOKING, state.proposal, state.round);
}

/** The voters a LOOKING server announces its vote to: every voter but itself. */
export function announceTargets(config: ElectionConfig): ServerId[] {
  const out: ServerId[] = [];
  for (const sid of config.voters) if (sid !== config.self) out.push(sid);
  return out;
}

function lookingVote(vote: Vote, round: number): ReceivedVote {
  return { leader: vote.leader, zxid: vote.zxid, peerEpoch: vote.peerEpoch, electionEpoch: round, state: ServerState.LOOKING };
}

function withEntry(map: ReadonlyMap<ServerId, ReceivedVote>, sid: ServerId, vote: ReceivedVote): Map<ServerId, ReceivedVote> {
  const next = new Map(map);
  next.set(sid, vote);
  return next;
}

/**
 * Start an election (`lookForLeader` step 1): round = `electionEpoch + 1`, vote for myself
 * (an observer votes for nobody). The caller announces the vote to `announceTargets`.
 */
export function startElection(config: ElectionConfig, electionEpoch: number): ElectionState {
  const round = electionEpoch + 1;
  const proposal = config.initialVote;
  const recvset = new Map<ServerId, ReceivedVote>();
  if (config.isVoter) recvset.set(config.self, lookingVote(proposal, round)); // the loopback
  return { round, proposal, recvset, outofelection: new Map() };
}

/**
 * What a LOOKING server answers straight away, before the notification is counted
 * (ZooKeeper's receiver thread): a voter answers a LOOKING non-voter, and a LOOKING voter
 * whose round is behind mine, with my current vote. Undefined when no answer is due.
 */
export function answerWhileLooking(
  config: ElectionConfig,
  state: ElectionState,
  from: ServerId,
  message: NotificationMessage,
): NotificationMessage | undefined {
  if (!config.isVoter || from === config.self || message.state !== ServerState.LOOKING) return undefined;
  if (!config.voters.has(from) || message.electionEpoch < state.round) return currentNotification(state);
  return undefined;
}

/** Whether `message` proposes a better leader than my current proposal (the finalize-wait check). */
export function beatsProposal(config: ElectionConfig, state: ElectionState, message: NotificationMessage): boolean {
  return beats(message, state.proposal, config.voters);
}

/** Whether a quorum of voters in my round holds exactly my proposal. */
export function proposalHasQuorum(config: ElectionConfig, state: ElectionState): boolean {
  return hasQuorum(state.recvset, lookingVote(state.proposal, state.round), config.voters);
}

/** The decision once the finalize wait passed with no better vote: my proposal wins. */
export function concludeWithProposal(config: ElectionConfig, state: ElectionState): ElectionResult {
  const { leader, zxid, peerEpoch } = state.proposal;
  return { role: roleFor(config, leader), leader, electionEpoch: state.round, peerEpoch, zxid };
}

/**
 * Count one notification (the body of `lookForLeader`'s loop). Notifications from myself,
 * from non-voters (those are only answered) and for a non-voting leader change nothing.
 */
export function receiveNotification(
  config: ElectionConfig,
  state: ElectionState,
  from: ServerId,
  message: NotificationMessage,
): ElectionStep {
  if (from === config.self || !config.voters.has(from) || !config.voters.has(message.leader)) return unchanged(state);
  switch (message.state) {
    case ServerState.LOOKING:
      return receiveLooking(config, state, from, message);
    case ServerState.FOLLOWING:
    case ServerState.LEADING:
      return receiveEstablished(config, state, from, message);
    default:
      return unchanged(state); // an OBSERVING vote counts for nothing
  }
}

function unchanged(state: ElectionState): ElectionStep {
  return { state, announce: false, decision: undefined };
}

/** A LOOKING peer's vote: follow the highest round, then the best proposal; record it. */
function receiveLooking(config: ElectionConfig, state: ElectionState, from: ServerId, n: NotificationMessage): ElectionStep {
  // A server that could not read its own history (zxid -1) takes no part (ZooKeeper does the same).
  if ((config.isVoter && config.initialVote.zxid === -1) || n.zxid === -1) return unchanged(state);
  if (n.electionEpoch < state.round) return unchanged(state); // the laggard was answered already
  const theirs: Vote = { leader: n.leader, zxid: n.zxid, peerEpoch: n.peerEpoch };
  let { round, proposal, recvset } = state;
  let announce = false;
  if (n.electionEpoch > round) {
    // A newer round: join it, forget the old round's votes, and vote for the better of
    // their proposal and my own initial vote (not my previous round's proposal).
    round = n.electionEpoch;
    recvset = new Map();
    proposal = beats(theirs, config.initialVote, config.voters) ? theirs : config.initialVote;
    announce = true;
  } else if (beats(theirs, proposal, config.voters)) {
    proposal = theirs;
    announce = true;
  }
  const next = withEntry(recvset, from, lookingVote(theirs, n.electionEpoch));
  if (announce && config.isVoter) next.set(config.self, lookingVote(proposal, round)); // the loopback
  return { state: { round, proposal, recvset: next, outofelection: state.outofelection }, announce, decision: undefined };
}

/**
 * A FOLLOWING/LEADING peer's vote: someone decided already. Join its leader once a quorum
 * reports that leader (in my round, or across rounds via `outofelection`) and the leader
 * itself reports LEADING (`checkLeader`).
 */
function receiveEstablished(config: ElectionConfig, state: ElectionState, from: ServerId, n: NotificationMessage): ElectionStep {
  const vote: ReceivedVote = { leader: n.leader, zxid: n.zxid, peerEpoch: n.peerEpoch, electionEpoch: n.electionEpoch, state: n.state };
  let recvset = state.recvset;
  if (n.electionEpoch === state.round) {
    recvset = withEntry(recvset, from, vote);
    if (hasQuorum(recvset, vote, config.voters) && checkLeader(config, recvset, n.leader, n.electionEpoch, state.round)) {
      return decided(config, { ...state, recvset }, vote);
    }
  }
  const outofelection = withEntry(state.outofelection, from, vote);
  const next: ElectionState = { round: state.round, proposal: state.proposal, recvset, outofelection };
  if (hasQuorum(outofelection, vote, config.voters) && checkLeader(config, outofelection, n.leader, n.electionEpoch, state.round)) {
    return decided(config, { ...next, round: n.electionEpoch }, vote); // adopt the established round
  }
  return { state: next, announce: false, decision: undefined };
}

function decided(config: ElectionConfig, state: ElectionState, vote: ReceivedVote): ElectionStep {
  const proposal: Vote = { leader: vote.leader, zxid: vote.zxid, peerEpoch: vote.peerEpoch };
  const decision: ElectionResult = {
    role: roleFor(config, vote.leader),
    leader: vote.leader,
    electionEpoch: vote.electionEpoch,
    peerEpoch: vote.peerEpoch,
    zxid: vote.zxid,
  };
  return { state: { ...state, proposal }, announce: false, decision };
}

/** The vote a server reports after `result` (its state follows from the role). */
export function establishedVote(result: ElectionResult): EstablishedVote {
  const state =
    result.role === 'LEADING' ? ServerState.LEADING : result.role === 'FOLLOWING' ? ServerState.FOLLOWING : ServerState.OBSERVING;
  return { state, leader: result.leader, zxid: result.zxid, electionEpoch: result.electionEpoch, peerEpoch: result.peerEpoch };
}

/**
 * How a server that is not LOOKING answers a notification (§16.3 step 5): a LOOKING
 * sender gets my established vote, so a restarted or late server learns the leader
 * quickly. Returns undefined when no answer is due: the sender is not LOOKING, or I am an
 * observer (only voters' answers count) or LOOKING myself (the election machine answers).
 *
 * Once the new epoch is known (after discovery), update `current.peerEpoch` to it, as
 * ZooKeeper's `updateElectionVote` does, so every established server reports the same
 * (leader, peerEpoch) and a joining server sees a quorum agree.
 */
export function voteReply(current: EstablishedVote, incoming: NotificationMessage): NotificationMessage | undefined {
  if (incoming.state !== ServerState.LOOKING) return undefined;
  if (current.state !== ServerState.FOLLOWING && current.state !== ServerState.LEADING) return undefined;
  return notification(current.state, current, current.electionEpoch);
}
