/**
 * FileStorage under a real ensemble (deterministic: virtual clock, no fsync): servers
 * crash and restart on their directories, snapshots and purges run often, a follower
 * falls behind and resynchronizes, and finally a brand-new ensemble started on the same
 * directories still holds every acknowledged write.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { seededRandom } from '../../../src/runtime/random.js';
import { createEnsemble } from '../../../src/server/ensemble.js';
import { VirtualClock } from '../../../src/sim/virtual-clock.js';
import { FileStorage } from '../../../src/storage/file.js';
import { Workload, assertConverged, dataOf, settle, waitAllServing, waitFor } from '../ensemble/helpers.js';
import { removeDir, tempDir } from './harness.js';

test('an ensemble on file storage survives crashes, lagging followers and a full restart from disk', async () => {
  const root = tempDir();
  try {
    const clock = new VirtualClock();
    const storages = new Map<number, FileStorage>();
    const storageOf = (id: number): FileStorage => {
      const s = new FileStorage({ dir: join(root, `server-${id}`), clock, fsync: false, segmentBytes: 8 * 1024 });
      storages.set(id, s);
      return s;
    };
    const ensemble = createEnsemble({ clock, random: seededRandom(5), servers: 3, storage: storageOf, snapCount: 40 });
    waitAllServing(ensemble, clock);
    const sessions = ensemble.servers.map((s, i) => ({ sessionId: BigInt(70 + i), server: s.id }));
    const workload = new Workload(ensemble, clock, sessions);
    workload.start(2);
    for (let round = 0; round < 3; round++) {
      settle(clock, 80 + round * 17);
      for (const s of ensemble.servers) s.stop(); // every server crashes at once
      settle(clock, 5);
      for (const s of ensemble.servers) s.restart();
      waitAllServing(ensemble, clock);
    }
    // A follower falls far behind (past several snapshots and purges), then catches up.
    const leader = ensemble.leader()!;
    const follower = ensemble.servers.find((s) => s !== leader)!;
    follower.stop();
    settle(clock, 300);
    follower.restart();
    waitAllServing(ensemble, clock);
    workload.stop();
    waitFor(clock, () => workload.inFlight === 0);
    settle(clock, 50);
    assert.ok(workload.acknowledged.length > 100, `only ${workload.acknowledged.length} writes acknowledged`);
    workload.assertDurableAndUnique();
    assertConverged(ensemble);
    const snapshots = [...storages.values()].reduce((n, s) => n + s.stats.snapshotsWritten, 0);
    assert.ok(snapshots > 3, `${snapshots} snapshots written`);
    await ensemble.close();

    // A new ensemble, new storage objects, the same directories.
    const clock2 = new VirtualClock();
    const again = createEnsemble({
      clock: clock2,
      random: seededRandom(6),
      servers: 3,
      storage: (id) => new FileStorage({ dir: join(root, `server-${id}`), clock: clock2, fsync: false, segmentBytes: 8 * 1024 }),
      snapCount: 40,
    });
    waitAllServing(again, clock2);
    settle(clock2, 50);
    for (const server of again.servers) {
      for (const ack of workload.acknowledged) assert.equal(dataOf(server, ack.path), String(ack.cxid), `server ${server.id} lost ${ack.path}`);
    }
    assertConverged(again);
    await again.close();
  } finally {
    removeDir(root);
  }
});
