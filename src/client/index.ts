/** The zoostate client: one API over the ZooKeeper wire protocol or an in-process channel. */
export * from './client.js';
export * from './acl.js';
export * from './channel.js';
export * from './connect-string.js';
export * from './errors.js';
export * from './host-provider.js';
export * from './multi.js';
export * from './paths.js';
export * from './protected.js';
export * from './session.js';
export * from './session-machine.js';
export type * from './types.js';
export * from './watch-manager.js';
export * from './watch-stream.js';
export * from './wire-channel.js';
