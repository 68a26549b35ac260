/**
 * Every recipe scenario of the compatibility suite against zoostate itself (part of
 * `npm test`: no external software): an embedded 3-server ensemble with in-process
 * clients, the same scenarios test/compat/recipes runs against Apache ZooKeeper.
 */
import { barrierScenarios } from '../../compat/recipes/scenarios/barriers.js';
import { boardScenarios } from '../../compat/recipes/scenarios/board.js';
import { cacheScenarios, queueScenarios } from '../../compat/recipes/scenarios/data.js';
import { electionScenarios } from '../../compat/recipes/scenarios/election.js';
import { lockScenarios } from '../../compat/recipes/scenarios/locks.js';
import { recipeSuite } from '../../compat/recipes/suite.js';
import { zoostateTarget } from '../../compat/recipes/zoostate.js';

recipeSuite(zoostateTarget, {
  locks: lockScenarios,
  election: electionScenarios,
  barriers: barrierScenarios,
  'status board': boardScenarios,
  'queues and counters': queueScenarios,
  'caches and discovery': cacheScenarios,
});
