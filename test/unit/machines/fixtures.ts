/** Transactions for the machine unit tests. */
import { Perms } from '../../../src/protocol/constants.js';
import type { Txn } from '../../../src/protocol/txn.js';
import { makeZxid } from '../../../src/protocol/zxid.js';

/** A create of `/n<epoch>-<counter>` at zxid (epoch, counter). */
export function txn(epoch: number, counter: number): Txn {
  return {
    header: { sessionId: 1n, cxid: counter, zxid: makeZxid(epoch, counter), time: 1000 + counter },
    body: {
      kind: 'create',
      path: `/n${epoch}-${counter}`,
      data: new Uint8Array([counter & 0xff]),
      acl: [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }],
      ephemeralOwner: 0n,
      parentCVersion: 0,
    },
  };
}

/** Transactions (epoch, from..to). */
export function txns(epoch: number, from: number, to: number): Txn[] {
  return Array.from({ length: to - from + 1 }, (_, i) => txn(epoch, from + i));
}
