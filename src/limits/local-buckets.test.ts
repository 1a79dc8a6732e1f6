import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { rateLimitKey } from '../net/ip-address.js';
import { LocalBuckets } from './local-buckets.js';

const shape = { ratePerSecond: 10, burst: 20 };

/** Heap in use after a full collection: what is retained, not the garbage a loop left behind. */
function retainedHeapBytes(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed;
}

describe('LocalBuckets (per-IP, in process)', () => {
  it('admits the burst, refuses the rest with the wait until one token, and refills at the rate', () => {
    const buckets = new LocalBuckets(100);
    const now = 1_000_000;
    const results = Array.from({ length: 30 }, () => buckets.take('203.0.113.1', shape, now));
    expect(results.filter(Boolean)).toHaveLength(20);
    expect(results.slice(20).every((allowed) => !allowed)).toBe(true);
    expect(buckets.describe('203.0.113.1', shape, now)).toEqual({ allowed: false, limit: 20, remaining: 0, retryAfterMs: 100, resetMs: 2_000 });
    expect(buckets.take('203.0.113.1', shape, now + 100)).toBe(true);
    expect(buckets.take('203.0.113.1', shape, now + 100)).toBe(false);
    expect(buckets.take('203.0.113.2', shape, now)).toBe(true); // another client has its own bucket
  });

  it(
    'a spray of a million distinct IPv6 addresses (different /64s) stays bounded and cannot reset a real client',
    () => {
      const maxEntries = 50_000;
      const buckets = new LocalBuckets(maxEntries);
      let now = 5_000_000;
      // A real client that used up its burst just before the spray.
      for (let index = 0; index < 20; index += 1) buckets.take('198.51.100.7', shape, now);
      const heapBefore = retainedHeapBytes();
      for (let index = 0; index < 1_000_000; index += 1) {
        // 1 µs apart: a million new addresses per second, far faster than buckets refill (2 s).
        if (index % 1_000 === 0) now += 1;
        const address = `2001:db8:${(index >>> 16).toString(16)}:${(index & 0xffff).toString(16)}::${(index % 7).toString(16)}`;
        buckets.take(rateLimitKey({ address, family: 'ipv6' }), shape, now);
      }
      const heapGrowth = retainedHeapBytes() - heapBefore;
      expect(buckets.size).toBeLessThanOrEqual(maxEntries);
      // 50,000 buckets are a few MB; without the bound a million keys would be ~100 MB.
      expect(heapGrowth).toBeLessThan(16 * 1024 * 1024);
      // The real client's bucket survived the spray: in the simulated second it refilled 10 tokens
      // at its rate. Had the spray evicted it, it would start over with a full burst of 20.
      const simulatedSeconds = (now - 5_000_000) / 1000;
      const admittedAfter = Array.from({ length: 20 }, () => buckets.take('198.51.100.7', shape, now)).filter(Boolean).length;
      expect(admittedAfter).toBeLessThanOrEqual(Math.ceil(simulatedSeconds * shape.ratePerSecond));
      expect(admittedAfter).toBeGreaterThan(0);
    },
    180_000, // ~5 s alone; the bound is for a machine shared with other test runs
  );

  it('drops refilled (idle, full) buckets first, so a slow stream of new clients never hits the overflow', () => {
    const buckets = new LocalBuckets(10);
    let now = 0;
    for (let index = 0; index < 1_000; index += 1) {
      now += 300; // each new client arrives after the previous ones had time to refill
      expect(buckets.take(`192.0.2.${index % 250}-${index}`, shape, now)).toBe(true);
    }
    expect(buckets.size).toBeLessThanOrEqual(10);
  });
});
