import { seededRandom } from '../../../src/runtime/random.js';
import { VirtualClock } from '../../../src/sim/virtual-clock.js';
import { InProcessNetwork } from '../../../src/transport/inproc.js';
import type { Transport } from '../../../src/transport/types.js';
import { strict as assert } from 'node:assert';
import { conformanceSuite, type ConformanceHarness } from './conformance.js';

conformanceSuite('in-process', async (n) => {
  const clock = new VirtualClock();
  const network = new InProcessNetwork({ clock, random: seededRandom(7) });
  const ids = Array.from({ length: n }, (_, i) => i + 1);
  const endpoints: Transport[] = ids.map((id) => network.endpoint(id));
  const harness: ConformanceHarness = {
    ids,
    endpoint: (i) => endpoints[i]!,
    until: async (cond, what) => {
      let steps = 0;
      while (!cond()) {
        if (!clock.step()) throw new Error(`idle before: ${what}`);
        if (++steps > 1_000_000) throw new Error(`too many steps before: ${what}`);
      }
    },
    crash: async (i) => network.faults.crash(ids[i]!),
    restart: async (i) => (endpoints[i] = network.faults.restart(ids[i]!)),
    close: () => network.close(),
    assertClean: () => {
      clock.flush();
      assert.equal(clock.pending, 0, 'no timers or deferred calls left');
      assert.deepEqual(network.liveIds(), []);
    },
  };
  return harness;
});
