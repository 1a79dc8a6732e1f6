import { msUntil, type BucketDecision, type BucketShape } from '../state/bucket-math.js';

interface LocalBucket {
  tokens: number;
  /** Epoch milliseconds of the last take. */
  updatedAt: number;
}

/**
 * In-process token buckets keyed by client (IPv4 address or IPv6 /64), bounded. The per-request
 * path is one Map lookup and a few arithmetic operations on a mutable entry: no allocation for a
 * known client, no promise, no reordering.
 *
 * Bounded without hurting real clients (DESIGN.md principle 4, the IPv6 spray):
 * - a bucket that has refilled to its burst is the same as no bucket, so dropping it loses
 *   nothing. A new key first looks at the few oldest entries (insertion order) and drops the full
 *   ones; an entry still in use is moved to the back (second chance), so the scan stays short;
 * - when the map is at `maxEntries` and the oldest entries are all still draining (a spray faster
 *   than buckets refill), the new key gets no bucket of its own but shares one overflow bucket
 *   with every other newcomer. Clients already in the map keep their buckets: a spray can neither
 *   evict a real client (which would reset its limit) nor grow the map. Newcomers during such a
 *   spray share `burst` requests and the refill rate until the spray's buckets refill and go.
 */
export class LocalBuckets {
  private readonly buckets = new Map<string, LocalBucket>();
  /**
   * The keys in insertion order, as a ring (not Map iteration: after many deletions a Map's
   * iterator walks over the deleted slots from the start until the table is rebuilt, which under a
   * spray made each eviction cost thousands of steps).
   */
  private readonly order: string[];
  private head = 0;
  private readonly overflow: LocalBucket = { tokens: Number.POSITIVE_INFINITY, updatedAt: 0 };
  /** Old entries looked at per insertion when the map is full. */
  private static readonly scanSteps = 8;
  /**
   * While the map is full of draining buckets, a scan that freed nothing is not repeated before this
   * time (epoch ms): under a spray of a million new keys per second the scans then cost a few
   * thousand Map operations per second, not eight per request.
   */
  private nextScanAt = 0;

  constructor(private readonly maxEntries: number) {
    this.order = new Array<string>(maxEntries);
  }

  get size(): number {
    return this.buckets.size;
  }

  /** True when `key` may make one request now (and takes its token). */
  take(key: string, shape: BucketShape, now: number): boolean {
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = this.admitNewKey(key, shape, now);
      if (bucket === undefined) return this.takeFrom(this.overflow, shape, now);
    }
    return this.takeFrom(bucket, shape, now);
  }

  /** The numbers for a refused take's headers (computed only for refusals). */
  describe(key: string, shape: BucketShape, now: number): BucketDecision {
    const bucket = this.buckets.get(key) ?? this.overflow;
    const tokens = this.tokensNow(bucket, shape, now);
    return { allowed: false, limit: shape.burst, remaining: Math.max(0, Math.floor(tokens)), retryAfterMs: msUntil(tokens, 1, shape), resetMs: msUntil(tokens, shape.burst, shape) };
  }

  private tokensNow(bucket: LocalBucket, shape: BucketShape, now: number): number {
    const refilled = bucket.tokens + ((now - bucket.updatedAt) * shape.ratePerSecond) / 1000;
    return refilled < shape.burst ? refilled : shape.burst;
  }

  private takeFrom(bucket: LocalBucket, shape: BucketShape, now: number): boolean {
    const tokens = this.tokensNow(bucket, shape, now);
    if (tokens < 1) return false;
    bucket.tokens = tokens - 1;
    bucket.updatedAt = now;
    return true;
  }

  private admitNewKey(key: string, shape: BucketShape, now: number): LocalBucket | undefined {
    const { maxEntries, order } = this;
    if (this.buckets.size >= maxEntries) {
      if (now < this.nextScanAt) return undefined;
      let freed = false;
      for (let step = 0; step < LocalBuckets.scanSteps && !freed; step += 1) {
        const oldKey = order[this.head]!;
        const old = this.buckets.get(oldKey)!;
        if (this.tokensNow(old, shape, now) >= shape.burst) {
          this.buckets.delete(oldKey);
          freed = true;
          // The freed slot is at the head; the new key goes there and becomes the newest.
        } else {
          // Still draining: a second chance. The ring is full, so the head moving on makes it the newest.
          this.head = (this.head + 1) % maxEntries;
        }
      }
      if (!freed) {
        this.nextScanAt = now + 1;
        return undefined;
      }
      const bucket: LocalBucket = { tokens: shape.burst, updatedAt: now };
      order[this.head] = key;
      this.head = (this.head + 1) % maxEntries;
      this.buckets.set(key, bucket);
      return bucket;
    }
    const bucket: LocalBucket = { tokens: shape.burst, updatedAt: now };
    order[(this.head + this.buckets.size) % maxEntries] = key;
    this.buckets.set(key, bucket);
    return bucket;
  }
}
