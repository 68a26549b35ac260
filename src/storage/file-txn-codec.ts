/**
 * The binary form of a `Txn` in the file storage's log: a small explicit little-endian
 * encoding, several times smaller and faster than the generic peer codec (no field
 * names), with the zxid first so recovery can index a record without decoding it.
 *
 * Payload layout:
 *
 * | bytes | field                                                         |
 * |-------|---------------------------------------------------------------|
 * | 8     | zxid: u32 low half, u32 high half (always, also in fallback)  |
 * | 1     | body tag (below); 0xff: the rest is `encodePlain(txn)`        |
 * | 8     | header.sessionId, int64                                       |
 * | 4     | header.cxid, int32                                            |
 * | 8     | header.time, float64                                          |
 * | ...   | body (tag-specific)                                           |
 *
 * Strings are `u32 byte length + UTF-8`; data is `i32 length (-1: null) + bytes`; ACL
 * lists and string lists are `u32 count + items`; an ACL is `i32 perms, scheme, id`.
 *
 * Anything the explicit form cannot hold exactly (an unknown body kind, a session id or
 * owner outside int64, a non-int32 version) falls back to the generic codec, so the
 * log never silently changes a transaction. A field ADDED to an existing txn kind must
 * be added here too (the round-trip test lists every field of every kind).
 */
import { DecodeError } from '../protocol/errors.js';
import { decodePlain, encodePlain } from '../protocol/peer-codec.js';
import type { ACL } from '../protocol/records.js';
import type { MultiTxnOp, Txn, TxnBody } from '../protocol/txn.js';
import type { Zxid } from '../protocol/zxid.js';

const TWO_32 = 0x1_0000_0000;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const TAG_CREATE = 1;
const TAG_DELETE = 2;
const TAG_SET_DATA = 3;
const TAG_SET_ACL = 4;
const TAG_CHECK = 5;
const TAG_ERROR = 6;
const TAG_MULTI = 7;
const TAG_CREATE_SESSION = 8;
const TAG_CLOSE_SESSION = 9;
const TAG_RECONFIG = 10;
const TAG_GENERIC = 0xff;


/** The offset of the zxid in every payload (8 bytes: low u32, high u32). */
export const TXN_ZXID_OFFSET = 0;
/** The smallest valid payload (a zxid plus the generic tag and a one-byte value). */
export const MIN_TXN_PAYLOAD = 10;

/** Read the zxid of an encoded transaction at `offset`, or -1 if it is out of range. */
export function peekZxid(buf: Buffer, offset: number): Zxid {
  const hi = buf.readUInt32LE(offset + 4);
  if (hi >= 0x20_0000) return -1; // beyond MAX_EPOCH: not a zxid we write
  return hi * TWO_32 + buf.readUInt32LE(offset);
}

/** A growable output buffer; `reset()` keeps the memory for the next batch. */
export class ByteWriter {
  /** The bytes written are `buf[0, pos)`. */
  buf: Buffer;
  pos = 0;
  private lastI64 = 0n;
  private lastLo = 0;
  private lastHi = 0;

  constructor(size = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Start over (the buffer is reused). */
  reset(): void {
    this.pos = 0;
  }

  /** Make room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Shrink back if one huge batch grew the buffer far beyond `keep` bytes. */
  trim(keep: number): void {
    if (this.buf.length > keep * 4 && this.pos === 0) this.buf = Buffer.allocUnsafe(keep);
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  u32(v: number): void {
    this.ensure(4);
    const buf = this.buf;
    const p = this.pos;
    buf[p] = v;
    buf[p + 1] = v >>> 8;
    buf[p + 2] = v >>> 16;
    buf[p + 3] = v >>> 24;
    this.pos = p + 4;
  }

  i32(v: number): void {
    this.u32(v >>> 0);
  }

  f64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  i64(v: bigint): void {
    // Session ids repeat from one txn to the next: convert a bigint once, not per write.
    if (v !== this.lastI64) {
      const u = BigInt.asUintN(64, v);
      this.lastLo = Number(u & 0xffff_ffffn);
      this.lastHi = Number(u >> 32n);
      this.lastI64 = v;
    }
    this.u32(this.lastLo);
    this.u32(this.lastHi);
  }

  zxid(v: Zxid): void {
    const hi = Math.floor(v / TWO_32);
    this.u32(v - hi * TWO_32);
    this.u32(hi);
  }

  bytes(v: Uint8Array): void {
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  string(s: string): void {
    const len = s.length;
    this.ensure(4 + len * 3);
    const buf = this.buf;
    const start = this.pos + 4;
    let p = start;
    for (let i = 0; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        p = start + buf.write(s, start, 'utf8');
        break;
      }
      buf[p++] = c;
    }
    buf.writeUInt32LE(p - start, this.pos);
    this.pos = p;
  }
}

// ------------------------------------------------------------------ encoding

function isInt32(v: unknown): v is number {
  return typeof v === 'number' && (v | 0) === v;
}

function isInt64(v: unknown): v is bigint {
  return typeof v === 'bigint' && v >= INT64_MIN && v <= INT64_MAX;
}

function isZxid(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 0x20_0000 * TWO_32;
}

function isData(v: unknown): v is Uint8Array | null {
  return v === null || v instanceof Uint8Array;
}

function aclsOk(acl: unknown): acl is ACL[] {
  if (!Array.isArray(acl)) return false;
  for (const a of acl as ACL[]) {
    if (a === null || typeof a !== 'object' || !isInt32(a.perms) || a.id === null || typeof a.id !== 'object') return false;
    if (typeof a.id.scheme !== 'string' || typeof a.id.id !== 'string') return false;
  }
  return true;
}

/** True if `body` (a multi op, or any body when `top`) fits the explicit form exactly. */
function explicitOk(body: TxnBody, top: boolean): boolean {
  switch (body.kind) {
    case 'create':
      return typeof body.path === 'string' && isData(body.data) && aclsOk(body.acl) && isInt64(body.ephemeralOwner) && isInt32(body.parentCVersion);
    case 'delete':
      return typeof body.path === 'string';
    case 'setData':
      return typeof body.path === 'string' && isData(body.data) && isInt32(body.version);
    case 'setACL':
      return typeof body.path === 'string' && aclsOk(body.acl) && isInt32(body.version);
    case 'check':
      return typeof body.path === 'string' && isInt32(body.version);
    case 'error':
      return isInt32(body.err);
    case 'multi':
      if (!top || !Array.isArray(body.ops)) return false;
      for (const op of body.ops) if (op === null || typeof op !== 'object' || !explicitOk(op, false)) return false;
      return true;
    case 'createSession':
      return top && isInt32(body.timeout);
    case 'closeSession':
      if (!top || !Array.isArray(body.paths)) return false;
      for (const p of body.paths) if (typeof p !== 'string') return false;
      return true;
    case 'reconfig':
      return top && body.data instanceof Uint8Array;
    default:
      return false;
  }
}

function writeData(w: ByteWriter, data: Uint8Array | null): void {
  if (data === null) {
    w.i32(-1);
    return;
  }
  w.i32(data.length);
  w.bytes(data);
}

function writeAcl(w: ByteWriter, acl: readonly ACL[]): void {
  w.u32(acl.length);
  for (const a of acl) {
    w.i32(a.perms);
    w.string(a.id.scheme);
    w.string(a.id.id);
  }
}

const TAGS: Record<TxnBody['kind'], number> = {
  create: TAG_CREATE,
  delete: TAG_DELETE,
  setData: TAG_SET_DATA,
  setACL: TAG_SET_ACL,
  check: TAG_CHECK,
  error: TAG_ERROR,
  multi: TAG_MULTI,
  createSession: TAG_CREATE_SESSION,
  closeSession: TAG_CLOSE_SESSION,
  reconfig: TAG_RECONFIG,
};

/** Write a body without its tag. */
function writeBody(w: ByteWriter, body: TxnBody): void {
  switch (body.kind) {
    case 'create':
      w.string(body.path);
      writeData(w, body.data);
      writeAcl(w, body.acl);
      w.i64(body.ephemeralOwner);
      w.i32(body.parentCVersion);
      return;
    case 'delete':
      w.string(body.path);
      return;
    case 'setData':
      w.string(body.path);
      writeData(w, body.data);
      w.i32(body.version);
      return;
    case 'setACL':
      w.string(body.path);
      writeAcl(w, body.acl);
      w.i32(body.version);
      return;
    case 'check':
      w.string(body.path);
      w.i32(body.version);
      return;
    case 'error':
      w.i32(body.err);
      return;
    case 'multi':
      w.u32(body.ops.length);
      for (const op of body.ops) {
        w.u8(TAGS[op.kind]);
        writeBody(w, op);
      }
      return;
    case 'createSession':
      w.i32(body.timeout);
      return;
    case 'closeSession':
      w.u32(body.paths.length);
      for (const p of body.paths) w.string(p);
      return;
    case 'reconfig':
      writeData(w, body.data);
      return;
  }
}

/**
 * Append the payload of `txn` to `w`. Throws `TypeError` if the transaction is not
 * plain data or its zxid is not a valid zxid (programming errors).
 */
export function encodeTxn(w: ByteWriter, txn: Txn): void {
  const h = txn.header;
  if (!isZxid(h.zxid)) throw new TypeError(`file storage: invalid zxid ${String(h.zxid)}`);
  w.zxid(h.zxid);
  if (isInt64(h.sessionId) && isInt32(h.cxid) && typeof h.time === 'number' && explicitOk(txn.body, true)) {
    w.u8(TAGS[txn.body.kind]);
    w.i64(h.sessionId);
    w.i32(h.cxid);
    w.f64(h.time);
    writeBody(w, txn.body);
    return;
  }
  w.u8(TAG_GENERIC);
  w.bytes(encodePlain(txn));
}

// ------------------------------------------------------------------ decoding

/** Reads a payload; every length is checked against the end of the record. */
class Reader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  fail(what: string): never {
    throw new DecodeError(`log record: ${what} at payload byte ${this.pos}`);
  }

  need(n: number): void {
    if (n > this.end - this.pos) this.fail(`truncated (needs ${n} bytes, ${this.end - this.pos} left)`);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  i32(): number {
    this.need(4);
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  f64(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  i64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  /** A count of items each at least `min` bytes long. */
  count(min: number): number {
    const n = this.u32();
    if (n * min > this.end - this.pos) this.fail(`count ${n} exceeds the bytes left`);
    return n;
  }

  string(): string {
    const n = this.u32();
    this.need(n);
    const start = this.pos;
    this.pos += n;
    return this.buf.toString('utf8', start, start + n);
  }

  data(): Uint8Array | null {
    const n = this.i32();
    if (n === -1) return null;
    if (n < 0) this.fail(`data length ${n}`);
    this.need(n);
    // A copy of its own: the record's read buffer is not pinned by the txn.
    const out = new Uint8Array(n);
    out.set(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }

  acl(): ACL[] {
    const n = this.count(12);
    const out = new Array<ACL>(n);
    for (let i = 0; i < n; i++) {
      const perms = this.i32();
      const scheme = this.string();
      out[i] = { perms, id: { scheme, id: this.string() } };
    }
    return out;
  }

  /** A body whose tag was already read. */
  body(tag: number, top: boolean): TxnBody {
    switch (tag) {
      case TAG_CREATE: {
        const path = this.string();
        const data = this.data();
        const acl = this.acl();
        const ephemeralOwner = this.i64();
        return { kind: 'create', path, data, acl, ephemeralOwner, parentCVersion: this.i32() };
      }
      case TAG_DELETE:
        return { kind: 'delete', path: this.string() };
      case TAG_SET_DATA: {
        const path = this.string();
        const data = this.data();
        return { kind: 'setData', path, data, version: this.i32() };
      }
      case TAG_SET_ACL: {
        const path = this.string();
        const acl = this.acl();
        return { kind: 'setACL', path, acl, version: this.i32() };
      }
      case TAG_CHECK: {
        const path = this.string();
        return { kind: 'check', path, version: this.i32() };
      }
      case TAG_ERROR:
        return { kind: 'error', err: this.i32() };
      case TAG_MULTI: {
        if (!top) this.fail('nested multi');
        const n = this.count(1);
        const ops = new Array<MultiTxnOp>(n);
        for (let i = 0; i < n; i++) ops[i] = this.body(this.u8(), false) as MultiTxnOp;
        return { kind: 'multi', ops };
      }
      case TAG_CREATE_SESSION:
        if (!top) this.fail('createSession inside a multi');
        return { kind: 'createSession', timeout: this.i32() };
      case TAG_CLOSE_SESSION: {
        if (!top) this.fail('closeSession inside a multi');
        const n = this.count(4);
        const paths = new Array<string>(n);
        for (let i = 0; i < n; i++) paths[i] = this.string();
        return { kind: 'closeSession', paths };
      }
      case TAG_RECONFIG: {
        if (!top) this.fail('reconfig inside a multi');
        const data = this.data();
        if (data === null) this.fail('reconfig without data');
        return { kind: 'reconfig', data };
      }
      default:
        return this.fail(`unknown body tag ${tag}`);
    }
  }
}

/** Decode the payload `buf[start, end)` written by `encodeTxn`. Throws `DecodeError`. */
export function decodeTxn(buf: Buffer, start: number, end: number): Txn {
  const r = new Reader(buf, start, end);
  r.need(9);
  const zxid = peekZxid(buf, start);
  if (zxid < 0) r.fail('zxid out of range');
  r.pos += 8;
  const tag = buf[r.pos]!;
  if (tag === TAG_GENERIC) {
    const txn = decodePlain(buf.subarray(r.pos + 1, end)) as Txn;
    if (txn === null || typeof txn !== 'object' || typeof txn.header !== 'object' || txn.header === null || txn.header.zxid !== zxid) {
      r.fail('generic record does not match its zxid');
    }
    return txn;
  }
  r.pos++;
  const sessionId = r.i64();
  const cxid = r.i32();
  const time = r.f64();
  const body = r.body(tag, true);
  if (r.pos !== end) r.fail(`${end - r.pos} trailing bytes`);
  return { header: { sessionId, cxid, zxid, time }, body };
}
