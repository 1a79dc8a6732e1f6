import type { ExpositionWriter } from './exposition.js';

/**
 * The security counters: authentication failures, suspicious requests, alerts fired. Slots in
 * typed arrays indexed by fixed lists, so a label can only be one of the values below (no request
 * text ever becomes a label). Rate-limit violations and blocked requests are counted by the network
 * layer itself (limits/counters.ts) and handed to `write` as plain numbers at scrape time.
 */

export const authScopes = ['client', 'management'] as const;
export type AuthScope = (typeof authScopes)[number];
/**
 * `missing_key`: no key presented. `invalid_key`: a key that matches none (or a client key at
 * management). `client_certificate`: the management scope's mTLS refused the connection (no client
 * certificate, or one the management CA did not verify), before any key was read. `expired_key`,
 * `disabled_key`: a known client key past its `expires_at` or disabled.
 */
export const authFailureReasons = ['missing_key', 'invalid_key', 'client_certificate', 'expired_key', 'disabled_key'] as const;
export type AuthFailureReason = (typeof authFailureReasons)[number];

/**
 * What counts as suspicious (each also feeds the `suspicious_activity` alert counter):
 * - `malformed_json`: duplicate keys, prototype-poisoning keys, nesting past the depth bound;
 * - `oversized_body`: a body over `server.body_limit_bytes`;
 * - `unknown_route`: a 404 for a path no route serves, behind a valid key (path probing);
 * - `egress_refused`: an upstream name that resolved to a private address (DNS rebinding, a
 *   tampered resolver).
 */
export const suspiciousKinds = ['malformed_json', 'oversized_body', 'unknown_route', 'egress_refused'] as const;
export type SuspiciousKind = (typeof suspiciousKinds)[number];

/** The network layer's counts (limits/counters.ts NetworkCounters has these fields). */
export interface NetworkCountsView {
  readonly ipBlocked: number;
  readonly ipNotAllowed: number;
  readonly ipRateLimited: number;
  readonly providerRateLimited: number;
  readonly keyRateLimited: number;
  readonly stateFailures: number;
  readonly stateSkipped: number;
}

/** Rule outcomes; `rule` labels are rule names from the config, so their number is bounded by it. */
export interface AlertCountsView {
  /** rule name → times fired. */
  readonly fired: ReadonlyMap<string, number>;
  /** rule name → firings kept quiet by the rule's cooldown. */
  readonly suppressed: ReadonlyMap<string, number>;
  readonly notificationsFailed: number;
}

export class SecurityMetrics {
  private readonly authFailures = new Float64Array(authScopes.length * authFailureReasons.length);
  private readonly suspicious = new Float64Array(suspiciousKinds.length);

  /** Indexes: `authScopes.indexOf(scope)`, `authFailureReasons.indexOf(reason)` (callers keep them as constants). */
  countAuthFailure(scopeIndex: number, reasonIndex: number): void {
    this.authFailures[scopeIndex * authFailureReasons.length + reasonIndex]! += 1;
  }

  countSuspicious(kindIndex: number): void {
    this.suspicious[kindIndex]! += 1;
  }

  write(writer: ExpositionWriter, network: NetworkCountsView, blockedIps: number, alerts: AlertCountsView | undefined): void {
    writer.family('cliproxy_auth_failures_total', 'counter', 'Requests refused with 401 by the scope\'s authenticator, by scope and reason.');
    authScopes.forEach((scope, scopeIndex) =>
      authFailureReasons.forEach((reason, reasonIndex) =>
        writer.sample('cliproxy_auth_failures_total', [['scope', scope], ['reason', reason]], this.authFailures[scopeIndex * authFailureReasons.length + reasonIndex]!),
      ),
    );
    writer.family('cliproxy_rate_limit_violations_total', 'counter', 'Requests refused with 429 by the gateway\'s own limits: the per-IP bucket, a provider budget, or a client key\'s rate limit, concurrency cap or token budget.');
    writer.sample('cliproxy_rate_limit_violations_total', [['scope', 'ip']], network.ipRateLimited);
    writer.sample('cliproxy_rate_limit_violations_total', [['scope', 'provider']], network.providerRateLimited);
    writer.sample('cliproxy_rate_limit_violations_total', [['scope', 'key']], network.keyRateLimited);
    writer.family('cliproxy_blocked_requests_total', 'counter', 'Requests refused with 403 by the IP filter: a dynamic block or the denylist (blocked), or outside the allowlist (not_allowed).');
    writer.sample('cliproxy_blocked_requests_total', [['reason', 'blocked']], network.ipBlocked);
    writer.sample('cliproxy_blocked_requests_total', [['reason', 'not_allowed']], network.ipNotAllowed);
    writer.family('cliproxy_suspicious_activity_total', 'counter', 'Requests that look like probing or abuse, by kind (see docs/operations.md).');
    suspiciousKinds.forEach((kind, index) => writer.sample('cliproxy_suspicious_activity_total', [['kind', kind]], this.suspicious[index]!));
    writer.family('cliproxy_blocked_ips', 'gauge', 'Client addresses under a dynamic block now (alert rules with block_ip, management blocks), as this replica sees them.');
    writer.sample('cliproxy_blocked_ips', [], blockedIps);
    writer.family('cliproxy_state_backend_failures_total', 'counter', 'Limiter calls to the state backend that failed (failed) or were not sent because its circuit was open (skipped).');
    writer.sample('cliproxy_state_backend_failures_total', [['result', 'failed']], network.stateFailures);
    writer.sample('cliproxy_state_backend_failures_total', [['result', 'skipped']], network.stateSkipped);
    if (alerts === undefined) return;
    writer.family('cliproxy_alerts_fired_total', 'counter', 'Alert rule firings (a block placed or a notification queued), by rule name.');
    for (const [rule, count] of alerts.fired) writer.sample('cliproxy_alerts_fired_total', [['rule', rule]], count);
    writer.family('cliproxy_alerts_suppressed_total', 'counter', 'Alert rule firings kept quiet by the rule\'s cooldown, by rule name.');
    for (const [rule, count] of alerts.suppressed) writer.sample('cliproxy_alerts_suppressed_total', [['rule', rule]], count);
    writer.family('cliproxy_alert_notifications_failed_total', 'counter', 'Webhook notifications given up after every retry.');
    writer.sample('cliproxy_alert_notifications_failed_total', [], alerts.notificationsFailed);
  }
}
