import { describe, expect, it } from 'vitest';
import { createNetworkCounters } from './counters.js';
import { StateGuard, stateUnavailable } from './state-guard.js';

function setup() {
  let now = 1_000;
  const warnings: string[] = [];
  const counters = createNetworkCounters();
  const guard = new StateGuard({ counters, logger: { warn: (_details, message) => warnings.push(message) }, now: () => now, openMs: 5_000, timeoutMs: 50 });
  return { guard, counters, warnings, advance: (ms: number) => (now += ms) };
}

describe('StateGuard (circuit breaker for the limiters)', () => {
  it('after a failure, skips the backend for openMs and answers at once; one warning per opening', async () => {
    const { guard, counters, warnings, advance } = setup();
    let calls = 0;
    const failing = () => {
      calls += 1;
      return Promise.reject(new Error('connect ECONNREFUSED'));
    };
    expect(await guard.run(failing)).toBe(stateUnavailable);
    for (let index = 0; index < 100; index += 1) expect(await guard.run(failing)).toBe(stateUnavailable);
    expect(calls).toBe(1);
    expect(counters).toMatchObject({ stateFailures: 1, stateSkipped: 100 });
    expect(warnings).toHaveLength(1);
    advance(5_001);
    expect(await guard.run(failing)).toBe(stateUnavailable); // the probe fails: open again, no new warning
    expect(calls).toBe(2);
    expect(warnings).toHaveLength(1);
    advance(5_001);
    expect(await guard.run(() => Promise.resolve('ok'))).toBe('ok');
    expect(warnings).toEqual([expect.stringContaining('failed'), expect.stringContaining('answers again')]);
    expect(await guard.run(() => Promise.resolve(7))).toBe(7);
  });

  it('a hanging backend costs one short deadline, not its own 5 s command timeout', async () => {
    const { guard, counters } = setup();
    const hanging = () => new Promise<never>(() => undefined);
    expect(await guard.run(hanging)).toBe(stateUnavailable);
    expect(await guard.run(hanging)).toBe(stateUnavailable);
    expect(counters).toMatchObject({ stateFailures: 1, stateSkipped: 1 });
  });
});
