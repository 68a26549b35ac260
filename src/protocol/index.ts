/** ZooKeeper's client protocol, transactions and peer messages: types, constants and codecs. */
export * from './constants.js';
export * from './errors.js';
export * from './zxid.js';
export type * from './records.js';
export type * from './txn.js';
export type * from './peer.js';
export * from './codec.js';
export * from './peer-codec.js';
