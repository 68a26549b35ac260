/**
 * The peer codec: a versioned, compact, generic tagged binary encoding of plain data,
 * used for peer batches on TCP. Peer messages are built only from null, undefined,
 * booleans, numbers, bigints, strings, Uint8Arrays, arrays and plain objects (see
 * peer.ts), so one generic codec carries every current and future message without
 * per-message code.
 *
 * Layout of a batch: `version:u8` (currently 1), `count:varuint`, then `count` values.
 * A value is one tag byte followed by its body:
 *
 * | tag       | value                                                         |
 * |-----------|---------------------------------------------------------------|
 * | 0x80–0xff | the integer 0–127 (tag & 0x7f)                                |
 * | 0x00      | null                                                          |
 * | 0x01      | undefined                                                     |
 * | 0x02/0x03 | false / true                                                  |
 * | 0x04      | int32, 4 bytes little-endian                                  |
 * | 0x05      | float64, 8 bytes little-endian                                |
 * | 0x06      | bigint in int64 range, 8 bytes little-endian                  |
 * | 0x07      | other bigint: sign:u8, length:varuint, magnitude little-endian |
 * | 0x08      | string: length:varuint, UTF-8 bytes (short ones enter the table) |
 * | 0x09      | string: index:varuint into this batch's string table          |
 * | 0x0a      | Uint8Array: length:varuint, bytes                             |
 * | 0x0b      | array: count:varuint, values                                  |
 * | 0x0c      | object: count:varuint, (key, value) pairs; a key is a string  |
 * |           | value (tag 0x08 or 0x09)                                      |
 * | 0x0d      | integer in [2^31, 2^53): hi:varuint, lo:u32 (zxids: 6 bytes) |
 *
 * Strings of at most 64 UTF-16 units are interned per batch: the first occurrence is
 * sent in full and appended to the table, later ones as an index. Object keys and tags
 * like `type: 'ack'` therefore cost 2 bytes after their first use in a batch.
 *
 * Decoding never trusts its input: every length is checked against the bytes left and
 * the configured limits before anything is allocated, nesting depth and value counts
 * are bounded, unknown tags, invalid UTF-8, `__proto__` keys and trailing bytes are
 * rejected, all with `DecodeError`. Nothing is evaluated.
 */
import { DecodeError } from './errors.js';
import type { PeerMessage, PeerMessageType } from './peer.js';

/** The version byte written first in every batch. */
export const PEER_CODEC_VERSION = 1;

const T_NULL = 0x00;
const T_UNDEFINED = 0x01;
const T_FALSE = 0x02;
const T_TRUE = 0x03;
const T_INT32 = 0x04;
const T_FLOAT64 = 0x05;
const T_INT64 = 0x06;
const T_BIGINT = 0x07;
const T_STRING = 0x08;
const T_STRING_REF = 0x09;
const T_BYTES = 0x0a;
const T_ARRAY = 0x0b;
const T_OBJECT = 0x0c;
const T_UINT53 = 0x0d;
const T_FIXINT = 0x80;

/** Strings up to this many UTF-16 units are interned per batch. */
const INTERN_MAX = 64;

const typeTable = {
  notification: true,
  followerInfo: true,
  observerInfo: true,
  leaderInfo: true,
  ackEpoch: true,
  diff: true,
  trunc: true,
  snap: true,
  newLeader: true,
  upToDate: true,
  proposal: true,
  inform: true,
  ack: true,
  commit: true,
  ping: true,
  request: true,
  revalidate: true,
  revalidateReply: true,
  sync: true,
} as const satisfies Record<PeerMessageType, true>;

/** Every `type` a `PeerMessage` can have (checked complete against the union at compile time). */
export const PEER_MESSAGE_TYPES: readonly PeerMessageType[] = Object.keys(typeTable) as PeerMessageType[];

const typeSet = new Set<string>(PEER_MESSAGE_TYPES);

/** True if `type` is the tag of a known peer message. */
export function isPeerMessageType(type: unknown): type is PeerMessageType {
  return typeof type === 'string' && typeSet.has(type);
}

/** Bounds applied while decoding untrusted bytes. */
export interface PeerDecodeLimits {
  /** Maximum input size in bytes; default 256 MiB. */
  maxBytes?: number;
  /** Maximum nesting of arrays and objects; default 32. */
  maxDepth?: number;
  /** Maximum number of values (every element, field and message counts); default 4 million. */
  maxValues?: number;
  /** Maximum messages in one batch; default 1 million. */
  maxMessages?: number;
  /** Maximum magnitude bytes of a non-int64 bigint; default 64. */
  maxBigIntBytes?: number;
}

/** The limits used when none are given. */
export const DEFAULT_PEER_DECODE_LIMITS: Readonly<Required<PeerDecodeLimits>> = Object.freeze({
  maxBytes: 256 * 1024 * 1024,
  maxDepth: 32,
  maxValues: 4_000_000,
  maxMessages: 1_000_000,
  maxBigIntBytes: 64,
});

// ------------------------------------------------------------------ encoding

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const textEncoder = new TextEncoder();

/** A growable output buffer reused across encodes (the result is always copied out). */
class Writer {
  buf: Uint8Array;
  view: DataView;
  pos = 0;
  strings = new Map<string, number>();

  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }

  reset(): void {
    this.pos = 0;
    if (this.strings.size > 0) this.strings.clear();
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  varuint(v: number): void {
    this.ensure(5);
    const buf = this.buf;
    while (v >= 0x80) {
      buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[this.pos++] = v;
  }

  value(v: unknown, depth: number): void {
    switch (typeof v) {
      case 'number':
        this.number(v);
        return;
      case 'string':
        this.string(v);
        return;
      case 'boolean':
        this.ensure(1);
        this.buf[this.pos++] = v ? T_TRUE : T_FALSE;
        return;
      case 'undefined':
        this.ensure(1);
        this.buf[this.pos++] = T_UNDEFINED;
        return;
      case 'bigint':
        this.bigint(v);
        return;
      case 'object':
        break;
      default:
        throw new TypeError(`peer codec: cannot encode a ${typeof v}`);
    }
    if (v === null) {
      this.ensure(1);
      this.buf[this.pos++] = T_NULL;
      return;
    }
    if (depth > DEFAULT_PEER_DECODE_LIMITS.maxDepth) throw new TypeError('peer codec: value nested too deeply');
    if (v instanceof Uint8Array) {
      this.ensure(1);
      this.buf[this.pos++] = T_BYTES;
      this.varuint(v.length);
      this.ensure(v.length);
      this.buf.set(v, this.pos);
      this.pos += v.length;
      return;
    }
    if (Array.isArray(v)) {
      this.ensure(1);
      this.buf[this.pos++] = T_ARRAY;
      this.varuint(v.length);
      for (let i = 0; i < v.length; i++) this.value(v[i], depth + 1);
      return;
    }
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      throw new TypeError(`peer codec: cannot encode an instance of ${(v as object).constructor?.name ?? 'an unknown class'}`);
    }
    const keys = Object.keys(v);
    this.ensure(1);
    this.buf[this.pos++] = T_OBJECT;
    this.varuint(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      this.string(key);
      this.value((v as Record<string, unknown>)[key], depth + 1);
    }
  }

  number(v: number): void {
    if ((v | 0) === v && (v !== 0 || 1 / v > 0)) {
      if (v >= 0 && v < 128) {
        this.ensure(1);
        this.buf[this.pos++] = T_FIXINT | v;
        return;
      }
      this.ensure(5);
      this.buf[this.pos] = T_INT32;
      this.view.setInt32(this.pos + 1, v, true);
      this.pos += 5;
      return;
    }
    if (v > 0 && v <= Number.MAX_SAFE_INTEGER && Number.isInteger(v)) {
      // hi:varuint (< 2^21) then lo:u32 little-endian; 32-bit ops only (zxids: 6 bytes).
      this.ensure(9);
      const buf = this.buf;
      let hi = Math.floor(v / 0x1_0000_0000);
      const lo = v >>> 0;
      buf[this.pos++] = T_UINT53;
      while (hi >= 0x80) {
        buf[this.pos++] = (hi & 0x7f) | 0x80;
        hi >>>= 7;
      }
      buf[this.pos++] = hi;
      this.view.setUint32(this.pos, lo, true);
      this.pos += 4;
      return;
    }
    this.ensure(9);
    this.buf[this.pos] = T_FLOAT64;
    this.view.setFloat64(this.pos + 1, v, true);
    this.pos += 9;
  }

  bigint(v: bigint): void {
    if (v >= INT64_MIN && v <= INT64_MAX) {
      this.ensure(9);
      this.buf[this.pos] = T_INT64;
      this.view.setBigInt64(this.pos + 1, v, true);
      this.pos += 9;
      return;
    }
    const negative = v < 0n;
    let mag = negative ? -v : v;
    const bytes: number[] = [];
    while (mag > 0n) {
      bytes.push(Number(mag & 0xffn));
      mag >>= 8n;
    }
    this.ensure(2);
    this.buf[this.pos++] = T_BIGINT;
    this.buf[this.pos++] = negative ? 1 : 0;
    this.varuint(bytes.length);
    this.ensure(bytes.length);
    for (const b of bytes) this.buf[this.pos++] = b;
  }

  string(s: string): void {
    const len = s.length;
    if (len <= INTERN_MAX) {
      const ref = this.strings.get(s);
      if (ref !== undefined) {
        this.ensure(1);
        this.buf[this.pos++] = T_STRING_REF;
        this.varuint(ref);
        return;
      }
      this.strings.set(s, this.strings.size);
      // At most 3 bytes per UTF-16 unit, so the length fits one varuint byte (≤ 127 would
      // need len ≤ 42); reserve 2 bytes to cover up to 192.
      this.ensure(3 + len * 3);
      const buf = this.buf;
      const start = this.pos + 3;
      let p = start;
      for (let i = 0; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) {
          p = start + textEncoder.encodeInto(s, buf.subarray(start)).written;
          break;
        }
        buf[p++] = c;
      }
      const n = p - start;
      buf[this.pos] = T_STRING;
      if (n < 0x80) {
        buf[this.pos + 1] = n;
        buf.copyWithin(this.pos + 2, start, p);
        this.pos = p - 1;
      } else {
        buf[this.pos + 1] = (n & 0x7f) | 0x80;
        buf[this.pos + 2] = n >>> 7;
        this.pos = p;
      }
      return;
    }
    const n = Buffer.byteLength(s, 'utf8');
    this.ensure(1);
    this.buf[this.pos++] = T_STRING;
    this.varuint(n);
    this.ensure(n);
    this.pos += textEncoder.encodeInto(s, this.buf.subarray(this.pos)).written;
  }
}

const SCRATCH_KEEP = 1 << 20;
let scratch = new Writer(64 * 1024);

function encodeWith(prefix: number, fill: (w: Writer) => void): Uint8Array {
  const w = scratch;
  w.reset();
  w.ensure(prefix);
  w.buf.fill(0, 0, prefix);
  w.pos = prefix;
  try {
    fill(w);
    return w.buf.slice(0, w.pos);
  } finally {
    // Do not keep a huge buffer around after a snapshot chunk went through.
    if (w.buf.length > SCRATCH_KEEP) scratch = new Writer(64 * 1024);
    w.strings.clear();
  }
}

/**
 * Encode a batch of peer messages. Throws TypeError for a value outside the plain-data
 * model (a class instance, a function, a symbol), which is a programming error.
 * With `prefix > 0`, that many zero bytes are reserved at the start (for a frame header).
 */
export function encodePeerBatch(messages: readonly PeerMessage[], prefix = 0): Uint8Array {
  return encodeWith(prefix, (w) => {
    w.ensure(1);
    w.buf[w.pos++] = PEER_CODEC_VERSION;
    w.varuint(messages.length);
    for (let i = 0; i < messages.length; i++) w.value(messages[i], 1);
  });
}

/**
 * Encode several batches in one buffer (`version`, `batches:varuint`, then per batch
 * `count:varuint` and its messages), sharing one string table: what a transport posts
 * for one link in one tick. `prefix` reserves zero bytes at the start, as for
 * `encodePeerBatch`.
 */
export function encodePeerBatches(batches: readonly (readonly PeerMessage[])[], prefix = 0): Uint8Array {
  return encodeWith(prefix, (w) => {
    w.ensure(1);
    w.buf[w.pos++] = PEER_CODEC_VERSION;
    w.varuint(batches.length);
    for (let b = 0; b < batches.length; b++) {
      const messages = batches[b]!;
      w.varuint(messages.length);
      for (let i = 0; i < messages.length; i++) w.value(messages[i], 1);
    }
  });
}

/** Encode one plain-data value (same format, with the version byte and no count). */
export function encodePlain(value: unknown): Uint8Array {
  return encodeWith(0, (w) => {
    w.ensure(1);
    w.buf[w.pos++] = PEER_CODEC_VERSION;
    w.value(value, 1);
  });
}

// ------------------------------------------------------------------ decoding

const textDecoder = new TextDecoder('utf-8', { fatal: true });

class Reader {
  readonly buf: Uint8Array;
  readonly view: DataView;
  pos: number;
  readonly end: number;
  valuesLeft: number;
  readonly maxDepth: number;
  readonly maxBigIntBytes: number;
  readonly strings: string[] = [];

  constructor(bytes: Uint8Array, limits: Required<PeerDecodeLimits>) {
    this.buf = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = 0;
    this.end = bytes.length;
    this.valuesLeft = limits.maxValues;
    this.maxDepth = limits.maxDepth;
    this.maxBigIntBytes = limits.maxBigIntBytes;
  }

  fail(what: string): never {
    throw new DecodeError(`peer codec: ${what} at byte ${this.pos}`);
  }

  need(n: number): void {
    if (n > this.end - this.pos) this.fail(`truncated (needs ${n} bytes, ${this.end - this.pos} left)`);
  }

  byte(): number {
    if (this.pos >= this.end) this.fail('truncated');
    return this.buf[this.pos++]!;
  }

  varuint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      if (shift === 28 && b > 0x0f) this.fail('varuint too large');
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return result;
      shift += 7;
    }
  }

  /** A count of items each taking at least one byte: bounded by the bytes left. */
  count(): number {
    const n = this.varuint();
    if (n > this.end - this.pos) this.fail(`count ${n} exceeds the ${this.end - this.pos} bytes left`);
    if (n > this.valuesLeft) this.fail('too many values');
    this.valuesLeft -= n;
    return n;
  }

  value(depth: number): unknown {
    const tag = this.byte();
    if (tag >= T_FIXINT) return tag & 0x7f;
    switch (tag) {
      case T_NULL:
        return null;
      case T_UNDEFINED:
        return undefined;
      case T_FALSE:
        return false;
      case T_TRUE:
        return true;
      case T_INT32: {
        this.need(4);
        const v = this.view.getInt32(this.pos, true);
        this.pos += 4;
        return v;
      }
      case T_FLOAT64: {
        this.need(8);
        const v = this.view.getFloat64(this.pos, true);
        this.pos += 8;
        return v;
      }
      case T_UINT53: {
        const hi = this.varuint();
        if (hi >= 0x20_0000) this.fail('integer out of the safe range');
        this.need(4);
        const lo = this.view.getUint32(this.pos, true);
        this.pos += 4;
        return hi * 0x1_0000_0000 + lo;
      }
      case T_INT64: {
        this.need(8);
        const v = this.view.getBigInt64(this.pos, true);
        this.pos += 8;
        return v;
      }
      case T_BIGINT:
        return this.bigint();
      case T_STRING:
        return this.stringBody();
      case T_STRING_REF:
        return this.stringRef();
      case T_BYTES: {
        const n = this.varuint();
        this.need(n);
        // A fresh Uint8Array (never a view: Buffer#slice would alias the frame).
        const v = new Uint8Array(n);
        v.set(this.buf.subarray(this.pos, this.pos + n));
        this.pos += n;
        return v;
      }
      case T_ARRAY: {
        if (depth >= this.maxDepth) this.fail('nesting too deep');
        const n = this.count();
        const out = new Array<unknown>(n);
        for (let i = 0; i < n; i++) out[i] = this.value(depth + 1);
        return out;
      }
      case T_OBJECT:
        if (depth >= this.maxDepth) this.fail('nesting too deep');
        return this.object(depth);
      default:
        return this.fail(`unknown tag 0x${tag.toString(16)}`);
    }
  }

  object(depth: number): Record<string, unknown> {
    const n = this.count();
    const out: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const tag = this.byte();
      let key: string;
      if (tag === T_STRING_REF) key = this.stringRef();
      else if (tag === T_STRING) key = this.stringBody();
      else this.fail(`object key with tag 0x${tag.toString(16)}`);
      if (key === '__proto__') this.fail('__proto__ key');
      out[key] = this.value(depth + 1);
    }
    return out;
  }

  stringRef(): string {
    const i = this.varuint();
    const s = this.strings[i];
    if (s === undefined) this.fail(`string reference ${i} out of range`);
    return s;
  }

  stringBody(): string {
    const n = this.varuint();
    this.need(n);
    const buf = this.buf;
    const start = this.pos;
    const end = start + n;
    let s: string | undefined;
    if (n <= INTERN_MAX) {
      let ascii = true;
      for (let i = start; i < end; i++) {
        if (buf[i]! >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) s = n === 0 ? '' : String.fromCharCode.apply(null, buf.subarray(start, end) as unknown as number[]);
    }
    if (s === undefined) {
      try {
        s = textDecoder.decode(buf.subarray(start, end));
      } catch {
        this.fail('invalid UTF-8');
      }
    }
    this.pos = end;
    if (s.length <= INTERN_MAX) this.strings.push(s);
    return s;
  }

  bigint(): bigint {
    const sign = this.byte();
    if (sign > 1) this.fail('bad bigint sign');
    const n = this.varuint();
    if (n > this.maxBigIntBytes) this.fail(`bigint of ${n} bytes`);
    this.need(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(this.buf[this.pos + i]!);
    this.pos += n;
    return sign ? -v : v;
  }
}

function reader(bytes: Uint8Array, limits: PeerDecodeLimits | undefined): Reader {
  const l = limits ? { ...DEFAULT_PEER_DECODE_LIMITS, ...limits } : DEFAULT_PEER_DECODE_LIMITS;
  if (!(bytes instanceof Uint8Array)) throw new DecodeError('peer codec: input is not bytes');
  if (bytes.length > l.maxBytes) throw new DecodeError(`peer codec: ${bytes.length} bytes exceed the limit of ${l.maxBytes}`);
  const r = new Reader(bytes, l);
  const version = r.byte();
  if (version !== PEER_CODEC_VERSION) r.fail(`unsupported version ${version}`);
  return r;
}

/**
 * Decode a batch of peer messages from untrusted bytes. Every message must be a plain
 * object whose `type` is a known peer message type; anything else (bad tags, lengths,
 * limits, trailing bytes) throws `DecodeError`.
 */
export function decodePeerBatch(bytes: Uint8Array, limits?: PeerDecodeLimits): PeerMessage[] {
  const r = reader(bytes, limits);
  const out = readMessages(r, limits?.maxMessages ?? DEFAULT_PEER_DECODE_LIMITS.maxMessages);
  if (r.pos !== r.end) r.fail(`${r.end - r.pos} trailing bytes`);
  return out;
}

/** Decode what `encodePeerBatches` wrote; the same checks as `decodePeerBatch`. */
export function decodePeerBatches(bytes: Uint8Array, limits?: PeerDecodeLimits): PeerMessage[][] {
  const r = reader(bytes, limits);
  let budget = limits?.maxMessages ?? DEFAULT_PEER_DECODE_LIMITS.maxMessages;
  const n = r.count();
  const out = new Array<PeerMessage[]>(n);
  for (let b = 0; b < n; b++) {
    const batch = readMessages(r, budget);
    budget -= batch.length;
    out[b] = batch;
  }
  if (r.pos !== r.end) r.fail(`${r.end - r.pos} trailing bytes`);
  return out;
}

function readMessages(r: Reader, max: number): PeerMessage[] {
  const n = r.count();
  if (n > max) r.fail(`${n} messages exceed the limit`);
  const out = new Array<PeerMessage>(n);
  for (let i = 0; i < n; i++) {
    if (r.buf[r.pos] !== T_OBJECT) r.fail(`message ${i} is not an object`);
    const m = r.value(0) as { type?: unknown };
    if (!isPeerMessageType(m.type)) r.fail(`message ${i} has unknown type ${JSON.stringify(String(m.type)).slice(0, 40)}`);
    out[i] = m as PeerMessage;
  }
  return out;
}

/** Decode one plain-data value written by `encodePlain`. */
export function decodePlain(bytes: Uint8Array, limits?: PeerDecodeLimits): unknown {
  const r = reader(bytes, limits);
  const v = r.value(0);
  if (r.pos !== r.end) r.fail(`${r.end - r.pos} trailing bytes`);
  return v;
}
