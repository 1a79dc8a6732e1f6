/**
 * Shared state between replicas: one small interface, two backends (memory.ts for a single
 * process, redis.ts for several replicas). Kept to what the gateway needs:
 * - locks with a TTL and an owner token (only one replica refreshes an OAuth credential),
 * - short-lived values and messages (a replica announces "credential X refreshed"; the others
 *   re-read the encrypted store: tokens themselves never go into the shared state),
 * - windowed counters (the shape for per-key / per-provider limits and alert windows).
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

export type StateMessageListener = (message: string) => void;

export interface StateBackend {
  readonly kind: 'memory' | 'redis';
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
  /** Fire-and-forget message to every subscriber in every replica (at-most-once delivery). */
  publish(channel: string, message: string): Promise<void>;
  /** Resolves once the subscription is active; the returned function ends it. */
  subscribe(channel: string, listener: StateMessageListener): Promise<() => Promise<void>>;
  /** Closes connections; the backend is unusable afterwards. */
  close(): Promise<void>;
}
