import type { ExpositionWriter } from './exposition.js';

/**
 * Requests and tokens per client key and provider: `cliproxy_key_requests_total{key,provider}` and
 * `cliproxy_key_tokens_total{key,provider,kind}` (kind: input, output, cached). Labels are key ids
 * (from the config or the key file, never a key) and provider names from the config (`none` when
 * the request was refused before routing): a client cannot create series. One entry per
 * (key, provider) pair that was used, found by one Map lookup per request.
 */
interface KeyCounts {
  readonly key: string;
  readonly provider: string;
  requests: number;
  errors: number;
  input: number;
  output: number;
  cached: number;
}

export class KeyUsageMetrics {
  private readonly counts = new Map<string, KeyCounts>();

  add(key: string, provider: string, failed: boolean, input: number | undefined, output: number | undefined, cached: number | undefined): void {
    const id = `${key}\u0000${provider}`;
    let counts = this.counts.get(id);
    if (counts === undefined) {
      counts = { key, provider, requests: 0, errors: 0, input: 0, output: 0, cached: 0 };
      this.counts.set(id, counts);
    }
    counts.requests += 1;
    if (failed) counts.errors += 1;
    counts.input += input ?? 0;
    counts.output += output ?? 0;
    counts.cached += cached ?? 0;
  }

  write(writer: ExpositionWriter): void {
    writer.family('cliproxy_key_requests_total', 'counter', 'Client API requests per client key id and provider (none: refused before routing), and those that failed.');
    for (const counts of this.counts.values()) {
      writer.sample('cliproxy_key_requests_total', [['key', counts.key], ['provider', counts.provider], ['result', 'success']], counts.requests - counts.errors);
      writer.sample('cliproxy_key_requests_total', [['key', counts.key], ['provider', counts.provider], ['result', 'error']], counts.errors);
    }
    writer.family('cliproxy_key_tokens_total', 'counter', 'Tokens the upstream reported per client key id and provider: input, output, and cached input.');
    for (const counts of this.counts.values()) {
      writer.sample('cliproxy_key_tokens_total', [['key', counts.key], ['provider', counts.provider], ['kind', 'input']], counts.input);
      writer.sample('cliproxy_key_tokens_total', [['key', counts.key], ['provider', counts.provider], ['kind', 'output']], counts.output);
      writer.sample('cliproxy_key_tokens_total', [['key', counts.key], ['provider', counts.provider], ['kind', 'cached']], counts.cached);
    }
  }
}
