/**
 * A straightforward reference for the tree's optimized storage: one plain object per
 * znode in a Map, the stat rules applied field by field, and the digest recomputed from
 * scratch over every node. Property tests compare `DataTree` (columnar rows, lazily
 * maintained digest, result-free apply) against it.
 */
import { READ_ACL_UNSAFE, OPEN_ACL_UNSAFE } from '../../../src/tree/acl.js';
import { aclKey } from '../../../src/tree/acl-table.js';
import { NodeKind, nodeKindOf } from '../../../src/tree/ephemeral.js';
import { Hasher } from '../../../src/tree/hash.js';
import type { ACL, Stat } from '../../../src/protocol/records.js';
import type { MultiTxnOp, Txn } from '../../../src/protocol/txn.js';

/** One znode of the reference tree, with its STORED cversion. */
export interface RefNode {
  data: Uint8Array | null;
  acl: readonly ACL[];
  owner: bigint;
  czxid: number;
  mzxid: number;
  pzxid: number;
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  aversion: number;
  children: Set<string>;
}

const EMPTY = new Uint8Array(0);

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}

/** The reference tree: ZooKeeper's initial nodes, then `apply`. */
export class RefTree {
  /** path → node. */
  readonly nodes = new Map<string, RefNode>();

  constructor() {
    this.nodes.set('/', this.fresh(EMPTY, OPEN_ACL_UNSAFE, 0n, 0, 0));
    for (const path of ['/zookeeper', '/zookeeper/quota', '/zookeeper/config']) {
      const acl = path === '/zookeeper/config' ? READ_ACL_UNSAFE : OPEN_ACL_UNSAFE;
      this.nodes.set(path, this.fresh(EMPTY, acl, 0n, 0, 0));
      this.nodes.get(parentOf(path))!.children.add(path.slice(path.lastIndexOf('/') + 1));
    }
    this.nodes.get('/zookeeper/config')!.aversion = -1;
  }

  private fresh(data: Uint8Array | null, acl: readonly ACL[], owner: bigint, zxid: number, time: number): RefNode {
    return { data, acl, owner, czxid: zxid, mzxid: zxid, pzxid: zxid, ctime: time, mtime: time, version: 0, cversion: 0, aversion: 0, children: new Set() };
  }

  /** Apply a transaction with the stat rules of §10.5 (invalid ops change nothing). */
  apply(txn: Txn): void {
    const { header, body } = txn;
    switch (body.kind) {
      case 'multi':
        if (body.ops.every((op) => op.kind !== 'error')) for (const op of body.ops) this.applyOp(op, header.zxid, header.time);
        return;
      case 'closeSession':
        for (const path of body.paths) this.delete(path, header.zxid);
        return;
      case 'createSession':
        return;
      case 'reconfig':
        this.applyOp({ kind: 'setData', path: '/zookeeper/config', data: body.data, version: -1 }, header.zxid, header.time);
        return;
      default:
        this.applyOp(body, header.zxid, header.time);
    }
  }

  private applyOp(op: MultiTxnOp, zxid: number, time: number): void {
    switch (op.kind) {
      case 'create': {
        const parent = this.nodes.get(parentOf(op.path));
        if (parent === undefined || this.nodes.has(op.path)) return;
        const cversion = op.parentCVersion === -1 ? parent.cversion + 1 : op.parentCVersion;
        if (cversion > parent.cversion) {
          parent.cversion = cversion;
          parent.pzxid = zxid;
        }
        parent.children.add(op.path.slice(op.path.lastIndexOf('/') + 1));
        this.nodes.set(op.path, this.fresh(op.data, op.acl, op.ephemeralOwner, zxid, time));
        return;
      }
      case 'delete':
        this.delete(op.path, zxid);
        return;
      case 'setData': {
        const node = this.nodes.get(op.path);
        if (node === undefined) return;
        node.data = op.data;
        node.version = op.version;
        node.mzxid = zxid;
        node.mtime = time;
        return;
      }
      case 'setACL': {
        const node = this.nodes.get(op.path);
        if (node === undefined) return;
        node.acl = op.acl;
        node.aversion = op.version;
        return;
      }
      default:
        return;
    }
  }

  private delete(path: string, zxid: number): void {
    const node = this.nodes.get(path);
    const parent = this.nodes.get(parentOf(path));
    if (node === undefined || path === '/' || parent === undefined || node.children.size > 0) return;
    this.nodes.delete(path);
    parent.children.delete(path.slice(path.lastIndexOf('/') + 1));
    if (zxid > parent.pzxid) parent.pzxid = zxid;
  }

  /** The Stat clients see (reported cversion and ephemeralOwner). */
  stat(path: string): Stat {
    const n = this.nodes.get(path)!;
    const numChildren = n.children.size;
    return {
      czxid: n.czxid,
      mzxid: n.mzxid,
      ctime: n.ctime,
      mtime: n.mtime,
      version: n.version,
      cversion: (2 * n.cversion - numChildren) | 0,
      aversion: n.aversion,
      ephemeralOwner: nodeKindOf(n.owner) === NodeKind.EPHEMERAL ? n.owner : 0n,
      dataLength: n.data === null ? 0 : n.data.length,
      numChildren,
      pzxid: n.pzxid,
    };
  }

  /** ZooKeeper's approximate data size: path length + data length summed over all nodes. */
  dataSize(): number {
    let size = 0;
    for (const [path, node] of this.nodes) size += path.length + (node.data === null ? 0 : node.data.length);
    return size;
  }

  /** The digest recomputed from scratch (see {@link nodeDigestHash}). */
  digest(): string {
    let lo = 0;
    let hi = 0;
    for (const [path, node] of this.nodes) {
      const [l, h] = nodeDigestHash(path, node);
      lo = (lo + l) >>> 0;
      hi = (hi + h) >>> 0;
    }
    return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
  }
}

/**
 * One node's digest contribution, computed directly from its fields: H(H(path, data),
 * H(ACL key), czxid, mzxid, pzxid, ctime, mtime, version, stored cversion, aversion,
 * owner as two unsigned 32-bit words).
 */
export function nodeDigestHash(path: string, node: RefNode): [number, number] {
  const h = new Hasher();
  h.reset();
  h.string(path);
  h.bytes(node.data);
  h.finish();
  const baseLo = h.lo;
  const baseHi = h.hi;
  const a = new Hasher();
  a.reset();
  a.string(aclKey(node.acl));
  a.finish();
  h.reset();
  h.word(baseLo);
  h.word(baseHi);
  h.word(a.lo);
  h.word(a.hi);
  for (const n of [node.czxid, node.mzxid, node.pzxid, node.ctime, node.mtime]) h.number(n);
  h.word(node.version);
  h.word(node.cversion);
  h.word(node.aversion);
  const owner = BigInt.asUintN(64, node.owner);
  h.word(Number(owner & 0xffff_ffffn));
  h.word(Number(owner >> 32n));
  h.finish();
  return [h.lo, h.hi];
}
