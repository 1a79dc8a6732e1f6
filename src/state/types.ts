import type { BucketDecision, BucketShape } from './bucket-math.js';

/**
 * Shared state between replicas: one small interface, two backends (memory.ts for a single
 * process, redis.ts for several replicas). Kept to what the gateway needs:
 * - locks with a TTL and an owner token (only one replica refreshes an OAuth credential),
 * - short-lived values and messages (a replica announces "credential X refreshed"; the others
 *   re-read the encrypted store: tokens themselves never go into the shared state),
 * - windowed counters (alert windows),
 * - token buckets taken all-or-nothing and adjusted afterwards (per-IP and per-provider limits; a
 *   token budget is a reservation: take the estimate, then adjust by estimate − real usage),
 * - expiring IP bans (the dynamic blocks the IP filter checks first), announced on `banChannel`.
 *
 * Names passed in are logical (`refresh:claude-1`); each backend adds its own namespace prefix.
 */
export interface LockLease {
  readonly name: string;
  /** Random per acquisition: release only deletes the lock while this owner still holds it. */
  readonly owner: string;
  /** Milliseconds the lock lives unless released first (a crashed owner frees it after this). */
  readonly ttlMs: number;
}

export type { BucketDecision, BucketShape } from './bucket-math.js';

/** One bucket of an all-or-nothing take. */
export interface BucketTake {
  readonly key: string;
  readonly shape: BucketShape;
  /** Tokens to take (1 for a request; a token estimate for a budget). */
  readonly cost: number;
}

/** Synchronous bucket operations (StateBackend.syncBuckets): the same contract as takeTokens / adjustTokens. */
export interface SyncBuckets {
  takeTokens(takes: readonly BucketTake[]): BucketDecision;
  adjustTokens(key: string, shape: BucketShape, delta: number): void;
}

export interface IpBan {
  /** A normalised address (net/ip-address.ts): IPv4 dotted, IPv6 as Node prints it. */
  readonly address: string;
  /** Epoch milliseconds when the ban ends. */
  readonly until: number;
}

/** Channel on which `ban` announces `<address> <until>` to every replica (their ban mirrors); `unban` announces `<address> 0`. */
export const banChannel = 'ip-bans';

export type StateMessageListener = (message: string) => void;

export interface StateBackend {
  /** `memory`: this process only; `redis`, `ipc` (a `serve --workers` worker asking the primary): shared by every process. */
  readonly kind: 'memory' | 'redis' | 'ipc';
  /** Takes the lock when free (or expired); undefined when another owner holds it. Never waits. */
  tryLock(name: string, ttlMs: number): Promise<LockLease | undefined>;
  /** Releases the lock only if `lease.owner` still holds it; false when it had expired or was taken over. */
  unlock(lease: LockLease): Promise<boolean>;
  /** Whether any owner holds the lock now. */
  isLocked(name: string): Promise<boolean>;
  /** Stores a value for `ttlMs` milliseconds. Values must never hold secrets. */
  setValue(key: string, value: string, ttlMs: number): Promise<void>;
  getValue(key: string): Promise<string | undefined>;
  deleteKeys(keys: readonly string[]): Promise<void>;
  /**
   * Adds `amount` to a counter whose window starts at its first increment and lasts `windowMs`
   * milliseconds; returns the new total. (Fixed window: cheap and good enough for RPM limits.)
   */
  increment(key: string, amount: number, windowMs: number): Promise<number>;
  /**
   * Takes `cost` tokens from every bucket, or from none when one lacks them (so a request refused
   * by its token budget does not spend a request slot). Atomic across replicas. The decision is the
   * refusing bucket's, or, when all allow, the one with the fewest tokens left relative to its burst.
   * Buckets are never stored full: a full bucket is the same as none (bounded memory).
   */
  takeTokens(takes: readonly BucketTake[]): Promise<BucketDecision>;
  /**
   * Adds `delta` tokens to a bucket (capped at its burst): positive returns an over-estimate,
   * negative charges usage beyond it and may leave the bucket in debt (below zero) until it refills.
   */
  adjustTokens(key: string, shape: BucketShape, delta: number): Promise<void>;
  /**
   * The same two bucket operations answered at once, for a backend that holds its buckets in this
   * process (memory.ts): the limiters call these when present, so a request pays no promise and no
   * microtask turn per bucket. Absent on the shared backends (Redis, the workers' IPC).
   */
  readonly syncBuckets?: SyncBuckets;
  /** Bans an address for `ttlMs` (a later ban of the same address replaces it) and announces it on `banChannel`. */
  ban(address: string, ttlMs: number): Promise<void>;
  /**
   * Lifts a ban (the management API's unblock) and announces `<address> 0` on `banChannel`, so every
   * replica's mirror drops it. True when a ban was in force.
   */
  unban(address: string): Promise<boolean>;
  /** Bans in force now, for a replica that starts or reconnects (its mirror then follows `banChannel`). */
  listBans(): Promise<IpBan[]>;
  /** Fire-and-forget message to every subscriber in every replica (at-most-once delivery). */
  publish(channel: string, message: string): Promise<void>;
  /** Resolves once the subscription is active; the returned function ends it. */
  subscribe(channel: string, listener: StateMessageListener): Promise<() => Promise<void>>;
  /** Closes connections; the backend is unusable afterwards. */
  close(): Promise<void>;
}
