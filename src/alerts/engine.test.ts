import { describe, expect, it } from 'vitest';
import { compileAlertRules } from '../config/alert-rules.js';
import { AlertEngine, type AlertActions, type AlertNotification } from './engine.js';
import { SlicedWindow } from './sliding-window.js';

function recordingActions(): AlertActions & { blocks: [string, number][]; notifications: AlertNotification[]; audited: string[] } {
  const blocks: [string, number][] = [];
  const notifications: AlertNotification[] = [];
  const audited: string[] = [];
  return {
    blocks,
    notifications,
    audited,
    block: (address, ttlMs) => {
      blocks.push([address, ttlMs]);
      return Promise.resolve();
    },
    notify: (notification) => void notifications.push(notification),
    audit: { record: (event) => void audited.push(`${event.event_type} ${event.result}`) },
    logger: { warn: () => undefined, error: () => undefined },
  };
}

describe('sliding window', () => {
  it('counts the events of the last window and forgets older ones slice by slice', () => {
    const window = new SlicedWindow(30_000); // 1 s slices
    expect(window.add(0)).toBe(1);
    expect(window.add(500)).toBe(2);
    expect(window.add(15_000)).toBe(3);
    expect(window.add(30_500)).toBe(2); // the slice of 0 and 500 has left the window
    expect(window.add(200_000)).toBe(1); // everything older than a window is gone at once
    window.reset();
    expect(window.add(200_001)).toBe(1);
  });
});

describe('alert engine', () => {
  it('block_ip counts per address: only the address past the threshold is blocked, for the rule\'s time', () => {
    let now = 1_000_000;
    const actions = recordingActions();
    const rules = compileAlertRules([{ name: 'Guessing', condition: 'auth_failures > 3', duration: '1m', action: 'block_ip', block_duration: '5m' }]);
    const engine = new AlertEngine(rules, actions, { now: () => now, maxTrackedIps: 100 });
    for (let index = 0; index < 3; index += 1) engine.record('auth_failures', '203.0.113.1');
    for (let index = 0; index < 10; index += 1) engine.record('auth_failures', `198.51.100.${index}`);
    engine.record('rate_limit_violations', '203.0.113.1'); // another counter: not this rule's
    engine.record('auth_failures', undefined); // no address: nothing to block
    expect(actions.blocks).toEqual([]);
    engine.record('auth_failures', '203.0.113.1');
    expect(actions.blocks).toEqual([['203.0.113.1', 300_000]]);
    // A window older than a minute does not count: three more a minute later do not fire again.
    now += 120_000;
    for (let index = 0; index < 3; index += 1) engine.record('auth_failures', '198.51.100.1');
    expect(actions.blocks).toHaveLength(1);
    expect(engine.counts().fired.get('Guessing')).toBe(1);
  });

  it('keeps at most max_tracked_ips windows per rule, dropping the oldest address first', () => {
    const actions = recordingActions();
    const rules = compileAlertRules([{ name: 'G', condition: 'auth_failures >= 2', duration: '1m', action: 'block_ip' }]);
    const engine = new AlertEngine(rules, actions, { now: () => 0, maxTrackedIps: 2 });
    engine.record('auth_failures', '192.0.2.1');
    engine.record('auth_failures', '192.0.2.2');
    engine.record('auth_failures', '192.0.2.3'); // 192.0.2.1's window is dropped
    engine.record('auth_failures', '192.0.2.1'); // counts from zero again
    expect(actions.blocks).toEqual([]);
    engine.record('auth_failures', '192.0.2.3');
    expect(actions.blocks.map(([address]) => address)).toEqual(['192.0.2.3']);
  });

  it('notify_admin fires once per cooldown and reports the firings it kept quiet', () => {
    let now = 0;
    const actions = recordingActions();
    const rules = compileAlertRules([{ name: 'N', condition: 'suspicious_activity > 1', duration: '1m', action: 'notify_admin', cooldown: '10m' }]);
    const engine = new AlertEngine(rules, actions, { now: () => now, maxTrackedIps: 10 });
    for (let index = 0; index < 10; index += 1) engine.record('suspicious_activity', `192.0.2.${index}`);
    expect(actions.notifications).toHaveLength(1);
    expect(engine.counts().suppressed.get('N')).toBe(4);
    now += 11 * 60_000;
    engine.record('suspicious_activity', undefined);
    engine.record('suspicious_activity', undefined);
    expect(actions.notifications).toHaveLength(2);
    expect(actions.notifications[1]).toMatchObject({ rule: 'N', condition: 'suspicious_activity > 1', count: 2, suppressed_since_last: 4 });
    expect(actions.audited).toEqual(['alert-fire success', 'alert-fire success']);
  });

  it('a reload replaces the rules and starts their windows empty', () => {
    const actions = recordingActions();
    const engine = new AlertEngine(compileAlertRules([{ name: 'A', condition: 'auth_failures > 1', duration: '1m', action: 'block_ip' }]), actions, { now: () => 0, maxTrackedIps: 10 });
    engine.record('auth_failures', '192.0.2.9');
    engine.replaceRules(compileAlertRules([{ name: 'A', condition: 'auth_failures > 2', duration: '1m', action: 'block_ip' }]));
    engine.record('auth_failures', '192.0.2.9');
    engine.record('auth_failures', '192.0.2.9');
    expect(actions.blocks).toEqual([]);
    engine.replaceRules([]);
    expect(engine.active).toBe(false);
  });
});
