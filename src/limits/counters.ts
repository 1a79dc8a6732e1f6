/**
 * Counts of what the network layer refused and of its state backend's failures: plain numbers a
 * metrics module can read (and tests assert on). One object per running gateway, created in
 * main.ts and handed to the hooks and limiters; increments are the only per-request cost.
 */
export interface NetworkCounters {
  /** Refused by a dynamic ban or the denylist (GW_IP_BLOCKED). */
  ipBlocked: number;
  /** Refused because the allowlist does not name the address (GW_IP_NOT_ALLOWED). */
  ipNotAllowed: number;
  /** Refused by the per-IP token bucket (GW_RATE_LIMITED). */
  ipRateLimited: number;
  /** Refused by a provider's request or token budget (GW_RATE_LIMITED). */
  providerRateLimited: number;
  /** Refused by a client key's rate limit, concurrency cap or token budget (GW_RATE_LIMITED, GW_KEY_BUDGET_EXCEEDED). */
  keyRateLimited: number;
  /** Limiter calls to the state backend that failed or timed out. */
  stateFailures: number;
  /** Limiter calls not sent because the backend's circuit was open; the kind's failure policy applied. */
  stateSkipped: number;
}

export function createNetworkCounters(): NetworkCounters {
  return { ipBlocked: 0, ipNotAllowed: 0, ipRateLimited: 0, providerRateLimited: 0, keyRateLimited: 0, stateFailures: 0, stateSkipped: 0 };
}
