import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createActor } from 'xstate';
import { ServerState } from '../../../src/protocol/constants.js';
import { makeZxid } from '../../../src/protocol/zxid.js';
import { seededRandom } from '../../../src/runtime/random.js';
import { InvariantError } from '../../../src/runtime/assert.js';
import { DEFAULT_ELECTION_TIMING, electionMachine, type ElectionResult } from '../../../src/machines/election.js';
import { quorumSize } from '../../../src/machines/election-logic.js';
import { ElectionCluster, bestVoter, type ServerSpec } from './election-harness.js';

const T = DEFAULT_ELECTION_TIMING;

/** Exactly one leader, everyone decided agrees on leader and round, roles match. */
function assertAgreement(cluster: ElectionCluster, ids: number[] = [...cluster.servers.keys()]): ElectionResult {
  const results = ids.map((id) => {
    const r = cluster.server(id).result;
    assert.ok(r, `server ${id} decided`);
    return r;
  });
  const first = results[0]!;
  for (const [i, r] of results.entries()) {
    assert.equal(r.leader, first.leader, `server ${ids[i]} agrees on the leader`);
    assert.equal(r.electionEpoch, first.electionEpoch, `server ${ids[i]} agrees on the round`);
    const observer = cluster.observers.includes(ids[i]!);
    const expected = ids[i] === r.leader ? 'LEADING' : observer ? 'OBSERVING' : 'FOLLOWING';
    assert.equal(r.role, expected, `server ${ids[i]} role`);
  }
  assert.equal(results.filter((r) => r.role === 'LEADING').length, ids.includes(first.leader) ? 1 : 0);
  return first;
}

/** §16.7: the leader's (epoch, zxid) is at least that of a quorum of voters. */
function assertLeaderIsUpToDateWithAQuorum(specs: ServerSpec[], leader: number): void {
  const leaderSpec = specs.find((s) => s.id === leader)!;
  const voters = specs.filter((s) => !s.observer);
  const dominated = voters.filter(
    (s) =>
      (s.currentEpoch ?? 0) < (leaderSpec.currentEpoch ?? 0) ||
      ((s.currentEpoch ?? 0) === (leaderSpec.currentEpoch ?? 0) && (s.lastZxid ?? 0) <= (leaderSpec.lastZxid ?? 0)),
  );
  assert.ok(dominated.length >= quorumSize(voters.length), `leader ${leader} is as up to date as a quorum`);
}

function randomSpecs(n: number, seed: number): ServerSpec[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => {
    const epoch = 1 + random.int(3);
    return { id: i + 1, currentEpoch: epoch, lastZxid: makeZxid(epoch, random.int(5)) };
  });
}

for (const n of [1, 3, 5, 7]) {
  test(`${n} voters elect exactly one leader, the best by (epoch, zxid, id), all in one round`, async () => {
    const specs = randomSpecs(n, 100 + n);
    const cluster = new ElectionCluster(specs, { seed: n });
    cluster.startAll();
    assert.ok(cluster.runUntilDecided());
    const result = assertAgreement(cluster);
    assert.equal(result.leader, bestVoter(specs));
    assert.equal(result.electionEpoch, 1);
    const best = specs.find((s) => s.id === result.leader)!;
    assert.equal(result.zxid, best.lastZxid);
    assert.equal(result.peerEpoch, best.currentEpoch);
    assert.equal(cluster.clock.now(), T.finalizeWaitMs, 'decided one finalize wait after the votes met');
    await cluster.close();
  });
}

test('ties are broken by server id', async () => {
  const cluster = new ElectionCluster([1, 2, 3, 4, 5].map((id) => ({ id, lastZxid: makeZxid(2, 9), currentEpoch: 2 })));
  cluster.startAll();
  assert.ok(cluster.runUntilDecided());
  assert.equal(assertAgreement(cluster).leader, 5);
  await cluster.close();
});

test('a higher zxid wins over a higher id', async () => {
  const specs = [
    { id: 1, lastZxid: makeZxid(1, 8), currentEpoch: 1 },
    { id: 2, lastZxid: makeZxid(1, 7), currentEpoch: 1 },
    { id: 3, lastZxid: makeZxid(1, 7), currentEpoch: 1 },
  ];
  const cluster = new ElectionCluster(specs);
  cluster.startAll();
  assert.ok(cluster.runUntilDecided());
  assert.equal(assertAgreement(cluster).leader, 1);
  await cluster.close();
});

test('a higher epoch wins over a higher zxid', async () => {
  const specs = [
    { id: 1, lastZxid: makeZxid(1, 3), currentEpoch: 2 }, // accepted epoch 2's history, no txn of it yet
    { id: 2, lastZxid: makeZxid(1, 50), currentEpoch: 1 },
    { id: 3, lastZxid: makeZxid(1, 50), currentEpoch: 1 },
  ];
  const cluster = new ElectionCluster(specs);
  cluster.startAll();
  assert.ok(cluster.runUntilDecided());
  const result = assertAgreement(cluster);
  assert.equal(result.leader, 1);
  assert.equal(result.peerEpoch, 2);
  await cluster.close();
});

test('every voter count 1..7 with random histories elects the best (property, seeded)', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 0, max: 1e6 }), async (n, seed) => {
      const specs = randomSpecs(n, seed);
      const cluster = new ElectionCluster(specs, { seed });
      cluster.startAll();
      assert.ok(cluster.runUntilDecided());
      assert.equal(assertAgreement(cluster).leader, bestVoter(specs));
      await cluster.close();
    }),
    { seed: 7, numRuns: 40 },
  );
});

test('staggered starts within the finalize wait still elect the best, in the highest round', async () => {
  const specs: ServerSpec[] = [
    { id: 1, lastZxid: 5, electionEpoch: 0 },
    { id: 2, lastZxid: 4, electionEpoch: 6 },
    { id: 3, lastZxid: 9, electionEpoch: 2 },
    { id: 4, lastZxid: 1, electionEpoch: 0 },
    { id: 5, lastZxid: 9, electionEpoch: 3 },
  ];
  const cluster = new ElectionCluster(specs, { seed: 5 });
  const startAt = [0, 3, 11, 17, 24];
  for (const [i, at] of startAt.entries()) cluster.clock.setTimeout(() => cluster.server(i + 1).start(), at);
  assert.ok(cluster.runUntilDecided());
  const result = assertAgreement(cluster);
  assert.equal(result.leader, 5);
  assert.equal(result.electionEpoch, 7, "server 2's round (6 + 1) is the highest and everyone joins it");
  await cluster.close();
});

test('a server starting after the election learns the established leader from FOLLOWING/LEADING replies', async () => {
  for (const lateEpoch of [0, 3, 40]) {
    const specs: ServerSpec[] = [
      { id: 1, lastZxid: 10, electionEpoch: 3 },
      { id: 2, lastZxid: 20, electionEpoch: 3 },
      { id: 3, lastZxid: 99, electionEpoch: lateEpoch }, // better history, but too late
    ];
    const cluster = new ElectionCluster(specs, { seed: 11 });
    cluster.server(1).start();
    cluster.server(2).start();
    assert.ok(cluster.runUntilDecided([1, 2]));
    const established = assertAgreement(cluster, [1, 2]);
    assert.equal(established.leader, 2);
    assert.equal(established.electionEpoch, 4);
    cluster.clock.advance(500);
    const sentBefore = cluster.server(3).sent;
    const joinedAt = cluster.clock.now();
    cluster.server(3).start();
    assert.ok(cluster.runUntilDecided([3]));
    const late = cluster.server(3).result!;
    assert.deepEqual(late, { ...established, role: 'FOLLOWING' }, `late server with round ${lateEpoch + 1}`);
    assert.equal(cluster.server(3).decidedAt, joinedAt, 'decided on the first replies, no timeout needed');
    // Its announcement plus the greeting on each new connection; no re-send by timeout.
    assert.equal(cluster.server(3).sent - sentBefore, 4);
    await cluster.close();
  }
});

test('an observer learns the leader and never becomes leader, started with the voters or late', async () => {
  for (const late of [false, true]) {
    const specs: ServerSpec[] = [
      { id: 1, lastZxid: 3 },
      { id: 2, lastZxid: 7 },
      { id: 3, lastZxid: 5 },
      { id: 4, lastZxid: 1000, currentEpoch: 9, observer: true }, // best history and id: irrelevant
      { id: 5, observer: true },
    ];
    const cluster = new ElectionCluster(specs, { seed: 4 });
    for (const id of [1, 2, 3]) cluster.server(id).start();
    if (late) {
      assert.ok(cluster.runUntilDecided([1, 2, 3]));
      cluster.clock.advance(1000);
    }
    cluster.server(4).start();
    cluster.server(5).start();
    assert.ok(cluster.runUntilDecided());
    const result = assertAgreement(cluster);
    assert.equal(result.leader, 2);
    assert.equal(cluster.server(4).result!.role, 'OBSERVING');
    assert.equal(cluster.server(5).result!.role, 'OBSERVING');
    // Observers address only voters, and only while LOOKING; voters address observers only to answer them.
    const isObserver = (id: number): boolean => cluster.observers.includes(id);
    const fromObservers = cluster.log.filter((e) => isObserver(e.from));
    assert.ok(fromObservers.every((e) => !isObserver(e.to) && e.message.state === ServerState.LOOKING));
    const toObservers = cluster.log.filter((e) => isObserver(e.to));
    assert.ok(toObservers.length > 0 && toObservers.length <= fromObservers.length);
    await cluster.close();
  }
});

test('message loss: elections converge through re-sends with exponential backoff (30 seeds)', async () => {
  let resent = 0;
  for (let seed = 1; seed <= 30; seed++) {
    const specs = randomSpecs(5, seed);
    const cluster = new ElectionCluster(specs, { seed });
    cluster.network.faults.setDefaultFaults({ drop: 0.35 });
    cluster.startAll();
    assert.ok(cluster.runUntilDecided(), `seed ${seed} decided`);
    const result = assertAgreement(cluster);
    assertLeaderIsUpToDateWithAQuorum(specs, result.leader);
    if (cluster.clock.now() > T.finalizeWaitMs) resent++;
    await cluster.close();
  }
  assert.ok(resent > 0, 'some runs needed re-sends');
});

test('total loss for a while: nothing is decided, then re-sends elect the best once the network works', async () => {
  const specs = randomSpecs(5, 77);
  const cluster = new ElectionCluster(specs, { seed: 77 });
  cluster.network.faults.setDefaultFaults({ drop: 1 });
  cluster.startAll();
  cluster.clock.advance(700);
  assert.equal(cluster.results().size, 0);
  cluster.network.faults.clearFaults();
  assert.ok(cluster.runUntilDecided());
  assert.equal(assertAgreement(cluster).leader, bestVoter(specs));
  // Backoff 30, 60, 120, 240, 480: the next re-send after t=700 is at t=930.
  assert.ok(cluster.clock.now() >= 930 && cluster.clock.now() <= 930 + T.finalizeWaitMs + 5, `decided at ${cluster.clock.now()}`);
  await cluster.close();
});

test('a minority (1 of 3 up) never decides; re-sends back off exponentially to the maximum', async () => {
  const cluster = new ElectionCluster([{ id: 1 }, { id: 2 }, { id: 3 }]);
  const sendTimes: number[] = [];
  const server = cluster.server(1);
  server.start();
  let last = 0;
  for (let t = 0; t <= 20_000; t += 10) {
    cluster.clock.advanceTo(t);
    if (server.sent !== last) {
      sendTimes.push(cluster.clock.now());
      last = server.sent;
    }
  }
  assert.equal(server.result, undefined);
  assert.equal(server.actor!.getSnapshot().value, 'voting');
  const gaps = sendTimes.slice(1).map((t, i) => t - sendTimes[i]!);
  assert.deepEqual(gaps.slice(0, 7), [30, 60, 120, 240, 480, 960, 1920]);
  assert.ok(gaps.slice(7).every((g) => g === 2000), 'capped at the maximum');
  // A second server makes a quorum: both decide promptly, server 2 leads.
  cluster.server(2).start();
  assert.ok(cluster.runUntilDecided([1, 2], 1000));
  assert.equal(assertAgreement(cluster, [1, 2]).leader, 2);
  await cluster.close();
});

test('a healed partition re-sends on the connection event instead of waiting out the backoff', async () => {
  const cluster = new ElectionCluster([{ id: 1 }, { id: 2, lastZxid: 5 }, { id: 3, lastZxid: 9 }]);
  cluster.startAll();
  cluster.network.faults.isolate(3); // before anything is delivered
  assert.ok(cluster.runUntilDecided([1, 2]));
  assert.equal(assertAgreement(cluster, [1, 2]).leader, 2);
  cluster.clock.advance(3000); // server 3's notification timeout is at its 2 s cap
  cluster.network.faults.heal();
  const healedAt = cluster.clock.now();
  assert.ok(cluster.runUntilDecided([3], 50));
  assert.deepEqual(cluster.server(3).result, { ...cluster.server(1).result!, role: 'FOLLOWING' });
  assert.ok(cluster.server(3).decidedAt! - healedAt < 5);
  await cluster.close();
});

test('the same seed replays the same election exactly', async () => {
  const run = async (): Promise<string> => {
    const specs = randomSpecs(7, 5);
    const cluster = new ElectionCluster(specs, { seed: 99 });
    cluster.network.faults.setDefaultFaults({ drop: 0.2, delay: 0.3, delayMs: { min: 1, max: 15 } });
    cluster.startAll();
    assert.ok(cluster.runUntilDecided());
    const out = JSON.stringify({
      results: [...cluster.results()],
      times: [...cluster.servers.values()].map((s) => s.decidedAt),
      log: cluster.log,
    });
    await cluster.close();
    return out;
  };
  assert.equal(await run(), await run());
});

test('stopping an undecided election leaves no timer behind', async () => {
  const cluster = new ElectionCluster([{ id: 1 }, { id: 2 }, { id: 3 }]);
  cluster.server(1).start();
  cluster.clock.advance(100);
  assert.ok(cluster.clock.nextDeadline() !== undefined);
  cluster.server(1).stop();
  await cluster.close();
  assert.equal(cluster.clock.nextDeadline(), undefined);
});

test('input is validated: self must be exactly one of voter or observer', () => {
  for (const observers of [[1], []]) {
    const voters = observers.length ? [1, 2, 3] : [2, 3];
    const actor = createActor(electionMachine, {
      input: { self: 1, voters, observers, lastZxid: 0, currentEpoch: 0, electionEpoch: 0, send: () => {} },
    });
    actor.subscribe({ error: () => {} });
    actor.start();
    assert.equal(actor.getSnapshot().status, 'error');
    assert.ok(actor.getSnapshot().error instanceof InvariantError);
  }
});
