import type { AlertCounter } from '../config/alert-rules.js';
import { KeyUsageMetrics } from '../metrics/key-usage-metrics.js';
import { ExpositionWriter } from '../metrics/exposition.js';
import { writeProcessMetrics } from '../metrics/process-metrics.js';
import { otherLabel, RequestMetrics } from '../metrics/request-metrics.js';
import { SecurityMetrics, suspiciousKinds, type AlertCountsView, type NetworkCountsView, type SuspiciousKind } from '../metrics/security-metrics.js';
import type { Exchange, ExchangeObserver } from './exchange.js';
import type { Runtime } from './runtime.js';

/**
 * The gateway's metrics as a subscriber of the per-request record (exchange.ts): at each request's
 * end it counts latency, status and tokens, classifies refusals into the security counters, and
 * hands each security event with its client IP to the alert engine (`onSecurityEvent`). Nothing here
 * can change an answer. Rendering happens at scrape time only (`render`).
 */

/** Told of every security event as it happens; `clientIp` is the resolved one (trusted proxies only). */
export type SecurityEventListener = (counter: AlertCounter, clientIp: string | undefined) => void;

export interface GatewayMetricsOptions {
  runtime: () => Runtime;
  /** The network layer's counters (limits/counters.ts): rate-limit and IP-filter refusals, state failures. */
  network: NetworkCountsView;
  /** Dynamic blocks in force in this replica (net/ban-mirror.ts). */
  blockedIps: () => number;
  /** The alert engine's counts, when alert rules run. */
  alerts?: () => AlertCountsView | undefined;
}

const suspiciousIndex = (kind: SuspiciousKind): number => suspiciousKinds.indexOf(kind);
const kindOfCode: ReadonlyMap<string, number> = new Map([
  ['GW_INVALID_JSON', suspiciousIndex('malformed_json')],
  ['GW_BODY_TOO_LARGE', suspiciousIndex('oversized_body')],
  ['GW_NOT_FOUND', suspiciousIndex('unknown_route')],
  ['GW_EGRESS_REFUSED', suspiciousIndex('egress_refused')],
]);
const scopeIndex = { client: 0, management: 1 } as const;
const reasonIndex = { missing_key: 0, invalid_key: 1, client_certificate: 2, expired_key: 3, disabled_key: 4 } as const;

/**
 * The model label of a routed request: the provider's configured model name, else `other`. A
 * provider that lists no models forwards any name the client sends (`provider/anything`), so the
 * upstream model is a label only when the config names it: a client cannot create series.
 */
export function modelLabel(runtime: Runtime, provider: string, upstreamModel: string | undefined): string {
  if (upstreamModel === undefined) return otherLabel;
  const models = runtime.loaded.config.providers[provider]?.models;
  if (models === undefined) return otherLabel;
  for (const model of models) if (model.name === upstreamModel) return upstreamModel;
  return otherLabel;
}

export class GatewayMetrics {
  readonly requests = new RequestMetrics();
  readonly security = new SecurityMetrics();
  /** Requests and tokens per client key id and provider (metrics/key-usage-metrics.ts). */
  readonly keys = new KeyUsageMetrics();
  /** Set by main.ts when alert rules run; read on every security event. */
  onSecurityEvent: SecurityEventListener | undefined;

  constructor(private readonly options: GatewayMetricsOptions) {}

  /** The exchange subscriber: one call per request, at its end. */
  readonly observer: ExchangeObserver = {
    name: 'metrics',
    end: (exchange) => this.record(exchange),
  };

  private record(exchange: Exchange): void {
    const outcome = exchange.outcome;
    if (outcome === undefined) return;
    const route = exchange.route;
    const provider = route === undefined ? 'none' : route.provider;
    this.requests.observeRequest(exchange.surface ?? 'none', provider, exchange.durationMs ?? 0, outcome.status);
    const usage = exchange.usage;
    const principal = exchange.principal;
    if (principal !== undefined && principal.source === 'client-key') {
      this.keys.add(principal.id, provider, outcome.status >= 400 || outcome.errorCode !== undefined, usage?.inputTokens, usage?.outputTokens, usage?.cachedTokens);
    }
    if (usage !== undefined && route !== undefined) {
      this.requests.addTokens(provider, modelLabel(this.options.runtime(), provider, route.upstreamModel), usage.inputTokens, usage.outputTokens, usage.cachedTokens);
    }
    const failure = exchange.authFailure;
    if (failure !== undefined) {
      this.security.countAuthFailure(scopeIndex[failure.scope], reasonIndex[failure.reason]);
      // A missing key is a client without configuration, not a guess: only wrong keys (and
      // management connections without the management CA's certificate) feed the rules.
      if (failure.reason !== 'missing_key') this.onSecurityEvent?.('auth_failures', exchange.clientIp);
      return;
    }
    const code = outcome.errorCode;
    if (code === undefined) return;
    if (code === 'GW_RATE_LIMITED') this.onSecurityEvent?.('rate_limit_violations', exchange.clientIp);
    else if (code === 'GW_IP_BLOCKED' || code === 'GW_IP_NOT_ALLOWED') this.onSecurityEvent?.('blocked_requests', exchange.clientIp);
    else {
      const kind = kindOfCode.get(code);
      if (kind === undefined) return;
      this.security.countSuspicious(kind);
      this.onSecurityEvent?.('suspicious_activity', exchange.clientIp);
    }
  }

  /** The exposition (Prometheus text 0.0.4) as of now. */
  render(): string {
    const writer = new ExpositionWriter();
    this.requests.write(writer);
    this.keys.write(writer);
    this.security.write(writer, this.options.network, this.options.blockedIps(), this.options.alerts?.());
    writeCredentialStates(writer, this.options.runtime());
    writeProcessMetrics(writer);
    return writer.text();
  }
}

/** Credentials per provider and state (available, cooling), from the pools; never an id or a key. */
function writeCredentialStates(writer: ExpositionWriter, runtime: Runtime): void {
  writer.family('cliproxy_credentials', 'gauge', 'Upstream credentials per provider: available, or cooling down after failures.');
  for (const [name, provider] of runtime.providers) {
    let cooling = 0;
    const snapshot = provider.pool.snapshot();
    // The pool's snapshot leaves coolingUntil undefined once a cooldown is over (by its own clock).
    for (const credential of snapshot) if (credential.coolingUntil !== undefined) cooling += 1;
    writer.sample('cliproxy_credentials', [['provider', name], ['state', 'available']], snapshot.length - cooling);
    writer.sample('cliproxy_credentials', [['provider', name], ['state', 'cooling']], cooling);
  }
}
