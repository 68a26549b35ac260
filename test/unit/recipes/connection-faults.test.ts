/**
 * Recipes under connection faults, on an in-process ensemble with a VirtualClock: lost
 * replies (a create that happened but whose reply never came), a LOST whose session
 * survives, nodes deleted under a holder, and a turn request deleted during a
 * disconnection. Each test is one gap of issue #8's connection-state rule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, type ZooKeeperClient } from '../../../src/client/client.js';
import type { ConnectionState } from '../../../src/client/types.js';
import {
  DistributedQueue,
  DoubleBarrier,
  GroupMember,
  LeaderLatch,
  Lock,
  SharedCounter,
  WaitTimeoutError,
  joinStatusBoard,
  type LossReason,
  type RoleLostError,
} from '../../../src/recipes/index.js';
import { seededRandom } from '../../../src/runtime/random.js';
import type { Ensemble } from '../../../src/server/ensemble.js';
import { InProcessLink } from '../../../src/server/inproc-channel.js';
import type { VirtualClock } from '../../../src/sim/virtual-clock.js';
import { LOSSY_SESSION_TIMEOUT, createOf, withLossyClient } from '../client/lossy-link.js';
import { pass, until, waitFor } from '../sessions/helpers.js';


/** Resolve at `client`'s next `state` (stepping the clock is the caller's job). */
function nextState(client: ZooKeeperClient, state: ConnectionState): Promise<void> {
  return new Promise((resolve) => client.once(state, () => resolve()));
}

/**
 * Make `client` report LOST while its session lives on: cut it off, let a second
 * connection with the same session keep the session alive until the client gives up,
 * then silence that connection and let the client back in (RECONNECTED, same session).
 * `whileLost` runs between the LOST and the reconnect.
 */
async function lostButSurvives(
  ensemble: Ensemble,
  clock: VirtualClock,
  client: ZooKeeperClient,
  link: InProcessLink,
  whileLost: () => Promise<void>,
): Promise<ZooKeeperClient> {
  const sawLost = nextState(client, 'LOST');
  link.partition();
  const keeperLink = new InProcessLink(ensemble);
  const keeper = createClient(ensemble.connectString, {
    clock,
    random: seededRandom(99),
    channelFactory: keeperLink.factory,
    sessionId: client.sessionId,
    sessionPassword: client.sessionPassword,
    sessionTimeout: LOSSY_SESSION_TIMEOUT,
    reconnectDelay: 50,
    spinDelay: 100,
  });
  keeper.on('error', () => {});
  await until(clock, keeper.waitUntilConnected());
  await until(clock, sawLost);
  await whileLost();
  keeperLink.partition(); // silent from now on: it neither pings nor closes the session
  const back = nextState(client, 'RECONNECTED');
  link.heal();
  await until(clock, back);
  return keeper;
}

test('a lock acquisition whose create reply is lost holds with exactly one node', () =>
  withLossyClient(async ({ clock, client, lossy, other, children }) => {
    lossy.cutAt(createOf('/locks/a/_c_'), 'reply');
    const lease = await until(clock, new Lock(client, '/locks/a', { clock }).acquire());
    assert.equal(lossy.cuts, 1);
    assert.deepEqual(await children('/locks/a'), [lease.path.slice('/locks/a/'.length)]);
    const waiting = new Lock(other, '/locks/a', { clock }).acquire();
    await pass(clock, 200);
    await until(clock, lease.release());
    const next = await until(clock, waiting);
    assert.ok(next.token > lease.token, 'fencing tokens increase');
    await until(clock, next.release());
    assert.deepEqual(await children('/locks/a'), []);
  }));

test('queue offers survive a lost reply without duplicates; an abandoned offer leaves no item', () =>
  withLossyClient(async ({ clock, client, lossy, other, children, reconnect }) => {
    const queue = new DistributedQueue<number>(client, '/q', { clock });
    lossy.cutAt(createOf('/q/_c_'), 'reply');
    await until(clock, queue.offer(1));
    assert.equal((await children('/q')).length, 1, 'one item, not two');
    // Applied, reply lost, and cut off for longer than the offer is willing to wait.
    lossy.cutAt(createOf('/q/_c_'), 'reply', () => lossy.link.partition());
    await assert.rejects(until(clock, queue.offer(2, { timeout: 1000 })), WaitTimeoutError);
    await reconnect();
    const consumer = new DistributedQueue<number>(other, '/q', { clock });
    assert.equal(await until(clock, consumer.take({ timeout: 1000 })), 1);
    assert.equal(await until(clock, consumer.poll()), undefined, 'the abandoned offer left nothing');
  }));

test('a double-barrier member whose create reply is lost enters once and counts once', () =>
  withLossyClient(async ({ clock, client, lossy, other, children }) => {
    await until(clock, other.create('/db'));
    lossy.cutAt(createOf('/db/a'), 'reply');
    const a = new DoubleBarrier(client, '/db', 2, { clock, id: 'a' });
    const b = new DoubleBarrier(other, '/db', 2, { clock, id: 'b' });
    const entering = a.enter({ timeout: 5000 });
    await pass(clock, 200);
    assert.equal(lossy.cuts, 1);
    await until(clock, b.enter({ timeout: 5000 }));
    await until(clock, entering);
    assert.deepEqual((await until(clock, b.members())).sort(), ['a', 'b']);
    await until(clock, Promise.all([a.leave({ timeout: 5000 }), b.leave({ timeout: 5000 })]));
    assert.deepEqual(await children('/db'), []);
  }));

test('a latch that cannot join in time gives up, closed, and the node its lost create made goes', () =>
  withLossyClient(async ({ clock, client, lossy, other, children, reconnect }) => {
    await until(clock, other.create('/el'));
    lossy.cutAt(createOf('/el/_c_'), 'reply', () => lossy.link.partition());
    const latch = new LeaderLatch(client, '/el', { clock, id: 'x' });
    await assert.rejects(until(clock, latch.start({ timeout: 1000 })), WaitTimeoutError);
    assert.equal(latch.participant.phase, 'left');
    assert.equal((await children('/el')).length, 1, 'the lost create happened');
    await reconnect();
    assert.deepEqual(await children('/el'), [], 'and its node was deleted');
  }));

test('a registration whose create reply is lost registers (no failure with the node left behind)', () =>
  withLossyClient(async ({ clock, client, lossy, other, children }) => {
    await until(clock, other.create('/group'));
    lossy.cutAt(createOf('/group/m1'), 'reply');
    const member = new GroupMember(client, '/group', 'm1', { slots: 4 }, { clock });
    await until(clock, member.start());
    assert.equal(lossy.cuts, 1);
    assert.ok(member.registration.registered, 'registered');
    assert.deepEqual([...member.currentMembers()], [['m1', { slots: 4 }]]);
    await until(clock, member.close());
    assert.deepEqual(await children('/group'), []);
    assert.equal(client.session.watches.size, 0, 'no watch left');
  }));

test('after a LOST whose session survives: the lost lease gives up its node, and the counter loads again', () =>
  withLossyClient(async ({ ensemble, clock, client, lossy, other, children }) => {
    const lease = await until(clock, new Lock(client, '/locks/b', { clock }).acquire());
    const events: string[] = [];
    lease.on('suspended', () => events.push('suspended'));
    lease.on('lost', (e: RoleLostError) => events.push(`lost:${e.reason}`));
    const counter = new SharedCounter(client, '/counter', 0, { clock });
    await until(clock, counter.start());
    const waiting = new Lock(other, '/locks/b', { clock }).acquire();
    await pass(clock, 200);
    const keeper = await lostButSurvives(ensemble, clock, client, lossy.link, async () => {
      assert.ok(lease.signal.aborted, 'the lease ended at SUSPENDED');
      assert.deepEqual(events, ['suspended', 'lost:lost']);
      await until(clock, other.setData('/counter', Buffer.from([0, 0, 0, 7])));
    });
    // The session is the same; the lease stays lost and its node goes, so the waiter gets the lock.
    const next = await until(clock, waiting);
    assert.ok(next.token > lease.token, 'next.token > lease.token');
    assert.ok(!lease.held, 'a lost lease is not reinstated');
    await waitFor(clock, () => counter.count === 7, 10_000, 'the counter saw the write made while it was LOST');
    await until(clock, next.release());
    await until(clock, lease.release()); // harmless after the loss
    await until(clock, counter.close());
    assert.equal(client.session.watches.size, 0, 'no watch left');
    assert.deepEqual(await children('/locks/b'), []);
    await until(clock, keeper.close()).catch(() => {});
  }));

test('a holder whose node is deleted while connected loses the lease at once; a latch leader steps down and rejoins', () =>
  withLossyClient(async ({ clock, client, other: admin, children }) => {
    const lease = await until(clock, new Lock(client, '/locks/c', { clock }).acquire());
    const lost = new Promise<LossReason>((resolve) => lease.once('lost', (e) => resolve(e.reason)));
    await until(clock, admin.delete(lease.path));
    assert.equal(await until(clock, lost), 'node-deleted');
    assert.ok(lease.signal.aborted, 'lease.signal.aborted');
    await until(clock, lease.release());

    const latch = new LeaderLatch(client, '/election', { clock, id: 'L' });
    const notLeader: LossReason[] = [];
    latch.on('notLeader', (reason) => notLeader.push(reason));
    await until(clock, latch.start());
    const first = await until(clock, latch.awaitLeadership({ timeout: 5000 }));
    await until(clock, admin.delete(first.path));
    await waitFor(clock, () => notLeader.length === 1, 5000, 'notLeader');
    assert.deepEqual(notLeader, ['node-deleted']);
    assert.ok(first.signal.aborted, 'first.signal.aborted');
    const again = await until(clock, latch.awaitLeadership({ timeout: 5000 }));
    assert.ok(again.token > first.token, 'a new node, a higher token');
    await until(clock, latch.close());
    assert.equal(client.session.watches.size, 0, 'no watch left');
    assert.deepEqual(await children('/election'), []);
  }));

test('a sync turn whose request node vanished during a disconnection is not reinstated', () =>
  withLossyClient(async ({ clock, client, lossy, other }) => {
    const a = await until(clock, joinStatusBoard(client, '/board', 'A', 'idle', { clock }));
    const b = await until(clock, joinStatusBoard(other, '/board', 'B', 'idle', { clock }));
    const turn = await until(clock, a.requestTurn({ timeout: 5000 }));
    const reinstated: unknown[] = [];
    a.on('turn', (t) => reinstated.push(t));
    const suspended = nextState(client, 'SUSPENDED');
    lossy.link.partition();
    await until(clock, suspended);
    assert.ok(turn.signal.aborted, 'the turn may be lost while suspended');
    await until(clock, other.delete(turn.path));
    const back = nextState(client, 'RECONNECTED');
    lossy.link.heal();
    await until(clock, back);
    await pass(clock, 500);
    assert.deepEqual(reinstated, [], 'not reinstated');
    assert.notEqual(a.phase, 'syncing');
    const bTurn = await until(clock, b.requestTurn({ timeout: 5000 }));
    await until(clock, turn.finish());
    await until(clock, bTurn.finish());
    await until(clock, Promise.all([a.leave(), b.leave()]));
    assert.equal(client.session.watches.size + other.session.watches.size, 0, 'no watch left');
  }));
