import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors/gateway-error.js';
import { cooldownMs, failureKindOf } from './cooldown.js';

const minute = 60_000;

describe('cooldownMs', () => {
  it('honours Retry-After for a 429, capped at 30 min', () => {
    expect(cooldownMs('rate_limited', 1, 20)).toBe(20_000);
    expect(cooldownMs('rate_limited', 5, 0)).toBe(0);
    expect(cooldownMs('rate_limited', 1, 86_400)).toBe(30 * minute);
  });

  it('grows exponentially without Retry-After: 1 s, 2 s, 4 s … capped at 30 min', () => {
    expect([1, 2, 3, 4, 5].map((count) => cooldownMs('rate_limited', count))).toEqual([1000, 2000, 4000, 8000, 16_000]);
    expect(cooldownMs('rate_limited', 11)).toBe(1_024_000);
    expect(cooldownMs('rate_limited', 12)).toBe(30 * minute);
    expect(cooldownMs('rate_limited', 10_000)).toBe(30 * minute);
    expect(cooldownMs('rate_limited', 0)).toBe(1000);
  });

  it('benches an auth failure for 30 min and transient failures for 60 s', () => {
    expect(cooldownMs('auth_failed', 1)).toBe(30 * minute);
    expect(cooldownMs('server_error', 3)).toBe(minute);
    expect(cooldownMs('timeout', 1)).toBe(minute);
    expect(cooldownMs('unreachable', 1)).toBe(minute);
  });
});

describe('failureKindOf', () => {
  it('blames the credential only for upstream-side failures', () => {
    expect(failureKindOf(new GatewayError('GW_UPSTREAM_RATE_LIMITED'))).toBe('rate_limited');
    expect(failureKindOf(new GatewayError('GW_UPSTREAM_AUTH_FAILED'))).toBe('auth_failed');
    expect(failureKindOf(new GatewayError('GW_UPSTREAM_ERROR'))).toBe('server_error');
    expect(failureKindOf(new GatewayError('GW_UPSTREAM_OVERLOADED'))).toBe('server_error');
    expect(failureKindOf(new GatewayError('GW_UPSTREAM_TIMEOUT'))).toBe('timeout');
    expect(failureKindOf(new GatewayError('GW_UPSTREAM_UNREACHABLE'))).toBe('unreachable');
    expect(failureKindOf(new GatewayError('GW_UPSTREAM_BAD_REQUEST'))).toBeUndefined();
    expect(failureKindOf(new GatewayError('GW_INTERNAL'))).toBeUndefined();
  });
});
