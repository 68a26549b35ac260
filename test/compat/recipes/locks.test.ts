/** Lock, read-write lock and semaphore scenarios against Apache ZooKeeper 3.8. */
import { apacheTarget } from './apache.js';
import { lockScenarios } from './scenarios/locks.js';
import { recipeSuite } from './suite.js';

recipeSuite(apacheTarget, { locks: lockScenarios });
