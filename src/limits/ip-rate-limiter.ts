import type { BucketDecision, BucketShape } from '../state/bucket-math.js';
import type { StateBackend } from '../state/types.js';
import { LocalBuckets } from './local-buckets.js';
import { stateUnavailable, type StateGuard } from './state-guard.js';

/** `server.security.rate_limit`. */
export interface IpRateLimitConfig {
  readonly enabled: boolean;
  readonly requests_per_second: number;
  readonly burst: number;
}

/** 100,000 clients (IPv4 addresses or IPv6 /64s) draining at once: about 10 MB of buckets. */
export const defaultMaxTrackedClients = 100_000;

export interface IpRateLimiterOptions {
  /** The shared backend (Redis); absent with `state.backend: memory`, where buckets stay in this process. */
  shared?: { state: StateBackend; guard: StateGuard };
  maxTrackedClients?: number;
  now?: () => number;
}

/**
 * The per-IP token bucket (before the client key, so an unauthenticated flood is cut cheaply).
 *
 * Memory backend: `takeLocal` is synchronous (local-buckets.ts). Redis backend: `takeShared` runs
 * one atomic script so every replica drains the same bucket; its failure policy is **fall back to
 * this process's buckets** (the limit then holds per replica, not across them): a Redis outage
 * neither opens the gateway to floods nor refuses every client.
 */
export class IpRateLimiter {
  private readonly local: LocalBuckets;
  private readonly now: () => number;
  readonly shared: IpRateLimiterOptions['shared'];
  private shapeCache: { config: IpRateLimitConfig; shape: BucketShape } | undefined;

  constructor(options: IpRateLimiterOptions = {}) {
    this.local = new LocalBuckets(options.maxTrackedClients ?? defaultMaxTrackedClients);
    this.now = options.now ?? Date.now;
    this.shared = options.shared;
  }

  /** Clients with a bucket in this process (for the memory-bound test and metrics). */
  get trackedClients(): number {
    return this.local.size;
  }

  /** The bucket shape of a config, built once per config object (a reload brings a new one). */
  shapeOf(config: IpRateLimitConfig): BucketShape {
    if (this.shapeCache?.config !== config) this.shapeCache = { config, shape: { ratePerSecond: config.requests_per_second, burst: config.burst } };
    return this.shapeCache.shape;
  }

  /** Undefined when allowed; the numbers for the 429 when refused. */
  takeLocal(key: string, shape: BucketShape): BucketDecision | undefined {
    const now = this.now();
    return this.local.take(key, shape, now) ? undefined : this.local.describe(key, shape, now);
  }

  async takeShared(key: string, shape: BucketShape): Promise<BucketDecision | undefined> {
    const shared = this.shared;
    if (shared === undefined) return this.takeLocal(key, shape);
    const decision = await shared.guard.run(() => shared.state.takeTokens([{ key: `ip:${key}`, shape, cost: 1 }]));
    if (decision === stateUnavailable) return this.takeLocal(key, shape);
    return decision.allowed ? undefined : decision;
  }
}
