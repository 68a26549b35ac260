/**
 * The size in bytes of a transaction as ZooKeeper 3.8's leader serializes it into a
 * PROPOSAL (`TxnHeader`, the txn record, `TxnDigest`): what `srvr`'s
 * `Proposal sizes last/min/max` and `mntr`'s `zk_*_proposal_size` report. Observed on
 * 3.8.0: createSession and closeSession 48 bytes, create of `/a` with 100 bytes of data
 * and the open ACL 186, setData of 10 bytes 68.
 *
 * zoostate does not encode transactions in jute (peers exchange typed messages), so the
 * size is computed from the record layouts, not measured, once per transaction the
 * leader applies (strings counted in UTF-16 units: see `ustring`).
 */
import { CONTAINER_EPHEMERAL_OWNER, TTL_EPHEMERAL_OWNER_MARK } from '../protocol/constants.js';
import type { ACL } from '../protocol/records.js';
import type { MultiTxnOp, Txn, TxnBody } from '../protocol/txn.js';

/** `TxnHeader`: clientId, cxid, zxid, time, type. */
const HEADER = 8 + 4 + 8 + 8 + 4;
/** `TxnDigest`: version, treeDigest (3.8 writes it by default). */
const DIGEST = 4 + 8;
const TTL_MASK = -0x0100000000000000n;
const CONFIG_NODE = '/zookeeper/config';

/**
 * A jute ustring: length prefix plus UTF-8 bytes. Counted as UTF-16 code units, which is
 * exact for ASCII (paths, schemes and ids nearly always are) and keeps this off the
 * leader's per-transaction cost; a non-ASCII path is undercounted by its extra bytes.
 */
function ustring(s: string): number {
  return 4 + s.length;
}

function buffer(data: Uint8Array | null): number {
  return 4 + (data === null ? 0 : data.length);
}

function acls(list: readonly ACL[]): number {
  let n = 4;
  for (const acl of list) n += 4 + ustring(acl.id.scheme) + ustring(acl.id.id);
  return n;
}

/** The size of one txn record (the body of a header, or of a multi's sub-txn). */
function recordSize(body: TxnBody): number {
  switch (body.kind) {
    case 'create': {
      const common = ustring(body.path) + buffer(body.data) + acls(body.acl);
      const owner = body.ephemeralOwner;
      // CreateContainerTxn and CreateTTLTxn carry no `ephemeral` flag; CreateTTLTxn adds the ttl.
      if (owner !== 0n) {
        if (owner === CONTAINER_EPHEMERAL_OWNER) return common + 4;
        if ((owner & TTL_MASK) === TTL_EPHEMERAL_OWNER_MARK) return common + 4 + 8;
      }
      return common + 1 + 4;
    }
    case 'delete':
      return ustring(body.path);
    case 'setData':
      return ustring(body.path) + buffer(body.data) + 4;
    case 'setACL':
      return ustring(body.path) + acls(body.acl) + 4;
    case 'check':
      return ustring(body.path) + 4;
    case 'error':
      return 4;
    case 'createSession':
      return 4;
    case 'closeSession': {
      let n = 4;
      for (const path of body.paths) n += ustring(path);
      return n;
    }
    case 'reconfig':
      // Proposed as a SetDataTxn of /zookeeper/config with version -1.
      return ustring(CONFIG_NODE) + buffer(body.data) + 4;
    case 'multi': {
      // MultiTxn: vector<Txn{int type, buffer data}>.
      let n = 4;
      for (const op of body.ops as readonly MultiTxnOp[]) n += 4 + 4 + recordSize(op);
      return n;
    }
  }
}

/** Bytes of `txn` as a ZooKeeper 3.8 leader's proposal payload. */
export function proposalSize(txn: Txn): number {
  return HEADER + recordSize(txn.body) + DIGEST;
}
