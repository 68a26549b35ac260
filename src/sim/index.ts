/** Deterministic simulation: the virtual clock, histories and the linearizability checker. */
export * from './virtual-clock.js';
export * from './history.js';
export { ZnodeModel, ZOOKEEPER_INITIAL_NODES, type InitialNode, type ModelNode, type Observation } from './znode-model.js';
export * from './linearizability.js';
