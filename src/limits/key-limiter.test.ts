import { describe, expect, it } from 'vitest';
import { MemoryStateBackend } from '../state/memory.js';
import type { StateBackend } from '../state/types.js';
import { createNetworkCounters } from './counters.js';
import { KeyLimiter, type KeyLimits } from './key-limiter.js';
import { isRefusal, ProviderLimiter } from './provider-limiter.js';
import { StateGuard } from './state-guard.js';

/**
 * A key's give-backs on a shared backend: a refusal must be answerable only once they reached the
 * state (request-limits.ts awaits them), or a client retrying at once finds its slot still taken.
 */

const now = () => 1_000_000;
const limits: KeyLimits = { rateLimit: { requests_per_minute: 1 }, budgets: { tokens_per_day: 150 } };

/**
 * The memory backend seen as a shared one (no `syncBuckets`, so the limiters go asynchronous): each
 * change takes effect `delayMs` after the call, when its answer arrives, as Redis's does over a link.
 */
function slowSharedState(memory: MemoryStateBackend, delayMs: number): StateBackend {
  const later = <T>(operation: () => Promise<T>) => new Promise<void>((resolve) => setTimeout(resolve, delayMs)).then(operation);
  const shared: Partial<StateBackend> = {
    kind: 'redis',
    increment: (key, amount, windowMs) => later(() => memory.increment(key, amount, windowMs)),
    takeTokens: (takes) => later(() => memory.takeTokens(takes)),
    adjustTokens: (key, shape, delta) => later(() => memory.adjustTokens(key, shape, delta)),
  };
  return shared as StateBackend;
}

/** A key limiter on `state` behind the guard the server puts in front of a shared backend (`timeoutMs`: its deadline per call). */
function sharedLimiter(state: StateBackend, { warnings = [] as string[], timeoutMs = 1_000 } = {}): KeyLimiter {
  const counters = createNetworkCounters();
  const guard = new StateGuard({ counters, logger: { warn: (_details, message) => warnings.push(message) }, timeoutMs });
  return new KeyLimiter({ state, guard, counters, buckets: new ProviderLimiter({ state, guard, counters }), now });
}

/** What the state itself holds for key `k` (read straight from the memory backend, not through the slow link). */
async function heldIn(memory: MemoryStateBackend): Promise<{ budgetUsed: number; requestFree: boolean }> {
  const counters = createNetworkCounters();
  const buckets = new ProviderLimiter({ state: memory, counters });
  const { day } = await new KeyLimiter({ state: memory, counters, buckets, now }).budgetUse('k');
  // Whether the key's one request of the minute is free: taken and given back at once (memory).
  const taken = await buckets.reserveFor('key:k', limits.rateLimit!, undefined);
  if (!isRefusal(taken)) void buckets.cancel(taken);
  return { budgetUsed: day, requestFree: !isRefusal(taken) };
}

describe('KeyLimiter give-backs on a shared backend', () => {
  it('cancel resolves only once the request slot and the budget increment are back in the state', async () => {
    const memory = new MemoryStateBackend({ now });
    const limiter = sharedLimiter(slowSharedState(memory, 20));
    const reservation = await limiter.reserve('k', limits, 100);
    expect(await heldIn(memory)).toEqual({ budgetUsed: 100, requestFree: false });
    const cancelling = limiter.cancel(reservation);
    expect(cancelling).toBeInstanceOf(Promise);
    await cancelling;
    expect(await heldIn(memory)).toEqual({ budgetUsed: 0, requestFree: true });
  });

  it('a refusal by the per-minute bucket rejects only once the budget it charged first is taken back', async () => {
    const memory = new MemoryStateBackend({ now });
    const limiter = sharedLimiter(slowSharedState(memory, 20));
    await limiter.reserve('k', { ...limits, budgets: { tokens_per_day: 1_000 } }, 100);
    await expect(Promise.resolve(limiter.reserve('k', { ...limits, budgets: { tokens_per_day: 1_000 } }, 100))).rejects.toMatchObject({ code: 'GW_RATE_LIMITED' });
    expect((await heldIn(memory)).budgetUsed).toBe(100);
  });

  it('a give-back the backend never answers ends at the guard\'s deadline (the refusal still goes out) and logs one warning', async () => {
    const memory = new MemoryStateBackend({ now });
    const state = slowSharedState(memory, 0);
    const warnings: string[] = [];
    const limiter = sharedLimiter(state, { warnings, timeoutMs: 50 });
    const reservation = await limiter.reserve('k', limits, 100);
    const silent = () => new Promise<never>(() => undefined);
    state.increment = silent;
    state.adjustTokens = silent;
    await limiter.cancel(reservation);
    expect(warnings).toEqual(["rate-limit state backend failed; applying each limit's failure policy until it answers again"]);
  });

  it('on the memory backend cancel gives everything back in the call (no promise)', async () => {
    const memory = new MemoryStateBackend({ now });
    const counters = createNetworkCounters();
    const limiter = new KeyLimiter({ state: memory, counters, buckets: new ProviderLimiter({ state: memory, counters }), now });
    const reservation = await limiter.reserve('k', { ...limits, maxConcurrency: 1 }, 100);
    expect(limiter.cancel(reservation)).toBeUndefined();
    expect(await heldIn(memory)).toEqual({ budgetUsed: 0, requestFree: true });
  });
});
