/** Where ZAB persists epochs, the transaction log and snapshots. */
export type * from './types.js';
export * from './memory.js';
export * from './file.js';
