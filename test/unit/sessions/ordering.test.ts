/**
 * Per-session order through the pipeline: pipelined writes and reads of one client
 * complete in issue order and reads see the session's earlier writes; sync makes a read
 * see writes committed through another server; an aborted call leaves the session intact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AbortError } from '../../../src/client/errors.js';
import { connect, serving, shutdown, until } from './helpers.js';

for (const where of ['leader', 'follower', 'observer'] as const) {
  test(`pipelined writes and reads through the ${where} complete in issue order, with read-your-writes`, async () => {
    const { ensemble, clock } = await serving({ observers: 1 });
    const leader = ensemble.leader()!;
    const server = where === 'leader' ? leader : where === 'observer' ? ensemble.server(4) : ensemble.servers.find((s) => s.role === 'follower')!;
    const { client } = await connect(ensemble, clock, { connectString: `inproc:${server.id}` });
    await until(clock, client.create('/f'));
    const order: number[] = [];
    const ops: Promise<unknown>[] = [];
    for (let i = 0; i < 150; i++) {
      const op: Promise<unknown> =
        i % 3 === 0 ? client.create(`/f/n${i}`, String(i)) : i % 3 === 1 ? client.getData(`/f/n${i - 1}`) : client.setData(`/f/n${i - 2}`, `v${i}`);
      ops.push(op.then((result) => (order.push(i), result)));
    }
    const results = await until(clock, Promise.all(ops));
    assert.deepEqual(order, Array.from({ length: 150 }, (_, i) => i));
    for (let i = 1; i < 150; i += 3) {
      assert.equal((results[i] as { data: Buffer }).data.toString(), String(i - 1), 'each read sees the write issued before it');
    }
    assert.equal((await until(clock, client.getData('/f/n0'))).data!.toString(), 'v2');
    await shutdown(clock, ensemble, [client]);
  });
}

test('sync, then a read on a lagging server sees a write committed through another server', async () => {
  const { ensemble, clock } = await serving();
  const leader = ensemble.leader()!;
  const [fast, slow] = ensemble.servers.filter((s) => s !== leader);
  const { client: writer } = await connect(ensemble, clock, { connectString: `inproc:${fast!.id}` });
  const { client: reader } = await connect(ensemble, clock, { connectString: `inproc:${slow!.id}` });
  await until(clock, writer.create('/s', 'old'));
  await until(clock, reader.sync('/s'));
  // Everything from the leader to the slow follower now arrives 150 ms late (in order).
  ensemble.network!.faults.setLinkFaults(leader.id, slow!.id, { delay: 1, delayMs: { min: 150, max: 150 } });
  await until(clock, writer.setData('/s', 'fresh'));
  assert.equal((await until(clock, reader.getData('/s'))).data!.toString(), 'old', 'the slow server has not applied it yet');
  await until(clock, reader.sync('/s'));
  assert.equal((await until(clock, reader.getData('/s'))).data!.toString(), 'fresh');
  ensemble.network!.faults.clearFaults();
  await shutdown(clock, ensemble, [writer, reader]);
});

test('an AbortSignal cancels the wait without corrupting the session', async () => {
  const { ensemble, clock } = await serving();
  const { client } = await connect(ensemble, clock, { connectString: 'inproc:2' });
  await until(clock, client.create('/ab'));
  const controller = new AbortController();
  const slow = client.getChildren('/ab', { signal: controller.signal });
  controller.abort();
  await assert.rejects(until(clock, slow), AbortError);
  await assert.rejects(until(clock, client.exists('/ab', { signal: AbortSignal.abort() })), AbortError);
  const outcomes = await until(
    clock,
    Promise.all(
      Array.from({ length: 20 }, (_, i) => {
        const c = new AbortController();
        const p = client.create(`/ab/x${i}`, null, { signal: c.signal });
        if (i % 2 === 0) c.abort();
        return p.then(
          () => 'ok',
          (e: unknown) => (e instanceof AbortError ? 'aborted' : String(e)),
        );
      }),
    ),
  );
  assert.ok(outcomes.every((o) => o === 'ok' || o === 'aborted'), outcomes.join());
  assert.equal(client.state, 'CONNECTED');
  await until(clock, client.setData('/ab', 'still fine'));
  const children = await until(clock, client.getChildren('/ab'));
  for (let i = 1; i < 20; i += 2) assert.ok(children.includes(`x${i}`));
  // Aborted creates were sent anyway (an abort only stops the wait): the server applied them.
  assert.equal(children.length, 20);
  await shutdown(clock, ensemble, [client]);
});
