import { alertCounters, type AlertCounter, type CompiledAlertRule } from '../config/alert-rules.js';
import { SlicedWindow } from './sliding-window.js';

/**
 * The alert rules at work (`alerts` in the config): each security event (an auth failure, a
 * rate-limit refusal, a blocked or suspicious request, handed in with its client IP by the request
 * metrics, server/metrics-observer.ts) is counted into the sliding window of every rule watching
 * that counter, and a rule whose window reaches its threshold fires at once, on that event:
 *
 * - `block_ip`: one window per client IP; the offending address alone is blocked for the rule's
 *   `block_duration`, through the state backend's bans (every replica's IP filter follows them),
 *   audited as `ip-block`. The IP is the resolved one (a forwarding header counts only from
 *   `server.trusted_proxies`), so a spoofed X-Forwarded-For cannot aim a block at someone else.
 * - `notify_admin`: one window for the whole gateway; a notification (the webhook, alerts/webhook.ts)
 *   audited as `alert-fire`.
 *
 * After firing, the window starts again from zero and the rule (per IP for block_ip) is quiet for
 * its cooldown: firings in that time are counted as suppressed and reported with the next
 * notification, so a rule that keeps firing sends one notification per cooldown, not one per event.
 */

/** What a firing does; main.ts wires these to the ban mirror, the webhook and the audit log. */
export interface AlertActions {
  /** Blocks the address in every replica for `ttlMs` (net/ban-mirror.ts `ban`). */
  block(address: string, ttlMs: number): Promise<void>;
  /** Queues a webhook notification (never throws, never waits). */
  notify(notification: AlertNotification): void;
  /** The audit log (audit/audit-log.ts `AuditLog.record`; typed here, alerts/ does not import audit/): the blocked address goes in `ip`. */
  audit: { record(event: { event_type: string; result: 'success' | 'failure'; actor?: string; ip?: string; detail?: string | Readonly<Record<string, string | number>> }): void };
  logger: { warn(fields: object, message: string): void; error(fields: object, message: string): void };
}

/** The webhook body (JSON): names and numbers only, never a key, token or request content. */
export interface AlertNotification {
  event: 'alert-fire';
  rule: string;
  condition: string;
  counter: AlertCounter;
  action: CompiledAlertRule['action'];
  /** Events counted in the window when the rule fired. */
  count: number;
  window_seconds: number;
  /** Firings kept quiet by the cooldown since the previous notification of this rule. */
  suppressed_since_last: number;
  /** ISO 8601. */
  fired_at: string;
}

interface RuleWindow {
  readonly window: SlicedWindow;
  /** Epoch ms until which a firing is suppressed. */
  quietUntil: number;
  suppressed: number;
}

interface RuleState {
  readonly rule: CompiledAlertRule;
  /** notify_admin: the gateway's window. */
  readonly global: RuleWindow;
  /** block_ip: one window per client address, at most `maxTrackedIps` (oldest first out). */
  readonly perAddress: Map<string, RuleWindow>;
}

export interface AlertEngineOptions {
  now?: () => number;
  /** Client addresses whose windows are kept per rule (`alerting.max_tracked_ips`). */
  maxTrackedIps: number;
}

export class AlertEngine {
  private readonly now: () => number;
  private readonly byCounter: RuleState[][] = alertCounters.map(() => []);
  private readonly counterIndex = new Map<string, number>(alertCounters.map((counter, index) => [counter, index]));
  private readonly fired = new Map<string, number>();
  private readonly suppressed = new Map<string, number>();
  notificationsFailed = 0;

  constructor(
    rules: readonly CompiledAlertRule[],
    private readonly actions: AlertActions,
    private readonly options: AlertEngineOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.replaceRules(rules);
  }

  /**
   * New rules after a config reload. Windows start empty (a changed rule would otherwise judge
   * events counted under its old condition); counts of fired and suppressed rules are kept.
   */
  replaceRules(rules: readonly CompiledAlertRule[]): void {
    for (const list of this.byCounter) list.length = 0;
    for (const rule of rules) {
      const state: RuleState = {
        rule,
        global: { window: new SlicedWindow(rule.windowMs), quietUntil: 0, suppressed: 0 },
        perAddress: new Map(),
      };
      this.byCounter[this.counterIndex.get(rule.counter)!]!.push(state);
      if (!this.fired.has(rule.name)) this.fired.set(rule.name, 0);
      if (!this.suppressed.has(rule.name)) this.suppressed.set(rule.name, 0);
    }
  }

  /** Rules watching any counter: without one, the request metrics need not call `record` at all. */
  get active(): boolean {
    return this.byCounter.some((list) => list.length > 0);
  }

  /** One security event, as it happens. Cheap when no rule watches `counter` (an empty loop). */
  record(counter: AlertCounter, clientIp: string | undefined): void {
    const states = this.byCounter[this.counterIndex.get(counter) ?? -1];
    if (states === undefined || states.length === 0) return;
    const now = this.now();
    for (const state of states) {
      if (state.rule.action === 'block_ip') {
        if (clientIp === undefined) continue;
        this.count(state, this.windowOf(state, clientIp), clientIp, now);
      } else {
        this.count(state, state.global, undefined, now);
      }
    }
  }

  counts(): { fired: ReadonlyMap<string, number>; suppressed: ReadonlyMap<string, number>; notificationsFailed: number } {
    return { fired: this.fired, suppressed: this.suppressed, notificationsFailed: this.notificationsFailed };
  }

  private windowOf(state: RuleState, address: string): RuleWindow {
    let entry = state.perAddress.get(address);
    if (entry === undefined) {
      if (state.perAddress.size >= this.options.maxTrackedIps) {
        // Bounded under an address spray: the oldest tracked address is forgotten first.
        const oldest = state.perAddress.keys().next().value;
        if (oldest !== undefined) state.perAddress.delete(oldest);
      }
      entry = { window: new SlicedWindow(state.rule.windowMs), quietUntil: 0, suppressed: 0 };
      state.perAddress.set(address, entry);
    }
    return entry;
  }

  private count(state: RuleState, entry: RuleWindow, address: string | undefined, now: number): void {
    const total = entry.window.add(now);
    if (total < state.rule.threshold) return;
    entry.window.reset();
    const name = state.rule.name;
    if (now < entry.quietUntil) {
      entry.suppressed += 1;
      this.suppressed.set(name, (this.suppressed.get(name) ?? 0) + 1);
      return;
    }
    entry.quietUntil = now + state.rule.cooldownMs;
    this.fired.set(name, (this.fired.get(name) ?? 0) + 1);
    const suppressedSinceLast = entry.suppressed;
    entry.suppressed = 0;
    if (state.rule.action === 'block_ip' && address !== undefined) this.block(state, address, total);
    else this.notify(state, total, suppressedSinceLast, now);
  }

  private block(state: RuleState, address: string, total: number): void {
    const { rule } = state;
    const seconds = Math.round(rule.blockMs / 1000);
    const detail = { condition: rule.condition, window_seconds: rule.windowMs / 1000, count: total, ttl_seconds: seconds };
    this.actions.logger.warn({ rule: rule.name, ip: address, count: total, block_seconds: seconds }, 'alert rule blocked a client address');
    this.actions.block(address, rule.blockMs).then(
      () => this.actions.audit.record({ event_type: 'ip-block', result: 'success', actor: `alert:${rule.name}`, ip: address, detail }),
      (error: unknown) => {
        // The ban mirror applied the block in this process first; only the other replicas miss it.
        this.actions.logger.error({ rule: rule.name, ip: address, err_message: (error as Error).message }, 'the block could not be shared with other replicas (state backend)');
        this.actions.audit.record({ event_type: 'ip-block', result: 'failure', actor: `alert:${rule.name}`, ip: address, detail: { ...detail, scope: 'this replica only: the state backend failed' } });
      },
    );
  }

  private notify(state: RuleState, total: number, suppressedSinceLast: number, now: number): void {
    const { rule } = state;
    this.actions.logger.warn({ rule: rule.name, count: total }, 'alert rule fired');
    this.actions.audit.record({
      event_type: 'alert-fire',
      result: 'success',
      actor: `alert:${rule.name}`,
      detail: `rule "${rule.name}" (${rule.condition} in ${rule.windowMs / 1000}s): ${total} events; notify_admin`,
    });
    this.actions.notify({
      event: 'alert-fire',
      rule: rule.name,
      condition: rule.condition,
      counter: rule.counter,
      action: rule.action,
      count: total,
      window_seconds: rule.windowMs / 1000,
      suppressed_since_last: suppressedSinceLast,
      fired_at: new Date(now).toISOString(),
    });
  }
}
