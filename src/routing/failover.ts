import { GatewayError, isGatewayError } from '../errors/gateway-error.js';
import type { UpstreamCredential } from '../providers/types.js';
import { failureKindOf } from './cooldown.js';
import type { CredentialPool } from './credential-pool.js';

/** What failover reads of an abort signal; an AbortSignal and the upstream client's UpstreamAbort both fit. */
export interface AbortLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
}

export interface FailoverOptions<T> {
  pool: CredentialPool;
  /** Provider name, for GW_NO_CREDENTIAL_AVAILABLE. */
  provider: string;
  /** Upper bound of attempts across credentials (config `upstream.max_attempts`, 1–10). */
  maxAttempts: number;
  /** The client's abort signal (an AbortSignal or anything shaped like one): once it fires, no further credential is tried. */
  signal?: AbortLike;
  /**
   * One upstream call with one credential. It must throw only BEFORE the first byte reached the
   * client (the caller guarantees it), so retrying can never duplicate output. Upstream failures
   * must be GatewayErrors (the adapter's mapError, or the upstream client's timeout/unreachable).
   */
  attempt: (credential: UpstreamCredential) => Promise<T>;
}

/**
 * Runs `attempt` with credentials from the pool until one succeeds.
 * - Success: `reportSuccess`, return.
 * - GatewayError, retryable: cool the credential (when `failureKindOf` blames it) and try the next
 *   one this request has not tried, up to `maxAttempts`.
 * - GatewayError, not retryable: rethrow at once; the credential is cooled only if
 *   `failureKindOf` says it was at fault.
 * - Anything else (a bug, an abort): rethrow at once, no cooldown; it says nothing about the key.
 * When attempts run out, or the pool runs out after at least one attempt, the LAST upstream error
 * is rethrown: the upstream's own 429/401 tells the client and operator more than a generic 503.
 * Only when no attempt could be made at all is it GW_NO_CREDENTIAL_AVAILABLE, with
 * `retryAfterSeconds` (whole seconds, at least 1) from the earliest cooldown end.
 */
export async function runWithFailover<T>(options: FailoverOptions<T>): Promise<T> {
  const { pool, provider, maxAttempts, signal, attempt } = options;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RangeError(`maxAttempts must be an integer >= 1, got ${maxAttempts}`);
  const tried = new Set<string>();
  let lastError: GatewayError | undefined;

  for (let attemptNumber = 1; attemptNumber <= maxAttempts; attemptNumber += 1) {
    if (signal?.aborted === true) throw lastError ?? abortReason(signal);
    const credential = pool.pick(tried);
    if (credential === undefined) throw lastError ?? noCredentialError(pool, provider);
    tried.add(credential.id);
    try {
      const result = await attempt(credential);
      pool.reportSuccess(credential.id);
      return result;
    } catch (error) {
      if (!isGatewayError(error)) throw error;
      const kind = failureKindOf(error);
      if (kind !== undefined) pool.reportFailure(credential.id, kind, error.retryAfterSeconds);
      if (!error.retryable) throw error;
      lastError = error;
    }
  }
  // The loop ran at least once (maxAttempts >= 1) and every pass either returned, threw or set lastError.
  throw lastError ?? noCredentialError(pool, provider);
}

function noCredentialError(pool: CredentialPool, provider: string): GatewayError {
  const recoveryMs = pool.earliestRecoveryMs();
  return new GatewayError('GW_NO_CREDENTIAL_AVAILABLE', {
    // An empty pool is a configuration gap, not a cooldown; say so instead of "retry later".
    message:
      pool.size === 0
        ? `Provider '${provider}' has no usable credential.`
        : `Every credential of provider '${provider}' is cooling down after upstream failures; retry later.`,
    provider,
    retryable: false,
    retryAfterSeconds: recoveryMs === undefined ? undefined : Math.max(1, Math.ceil(recoveryMs / 1000)),
  });
}

function abortReason(signal: AbortLike): unknown {
  return signal.reason ?? new DOMException('The operation was aborted.', 'AbortError');
}
