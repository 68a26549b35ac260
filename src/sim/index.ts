/** Deterministic simulation: the virtual clock, histories, the linearizability checker, and the seeded simulator (`runSeed`, `npm run sim`). */
export * from './virtual-clock.js';
export * from './history.js';
export { ZnodeModel, ZOOKEEPER_INITIAL_NODES, type InitialNode, type ModelNode, type Observation } from './znode-model.js';
export * from './linearizability.js';
export * from './simulator.js';
export * from './faults-plan.js';
export * from './checkers.js';
export * from './cluster.js';
export * from './trap-storage.js';
export * from './nemesis.js';
export * from './workload.js';
export * from './trace.js';
export * from './driver.js';
export * from './connections.js';
export * from './watch-checker.js';
export * from './session-client.js';
export * from './recipe-workload.js';
export * from './recipe-checkers.js';
