/**
 * Columnar storage of znodes. A znode is a small integer *slot*; its stat fields live in
 * typed-array columns, its data, owner and children in plain arrays indexed by slot, and
 * `slots` maps each path to its slot (ZooKeeper's flat `nodes` map). With a million
 * znodes this avoids a JS object plus five boxed doubles per node, and keeps stat updates
 * to a few typed-array stores.
 *
 * The store also keeps the tree digest: the sum, over every node, of a 64-bit hash of
 * (path, data, ACL, stored stat fields), as two independent 32-bit sums. Adding a node
 * adds its hash, removing subtracts it, and an update subtracts the old hash and adds
 * the new, so equal trees have equal digests whatever their history.
 */
import type { ACL } from '../protocol/records.js';
import type { Zxid } from '../protocol/zxid.js';
import { AclTable } from './acl-table.js';
import { Hasher } from './hash.js';

const INITIAL_CAPACITY = 1024;
const TWO_32N = 0x1_0000_0000n;

/** Column storage for the znodes of one tree. The `DataTree` owns the semantics. */
export class NodeStore {
  /** path → slot. Insertion order always lists a parent before its children. */
  readonly slots = new Map<string, number>();
  /** Interned ACL lists; `aclId[slot]` indexes it. */
  readonly acls = new AclTable();

  czxid: Float64Array;
  mzxid: Float64Array;
  pzxid: Float64Array;
  ctime: Float64Array;
  mtime: Float64Array;
  version: Int32Array;
  /** The STORED cversion: number of child creates (reported = 2 × stored − numChildren). */
  cversion: Int32Array;
  aversion: Int32Array;
  aclId: Int32Array;
  /** Hash of (path, data) per slot, so a stat change re-hashes only a few words. */
  baseLo: Int32Array;
  baseHi: Int32Array;
  /** The node's current hash, as counted in the digest sums (subtracted on change). */
  nodeLo: Int32Array;
  nodeHi: Int32Array;
  /** Node data; `null` is kept distinct from empty. */
  readonly data: (Uint8Array | null)[] = [];
  /** Raw stored ephemeralOwner. */
  readonly owner: bigint[] = [];
  /** Child names, created on the first child and dropped when the last one goes. */
  readonly children: (Set<string> | null)[] = [];

  /** Sum of the node hashes, low and high 32-bit lanes. */
  sumLo = 0;
  sumHi = 0;
  /** Sum of path length + data length over all nodes (ZooKeeper's approximate data size). */
  dataSize = 0;

  private readonly freeSlots: number[] = [];
  private highWater = 0;
  private capacity: number;
  private readonly hasher = new Hasher();

  constructor(capacity = INITIAL_CAPACITY) {
    this.capacity = Math.max(16, capacity);
    const n = this.capacity;
    this.czxid = new Float64Array(n);
    this.mzxid = new Float64Array(n);
    this.pzxid = new Float64Array(n);
    this.ctime = new Float64Array(n);
    this.mtime = new Float64Array(n);
    this.version = new Int32Array(n);
    this.cversion = new Int32Array(n);
    this.aversion = new Int32Array(n);
    this.aclId = new Int32Array(n);
    this.baseLo = new Int32Array(n);
    this.baseHi = new Int32Array(n);
    this.nodeLo = new Int32Array(n);
    this.nodeHi = new Int32Array(n);
  }

  /** Number of nodes. */
  get size(): number {
    return this.slots.size;
  }

  /**
   * Add a node with a fresh stat (all zxids = `zxid`, times = `time`, versions 0) and
   * count it in the digest. The caller links it into its parent's children.
   */
  add(path: string, data: Uint8Array | null, acl: readonly ACL[], owner: bigint, zxid: Zxid, time: number): number {
    const slot = this.allocate();
    this.czxid[slot] = zxid;
    this.mzxid[slot] = zxid;
    this.pzxid[slot] = zxid;
    this.ctime[slot] = time;
    this.mtime[slot] = time;
    this.version[slot] = 0;
    this.cversion[slot] = 0;
    this.aversion[slot] = 0;
    this.aclId[slot] = this.acls.intern(acl);
    this.data[slot] = data;
    this.owner[slot] = owner;
    this.children[slot] = null;
    this.slots.set(path, slot);
    this.dataSize += path.length + (data === null ? 0 : data.length);
    this.setBase(slot, path);
    this.addHash(slot);
    return slot;
  }

  /**
   * Add a node with a stat from a snapshot, its ACL already interned as `aclId` (this
   * counts one more reference). The caller links it into its parent's children.
   */
  restore(
    path: string,
    data: Uint8Array | null,
    aclId: number,
    owner: bigint,
    czxid: Zxid,
    mzxid: Zxid,
    pzxid: Zxid,
    ctime: number,
    mtime: number,
    version: number,
    cversion: number,
    aversion: number,
  ): number {
    const slot = this.allocate();
    this.czxid[slot] = czxid;
    this.mzxid[slot] = mzxid;
    this.pzxid[slot] = pzxid;
    this.ctime[slot] = ctime;
    this.mtime[slot] = mtime;
    this.version[slot] = version;
    this.cversion[slot] = cversion;
    this.aversion[slot] = aversion;
    this.acls.addRef(aclId);
    this.aclId[slot] = aclId;
    this.data[slot] = data;
    this.owner[slot] = owner;
    this.children[slot] = null;
    this.slots.set(path, slot);
    this.dataSize += path.length + (data === null ? 0 : data.length);
    this.setBase(slot, path);
    this.addHash(slot);
    return slot;
  }

  /** Remove a node (uncounting it from the digest) and free its slot. */
  remove(path: string, slot: number): void {
    this.subHash(slot);
    const data = this.data[slot];
    this.dataSize -= path.length + (data === null ? 0 : data.length);
    this.acls.release(this.aclId[slot]!);
    this.slots.delete(path);
    this.data[slot] = null;
    this.owner[slot] = 0n;
    this.children[slot] = null;
    this.freeSlots.push(slot);
  }

  /** Replace a node's data, re-hashing its base. The caller brackets with sub/addHash. */
  replaceData(path: string, slot: number, data: Uint8Array | null): void {
    const old = this.data[slot];
    this.dataSize += (data === null ? 0 : data.length) - (old === null ? 0 : old.length);
    this.data[slot] = data;
    this.setBase(slot, path);
  }

  /** Replace a node's ACL. The caller brackets with sub/addHash. */
  replaceAcl(slot: number, acl: readonly ACL[]): void {
    const id = this.acls.intern(acl);
    this.acls.release(this.aclId[slot]!);
    this.aclId[slot] = id;
  }

  /** The ACL list of a node. */
  aclOf(slot: number): readonly ACL[] {
    return this.acls.get(this.aclId[slot]!).acl;
  }

  /** Number of children of a node. */
  childCount(slot: number): number {
    const set = this.children[slot];
    return set === null || set === undefined ? 0 : set.size;
  }

  /** Add a child name to a node. */
  linkChild(slot: number, name: string): void {
    let set = this.children[slot];
    if (set === null || set === undefined) {
      set = new Set<string>();
      this.children[slot] = set;
    }
    set.add(name);
  }

  /** Remove a child name from a node; drops the set when it empties. */
  unlinkChild(slot: number, name: string): void {
    const set = this.children[slot];
    if (set === null || set === undefined) return;
    set.delete(name);
    if (set.size === 0) this.children[slot] = null;
  }

  /** Compute a node's hash, remember it, and add it to the digest sums. */
  addHash(slot: number): void {
    this.nodeHash(slot);
    const lo = this.hasher.lo;
    const hi = this.hasher.hi;
    this.nodeLo[slot] = lo;
    this.nodeHi[slot] = hi;
    this.sumLo = (this.sumLo + lo) >>> 0;
    this.sumHi = (this.sumHi + hi) >>> 0;
  }

  /** Subtract a node's remembered hash from the digest sums (call before changing it). */
  subHash(slot: number): void {
    this.sumLo = (this.sumLo - this.nodeLo[slot]!) >>> 0;
    this.sumHi = (this.sumHi - this.nodeHi[slot]!) >>> 0;
  }

  /** The digest as 16 hex digits (high lane first). */
  digest(): string {
    return this.sumHi.toString(16).padStart(8, '0') + this.sumLo.toString(16).padStart(8, '0');
  }

  private setBase(slot: number, path: string): void {
    const h = this.hasher;
    h.reset();
    h.string(path);
    h.bytes(this.data[slot]);
    h.finish();
    this.baseLo[slot] = h.lo;
    this.baseHi[slot] = h.hi;
  }

  private nodeHash(slot: number): void {
    const h = this.hasher;
    const acl = this.acls.get(this.aclId[slot]!);
    h.reset();
    h.word(this.baseLo[slot]!);
    h.word(this.baseHi[slot]!);
    h.word(acl.hashLo);
    h.word(acl.hashHi);
    h.number(this.czxid[slot]!);
    h.number(this.mzxid[slot]!);
    h.number(this.pzxid[slot]!);
    h.number(this.ctime[slot]!);
    h.number(this.mtime[slot]!);
    h.word(this.version[slot]!);
    h.word(this.cversion[slot]!);
    h.word(this.aversion[slot]!);
    const owner = this.owner[slot]!;
    if (owner === 0n) {
      h.word(0);
      h.word(0);
    } else {
      const unsigned = BigInt.asUintN(64, owner);
      h.word(Number(unsigned % TWO_32N));
      h.word(Number(unsigned / TWO_32N));
    }
    h.finish();
  }

  private allocate(): number {
    if (this.freeSlots.length > 0) return this.freeSlots.pop()!;
    const slot = this.highWater++;
    if (slot >= this.capacity) this.grow();
    this.data.push(null);
    this.owner.push(0n);
    this.children.push(null);
    return slot;
  }

  private grow(): void {
    const n = this.capacity * 2;
    this.czxid = growF64(this.czxid, n);
    this.mzxid = growF64(this.mzxid, n);
    this.pzxid = growF64(this.pzxid, n);
    this.ctime = growF64(this.ctime, n);
    this.mtime = growF64(this.mtime, n);
    this.version = growI32(this.version, n);
    this.cversion = growI32(this.cversion, n);
    this.aversion = growI32(this.aversion, n);
    this.aclId = growI32(this.aclId, n);
    this.baseLo = growI32(this.baseLo, n);
    this.baseHi = growI32(this.baseHi, n);
    this.nodeLo = growI32(this.nodeLo, n);
    this.nodeHi = growI32(this.nodeHi, n);
    this.capacity = n;
  }
}

function growF64(a: Float64Array, n: number): Float64Array {
  const b = new Float64Array(n);
  b.set(a);
  return b;
}
function growI32(a: Int32Array, n: number): Int32Array {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}
