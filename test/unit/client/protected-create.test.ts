/**
 * The protected create against an in-process ensemble on a VirtualClock, with the
 * connection cut at chosen requests (lossy-link.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateMode } from '../../../src/protocol/constants.js';
import { OperationTimeoutError, SessionExpiredError } from '../../../src/protocol/errors.js';
import { pass, until } from '../sessions/helpers.js';
import { LOSSY_SESSION_TIMEOUT, createOf, listOf, withLossyClient } from './lossy-link.js';

test('a create whose reply is lost is found by its GUID after the reconnect, not made twice', () =>
  withLossyClient(
    async ({ clock, client, lossy, other, children }) => {
      lossy.cutAt(createOf('/locks/_c_'), 'reply');
      const created = await until(clock, client.createProtectedSequential('/locks/lock-', 'me', { createParents: 'containers', stat: true }));
      assert.equal(lossy.cuts, 1, 'the reply was lost');
      assert.match(created.path, /^\/locks\/_c_[0-9a-f-]{36}-lock-0000000000$/);
      assert.deepEqual(await children('/locks'), [created.path.slice('/locks/'.length)], 'exactly one node');
      assert.equal(created.stat.ephemeralOwner, client.sessionId);
      assert.deepEqual(created.stat, await until(clock, other.exists(created.path)), 'the Stat of the adopted node');
      await until(clock, client.delete(created.path));
      await pass(clock, 500);
      assert.equal(await until(clock, other.exists('/locks')), null, 'the parent was a container: reaped once empty');
    },
    { session: { containerCheckIntervalMs: 100 } },
  ));

test('retries are bounded by the session, not a count: five lost creates, then success', () =>
  withLossyClient(async ({ clock, client, lossy, children }) => {
    await until(clock, client.create('/q'));
    for (let i = 0; i < 5; i++) lossy.cutAt(createOf('/q/_c_'), 'request');
    // The lookups after the losses are cut too (their replies lost): they are retried as well.
    lossy.cutAt(listOf('/q'), 'reply');
    const path = await until(clock, client.createProtectedSequential('/q/item-', null, { mode: CreateMode.PERSISTENT_SEQUENTIAL }));
    assert.equal(lossy.cuts, 6);
    assert.deepEqual(await children('/q'), [path.slice('/q/'.length)]);
  }));

test('a timeout while the outcome is unknown rejects, and the node the lost create made is deleted once reconnected', () =>
  withLossyClient(async ({ clock, client, lossy, children, reconnect }) => {
    await until(clock, client.create('/jobs'));
    // Applied, reply lost, and the link stays down so the lookup cannot run.
    lossy.cutAt(createOf('/jobs/_c_'), 'reply', () => lossy.link.partition());
    const creating = client.createProtectedSequential('/jobs/job-', null, { timeout: 1000 });
    await assert.rejects(until(clock, creating), OperationTimeoutError);
    assert.equal((await children('/jobs')).length, 1, 'the node exists while the client is cut off');
    await reconnect();
    assert.deepEqual(await children('/jobs'), [], 'deleted in the background');
  }));

test('an abort stops the retries at once; an expired session ends them with SessionExpired', () =>
  withLossyClient(async ({ clock, client, lossy }) => {
    await until(clock, client.create('/a'));
    lossy.cutAt(createOf('/a/_c_'), 'reply', () => lossy.link.partition());
    const controller = new AbortController();
    const aborted = client.createProtectedSequential('/a/x-', null, { signal: controller.signal });
    aborted.catch(() => {});
    await pass(clock, 200);
    controller.abort();
    await assert.rejects(until(clock, aborted), { name: 'AbortError' });
    // Still cut off: a new create waits for the session, which expires on the server.
    const waiting = client.createProtectedSequential('/a/y-', null);
    waiting.catch(() => {});
    await pass(clock, LOSSY_SESSION_TIMEOUT * 2);
    lossy.link.heal();
    await assert.rejects(until(clock, waiting), SessionExpiredError);
  }));
