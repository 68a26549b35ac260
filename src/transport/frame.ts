/**
 * Length-prefixed framing for stream sockets: `length:u32 big-endian` then `length`
 * bytes. The reader never allocates from a length it was told: an oversized prefix is
 * rejected before any buffering, and a large frame is assembled with one copy when its
 * last byte arrives (no quadratic re-concatenation).
 */

/** Bytes of the length prefix. */
export const FRAME_HEADER_BYTES = 4;

/** Why a stream cannot be framed. */
export class FrameError extends Error {}

/** Incremental frame parser for one connection. */
export class FrameReader {
  /** Maximum frame body in bytes; may be changed between frames (e.g. after a handshake). */
  maxFrameBytes: number;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private need = FRAME_HEADER_BYTES;

  constructor(maxFrameBytes: number) {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Bytes received but not yet part of a complete frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /**
   * Feed received bytes; `onFrame` is called for each complete frame body (a view valid
   * only during the call) and returns false to stop parsing (connection closed).
   * Throws FrameError for an oversized length prefix.
   */
  push(chunk: Buffer, onFrame: (body: Buffer) => boolean): void {
    if (this.buffered === 0) {
      this.parse(chunk, onFrame);
      return;
    }
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < this.need) return;
    const all = Buffer.concat(this.chunks, this.buffered);
    this.chunks = [];
    this.buffered = 0;
    this.parse(all, onFrame);
  }

  private parse(buf: Buffer, onFrame: (body: Buffer) => boolean): void {
    let off = 0;
    for (;;) {
      const remain = buf.length - off;
      if (remain < FRAME_HEADER_BYTES) {
        this.need = FRAME_HEADER_BYTES;
        break;
      }
      const len = buf.readUInt32BE(off);
      if (len > this.maxFrameBytes) throw new FrameError(`frame of ${len} bytes exceeds the limit of ${this.maxFrameBytes}`);
      if (remain < FRAME_HEADER_BYTES + len) {
        this.need = FRAME_HEADER_BYTES + len;
        break;
      }
      const body = buf.subarray(off + FRAME_HEADER_BYTES, off + FRAME_HEADER_BYTES + len);
      off += FRAME_HEADER_BYTES + len;
      if (!onFrame(body)) return;
    }
    if (off < buf.length) {
      this.chunks = [buf.subarray(off)];
      this.buffered = buf.length - off;
    }
  }
}

/** Write the length prefix into the first 4 bytes of `frame` (reserved by the encoder). */
export function sealFrame(frame: Uint8Array): Uint8Array {
  const body = frame.length - FRAME_HEADER_BYTES;
  frame[0] = body >>> 24;
  frame[1] = (body >>> 16) & 0xff;
  frame[2] = (body >>> 8) & 0xff;
  frame[3] = body & 0xff;
  return frame;
}
