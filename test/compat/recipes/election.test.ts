/** Leader election scenarios against Apache ZooKeeper 3.8. */
import { apacheTarget } from './apache.js';
import { electionScenarios } from './scenarios/election.js';
import { recipeSuite } from './suite.js';

recipeSuite(apacheTarget, { election: electionScenarios });
