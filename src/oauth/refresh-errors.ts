import { GatewayError } from '../errors/gateway-error.js';
import type { OperatorCodeFor } from '../errors/operator-codes.js';
import { redactText } from '../security/redact.js';

/** Why a refresh failed; decides the error code (and so the pool's cooldown) and the backoff. */
export type RefreshFailureKind = 'timeout' | 'rejected' | 'unreachable' | 'upstream_error' | 'not_persisted' | 'misconfigured';

/** First backoff step after a failed refresh (30 s), doubling per consecutive failure. */
export const refreshBackoffBaseMs = 30_000;
/** Longest backoff for transient failures (10 min): the token endpoint is asked again at least this often. */
export const refreshBackoffMaxMs = 10 * 60_000;
/** A rejected refresh token (invalid_grant) does not heal by itself: 30 min, then ask again. */
export const refreshRejectedBackoffMs = 30 * 60_000;

/** Milliseconds a credential stays unavailable after `consecutiveFailures` failed refreshes. */
export function refreshBackoffMs(kind: RefreshFailureKind, consecutiveFailures: number): number {
  if (kind === 'rejected' || kind === 'misconfigured') return refreshRejectedBackoffMs;
  const exponent = Math.min(Math.max(consecutiveFailures, 1) - 1, 20);
  return Math.min(refreshBackoffBaseMs * 2 ** exponent, refreshBackoffMaxMs);
}

const refreshFailureCodes = {
  timeout: 'OAUTH_REFRESH_TIMEOUT',
  rejected: 'OAUTH_REFRESH_REJECTED',
  unreachable: 'OAUTH_REFRESH_UNREACHABLE',
  upstream_error: 'OAUTH_REFRESH_UPSTREAM_ERROR',
  not_persisted: 'OAUTH_REFRESH_NOT_PERSISTED',
  misconfigured: 'OAUTH_REFRESH_MISCONFIGURED',
} as const satisfies Record<RefreshFailureKind, OperatorCodeFor<'RefreshFailure'>>;

/**
 * A failed refresh as a gateway error: always `retryable`, so failover moves on to the provider's
 * next credential and the pool cools this one (timeout → 60 s, rejected → 30 min, by the code's
 * failure kind in routing/cooldown.ts). Messages name the credential id and provider, never a token;
 * `detail` is redacted anyway.
 */
export class RefreshFailure extends Error {
  /** Catalog code (docs/errors.md, operator errors), one per kind; logged with the failure. */
  readonly code: OperatorCodeFor<'RefreshFailure'>;

  constructor(
    readonly kind: RefreshFailureKind,
    readonly detail: string,
  ) {
    super(redactText(detail));
    this.name = 'RefreshFailure';
    this.code = refreshFailureCodes[kind];
  }

  toGatewayError(credentialId: string, provider: string): GatewayError {
    const subject = `Refreshing OAuth credential '${credentialId}' of provider '${provider}'`;
    const message = redactText(`${subject} failed: ${this.detail}.`);
    switch (this.kind) {
      case 'timeout':
        return new GatewayError('GW_UPSTREAM_TIMEOUT', { provider, retryable: true, message });
      case 'rejected':
      case 'misconfigured':
        return new GatewayError('GW_UPSTREAM_AUTH_FAILED', { provider, retryable: true, message });
      case 'unreachable':
        return new GatewayError('GW_UPSTREAM_UNREACHABLE', { provider, retryable: true, message });
      case 'upstream_error':
      case 'not_persisted':
        return new GatewayError('GW_UPSTREAM_ERROR', { provider, retryable: true, message });
    }
  }
}

export function isRefreshFailure(value: unknown): value is RefreshFailure {
  return value instanceof RefreshFailure;
}

/** Resolves or rejects like `promise`, but rejects with a timeout failure once `signal` aborts. */
export function raceDeadline<T>(promise: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
  if (signal.aborted) return Promise.reject(new RefreshFailure('timeout', `deadline passed before ${what}`));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new RefreshFailure('timeout', `deadline passed during ${what}`));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
