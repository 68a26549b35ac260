/**
 * zxids: `(epoch << 32) | counter` (§16.1).
 *
 * zoostate keeps a zxid as a JavaScript `number`, not a `bigint`, because zxids sit on
 * every hot path (every stat, every proposal). A number holds integers exactly up to
 * 2^53, so epochs up to 2^21 (about two million leader changes) are exact; `makeZxid`
 * asserts that bound. On the wire a zxid is a signed 64-bit long: the codec converts
 * with `hi * 2^32 + lo`, which is exact for every value in that range including -1.
 */

/** A transaction id: epoch in the high 32 bits, counter in the low 32 bits. */
export type Zxid = number;

const TWO_32 = 0x1_0000_0000;

/** The largest epoch a `number` zxid represents exactly. */
export const MAX_EPOCH = 2 ** 21 - 1;

/** The largest counter before the leader must force a new epoch (ZOOKEEPER-1277). */
export const MAX_COUNTER = 0xffff_ffff;

/** Compose a zxid. */
export function makeZxid(epoch: number, counter: number): Zxid {
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > MAX_EPOCH) throw new RangeError(`epoch out of range: ${epoch}`);
  if (!Number.isInteger(counter) || counter < 0 || counter > MAX_COUNTER) throw new RangeError(`counter out of range: ${counter}`);
  return epoch * TWO_32 + counter;
}

/** The epoch half of a zxid. */
export function epochOf(zxid: Zxid): number {
  return Math.floor(zxid / TWO_32);
}

/** The counter half of a zxid. */
export function counterOf(zxid: Zxid): number {
  return zxid - Math.floor(zxid / TWO_32) * TWO_32;
}

/** `0x<hex>` as ZooKeeper prints zxids (four-letter words, logs). */
export function formatZxid(zxid: Zxid): string {
  return zxid < 0 ? `-0x${(-zxid).toString(16)}` : `0x${zxid.toString(16)}`;
}
