/** Status board / sync group scenarios against Apache ZooKeeper 3.8. */
import { apacheTarget } from './apache.js';
import { boardScenarios } from './scenarios/board.js';
import { recipeSuite } from './suite.js';

recipeSuite(apacheTarget, { 'status board': boardScenarios });
