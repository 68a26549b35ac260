/**
 * zoostate's snapshot format: the whole tree, its sessions and `lastProcessedZxid` in
 * one byte array. All integers are little-endian.
 *
 * ```
 * header   "ZSNP"  u16 version (1)  u16 reserved (0)  f64 lastProcessedZxid
 * sessions u32 count, then per session: i64 id, i32 timeout
 * acls     u32 count, then per list: u32 entries, then per entry: i32 perms, str scheme, str id
 * nodes    u32 count, then per node, parents before children:
 *            str path, u8 flags, f64 czxid, [f64 mzxid], [f64 pzxid], f64 ctime, [f64 mtime],
 *            [i32 version, i32 cversion(stored), i32 aversion], u32 acl index,
 *            [i64 ephemeralOwner], [u32 length + data bytes]
 * trailer  u32 digest high lane, u32 digest low lane, u32 meta hash (lastProcessedZxid, sessions)
 * str      u32 UTF-8 length + bytes
 * ```
 *
 * Bracketed fields are present only when their flag bit says so (most nodes have equal
 * c/m/p zxids, zero versions and no owner). The trailer digest is recomputed while
 * loading and must match, as must the meta hash over the header and sessions, which
 * catches corruption as well as encoder bugs. Nothing
 * depends on where the bytes are cut, so a sender may stream it in chunks of any size.
 */
import { DecodeError } from '../protocol/errors.js';
import type { ACL, SessionId } from '../protocol/records.js';
import type { Zxid } from '../protocol/zxid.js';
import { Hasher } from './hash.js';
import { NodeStore } from './node-store.js';
import { isValidPath } from './path.js';

const MAGIC = 0x504e535a; // "ZSNP" read as a little-endian u32
const VERSION = 1;

const F_DATA_NULL = 1;
const F_MZXID = 2;
const F_PZXID = 4;
const F_MTIME = 8;
const F_OWNER = 16;
const F_VERSIONS = 32;
const F_ALL = 63;
/** Hash of what the tree digest does not cover: lastProcessedZxid and the sessions. */
function metaHash(lastProcessedZxid: Zxid, sessions: Iterable<[SessionId, number]>): number {
  const h = new Hasher();
  h.reset();
  h.number(lastProcessedZxid);
  for (const [id, timeout] of sessions) {
    h.word(Number(BigInt.asUintN(32, id)));
    h.word(Number(BigInt.asUintN(32, id >> 32n)));
    h.word(timeout);
  }
  h.finish();
  return h.lo >>> 0;
}

const SLAB_BYTES = 64 * 1024;
const MIN_NODE_BYTES = 4 + 1 + 8 + 8 + 4 + 4; // path length, flags, czxid, ctime, acl, data length

/** Growable little-endian byte writer. */
class Writer {
  buf: Buffer;
  view: DataView;
  pos = 0;

  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafe(capacity);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  u8(v: number): void {
    this.view.setUint8(this.pos, v);
    this.pos += 1;
  }
  u16(v: number): void {
    this.view.setUint16(this.pos, v, true);
    this.pos += 2;
  }
  u32(v: number): void {
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }
  i32(v: number): void {
    this.view.setInt32(this.pos, v, true);
    this.pos += 4;
  }
  f64(v: number): void {
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }
  i64(v: bigint): void {
    this.view.setBigInt64(this.pos, v, true);
    this.pos += 8;
  }

  /** u32 UTF-8 length + bytes; ASCII is written inline, the rest through Buffer. */
  str(s: string): void {
    const n = s.length;
    this.ensure(4 + n * 3);
    const start = this.pos + 4;
    const buf = this.buf;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[start + i] = c;
    }
    const len = i === n ? n : i + buf.write(s.slice(i), start + i, 'utf8');
    this.view.setUint32(this.pos, len, true);
    this.pos = start + len;
  }

  bytes(d: Uint8Array): void {
    this.ensure(4 + d.length);
    this.u32(d.length);
    this.buf.set(d, this.pos);
    this.pos += d.length;
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

/** Serialize a store, its sessions and lastProcessedZxid (see the module comment). */
export function encodeSnapshot(store: NodeStore, sessions: ReadonlyMap<SessionId, number>, lastProcessedZxid: Zxid): Uint8Array {
  const w = new Writer(64 + sessions.size * 12 + store.size * 48 + store.dataSize);
  w.ensure(24);
  w.u32(MAGIC);
  w.u16(VERSION);
  w.u16(0);
  w.f64(lastProcessedZxid);
  w.u32(sessions.size);
  for (const [id, timeout] of sessions) {
    w.ensure(12);
    w.i64(id);
    w.i32(timeout);
  }

  // ACL table: store ids may have gaps; renumber densely.
  const entries = [...store.acls];
  const remap = new Int32Array(entries.length === 0 ? 0 : entries[entries.length - 1]![0] + 1);
  w.ensure(4);
  w.u32(entries.length);
  for (let i = 0; i < entries.length; i++) {
    const [id, entry] = entries[i]!;
    remap[id] = i;
    w.ensure(4);
    w.u32(entry.acl.length);
    for (const a of entry.acl) {
      w.ensure(4);
      w.i32(a.perms);
      w.str(a.id.scheme);
      w.str(a.id.id);
    }
  }

  const s = store;
  w.ensure(4);
  w.u32(s.size);
  for (const [path, slot] of s.slots) {
    w.str(path);
    w.ensure(1 + 5 * 8 + 3 * 4 + 4 + 8);
    const czxid = s.czxid(slot);
    const mzxid = s.mzxid(slot);
    const pzxid = s.pzxid(slot);
    const ctime = s.ctime(slot);
    const mtime = s.mtime(slot);
    const version = s.version(slot);
    const cversion = s.cversion(slot);
    const aversion = s.aversion(slot);
    const owner = s.owner[slot]!;
    const data = s.data[slot] ?? null;
    let flags = 0;
    if (data === null) flags |= F_DATA_NULL;
    if (mzxid !== czxid) flags |= F_MZXID;
    if (pzxid !== czxid) flags |= F_PZXID;
    if (mtime !== ctime) flags |= F_MTIME;
    if (owner !== 0n) flags |= F_OWNER;
    if (version !== 0 || cversion !== 0 || aversion !== 0) flags |= F_VERSIONS;
    w.u8(flags);
    w.f64(czxid);
    if (flags & F_MZXID) w.f64(mzxid);
    if (flags & F_PZXID) w.f64(pzxid);
    w.f64(ctime);
    if (flags & F_MTIME) w.f64(mtime);
    if (flags & F_VERSIONS) {
      w.i32(version);
      w.i32(cversion);
      w.i32(aversion);
    }
    w.u32(remap[s.aclIdOf(slot)]!);
    if (flags & F_OWNER) w.i64(owner);
    if (data !== null) w.bytes(data);
  }
  w.ensure(12);
  w.u32(s.sumHi);
  w.u32(s.sumLo);
  w.u32(metaHash(lastProcessedZxid, sessions));
  return w.finish();
}

/** Bounds-checked little-endian reader; every overrun is a DecodeError. */
class Reader {
  private readonly view: DataView;
  private readonly buf: Buffer;
  private readonly raw: Uint8Array;
  private slab = new Uint8Array(0);
  private slabUsed = SLAB_BYTES;
  pos = 0;

  constructor(bytes: Uint8Array) {
    this.buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.raw = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) throw new DecodeError(`snapshot truncated reading ${what} at byte ${this.pos}`);
  }

  u8(): number {
    return this.view.getUint8(this.pos++);
  }
  u16(): number {
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  u32(): number {
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  i32(): number {
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }
  f64(): number {
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }
  i64(): bigint {
    const v = this.view.getBigInt64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** A count, checked against the bytes left given each item's minimum size. */
  count(minItemBytes: number, what: string): number {
    this.need(4, what);
    const n = this.u32();
    if (n * minItemBytes > this.remaining) throw new DecodeError(`snapshot ${what} count ${n} exceeds the remaining bytes`);
    return n;
  }

  str(what: string): string {
    this.need(4, what);
    const len = this.u32();
    this.need(len, what);
    const start = this.pos;
    this.pos += len;
    return this.buf.toString('utf8', start, start + len);
  }

  /**
   * Node data, copied out of the snapshot (the tree must not pin the caller's buffer).
   * Small payloads are packed into shared 64 KiB slabs, as Node's Buffer pool does: one
   * ArrayBuffer per slab instead of per node is much cheaper to allocate and to keep.
   */
  bytes(what: string): Uint8Array {
    this.need(4, what);
    const len = this.u32();
    this.need(len, what);
    const start = this.pos;
    this.pos += len;
    if (len === 0) return new Uint8Array(0);
    if (len > SLAB_BYTES / 8) return this.raw.slice(start, start + len);
    if (this.slabUsed + len > SLAB_BYTES) {
      this.slab = new Uint8Array(SLAB_BYTES);
      this.slabUsed = 0;
    }
    const slab = this.slab;
    const at = this.slabUsed;
    const raw = this.raw;
    if (len <= 64) {
      for (let i = 0; i < len; i++) slab[at + i] = raw[start + i]!;
    } else {
      slab.set(raw.subarray(start, start + len), at);
    }
    this.slabUsed = (at + len + 7) & ~7;
    return slab.subarray(at, at + len);
  }
}

/** What a snapshot holds. */
export interface DecodedSnapshot {
  store: NodeStore;
  sessions: Map<SessionId, number>;
  lastProcessedZxid: Zxid;
}

function zxidField(v: number, what: string): number {
  if (!Number.isSafeInteger(v) || Object.is(v, -0)) throw new DecodeError(`snapshot ${what} is not an integer: ${v}`);
  return v;
}

/**
 * Parse and validate a snapshot.
 *
 * @throws DecodeError on any inconsistency (see `DataTree.deserialize`).
 */
export function decodeSnapshot(bytes: Uint8Array): DecodedSnapshot {
  if (!(bytes instanceof Uint8Array)) throw new DecodeError('snapshot is not a byte array');
  const r = new Reader(bytes);
  r.need(16, 'header');
  if (r.u32() !== MAGIC) throw new DecodeError('not a zoostate snapshot (bad magic)');
  const version = r.u16();
  if (version !== VERSION) throw new DecodeError(`unsupported snapshot version ${version}`);
  if (r.u16() !== 0) throw new DecodeError('snapshot reserved field is not 0');
  const lastProcessedZxid = zxidField(r.f64(), 'lastProcessedZxid');

  const sessions = new Map<SessionId, number>();
  const sessionCount = r.count(12, 'session');
  for (let i = 0; i < sessionCount; i++) {
    const id = r.i64();
    if (sessions.has(id)) throw new DecodeError(`snapshot repeats session 0x${BigInt.asUintN(64, id).toString(16)}`);
    sessions.set(id, r.i32());
  }

  const aclCount = r.count(4, 'ACL list');
  const aclLists: ACL[][] = [];
  for (let i = 0; i < aclCount; i++) {
    const n = r.count(12, 'ACL entry');
    const list: ACL[] = [];
    for (let j = 0; j < n; j++) {
      r.need(4, 'ACL perms');
      const perms = r.i32();
      const scheme = r.str('ACL scheme');
      const id = r.str('ACL id');
      list.push({ perms, id: { scheme, id } });
    }
    aclLists.push(list);
  }

  const nodeCount = r.count(MIN_NODE_BYTES, 'node');
  const store = new NodeStore(nodeCount + 16);
  const aclIds = aclLists.map((list) => store.acls.intern(list));
  // Siblings are usually consecutive: reuse the last parent's path and slot.
  let lastParentPath = '';
  let lastParent = -1;
  for (let i = 0; i < nodeCount; i++) {
    const path = r.str('node path');
    const slash = path.lastIndexOf('/');
    let parent = -1;
    if (i === 0) {
      if (path !== '/') throw new DecodeError('snapshot does not start with the root');
    } else {
      if (!isValidPath(path)) throw new DecodeError(`snapshot path is malformed: ${JSON.stringify(path)}`);
      if (lastParent >= 0 && slash === (lastParentPath.length === 1 ? 0 : lastParentPath.length) && path.startsWith(lastParentPath)) {
        parent = lastParent;
      } else {
        const parentPath = slash === 0 ? '/' : path.slice(0, slash);
        const p = store.slots.get(parentPath);
        if (p === undefined) throw new DecodeError(`snapshot node ${path} precedes its parent`);
        parent = p;
        lastParentPath = parentPath;
        lastParent = p;
      }
    }
    r.need(1 + 8 + 8, 'node stat');
    const flags = r.u8();
    if ((flags & ~F_ALL) !== 0) throw new DecodeError(`snapshot node flags ${flags} are invalid`);
    const czxid = zxidField(r.f64(), 'czxid');
    let mzxid = czxid;
    let pzxid = czxid;
    if (flags & F_MZXID) {
      r.need(8, 'mzxid');
      mzxid = zxidField(r.f64(), 'mzxid');
    }
    if (flags & F_PZXID) {
      r.need(8, 'pzxid');
      pzxid = zxidField(r.f64(), 'pzxid');
    }
    r.need(8, 'ctime');
    const ctime = zxidField(r.f64(), 'ctime');
    let mtime = ctime;
    if (flags & F_MTIME) {
      r.need(8, 'mtime');
      mtime = zxidField(r.f64(), 'mtime');
    }
    let version = 0;
    let cversion = 0;
    let aversion = 0;
    if (flags & F_VERSIONS) {
      r.need(12, 'versions');
      version = r.i32();
      cversion = r.i32();
      aversion = r.i32();
    }
    r.need(4, 'ACL index');
    const aclIndex = r.u32();
    if (aclIndex >= aclIds.length) throw new DecodeError(`snapshot ACL index ${aclIndex} out of range`);
    let owner = 0n;
    if (flags & F_OWNER) {
      r.need(8, 'ephemeralOwner');
      owner = r.i64();
    }
    const data = flags & F_DATA_NULL ? null : r.bytes('node data');
    const before = store.size;
    store.restore(path, data, aclIds[aclIndex]!, owner, czxid, mzxid, pzxid, ctime, mtime, version, cversion, aversion);
    // A repeated path replaced its first entry instead of adding one (the store is discarded).
    if (store.size === before) throw new DecodeError(`snapshot repeats path ${path}`);
    if (parent >= 0) store.linkChild(parent, path.slice(slash + 1));
  }
  if (nodeCount === 0) throw new DecodeError('snapshot has no nodes');
  for (const id of aclIds) store.acls.release(id);

  r.need(12, 'digest');
  const hi = r.u32();
  const lo = r.u32();
  const meta = r.u32();
  if (r.remaining !== 0) throw new DecodeError(`snapshot has ${r.remaining} trailing bytes`);
  if (hi !== store.sumHi || lo !== store.sumLo) throw new DecodeError('snapshot digest does not match its contents');
  if (meta !== metaHash(lastProcessedZxid, sessions)) throw new DecodeError('snapshot header or sessions are corrupt');
  return { store, sessions, lastProcessedZxid };
}
