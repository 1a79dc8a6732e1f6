import { describe, expect, it } from 'vitest';
import type { ProviderConfig } from '../config/schema.js';
import type { ApiKeyCredential, OAuthCredential } from '../providers/types.js';
import { CredentialPool, credentialsFromConfig } from './credential-pool.js';

/** A clock tests move by hand. */
function fakeClock(start = 1_700_000_000_000) {
  let current = start;
  return { now: () => current, advance: (milliseconds: number) => (current += milliseconds) };
}

function key(id: string, priority = 0): ApiKeyCredential {
  return { id, provider: 'p', priority, kind: 'api_key', apiKey: `test-upstream-key-${id}` };
}

const none: ReadonlySet<string> = new Set();

function pickIds(pool: CredentialPool, count: number): string[] {
  return Array.from({ length: count }, () => pool.pick(none)?.id ?? 'none');
}

describe('CredentialPool', () => {
  it('uses the lowest priority tier first, round-robin within it', () => {
    const pool = new CredentialPool([key('backup', 1), key('a'), key('b'), key('c')], fakeClock());
    expect(pickIds(pool, 6)).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('spreads load evenly across a tier', () => {
    const pool = new CredentialPool([key('a'), key('b'), key('c'), key('d')], fakeClock());
    const counts = new Map<string, number>();
    for (const id of pickIds(pool, 400)) counts.set(id, (counts.get(id) ?? 0) + 1);
    expect([...counts.values()]).toEqual([100, 100, 100, 100]);
  });

  it('falls to the next tier when the first is cooling, and back when it recovers', () => {
    const clock = fakeClock();
    const pool = new CredentialPool([key('primary'), key('backup', 5)], clock);
    pool.reportFailure('primary', 'server_error');
    expect(pickIds(pool, 2)).toEqual(['backup', 'backup']);
    clock.advance(59_999);
    expect(pool.pick(none)?.id).toBe('backup');
    clock.advance(1);
    expect(pool.pick(none)?.id).toBe('primary');
  });

  it('skips excluded ids and returns undefined when nothing is left', () => {
    const pool = new CredentialPool([key('a'), key('b')], fakeClock());
    expect(pool.pick(new Set(['a']))?.id).toBe('b');
    expect(pool.pick(new Set(['a', 'b']))).toBeUndefined();
    expect(new CredentialPool([], fakeClock()).pick(none)).toBeUndefined();
  });

  it('honours Retry-After for a 429 and makes the key available once the clock passes it', () => {
    const clock = fakeClock();
    const pool = new CredentialPool([key('a')], clock);
    pool.reportFailure('a', 'rate_limited', 20);
    expect(pool.pick(none)).toBeUndefined();
    expect(pool.earliestRecoveryMs()).toBe(20_000);
    clock.advance(19_999);
    expect(pool.pick(none)).toBeUndefined();
    clock.advance(1);
    expect(pool.pick(none)?.id).toBe('a');
    expect(pool.earliestRecoveryMs()).toBeUndefined();
  });

  it('backs off exponentially on repeated 429s without Retry-After, and a success resets the count', () => {
    const clock = fakeClock();
    const pool = new CredentialPool([key('a')], clock);
    const observed: number[] = [];
    for (let failure = 0; failure < 4; failure += 1) {
      pool.reportFailure('a', 'rate_limited');
      observed.push(pool.earliestRecoveryMs()!);
      clock.advance(observed.at(-1)!);
    }
    expect(observed).toEqual([1000, 2000, 4000, 8000]);
    pool.reportSuccess('a');
    pool.reportFailure('a', 'rate_limited');
    expect(pool.earliestRecoveryMs()).toBe(1000);
  });

  it('benches a key rejected with 401 for 30 minutes', () => {
    const clock = fakeClock();
    const pool = new CredentialPool([key('a'), key('b')], clock);
    pool.reportFailure('a', 'auth_failed');
    expect(pool.earliestRecoveryMs()).toBe(30 * 60_000);
    expect(pickIds(pool, 3)).toEqual(['b', 'b', 'b']);
    clock.advance(30 * 60_000);
    expect(pickIds(pool, 2).sort()).toEqual(['a', 'b']);
  });

  it('reports the earliest recovery among several cooling keys', () => {
    const pool = new CredentialPool([key('a'), key('b')], fakeClock());
    pool.reportFailure('a', 'auth_failed');
    pool.reportFailure('b', 'rate_limited', 7);
    expect(pool.earliestRecoveryMs()).toBe(7000);
  });

  it('snapshots state without secrets and ignores unknown ids', () => {
    const clock = fakeClock(1000);
    const pool = new CredentialPool([key('a'), key('b', 2)], clock);
    pool.reportFailure('a', 'server_error');
    pool.reportFailure('gone', 'server_error');
    pool.reportSuccess('gone');
    const snapshot = pool.snapshot();
    expect(snapshot).toEqual([
      { id: 'a', provider: 'p', kind: 'api_key', priority: 0, coolingUntil: 61_000, consecutiveFailures: 1 },
      { id: 'b', provider: 'p', kind: 'api_key', priority: 2, coolingUntil: undefined, consecutiveFailures: 0 },
    ]);
    expect(JSON.stringify(snapshot)).not.toContain('test-upstream-key');
    expect(pool.size).toBe(2);
  });

  it('refuses duplicate ids', () => {
    expect(() => new CredentialPool([key('a'), key('a')], fakeClock())).toThrowError(/Duplicate credential id: a/);
  });
});

describe('CredentialPool after a live credential change', () => {
  it('a rebuilt pool keeps the cooldowns of the credentials that stay; a new one starts fresh', () => {
    const clock = fakeClock();
    const staying = key('staying');
    const before = new CredentialPool([staying, key('leaving')], clock);
    before.reportFailure('staying', 'rate_limited', 60);
    const after = new CredentialPool([staying, key('joining')], clock);
    after.inheritHealth(before);
    expect(after.snapshot().find((entry) => entry.id === 'staying')?.coolingUntil).toBe(clock.now() + 60_000);
    expect(after.snapshot().find((entry) => entry.id === 'joining')?.coolingUntil).toBeUndefined();
    expect(pickIds(after, 2)).toEqual(['joining', 'joining']);
  });

  it('holds exactly the same stored objects, or config keys equal by value', () => {
    const stored: OAuthCredential = { id: 'stored', provider: 'p', priority: 0, kind: 'oauth', accessToken: 'test-access-token', expiresAt: undefined };
    const pool = new CredentialPool([key('config-1'), stored], fakeClock());
    expect(pool.holdsExactly([key('config-1'), stored])).toBe(true);
    // Another object for the same OAuth credential is a re-login the pool must take in.
    expect(pool.holdsExactly([key('config-1'), { ...stored }])).toBe(false);
    expect(pool.holdsExactly([key('config-1')])).toBe(false);
    expect(pool.holdsExactly([{ ...key('config-1'), apiKey: 'test-upstream-key-other' }, stored])).toBe(false);
  });
});

describe('credentialsFromConfig', () => {
  it('numbers keys from 1 and defaults priority to 0', () => {
    const provider: ProviderConfig = {
      type: 'anthropic',
      base_url: 'https://api.anthropic.com',
      api_keys: ['test-upstream-key-0001', { key: 'test-upstream-key-0002', priority: 2 }, { key: 'test-upstream-key-0003' }],
      models: [],
    };
    expect(credentialsFromConfig('claude', provider)).toEqual([
      { id: 'claude-key-1', provider: 'claude', priority: 0, kind: 'api_key', apiKey: 'test-upstream-key-0001' },
      { id: 'claude-key-2', provider: 'claude', priority: 2, kind: 'api_key', apiKey: 'test-upstream-key-0002' },
      { id: 'claude-key-3', provider: 'claude', priority: 0, kind: 'api_key', apiKey: 'test-upstream-key-0003' },
    ]);
  });
});
