/**
 * Status board / sync group scenarios: the seed's A/B/C sequence, simultaneous sync
 * requests, a member dying mid-sync, and leaving without leftovers.
 */
import assert from 'node:assert/strict';
import type { ZooKeeperClient } from '../../../../src/index.js';
import { joinStatusBoard, WaitTimeoutError, type BoardMember, type BoardPhase } from '../../../../src/recipes/index.js';
import type { RecipeHarness } from '../harness.js';
import { RoleHistory, childrenOf, eventually, stillPending, within } from '../util.js';
import { assertClean, type Scenario } from './locks.js';

interface Party {
  name: string;
  client: ZooKeeperClient;
  member: BoardMember<string>;
  phases: BoardPhase[];
}

async function joinAll(h: RecipeHarness, root: string, names: string[], log: string[]): Promise<Party[]> {
  const parties: Party[] = [];
  for (const name of names) {
    const client = await h.client();
    const member = await joinStatusBoard<string>(client, root, name, `${name}:ready`);
    const party: Party = { name, client, member, phases: ['ready'] };
    member.on('phase', (phase) => {
      party.phases.push(phase);
      log.push(`${name}:${phase}`);
    });
    parties.push(party);
  }
  // Everyone sees everyone.
  for (const p of parties) {
    await eventually(() => assert.deepEqual(p.member.board.snapshot.members.map((m) => m.name), [...names].sort()));
  }
  return parties;
}

/** Remove consecutive duplicates (a phase is reported once per change, but be safe). */
const squash = (phases: BoardPhase[]): BoardPhase[] => phases.filter((p, i) => i === 0 || phases[i - 1] !== p);

export const boardScenarios: Record<string, Scenario> = {
  async "the seed's A/B/C sequence: A syncs while B and C pause; then B and C ask at once and take turns"(h) {
    const root = h.path('status');
    const log: string[] = [];
    const [A, B, C] = (await joinAll(h, root, ['A', 'B', 'C'], log)) as [Party, Party, Party];
    const turns = new RoleHistory();
    const syncedBy: string[] = [];
    const seenByA: (string | undefined)[] = [];
    A.member.board.on('change', (snapshot) => {
      if (seenByA[seenByA.length - 1] !== snapshot.syncing) seenByA.push(snapshot.syncing);
    });

    // A:syncing — B and C must pause before A finishes; their own sync work waits.
    let bClear: Promise<void> | undefined;
    await A.member.sync(async (turn) => {
      turns.begin('A', turn.token);
      syncedBy.push('A');
      await eventually(() => {
        assert.equal(B.member.phase, 'paused');
        assert.equal(C.member.phase, 'paused');
        // Others see A:syncing (A's own record follows its turn shortly).
        assert.equal(B.member.board.snapshot.members.find((m) => m.name === 'A')?.phase, 'syncing');
      });
      bClear = B.member.untilClear({ timeout: 20_000 });
      assert.ok(await stillPending(bClear, 50), 'B waits while A syncs');
      await assert.rejects(C.member.untilClear({ timeout: 50 }), WaitTimeoutError);
      turns.end('A');
    });
    await within(bClear!, 5000, 'B clear after A');
    await eventually(() => {
      assert.equal(B.member.phase, 'ready');
      assert.equal(C.member.phase, 'ready');
    });
    assert.deepEqual(squash(A.phases), ['ready', 'waiting', 'syncing', 'ready']);
    assert.deepEqual(squash(B.phases), ['ready', 'paused', 'ready']);
    assert.deepEqual(squash(C.phases), ['ready', 'paused', 'ready']);

    // B and C at once: the lower sequence number syncs first, the other waits its turn.
    await Promise.all(
      [B, C].map((p) =>
        p.member.sync(async (turn) => {
          turns.begin(p.name, turn.token);
          syncedBy.push(p.name);
          // Everyone sees who syncs: A's view names this member, and A pauses.
          await eventually(() => {
            assert.equal(A.member.board.snapshot.syncing, p.name);
            assert.equal(A.member.phase, 'paused');
          });
          turns.end(p.name);
        }),
      ),
    );
    await eventually(() => {
      for (const p of [A, B, C]) assert.equal(p.member.phase, 'ready');
    });
    assert.equal(turns.maxConcurrent, 1, `two members synced at once:\n${turns}`);
    const tokens = turns.tokens();
    for (let i = 1; i < tokens.length; i++) assert.ok(tokens[i]! > tokens[i - 1]!, 'tokens[i]! > tokens[i - 1]!');
    const [first, second] = syncedBy.slice(1) as [string, string];
    assert.deepEqual([first, second].sort(), ['B', 'C']);
    const firstParty = first === 'B' ? B : C;
    const secondParty = first === 'B' ? C : B;
    // The first: waits, syncs, and is ready (then may pause while the second syncs).
    const firstTail = squash(firstParty.phases).slice(3);
    assert.deepEqual(firstTail.slice(0, 3), ['waiting', 'syncing', 'ready'], firstTail.join(' '));
    assert.ok(firstTail.slice(3).every((p) => p === 'paused' || p === 'ready'), 'firstTail.slice(3).every((p) => p === \'paused\' || p === \'ready\')');
    assert.equal(firstTail[firstTail.length - 1], 'ready');
    // The second: waits through the first's turn, then syncs.
    assert.deepEqual(squash(secondParty.phases).slice(3), ['waiting', 'syncing', 'ready']);
    // A: its own turn, then paused (for one or both turns), then ready.
    const aPhases = squash(A.phases);
    assert.deepEqual(aPhases.slice(0, 5), ['ready', 'waiting', 'syncing', 'ready', 'paused'], aPhases.join(' '));
    assert.ok(aPhases.slice(5).every((p) => p === 'paused' || p === 'ready'), 'aPhases.slice(5).every((p) => p === \'paused\' || p === \'ready\')');
    assert.equal(aPhases[aPhases.length - 1], 'ready');
    await eventually(() => assert.deepEqual(seenByA.filter((s) => s !== undefined), ['A', first, second]));

    // Statuses are visible to everyone.
    await A.member.setStatus('A:done');
    await eventually(() => assert.equal(C.member.board.snapshot.members.find((m) => m.name === 'A')?.status, 'A:done'));

    // tryTurn discards a request when someone else syncs (the seed's "others are dropped").
    const held = await B.member.requestTurn();
    assert.equal(await C.member.tryTurn(), null);
    await held.finish();

    for (const p of [A, B, C]) await p.member.leave();
    await assertClean(h, A.client, `${root}/members`, [A.client, B.client, C.client]);
    assert.deepEqual(await childrenOf(A.client, `${root}/turns`), []);
  },

  async 'a member that dies mid-sync releases the turn and leaves the board'(h) {
    const root = h.path('status-death');
    const log: string[] = [];
    const [A, B, C] = (await joinAll(h, root, ['A', 'B', 'C'], log)) as [Party, Party, Party];
    const aTurn = await A.member.requestTurn();
    await eventually(() => assert.equal(B.member.phase, 'paused'));
    const bTurn = B.member.requestTurn({ timeout: 20_000 });
    assert.ok(await stillPending(bTurn), 'await stillPending(bTurn)');
    await h.expire(A.client);
    assert.ok(aTurn.signal.aborted, "A's turn signal ended when its connection went");
    const turn = await within(bTurn, 10_000, 'B gets the turn');
    assert.ok(turn.token > aTurn.token, 'turn.token > aTurn.token');
    await eventually(() => {
      const snapshot = C.member.board.snapshot;
      assert.equal(snapshot.syncing, 'B');
      assert.deepEqual(snapshot.members.map((m) => m.name), ['B', 'C']);
      assert.equal(C.member.phase, 'paused');
    });
    await turn.finish();
    await eventually(() => assert.equal(C.member.phase, 'ready'));
    await B.member.leave();
    await C.member.leave();
    await A.member.leave();
    await assertClean(h, B.client, `${root}/members`, [B.client, C.client]);
  },

  async 'a sync request that times out or is aborted is withdrawn; the member stays on the board'(h) {
    const root = h.path('status-withdraw');
    const [A, B] = (await joinAll(h, root, ['A', 'B'], [])) as [Party, Party];
    const turn = await A.member.requestTurn();
    await assert.rejects(B.member.requestTurn({ timeout: 150 }), WaitTimeoutError);
    const controller = new AbortController();
    const pending = B.member.requestTurn({ signal: controller.signal });
    await eventually(() => assert.equal(B.client.session.watches.size > 1, true));
    controller.abort();
    await assert.rejects(pending, { name: 'AbortError' });
    await eventually(() => assert.equal(B.member.phase, 'paused'));
    assert.equal((await childrenOf(A.client, `${root}/turns`)).length, 1);
    await turn.finish();
    await eventually(() => assert.equal(B.member.phase, 'ready'));
    const late = await within(B.member.requestTurn({ timeout: 5000 }), 6000, 'B turn');
    await late.finish();
    await A.member.leave();
    await B.member.leave();
    await assertClean(h, A.client, `${root}/turns`, [A.client, B.client]);
  },
};
