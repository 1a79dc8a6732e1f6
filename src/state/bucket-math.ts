/**
 * Token-bucket arithmetic shared by the memory backend and the per-IP limiter's in-process map
 * (the Redis backend runs the same steps in Lua, see redis-scripts.ts). A bucket holds at most
 * `burst` tokens and gains `ratePerSecond` per second; a request takes `cost` tokens.
 *
 * A bucket is stored as two numbers: the tokens it held at `updatedAt` (epoch milliseconds). A
 * bucket that has refilled to `burst` is the same as no bucket at all, which is what lets callers
 * drop full buckets freely (bounded maps, key expiry in Redis).
 */
export interface BucketShape {
  /** Tokens added per second (may be fractional: 100 per minute is 1.6667 per second). */
  readonly ratePerSecond: number;
  /** Most tokens the bucket holds: the largest burst admitted at once. */
  readonly burst: number;
}

export interface BucketState {
  tokens: number;
  /** Epoch milliseconds of the last update. */
  updatedAt: number;
}

/** What a take decided, with what the `RateLimit-*` headers and `Retry-After` need. */
export interface BucketDecision {
  readonly allowed: boolean;
  /** The limiting bucket's burst (`RateLimit-Limit`). */
  readonly limit: number;
  /** Whole tokens left after this take (`RateLimit-Remaining`), never below 0. */
  readonly remaining: number;
  /** Milliseconds until a refused take of the same cost could pass; 0 when allowed. */
  readonly retryAfterMs: number;
  /** Milliseconds until the bucket is full again (`RateLimit-Reset`). */
  readonly resetMs: number;
}

/** Tokens in the bucket at `now`: refilled since `updatedAt`, capped at burst. Negative = debt from a reconciliation. */
export function tokensAt(state: BucketState | undefined, shape: BucketShape, now: number): number {
  if (state === undefined) return shape.burst;
  const elapsedMs = now > state.updatedAt ? now - state.updatedAt : 0;
  const refilled = state.tokens + (elapsedMs * shape.ratePerSecond) / 1000;
  return refilled < shape.burst ? refilled : shape.burst;
}

/** Milliseconds for a bucket holding `tokens` to reach `target` tokens. */
export function msUntil(tokens: number, target: number, shape: BucketShape): number {
  return tokens >= target ? 0 : Math.ceil(((target - tokens) * 1000) / shape.ratePerSecond);
}

/**
 * Decides one take of `cost` tokens from a bucket at `now`; the caller stores `tokensAt − cost`
 * when allowed (refused: nothing changes). A cost above the burst can never be met, so it is capped
 * at the burst: such a request passes only when the bucket is full, instead of being refused forever.
 */
export function decideTake(state: BucketState | undefined, shape: BucketShape, cost: number, now: number): BucketDecision {
  const tokens = tokensAt(state, shape, now);
  const needed = cost < shape.burst ? cost : shape.burst;
  if (tokens >= needed) {
    const left = tokens - needed;
    return { allowed: true, limit: shape.burst, remaining: Math.floor(left), retryAfterMs: 0, resetMs: msUntil(left, shape.burst, shape) };
  }
  return {
    allowed: false,
    limit: shape.burst,
    remaining: Math.max(0, Math.floor(tokens)),
    retryAfterMs: msUntil(tokens, needed, shape),
    resetMs: msUntil(tokens, shape.burst, shape),
  };
}
