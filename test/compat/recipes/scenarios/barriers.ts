/**
 * Barrier and double-barrier scenarios.
 */
import assert from 'node:assert/strict';
import { Barrier, DoubleBarrier, WaitTimeoutError } from '../../../../src/recipes/index.js';
import type { RecipeHarness } from '../harness.js';
import { childrenOf, eventually, sleep, stillPending, within } from '../util.js';
import { assertClean, localWatches, type Scenario } from './locks.js';

export const barrierScenarios: Record<string, Scenario> = {
  async 'barrier: waiters block while it is set and are released together when it is removed'(h: RecipeHarness) {
    const path = h.path('barrier');
    const clients = await Promise.all(Array.from({ length: 5 }, () => h.client()));
    const coordinator = new Barrier(clients[0]!, path);
    await coordinator.setBarrier();
    assert.ok(await coordinator.isSet(), 'await coordinator.isSet()');
    const released: number[] = [];
    const waits = clients.map((c, i) => new Barrier(c, path).waitOnBarrier({ timeout: 20_000 }).then(() => released.push(i)));
    await eventually(() => assert.equal(localWatches(clients), 5));
    await sleep(100);
    assert.equal(released.length, 0, 'nobody passes a raised barrier');
    await coordinator.removeBarrier();
    await within(Promise.all(waits), 5000, 'release');
    assert.equal(released.length, 5);
    // Not set: passes at once.
    await new Barrier(clients[1]!, path).waitOnBarrier({ timeout: 1000 });
    // A wait that times out or is aborted removes its watch.
    await coordinator.setBarrier();
    await assert.rejects(new Barrier(clients[2]!, path).waitOnBarrier({ timeout: 100 }), WaitTimeoutError);
    const controller = new AbortController();
    const aborted = new Barrier(clients[3]!, path).waitOnBarrier({ signal: controller.signal });
    await eventually(() => assert.equal(clients[3]!.session.watches.size, 1));
    controller.abort();
    await assert.rejects(aborted, { name: 'AbortError' });
    await coordinator.removeBarrier();
    assert.equal(localWatches(clients), 0);
  },

  async 'double barrier: nobody enters before N have arrived; leave waits until everyone has left'(h) {
    const path = h.path('double');
    const clients = await Promise.all(Array.from({ length: 4 }, () => h.client()));
    const members = clients.map((c, i) => new DoubleBarrier(c, path, 4, { id: `m${i}` }));
    const entered: number[] = [];
    const enters: Promise<void>[] = [];
    for (let i = 0; i < 3; i++) {
      enters.push(members[i]!.enter({ timeout: 20_000 }).then(() => void entered.push(i)));
    }
    await eventually(async () => assert.equal((await childrenOf(clients[0]!, path)).length, 3));
    await sleep(100);
    assert.equal(entered.length, 0, 'three of four must not enter');
    enters.push(members[3]!.enter({ timeout: 20_000 }).then(() => void entered.push(3)));
    await within(Promise.all(enters), 5000, 'enter');
    assert.equal(entered.length, 4);
    for (const m of members) assert.equal(m.participant.phase, 'holding');

    // Three leave; their leave waits for the fourth.
    const left: number[] = [];
    const leaves = [0, 1, 2].map((i) => members[i]!.leave({ timeout: 20_000 }).then(() => void left.push(i)));
    await eventually(async () => assert.deepEqual(await childrenOf(clients[0]!, path), ['m3', 'ready']));
    assert.ok(await stillPending(Promise.all(leaves)), 'leave waits for the last member');
    assert.equal(left.length, 0);
    await members[3]!.leave({ timeout: 5000 });
    await within(Promise.all(leaves), 5000, 'leave');
    assert.equal(left.length, 3);
    for (const m of members) assert.equal(m.participant.phase, 'left');
    await assertClean(h, clients[0]!, path, clients);
  },

  async 'double barrier: an enter that times out leaves nothing behind; a dead member counts as left'(h) {
    const path = h.path('double-fail');
    const clients = await Promise.all(Array.from({ length: 3 }, () => h.client()));
    await assert.rejects(new DoubleBarrier(clients[0]!, path, 2).enter({ timeout: 150 }), WaitTimeoutError);
    assert.deepEqual(await childrenOf(clients[0]!, path), []);
    assert.equal(localWatches(clients), 0);
    const a = new DoubleBarrier(clients[1]!, path, 2, { id: 'a' });
    const b = new DoubleBarrier(clients[2]!, path, 2, { id: 'b' });
    await within(Promise.all([a.enter(), b.enter()]), 5000, 'enter');
    const leaving = a.leave({ timeout: 20_000 });
    assert.ok(await stillPending(leaving), 'await stillPending(leaving)');
    await h.expire(clients[2]!); // b dies inside the barrier
    await within(leaving, 5000, 'leave after a member died');
    await assertClean(h, clients[0]!, path, clients.slice(0, 2));
  },
};
