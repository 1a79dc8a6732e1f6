import type { ExpositionWriter } from './exposition.js';

/**
 * Per-request numbers: latency histograms by surface and provider, answers by status class, tokens
 * by provider and model. Each request costs two Map lookups and a few array increments; nothing is
 * allocated after a series' first request. Every label value is bounded by construction:
 *
 * - `surface`: the client wire format (a fixed union) or `none`;
 * - `provider`: a configured provider name (the router only routes to those), at most
 *   `maxProviderSeries` distinct, then `other`;
 * - `model`: the caller passes a configured model name or `other` (server/metrics-observer.ts), never
 *   what the client sent, so a client inventing model names cannot create series.
 */

/**
 * Upper bounds of the latency buckets, in seconds: from a refused request (about a millisecond) to a
 * long non-streamed completion (minutes). A stream's latency is to its end, not its first byte.
 */
export const latencyBoundsSeconds: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** Distinct provider labels kept; beyond this (many reloads adding providers) they share `other`. */
export const maxProviderSeries = 64;
/** Distinct model labels kept per provider; configured names beyond this share `other`. */
export const maxModelSeries = 256;
export const otherLabel = 'other';

interface LatencySeries {
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  readonly buckets: Float64Array;
  /** Answers by status class: index 1 = 1xx … 5 = 5xx, 0 = anything else. */
  readonly statusClasses: Float64Array;
  sum: number;
}

const statusClassNames = ['other', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;
const tokenKinds = ['input', 'output', 'cached'] as const;

export class RequestMetrics {
  private readonly latency = new Map<string, Map<string, LatencySeries>>();
  /** provider → model → [input, output, cached] tokens. */
  private readonly tokens = new Map<string, Map<string, Float64Array>>();
  private readonly providersSeen = new Set<string>();

  /** One finished request: `durationMs` from arrival to the response's close, `status` as answered. */
  observeRequest(surface: string, provider: string, durationMs: number, status: number): void {
    let bySurface = this.latency.get(surface);
    if (bySurface === undefined) {
      bySurface = new Map();
      this.latency.set(surface, bySurface);
    }
    let series = bySurface.get(provider);
    if (series === undefined) {
      const label = this.providerLabel(provider);
      series = bySurface.get(label);
      if (series === undefined) {
        series = { buckets: new Float64Array(latencyBoundsSeconds.length + 1), statusClasses: new Float64Array(statusClassNames.length), sum: 0 };
        bySurface.set(label, series);
      }
    }
    const seconds = durationMs / 1000;
    let bucket = 0;
    while (bucket < latencyBoundsSeconds.length && seconds > latencyBoundsSeconds[bucket]!) bucket += 1;
    series.buckets[bucket]! += 1;
    series.sum += seconds;
    const statusClass = Math.floor(status / 100);
    series.statusClasses[statusClass >= 1 && statusClass <= 5 ? statusClass : 0]! += 1;
  }

  /** Tokens one answer used, as the upstream counted them; `model` must already be bounded (see above). */
  addTokens(provider: string, model: string, input: number | undefined, output: number | undefined, cached: number | undefined): void {
    let byModel = this.tokens.get(provider);
    if (byModel === undefined) {
      const label = this.providerLabel(provider);
      byModel = this.tokens.get(label);
      if (byModel === undefined) {
        byModel = new Map();
        this.tokens.set(label, byModel);
      }
    }
    let counts = byModel.get(model);
    if (counts === undefined) {
      const label = byModel.size < maxModelSeries ? model : otherLabel;
      counts = byModel.get(label);
      if (counts === undefined) {
        counts = new Float64Array(tokenKinds.length);
        byModel.set(label, counts);
      }
    }
    if (input !== undefined && input > 0) counts[0]! += input;
    if (output !== undefined && output > 0) counts[1]! += output;
    if (cached !== undefined && cached > 0) counts[2]! += cached;
  }

  /** A provider's label: its name while fewer than the cap have been seen, else `other`. */
  private providerLabel(provider: string): string {
    if (this.providersSeen.has(provider)) return provider;
    if (this.providersSeen.size >= maxProviderSeries) return otherLabel;
    this.providersSeen.add(provider);
    return provider;
  }

  write(writer: ExpositionWriter): void {
    writer.family('cliproxy_request_duration_seconds', 'histogram', 'Time from a request\'s arrival to the end of its answer (streams: to the last byte), by client surface and provider.');
    for (const [surface, byProvider] of this.latency) {
      for (const [provider, series] of byProvider) {
        writer.histogram('cliproxy_request_duration_seconds', [['surface', surface], ['provider', provider]], latencyBoundsSeconds, series.buckets, series.sum);
      }
    }
    writer.family('cliproxy_requests_total', 'counter', 'Answered requests by client surface, provider (none before routing) and status class.');
    for (const [surface, byProvider] of this.latency) {
      for (const [provider, series] of byProvider) {
        statusClassNames.forEach((name, index) => {
          const count = series.statusClasses[index]!;
          if (count > 0) writer.sample('cliproxy_requests_total', [['surface', surface], ['provider', provider], ['status_class', name]], count);
        });
      }
    }
    writer.family('cliproxy_tokens_total', 'counter', 'Tokens as the upstream reported them, by provider, configured model (other for any model the provider does not list) and kind.');
    for (const [provider, byModel] of this.tokens) {
      for (const [model, counts] of byModel) {
        tokenKinds.forEach((kind, index) => writer.sample('cliproxy_tokens_total', [['provider', provider], ['model', model], ['kind', kind]], counts[index]!));
      }
    }
  }
}
