/**
 * Framing on the client port (reference §2, §15): every message is a 4-byte big-endian
 * length then that many bytes. `FrameDecoder` turns arbitrary TCP chunks into frame
 * payloads; `fourLetterWordOf` recognises a four-letter-word command in the first 4 bytes
 * of a connection that has not done the handshake.
 */
import { DEFAULT_MAX_BUFFER } from './constants.js';
import { DecodeError } from './errors.js';

const EMPTY = new Uint8Array(0);
/** A frame spanning chunks up to this size gets its buffer at once; larger ones when complete. */
const EAGER_ALLOCATION = 64 * 1024;

/** Options of a `FrameDecoder`. */
export interface FrameDecoderOptions {
  /** Largest frame length accepted (default `DEFAULT_MAX_BUFFER`, jute.maxbuffer). */
  maxBuffer?: number;
}

/**
 * Splits a byte stream into frame payloads.
 *
 * Usage: `push(chunk)`, then call `next()` until it returns undefined. A payload that
 * lies inside one chunk is returned as a view of that chunk (no copy); only a frame that
 * spans chunks is copied into a buffer of its exact size (for frames over 64 KiB, once
 * all their bytes have arrived, so a claimed length alone never allocates). A length < 0 or > maxBuffer
 * throws a DecodeError, and every later call throws it again: close the connection.
 */
export class FrameDecoder {
  /** Largest frame length accepted. */
  readonly maxBuffer: number;
  private cur: Uint8Array = EMPTY;
  private pos = 0;
  private readonly lenBuf = new Uint8Array(4);
  private lenFilled = 0;
  /** A frame spanning chunks: its buffer when allocated up front (small frames) ... */
  private pending: Uint8Array | null = null;
  private pendingFilled = 0;
  /** ... or, for a large frame, the parts received so far, joined once complete. */
  private parts: Uint8Array[] | null = null;
  private partsLength = 0;
  private partsFilled = 0;
  private failure: DecodeError | undefined;
  private offset = 0;

  constructor(options?: FrameDecoderOptions) {
    this.maxBuffer = options?.maxBuffer ?? DEFAULT_MAX_BUFFER;
  }

  /** Bytes received but not yet returned in a frame. */
  get buffered(): number {
    return this.cur.length - this.pos + this.lenFilled + this.pendingFilled + this.partsFilled;
  }

  /** Add a chunk. Drain with `next()` first: unread bytes left over are concatenated with it (a copy). */
  push(chunk: Uint8Array): void {
    const rest = this.cur.length - this.pos;
    if (rest > 0) {
      const merged = Buffer.allocUnsafe(rest + chunk.length);
      merged.set(this.cur.subarray(this.pos), 0);
      merged.set(chunk, rest);
      this.cur = merged;
    } else {
      this.cur = chunk;
    }
    this.pos = 0;
  }

  /** The next complete frame payload, or undefined if more bytes are needed. */
  next(): Uint8Array | undefined {
    if (this.failure !== undefined) throw this.failure;
    const cur = this.cur;
    let pos = this.pos;
    let avail = cur.length - pos;

    const pending = this.pending;
    if (pending !== null) {
      const n = Math.min(pending.length - this.pendingFilled, avail);
      pending.set(cur.subarray(pos, pos + n), this.pendingFilled);
      this.pendingFilled += n;
      this.pos = pos + n;
      if (this.pendingFilled < pending.length) return undefined;
      this.pending = null;
      this.pendingFilled = 0;
      this.offset += pending.length;
      return pending;
    }

    if (this.parts !== null) return this.nextPart(cur, pos, avail);

    let len: number;
    if (this.lenFilled === 0 && avail >= 4) {
      len = (cur[pos]! << 24) | (cur[pos + 1]! << 16) | (cur[pos + 2]! << 8) | cur[pos + 3]!;
      pos += 4;
      avail -= 4;
    } else {
      // A length prefix split across chunks: collect it in lenBuf.
      const n = Math.min(4 - this.lenFilled, avail);
      for (let i = 0; i < n; i++) this.lenBuf[this.lenFilled + i] = cur[pos + i]!;
      this.lenFilled += n;
      pos += n;
      avail -= n;
      this.pos = pos;
      if (this.lenFilled < 4) return undefined;
      const b = this.lenBuf;
      len = (b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!;
      this.lenFilled = 0;
    }
    if (len < 0 || len > this.maxBuffer) {
      this.failure = new DecodeError(`frame length ${len} out of range [0, ${this.maxBuffer}] at stream offset ${this.offset}`);
      this.pos = pos;
      throw this.failure;
    }
    this.offset += 4;
    if (avail >= len) {
      this.pos = pos + len;
      this.offset += len;
      return cur.subarray(pos, pos + len);
    }
    if (len > EAGER_ALLOCATION) {
      // Allocate only for bytes that actually arrived: a peer claiming a large frame and
      // sending nothing costs nothing.
      this.parts = [];
      this.partsLength = len;
      this.partsFilled = 0;
      return this.nextPart(cur, pos, avail);
    }
    const frame = Buffer.allocUnsafe(len);
    frame.set(cur.subarray(pos), 0);
    this.pending = frame;
    this.pendingFilled = avail;
    this.pos = cur.length;
    return undefined;
  }

  private nextPart(cur: Uint8Array, pos: number, avail: number): Uint8Array | undefined {
    const parts = this.parts!;
    const n = Math.min(this.partsLength - this.partsFilled, avail);
    if (n > 0) parts.push(cur.subarray(pos, pos + n));
    this.partsFilled += n;
    this.pos = pos + n;
    if (this.partsFilled < this.partsLength) return undefined;
    const frame = Buffer.allocUnsafe(this.partsLength);
    let at = 0;
    for (const part of parts) {
      frame.set(part, at);
      at += part.length;
    }
    this.parts = null;
    this.offset += this.partsLength;
    this.partsLength = 0;
    this.partsFilled = 0;
    return frame;
  }

  /**
   * The next `n` raw bytes without consuming them, or undefined if fewer are buffered.
   * For the four-letter-word check at the start of a connection: call before any `next()`.
   */
  peek(n: number): Uint8Array | undefined {
    this.assertRaw();
    return this.cur.length - this.pos >= n ? this.cur.subarray(this.pos, this.pos + n) : undefined;
  }

  /** Consume `n` raw bytes (e.g. a four-letter word and stmk's 8-byte argument), or undefined if fewer are buffered. */
  take(n: number): Uint8Array | undefined {
    const bytes = this.peek(n);
    if (bytes !== undefined) {
      this.pos += n;
      this.offset += n;
    }
    return bytes;
  }

  private assertRaw(): void {
    if (this.pending !== null || this.parts !== null || this.lenFilled !== 0) throw new Error('FrameDecoder.peek/take: a frame is partially read');
  }
}

/** The name `fourLetterWordOf` returns for the telnet close sequence `0xfff4fffd`. */
export const TELNET_CLOSE = 'telnet close';

/** The four-letter-word commands of ZooKeeper 3.8 (§15). */
export const FOUR_LETTER_WORDS: readonly string[] = Object.freeze([
  'conf', 'cons', 'crst', 'dirs', 'dump', 'envi', 'gtmk', 'ruok', 'stmk', 'srst',
  'srvr', 'stat', 'wchc', 'wchp', 'wchs', 'mntr', 'isro', 'hash',
]);

const wordByCode = new Map<number, string>();
for (const word of FOUR_LETTER_WORDS) {
  wordByCode.set(((word.charCodeAt(0) << 24) | (word.charCodeAt(1) << 16) | (word.charCodeAt(2) << 8) | word.charCodeAt(3)) | 0, word);
}
wordByCode.set(0xfff4fffd | 0, TELNET_CLOSE);

/**
 * The four-letter word whose ASCII code equals the first 4 bytes of a connection, the
 * `TELNET_CLOSE` name for `ff f4 ff fd`, or undefined (then the bytes are a frame length).
 * Only meaningful before the handshake.
 */
export function fourLetterWordOf(first4: Uint8Array): string | undefined {
  if (first4.length < 4) return undefined;
  return wordByCode.get((first4[0]! << 24) | (first4[1]! << 16) | (first4[2]! << 8) | first4[3]!);
}

/** Raw bytes a four-letter word reads after its 4 bytes: 8 (a long trace mask) for `stmk`, else 0. */
export function fourLetterWordArgumentBytes(word: string): number {
  return word === 'stmk' ? 8 : 0;
}
