/**
 * zxids and epochs (§16.1): a zxid is (epoch, counter); every new leader starts a higher
 * epoch at counter 1; a counter about to roll over forces a new election and epoch
 * (ZOOKEEPER-1277); acceptedEpoch and currentEpoch only grow.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { counterOf, epochOf } from '../../../src/protocol/zxid.js';
import { ZooKeeperError } from '../../../src/protocol/errors.js';
import { create, virtualEnsemble, waitAllServing, waitFor } from './helpers.js';

test('a leader whose counter would roll over abdicates; writes continue in a new epoch', async () => {
  const { ensemble, clock } = virtualEnsemble({ servers: 3, zab: { maxCounter: 8 } }, 91);
  waitAllServing(ensemble, clock);
  const zxids: number[] = [];
  const epochs = new Set<number>();
  let cxid = 0;
  let failures = 0;
  // One write at a time, retried on ConnectionLoss, until 30 succeeded.
  const next = (): void => {
    if (zxids.length >= 30) return;
    const leader = ensemble.leader();
    if (leader === undefined) {
      clock.setTimeout(next, 10);
      return;
    }
    epochs.add(leader.epoch);
    leader.write(create(`/n${zxids.length}`), { sessionId: 1n, cxid: ++cxid, authIds: [] }, (r) => {
      if (r instanceof ZooKeeperError) failures++;
      else zxids.push(r.zxid);
      clock.setTimeout(next, 1);
    });
  };
  next();
  waitFor(clock, () => zxids.length >= 30, 30_000, '30 writes');
  assert.ok(failures >= 3, 'expected the rollovers to fail some writes');
  for (const z of zxids) assert.ok(counterOf(z) >= 1 && counterOf(z) < 8, `counter ${counterOf(z)} out of range`);
  for (let i = 1; i < zxids.length; i++) assert.ok(zxids[i]! > zxids[i - 1]!);
  assert.ok(epochOf(zxids.at(-1)!) >= 4, `only reached epoch ${epochOf(zxids.at(-1)!)}`);
  waitAllServing(ensemble, clock);
  for (const s of ensemble.servers) {
    assert.ok(s.acceptedEpoch >= s.epoch);
    assert.equal(s.epoch, ensemble.leader()!.epoch);
  }
  await ensemble.close();
});
