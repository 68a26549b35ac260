/**
 * The znode tree: paths, ACLs, the data tree and its transactions' prepare step,
 * snapshots and digests, and the watch registry.
 */
export * from './path.js';
export * from './acl.js';
export * from './events.js';
export * from './ephemeral.js';
export * from './data-tree.js';
export * from './prepare.js';
export * from './results.js';
export * from './watches.js';
