/**
 * Guarantee: the requests of one client session are applied and answered in the order
 * they were issued (ZooKeeper's FIFO client order), also when pipelined through a
 * follower; a read issued after writes of its session sees them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZooKeeperError } from '../../../src/protocol/errors.js';
import { create, setData, virtualEnsemble, waitAllServing, waitFor } from './helpers.js';

for (const where of ['follower', 'leader', 'observer'] as const) {
  test(`pipelined writes of one session through the ${where} commit in issue order`, async () => {
    const { ensemble, clock } = virtualEnsemble({ servers: 3, observers: 1 }, 51);
    waitAllServing(ensemble, clock);
    const leader = ensemble.leader()!;
    const server =
      where === 'leader' ? leader : where === 'observer' ? ensemble.server(4) : ensemble.servers.find((s) => s !== leader && s.id <= 3)!;
    const completions: { cxid: number; zxid: number }[] = [];
    const sessionId = 77n;
    const issue = (cxid: number, request: Parameters<typeof server.write>[0]): void =>
      server.write(request, { sessionId, cxid, authIds: [] }, (r) => {
        assert.ok(!(r instanceof ZooKeeperError), `write ${cxid} failed`);
        completions.push({ cxid, zxid: r.zxid });
      });
    issue(1, create('/fifo', '0'));
    for (let i = 2; i <= 60; i++) issue(i, i % 3 === 0 ? create(`/fifo/c${i}`) : setData('/fifo', String(i)));
    // Another session's writes interleave on other servers.
    for (let i = 1; i <= 20; i++) ensemble.servers[i % 4]!.write(create(`/other${i}`), { sessionId: 5n + BigInt(i), cxid: 1, authIds: [] }, () => {});
    let seen: string | undefined;
    server.read({ sessionId }, (tree) => new TextDecoder().decode(tree.getData('/fifo')!.data!), (v) => (seen = v as string));
    waitFor(clock, () => completions.length === 60 && seen !== undefined);
    assert.deepEqual(
      completions.map((c) => c.cxid),
      Array.from({ length: 60 }, (_, i) => i + 1),
    );
    for (let i = 1; i < completions.length; i++) assert.ok(completions[i]!.zxid > completions[i - 1]!.zxid, 'zxids not ascending');
    assert.equal(seen, '59', 'the read did not see its session\'s earlier writes');
    await ensemble.close();
  });
}
