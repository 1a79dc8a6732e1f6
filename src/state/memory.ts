import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { decideTake, tokensAt, type BucketDecision, type BucketShape, type BucketState } from './bucket-math.js';
import { banChannel, type BucketTake, type IpBan, type SyncBuckets, type LockLease, type StateBackend, type StateMessageListener } from './types.js';

export interface MemoryStateOptions {
  /** Clock in epoch milliseconds; injected so tests can expire locks without sleeping. */
  now?: () => number;
  /**
   * Upper bound of live keys (values + counters + locks). Expired entries are swept first; if the
   * map is still full, the oldest entries go. Bounded so a key derived from client input (an IP)
   * cannot grow the map without limit.
   */
  maxEntries?: number;
}

/** A bucket with the shape it was last used with (eviction judges fullness without its caller). */
type StoredBucket = BucketState & { burst: number; ratePerSecond: number };

interface Entry {
  value: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

/**
 * Single-process state. Locks here only exclude callers inside this process: correct for one
 * replica, and the reference behaviour the Redis backend is tested against.
 */
export class MemoryStateBackend implements StateBackend {
  readonly kind = 'memory' as const;
  private readonly entries = new Map<string, Entry>();
  /** Token buckets, kept apart from the string entries (two numbers each, no parsing per take). */
  private readonly buckets = new Map<string, StoredBucket>();
  private readonly emitter = new EventEmitter();
  private readonly now: () => number;
  private readonly maxEntries: number;

  constructor(options: MemoryStateOptions = {}) {
    this.now = options.now ?? Date.now;
    this.maxEntries = options.maxEntries ?? 100_000;
    this.emitter.setMaxListeners(0); // many requests may wait on one credential's refresh
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private put(key: string, value: string, ttlMs: number): void {
    this.entries.delete(key); // re-insert: Map order doubles as age order for eviction
    if (this.entries.size >= this.maxEntries) this.evict();
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs });
  }

  private evict(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
    for (const key of this.entries.keys()) {
      if (this.entries.size < this.maxEntries) break;
      this.entries.delete(key);
    }
  }

  tryLock(name: string, ttlMs: number): Promise<LockLease | undefined> {
    const key = `lock:${name}`;
    if (this.live(key) !== undefined) return Promise.resolve(undefined);
    const owner = randomBytes(16).toString('hex');
    this.put(key, owner, ttlMs);
    return Promise.resolve({ name, owner, ttlMs });
  }

  unlock(lease: LockLease): Promise<boolean> {
    const key = `lock:${lease.name}`;
    const entry = this.live(key);
    if (entry === undefined || entry.value !== lease.owner) return Promise.resolve(false);
    this.entries.delete(key);
    return Promise.resolve(true);
  }

  isLocked(name: string): Promise<boolean> {
    return Promise.resolve(this.live(`lock:${name}`) !== undefined);
  }

  setValue(key: string, value: string, ttlMs: number): Promise<void> {
    this.put(`value:${key}`, value, ttlMs);
    return Promise.resolve();
  }

  getValue(key: string): Promise<string | undefined> {
    return Promise.resolve(this.live(`value:${key}`)?.value);
  }

  deleteKeys(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      this.entries.delete(`value:${key}`);
      this.entries.delete(`counter:${key}`);
    }
    return Promise.resolve();
  }

  increment(key: string, amount: number, windowMs: number): Promise<number> {
    const entryKey = `counter:${key}`;
    const entry = this.live(entryKey);
    if (entry === undefined) {
      this.put(entryKey, String(amount), windowMs);
      return Promise.resolve(amount);
    }
    const total = Number(entry.value) + amount;
    entry.value = String(total);
    return Promise.resolve(total);
  }

  takeTokens(takes: readonly BucketTake[]): Promise<BucketDecision> {
    return Promise.resolve(this.syncBuckets.takeTokens(takes));
  }

  adjustTokens(key: string, shape: BucketShape, delta: number): Promise<void> {
    this.syncBuckets.adjustTokens(key, shape, delta);
    return Promise.resolve();
  }

  /** The buckets answered synchronously (StateBackend.syncBuckets): they live in this process. */
  readonly syncBuckets: SyncBuckets = {
    takeTokens: (takes) => this.takeNow(takes),
    adjustTokens: (key, shape, delta) => this.adjustNow(key, shape, delta),
  };

  private takeNow(takes: readonly BucketTake[]): BucketDecision {
    const now = this.now();
    // Decide every bucket first (nothing is taken unless all allow), then take from each.
    let chosen: BucketDecision | undefined;
    for (const take of takes) {
      const decision = decideTake(this.buckets.get(take.key), take.shape, take.cost, now);
      if (!decision.allowed) return decision;
      if (chosen === undefined || decision.remaining / decision.limit < chosen.remaining / chosen.limit) chosen = decision;
    }
    for (const take of takes) {
      const bucket = this.buckets.get(take.key);
      const tokens = tokensAt(bucket, take.shape, now) - Math.min(take.cost, take.shape.burst);
      this.storeBucket(take.key, take.shape, bucket, tokens, now);
    }
    return chosen ?? { allowed: true, limit: 0, remaining: 0, retryAfterMs: 0, resetMs: 0 };
  }

  private adjustNow(key: string, shape: BucketShape, delta: number): void {
    const now = this.now();
    const bucket = this.buckets.get(key);
    this.storeBucket(key, shape, bucket, Math.min(tokensAt(bucket, shape, now) + delta, shape.burst), now);
  }

  /**
   * Stores a bucket's new level, updating the live bucket object in place (no delete, no new object
   * per request), or drops it when full (the same as absent). Bounded like the entries: when a new
   * bucket would pass the bound, full buckets go first, then the least recently updated ones.
   */
  private storeBucket(key: string, shape: BucketShape, bucket: StoredBucket | undefined, tokens: number, now: number): void {
    if (tokens >= shape.burst) {
      if (bucket !== undefined) this.buckets.delete(key);
      return;
    }
    if (bucket !== undefined) {
      bucket.tokens = tokens;
      bucket.updatedAt = now;
      bucket.burst = shape.burst;
      bucket.ratePerSecond = shape.ratePerSecond;
      return;
    }
    if (this.buckets.size >= this.maxEntries) this.evictBuckets(now);
    this.buckets.set(key, { tokens, updatedAt: now, burst: shape.burst, ratePerSecond: shape.ratePerSecond });
  }

  /** Makes room for one bucket: the full ones go, then the least recently updated until below the bound. */
  private evictBuckets(now: number): void {
    for (const [oldKey, old] of this.buckets) if (tokensAt(old, old, now) >= old.burst) this.buckets.delete(oldKey);
    if (this.buckets.size < this.maxEntries) return;
    const byAge = [...this.buckets].sort((first, second) => first[1].updatedAt - second[1].updatedAt);
    for (const [oldKey] of byAge) {
      if (this.buckets.size < this.maxEntries) break;
      this.buckets.delete(oldKey);
    }
  }

  ban(address: string, ttlMs: number): Promise<void> {
    const until = this.now() + ttlMs;
    this.put(`ban:${address}`, String(until), ttlMs);
    return this.publish(banChannel, `${address} ${until}`);
  }

  unban(address: string): Promise<boolean> {
    const existed = this.live(`ban:${address}`) !== undefined;
    this.entries.delete(`ban:${address}`);
    return this.publish(banChannel, `${address} 0`).then(() => existed);
  }

  listBans(): Promise<IpBan[]> {
    const now = this.now();
    const bans: IpBan[] = [];
    for (const [key, entry] of this.entries) {
      if (key.startsWith('ban:') && entry.expiresAt > now) bans.push({ address: key.slice(4), until: entry.expiresAt });
    }
    return Promise.resolve(bans);
  }

  publish(channel: string, message: string): Promise<void> {
    // Deferred like a network round trip, so a publisher never runs subscribers inside its own call stack.
    setImmediate(() => this.emitter.emit(channel, message));
    return Promise.resolve();
  }

  subscribe(channel: string, listener: StateMessageListener): Promise<() => Promise<void>> {
    this.emitter.on(channel, listener);
    return Promise.resolve(() => {
      this.emitter.off(channel, listener);
      return Promise.resolve();
    });
  }

  close(): Promise<void> {
    this.entries.clear();
    this.buckets.clear();
    this.emitter.removeAllListeners();
    return Promise.resolve();
  }
}
