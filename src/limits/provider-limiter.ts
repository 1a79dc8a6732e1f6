import type { BucketShape, BucketTake } from '../state/types.js';
import type { StateBackend } from '../state/types.js';
import type { NetworkCounters } from './counters.js';
import { stateUnavailable, type StateGuard } from './state-guard.js';

/** `providers.<name>.rate_limit`. */
export interface ProviderRateLimitConfig {
  readonly requests_per_minute?: number | undefined;
  readonly tokens_per_minute?: number | undefined;
}

/** What was taken for one request, to settle once its real usage is known. */
export interface TokenReservation {
  /** Whose buckets: `provider:<name>` (a provider's budget) or `key:<id>` (a client key's rate limit). */
  readonly subject: string;
  /** The token bucket's shape; undefined when no tokens were taken (no token budget, or a request without tokens). */
  readonly shape: BucketShape | undefined;
  readonly reservedTokens: number;
  /** The request bucket's shape when a request slot was taken (for `cancel`). */
  readonly requests: BucketShape | undefined;
}

/** A refusal: the numbers for `Retry-After` and `RateLimit-*`. */
export interface ProviderLimitRefusal {
  readonly limit: number;
  readonly remaining: number;
  readonly retryAfterMs: number;
  readonly resetMs: number;
  /** True when refused because the shared state could not be asked (the fail-closed policy). */
  readonly stateUnavailable: boolean;
}

export interface ProviderLimiterOptions {
  state: StateBackend;
  /** Present with a shared (Redis) backend. */
  guard?: StateGuard;
  counters: NetworkCounters;
}

/** A per-minute budget as a token bucket: the whole budget at once at most, refilled evenly over the minute. */
function perMinute(amount: number): BucketShape {
  return { ratePerSecond: amount / 60, burst: amount };
}

/**
 * Provider budgets (every client of the provider together), applied at routing time.
 *
 * Tokens are a reservation: before the call the estimate (prompt + max_tokens, see
 * `estimateTokens`) is taken from the token bucket together with one request slot, all or nothing
 * and atomically in the backend; after the answer the difference to the real usage is given back
 * (or charged as debt). Fifty concurrent requests each reserve their estimate before any is sent,
 * so they cannot all pass a budget that only fits a few.
 *
 * Failure policy (Redis unreachable or its circuit open): **fail closed**. A budget exists to cap
 * spending or an upstream quota, and N replicas each admitting the whole budget would exceed it N
 * times; the client gets 429 GW_RATE_LIMITED with a Retry-After of the circuit's remaining time.
 * Settling a reservation that fails is dropped: the estimate stands as charged (never over-admits).
 */
export class ProviderLimiter {
  private readonly shapes = new WeakMap<ProviderRateLimitConfig, { requests: BucketShape | undefined; tokens: BucketShape | undefined }>();

  constructor(private readonly options: ProviderLimiterOptions) {}

  private shapesOf(config: ProviderRateLimitConfig): { requests: BucketShape | undefined; tokens: BucketShape | undefined } {
    let shapes = this.shapes.get(config);
    if (shapes === undefined) {
      shapes = {
        requests: config.requests_per_minute === undefined ? undefined : perMinute(config.requests_per_minute),
        tokens: config.tokens_per_minute === undefined ? undefined : perMinute(config.tokens_per_minute),
      };
      this.shapes.set(config, shapes);
    }
    return shapes;
  }

  /** Takes one request slot and `estimatedTokens` from provider `provider`'s buckets; a reservation to settle, or the refusal. */
  reserve(provider: string, config: ProviderRateLimitConfig, estimatedTokens: number): Promise<TokenReservation | ProviderLimitRefusal> {
    return this.reserveFor(`provider:${provider}`, config, estimatedTokens);
  }

  /**
   * The same reservation for any subject: `key:<id>` for a client key's `rate_limit` (the same
   * per-minute shape, limits/key-limiter.ts), so both budgets share one reserve-then-settle.
   * `estimatedTokens` undefined: a request that generates nothing (count_tokens) takes its request
   * slot only, nothing from the token bucket.
   */
  async reserveFor(subject: string, config: ProviderRateLimitConfig, estimatedTokens: number | undefined): Promise<TokenReservation | ProviderLimitRefusal> {
    const { requests, tokens: tokenShape } = this.shapesOf(config);
    const tokens = estimatedTokens === undefined ? undefined : tokenShape;
    const takes: BucketTake[] = [];
    if (requests !== undefined) takes.push({ key: `${subject}:requests`, shape: requests, cost: 1 });
    if (tokens !== undefined) takes.push({ key: `${subject}:tokens`, shape: tokens, cost: estimatedTokens! });
    if (takes.length === 0) return { subject, shape: undefined, reservedTokens: 0, requests: undefined };
    const { state, guard, counters } = this.options;
    const decision = guard === undefined ? await state.takeTokens(takes) : await guard.run(() => state.takeTokens(takes));
    if (decision === stateUnavailable) {
      if (subject.startsWith('key:')) counters.keyRateLimited += 1;
      else counters.providerRateLimited += 1;
      const waitMs = Math.max(1_000, guard?.retryInMs ?? 0);
      return { limit: takes[0]!.shape.burst, remaining: 0, retryAfterMs: waitMs, resetMs: waitMs, stateUnavailable: true };
    }
    if (!decision.allowed) {
      if (subject.startsWith('key:')) counters.keyRateLimited += 1;
      else counters.providerRateLimited += 1;
      return { limit: decision.limit, remaining: decision.remaining, retryAfterMs: decision.retryAfterMs, resetMs: decision.resetMs, stateUnavailable: false };
    }
    // A cost above the burst was capped at the burst by the bucket: that is what was taken.
    return { subject, shape: tokens, reservedTokens: tokens === undefined ? 0 : Math.min(estimatedTokens!, tokens.burst), requests };
  }

  /**
   * Settles a reservation with the tokens really used: the difference goes back (or is charged).
   * `usedTokens` undefined means unknown (an aborted stream, no usage in the answer): the estimate
   * stands. Never throws: a failure only leaves the estimate charged.
   */
  settle(reservation: TokenReservation, usedTokens: number | undefined): void {
    const { shape } = reservation;
    if (shape === undefined || usedTokens === undefined) return;
    const delta = reservation.reservedTokens - usedTokens;
    if (delta === 0) return;
    const { state, guard } = this.options;
    const key = `${reservation.subject}:tokens`;
    const adjusting = guard === undefined ? state.adjustTokens(key, shape, delta) : guard.run(() => state.adjustTokens(key, shape, delta));
    adjusting.catch(() => undefined);
  }

  /**
   * Undoes a reservation whose request was refused by a later check before anything was sent (the
   * provider's budget after the key's rate limit): the request slot and the reserved tokens go
   * back, so a refused request does not count against the minute. Never throws.
   */
  cancel(reservation: TokenReservation): void {
    const { state, guard } = this.options;
    const giveBack = (key: string, shape: BucketShape, amount: number): void => {
      const adjusting = guard === undefined ? state.adjustTokens(key, shape, amount) : guard.run(() => state.adjustTokens(key, shape, amount));
      adjusting.catch(() => undefined);
    };
    if (reservation.requests !== undefined) giveBack(`${reservation.subject}:requests`, reservation.requests, 1);
    if (reservation.shape !== undefined && reservation.reservedTokens > 0) giveBack(`${reservation.subject}:tokens`, reservation.shape, reservation.reservedTokens);
  }
}

export function isRefusal(result: TokenReservation | ProviderLimitRefusal): result is ProviderLimitRefusal {
  return 'retryAfterMs' in result;
}

/**
 * The reservation's estimate for a chat request: its body bytes / 4 (about 4 bytes per token in
 * English text and JSON; the real count comes back with the usage) plus the most it may generate.
 * Cheap on purpose: no tokenizer and no walk of the messages on the request path.
 */
export function estimateTokens(bodyBytes: number, maxOutputTokens: number): number {
  return Math.ceil(bodyBytes / 4) + maxOutputTokens;
}
