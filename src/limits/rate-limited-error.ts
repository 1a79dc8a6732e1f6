import { GatewayError } from '../errors/gateway-error.js';

/** The numbers of a refused take (state/bucket-math.ts BucketDecision, or a provider refusal). */
export interface RefusedTake {
  readonly limit: number;
  readonly remaining: number;
  readonly retryAfterMs: number;
  readonly resetMs: number;
}

/**
 * 429 GW_RATE_LIMITED with `Retry-After` (whole seconds, at least 1: clients treat 0 as "now")
 * and `RateLimit-Limit` / `-Remaining` / `-Reset` (seconds until the bucket is full again).
 */
export function rateLimitedError(refused: RefusedTake, message?: string): GatewayError {
  return new GatewayError('GW_RATE_LIMITED', {
    retryAfterSeconds: Math.max(1, Math.ceil(refused.retryAfterMs / 1000)),
    rateLimit: { limit: refused.limit, remaining: refused.remaining, resetSeconds: Math.ceil(refused.resetMs / 1000) },
    ...(message === undefined ? {} : { message }),
  });
}
