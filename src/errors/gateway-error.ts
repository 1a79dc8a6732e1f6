import { errorCatalog, type ErrorCode, type ErrorKind } from './codes.js';

export interface GatewayErrorOptions {
  /** Replaces the catalog message. Must already be free of secrets (pass it through the redactor). */
  message?: string;
  /** Provider name, shown to the client on upstream errors so operators know where to look. */
  provider?: string;
  /** True when another credential or a later attempt may succeed (computed by the adapter's mapError). */
  retryable?: boolean;
  /** Seconds the client (or the credential pool) should wait, from an upstream Retry-After. */
  retryAfterSeconds?: number;
  /**
   * The limiter's bucket behind a GW_RATE_LIMITED, sent as `RateLimit-Limit` (bucket size),
   * `RateLimit-Remaining` (whole tokens left) and `RateLimit-Reset` (seconds until it is full).
   */
  rateLimit?: RateLimitInfo;
  /** Overrides the catalog HTTP status, e.g. to pass an upstream 400/404/422 through unchanged. */
  status?: number;
  cause?: unknown;
}

export interface RateLimitInfo {
  readonly limit: number;
  readonly remaining: number;
  readonly resetSeconds: number;
}

/**
 * The one error class the gateway throws on purpose. `code` is a catalog key; status and kind
 * come from the catalog so a code always means the same thing to clients.
 */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly kind: ErrorKind;
  readonly provider: string | undefined;
  readonly retryable: boolean;
  readonly retryAfterSeconds: number | undefined;
  readonly rateLimit: RateLimitInfo | undefined;

  constructor(code: ErrorCode, options: GatewayErrorOptions = {}) {
    const entry = errorCatalog[code];
    super(options.message ?? entry.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.status = options.status ?? entry.status;
    this.kind = entry.kind;
    this.provider = options.provider;
    this.retryable = options.retryable ?? false;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.rateLimit = options.rateLimit;
  }
}

export function isGatewayError(value: unknown): value is GatewayError {
  return value instanceof GatewayError;
}
