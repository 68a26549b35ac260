/** Queue, counter, cache and discovery scenarios against Apache ZooKeeper 3.8. */
import { apacheTarget } from './apache.js';
import { cacheScenarios, queueScenarios } from './scenarios/data.js';
import { recipeSuite } from './suite.js';

recipeSuite(apacheTarget, { 'queues and counters': queueScenarios, 'caches and discovery': cacheScenarios });
