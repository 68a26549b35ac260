/**
 * A small two-lane (2 × 32-bit) hash for the tree digest. Each lane is a murmur3-style
 * block mix with its own constants, finalised with murmur3's fmix32, so the pair acts as
 * a 64-bit hash that needs no bigint arithmetic. Not cryptographic: it detects replicas
 * that diverged, it does not resist an adversary.
 */

const C1 = 0xcc9e2d51 | 0;
const C2 = 0x1b873593 | 0;
const C3 = 0x85ebca6b | 0;
const C4 = 0xc2b2ae35 | 0;
const TWO_32 = 0x1_0000_0000;

/** One block of the low lane (murmur3's body step). */
export function mixLo(h: number, k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, C2);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** One block of the high lane: other constants and rotations, so the lanes differ. */
export function mixHi(h: number, k: number): number {
  k = Math.imul(k ^ 0x9e3779b9, C3);
  k = (k << 16) | (k >>> 16);
  h ^= Math.imul(k, C4);
  h = (h << 11) | (h >>> 21);
  return (Math.imul(h, 9) + 0x7f4a7c15) | 0;
}

/**
 * A reusable hashing state: `reset()`, feed words/numbers/strings/bytes, `finish()`, then
 * read `lo` and `hi` (signed 32-bit; callers treat them mod 2^32). One instance per tree
 * keeps the hot path free of allocations; loops work on locals for speed.
 */
export class Hasher {
  /** Low lane (after `finish`, the low 32 bits of the hash). */
  lo = 0;
  /** High lane (after `finish`, the high 32 bits of the hash). */
  hi = 0;
  private count = 0;

  /** Start a new hash. */
  reset(): void {
    this.lo = 0x5a17e3c1;
    this.hi = 0x2f6b9d07;
    this.count = 0;
  }

  /** Mix one 32-bit word into both lanes. */
  word(k: number): void {
    this.lo = mixLo(this.lo, k);
    this.hi = mixHi(this.hi, k);
    this.count++;
  }

  /** Mix an integer-valued number of up to 53 bits (zxids, times) as two words. */
  number(n: number): void {
    const low = n | 0; // ToInt32 keeps the low 32 bits of any integer below 2^53
    const high = Math.floor(n / TWO_32) | 0;
    this.lo = mixLo(mixLo(this.lo, low), high);
    this.hi = mixHi(mixHi(this.hi, low), high);
    this.count += 2;
  }

  /** Mix the UTF-16 code units of a string, then its length. */
  string(s: string): void {
    const n = s.length;
    let lo = this.lo;
    let hi = this.hi;
    let i = 0;
    for (; i + 1 < n; i += 2) {
      const k = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16);
      lo = mixLo(lo, k);
      hi = mixHi(hi, k);
    }
    const tail = i < n ? s.charCodeAt(i) : 0;
    lo = mixLo(mixLo(lo, tail), n);
    hi = mixHi(mixHi(hi, tail), n);
    this.lo = lo;
    this.hi = hi;
    this.count += (n >> 1) + 2;
  }

  /** Mix bytes four at a time, then the length; null differs from empty. */
  bytes(d: Uint8Array | null): void {
    if (d === null) {
      this.word(-1);
      return;
    }
    const n = d.length;
    let lo = this.lo;
    let hi = this.hi;
    let i = 0;
    for (; i + 3 < n; i += 4) {
      const k = d[i]! | (d[i + 1]! << 8) | (d[i + 2]! << 16) | (d[i + 3]! << 24);
      lo = mixLo(lo, k);
      hi = mixHi(hi, k);
    }
    let tail = 0;
    for (let shift = 0; i < n; i++, shift += 8) tail |= d[i]! << shift;
    lo = mixLo(mixLo(lo, tail), n);
    hi = mixHi(mixHi(hi, tail), n);
    this.lo = lo;
    this.hi = hi;
    this.count += (n >> 2) + 2;
  }

  /** Finalise both lanes (avalanche), leaving the result in `lo` and `hi`. */
  finish(): void {
    this.lo = fmix32(this.lo ^ this.count);
    this.hi = fmix32(this.hi ^ Math.imul(this.count, 0x27d4eb2f));
  }
}

/** murmur3's finaliser: full avalanche of a 32-bit state. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}
