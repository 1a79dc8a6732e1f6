import { describe, expect, it } from 'vitest';
import { alertRuleProblems, compileAlertRules, parseCondition, parseDurationMs } from './alert-rules.js';

const webhook = { webhook: { url: 'https://hooks.example.com/x', allow_private_network: false } };
const rule = (fields: Record<string, unknown>) => ({ name: 'R', condition: 'auth_failures > 10', duration: '5m', action: 'block_ip', ...fields });

describe('alert rules (config)', () => {
  it('reads conditions: > fires above the number, >= at it', () => {
    expect(parseCondition('auth_failures > 100')).toEqual({ counter: 'auth_failures', threshold: 101 });
    expect(parseCondition(' rate_limit_violations>=5 ')).toEqual({ counter: 'rate_limit_violations', threshold: 5 });
    expect(parseDurationMs('5m')).toBe(300_000);
    expect(parseDurationMs('1h')).toBe(3_600_000);
    expect(parseDurationMs('5 minutes')).toBeUndefined();
  });

  it('refuses a bad counter, operator or shape, naming the rule', () => {
    const problems = alertRuleProblems(
      [
        rule({ name: 'Typo', condition: 'auth_failure > 100' }),
        rule({ name: 'Less', condition: 'auth_failures < 3' }),
        rule({ name: 'Words', condition: 'too many failures' }),
        rule({ name: 'Zero', condition: 'auth_failures >= 0' }),
      ],
      webhook,
    );
    expect(problems).toEqual([
      "alerts[0] (Typo): condition: unknown counter 'auth_failure'; use one of auth_failures, rate_limit_violations, blocked_requests, suspicious_activity",
      "alerts[1] (Less): condition: operator '<' is not supported; use > or >= (rules fire on arriving events)",
      "alerts[2] (Words): condition 'too many failures' is not '<counter> > <number>' (counters: auth_failures, rate_limit_violations, blocked_requests, suspicious_activity)",
      "alerts[3] (Zero): condition: 'auth_failures >= 0' would fire without any event; use a count of at least 1",
    ]);
  });

  it('refuses notify_admin without a webhook, duplicate names, sub-second windows and a private webhook literal', () => {
    expect(alertRuleProblems([rule({ action: 'notify_admin' })], { webhook: { allow_private_network: false } })).toEqual([
      'alerts[0] (R): action notify_admin needs alerting.webhook.url (where the notification is sent)',
    ]);
    expect(alertRuleProblems([rule({}), rule({ duration: '500ms' })], webhook)).toEqual([
      'alerts[1] (R): another rule has the same name; names label metrics and notifications',
      'alerts[1] (R): duration 500ms is shorter than 1s',
    ]);
    expect(alertRuleProblems([], { webhook: { url: 'http://169.254.169.254/hook', allow_private_network: false } })[0]).toMatch(/^alerting\.webhook\.url: 169\.254\.169\.254 is/);
    expect(alertRuleProblems([], { webhook: { url: 'http://127.0.0.1:9/hook', allow_private_network: true } })).toEqual([]);
  });

  it('compiles durations, the block time and the cooldown with their defaults', () => {
    const [compiled] = compileAlertRules([{ name: 'R', condition: 'auth_failures > 50', duration: '2m', action: 'block_ip' }]);
    expect(compiled).toEqual({ name: 'R', condition: 'auth_failures > 50', index: 0, counter: 'auth_failures', threshold: 51, windowMs: 120_000, action: 'block_ip', blockMs: 900_000, cooldownMs: 120_000 });
    const [custom] = compileAlertRules([{ name: 'R', condition: 'auth_failures > 50', duration: '10s', action: 'block_ip', block_duration: '1h', cooldown: '30s' }]);
    expect(custom?.blockMs).toBe(3_600_000);
    expect(custom?.cooldownMs).toBe(30_000);
  });
});
