import { GatewayError } from '../errors/gateway-error.js';
import type { StateBackend } from '../state/types.js';
import type { NetworkCounters } from './counters.js';
import { allGivenBack, isRefusal, type ProviderLimiter, type ProviderLimitRefusal, type TokenReservation } from './provider-limiter.js';
import { rateLimitedError } from './rate-limited-error.js';
import { ConcurrencyGate } from './concurrency-gate.js';
import { stateUnavailable, type StateGuard } from './state-guard.js';

/** What of a client key's policy the limiter reads (security/key-policy.ts ClientKeyPolicy). */
export interface KeyLimits {
  readonly rateLimit?: { readonly requests_per_minute?: number | undefined; readonly tokens_per_minute?: number | undefined };
  readonly maxConcurrency?: number;
  readonly concurrencyWaitMs?: number;
  readonly budgets?: { readonly tokens_per_day?: number | undefined; readonly tokens_per_month?: number | undefined };
}

/** One budget period counter a reservation incremented: to settle (or roll back) later. */
interface BudgetCharge {
  readonly counter: string;
  readonly windowMs: number;
}

/** Everything one request took for its key; `settle` gives back what it did not use. */
export interface KeyReservation {
  readonly keyId: string;
  readonly estimate: number;
  readonly rate: TokenReservation | undefined;
  readonly charges: readonly BudgetCharge[];
  readonly holdsSlot: boolean;
}

export interface KeyLimiterOptions {
  state: StateBackend;
  guard?: StateGuard;
  counters: NetworkCounters;
  /** The per-minute buckets, shared with the provider budgets (one reserve-then-settle for both). */
  buckets: ProviderLimiter;
  now?: () => number;
}

const dayMs = 86_400_000;

/** `YYYY-MM-DD` and `YYYY-MM` of `now` in UTC, and the milliseconds until each ends. */
export function budgetPeriods(now: number): { day: string; dayEndsInMs: number; month: string; monthEndsInMs: number } {
  const date = new Date(now);
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth();
  const iso = date.toISOString();
  return {
    day: iso.slice(0, 10),
    dayEndsInMs: Date.UTC(year, month, date.getUTCDate() + 1) - now,
    month: iso.slice(0, 7),
    monthEndsInMs: Date.UTC(year, month + 1, 1) - now,
  };
}

/**
 * A client key's limits (docs/keys.md), checked after routing, before anything is sent:
 *
 * 1. **Concurrency** (`max_concurrency`): a slot of this process (concurrency-gate.ts); over the
 *    cap the request waits up to `concurrency_wait_ms` for one, then 429 GW_RATE_LIMITED.
 * 2. **Budgets** (`budgets.tokens_per_day`, `tokens_per_month`, UTC calendar periods): the estimate
 *    (prompt bytes / 4 + max output tokens, as for the providers) is added to the period's counter
 *    in the state backend with one atomic increment; a total above the budget takes it back and
 *    refuses with 429 GW_KEY_BUDGET_EXCEEDED (Retry-After: the period's end). Because each
 *    increment is atomic (Redis INCRBY across replicas), the admitted requests' estimates never
 *    sum above the budget: 50 concurrent requests against 10 requests' worth admit exactly 10.
 *    A refused request's increment is visible until its take-back, so a request racing it may be
 *    refused although it would have fit: refusing early, never admitting over. The refusal is
 *    thrown only once the take-back is done, so only a concurrent request can see it, never the
 *    refused client's own retry.
 * 3. **Rate limit** (`rate_limit`): the provider budgets' per-minute buckets (ProviderLimiter),
 *    one request slot and the token estimate, under `key:<id>` instead of `provider:<name>`.
 *
 * The order makes a refused request cost no slot: the budgets come before the per-minute buckets,
 * whose take is the last step and all or nothing, so a key whose budget is spent keeps its
 * requests per minute for when the budget is raised (a refusal by the buckets takes the budget
 * increments back; every refusal frees the concurrency slot).
 *
 * A request that generates nothing (`count_tokens`: `estimate` undefined) takes the concurrency
 * slot and one request of `requests_per_minute` (it reaches the upstream, or costs the gateway a
 * count), but no tokens of `tokens_per_minute` and nothing of the budgets: it has no output, and
 * the upstreams do not bill a count.
 *
 * When the response closes, `settle` replaces the estimate by the real usage (the per-request
 * record's) in the bucket and the counters, and frees the slot. Unknown usage (an aborted stream)
 * leaves the estimate charged. The failure policy is the provider budgets': state unavailable →
 * refused (fail closed), a failed settle leaves the estimate charged.
 */
export class KeyLimiter {
  private readonly gate = new ConcurrencyGate();
  private readonly now: () => number;

  constructor(private readonly options: KeyLimiterOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Reserves for one request of key `keyId`, or throws the 429. `estimate`: tokens (estimateTokens);
   * undefined for a request without output (count_tokens), which takes no tokens and no budget.
   */
  reserve(keyId: string, limits: KeyLimits, estimate: number | undefined): KeyReservation | Promise<KeyReservation> {
    // A rate limit alone (no slot to wait for, no budget to charge): on buckets held in this process
    // (the memory backend) answered at once, no promise and no microtask turn on the request path.
    if (limits.rateLimit !== undefined && limits.maxConcurrency === undefined && (limits.budgets === undefined || estimate === undefined)) {
      const reserving = this.options.buckets.reserveFor(`key:${keyId}`, limits.rateLimit, estimate);
      if (reserving instanceof Promise) return reserving.then((result) => rateOnlyReservation(keyId, estimate, result));
      return rateOnlyReservation(keyId, estimate, reserving);
    }
    return this.reserveInFull(keyId, limits, estimate);
  }

  private async reserveInFull(keyId: string, limits: KeyLimits, estimate: number | undefined): Promise<KeyReservation> {
    let holdsSlot = false;
    if (limits.maxConcurrency !== undefined) {
      holdsSlot = await this.gate.acquire(keyId, limits.maxConcurrency, limits.concurrencyWaitMs ?? 0);
      if (!holdsSlot) {
        this.options.counters.keyRateLimited += 1;
        const waitMs = Math.max(1_000, limits.concurrencyWaitMs ?? 0);
        throw rateLimitedError(
          { limit: limits.maxConcurrency, remaining: 0, retryAfterMs: waitMs, resetMs: waitMs },
          `The API key '${keyId}' has ${limits.maxConcurrency} requests in flight, its max_concurrency; retry later.`,
        );
      }
    }
    let charges: BudgetCharge[] = [];
    try {
      if (limits.budgets !== undefined && estimate !== undefined) charges = await this.chargeBudgets(keyId, limits.budgets, estimate);
      let rate: TokenReservation | undefined;
      if (limits.rateLimit !== undefined) {
        const result = await this.options.buckets.reserveFor(`key:${keyId}`, limits.rateLimit, estimate);
        if (isRefusal(result)) throw rateRefusal(keyId, result);
        rate = result;
      }
      return { keyId, estimate: estimate ?? 0, rate, charges, holdsSlot };
    } catch (error) {
      if (holdsSlot) this.gate.release(keyId);
      // The 429 waits for the take-back, so a client retrying at once finds its budget as it was.
      await allGivenBack(...charges.map((charge) => this.adjust(charge, -(estimate ?? 0))));
      throw error;
    }
  }

  /**
   * Undoes a reservation whose request a later check refused before anything was sent (the
   * provider's budget, GW_NO_CREDENTIAL_AVAILABLE): slot, request slot, tokens and budget
   * increments all go back, as if the request had never been admitted.
   *
   * Undefined when everything went back at once (the memory backend: the concurrency slot is this
   * process's, its buckets and counters change in the call). On a shared backend a promise that
   * resolves once the give-back reached it, or failed (it never rejects; the guard bounds the
   * wait), so the refusal can be answered only then: see ProviderLimiter.cancel.
   */
  cancel(reservation: KeyReservation): Promise<void> | undefined {
    if (reservation.holdsSlot) this.gate.release(reservation.keyId);
    const rate = reservation.rate === undefined ? undefined : this.options.buckets.cancel(reservation.rate);
    if (reservation.charges.length === 0) return rate;
    return allGivenBack(rate, ...reservation.charges.map((charge) => this.adjust(charge, -reservation.estimate)));
  }

  /** Adds the estimate to each period's counter; all or nothing (a refusal takes back what was added). */
  private async chargeBudgets(keyId: string, budgets: NonNullable<KeyLimits['budgets']>, estimate: number): Promise<BudgetCharge[]> {
    const periods = budgetPeriods(this.now());
    const wanted: { counter: string; windowMs: number; budget: number; name: string; endsInMs: number }[] = [];
    // The window outlives its period by a day: the counter is named by the period, so it is never
    // reused; the margin only lets a late settle land on it rather than start a fresh counter.
    if (budgets.tokens_per_day !== undefined) wanted.push({ counter: budgetCounter(keyId, periods.day), windowMs: periods.dayEndsInMs + dayMs, budget: budgets.tokens_per_day, name: 'daily', endsInMs: periods.dayEndsInMs });
    if (budgets.tokens_per_month !== undefined) wanted.push({ counter: budgetCounter(keyId, periods.month), windowMs: periods.monthEndsInMs + dayMs, budget: budgets.tokens_per_month, name: 'monthly', endsInMs: periods.monthEndsInMs });
    const charged: BudgetCharge[] = [];
    for (const period of wanted) {
      const total = await this.increment(period.counter, estimate, period.windowMs);
      if (total === stateUnavailable || total > period.budget) {
        if (total !== stateUnavailable) charged.push(period);
        this.options.counters.keyRateLimited += 1;
        // The refusal waits for the take-back: a client retrying at once finds its budget as it was.
        await allGivenBack(...charged.map((charge) => this.adjust(charge, -estimate)));
        if (total === stateUnavailable) {
          throw rateLimitedError({ limit: period.budget, remaining: 0, retryAfterMs: 1_000, resetMs: 1_000 }, `The budget state of API key '${keyId}' is unavailable; retry later.`);
        }
        throw new GatewayError('GW_KEY_BUDGET_EXCEEDED', {
          message: `The API key '${keyId}' has used its ${period.name} token budget (${period.budget}); this request would need about ${estimate} more.`,
          retryAfterSeconds: Math.max(1, Math.ceil(period.endsInMs / 1000)),
        });
      }
      charged.push(period);
    }
    return charged;
  }

  private increment(counter: string, amount: number, windowMs: number): Promise<number | typeof stateUnavailable> {
    const { state, guard } = this.options;
    return guard === undefined ? state.increment(counter, amount, windowMs) : guard.run(() => state.increment(counter, amount, windowMs));
  }

  /**
   * Adds `delta` to a budget counter: a promise that settles once a shared backend answered, never
   * rejects (a failure leaves the counter as it was); undefined when there is nothing to add or it
   * was added in the call (the memory backend).
   */
  private adjust(charge: BudgetCharge, delta: number): Promise<unknown> | undefined {
    if (delta === 0) return undefined;
    const adjusting = this.increment(charge.counter, delta, charge.windowMs).catch(() => undefined);
    // The memory backend changed the counter in the call (its answer is an already settled promise):
    // nothing is under way, so a refusal on it stays synchronous.
    return this.options.state.syncBuckets === undefined ? adjusting : undefined;
  }

  /**
   * Replaces the estimate by `usedTokens` (input + output, as the upstream reported) everywhere the
   * reservation charged it, and frees the concurrency slot. `usedTokens` undefined: unknown, the
   * estimate stands. Never throws.
   */
  settle(reservation: KeyReservation, usedTokens: number | undefined): void {
    if (reservation.holdsSlot) this.gate.release(reservation.keyId);
    if (reservation.rate !== undefined) this.options.buckets.settle(reservation.rate, usedTokens);
    if (usedTokens === undefined) return;
    for (const charge of reservation.charges) void this.adjust(charge, usedTokens - reservation.estimate);
  }

  /** Tokens counted against the key's budget in the current day and month (`keys list`, the management API). */
  async budgetUse(keyId: string): Promise<{ day: number; month: number }> {
    const periods = budgetPeriods(this.now());
    const read = async (counter: string, windowMs: number) => Math.max(0, await this.options.state.increment(counter, 0, windowMs));
    return { day: await read(budgetCounter(keyId, periods.day), periods.dayEndsInMs + dayMs), month: await read(budgetCounter(keyId, periods.month), periods.monthEndsInMs + dayMs) };
  }
}

/**
 * Charges usage recorded before this process started (usage/usage-store.ts) to the budget counter
 * of `keyId` for the current `period`, so a restart does not hand a key its budget again. Called
 * by whichever process holds the memory backend's counters (serve, or the primary of
 * `serve --workers`); Redis keeps its counters across restarts itself.
 */
export async function seedBudgetCounter(state: StateBackend, keyId: string, period: 'day' | 'month', tokens: number, now: number): Promise<void> {
  if (tokens <= 0) return;
  const periods = budgetPeriods(now);
  const counter = budgetCounter(keyId, period === 'day' ? periods.day : periods.month);
  await state.increment(counter, tokens, (period === 'day' ? periods.dayEndsInMs : periods.monthEndsInMs) + dayMs);
}

const noCharges: readonly BudgetCharge[] = Object.freeze([]);

/** The reservation of a request whose key's only limit here is its rate limit, or the 429 of its refusal. */
function rateOnlyReservation(keyId: string, estimate: number | undefined, result: TokenReservation | ProviderLimitRefusal): KeyReservation {
  if (isRefusal(result)) throw rateRefusal(keyId, result);
  return { keyId, estimate: estimate ?? 0, rate: result, charges: noCharges, holdsSlot: false };
}

/** The 429 of a refused rate-limit take. */
function rateRefusal(keyId: string, refusal: ProviderLimitRefusal): GatewayError {
  return rateLimitedError(
    refusal,
    refusal.stateUnavailable ? `The rate-limit state of API key '${keyId}' is unavailable; retry later.` : `The API key '${keyId}' is over its rate limit; retry later.`,
  );
}

function budgetCounter(keyId: string, period: string): string {
  return `key-budget:${keyId}:${period}`;
}
