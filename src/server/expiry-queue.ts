/**
 * Tick-bucketed expiry for objects (ZooKeeper's `ExpiryQueue`, as the session tracker
 * uses it, reference §9.1), keyed by the objects themselves: identity hashing is far
 * cheaper than hashing bigint session ids, and `touch` is a comparison when the bucket
 * did not change (the common case: many touches per tick).
 */

/** Where an entry sits (kept on the entry itself). */
export interface Expiring {
  /** The bucket (expiry time, ms) the entry sits in; 0 when not queued. */
  expiresAt: number;
}

/** Buckets of `tickTime` ms; an entry expires between `timeout` and `timeout + tickTime` after its last touch. */
export class ExpiryQueue<T extends Expiring> {
  private readonly buckets = new Map<number, Set<T>>();
  private count = 0;
  private nextBucket = 0;

  constructor(readonly tickTime: number) {}

  /** Number of queued entries. */
  get size(): number {
    return this.count;
  }

  /** The bucket `now + timeout` falls in. */
  bucketOf(now: number, timeout: number): number {
    return (Math.floor((now + timeout) / this.tickTime) + 1) * this.tickTime;
  }

  /** (Re)queue `entry` to expire `timeout` after `now`. */
  touch(entry: T, now: number, timeout: number): void {
    const expiresAt = this.bucketOf(now, timeout);
    if (expiresAt === entry.expiresAt) return;
    if (entry.expiresAt !== 0) this.buckets.get(entry.expiresAt)?.delete(entry);
    else {
      if (this.count === 0) this.nextBucket = this.bucketOf(now, 0); // start afresh: no lag behind the clock
      this.count++;
    }
    let bucket = this.buckets.get(expiresAt);
    if (bucket === undefined) this.buckets.set(expiresAt, (bucket = new Set()));
    bucket.add(entry);
    entry.expiresAt = expiresAt;
  }

  /** Stop tracking `entry`. */
  remove(entry: T): void {
    if (entry.expiresAt === 0) return;
    this.buckets.get(entry.expiresAt)?.delete(entry);
    entry.expiresAt = 0;
    this.count--;
  }

  /** When the next bucket ends, ms. */
  nextExpiration(): number {
    return this.nextBucket;
  }

  /** Remove and return every entry whose bucket ended at or before `now`. */
  takeExpired(now: number): T[] {
    const expired: T[] = [];
    while (this.nextBucket <= now && this.count > 0) {
      const bucket = this.buckets.get(this.nextBucket);
      if (bucket !== undefined) {
        this.buckets.delete(this.nextBucket);
        for (const entry of bucket) {
          entry.expiresAt = 0;
          this.count--;
          expired.push(entry);
        }
      }
      this.nextBucket += this.tickTime;
    }
    if (this.count === 0) this.buckets.clear();
    return expired;
  }
}
