/**
 * Slot storage of znodes. A znode is a small integer *slot*; `slots` maps each path to
 * its slot (ZooKeeper's flat `nodes` map). A slot's stat lives in one 64-byte row of a
 * shared buffer (five float64 zxids/times, then six int32s: versions, child count, data
 * length and node kind), so reading a Stat touches one or two cache lines instead of
 * one per field; data, owner and children live in plain arrays indexed by slot. With a
 * million znodes this avoids a JS object plus boxed doubles per node.
 *
 * The store also keeps the tree digest: the sum, over every node, of a 64-bit hash of
 * (path, data, ACL, stored stat fields), as two independent 32-bit sums, so equal trees
 * have equal digests whatever their history. It is maintained lazily: a change only
 * marks its node dirty (with its path); the dirty nodes are re-hashed when the digest is
 * read, or once too many are pending (`DIRTY_LIMIT`). So apply normally hashes nothing,
 * and a node changed many times between two reads is hashed once. Each node's counted
 * hash is remembered so a re-hash (or a removal) subtracts exactly what was added. A
 * removed node's slot is not reused until the pending hashes are settled, so a pending
 * (slot, path) entry always names the node that occupies the slot.
 */
import type { ACL, Stat } from '../protocol/records.js';
import type { Zxid } from '../protocol/zxid.js';
import { AclTable } from './acl-table.js';
import { NodeKind, nodeKindOf } from './ephemeral.js';
import { Hasher } from './hash.js';

const INITIAL_CAPACITY = 1024;
/** Live dirty nodes that force a settle: bounds the pause of one settle (a few ms). */
const DIRTY_LIMIT = 4096;
/**
 * Dirty-list entries (live or since removed) that force a settle: bounds the list's
 * memory and how many freed slots wait for reuse under create/delete churn.
 */
const DIRTY_LIST_LIMIT = 16384;

// A row: 8 float64 = 16 int32 = 64 bytes per slot.
const ROW_F64 = 8;
const ROW_I32 = 16;
// float64 fields.
const CZXID = 0;
const MZXID = 1;
const PZXID = 2;
const CTIME = 3;
const MTIME = 4;
// int32 fields (after the five float64s, i.e. from int32 index 10).
const VERSION = 10;
/** The STORED cversion: number of child creates (reported = 2 × stored − numChildren). */
const CVERSION = 11;
const AVERSION = 12;
const NUM_CHILDREN = 13;
const DATA_LENGTH = 14;
const KIND = 15;

/** Slot storage for the znodes of one tree. The `DataTree` owns the semantics. */
export class NodeStore {
  /** path → slot. Insertion order always lists a parent before its children. */
  readonly slots = new Map<string, number>();
  /** Interned ACL lists; `aclIdOf(slot)` indexes it. */
  readonly acls = new AclTable();

  /** Node data; `null` is kept distinct from empty. */
  readonly data: (Uint8Array | null)[] = [];
  /** Raw stored ephemeralOwner. */
  readonly owner: bigint[] = [];
  /** Child names, created on the first child and dropped when the last one goes. */
  readonly children: (Set<string> | null)[] = [];

  /** Sum of path length + data length over all nodes (ZooKeeper's approximate data size). */
  dataSize = 0;

  /** Stat rows, as float64 and as int32 views of one buffer. */
  private f64: Float64Array;
  private i32: Int32Array;
  private aclId: Int32Array;
  /** The node's hash as counted in the digest sums (subtracted on change). */
  private hashLo: Int32Array;
  private hashHi: Int32Array;
  /** 1 while the node's counted hash is stale (it is in the dirty list). */
  private dirty: Uint8Array;
  private readonly dirtySlots: number[] = [];
  private readonly dirtyPaths: string[] = [];
  /** Entries of the dirty list whose node is still there. */
  private liveDirty = 0;
  private lo = 0;
  private hi = 0;

  private readonly freeSlots: number[] = [];
  /** Slots of removed nodes that were dirty: reusable once the dirty list is settled. */
  private readonly pendingFree: number[] = [];
  private highWater = 0;
  private capacity: number;
  private readonly hasher = new Hasher();

  constructor(capacity = INITIAL_CAPACITY) {
    this.capacity = Math.max(16, capacity);
    const n = this.capacity;
    this.f64 = new Float64Array(n * ROW_F64);
    this.i32 = new Int32Array(this.f64.buffer);
    this.aclId = new Int32Array(n);
    this.hashLo = new Int32Array(n);
    this.hashHi = new Int32Array(n);
    this.dirty = new Uint8Array(n);
  }

  /** Number of nodes. */
  get size(): number {
    return this.slots.size;
  }

  // ------------------------------------------------------------------ nodes

  /**
   * Add a node with a fresh stat (all zxids = `zxid`, times = `time`, versions 0), its
   * hash pending. The caller links it into its parent's children.
   */
  add(path: string, data: Uint8Array | null, acl: readonly ACL[], owner: bigint, zxid: Zxid, time: number): number {
    const slot = this.allocate();
    const f = this.f64;
    const b = slot * ROW_F64;
    f[b + CZXID] = zxid;
    f[b + MZXID] = zxid;
    f[b + PZXID] = zxid;
    f[b + CTIME] = time;
    f[b + MTIME] = time;
    const i = this.i32;
    const k = slot * ROW_I32;
    i[k + VERSION] = 0;
    i[k + CVERSION] = 0;
    i[k + AVERSION] = 0;
    i[k + NUM_CHILDREN] = 0;
    i[k + DATA_LENGTH] = data === null ? 0 : data.length;
    i[k + KIND] = owner === 0n ? NodeKind.PERSISTENT : nodeKindOf(owner);
    this.aclId[slot] = this.acls.intern(acl);
    this.data[slot] = data;
    this.owner[slot] = owner;
    this.children[slot] = null;
    this.slots.set(path, slot);
    this.dataSize += path.length + (data === null ? 0 : data.length);
    this.hashLo[slot] = 0;
    this.hashHi[slot] = 0;
    this.touch(slot, path);
    return slot;
  }

  /**
   * Add a node with a stat from a snapshot, its ACL already interned as `aclId` (this
   * counts one more reference), hashing it at once. The caller links it into its
   * parent's children.
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
    const f = this.f64;
    const b = slot * ROW_F64;
    f[b + CZXID] = czxid;
    f[b + MZXID] = mzxid;
    f[b + PZXID] = pzxid;
    f[b + CTIME] = ctime;
    f[b + MTIME] = mtime;
    const i = this.i32;
    const k = slot * ROW_I32;
    i[k + VERSION] = version;
    i[k + CVERSION] = cversion;
    i[k + AVERSION] = aversion;
    i[k + NUM_CHILDREN] = 0;
    i[k + DATA_LENGTH] = data === null ? 0 : data.length;
    i[k + KIND] = owner === 0n ? NodeKind.PERSISTENT : nodeKindOf(owner);
    this.acls.addRef(aclId);
    this.aclId[slot] = aclId;
    this.data[slot] = data;
    this.owner[slot] = owner;
    this.children[slot] = null;
    this.slots.set(path, slot);
    this.dataSize += path.length + (data === null ? 0 : data.length);
    this.hashLo[slot] = 0;
    this.hashHi[slot] = 0;
    this.rehash(slot, path);
    return slot;
  }

  /** Remove a node (uncounting it from the digest) and free its slot. */
  remove(path: string, slot: number): void {
    this.lo = (this.lo - this.hashLo[slot]!) >>> 0;
    this.hi = (this.hi - this.hashHi[slot]!) >>> 0;
    this.dataSize -= path.length + this.i32[slot * ROW_I32 + DATA_LENGTH]!;
    this.acls.release(this.aclId[slot]!);
    this.slots.delete(path);
    this.data[slot] = null;
    this.owner[slot] = 0n;
    this.children[slot] = null;
    if (this.dirty[slot] !== 0) {
      this.dirty[slot] = 0;
      this.liveDirty--;
      this.pendingFree.push(slot);
    } else {
      this.freeSlots.push(slot);
    }
  }

  /** setData: new data, version, mzxid and mtime. */
  setData(path: string, slot: number, data: Uint8Array | null, version: number, zxid: Zxid, time: number): void {
    const k = slot * ROW_I32;
    const i = this.i32;
    const length = data === null ? 0 : data.length;
    this.dataSize += length - i[k + DATA_LENGTH]!;
    i[k + DATA_LENGTH] = length;
    i[k + VERSION] = version;
    this.data[slot] = data;
    const f = this.f64;
    const b = slot * ROW_F64;
    f[b + MZXID] = zxid;
    f[b + MTIME] = time;
    this.touch(slot, path);
  }

  /** setACL: a new ACL list and aversion. */
  setAcl(path: string, slot: number, acl: readonly ACL[], aversion: number): void {
    const id = this.acls.intern(acl);
    this.acls.release(this.aclId[slot]!);
    this.aclId[slot] = id;
    this.i32[slot * ROW_I32 + AVERSION] = aversion;
    this.touch(slot, path);
  }

  /** Set the stored aversion alone (the initial `/zookeeper/config`). */
  setAversion(path: string, slot: number, aversion: number): void {
    this.i32[slot * ROW_I32 + AVERSION] = aversion;
    this.touch(slot, path);
  }

  /**
   * Link a new child name; with `cversion` above the stored one, also move the stored
   * cversion there and pzxid to `zxid` (ZooKeeper's replay-safe rule).
   */
  childCreated(path: string, slot: number, name: string, cversion: number, zxid: Zxid): void {
    const k = slot * ROW_I32;
    const i = this.i32;
    if (cversion > i[k + CVERSION]!) {
      i[k + CVERSION] = cversion;
      this.f64[slot * ROW_F64 + PZXID] = zxid;
      this.touch(slot, path);
    }
    this.linkChild(slot, name);
  }

  /** Unlink a removed child's name; pzxid moves to `zxid` if that is larger. */
  childDeleted(path: string, slot: number, name: string, zxid: Zxid): void {
    this.unlinkChild(slot, name);
    const f = this.f64;
    const b = slot * ROW_F64 + PZXID;
    if (zxid > f[b]!) {
      f[b] = zxid;
      this.touch(slot, path);
    }
  }

  /** Add a child name to a node (no stat change). */
  linkChild(slot: number, name: string): void {
    let set = this.children[slot];
    if (set === null || set === undefined) {
      set = new Set<string>();
      this.children[slot] = set;
    }
    const before = set.size;
    set.add(name);
    this.i32[slot * ROW_I32 + NUM_CHILDREN] += set.size - before;
  }

  /** Remove a child name from a node; drops the set when it empties. */
  unlinkChild(slot: number, name: string): void {
    const set = this.children[slot];
    if (set === null || set === undefined) return;
    if (!set.delete(name)) return;
    this.i32[slot * ROW_I32 + NUM_CHILDREN]--;
    if (set.size === 0) this.children[slot] = null;
  }

  // ------------------------------------------------------------------ fields

  /** The ACL list of a node. */
  aclOf(slot: number): readonly ACL[] {
    return this.acls.get(this.aclId[slot]!).acl;
  }

  /** The interned ACL id of a node. */
  aclIdOf(slot: number): number {
    return this.aclId[slot]!;
  }

  /** Number of children of a node. */
  childCount(slot: number): number {
    return this.i32[slot * ROW_I32 + NUM_CHILDREN]!;
  }

  /** The node's kind (`NodeKind`), from its stored ephemeralOwner. */
  kind(slot: number): NodeKind {
    return this.i32[slot * ROW_I32 + KIND]! as NodeKind;
  }

  czxid(slot: number): Zxid {
    return this.f64[slot * ROW_F64 + CZXID]!;
  }
  mzxid(slot: number): Zxid {
    return this.f64[slot * ROW_F64 + MZXID]!;
  }
  pzxid(slot: number): Zxid {
    return this.f64[slot * ROW_F64 + PZXID]!;
  }
  ctime(slot: number): number {
    return this.f64[slot * ROW_F64 + CTIME]!;
  }
  mtime(slot: number): number {
    return this.f64[slot * ROW_F64 + MTIME]!;
  }
  version(slot: number): number {
    return this.i32[slot * ROW_I32 + VERSION]!;
  }
  /** The STORED cversion (number of child creates). */
  cversion(slot: number): number {
    return this.i32[slot * ROW_I32 + CVERSION]!;
  }
  aversion(slot: number): number {
    return this.i32[slot * ROW_I32 + AVERSION]!;
  }

  /** The node's Stat as clients see it (§10.3): reported cversion and ephemeralOwner. */
  stat(slot: number): Stat {
    const f = this.f64;
    const i = this.i32;
    const b = slot * ROW_F64;
    const k = slot * ROW_I32;
    const numChildren = i[k + NUM_CHILDREN]!;
    return {
      czxid: f[b + CZXID]!,
      mzxid: f[b + MZXID]!,
      ctime: f[b + CTIME]!,
      mtime: f[b + MTIME]!,
      version: i[k + VERSION]!,
      cversion: (Math.imul(i[k + CVERSION]!, 2) - numChildren) | 0,
      aversion: i[k + AVERSION]!,
      ephemeralOwner: i[k + KIND] === NodeKind.EPHEMERAL ? this.owner[slot]! : 0n,
      dataLength: i[k + DATA_LENGTH]!,
      numChildren,
      pzxid: f[b + PZXID]!,
    };
  }

  /** {@link stat} written into an existing object (no allocation). */
  statInto(slot: number, out: Stat): Stat {
    const f = this.f64;
    const i = this.i32;
    const b = slot * ROW_F64;
    const k = slot * ROW_I32;
    const numChildren = i[k + NUM_CHILDREN]!;
    out.czxid = f[b + CZXID]!;
    out.mzxid = f[b + MZXID]!;
    out.ctime = f[b + CTIME]!;
    out.mtime = f[b + MTIME]!;
    out.version = i[k + VERSION]!;
    out.cversion = (Math.imul(i[k + CVERSION]!, 2) - numChildren) | 0;
    out.aversion = i[k + AVERSION]!;
    out.ephemeralOwner = i[k + KIND] === NodeKind.EPHEMERAL ? this.owner[slot]! : 0n;
    out.dataLength = i[k + DATA_LENGTH]!;
    out.numChildren = numChildren;
    out.pzxid = f[b + PZXID]!;
    return out;
  }

  // ------------------------------------------------------------------ digest

  /** Low 32-bit lane of the digest (unsigned), with every pending change counted. */
  get sumLo(): number {
    this.settle();
    return this.lo;
  }

  /** High 32-bit lane of the digest (unsigned), with every pending change counted. */
  get sumHi(): number {
    this.settle();
    return this.hi;
  }

  /** The digest as 16 hex digits (high lane first). */
  digest(): string {
    this.settle();
    return this.hi.toString(16).padStart(8, '0') + this.lo.toString(16).padStart(8, '0');
  }

  /** Re-hash every dirty node, and make the slots of removed ones reusable. */
  settle(): void {
    const slots = this.dirtySlots;
    const paths = this.dirtyPaths;
    const dirty = this.dirty;
    for (let n = 0; n < slots.length; n++) {
      const slot = slots[n]!;
      if (dirty[slot] === 0) continue; // removed since it was marked
      dirty[slot] = 0;
      this.rehash(slot, paths[n]!);
    }
    slots.length = 0;
    paths.length = 0;
    this.liveDirty = 0;
    const pending = this.pendingFree;
    for (let n = 0; n < pending.length; n++) this.freeSlots.push(pending[n]!);
    pending.length = 0;
  }

  /** Mark a node's hash stale (once per settle). */
  private touch(slot: number, path: string): void {
    if (this.dirty[slot] !== 0) return;
    this.dirty[slot] = 1;
    this.dirtySlots.push(slot);
    this.dirtyPaths.push(path);
    if (++this.liveDirty > DIRTY_LIMIT || this.dirtySlots.length > DIRTY_LIST_LIMIT) this.settle();
  }

  /**
   * Hash a node and replace its counted hash in the sums. The hash: base = H(path, data),
   * then H(base, ACL hash, czxid, mzxid, pzxid, ctime, mtime, version, stored cversion,
   * aversion, raw owner as two words).
   */
  private rehash(slot: number, path: string): void {
    const h = this.hasher;
    h.reset();
    h.string(path);
    h.bytes(this.data[slot] ?? null);
    h.finish();
    const baseLo = h.lo;
    const baseHi = h.hi;
    const acl = this.acls.get(this.aclId[slot]!);
    const f = this.f64;
    const i = this.i32;
    const b = slot * ROW_F64;
    const k = slot * ROW_I32;
    h.reset();
    h.word(baseLo);
    h.word(baseHi);
    h.word(acl.hashLo);
    h.word(acl.hashHi);
    h.number(f[b + CZXID]!);
    h.number(f[b + MZXID]!);
    h.number(f[b + PZXID]!);
    h.number(f[b + CTIME]!);
    h.number(f[b + MTIME]!);
    h.word(i[k + VERSION]!);
    h.word(i[k + CVERSION]!);
    h.word(i[k + AVERSION]!);
    const owner = this.owner[slot]!;
    if (owner === 0n) {
      h.word(0);
      h.word(0);
    } else {
      h.word(Number(BigInt.asUintN(32, owner)));
      h.word(Number(BigInt.asUintN(32, owner >> 32n)));
    }
    h.finish();
    this.lo = (this.lo - this.hashLo[slot]! + h.lo) >>> 0;
    this.hi = (this.hi - this.hashHi[slot]! + h.hi) >>> 0;
    this.hashLo[slot] = h.lo;
    this.hashHi[slot] = h.hi;
  }

  // ------------------------------------------------------------------ slots

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
    const f64 = new Float64Array(n * ROW_F64);
    f64.set(this.f64);
    this.f64 = f64;
    this.i32 = new Int32Array(f64.buffer);
    this.aclId = growI32(this.aclId, n);
    this.hashLo = growI32(this.hashLo, n);
    this.hashHi = growI32(this.hashHi, n);
    const dirty = new Uint8Array(n);
    dirty.set(this.dirty);
    this.dirty = dirty;
    this.capacity = n;
  }
}

function growI32(a: Int32Array, n: number): Int32Array {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}
