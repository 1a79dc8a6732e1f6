import type { BucketDecision, BucketShape, BucketTake } from '../state/types.js';
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
  /** The token bucket's state key (`<subject>:tokens`), kept so settling builds no string. */
  readonly tokensKey?: string;
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
/** A subject's buckets under one config: shapes, state keys and takes, built once (no template strings per request). */
interface BucketPlan {
  readonly subject: string;
  readonly requests: BucketShape | undefined;
  readonly tokens: BucketShape | undefined;
  readonly tokensKey: string;
  /** The takes of a generating request and of one without tokens (count_tokens); reused by the synchronous path. */
  readonly generating: MutableTake[];
  readonly requestOnly: MutableTake[];
  readonly tokensTake: MutableTake | undefined;
}

type MutableTake = { key: string; shape: BucketShape; cost: number };

/** A reservation or a refusal. */
export type ReserveResult = TokenReservation | ProviderLimitRefusal;

export class ProviderLimiter {
  private readonly plans = new WeakMap<ProviderRateLimitConfig, BucketPlan>();

  constructor(private readonly options: ProviderLimiterOptions) {}

  private planOf(subject: string, config: ProviderRateLimitConfig): BucketPlan {
    const known = this.plans.get(config);
    if (known !== undefined && known.subject === subject) return known;
    const requests = config.requests_per_minute === undefined ? undefined : perMinute(config.requests_per_minute);
    const tokens = config.tokens_per_minute === undefined ? undefined : perMinute(config.tokens_per_minute);
    const requestOnly: MutableTake[] = requests === undefined ? [] : [{ key: `${subject}:requests`, shape: requests, cost: 1 }];
    const tokensTake = tokens === undefined ? undefined : { key: `${subject}:tokens`, shape: tokens, cost: 0 };
    const generating = tokensTake === undefined ? requestOnly : [...requestOnly, tokensTake];
    const plan: BucketPlan = { subject, requests, tokens, tokensKey: `${subject}:tokens`, generating, requestOnly, tokensTake };
    this.plans.set(config, plan);
    return plan;
  }

  /** Takes one request slot and `estimatedTokens` from provider `provider`'s buckets; a reservation to settle, or the refusal. */
  reserve(provider: string, config: ProviderRateLimitConfig, estimatedTokens: number): ReserveResult | Promise<ReserveResult> {
    return this.reserveFor(`provider:${provider}`, config, estimatedTokens);
  }

  /**
   * The same reservation for any subject: `key:<id>` for a client key's `rate_limit` (the same
   * per-minute shape, limits/key-limiter.ts), so both budgets share one reserve-then-settle.
   * `estimatedTokens` undefined: a request that generates nothing (count_tokens) takes its request
   * slot only, nothing from the token bucket. Answered at once when the buckets live in this
   * process (the memory backend: no promise, no microtask turn per request), else a promise.
   */
  reserveFor(subject: string, config: ProviderRateLimitConfig, estimatedTokens: number | undefined): ReserveResult | Promise<ReserveResult> {
    const plan = this.planOf(subject, config);
    const takes = estimatedTokens === undefined ? plan.requestOnly : plan.generating;
    if (takes.length === 0) return { subject, shape: undefined, reservedTokens: 0, requests: undefined };
    const { state, guard } = this.options;
    if (guard === undefined && state.syncBuckets !== undefined) {
      if (plan.tokensTake !== undefined && estimatedTokens !== undefined) plan.tokensTake.cost = estimatedTokens;
      return this.outcome(plan, estimatedTokens, state.syncBuckets.takeTokens(takes));
    }
    // A shared backend keeps the takes past this call: its own copies, not the plan's reused ones.
    const copies: BucketTake[] = takes.map((take) => ({ key: take.key, shape: take.shape, cost: take === plan.tokensTake ? estimatedTokens! : take.cost }));
    const deciding = guard === undefined ? state.takeTokens(copies) : guard.run(() => state.takeTokens(copies));
    return deciding.then((decision) => this.outcome(plan, estimatedTokens, decision));
  }

  private outcome(plan: BucketPlan, estimatedTokens: number | undefined, decision: BucketDecision | typeof stateUnavailable): ReserveResult {
    const { guard, counters } = this.options;
    if (decision === stateUnavailable) {
      if (plan.subject.startsWith('key:')) counters.keyRateLimited += 1;
      else counters.providerRateLimited += 1;
      const waitMs = Math.max(1_000, guard?.retryInMs ?? 0);
      const first = plan.requests ?? plan.tokens!;
      return { limit: first.burst, remaining: 0, retryAfterMs: waitMs, resetMs: waitMs, stateUnavailable: true };
    }
    if (!decision.allowed) {
      if (plan.subject.startsWith('key:')) counters.keyRateLimited += 1;
      else counters.providerRateLimited += 1;
      return { limit: decision.limit, remaining: decision.remaining, retryAfterMs: decision.retryAfterMs, resetMs: decision.resetMs, stateUnavailable: false };
    }
    // A cost above the burst was capped at the burst by the bucket: that is what was taken.
    const tokens = estimatedTokens === undefined ? undefined : plan.tokens;
    return {
      subject: plan.subject,
      shape: tokens,
      tokensKey: plan.tokensKey,
      reservedTokens: tokens === undefined ? 0 : Math.min(estimatedTokens!, tokens.burst),
      requests: plan.requests,
    };
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
    void this.giveBack(reservation.tokensKey ?? `${reservation.subject}:tokens`, shape, delta);
  }

  /**
   * Adds `amount` tokens back to a bucket (negative: charges it). Undefined when done at once (the
   * memory backend); else a promise that settles once the backend answered, failed or timed out
   * (the guard's deadline): it never rejects, a failure only leaves the tokens charged.
   */
  private giveBack(key: string, shape: BucketShape, amount: number): Promise<unknown> | undefined {
    const { state, guard } = this.options;
    if (guard === undefined && state.syncBuckets !== undefined) {
      state.syncBuckets.adjustTokens(key, shape, amount);
      return undefined;
    }
    const adjusting = guard === undefined ? state.adjustTokens(key, shape, amount) : guard.run(() => state.adjustTokens(key, shape, amount));
    return adjusting.catch(() => undefined);
  }

  /**
   * Undoes a reservation whose request was refused by a later check before anything was sent (the
   * provider's budget after the key's rate limit): the request slot and the reserved tokens go
   * back, so a refused request does not count against the minute.
   *
   * Undefined when everything went back at once (the memory backend). On a shared backend, a
   * promise that resolves once the give-back reached it (or failed: it never rejects, and the
   * guard bounds its wait): the caller answers the refusal only then, or a client retrying at once
   * (on this replica or another) could find the slot it was refused still taken.
   */
  cancel(reservation: TokenReservation): Promise<void> | undefined {
    const requests = reservation.requests === undefined ? undefined : this.giveBack(`${reservation.subject}:requests`, reservation.requests, 1);
    const tokens =
      reservation.shape !== undefined && reservation.reservedTokens > 0 ? this.giveBack(reservation.tokensKey ?? `${reservation.subject}:tokens`, reservation.shape, reservation.reservedTokens) : undefined;
    return allGivenBack(requests, tokens);
  }
}

/**
 * One promise for the give-backs still under way (each of which never rejects), or undefined when
 * none is: the memory backend's refusal stays synchronous.
 */
export function allGivenBack(...givingBack: (Promise<unknown> | undefined)[]): Promise<void> | undefined {
  const pending = givingBack.filter((giving): giving is Promise<unknown> => giving !== undefined);
  if (pending.length === 0) return undefined;
  return Promise.all(pending).then(() => undefined);
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
