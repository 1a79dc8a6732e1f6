import type { GatewayError } from '../errors/gateway-error.js';

/** Why a credential failed, as far as the pool cares. */
export type FailureKind = 'rate_limited' | 'auth_failed' | 'server_error' | 'timeout' | 'unreachable';

/** 30 minutes, in milliseconds: the longest any credential sits out. */
export const maxCooldownMs = 30 * 60 * 1000;
/** 1 second, in milliseconds: the first step of the 429 back-off when the upstream gave no Retry-After. */
export const rateLimitBaseCooldownMs = 1000;
/** 30 minutes, in milliseconds: a rejected key rarely heals by itself; an operator has to act. */
export const authFailedCooldownMs = 30 * 60 * 1000;
/** 60 seconds, in milliseconds: long enough for a flapping upstream node to recover. */
export const transientCooldownMs = 60 * 1000;

/**
 * How long (milliseconds) a credential sits out after a failure.
 * - rate_limited: the upstream's Retry-After (seconds) when given, else 1 s, 2 s, 4 s … doubling
 *   per consecutive failure; both capped at 30 min so a hostile or buggy header cannot bench a
 *   key for days.
 * - auth_failed: 30 min.
 * - server_error, timeout, unreachable: 60 s.
 * `consecutiveFailures` counts this failure too (1 for the first); values below 1 count as 1.
 */
export function cooldownMs(kind: FailureKind, consecutiveFailures: number, retryAfterSeconds?: number): number {
  switch (kind) {
    case 'rate_limited': {
      if (retryAfterSeconds !== undefined && Number.isFinite(retryAfterSeconds) && retryAfterSeconds >= 0) {
        return Math.min(retryAfterSeconds * 1000, maxCooldownMs);
      }
      // Exponent capped at 30 so 2 ** exponent stays a small exact integer whatever the count.
      const exponent = Math.min(Math.max(Math.floor(consecutiveFailures), 1) - 1, 30);
      return Math.min(rateLimitBaseCooldownMs * 2 ** exponent, maxCooldownMs);
    }
    case 'auth_failed':
      return authFailedCooldownMs;
    case 'server_error':
    case 'timeout':
    case 'unreachable':
      return transientCooldownMs;
  }
}

/**
 * Whether an error is the credential's (or its upstream's) fault, and which kind. Undefined means
 * the request itself was at fault (a 400, a client abort, a gateway bug): no cooldown, since
 * benching a healthy key for a bad request would let one client starve everyone.
 */
export function failureKindOf(error: GatewayError): FailureKind | undefined {
  switch (error.code) {
    case 'GW_UPSTREAM_RATE_LIMITED':
      return 'rate_limited';
    case 'GW_UPSTREAM_AUTH_FAILED':
      return 'auth_failed';
    case 'GW_UPSTREAM_ERROR':
    case 'GW_UPSTREAM_OVERLOADED':
      return 'server_error';
    case 'GW_UPSTREAM_TIMEOUT':
      return 'timeout';
    case 'GW_UPSTREAM_UNREACHABLE':
      return 'unreachable';
    default:
      return undefined;
  }
}
