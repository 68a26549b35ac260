/**
 * Leader election scenarios: latch and selector, failover by session expiry, fencing
 * tokens, and "at most one believes it leads".
 */
import assert from 'node:assert/strict';
import type { ZooKeeperClient } from '../../../../src/index.js';
import { LeaderLatch, LeaderSelector, type Leadership } from '../../../../src/recipes/index.js';
import { RoleHistory, childrenOf, eventually, sleep, within } from '../util.js';
import { assertClean, type Scenario } from './locks.js';

/** A latch whose beliefs are recorded in `history` under `party`. */
function recordedLatch(client: ZooKeeperClient, path: string, party: string, history: RoleHistory): LeaderLatch {
  const latch = new LeaderLatch(client, path, { id: party });
  latch.on('isLeader', (leadership) => history.begin(party, leadership.token));
  latch.on('notLeader', () => history.end(party));
  return latch;
}

export const electionScenarios: Record<string, Scenario> = {
  async 'leader latch: failover on session expiry, fencing tokens strictly increase, at most one leader at any time'(h) {
    const path = h.path('latch');
    const history = new RoleHistory();
    const latches: { latch: LeaderLatch; client: ZooKeeperClient }[] = [];
    let joined = 0;
    const join = async (): Promise<void> => {
      const client = await h.client();
      const latch = recordedLatch(client, path, `L${joined++}`, history);
      await latch.start();
      latches.push({ latch, client });
    };
    for (let i = 0; i < 4; i++) await join();
    const leaderNow = async (): Promise<{ latch: LeaderLatch; client: ZooKeeperClient }> => {
      let found: { latch: LeaderLatch; client: ZooKeeperClient } | undefined;
      await eventually(() => {
        found = latches.find((l) => l.latch.hasLeadership);
        assert.ok(found, 'a leader');
      });
      return found!;
    };
    // Kill the leader's session five times; a newcomer joins each time.
    for (let round = 0; round < 5; round++) {
      const leader = await leaderNow();
      const token = leader.latch.leadership!.token;
      await h.expire(leader.client);
      assert.ok(!leader.latch.hasLeadership, '!leader.latch.hasLeadership');
      const next = await leaderNow();
      assert.notEqual(next, leader);
      assert.ok(next.latch.leadership!.token > token, 'the new leader has a higher fencing token');
      latches.splice(latches.indexOf(leader), 1);
      await leader.latch.close();
      await join();
    }
    assert.equal(history.maxConcurrent, 1, `two leaders at once:\n${history}`);
    const tokens = history.tokens();
    for (let i = 1; i < tokens.length; i++) assert.ok(tokens[i]! > tokens[i - 1]!, `tokens must increase:\n${history}`);
    const observer = latches[0]!.latch;
    // Eventually: the observer's server may lag behind the newest candidate's.
    await eventually(async () => {
      const candidates = await observer.candidates();
      assert.equal(candidates.length, 4);
      assert.equal(candidates[0]!.isLeader, true);
    });
    for (const { latch } of latches) await latch.close();
    await assertClean(h, latches[0]!.client, path, latches.map((l) => l.client));
  },

  async 'leader latch: a brief disconnection suspends leadership and reinstates it with the same token'(h) {
    const path = h.path('latch-blip');
    const [a, b] = [await h.client(), await h.client()];
    const history = new RoleHistory();
    const la = recordedLatch(a, path, 'A', history);
    const lb = recordedLatch(b, path, 'B', history);
    await la.start();
    await lb.start();
    const first = await la.awaitLeadership({ timeout: 5000 });
    const heal = h.partition(a);
    assert.ok(first.signal.aborted, 'SUSPENDED aborts the leadership signal at once');
    assert.ok(!la.hasLeadership, '!la.hasLeadership');
    heal();
    const again = await la.awaitLeadership({ timeout: 5000 });
    assert.equal(again.token, first.token);
    assert.ok(!lb.hasLeadership, '!lb.hasLeadership');
    await assert.rejects(lb.awaitLeadership({ timeout: 100 }), { name: 'TimeoutError' });
    await la.close();
    const taken = await lb.awaitLeadership({ timeout: 5000 });
    assert.ok(taken.token > first.token, 'taken.token > first.token');
    await lb.close();
    assert.equal(history.maxConcurrent, 1);
    await assertClean(h, a, path, [a, b]);
  },

  async 'leader selector: one leader at a time, tokens increase, requeue after relinquishing and after expiry'(h) {
    const path = h.path('selector');
    const history = new RoleHistory();
    const clients = await Promise.all([0, 1, 2].map(() => h.client()));
    let terms = 0;
    const selectors = clients.map((client, i) => {
      const party = `S${i}`;
      return new LeaderSelector(client, path, async (leadership: Leadership) => {
        history.begin(party, leadership.token);
        terms++;
        try {
          // Lead for a moment, or until leadership may be lost.
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 20);
            leadership.signal.addEventListener('abort', () => {
              clearTimeout(timer);
              resolve();
            });
          });
        } finally {
          history.end(party);
        }
      }, { id: party });
    });
    for (const s of selectors) s.start();
    await within(
      (async () => {
        while (terms < 9) await sleep(10);
      })(),
      20_000,
      'nine terms',
    );
    // Expire the current leader's session: its takeLeadership sees the signal and returns.
    let leaderIndex = -1;
    await eventually(() => {
      leaderIndex = selectors.findIndex((s) => s.hasLeadership);
      assert.ok(leaderIndex >= 0, 'leaderIndex >= 0');
    });
    const before = terms;
    await h.expire(clients[leaderIndex]!);
    await within(
      (async () => {
        while (terms < before + 3) await sleep(10);
      })(),
      20_000,
      'terms after the expiry',
    );
    for (const s of selectors) await s.close();
    assert.equal(history.maxConcurrent, 1, `two leaders at once:\n${history}`);
    const tokens = history.tokens();
    for (let i = 1; i < tokens.length; i++) assert.ok(tokens[i]! > tokens[i - 1]!, 'tokens must increase');
    const observer = await h.client();
    await eventually(async () => assert.deepEqual(await childrenOf(observer, path), []));
  },
};
