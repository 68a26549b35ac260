/** Barrier and double-barrier scenarios against Apache ZooKeeper 3.8. */
import { apacheTarget } from './apache.js';
import { barrierScenarios } from './scenarios/barriers.js';
import { recipeSuite } from './suite.js';

recipeSuite(apacheTarget, { barriers: barrierScenarios });
