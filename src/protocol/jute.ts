/**
 * Jute, ZooKeeper's binary record encoding (reference §1): big-endian two's complement
 * integers, length-prefixed buffers and UTF-8 strings where length -1 means null, and
 * count-prefixed vectors where count -1 means null. No tags, no padding.
 *
 * `JuteWriter` appends to one growing Buffer; `JuteReader` reads a byte range and checks
 * every length against the bytes left and against `maxBuffer` before it allocates
 * anything, so hostile input fails fast with a `DecodeError`.
 */
import { DEFAULT_MAX_BUFFER } from './constants.js';
import { DecodeError } from './errors.js';

const TWO_32 = 0x1_0000_0000;
const EMPTY = Buffer.alloc(0);

/** Strings up to this many UTF-16 units are encoded by a JS loop when they are ASCII (faster than a native call). */
const SHORT_STRING = 32;
/** Strings longer than this are measured exactly before writing, instead of reserving 3 bytes per unit. */
const LONG_STRING = 1024;
/** Strings up to this many bytes are decoded by a JS loop when they are ASCII. */
const SHORT_DECODE = 12;

/** Node's Buffer has unchecked `utf8Write`/`utf8Slice`; they skip `write`/`toString`'s argument parsing. */
interface FastUtf8 {
  utf8Write?(s: string, offset: number, max: number): number;
  utf8Slice?(start: number, end: number): string;
}
const fastUtf8 = Buffer.prototype as unknown as FastUtf8;
const utf8Write: (buf: Buffer, s: string, offset: number, max: number) => number =
  typeof fastUtf8.utf8Write === 'function'
    ? (buf, s, offset, max) => (buf as unknown as Required<FastUtf8>).utf8Write(s, offset, max)
    : (buf, s, offset, max) => buf.write(s, offset, max, 'utf8');
const utf8Slice: (buf: Buffer, start: number, end: number) => string =
  typeof fastUtf8.utf8Slice === 'function'
    ? (buf, start, end) => (buf as unknown as Required<FastUtf8>).utf8Slice(start, end)
    : (buf, start, end) => buf.toString('utf8', start, end);

// One-entry caches of the last non-zero long converted each way (bigints are immutable, so sharing is safe).
let lastWritten = 0n;
let lastWrittenHi = 0;
let lastWrittenLo = 0;
let lastRead = 0n;
let lastReadHi = 0;
let lastReadLo = 0;

/**
 * Appends jute values to a single growing Buffer (capacity doubles as needed).
 * `finish()` hands the bytes over and detaches them, so the writer can go on without
 * overwriting a buffer that is still queued on a socket. A long-lived writer batches
 * several frames into one socket write; `JuteWriter.forFrame` serves one-shot encodes.
 */
export class JuteWriter {
  private buf: Buffer;
  /** Where this writer's output starts in `buf` (non-zero only for the shared slab writer). */
  private start = 0;
  private pos = 0;
  private onSlab = false;

  /** @param initialCapacity bytes to allocate up front; an exact or upper-bound size avoids any regrowth. */
  constructor(initialCapacity = 256) {
    this.buf = initialCapacity > 0 ? Buffer.allocUnsafe(initialCapacity) : EMPTY;
  }

  /** Bytes written so far. */
  get length(): number {
    return this.pos - this.start;
  }

  /** Make room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const used = this.pos - this.start;
    let capacity = Math.max(used * 2, 64);
    while (capacity < used + n) capacity *= 2;
    const next = Buffer.allocUnsafe(capacity);
    this.buf.copy(next, 0, this.start, this.pos);
    this.buf = next;
    this.start = 0;
    this.pos = used;
    this.onSlab = false;
  }

  /** Write a 32-bit int (the low 32 bits of `v`). */
  writeInt(v: number): void {
    this.ensure(4);
    const b = this.buf;
    const p = this.pos;
    b[p] = v >>> 24;
    b[p + 1] = v >>> 16;
    b[p + 2] = v >>> 8;
    b[p + 3] = v;
    this.pos = p + 4;
  }

  /** Write a 64-bit long; negative values and values in [2^63, 2^64) give the same two's complement bytes. */
  writeLong(v: bigint): void {
    if (v === 0n) {
      this.writeInt(0);
      this.writeInt(0);
      return;
    }
    // Session ids repeat (every stat of a session's ephemerals): skip the BigInt arithmetic.
    if (v !== lastWritten) {
      lastWritten = v;
      lastWrittenHi = Number(BigInt.asIntN(32, v >> 32n));
      lastWrittenLo = Number(BigInt.asUintN(32, v));
    }
    this.writeInt(lastWrittenHi);
    this.writeInt(lastWrittenLo);
  }

  /** Write a long given as a `number` (zxids, times, TTLs): `hi * 2^32 + lo`, exact for |v| < 2^53. */
  writeZxid(v: number): void {
    const hi = Math.floor(v / TWO_32);
    this.writeInt(hi);
    this.writeInt(v - hi * TWO_32);
  }

  /** Write a boolean as one byte, 1 or 0. */
  writeBool(v: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }

  /** Write raw bytes with no length prefix. */
  writeBytes(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** Write a jute buffer: length then bytes; null as length -1. */
  writeBuffer(bytes: Uint8Array | null): void {
    if (bytes === null) {
      this.writeInt(-1);
      return;
    }
    this.writeInt(bytes.length);
    this.writeBytes(bytes);
  }

  /** Write a jute ustring: UTF-8 byte length then the bytes; null as length -1. */
  writeString(s: string | null): void {
    if (s === null) {
      this.writeInt(-1);
      return;
    }
    const n = s.length;
    if (n > LONG_STRING) {
      const len = Buffer.byteLength(s, 'utf8');
      this.writeInt(len);
      this.ensure(len);
      this.pos += utf8Write(this.buf, s, this.pos, len);
      return;
    }
    // Reserve the worst case (3 bytes per UTF-16 unit), write, then patch the length.
    this.ensure(4 + n * 3);
    const b = this.buf;
    const start = this.pos + 4;
    let len = -1;
    if (n <= SHORT_STRING) {
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[start + i] = c;
      }
      if (i === n) len = n;
    }
    if (len < 0) len = utf8Write(b, s, start, n * 3);
    const p = this.pos;
    b[p] = len >>> 24;
    b[p + 1] = len >>> 16;
    b[p + 2] = len >>> 8;
    b[p + 3] = len;
    this.pos = start + len;
  }

  /** Write a vector of strings; null as count -1. */
  writeStringVector(items: readonly string[] | null): void {
    if (items === null) {
      this.writeInt(-1);
      return;
    }
    this.writeInt(items.length);
    for (let i = 0; i < items.length; i++) this.writeString(items[i]!);
  }

  /** Write a vector with `writeItem` for each element; null as count -1. */
  writeVector<T>(items: readonly T[] | null, writeItem: (w: JuteWriter, item: T) => void): void {
    if (items === null) {
      this.writeInt(-1);
      return;
    }
    this.writeInt(items.length);
    for (let i = 0; i < items.length; i++) writeItem(this, items[i]!);
  }

  /** Reserve a 4-byte length prefix; returns its position for `patchLength`. */
  reserveLength(): number {
    this.ensure(4);
    const at = this.pos - this.start;
    this.pos += 4;
    return at;
  }

  /** Fill the prefix reserved at `at` with the number of bytes written after it. */
  patchLength(at: number): void {
    const p = this.start + at;
    const len = this.pos - p - 4;
    const b = this.buf;
    b[p] = len >>> 24;
    b[p + 1] = len >>> 16;
    b[p + 2] = len >>> 8;
    b[p + 3] = len;
  }

  /**
   * The bytes written, without copying when little capacity is wasted. The writer is
   * detached from them and starts empty, so it can be reused safely.
   */
  finish(): Uint8Array {
    const b = this.buf;
    const start = this.start;
    const end = this.pos;
    this.buf = EMPTY;
    this.start = 0;
    this.pos = 0;
    if (this.onSlab) {
      this.onSlab = false;
      slabOffset = (end + 7) & ~7;
      return b.subarray(start, end);
    }
    const len = end - start;
    if (start === 0 && len === b.length) return b;
    // Do not pin a large, mostly empty allocation for the lifetime of the result.
    if (b.length - len > 4096 && b.length > 2 * len) return Buffer.from(b.subarray(start, end));
    return b.subarray(start, end);
  }

  /** Discard everything written (keeps the current allocation). */
  reset(): void {
    this.pos = this.start;
  }

  /** Point this writer at `buf[start..]` (see `forFrame`). */
  private attach(buf: Buffer, start: number, onSlab: boolean): this {
    this.buf = buf;
    this.start = start;
    this.pos = start;
    this.onSlab = onSlab;
    return this;
  }

  /**
   * A writer for one frame of at most `bound` bytes, to be `finish()`ed before any other
   * call: the encode* functions use it so that encoding a frame costs a single view of a
   * shared 64 KiB slab (or one exact allocation for large frames) and no writer object.
   * Not reentrant; callers keeping a writer across calls use `new JuteWriter()`.
   */
  static forFrame(bound: number): JuteWriter {
    if (bound > SLAB_MAX_FRAME) return frameWriter.attach(Buffer.allocUnsafe(bound), 0, false);
    if (slabOffset + bound > SLAB_SIZE) {
      slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
      slabOffset = 0;
    }
    return frameWriter.attach(slab, slabOffset, true);
  }
}

/** The slab `JuteWriter.forFrame` carves frames from; frames are short-lived (until written to a socket). */
const SLAB_SIZE = 64 * 1024;
const SLAB_MAX_FRAME = 8 * 1024;
let slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
let slabOffset = 0;
const frameWriter = new JuteWriter(0);

/** Options of a `JuteReader`. */
export interface JuteReaderOptions {
  /** Largest buffer/string length accepted (default `DEFAULT_MAX_BUFFER`, jute.maxbuffer). */
  maxBuffer?: number;
  /**
   * Return buffers as views into the input instead of copies (default false). Views are
   * faster but keep the whole input (often a whole TCP chunk) alive while referenced, and
   * structured clone copies that whole input. By default each decoded buffer owns its
   * ArrayBuffer exactly (`buffer.byteLength === length`), safe to store, clone or transfer.
   */
  zeroCopy?: boolean;
}

/**
 * Reads jute values from `bytes[offset, end)`. Every read is bounds-checked; every
 * failure is a `DecodeError` naming what was read and at which offset.
 */
export class JuteReader {
  /** The input bytes (read between `offset` and `end`). */
  readonly bytes: Uint8Array;
  /** Current read position in `bytes`. */
  offset: number;
  /** End of the readable range in `bytes`. */
  readonly end: number;
  /** Largest buffer/string length accepted. */
  readonly maxBuffer: number;
  /** True if buffers are returned as views. */
  readonly zeroCopy: boolean;
  private readonly view: Buffer;

  constructor(bytes: Uint8Array, options?: JuteReaderOptions, offset = 0, end = bytes.length) {
    if (offset < 0 || end > bytes.length || offset > end) throw new RangeError(`bad reader range [${offset}, ${end}) of ${bytes.length}`);
    this.bytes = bytes;
    this.offset = offset;
    this.end = end;
    this.maxBuffer = options?.maxBuffer ?? DEFAULT_MAX_BUFFER;
    this.zeroCopy = options?.zeroCopy ?? false;
    this.view = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.end - this.offset;
  }

  /** A DecodeError for `what` at the current offset. */
  error(what: string, problem: string, at = this.offset): DecodeError {
    return new DecodeError(`${problem} while reading ${what} at offset ${at}`);
  }

  private truncated(what: string, need: number): DecodeError {
    return this.error(what, `truncated: need ${need} bytes, ${this.end - this.offset} left`);
  }

  /** Read a 32-bit signed int. */
  readInt(what = 'int'): number {
    const p = this.offset;
    if (this.end - p < 4) throw this.truncated(what, 4);
    const b = this.bytes;
    this.offset = p + 4;
    return (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
  }

  /** Read a 64-bit signed long as a bigint. */
  readLong(what = 'long'): bigint {
    const p = this.offset;
    if (this.end - p < 8) throw this.truncated(what, 8);
    const b = this.bytes;
    const hi = (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
    const lo = ((b[p + 4]! << 24) | (b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!) >>> 0;
    this.offset = p + 8;
    if (hi === 0 && lo === 0) return 0n;
    if (hi !== lastReadHi || lo !== lastReadLo) {
      lastReadHi = hi;
      lastReadLo = lo;
      lastRead = (BigInt(hi) << 32n) + BigInt(lo);
    }
    return lastRead;
  }

  /** Read a 64-bit long as a `number` (`hi * 2^32 + lo`): exact for |x| < 2^53, rounded beyond. */
  readZxid(what = 'long'): number {
    const p = this.offset;
    if (this.end - p < 8) throw this.truncated(what, 8);
    const b = this.bytes;
    const hi = (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
    const lo = ((b[p + 4]! << 24) | (b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!) >>> 0;
    this.offset = p + 8;
    return hi * TWO_32 + lo;
  }

  /** Read a boolean: any non-zero byte is true. */
  readBool(what = 'boolean'): boolean {
    const p = this.offset;
    if (p >= this.end) throw this.truncated(what, 1);
    this.offset = p + 1;
    return this.bytes[p] !== 0;
  }

  /** Read a length prefix; -1 stays -1, any other negative or too large length throws. */
  private readLength(what: string): number {
    const at = this.offset;
    const len = this.readInt(what);
    if (len < 0) {
      if (len === -1) return -1;
      throw this.error(what, `negative length ${len}`, at);
    }
    if (len > this.maxBuffer) throw this.error(what, `length ${len} exceeds maxBuffer ${this.maxBuffer}`, at);
    if (len > this.end - this.offset) throw this.error(what, `truncated: length ${len}, ${this.end - this.offset} bytes left`, at);
    return len;
  }

  /** Read a jute buffer (null for length -1): a copy owning its ArrayBuffer, or a view with `zeroCopy`. */
  readBuffer(what = 'buffer'): Uint8Array | null {
    const len = this.readLength(what);
    if (len < 0) return null;
    const start = this.offset;
    this.offset = start + len;
    if (this.zeroCopy) return this.bytes.subarray(start, start + len);
    const out = new Uint8Array(len);
    this.view.copy(out, 0, start, start + len);
    return out;
  }

  /** Read a jute ustring, null for length -1. */
  readUstring(what = 'ustring'): string | null {
    const len = this.readLength(what);
    if (len < 0) return null;
    const start = this.offset;
    const end = start + len;
    this.offset = end;
    if (len <= SHORT_DECODE) {
      const b = this.bytes;
      let s = '';
      let i = start;
      for (; i < end; i++) {
        const c = b[i]!;
        if (c >= 0x80) break;
        s += String.fromCharCode(c);
      }
      if (i === end) return s;
    }
    return utf8Slice(this.view, start, end);
  }

  /** Read a ustring, mapping null to '' (kazoo sends null for an empty string, §1). */
  readString(what = 'ustring'): string {
    return this.readUstring(what) ?? '';
  }

  /** Read a vector count: -1 for null; otherwise checked so that `count * minItemBytes` fits in what is left. */
  readVectorCount(what: string, minItemBytes: number): number {
    const at = this.offset;
    const count = this.readInt(what);
    if (count < 0) {
      if (count === -1) return -1;
      throw this.error(what, `negative count ${count}`, at);
    }
    if (count * minItemBytes > this.end - this.offset) {
      throw this.error(what, `count ${count} cannot fit in the ${this.end - this.offset} bytes left`, at);
    }
    return count;
  }

  /** Read a vector of strings (each null as ''); null vector as null. */
  readStringVectorOrNull(what = 'vector<ustring>'): string[] | null {
    const count = this.readVectorCount(what, 4);
    if (count < 0) return null;
    const out: string[] = [];
    for (let i = 0; i < count; i++) out.push(this.readString(what));
    return out;
  }

  /** Read a vector of strings, mapping a null vector to [] and null items to ''. */
  readStringVector(what = 'vector<ustring>'): string[] {
    return this.readStringVectorOrNull(what) ?? [];
  }

  /** Read a vector with `readItem`; `minItemBytes` bounds the count before anything is allocated. Null as null. */
  readVectorOrNull<T>(what: string, minItemBytes: number, readItem: (r: JuteReader) => T): T[] | null {
    const count = this.readVectorCount(what, minItemBytes);
    if (count < 0) return null;
    const out: T[] = [];
    for (let i = 0; i < count; i++) out.push(readItem(this));
    return out;
  }

  /** Like `readVectorOrNull`, mapping a null vector to []. */
  readVector<T>(what: string, minItemBytes: number, readItem: (r: JuteReader) => T): T[] {
    return this.readVectorOrNull(what, minItemBytes, readItem) ?? [];
  }
}
