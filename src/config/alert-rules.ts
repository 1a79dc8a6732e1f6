import { formatConfigPath, isPlainRecord } from './config-path.js';
import { urlHostProblem } from '../egress/egress-guard.js';

/**
 * The alert rules' own language, read here (not in alerts/) because a bad rule is a config error:
 * `config check` and a hot reload must refuse it naming the rule, and config/ imports nothing above
 * it. The engine (alerts/engine.ts) receives rules already compiled by `compileAlertRules`.
 *
 * A condition is `<counter> <operator> <number>`: `auth_failures > 100`. Operators are `>` and `>=`
 * only: rules are evaluated as events arrive, so "fewer than" would never be decided by an event.
 */

/** The security counters a rule may watch; each is fed by the request metrics (server/security-observer.ts). */
export const alertCounters = ['auth_failures', 'rate_limit_violations', 'blocked_requests', 'suspicious_activity'] as const;
export type AlertCounter = (typeof alertCounters)[number];

export interface CompiledAlertRule {
  /** As configured: shown in logs, audit records, the webhook body and the metric label. */
  readonly name: string;
  /** As configured (`auth_failures > 100`), for messages and the webhook body. */
  readonly condition: string;
  /** Index in `alerts`, for messages. */
  readonly index: number;
  readonly counter: AlertCounter;
  /** The smallest count that fires (`> 100` → 101, `>= 100` → 100). */
  readonly threshold: number;
  readonly windowMs: number;
  readonly action: 'notify_admin' | 'block_ip';
  readonly blockMs: number;
  readonly cooldownMs: number;
}

/** How long block_ip blocks when the rule sets no `block_duration`: 15 minutes. */
export const defaultBlockMs = 15 * 60_000;
/** The quiet time after a firing when the rule sets no `cooldown`: its window, at least one minute. */
const minimumDefaultCooldownMs = 60_000;
/** Longest window: a day. Windows are kept in 30 slices, so a longer one would only blur them. */
const maximumWindowMs = 24 * 60 * 60_000;
/** Longest block: 30 days (a permanent block belongs in server.security.ip_denylist). */
const maximumBlockMs = 30 * 24 * 60 * 60_000;
const maximumThreshold = 1_000_000_000;

const unitMs: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** `5m` → 300000; undefined when the text is not `<digits><ms|s|m|h>`. */
export function parseDurationMs(text: string): number | undefined {
  const match = /^([0-9]{1,9})(ms|s|m|h)$/.exec(text);
  if (match === null) return undefined;
  return Number(match[1]) * unitMs[match[2]!]!;
}

const conditionPattern = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|==|!=|>|<|=)\s*([0-9]+)\s*$/;

type ParsedCondition = { counter: AlertCounter; threshold: number } | { problem: string };

/** Reads `auth_failures > 100`; a problem names what is wrong, never just "invalid". */
export function parseCondition(condition: string): ParsedCondition {
  const match = conditionPattern.exec(condition);
  if (match === null) return { problem: `condition '${condition}' is not '<counter> > <number>' (counters: ${alertCounters.join(', ')})` };
  const [, counter = '', operator = '', number = ''] = match;
  if (!(alertCounters as readonly string[]).includes(counter)) {
    return { problem: `condition: unknown counter '${counter}'; use one of ${alertCounters.join(', ')}` };
  }
  if (operator !== '>' && operator !== '>=') {
    return { problem: `condition: operator '${operator}' is not supported; use > or >= (rules fire on arriving events)` };
  }
  const value = Number(number);
  if (!Number.isSafeInteger(value) || value > maximumThreshold) return { problem: `condition: ${number} is above ${maximumThreshold}` };
  const threshold = operator === '>' ? value + 1 : value;
  if (threshold < 1) return { problem: `condition: '${condition}' would fire without any event; use a count of at least 1` };
  return { counter: counter as AlertCounter, threshold };
}

/**
 * Every problem of the `alerts` list and of `alerting` that the schema cannot see, each naming the
 * rule (`alerts[1] (Rate limit violations): …`). Over `unknown`, like the other semantic checks.
 */
export function alertRuleProblems(alerts: unknown, alerting: unknown): string[] {
  const problems: string[] = [];
  const webhook = isPlainRecord(alerting) && isPlainRecord(alerting['webhook']) ? alerting['webhook'] : undefined;
  const url = webhook?.['url'];
  if (typeof url === 'string' && webhook?.['allow_private_network'] !== true) {
    const hostProblem = urlHostProblem(url);
    if (hostProblem !== undefined) problems.push(`alerting.webhook.url: ${hostProblem}; the egress guard refuses it unless alerting.webhook.allow_private_network is true`);
  }
  if (!Array.isArray(alerts)) return problems;
  const names = new Set<string>();
  alerts.forEach((rule: unknown, index) => {
    if (!isPlainRecord(rule)) return; // the schema reports it
    const where = `${formatConfigPath(['alerts', index])}${typeof rule['name'] === 'string' ? ` (${rule['name']})` : ''}`;
    if (typeof rule['name'] === 'string') {
      if (names.has(rule['name'])) problems.push(`${where}: another rule has the same name; names label metrics and notifications`);
      names.add(rule['name']);
    }
    if (typeof rule['condition'] === 'string') {
      const parsed = parseCondition(rule['condition']);
      if ('problem' in parsed) problems.push(`${where}: ${parsed.problem}`);
    }
    const durationProblem = (key: string, maximum: number) => {
      const text = rule[key];
      if (typeof text !== 'string') return;
      const ms = parseDurationMs(text);
      if (ms === undefined) return; // the schema's pattern reports it
      if (ms < 1_000) problems.push(`${where}: ${key} ${text} is shorter than 1s`);
      else if (ms > maximum) problems.push(`${where}: ${key} ${text} is longer than ${maximum / 3_600_000}h`);
    };
    durationProblem('duration', maximumWindowMs);
    durationProblem('block_duration', maximumBlockMs);
    durationProblem('cooldown', maximumWindowMs);
    if (rule['action'] === 'notify_admin' && typeof url !== 'string') {
      problems.push(`${where}: action notify_admin needs alerting.webhook.url (where the notification is sent)`);
    }
    if (rule['action'] !== 'block_ip' && rule['block_duration'] !== undefined) problems.push(`${where}: block_duration applies to action block_ip only`);
  });
  return problems;
}

/** The rules of a config that passed validation (so every condition and duration parses). */
export function compileAlertRules(alerts: readonly { name: string; condition: string; duration: string; action: 'notify_admin' | 'block_ip'; block_duration?: string | undefined; cooldown?: string | undefined }[]): CompiledAlertRule[] {
  return alerts.map((rule, index) => {
    const parsed = parseCondition(rule.condition);
    const windowMs = parseDurationMs(rule.duration);
    if ('problem' in parsed || windowMs === undefined) throw new Error(`alerts[${index}] (${rule.name}): not validated: ${'problem' in parsed ? parsed.problem : rule.duration}`);
    const blockMs = rule.block_duration === undefined ? defaultBlockMs : (parseDurationMs(rule.block_duration) ?? defaultBlockMs);
    const cooldownMs = rule.cooldown === undefined ? Math.max(windowMs, minimumDefaultCooldownMs) : (parseDurationMs(rule.cooldown) ?? windowMs);
    return { name: rule.name, condition: rule.condition.trim(), index, counter: parsed.counter, threshold: parsed.threshold, windowMs, action: rule.action, blockMs, cooldownMs };
  });
}
