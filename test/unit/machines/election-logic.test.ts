import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ServerState } from '../../../src/protocol/constants.js';
import type { NotificationMessage } from '../../../src/protocol/peer.js';
import { makeZxid } from '../../../src/protocol/zxid.js';
import {
  NO_VOTE,
  answerWhileLooking,
  beats,
  beatsProposal,
  checkLeader,
  concludeWithProposal,
  electionConfig,
  establishedVote,
  hasQuorum,
  proposalHasQuorum,
  quorumSize,
  receiveNotification,
  roleFor,
  sameVote,
  startElection,
  voteReply,
  type ElectionConfig,
  type ElectionState,
  type ReceivedVote,
  type Vote,
} from '../../../src/machines/election-logic.js';

const VOTERS = new Set([1, 2, 3]);

function note(
  state: ServerState,
  leader: number,
  electionEpoch: number,
  zxid = 0,
  peerEpoch = 0,
): NotificationMessage {
  return { type: 'notification', state, leader, zxid, electionEpoch, peerEpoch };
}

function voter(self: number, voters = [1, 2, 3], lastZxid = 0, currentEpoch = 0): ElectionConfig {
  return electionConfig({ self, voters, lastZxid, currentEpoch });
}

const { LOOKING, FOLLOWING, LEADING, OBSERVING } = ServerState;

test('total order: peerEpoch first, then zxid, then server id', () => {
  const v = (leader: number, zxid: number, peerEpoch: number): Vote => ({ leader, zxid, peerEpoch });
  assert.equal(beats(v(1, 0, 2), v(3, makeZxid(1, 99), 1), VOTERS), true, 'higher epoch beats higher zxid and id');
  assert.equal(beats(v(1, 5, 1), v(3, 4, 1), VOTERS), true, 'higher zxid beats higher id');
  assert.equal(beats(v(3, 5, 1), v(2, 5, 1), VOTERS), true, 'ties broken by id');
  assert.equal(beats(v(2, 5, 1), v(3, 5, 1), VOTERS), false);
  assert.equal(beats(v(2, 5, 1), v(2, 5, 1), VOTERS), false, 'a vote does not beat itself');
  assert.equal(beats(v(9, 99, 9), v(1, 0, 0), VOTERS), false, 'a non-voter never wins');
  assert.equal(beats(v(1, 0, 0), NO_VOTE, VOTERS), true, 'every voter beats the empty vote');
});

test('total order is a strict total order on voters (property)', () => {
  const vote = fc.record({ leader: fc.integer({ min: 1, max: 5 }), zxid: fc.nat(20), peerEpoch: fc.nat(3) });
  const voters = new Set([1, 2, 3, 4, 5]);
  fc.assert(
    fc.property(vote, vote, vote, (a, b, c) => {
      assert.ok(!(beats(a, b, voters) && beats(b, a, voters)), 'antisymmetric');
      const same = a.leader === b.leader && a.zxid === b.zxid && a.peerEpoch === b.peerEpoch;
      if (!same) assert.ok(beats(a, b, voters) || beats(b, a, voters), 'total');
      if (beats(a, b, voters) && beats(b, c, voters)) assert.ok(beats(a, c, voters), 'transitive');
    }),
    { seed: 42, numRuns: 500 },
  );
});

test('quorum sizes for 1..7 voters', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7].map((n) => quorumSize(n)),
    [1, 2, 2, 3, 3, 4, 4],
  );
  const vote: ReceivedVote = { leader: 3, zxid: 0, peerEpoch: 0, electionEpoch: 1, state: LOOKING };
  for (let n = 1; n <= 7; n++) {
    const voters = new Set(Array.from({ length: n }, (_, i) => i + 1));
    for (let agree = 0; agree <= n; agree++) {
      const votes = new Map<number, ReceivedVote>();
      for (let i = 1; i <= agree; i++) votes.set(i, vote);
      votes.set(100, vote); // a non-voter never counts
      assert.equal(hasQuorum(votes, vote, voters), agree > Math.floor(n / 2), `${agree} of ${n}`);
    }
  }
});

test('vote equality: all fields while LOOKING, (leader, peerEpoch) once established', () => {
  const a: ReceivedVote = { leader: 3, zxid: 5, peerEpoch: 1, electionEpoch: 2, state: LOOKING };
  assert.equal(sameVote(a, { ...a }), true);
  assert.equal(sameVote(a, { ...a, electionEpoch: 3 }), false);
  assert.equal(sameVote(a, { ...a, zxid: 6 }), false);
  assert.equal(sameVote(a, { ...a, state: FOLLOWING, zxid: 6 }), false, 'one side LOOKING compares everything');
  const f: ReceivedVote = { ...a, state: FOLLOWING };
  assert.equal(sameVote(f, { ...a, state: LEADING, zxid: 99, electionEpoch: 7 }), true);
  assert.equal(sameVote(f, { ...a, state: LEADING, peerEpoch: 2 }), false);
});

test('start: round is the previous one plus 1; a voter votes for itself, an observer for nobody', () => {
  const config = voter(2, [1, 2, 3], makeZxid(1, 4), 1);
  const state = startElection(config, 6);
  assert.equal(state.round, 7);
  assert.deepEqual(state.proposal, { leader: 2, zxid: makeZxid(1, 4), peerEpoch: 1 });
  assert.deepEqual([...state.recvset.keys()], [2], 'my own vote counts (the loopback)');
  const observer = electionConfig({ self: 9, voters: [1, 2, 3], lastZxid: 100, currentEpoch: 5 });
  assert.equal(observer.isVoter, false);
  const os = startElection(observer, 0);
  assert.deepEqual(os.proposal, NO_VOTE);
  assert.equal(os.recvset.size, 0, 'an observer never counts itself');
  assert.equal(roleFor(observer, 3), 'OBSERVING');
  assert.equal(roleFor(config, 2), 'LEADING');
  assert.equal(roleFor(config, 3), 'FOLLOWING');
});

test('LOOKING, same round, better proposal: adopt it, announce, record', () => {
  const config = voter(1);
  const s0 = startElection(config, 0);
  const step = receiveNotification(config, s0, 3, note(LOOKING, 3, 1));
  assert.equal(step.announce, true);
  assert.deepEqual(step.state.proposal, { leader: 3, zxid: 0, peerEpoch: 0 });
  assert.equal(step.state.recvset.get(3)?.leader, 3);
  assert.equal(step.state.recvset.get(1)?.leader, 3, 'my own entry follows my new vote');
  assert.equal(proposalHasQuorum(config, step.state), true, '2 of 3 hold (3, 0, 0)');
  assert.equal(s0.recvset.size, 1, 'the old state is untouched');
});

test('LOOKING, same round, worse proposal: keep mine, record theirs, no announcement', () => {
  const config = voter(3);
  const s0 = startElection(config, 0);
  const step = receiveNotification(config, s0, 1, note(LOOKING, 1, 1));
  assert.equal(step.announce, false);
  assert.equal(step.state.proposal.leader, 3);
  assert.equal(step.state.recvset.get(1)?.leader, 1);
  assert.equal(proposalHasQuorum(config, step.state), false);
  const step2 = receiveNotification(config, step.state, 2, note(LOOKING, 3, 1));
  assert.equal(proposalHasQuorum(config, step2.state), true);
});

test('LOOKING, higher round: adopt the round, clear votes, vote for the better of theirs and my own initial vote', () => {
  const config = voter(2, [1, 2, 3], 10, 1);
  let s = startElection(config, 0); // round 1
  s = receiveNotification(config, s, 3, note(LOOKING, 3, 1, 10, 1)).state; // now voting for 3 in round 1
  assert.equal(s.proposal.leader, 3);
  // Round 5 from server 1 proposing itself with a worse zxid: I go back to my own vote, not 3's.
  const step = receiveNotification(config, s, 1, note(LOOKING, 1, 5, 9, 1));
  assert.equal(step.state.round, 5);
  assert.equal(step.announce, true);
  assert.deepEqual(step.state.proposal, config.initialVote);
  assert.deepEqual([...step.state.recvset.keys()].sort(), [1, 2], 'round 1 votes forgotten');
  // Round 6 proposing a better leader: adopt it.
  const step2 = receiveNotification(config, step.state, 1, note(LOOKING, 1, 6, 11, 1));
  assert.equal(step2.state.round, 6);
  assert.equal(step2.state.proposal.leader, 1);
});

test('LOOKING, lower round: ignored by the count, answered with my vote', () => {
  const config = voter(2);
  const s = startElection(config, 4); // round 5
  const n = note(LOOKING, 1, 3);
  const step = receiveNotification(config, s, 1, n);
  assert.equal(step.state, s, 'nothing changed');
  assert.equal(step.announce, false);
  assert.deepEqual(answerWhileLooking(config, s, 1, n), note(LOOKING, 2, 5));
  assert.equal(answerWhileLooking(config, s, 1, note(LOOKING, 1, 5)), undefined, 'same round: no answer');
  assert.equal(answerWhileLooking(config, s, 1, note(FOLLOWING, 1, 3)), undefined, 'answers are not answered');
});

test('non-voters are answered by voters, never counted; observers answer nobody', () => {
  const config = voter(2);
  const s = startElection(config, 0);
  const fromObserver = note(LOOKING, -1, 1, -1, -1);
  assert.deepEqual(answerWhileLooking(config, s, 9, fromObserver), note(LOOKING, 2, 1));
  assert.equal(receiveNotification(config, s, 9, fromObserver).state, s);
  assert.equal(answerWhileLooking(config, s, 9, { ...fromObserver, state: OBSERVING }), undefined);
  const observer = electionConfig({ self: 9, voters: [1, 2, 3], lastZxid: 0, currentEpoch: 0 });
  const os = startElection(observer, 5);
  assert.equal(answerWhileLooking(observer, os, 1, note(LOOKING, 1, 1)), undefined);
});

test('notifications proposing a non-voter, from myself, or OBSERVING change nothing', () => {
  const config = voter(1);
  const s = startElection(config, 0);
  assert.equal(receiveNotification(config, s, 2, note(LOOKING, 9, 1, 99, 9)).state, s);
  assert.equal(receiveNotification(config, s, 1, note(LOOKING, 3, 1)).state, s);
  assert.equal(receiveNotification(config, s, 2, note(OBSERVING, 3, 1)).state, s);
});

test('an observer follows the voters: adopts their round and vote, decides OBSERVING on a quorum', () => {
  const observer = electionConfig({ self: 9, voters: [1, 2, 3], lastZxid: 1000, currentEpoch: 9 });
  let s = startElection(observer, 0);
  let step = receiveNotification(observer, s, 1, note(LOOKING, 3, 4, 7, 1));
  assert.equal(step.announce, true);
  assert.equal(step.state.round, 4);
  assert.equal(step.state.proposal.leader, 3);
  assert.equal(step.state.recvset.has(9), false);
  s = step.state;
  step = receiveNotification(observer, s, 2, note(LOOKING, 3, 4, 7, 1));
  assert.equal(proposalHasQuorum(observer, step.state), true);
  assert.deepEqual(concludeWithProposal(observer, step.state), {
    role: 'OBSERVING',
    leader: 3,
    electionEpoch: 4,
    peerEpoch: 1,
    zxid: 7,
  });
});

test('established votes in my round: join once a quorum agrees and the leader says LEADING', () => {
  const config = voter(1, [1, 2, 3, 4, 5]);
  let s = startElection(config, 0); // round 1
  let step = receiveNotification(config, s, 2, note(FOLLOWING, 3, 1, 5, 2));
  assert.equal(step.decision, undefined);
  s = step.state;
  step = receiveNotification(config, s, 4, note(FOLLOWING, 3, 1, 5, 2));
  assert.equal(step.decision, undefined, 'two followers are no quorum of 5');
  s = step.state;
  step = receiveNotification(config, s, 3, note(LEADING, 3, 1, 5, 2));
  assert.deepEqual(step.decision, { role: 'FOLLOWING', leader: 3, electionEpoch: 1, peerEpoch: 2, zxid: 5 });
});

test('established votes: a quorum without the leader itself reporting LEADING is not enough (checkLeader)', () => {
  const config = voter(1);
  let s = startElection(config, 0);
  s = receiveNotification(config, s, 2, note(FOLLOWING, 3, 1)).state;
  const step = receiveNotification(config, s, 3, note(FOLLOWING, 3, 1));
  assert.equal(step.decision, undefined);
  const step2 = receiveNotification(config, step.state, 3, note(LEADING, 3, 1));
  assert.equal(step2.decision?.leader, 3);
});

test('established votes from another round: counted in outofelection, decision adopts their round', () => {
  const config = voter(1);
  let s = startElection(config, 0); // round 1
  let step = receiveNotification(config, s, 3, note(LEADING, 3, 7, 5, 2));
  assert.equal(step.decision, undefined);
  assert.equal(step.state.recvset.has(3), false, 'not my round');
  assert.equal(step.state.outofelection.get(3)?.state, LEADING);
  s = step.state;
  step = receiveNotification(config, s, 2, note(FOLLOWING, 3, 7, 5, 2));
  assert.deepEqual(step.decision, { role: 'FOLLOWING', leader: 3, electionEpoch: 7, peerEpoch: 2, zxid: 5 });
  assert.equal(step.state.round, 7);
  // A follower that reports a different leader epoch does not count for that leader.
  s = startElection(config, 0);
  s = receiveNotification(config, s, 3, note(LEADING, 3, 7, 5, 2)).state;
  assert.equal(receiveNotification(config, s, 2, note(FOLLOWING, 3, 7, 5, 1)).decision, undefined);
});

test('checkLeader: when the established leader is me, the round must be mine', () => {
  const config = voter(3);
  const votes = new Map<number, ReceivedVote>();
  assert.equal(checkLeader(config, votes, 3, 4, 4), true);
  assert.equal(checkLeader(config, votes, 3, 2, 4), false);
  assert.equal(checkLeader(config, votes, 2, 4, 4), false, 'no word from leader 2');
  votes.set(2, { leader: 2, zxid: 0, peerEpoch: 0, electionEpoch: 4, state: LEADING });
  assert.equal(checkLeader(config, votes, 2, 4, 4), true);
  // Restarted old leader: followers still report it, and it is in my round → I lead again.
  // My own LOOKING vote for myself in round 4 plus one follower's make a quorum of 3.
  const s: ElectionState = startElection(config, 3); // round 4
  const step = receiveNotification(config, s, 1, note(FOLLOWING, 3, 4));
  assert.equal(step.decision?.role, 'LEADING');
  // Two followers of me from round 2 are a quorum, but not of my round: no decision.
  const old = receiveNotification(config, s, 1, note(FOLLOWING, 3, 2)).state;
  assert.equal(receiveNotification(config, old, 2, note(FOLLOWING, 3, 2)).decision, undefined);
});

test('finalize check: only a strictly better proposal interrupts the wait', () => {
  const config = voter(1);
  let s = startElection(config, 0);
  s = receiveNotification(config, s, 2, note(LOOKING, 2, 1)).state;
  assert.equal(beatsProposal(config, s, note(LOOKING, 2, 1)), false);
  assert.equal(beatsProposal(config, s, note(LOOKING, 1, 1)), false);
  assert.equal(beatsProposal(config, s, note(LOOKING, 3, 1)), true);
  assert.equal(beatsProposal(config, s, note(FOLLOWING, 3, 0)), true, 'any state, any round (as ZooKeeper)');
});

test('voteReply: established voters answer LOOKING senders only; observers and LOOKING servers do not', () => {
  const result = { role: 'FOLLOWING' as const, leader: 3, electionEpoch: 4, peerEpoch: 2, zxid: 77 };
  const current = establishedVote(result);
  assert.deepEqual(current, { state: FOLLOWING, leader: 3, zxid: 77, electionEpoch: 4, peerEpoch: 2 });
  assert.deepEqual(voteReply(current, note(LOOKING, 1, 1)), note(FOLLOWING, 3, 4, 77, 2));
  assert.deepEqual(voteReply({ ...current, state: LEADING }, note(LOOKING, -1, 1, -1, -1)), note(LEADING, 3, 4, 77, 2));
  assert.equal(voteReply(current, note(FOLLOWING, 3, 4)), undefined);
  assert.equal(voteReply(establishedVote({ ...result, role: 'OBSERVING' }), note(LOOKING, 1, 1)), undefined);
  assert.equal(voteReply({ ...current, state: LOOKING }, note(LOOKING, 1, 1)), undefined);
});

test('electionConfig rejects an empty ensemble', () => {
  assert.throws(() => electionConfig({ self: 1, voters: [], lastZxid: 0, currentEpoch: 0 }), RangeError);
});
