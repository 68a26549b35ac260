/**
 * Sample transactions for the storage tests: every body kind, null and empty data,
 * non-ASCII paths, special session owners, and a few large values.
 */
import { CONTAINER_EPHEMERAL_OWNER, TTL_EPHEMERAL_OWNER_MARK } from '../../../src/protocol/constants.js';
import type { ACL } from '../../../src/protocol/records.js';
import type { MultiTxnOp, Txn, TxnBody } from '../../../src/protocol/txn.js';
import { makeZxid, type Zxid } from '../../../src/protocol/zxid.js';

const OPEN: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const DIGEST: ACL[] = [
  { perms: 1, id: { scheme: 'digest', id: 'user:hash=' } },
  { perms: 0x1f, id: { scheme: 'ip', id: '10.0.0.1' } },
];

function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (seed * 31 + i * 7) & 0xff;
  return out;
}

function op(i: number): MultiTxnOp {
  switch (i % 6) {
    case 0:
      return { kind: 'create', path: `/m/n${i}`, data: bytes(i % 40, i), acl: OPEN, ephemeralOwner: 0n, parentCVersion: i };
    case 1:
      return { kind: 'delete', path: `/m/n${i - 1}` };
    case 2:
      return { kind: 'setData', path: '/m', data: null, version: i };
    case 3:
      return { kind: 'setACL', path: '/m', acl: DIGEST, version: 2 };
    case 4:
      return { kind: 'check', path: '/m', version: -1 };
    default:
      return { kind: 'error', err: -101 };
  }
}

/** A body of kind `i % 13` (every kind appears within 13 consecutive i). */
export function sampleBody(i: number): TxnBody {
  switch (i % 13) {
    case 0:
      return { kind: 'create', path: `/app/node-${i}`, data: bytes(100, i), acl: OPEN, ephemeralOwner: 0n, parentCVersion: i };
    case 1:
      return { kind: 'create', path: `/app/é/ß/${i}`, data: new Uint8Array(0), acl: DIGEST, ephemeralOwner: 0x0100_0000_0000_0001n, parentCVersion: -1 };
    case 2:
      return { kind: 'create', path: `/c${i}`, data: null, acl: [], ephemeralOwner: CONTAINER_EPHEMERAL_OWNER, parentCVersion: 0 };
    case 3:
      return { kind: 'create', path: `/ttl${i}`, data: bytes(3, i), acl: OPEN, ephemeralOwner: TTL_EPHEMERAL_OWNER_MARK | 1000n, parentCVersion: 7 };
    case 4:
      return { kind: 'delete', path: `/app/node-${i - 4}` };
    case 5:
      return { kind: 'setData', path: `/app/node-${i - 5}`, data: bytes(i % 7 === 0 ? 4096 : 100, i), version: i & 0xffff };
    case 6:
      return { kind: 'setACL', path: '/app', acl: DIGEST, version: 0x7fffffff };
    case 7:
      return { kind: 'check', path: '/app', version: -2147483648 };
    case 8:
      return { kind: 'error', err: -110 };
    case 9:
      return { kind: 'multi', ops: Array.from({ length: 1 + (i % 6) }, (_, k) => op(i + k)) };
    case 10:
      return { kind: 'createSession', timeout: 30_000 };
    case 12:
      return { kind: 'reconfig', data: new TextEncoder().encode(`server.1=127.0.0.1:2888:3888:participant;0.0.0.0:2181\nversion=${i.toString(16)}`) };
    default:
      return { kind: 'closeSession', paths: i % 2 ? [] : [`/app/eph-${i}`, '/app/日本'] };
  }
}

/** A transaction with zxid `zxid` and a body chosen by `i`. */
export function sampleTxn(zxid: Zxid, i: number = zxid): Txn {
  return {
    header: { sessionId: BigInt(i % 5) * 0x0100_0000_0000_0000n + BigInt(i), cxid: i % 3 === 0 ? -1 : i, zxid, time: 1_700_000_000_000 + i },
    body: sampleBody(i),
  };
}

/** `count` transactions in epoch `epoch` with counters `from`, `from + 1`, .... */
export function txnRange(epoch: number, from: number, count: number): Txn[] {
  return Array.from({ length: count }, (_, k) => sampleTxn(makeZxid(epoch, from + k), from + k));
}

/** Snapshot bytes that are recognisably different per zxid. */
export function snapshotBytes(zxid: Zxid, size = 1000): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (zxid + i * 13) & 0xff;
  return out;
}
