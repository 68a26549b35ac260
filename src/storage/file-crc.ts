/**
 * CRC-32 (IEEE 802.3, as zlib's `crc32`), computed in JavaScript for the short ranges
 * of log records (no subarray object and no native call per record, which cost more
 * than the arithmetic), and by zlib for long ranges. Both give identical values.
 */
import { crc32 as zlibCrc32 } from 'node:zlib';

/** Slice-by-8 tables: table t maps a byte to its CRC contribution t bytes further on. */
const TABLE = new Int32Array(256 * 8);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c;
}
for (let n = 0; n < 256; n++) {
  let c = TABLE[n]!;
  for (let t = 1; t < 8; t++) {
    c = TABLE[c & 0xff]! ^ (c >>> 8);
    TABLE[t * 256 + n] = c;
  }
}

/** Above this many bytes zlib's native crc32 is faster than the loop below. */
const NATIVE_FROM = 256;

/** The CRC-32 of `buf[start, end)`, continuing from `crc` (0 to start). */
export function crc32(buf: Uint8Array, start = 0, end = buf.length, crc = 0): number {
  if (end - start >= NATIVE_FROM) return zlibCrc32(buf.subarray(start, end), crc);
  const t = TABLE;
  let c = ~crc;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    c ^= buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24);
    c =
      t[1792 + (c & 0xff)]! ^
      t[1536 + ((c >>> 8) & 0xff)]! ^
      t[1280 + ((c >>> 16) & 0xff)]! ^
      t[1024 + (c >>> 24)]! ^
      t[768 + buf[i + 4]!]! ^
      t[512 + buf[i + 5]!]! ^
      t[256 + buf[i + 6]!]! ^
      t[buf[i + 7]!]!;
  }
  for (; i < end; i++) c = t[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
