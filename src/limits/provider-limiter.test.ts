import { describe, expect, it } from 'vitest';
import { MemoryStateBackend } from '../state/memory.js';
import { createNetworkCounters } from './counters.js';
import { estimateTokens, isRefusal, ProviderLimiter, type TokenReservation } from './provider-limiter.js';
import { StateGuard } from './state-guard.js';

describe('ProviderLimiter (reservations)', () => {
  it('50 concurrent reservations admit exactly what the token budget holds', async () => {
    const counters = createNetworkCounters();
    const limiter = new ProviderLimiter({ state: new MemoryStateBackend({ now: () => 1_000_000 }), counters });
    const results = await Promise.all(Array.from({ length: 50 }, () => Promise.resolve(limiter.reserve('p', { tokens_per_minute: 10_000 }, 900))));
    expect(results.filter((result) => !isRefusal(result))).toHaveLength(11);
    expect(counters.providerRateLimited).toBe(39);
    const refusal = results.find(isRefusal)!;
    expect(refusal).toMatchObject({ limit: 10_000, remaining: 100, stateUnavailable: false });
    expect(refusal.retryAfterMs).toBeGreaterThan(0);
  });

  it('settling gives back what the estimate overstated, so later requests fit', async () => {
    const limiter = new ProviderLimiter({ state: new MemoryStateBackend(), counters: createNetworkCounters() });
    const config = { tokens_per_minute: 1_000 };
    const first = (await limiter.reserve('p', config, 800)) as TokenReservation;
    expect(isRefusal(await limiter.reserve('p', config, 800))).toBe(true);
    limiter.settle(first, 100);
    await new Promise((resolve) => setImmediate(resolve));
    expect(isRefusal(await limiter.reserve('p', config, 800))).toBe(false);
  });

  it('counts requests per minute and takes a request slot only when the token budget also allows', async () => {
    const limiter = new ProviderLimiter({ state: new MemoryStateBackend(), counters: createNetworkCounters() });
    const config = { requests_per_minute: 3, tokens_per_minute: 1_000 };
    expect(isRefusal(await limiter.reserve('p', config, 2_000))).toBe(false); // above the budget: capped, passes on a full bucket
    expect(isRefusal(await limiter.reserve('p', config, 10))).toBe(true); // no tokens left
    expect(isRefusal(await limiter.reserve('q', config, 10))).toBe(false); // budgets are per provider
  });

  it('cancel gives back the request slot and the tokens of a reservation whose request was refused later', async () => {
    const limiter = new ProviderLimiter({ state: new MemoryStateBackend({ now: () => 1_000_000 }), counters: createNetworkCounters() });
    const config = { requests_per_minute: 1, tokens_per_minute: 1_000 };
    const first = (await limiter.reserve('p', config, 900)) as TokenReservation;
    expect(isRefusal(await limiter.reserve('p', config, 10))).toBe(true);
    expect(limiter.cancel(first)).toBeUndefined(); // the memory backend: given back in the call
    await new Promise((resolve) => setImmediate(resolve));
    expect(isRefusal(await limiter.reserve('p', config, 900))).toBe(false);
  });

  it('a request without tokens (a count: estimate undefined) takes a request slot and nothing of the token bucket', async () => {
    const limiter = new ProviderLimiter({ state: new MemoryStateBackend({ now: () => 1_000_000 }), counters: createNetworkCounters() });
    const config = { requests_per_minute: 3, tokens_per_minute: 1_000 };
    expect(await limiter.reserveFor('key:k', config, undefined)).toMatchObject({ shape: undefined, reservedTokens: 0 });
    expect(isRefusal(await limiter.reserveFor('key:k', config, undefined))).toBe(false);
    expect(isRefusal(await limiter.reserveFor('key:k', config, 1_000))).toBe(false); // the whole token budget is still there
    expect(isRefusal(await limiter.reserveFor('key:k', config, undefined))).toBe(true); // the fourth request of the minute
  });

  it('fails closed while the shared state is unavailable', async () => {
    const counters = createNetworkCounters();
    const state = new MemoryStateBackend();
    state.takeTokens = () => Promise.reject(new Error('connection lost'));
    const guard = new StateGuard({ counters, logger: { warn: () => undefined }, timeoutMs: 50 });
    const limiter = new ProviderLimiter({ state, guard, counters });
    const result = await limiter.reserve('p', { requests_per_minute: 100 }, 10);
    expect(result).toMatchObject({ stateUnavailable: true });
    expect(isRefusal(result) && result.retryAfterMs).toBeGreaterThanOrEqual(1_000);
  });

  it('estimates prompt bytes / 4 plus the output cap', () => {
    expect(estimateTokens(4_000, 256)).toBe(1_256);
    expect(estimateTokens(1, 0)).toBe(1);
  });
});
