/** The observer machine: a non-voting learner fed committed transactions (INFORM). See learner.ts. */
export { observerMachine } from './learner.js';
export type { LearnerInput as ObserverInput } from './learner.js';
