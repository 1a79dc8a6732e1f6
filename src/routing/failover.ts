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
  /** Only credentials this accepts are tried (the keys that serve the request's model); absent = all. */
  eligible?: (credential: UpstreamCredential) => boolean;
}

/**
 * Failures that the request itself may have caused: an upstream that answers 5xx to one poisonous
 * body, or 401/403 to a request it refuses, would answer every credential the same way. Each
 * request may cool down at most one credential for such a reason, so one request cannot bench a
 * pool; a 429 or a connection failure says something about the credential or the upstream
 * whatever the request, and cools every credential it hits.
 */
const mayBeTheRequestsFault: ReadonlySet<string> = new Set(['GW_UPSTREAM_AUTH_FAILED', 'GW_UPSTREAM_ERROR', 'GW_UPSTREAM_OVERLOADED']);

/**
 * Runs `attempt` with credentials from the pool until one succeeds.
 * - Success: `reportSuccess`, return.
 * - GatewayError, retryable (429, 5xx, 401/403, connection failures): cool the credential (when
 *   `failureKindOf` blames it, and at most once per request for a reason the request may have
 *   caused) and try the next one this request has not tried, up to `maxAttempts`. A second
 *   auth failure within one request stops: two credentials refusing it point at the request.
 * - GatewayError, not retryable (other 4xx, a sent request that got no answer in time): rethrow
 *   at once, no cooldown. A timeout after the request was sent is not proof that the credential is
 *   bad, and a resend may be billed (`upstream.failover_on_first_byte_timeout` opts in, upstream).
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
  let cooledForRequestFault = false;

  for (let attemptNumber = 1; attemptNumber <= maxAttempts; attemptNumber += 1) {
    if (signal?.aborted === true) throw lastError ?? abortReason(signal);
    const credential = pool.pick(tried, options.eligible);
    if (credential === undefined) throw lastError ?? noCredentialError(pool, provider);
    tried.add(credential.id);
    try {
      const result = await attempt(credential);
      pool.reportSuccess(credential.id);
      return result;
    } catch (error) {
      if (!isGatewayError(error)) throw error;
      if (!error.retryable) throw error;
      const kind = failureKindOf(error);
      const requestMayBeAtFault = mayBeTheRequestsFault.has(error.code);
      if (requestMayBeAtFault && cooledForRequestFault) {
        if (error.code === 'GW_UPSTREAM_AUTH_FAILED') throw error;
      } else if (kind !== undefined) {
        pool.reportFailure(credential.id, kind, error.retryAfterSeconds);
        if (requestMayBeAtFault) cooledForRequestFault = true;
      }
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
