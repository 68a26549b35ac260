/**
 * Chance, injected. Every random choice in zoostate (election jitter, host shuffling,
 * fault injection) draws from a `Random`, so a seeded run replays exactly.
 */
import { randomBytes } from 'node:crypto';

/** A source of uniformly distributed numbers. */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, maxExclusive). */
  int(maxExclusive: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** A new independent stream derived from this one (and `label`), for a sub-component. */
  fork(label?: string): Random;
}

/**
 * sfc32: a small, fast PRNG with a 128-bit state that passes PractRand; plenty for
 * simulation and jitter (never for secrets).
 */
class Sfc32 implements Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(a: number, b: number, c: number, d: number) {
    this.a = a | 0;
    this.b = b | 0;
    this.c = c | 0;
    this.d = d | 0;
    for (let i = 0; i < 12; i++) this.nextUint32(); // mix the seed in
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  next(): number {
    return this.nextUint32() / 0x1_0000_0000;
  }

  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }

  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  fork(label = ''): Random {
    let h = 0x811c9dc5; // FNV-1a of the label, mixed with fresh draws from this stream
    for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
    return new Sfc32(this.nextUint32() ^ h, this.nextUint32(), this.nextUint32(), this.nextUint32() ^ (h >>> 7));
  }
}

/** A deterministic stream from an integer seed: the same seed gives the same numbers. */
export function seededRandom(seed: number): Random {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 0x1_0000_0000) >>> 0;
  return new Sfc32(0x9e3779b9, lo, hi, 0x243f6a88 ^ lo);
}

/** A stream seeded from the operating system's entropy, for production use. */
export function systemRandom(): Random {
  const seed = randomBytes(16);
  return new Sfc32(seed.readUInt32LE(0), seed.readUInt32LE(4), seed.readUInt32LE(8), seed.readUInt32LE(12));
}
