/** The follower machine: a learner that votes, logs and ACKs proposals. See learner.ts. */
export { followerMachine } from './learner.js';
export type { LearnerInput as FollowerInput } from './learner.js';
